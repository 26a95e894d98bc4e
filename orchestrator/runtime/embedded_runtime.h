#pragma once
// EmbeddedRuntime: the whole of Bora in one process, with no servers: MemoryBus (N partitions,
// events keyed by execution id), a StateStore and a ResourceStore, the Orchestrator (the same
// partition loop the distributed mode runs), and an ActionWorker for the `default` pool over the
// std actions.
//
// Two backends (EmbeddedOptions::data_dir):
//  - in memory (data_dir empty; `bora run`, tests): MemoryStateStore, MemoryResourceStore, a
//  MemoryBus;
//    everything is gone when the process ends.
//  - on disk (`bora serve --data-dir`): one DiskDb (common/disk) holds the bus's log (a MemoryBus
//  with a
//    DiskBusJournal), a RocksDbStateStore and a RocksDbResourceStore. Open() starts from what the
//    directory holds: the orchestrators claim their partitions (re-sending the unacknowledged
//    outbox and resuming timers), the worker resumes at its group's committed position (actions
//    that were running run again: at least once; their results apply once).
//
// Two ways to drive it:
//  - threaded (default): Start() spawns `orchestrator_threads` orchestrator threads (each one
//  Orchestrator,
//    a member of the same consumer group, so each owns some of the partitions exactly as separate
//    processes would) and a worker thread (actions run on a WorkerPool); WaitUntilSettled() blocks
//    until an execution is SUCCESS, ERROR, CANCELLED or PAUSED. Observer callbacks are serialised
//    (one at a time) but may come from any orchestrator thread.
//  - deterministic (options.deterministic): nothing runs by itself; RunUntilIdle() pumps the
//  orchestrator and
//    runs actions inline on the calling thread, and when nothing is left to do it advances the
//    ManualClock to the next timer. No sleeps, no threads: the conformance runner and engine
//    scenario tests use this.
//
// Thread-safety: Load*/actions()/AddObserver before Start(); client() from any thread; RunUntilIdle
// from one.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/bus/memory_bus.h"
#include "common/clock.h"
#include "common/disk/disk_db.h"
#include "common/strong_id.h"
#include "common/thread_annotations.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/partition/orchestrator.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/runtime/loop_hooks.h"
#include "orchestrator/runtime/retention.h"
#include "orchestrator/runtime/roles.h"
#include "orchestrator/store/resource_store.h"
#include "orchestrator/store/state_store.h"
#include "sdk/protocol/protocol.h"
#include "workers/action_worker.h"
#include "workers/std_actions.h"
#include "workers/worker_pool.h"

namespace bora::runtime {

struct EmbeddedOptions {
  int partitions = 4;
  int worker_threads = 4;
  // Threaded mode: orchestrator loops (at most `partitions`). Deterministic mode always uses one.
  int orchestrator_threads = 2;
  bool deterministic = false;
  workers::StdActionOptions std_actions;
  RetentionPolicy retention;  // off unless enabled() (an ExecutionRetention partition task)
  engine::EngineLimits engine_limits;
  // Where the state, the resources and the bus log are kept (a DiskDb directory); empty: in memory.
  std::string data_dir;
  disk::FsyncPolicy fsync = disk::FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{10};
};

class EmbeddedRuntime {
 public:
  // In memory (`options.data_dir` must be empty; use Open for a directory).
  explicit EmbeddedRuntime(EmbeddedOptions options = {});
  // In memory or, with `options.data_dir`, on disk: fails when the directory cannot be opened (in
  // use by another process, another format or partition count, unreadable).
  static Result<std::unique_ptr<EmbeddedRuntime>> Open(EmbeddedOptions options);
  ~EmbeddedRuntime();  // Stop()

  // Parses and registers a Workflow Language document (workflows, workbook or actions). Errors name the
  // file, line and column.
  Status LoadYaml(std::string_view yaml_text, const std::string& file_name = "",
                  const std::string& namespace_name = "");
  engine::MemoryDefinitions& definitions() { return definitions_; }
  workers::ActionRegistry& actions() { return registry_; }
  // Adds an observer (not owned). Before Start().
  void AddObserver(partition::ExecutionObserver* observer) { observers_.push_back(observer); }
  // Work owned by partition (cron triggers), run by the orchestrator loops. Not owned. Before Start().
  void AddPartitionTask(PartitionTask* task) { partition_tasks_.push_back(task); }
  // A consumer of its own (the ingest processor): a thread in threaded mode, a step of each RunUntilIdle
  // round in deterministic mode. Before Start().
  void AddPollLoop(PollLoop loop) { poll_loops_.push_back(std::move(loop)); }

