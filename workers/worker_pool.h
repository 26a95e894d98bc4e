#pragma once
// WorkerPool: runs actions on N threads of this process. The embedded runtime submits action runs
// to it; the Kafka worker uses the same pool behind its consumer.
//
// Ownership: the pool borrows the ActionRegistry (it must outlive the pool and be read-only by
// then). Threading: every public method is thread-safe. Completion callbacks run on a pool thread,
// or on the thread that calls Cancel()/Shutdown() for runs that had not started; they must not
// block for long and must not call Shutdown() (they may call Submit() and Cancel()). Guarantee:
// each Submit() that returns OK leads to exactly one completion call, with the action's result, an
// error (unknown action, exception), or kCancelled (cancelled before or while running, or shut
// down).
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "workers/action.h"

namespace bora::workers {

struct WorkerPoolOptions {
  int concurrency = 4;      // worker threads (>= 1)
  size_t max_queue = 1024;  // runs waiting for a thread; Submit() beyond it is refused
  // The `pool` label of the pool's metrics (bora_worker_slots_used/free, bora_worker_queue_depth).
  // Empty: taken from the first ScopedSubmitContext that names one, else "default".
  std::string name = "";
};

// Metrics context of the Submit() calls made on this thread while the scope lives: the pool the run
// belongs to and when it was scheduled (µs since the epoch by `clock`; 0 = unknown). The pool
// observes bora_action_schedule_to_start_seconds (by `clock`, which must outlive the run) when a
// thread starts the run, and bora_action_duration_seconds. Set by runtime::ActionWorker around its
// executor call (which submits to the pool on the same thread).
class ScopedSubmitContext {
 public:
  ScopedSubmitContext(std::string_view pool, int64_t scheduled_at_us, const Clock* clock);
  ~ScopedSubmitContext();
  ScopedSubmitContext(const ScopedSubmitContext&) = delete;
  ScopedSubmitContext& operator=(const ScopedSubmitContext&) = delete;

 private:
  std::string_view saved_pool_;
  int64_t saved_at_ = 0;
  const Clock* saved_clock_ = nullptr;
};

class WorkerPool {
 public:
  using Completion = std::function<void(const ActionRequest& request, ActionResult result)>;

  WorkerPool(const ActionRegistry* registry, WorkerPoolOptions options = {});
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a run. kResourceExhausted when the queue is full, kFailedPrecondition after Shutdown(),
  // kAlreadyExists when a run with the same non-empty action_execution_id is queued or running; in
  // those cases `done` is never called.
  Status Submit(ActionRequest request, Completion done);

  // Cancels the run of `action_execution_id`: a queued run completes as kCancelled at once (on this
  // thread); a running one has its CancelToken set (the action stops early if it can, and its
  // result is reported as kCancelled). Returns false when no such run is queued or running.
  bool Cancel(const std::string& action_execution_id);

  // Stops accepting runs, completes queued runs as kCancelled, cancels running ones (when
  // `cancel_running`, else waits for them to finish) and joins the threads. Idempotent.
  void Shutdown(bool cancel_running = true);

  size_t QueuedCount() const;
  size_t RunningCount() const;

 private:
  struct Job {
    ActionRequest request;
    Completion done;
    std::shared_ptr<CancelToken> cancel;
    uint64_t seq = 0;
    std::string pool;              // metrics label
    int64_t scheduled_at_us = 0;   // see ScopedSubmitContext
    const Clock* clock = nullptr;  // of scheduled_at_us
  };

  // Publishes the slot and queue gauges.
  void UpdateGaugesLocked() REQUIRES(mu_);

  void WorkerLoop();
  ActionResult RunJob(const Job& job);

  const ActionRegistry* registry_;
  WorkerPoolOptions options_;

  mutable Mutex mu_;
  CondVar cv_;
  std::deque<Job> queue_ GUARDED_BY(mu_);
  // Running jobs by action_execution_id (only those with an id).
  std::map<std::string, std::shared_ptr<CancelToken>> running_ GUARDED_BY(mu_);
  size_t running_count_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  uint64_t next_seq_ GUARDED_BY(mu_) = 0;
  std::string name_ GUARDED_BY(mu_);            // metrics label
  metrics::PoolGauges gauges_ GUARDED_BY(mu_);  // of name_, looked up once it is known
  std::vector<std::thread> threads_;
  std::once_flag shutdown_once_;
};

}  // namespace bora::workers
