#pragma once
// ClusterNode: the distributed roles of one process over a real Kafka (KafkaBus) and Redis (RedisStateStore,
// RedisDefinitions): the orchestrator role (consume bora.events, apply, commit, produce), the worker role
// (consume bora.actions.<pool>, run actions), or both (`bora serve --kafka ... --redis ...`). Any number of
// nodes may run; Kafka's consumer groups share the partitions and Redis epochs fence lost owners.
//
// Threading: Start() spawns the loop threads (`orchestrator_loops` for the orchestrator role, each with its
// own Kafka consumer in the orchestrators' group and its own Redis connection, so the loops own disjoint
// partitions and overlap each other's round trips; one for the worker role); Stop() joins them. client() and
// definitions() from any thread.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_bus.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/partition/orchestrator.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/runtime/loop_hooks.h"
#include "orchestrator/runtime/retention.h"
#include "orchestrator/runtime/roles.h"
#include "orchestrator/store/redis_definitions.h"
#include "orchestrator/store/redis_resource_store.h"
#include "orchestrator/store/redis_state_store.h"
#include "workers/action_worker.h"
#include "workers/std_actions.h"
#include "workers/worker_pool.h"

namespace bora::runtime {

struct ClusterOptions {
  std::string kafka;        // brokers, "host:port"
  std::string redis;        // "redis://host:port"
  std::string prefix;       // topic and Redis key prefix; isolates clusters (and tests) sharing the services
  int partitions = 8;       // partitions of bora.events (fixed for the cluster's life)
  int action_partitions = 4;
  bool orchestrator = true;
  bool worker = true;
  std::string pool = "default";
  int worker_threads = 4;
  int orchestrator_loops = 1;      // orchestrator threads in this process (each owns some partitions)
  bool overlap_commits = true;     // OrchestratorOptions::overlap_commits
  int session_timeout_ms = 10000;  // Kafka group session: how fast a dead process is detected
  // OrchestratorOptions::release_after_store_outage: an orchestrator whose claims have all failed
  // this long leaves the group so that the others take its partitions (0: never).
  int store_outage_release_ms = 10000;
  // Replication factor of the topics this node creates when they are missing (KafkaBusOptions: 0 is
  // auto, min(3, brokers); min.insync.replicas=2 from 3 on).
  int replication_factor = KafkaBusOptions::kAutoReplication;
  workers::StdActionOptions std_actions;
  RetentionPolicy retention;  // orchestrator role; off unless enabled()
  engine::EngineLimits engine_limits;  // orchestrator role
  // Custom actions run by external (SDK) workers on their own pools: the engine accepts them with
  // any parameters; a C++ worker that receives one answers with an error.
  std::vector<std::string> external_actions;
};

class ClusterNode {
 public:
  static Result<std::unique_ptr<ClusterNode>> Create(const ClusterOptions& options);
  ~ClusterNode();  // Stop()

  // Work owned by partition (cron triggers), run by the orchestrator loop (orchestrator role only). Not
  // owned. Before Start().
  void AddPartitionTask(PartitionTask* task) { partition_tasks_.push_back(task); }
  // A consumer of its own (the ingest processor), polled in a thread of its own. Before Start().
  void AddPollLoop(PollLoop loop) { poll_loops_.push_back(std::move(loop)); }

  Status Start();
  void Stop();

  ExecutionClient& client() { return *client_; }
  store::RedisDefinitions& definitions() { return *definitions_; }
  KafkaBus& bus() { return *bus_; }
  store::RedisStateStore& store() { return *store_; }
  const engine::Engine& engine() const { return *engine_; }
  const ClusterOptions& options() const { return options_; }
  workers::ActionRegistry& actions() { return registry_; }
  // What the parts built around the node use (api::ApiService::Create); the partition hooks only
  // with the orchestrator role.
  Roles roles();

 private:
  explicit ClusterNode(ClusterOptions options) : options_(std::move(options)) {}

  ClusterOptions options_;
  std::unique_ptr<KafkaBus> bus_;
  std::unique_ptr<store::RedisStateStore> store_;
  std::unique_ptr<store::RedisDefinitions> definitions_;
  // The stored declarations of external actions (the worker API's), read when the engine meets an
  // action it does not know (ActionRegistry::SetExternalLookup).
  std::unique_ptr<store::RedisResourceStore> declarations_;
  workers::ActionRegistry registry_;
  std::unique_ptr<engine::Engine> engine_;
  // One per orchestrator loop, with the store connection it commits through.
  struct Loop {
    std::unique_ptr<store::RedisStateStore> store;
    std::unique_ptr<partition::Orchestrator> orchestrator;
    std::thread thread;
  };
  std::vector<Loop> loops_;
  std::unique_ptr<workers::WorkerPool> pool_;
  std::unique_ptr<workers::ActionWorker> worker_;
  std::unique_ptr<ExecutionClient> client_;
  std::atomic<bool> stopping_{false};
  std::thread worker_thread_;
  std::vector<PartitionTask*> partition_tasks_;
  std::unique_ptr<ExecutionRetention> retention_;  // orchestrator role, when options_.retention is enabled
  std::vector<PollLoop> poll_loops_;
  std::vector<std::thread> poll_threads_;
  bool started_ = false;
};

}  // namespace bora::runtime