  Status Start();
  void Stop();

  ExecutionClient& client() { return *client_; }
  const engine::Engine& engine() const { return *engine_; }
  store::StateStore& store() { return *store_; }
  store::ResourceStore& resources() { return *resources_; }
  MemoryBus& bus() { return *bus_; }
  // The database of the on-disk backend, or null in memory.
  disk::DiskDb* disk() const { return disk_.get(); }
  // What the parts built around the runtime use (api::ApiService::Create).
  Roles roles();
  const Clock* clock() const { return clock_; }
  int partitions() const { return options_.partitions; }

  // Deterministic mode: processes until nothing is runnable, firing timers by advancing the manual clock.
  // Returns kResourceExhausted after `max_rounds` rounds (a workflow that never ends, e.g. an endless cycle).
  Status RunUntilIdle(size_t max_rounds = 1'000'000);
  ManualClock* manual_clock() { return manual_clock_.get(); }

  // Threaded mode: waits until the execution is SUCCESS, ERROR, CANCELLED or PAUSED, or the timeout
  // expires (kDeadlineExceeded). Returns a copy of its state, or the reason its start was refused.
  // Makes every WaitUntil / WaitUntilSettled return kAborted ("interrupted") now and from now on
  // (Ctrl-C in `bora run`). Thread-safe; call it from any thread but a signal handler.
  void Interrupt();

  Result<engine::ExecutionState> WaitUntilSettled(const ExecutionId& execution_id,
                                                  std::chrono::milliseconds timeout);
  // Threaded mode: waits until the execution is settled (as above) and `done` holds for its state, checked
  // after every event applied to a settled execution (a late action result of a finished one...).
  Result<engine::ExecutionState> WaitUntil(
      const ExecutionId& execution_id, std::chrono::milliseconds timeout,
      const std::function<bool(const engine::ExecutionState&)>& done);

  // Summed over the orchestrators. Read it when the runtime is idle or stopped (the counters are not
  // synchronised).
  const partition::OrchestratorStats& orchestrator_stats() const;

 private:
  class FanOut;
  struct Backend {
    std::shared_ptr<disk::DiskDb> disk;
    std::unique_ptr<MemoryBus> bus;
    std::unique_ptr<store::StateStore> store;
    std::unique_ptr<store::ResourceStore> resources;
  };
  EmbeddedRuntime(EmbeddedOptions options, Backend backend);

  // Runs the partition tasks for `orchestrator`'s partitions; returns how much they did.
  size_t RunPartitionTasks(const partition::Orchestrator& orchestrator);
  // Frees bus messages the orchestrator applied / the worker finished (see the .cc).
  void TrimApplied(const partition::Orchestrator& orchestrator);
  void TrimWorked();

  EmbeddedOptions options_;
  std::unique_ptr<ManualClock> manual_clock_;
  const Clock* clock_;
  std::shared_ptr<disk::DiskDb> disk_;  // the on-disk backend's database, or null
  std::unique_ptr<MemoryBus> bus_;
  const std::string events_topic_ = protocol::EventsTopic();
  std::unique_ptr<store::StateStore> store_;
  std::unique_ptr<store::ResourceStore> resources_;
  engine::MemoryDefinitions definitions_;
  workers::ActionRegistry registry_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<FanOut> fan_out_;
  std::vector<partition::ExecutionObserver*> observers_;
  std::vector<PartitionTask*> partition_tasks_;
  std::unique_ptr<ExecutionRetention> retention_;  // when options_.retention is enabled
  std::vector<PollLoop> poll_loops_;
  std::vector<std::thread> poll_threads_;
  std::vector<std::unique_ptr<partition::Orchestrator>> orchestrators_;  // [0] drives deterministic mode
  mutable partition::OrchestratorStats stats_sum_;
  std::unique_ptr<workers::WorkerPool> pool_;
  std::unique_ptr<workers::ActionWorker> worker_;
  std::unique_ptr<ExecutionClient> client_;

  Mutex settle_mu_;
  CondVar settle_cv_;
  uint64_t settle_version_ GUARDED_BY(settle_mu_) = 0;
  bool interrupted_ GUARDED_BY(settle_mu_) = false;
  // Why events for executions were refused (latest per id).
  std::map<std::string, Status> rejected_ GUARDED_BY(settle_mu_);

  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> orchestrator_threads_;
  std::thread worker_thread_;
};

}  // namespace bora::runtime
