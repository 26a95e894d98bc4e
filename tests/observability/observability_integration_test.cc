// The dashboards against a real Prometheus scraping a real distributed run (issue 6's "done when"):
//  - `promtool check config` passes on dashboards/prometheus.yml;
//  - `bora orchestrator` and `bora worker` (real Kafka and Redis from BORA_KAFKA / BORA_REDIS, a prefix
//    of their own) serve /metrics, /health/live and /health/ready on --metrics-port, and `bora api` on
//    its API port;
//  - executions run (successful and failing ones, actions inline and on the worker pool, some started
//    through the REST API);
//  - a private Prometheus (/usr/bin/prometheus, free port, private data dir, 1 s scrape interval)
//    scrapes the three processes;
//  - every PromQL expression of every dashboard panel, Grafana variables replaced, is evaluated through
//    Prometheus' HTTP API and must return data.
// Needs the Debian package `prometheus` (scripts/setup.sh installs it) and the services
// (scripts/services.sh).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/http/test_client.h"
#include "common/ids.h"
#include "common/json.h"
#include "tests/integration/cluster_harness.h"
#include "tests/observability/dashboard_check.h"

namespace bora::observability {
namespace {

using namespace std::chrono_literals;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kPromtool[] = "/usr/bin/promtool";

const char* kWorkflows = R"(
version: '2.0'
obs_ok:
  tasks:
    quick:
      action: std.noop
      on-success: [slow]
    slow:
      action: std.echo
      input:
        output: done
        delay: 0.05
obs_fail:
  tasks:
    boom:
      action: std.fail
)";

// A free loopback port (bound then released; the process that takes it binds it right after).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Polls `done` until it is true or `timeout` passes (real processes: no event to wait on).
bool WaitFor(std::chrono::seconds timeout, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(250ms);
  }
  return done();
}

