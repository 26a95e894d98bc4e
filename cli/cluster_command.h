#pragma once
// `bora orchestrator`, `bora worker` and `bora serve --kafka ... --redis ...`: the distributed roles.
#include <string>
#include <vector>

#include "orchestrator/runtime/cluster_node.h"

namespace bora::cli {

struct ClusterArgs {
  runtime::ClusterOptions options;
  std::vector<std::string> load;  // definition files to store in Redis before starting
};

// Runs until SIGINT or SIGTERM. Exit code 0 on a clean stop, 2 on bad arguments or definitions, 1 when a
// service cannot be reached at start.
int RunCluster(const ClusterArgs& args);

}  // namespace bora::cli
