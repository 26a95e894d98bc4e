#include "cli/cluster_command.h"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>

#include "common/http/http_server.h"
#include "common/http/router.h"
#include "common/log.h"
#include "common/metrics/http_routes.h"
#include "common/metrics/metrics.h"
#include "common/redis/redis_client.h"
#include "common/thread_annotations.h"

namespace bora::cli {

namespace {

// /health/ready of a distributed role: the orchestrator role has had its first partition assignment
// (possibly empty when there are more orchestrators than partitions), and Redis answers PING (a
// connection of its own, made on first use and re-made by RedisClient after a loss).
class Readiness {
 public:
  Readiness(std::string redis_url, bool orchestrator)
      : redis_url_(std::move(redis_url)), orchestrator_(orchestrator) {}

  Status Check() {
    if (orchestrator_ && !metrics::OrchestratorAssigned()) {
      return Unavailable("the orchestrator has no partition assignment yet");
    }
    MutexLock lock(mu_);
    if (!redis_) {
      auto c = RedisClient::Connect(redis_url_, 1000);
      if (!c.ok()) return c.status();
      redis_ = std::move(*c);
    }
    auto pong = redis_->Command({"PING"});
    if (!pong.ok()) return pong.status();
    return Status::Ok();
  }

 private:
  std::string redis_url_;
  bool orchestrator_;
  Mutex mu_;
  std::unique_ptr<RedisClient> redis_ GUARDED_BY(mu_);
};

}  // namespace

int RunCluster(const ClusterArgs& args) {
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto node = runtime::ClusterNode::Create(args.options);
  if (!node.ok()) {
    std::cerr << "bora: " << node.status().ToString() << "\n";
    return node.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  // The REST API (serve, api) and the trigger paths (any orchestrator): before Start(), which runs the hooks.
  std::unique_ptr<api::ApiService> service;
  if (args.api || args.options.orchestrator) {
    api::ApiServiceOptions ao;
    ao.serve_http = args.api.has_value();
    if (args.api) {
      if (Status s = ApplyApiArgs(*args.api, &ao); !s.ok()) {
        std::cerr << "bora: " << s.message() << "\n";
        return 2;
      }
    } else if (args.keystone) {
      auto trusts = KeystoneTrustsFrom(*args.keystone);
      if (!trusts.ok()) {
        std::cerr << "bora: " << trusts.status().message() << "\n";
        return 2;
      }
      ao.trusts = *std::move(trusts);
    }
    auto created = api::ApiService::ForCluster(node->get(), ao);
    if (!created.ok()) {
      std::cerr << "bora: " << created.status().ToString() << "\n";
      return 1;
    }
    service = std::move(*created);
  }
  for (const auto& file : args.load) {
    // Through the catalog when there is one, so the API lists what was loaded.
    Status s = service ? service->LoadFile(file) : Status::Ok();
    if (!service) {
      std::ifstream in(file, std::ios::binary);
      if (!in) {
        std::cerr << "bora: cannot read " << file << "\n";
        return 2;
      }
      std::stringstream text;
      text << in.rdbuf();
      s = (*node)->definitions().Put(file, text.str(), "", file);
    }
    if (!s.ok()) {
      std::cerr << "bora: " << s.message() << "\n";
      return 2;
    }
  }
  // Observability endpoints first, so liveness answers while the roles start.
  Readiness readiness(args.options.redis, args.options.orchestrator);
  http::Router router;
  metrics::AddRoutes(router, [&readiness] { return readiness.Check(); });
  std::unique_ptr<http::HttpServer> metrics_server;
  if (args.metrics_port >= 0) {
    http::HttpServerOptions ho;
    ho.address = args.metrics_address;
    ho.port = args.metrics_port;
    ho.threads = 1;
    metrics_server = std::make_unique<http::HttpServer>(
        ho, [&router](const http::HttpRequest& request) { return router.Dispatch(request); });
    Status started = metrics_server->Start();
    if (!started.ok()) {
      std::cerr << "bora: --metrics-port: " << started.ToString() << "\n";
      return 2;
    }
    BORA_LOG_INFO("metrics and health on http://{}", metrics_server->endpoint());
  }
  Status s = (*node)->Start();
  if (!s.ok()) {
    std::cerr << "bora: " << s.ToString() << "\n";
    return 1;
  }
  if (service && args.api) {
    if (Status started = service->Start(); !started.ok()) {
      std::cerr << "bora: REST API: " << started.ToString() << "\n";
      (*node)->Stop();
      return 1;
    }
    if (Status written = WritePortFile(*args.api, service->port()); !written.ok()) {
      std::cerr << "bora: " << written.message() << "\n";
      (*node)->Stop();
      return 2;
    }
  }
  BORA_LOG_INFO("bora {}{}running (kafka {}, redis {}, prefix '{}')",
                args.options.orchestrator ? "orchestrator " : "", args.options.worker ? "worker " : "",
                args.options.kafka, args.options.redis, args.options.prefix);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  BORA_LOG_INFO("signal {}: stopping", sig);
  if (service) service->Stop();
  (*node)->Stop();
  if (metrics_server) metrics_server->Stop();
  return 0;
}

}  // namespace bora::cli