int RunCommand(const std::string& cmd, std::string* output) {
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  std::string text;
  while (fgets(buf, sizeof(buf), p)) text += buf;
  int rc = pclose(p);
  if (output) *output = text;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string UrlEncode(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A JSON string's text ("" for anything else).
std::string Str(const Json& v) {
  return v.is_string() ? std::string(v.get_string()) : std::string();
}

// The value of the first sample of an instant-query result.
std::string FirstValue(const JsonArray& result) {
  if (result.empty()) return "";
  return Str(result.at(0).at("value").at(1));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process (stdout dropped, stderr to a log file); killed (SIGTERM, then SIGKILL) when destroyed.
class ChildProcess {
 public:
  ~ChildProcess() { Stop(); }

  Status Start(std::vector<std::string> args, const std::string& log) {
    pid_ = fork();
    if (pid_ < 0) return Internal("fork failed");
    if (pid_ == 0) {
      if (freopen(log.c_str(), "w", stderr) == nullptr ||
          freopen("/dev/null", "w", stdout) == nullptr) {
        _exit(126);
      }
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return Status::Ok();
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    bool gone = WaitFor(10s, [&] { return waitpid(pid_, nullptr, WNOHANG) == pid_; });
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  bool Running() { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

// A private Prometheus.
class PrometheusProcess : public ChildProcess {
 public:
  Status Start(const std::string& dir, int port) {
    port_ = port;
    return ChildProcess::Start({kPrometheus, "--config.file=" + dir + "/prometheus.yml",
                                "--storage.tsdb.path=" + dir + "/data",
                                "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                "--log.level=warn"},
                               dir + "/prometheus.log");
  }

  // GET /api/v1/<path>; the parsed body.
  Result<Json> Api(const std::string& target) {
    BORA_ASSIGN_OR_RETURN(auto r, http::HttpCall("127.0.0.1", port_, "GET", "/api/v1/" + target));
    if (r.status != 200) {
      return Unavailable("prometheus answered " + std::to_string(r.status) + ": " + r.body);
    }
    return ParseJson(r.body);
  }

  // The result vector of an instant query (a scalar result as one sample).
  Result<JsonArray> Query(const std::string& promql) {
    BORA_ASSIGN_OR_RETURN(Json j, Api("query?query=" + UrlEncode(promql)));
    if (!j.is_object() || Str(j.at("status")) != "success") {
      return Internal("query failed: " + DumpJson(j));
    }
    const Json& data = j.at("data");
    if (Str(data.at("resultType")) == "scalar") {
      return JsonArray{JsonObject{{"value", data.at("result")}}};
    }
    return data.at("result").as_array();
  }

 private:
  int port_ = 0;
};

int HttpStatus(int port, const std::string& path) {
  auto r = http::HttpCall("127.0.0.1", port, "GET", path);
  return r.ok() ? r->status : -1;
}

TEST(ObservabilityIntegration, EveryDashboardPanelReturnsDataFromARealRun) {
  auto services = testing::ServiceAddresses::FromEnv();
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  ASSERT_TRUE(std::filesystem::exists(kPrometheus) && std::filesystem::exists(kPromtool))
      << "needs the Debian package prometheus (scripts/setup.sh installs it)";

  // The shipped scrape config.
  std::string out;
  ASSERT_EQ(RunCommand(std::string(kPromtool) + " check config " BORA_SOURCE_DIR
                                                "/dashboards/prometheus.yml",
                       &out),
            0)
      << out;

  const std::string dir = "/tmp/bora-observability-" + NewUuid().substr(0, 8);
  std::filesystem::create_directories(dir + "/data");

  // The cluster: one orchestrator (JSON logs at debug level) and one worker, each with a metrics
  // port, and a REST API process (`bora api`: /metrics and /health/* on its API port).
  auto cluster = testing::Cluster::Create("obs", *services, 4);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  const int orch_port = FreePort(), worker_port = FreePort(), api_port = FreePort(),
            prom_port = FreePort();
  for (int port : {orch_port, worker_port, api_port, prom_port}) ASSERT_GT(port, 0);
  setenv("BORA_TEST_LOG_LEVEL", "debug", 1);
  (*cluster)->StartOrchestrator(
      {"--metrics-port", std::to_string(orch_port), "--log-format", "json"},
      dir + "/orchestrator.log");
  unsetenv("BORA_TEST_LOG_LEVEL");
  (*cluster)->StartWorker({"--metrics-port", std::to_string(worker_port), "--concurrency", "4"},
                          dir + "/worker.log");
  ChildProcess api;
  ASSERT_TRUE(api.Start({BORA_BINARY, "api", "--kafka", services->kafka, "--redis", services->redis,
                         "--prefix", (*cluster)->prefix(), "--partitions", "4", "--log-level",
                         "warn", "--port", std::to_string(api_port)},
                        dir + "/api.log")
                  .ok());

  // Health: live at once, ready once the orchestrator has its partitions and Redis answers.
  for (int port : {orch_port, worker_port, api_port}) {
    EXPECT_TRUE(WaitFor(60s, [&] { return HttpStatus(port, "/health/live") == 200; })) << port;
    EXPECT_TRUE(WaitFor(60s, [&] { return HttpStatus(port, "/health/ready") == 200; }))
        << port << ": " << ReadFile(dir + "/orchestrator.log") << ReadFile(dir + "/api.log");
  }
  ASSERT_TRUE((*cluster)->CheckProcesses().ok()) << (*cluster)->CheckProcesses().ToString();

  // Prometheus on the three processes, scraping every second.
  {
    std::ofstream cfg(dir + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  scrape_timeout: 900ms\n"
        << "scrape_configs:\n"
        << "  - job_name: bora-orchestrator\n    static_configs:\n      - targets: ['127.0.0.1:"
        << orch_port << "']\n"
        << "  - job_name: bora-worker\n    static_configs:\n      - targets: ['127.0.0.1:"
        << worker_port << "']\n"
        << "  - job_name: bora-api\n    static_configs:\n      - targets: ['127.0.0.1:" << api_port
        << "']\n";
  }
  ASSERT_EQ(RunCommand(std::string(kPromtool) + " check config " + dir + "/prometheus.yml", &out),
            0)
      << out;
  PrometheusProcess prometheus;
  ASSERT_TRUE(prometheus.Start(dir, prom_port).ok());
  bool targets_up = WaitFor(60s, [&] {
    auto t = prometheus.Api("targets?state=active");
    if (!t.ok()) return false;
    const auto& active = t->at("data").at("activeTargets").as_array();
    if (active.size() != 3) return false;
    for (const auto& target : active) {
      if (Str(target.at("health")) != "up") return false;
    }
    return true;
  });
  ASSERT_TRUE(targets_up) << "Prometheus targets not up; log: "
                          << ReadFile(dir + "/prometheus.log");

  // Executions: successes (an inline action, then one on the worker pool) and failures.
  ASSERT_TRUE((*cluster)->Load(kWorkflows, "observability.yaml").ok());
  auto ok_ids = (*cluster)->StartMany("obs_ok", 12);
  auto fail_ids = (*cluster)->StartMany("obs_fail", 4);
  ASSERT_TRUE(ok_ids.ok() && fail_ids.ok());
  std::vector<std::string> ids = *ok_ids;
  ids.insert(ids.end(), fail_ids->begin(), fail_ids->end());
  // Two more through the REST API process.
  for (int i = 0; i < 2; ++i) {
    auto r = http::HttpCall("127.0.0.1", api_port, "POST", "/v2/executions",
                            R"({"workflow_name": "obs_ok", "input": "{}"})");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->status, 201) << r->body;
    auto body = ParseJson(r->body);
    ASSERT_TRUE(body.ok() && body->is_object() && body->get_object().contains("id")) << r->body;
    ids.push_back(Str(body->at("id")));
  }
  ASSERT_EQ((*cluster)->WaitTerminal(ids, 120s), ids.size());

  // Prometheus has scraped the end of the run.
  bool scraped = WaitFor(60s, [&] {
    auto r = prometheus.Query("sum(bora_executions_finished_total)");
    return r.ok() && FirstValue(*r) == std::to_string(ids.size());
  });
  ASSERT_TRUE(scraped) << "bora_executions_finished_total never reached " << ids.size();
  // The counters by workflow and state are exact.
  auto finished = prometheus.Query(
      R"(sum(bora_executions_finished_total{workflow="obs_fail", state="ERROR"}))");
  ASSERT_TRUE(finished.ok() && !finished->empty());
  EXPECT_EQ(FirstValue(*finished), "4");

  // Every panel expression of every dashboard returns data. Series that only appear with the next
  // scrape (histogram rates need two samples) get a bounded retry.
  auto dashboards = LoadDashboards(BORA_SOURCE_DIR "/dashboards/json");
  ASSERT_TRUE(dashboards.ok()) << dashboards.status().ToString();
  size_t evaluated = 0;
  for (const auto& d : *dashboards) {
    for (const auto& p : PanelExprs(d.json)) {
      std::string promql = ExpandVariables(p.expr, "1m");
      std::string last;
      bool has_data = WaitFor(20s, [&] {
        auto r = prometheus.Query(promql);
        last = r.ok() ? std::to_string(r->size()) + " series" : r.status().ToString();
        return r.ok() && !r->empty();
      });
      ++evaluated;
      EXPECT_TRUE(has_data) << p.dashboard << " / " << p.panel << " / " << p.ref_id << ": "
                            << promql << " -> " << last;
    }
  }
  EXPECT_GE(evaluated, 30u);

  // Schedule-to-start was measured on the worker (the RunAction header from the orchestrator).
  auto sts = prometheus.Query("sum(bora_action_schedule_to_start_seconds_count)");
  ASSERT_TRUE(sts.ok() && !sts->empty());
  EXPECT_NE(FirstValue(*sts), "0");

  // The orchestrator's JSON-lines log: every line an object; partition and execution fields
  // present.
  std::istringstream log(ReadFile(dir + "/orchestrator.log"));
  std::string line;
  size_t lines = 0, with_partition = 0;
  while (std::getline(log, line)) {
    if (line.empty()) continue;
    ++lines;
    auto j = ParseJson(line);
    ASSERT_TRUE(j.ok() && j->is_object()) << "not a JSON line: " << line;
    if (j->get_object().contains("partition")) ++with_partition;
  }
  EXPECT_GT(lines, 0u);
  EXPECT_GT(with_partition, 0u) << "no log line carries a partition field";

  EXPECT_TRUE((*cluster)->CheckProcesses().ok());
  EXPECT_TRUE(api.Running()) << ReadFile(dir + "/api.log");
  api.Stop();
  prometheus.Stop();
  if (!::testing::Test::HasFailure()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    std::cerr << "logs kept in " << dir << "\n";
  }
}

}  // namespace
}  // namespace bora::observability
