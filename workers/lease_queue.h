#pragma once
// LeaseQueue: action requests waiting for external workers that pull them over HTTP (the worker
// API, ingest/api/workers_api.h). An ActionWorker of the pool hands each request to Add() (its
// Executor: consuming the pool's topic, publishing the result and committing stay the
// ActionWorker's job), a worker takes requests with Take() as leases for a time, extends them with
// Heartbeat(), and ends them with Complete() (the request's `done` runs once) or Release(). A lease
// that runs out puts its request back at the front of the queue for another worker: at least once,
// as on Kafka; the engine ignores a second result of an action execution.
//
// Lease ids are unique (`new_id`); a finished or expired lease is remembered (up to `remembered` of
// each) so that a late call gets the right answer: the same completion again is a duplicate,
// anything else a conflict.
//
// Threading: every method is thread-safe; Take() may wait (a long poll) and Shutdown() wakes it.
// Deadlines are on the injected clock; a waiting Take() re-checks them every `check_every` of real
// time.
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "workers/action.h"

namespace bora::workers {

struct LeaseQueueOptions {
  size_t remembered = 10000;  // finished and expired lease ids kept for late calls, each
  std::chrono::milliseconds check_every{100};
};

struct Lease {
  std::string lease_id;
  ActionRequest request;
  TimestampUs expires_at = 0;
  int delivery = 0;  // 1 the first time this queue leases the request, 2 after a lease ran out, ...
};

class LeaseQueue {
 public:
  using Done = std::function<void(ActionResult)>;

  // `clock` is not owned; `new_id` makes lease ids.
  LeaseQueue(const Clock* clock, std::function<std::string()> new_id,
             LeaseQueueOptions options = {});

  // Queues `request`; `done` is called once, with the completion a worker sends, unless the queue
  // shuts down first (see Shutdown()).
  void Add(ActionRequest request, Done done);

  // Up to `max` queued requests whose action is in `actions` (all when empty), each leased for
  // `length`. Waits up to `wait` for the first one. Leases that ran out go back to the queue first.
  std::vector<Lease> Take(const std::set<std::string>& actions, size_t max,
                          std::chrono::milliseconds length, std::chrono::milliseconds wait);

  // Extends a lease to now + `length`: the new deadline. NotFound: no such lease;
  // FailedPrecondition: it ran out (the request went back to the queue) or it was finished.
  Result<TimestampUs> Heartbeat(const std::string& lease_id, std::chrono::milliseconds length);

  // Ends a lease with `result` (kSuccess or kError): false, or true when this very completion was
  // already taken (a retry). NotFound / FailedPrecondition as Heartbeat, and FailedPrecondition for
  // a different completion of a finished lease.
  Result<bool> Complete(const std::string& lease_id, const ActionResult& result);

  // Puts a leased request back at the front of the queue now (a worker shutting down).
  Status Release(const std::string& lease_id);

  // Takes back a queued request of `action_execution_id` that no worker has leased yet, without
  // calling its `done`: true when it was here (a direct run whose caller stopped waiting).
  bool Withdraw(const std::string& action_execution_id);

  // True for a lease this queue gave out (current, finished or expired, as far as it remembers).
  bool Knows(const std::string& lease_id) const;

  size_t queued() const;
  size_t leased() const;

  // Wakes waiting Take() calls (they return what they have) and drops every request still here
  // without calling its `done`: no result is reported, its ActionWorker never commits its offset,
  // so the pool's next consumer (this process restarted, or another) runs it again. Later Add()s
  // are dropped the same way.
  void Shutdown();

 private:
  struct Entry {
    ActionRequest request;
    Done done;
    int delivery = 0;
  };
  struct Held {
    Entry entry;
    TimestampUs expires_at = 0;
  };
  void ExpireLocked(TimestampUs now) REQUIRES(mu_);
  void RememberLocked(std::map<std::string, std::string>& m, std::deque<std::string>& order,
                      const std::string& id, std::string value) REQUIRES(mu_);
  Status GoneLocked(const std::string& lease_id) const REQUIRES(mu_);

  const Clock* clock_;
  std::function<std::string()> new_id_;
  LeaseQueueOptions options_;
  mutable Mutex mu_;
  CondVar added_;  // a request was queued, or Shutdown()
  std::deque<Entry> queue_ GUARDED_BY(mu_);
  std::map<std::string, Held> leases_ GUARDED_BY(mu_);
  // lease id -> the completion taken ("success:<json>"), or "released".
  std::map<std::string, std::string> finished_ GUARDED_BY(mu_);
  std::deque<std::string> finished_order_ GUARDED_BY(mu_);
  std::map<std::string, std::string> expired_ GUARDED_BY(mu_);  // lease id -> action execution id
  std::deque<std::string> expired_order_ GUARDED_BY(mu_);
  bool shut_down_ GUARDED_BY(mu_) = false;
};

}  // namespace bora::workers
