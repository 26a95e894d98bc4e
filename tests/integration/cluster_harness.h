#pragma once
// A test cluster: `bora orchestrator` and `bora worker` processes (real binaries, real signals) over real
// Kafka and Redis, isolated by a topic/key prefix of their own, plus an in-process client (ClusterNode with no
// role) to load definitions, start executions and read their states.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "orchestrator/runtime/cluster_node.h"

namespace bora::testing {

// Where the services are: $BORA_KAFKA / $BORA_REDIS (scripts/services.sh start).
struct ServiceAddresses {
  std::string kafka, redis;
  static Result<ServiceAddresses> FromEnv();
};

class Cluster {
 public:
  // `name` labels the prefix. `partitions` of bora.events.
  static Result<std::unique_ptr<Cluster>> Create(const std::string& name, const ServiceAddresses& services,
                                                 int partitions = 4);
  ~Cluster();  // SIGKILLs what is still running

  // Starts a role process; returns its pid. `extra` flags are appended. Its stderr goes to `log_file` when
  // given (else the test's stderr).
  pid_t StartOrchestrator(const std::vector<std::string>& extra = {}, const std::string& log_file = "");
  pid_t StartWorker(const std::vector<std::string>& extra = {}, const std::string& log_file = "");
  // Sends `sig` to `pid` (SIGKILL reaps it).
  void Signal(pid_t pid, int sig);
  // True while `pid` runs.
  bool Running(pid_t pid);
  // kInternal naming any started process that exited although no test signal killed it.
  Status CheckProcesses();

  Status Load(const std::string& yaml, const std::string& file_name = "test.yaml");
  runtime::ExecutionClient& client() { return node_->client(); }

  // Starts `n` executions of `workflow`; returns their ids.
  Result<std::vector<std::string>> StartMany(const std::string& workflow, int n, const Json& input = JsonObject());
  // Waits until every execution is SUCCESS/ERROR/CANCELLED or `timeout` passes. Returns how many are terminal.
  size_t WaitTerminal(const std::vector<std::string>& ids, std::chrono::seconds timeout);
  // Number of `ids` in a terminal state now.
  size_t CountTerminal(const std::vector<std::string>& ids);

  const std::string& prefix() const { return prefix_; }

 private:
  Cluster() = default;
  pid_t Spawn(const std::string& role, const std::vector<std::string>& extra, const std::string& log_file);

  ServiceAddresses services_;
  std::string prefix_;
  int partitions_ = 4;
  std::unique_ptr<runtime::ClusterNode> node_;
  std::vector<pid_t> pids_;
  std::map<pid_t, int> exited_;  // reaped pid -> wait status
  std::vector<pid_t> killed_;    // pids a test signalled with SIGKILL
};

// A redis-server or Kafka broker of the test's own (for restart tests), through scripts/services.sh with a
// private BORA_SERVICES_DIR.
class PrivateServices {
 public:
  // `which`: "redis", "kafka" or "redis kafka". Redis runs with AOF (appendfsync everysec).
  static Result<std::unique_ptr<PrivateServices>> Start(const std::string& which);
  ~PrivateServices();
  Status Kill(const std::string& service);    // kill -9, keeps port and data
  Status Revive(const std::string& service);  // same port, same data
  const ServiceAddresses& addresses() const { return addresses_; }

 private:
  PrivateServices() = default;
  Status Run(const std::string& args, std::string* out = nullptr);
  std::string dir_;
  ServiceAddresses addresses_;
};

}  // namespace bora::testing
