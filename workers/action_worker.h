#pragma once
// ActionWorker: consumes one pool's action topic (`bora.actions.<pool>`), runs each RunAction with
// the action registry, and publishes the outcome as an ActionCompleted event on `bora.events`
// (keyed by execution id). Async actions (ActionResult::kAsync) publish nothing: their completion
// comes through the API later.
//
// How an action runs is up to the Executor: inline on the polling thread (deterministic tests) or
// on a thread pool (embedded and distributed workers). Actions whose Action::MayBlock is false for
// the request run inline on the polling thread even with an executor. Delivery is at least once;
// the engine ignores duplicate results, so actions with side effects should be idempotent
// (documented in workers/README.md).
//
// Offsets: a request's offset is committed to the bus (the consumer group) only after its result
// was published and flushed, so a worker killed mid-action leaves the request to the partition's
// next owner, which runs it again (at least once; the engine ignores the duplicate result). Kafka's
// group session timeout is the lease that detects the dead worker.
//
// Threading: PollOnce() from one thread at a time; the Executor may call `done` from any thread.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/bus/bus.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "workers/action.h"
#include "workers/worker_pool.h"

namespace bora::workers {

struct ActionWorkerOptions {
  std::string pool = "default";
  std::string group = "bora-workers";  // the pool name is appended
  std::string topic_prefix;            // see protocol::EventsTopic
  size_t max_batch = 512;
  // Offsets are committed (after a flush of the results) at most this often. Kafka sends a group's
  // offset commits and heartbeats over one coordinator connection: a commit per batch under load
  // queues commits ahead of heartbeats until the session times out (a rebalance and a stall of many
  // seconds). 0 = every poll (the in-memory bus). A crash re-runs at most this much finished work
  // (actions run at least once).
  std::chrono::milliseconds commit_interval{0};
  // Every request goes to the executor, even one whose action this process does not know or that
  // would run inline (the worker API's pools: their actions run in external workers).
  bool executor_runs_all = false;
};

class ActionWorker {
 public:
  using Done = std::function<void(workers::ActionResult)>;
  // Runs `request` and calls `done` exactly once.
  using Executor = std::function<void(workers::ActionRequest request, Done done)>;

  // `registry`, `bus` and `clock` are not owned. A null `executor` runs actions inline. `clock`
  // measures schedule-to-start against the orchestrator's produce time
  // (metrics::kScheduledAtHeader).
  ActionWorker(ActionWorkerOptions options, Bus* bus, const workers::ActionRegistry* registry,
               const Clock* clock, Executor executor = nullptr);

  Status Start();
  // Publishes results the bus refused before, then polls up to max_batch requests (waiting at most
  // `timeout`) and hands them to the executor. Returns the number of requests taken plus results
  // sent again. While the bus still refuses results it takes no request (and waits up to 100 ms).
  Result<size_t> PollOnce(std::chrono::milliseconds timeout);
  void Wakeup();

  // Per partition, the committed position: every request below it is done and its result published.
  // Thread-safe.
  std::vector<std::pair<TopicPartition, int64_t>> CommittedPositions();

  // Runs one request with the registry on the calling thread (unknown action ⇒ error result).
  // An Executor that runs actions on `pool` (not owned). A request whose action execution is
  // already queued or running there (the orchestrator re-sent its outbox) publishes nothing: that
  // run publishes the result.
  static Executor PoolExecutor(workers::WorkerPool* pool);

  static workers::ActionResult RunInline(const workers::ActionRegistry& registry,
                                         const workers::ActionRequest& request);

 private:
  // Publishes a result and marks its request (`tp`, `offset`) finished; a result the bus refuses is
  // kept for RetryUnpublished (its request stays in flight).
  void Publish(const workers::ActionIds& ids, const workers::ActionResult& result,
               const TopicPartition& tp, int64_t offset);
  // The ActionCompleted message of a result (an error result when the bus could not carry it);
  // nullopt for an async result (nothing to send).
  std::optional<std::string> EncodeResult(const workers::ActionIds& ids,
                                          const workers::ActionResult& result);
  void Finished(const TopicPartition& tp, int64_t offset);
  // Flushes published results, then commits each partition's offset below which every request is
  // done.
  Status CommitProgress();

  struct Progress {
    std::set<int64_t> in_flight;
    int64_t next = 0;       // one past the highest offset taken
    int64_t committed = 0;  // last committed position
  };
  Mutex progress_mu_;  // taken before unpublished_mu_ when both are held
  std::map<TopicPartition, Progress> progress_ GUARDED_BY(progress_mu_);
  // Results the bus refused (disk full, broker away): their requests stay in flight (the committed
  // position does not pass them) and PollOnce publishes them again before it takes new requests.
  struct Unpublished {
    TopicPartition tp;
    int64_t offset = 0;
    std::string key;
    std::string value;
  };
  Mutex unpublished_mu_;
  std::vector<Unpublished> unpublished_ GUARDED_BY(unpublished_mu_);
  bool publish_failing_ = false;          // PollOnce's thread: a retry failed (logged once)
  // Publishes the refused results again: how many went out, or nullopt while the bus still refuses
  // some.
  std::optional<size_t> RetryUnpublished();

  ActionWorkerOptions options_;
  Bus* bus_;
  const workers::ActionRegistry* registry_;
  const Clock* clock_;
  Executor executor_;
  std::unique_ptr<Consumer> consumer_;
  std::chrono::steady_clock::time_point next_commit_{};
};

}  // namespace bora::workers
