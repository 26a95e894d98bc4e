#include "cli/cluster_command.h"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "common/log.h"

namespace bora::cli {

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
  for (const auto& file : args.load) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "bora: cannot read " << file << "\n";
      return 2;
    }
    std::stringstream text;
    text << in.rdbuf();
    Status s = (*node)->definitions().Put(file, text.str(), "", file);
    if (!s.ok()) {
      std::cerr << "bora: " << s.message() << "\n";
      return 2;
    }
  }
  Status s = (*node)->Start();
  if (!s.ok()) {
    std::cerr << "bora: " << s.ToString() << "\n";
    return 1;
  }
  BORA_LOG_INFO("bora {}{}running (kafka {}, redis {}, prefix '{}')",
                args.options.orchestrator ? "orchestrator " : "", args.options.worker ? "worker " : "",
                args.options.kafka, args.options.redis, args.options.prefix);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  BORA_LOG_INFO("signal {}: stopping", sig);
  (*node)->Stop();
  return 0;
}

}  // namespace bora::cli
