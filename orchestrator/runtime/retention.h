#pragma once
// ExecutionRetention: Mistral's execution expiration policy. Completed top-level executions older
// than `older_than` (by their last update), and the oldest completed ones beyond the newest
// `max_finished_executions`, are purged: a PurgeExecution event per execution is published on
// bora.events, and the partition's owner deletes the state (and, through the engine, its
// sub-workflow executions) in a fenced commit like any other change. Sub-workflow executions left
// behind (their root is gone, e.g. one still running when its root was purged) are purged once they
// are completed and older than `older_than`.
//
// A PartitionTask: each orchestrator loop evaluates the partitions it owns, at most once per
// `evaluation_interval` each. The age rule reads the heads of those partitions only (no tasks); the
// count rule reads the heads of every partition (it ranks all completed top-level executions) and
// purges the superfluous ones of the partitions the loop owns. An evaluation is O(stored executions
// it reads).
//
// Threading: RunOwned may be called from several orchestrator loops at once (a mutex guards the
// schedule). Nothing is owned; the store, the client and the clock must outlive it.
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/strong_id.h"
#include "common/thread_annotations.h"
#include "orchestrator/engine/state.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/runtime/loop_hooks.h"
#include "orchestrator/store/state_store.h"

namespace bora::runtime {

// Mistral's [execution_expiration_policy] options (durations here in seconds, Mistral's in
// minutes).
struct RetentionPolicy {
  std::chrono::seconds evaluation_interval{0};  // 0: the policy is off
  std::chrono::seconds older_than{0};           // 0: no age limit
  size_t max_finished_executions = 0;           // 0: no count limit
  size_t batch_size = 0;                   // purges per evaluation and loop (0: all); the rest wait
  std::set<engine::State> ignored_states;  // completed states never purged (e.g. ERROR)

  // Mistral's rule: an interval and at least one limit.
  bool enabled() const {
    return evaluation_interval.count() > 0 &&
           (older_than.count() > 0 || max_finished_executions > 0);
  }
  // kInvalidArgument for negative durations or an ignored state that is not a completed state.
  Status Validate() const;
};

struct RetentionStats {
  uint64_t evaluations = 0;
  uint64_t purges_requested = 0;  // PurgeExecution events published
};

class ExecutionRetention final : public PartitionTask {
 public:
  ExecutionRetention(RetentionPolicy policy, store::ExecutionReader* store, ExecutionClient* client,
                     const Clock* clock, int partitions);

  // Evaluates the owned partitions whose evaluation is due; returns the purges requested.
  Result<size_t> RunOwned(const std::vector<PartitionId>& owned) override;

  RetentionStats stats() const;

 private:
  // The executions of `due` (partitions) the policy expires at `now`.
  Result<std::vector<std::string>> Expired(const std::vector<PartitionId>& due, TimestampUs now);

  const RetentionPolicy policy_;
  store::ExecutionReader* store_;
  ExecutionClient* client_;
  const Clock* clock_;
  const int partitions_;
  mutable Mutex mu_;
  // partition -> when it is evaluated next (absent: now)
  std::map<PartitionId, TimestampUs> next_due_ GUARDED_BY(mu_);
  RetentionStats stats_ GUARDED_BY(mu_);
};

}  // namespace bora::runtime
