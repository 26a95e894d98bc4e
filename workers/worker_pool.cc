#include "workers/worker_pool.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "common/check.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics/metrics.h"

namespace bora::workers {

namespace {
thread_local std::string_view submit_pool;
thread_local int64_t submit_scheduled_at_us = 0;
thread_local const Clock* submit_clock = nullptr;

}  // namespace

ScopedSubmitContext::ScopedSubmitContext(std::string_view pool, int64_t scheduled_at_us,
                                         const Clock* clock)
    : saved_pool_(submit_pool), saved_at_(submit_scheduled_at_us), saved_clock_(submit_clock) {
  BORA_CHECK(clock != nullptr) << "ScopedSubmitContext needs the clock of scheduled_at_us";
  submit_pool = pool;
  submit_scheduled_at_us = scheduled_at_us;
  submit_clock = clock;
}

ScopedSubmitContext::~ScopedSubmitContext() {
  submit_pool = saved_pool_;
  submit_scheduled_at_us = saved_at_;
  submit_clock = saved_clock_;
}

void WorkerPool::UpdateGaugesLocked() {
  if (name_.empty()) return;  // unnamed until the first Submit
  if (gauges_.slots_used == nullptr) gauges_ = metrics::WorkerPoolGauges(name_);
  size_t threads = threads_.size();
  gauges_.slots_used->Set(static_cast<double>(running_count_));
  gauges_.slots_free->Set(static_cast<double>(threads > running_count_ ? threads - running_count_ : 0));
  gauges_.queue_depth->Set(static_cast<double>(queue_.size()));
}

WorkerPool::WorkerPool(const ActionRegistry* registry, WorkerPoolOptions options)
    : registry_(registry), options_(options) {
  int n = std::max(1, options_.concurrency);
  threads_.reserve(n);
  for (int i = 0; i < n; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  MutexLock lock(mu_);
  name_ = options_.name;
  UpdateGaugesLocked();
}

WorkerPool::~WorkerPool() { Shutdown(); }

Status WorkerPool::Submit(ActionRequest request, Completion done) {
  MutexLock lock(mu_);
  if (stopping_) return FailedPrecondition("the worker pool is shut down");
  if (queue_.size() >= options_.max_queue) {
    return ResourceExhausted("the worker pool queue is full (" +
                             std::to_string(options_.max_queue) + " runs waiting)");
  }
  const std::string& id = request.action_execution_id;
  if (!id.empty()) {
    bool queued = std::any_of(queue_.begin(), queue_.end(),
                              [&](const Job& j) { return j.request.action_execution_id == id; });
    if (queued || running_.contains(id)) {
      return AlreadyExists("action execution " + id + " is already queued or running");
    }
  }
  if (name_.empty()) name_ = submit_pool.empty() ? std::string("default") : std::string(submit_pool);
  queue_.push_back(Job{std::move(request), std::move(done), std::make_shared<CancelToken>(),
                       next_seq_++, submit_pool.empty() ? name_ : std::string(submit_pool),
                       submit_scheduled_at_us, submit_clock});
  UpdateGaugesLocked();
  cv_.NotifyOne();
  return Status::Ok();
}

bool WorkerPool::Cancel(const std::string& action_execution_id) {
  if (action_execution_id.empty()) return false;
  Job cancelled;
  {
    MutexLock lock(mu_);
    auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Job& j) {
      return j.request.action_execution_id == action_execution_id;
    });
    if (it == queue_.end()) {
      auto r = running_.find(action_execution_id);
      if (r == running_.end()) return false;
      r->second->cancelled.store(true);
      return true;
    }
    cancelled = std::move(*it);
    queue_.erase(it);
    UpdateGaugesLocked();
  }
  if (cancelled.done) cancelled.done(cancelled.request, ActionResult::Cancelled());
  return true;
}

void WorkerPool::Shutdown(bool cancel_running) {
  std::call_once(shutdown_once_, [&] {
    std::deque<Job> dropped;
    {
      MutexLock lock(mu_);
      stopping_ = true;
      dropped.swap(queue_);
      UpdateGaugesLocked();
      if (cancel_running) {
        for (auto& [_, token] : running_) token->cancelled.store(true);
      }
      cv_.NotifyAll();
    }
    for (Job& job : dropped) {
      if (job.done) job.done(job.request, ActionResult::Cancelled());
    }
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  });
}

size_t WorkerPool::QueuedCount() const {
  MutexLock lock(mu_);
  return queue_.size();
}

size_t WorkerPool::RunningCount() const {
  MutexLock lock(mu_);
  return running_count_;
}

ActionResult WorkerPool::RunJob(const Job& job) {
  if (job.cancel->cancelled.load()) return ActionResult::Cancelled();
  Action* action = registry_ == nullptr ? nullptr : registry_->FindAction(job.request.action_name);
  if (action == nullptr) {
    return ActionResult::Error("Failed to find action [action_name=" + job.request.action_name +
                               "]");
  }
  try {
    ActionResult result = action->Run(job.request, *job.cancel);
    // A run asked to stop reports kCancelled unless it had already finished with a final outcome it
    // could not take back (an async hand-off).
    if (job.cancel->cancelled.load() && result.kind != ActionResult::Kind::kAsync) {
      return ActionResult::Cancelled();
    }
    return result;
  } catch (const std::exception& e) {
    return ActionResult::Error(std::string(e.what()));
  } catch (...) {
    return ActionResult::Error("unknown exception in action " + job.request.action_name);
  }
}

void WorkerPool::WorkerLoop() {
  while (true) {
    Job job;
    {
      MutexLock lock(mu_);
      while (!stopping_ && queue_.empty()) cv_.Wait(mu_);
      if (queue_.empty()) return;  // stopping and nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_count_;
      if (!job.request.action_execution_id.empty()) {
        running_[job.request.action_execution_id] = job.cancel;
      }
      UpdateGaugesLocked();
    }
    if (job.scheduled_at_us > 0 && job.clock != nullptr) {
      int64_t waited_us = job.clock->NowUs() - job.scheduled_at_us;
      metrics::ActionScheduledToStart(job.pool, static_cast<double>(waited_us) / 1e6);
    }
    auto started = std::chrono::steady_clock::now();
    ActionResult result;
    {
      ScopedLogFields log_fields({job.request.execution_id, job.request.task_execution_id, -1});
      result = RunJob(job);
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    metrics::ActionFinished(job.pool, job.request.action_name, ActionResultName(result.kind),
                            took.count());
    {
      MutexLock lock(mu_);
      BORA_DCHECK(running_count_ > 0) << "a run finished that was not counted as running";
      --running_count_;
      if (!job.request.action_execution_id.empty()) running_.erase(job.request.action_execution_id);
      UpdateGaugesLocked();
    }
    if (job.done) {
      try {
        job.done(job.request, std::move(result));
      } catch (const std::exception& e) {
        BORA_LOG_ERROR("worker pool: completion callback threw: {}", e.what());
      } catch (...) {
        BORA_LOG_ERROR("worker pool: completion callback threw");
      }
    }
  }
}

}  // namespace bora::workers
