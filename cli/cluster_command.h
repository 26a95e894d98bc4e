#pragma once
// `bora orchestrator`, `bora worker` and `bora serve --kafka ... --redis ...`: the distributed roles.
#include <string>
#include <vector>

#include <optional>

#include "cli/serve_command.h"
#include "orchestrator/runtime/cluster_node.h"

namespace bora::cli {

struct ClusterArgs {
  runtime::ClusterOptions options;
  std::vector<std::string> load;  // definition files to store in Redis before starting
  // --metrics-port: serve /metrics, /health/live and /health/ready on this port (0 = any free port, logged);
  // -1 = not served.
  int metrics_port = -1;
  std::string metrics_address = "127.0.0.1";  // --metrics-address
  // `serve` and `api`: the REST API (whose port also serves /metrics and /health/*). Processes with the
  // orchestrator role run the cron scheduler and the ingest processor whether or not they serve the API.
  std::optional<ApiArgs> api;
  // `orchestrator` with --keystone-url: the --keystone-* flags, so that the cron triggers it fires
  // get tokens of their Keystone trusts (as `serve --auth keystone` does).
  std::optional<ApiArgs> keystone;
};

// Runs until SIGINT or SIGTERM. Exit code 0 on a clean stop, 2 on bad arguments or definitions, 1 when a
// service cannot be reached at start.
int RunCluster(const ClusterArgs& args);

}  // namespace bora::cli
