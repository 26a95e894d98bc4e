#pragma once
// MemoryStateStore: StateStore in process memory, for embedded mode and tests. States are kept as the very
// objects the partition mutates (no copies, so a 100,000-item with-items task costs O(1) per commit).
//
// Thread-safety: each partition has a mutex. The owning partition holds it (PartitionLock) while it applies a
// batch and commits, so ReadExecution from another thread sees a state between batches, never in the middle.
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "orchestrator/store/state_store.h"

namespace bora::store {

class MemoryStateStore final : public StateStore {
 public:
  explicit MemoryStateStore(int partitions);

  // Readers (ReadExecution) wait for this lock, so they never see a state in the middle of a batch.
  std::unique_lock<std::mutex> WriterLock(PartitionId partition) override;

  Result<PartitionClaim> ClaimPartition(PartitionId partition) override;
  Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(
      PartitionId partition, const ExecutionId& execution_id) override;
  Status Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) override;
  Status AckOutbox(PartitionId partition, Epoch epoch, uint64_t up_to_seq) override;
  Result<std::vector<TimerEntry>> DueTimers(PartitionId partition, TimestampUs now,
                                            size_t max) override;
  Status RemoveTimer(PartitionId partition, Epoch epoch, const TimerEntry& timer) override;
  Result<std::optional<TimestampUs>> NextTimer(PartitionId partition) override;
  Result<std::optional<engine::ExecutionState>> ReadExecution(
      PartitionId partition, const ExecutionId& execution_id) override;
  // Copies the head only (ExecutionState::CopyHead): cheap however many tasks the execution has.
  Result<std::optional<engine::ExecutionState>> ReadExecutionHead(
      PartitionId partition, const ExecutionId& execution_id) override;
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeads(PartitionId partition) override;
  // A scan of the states in memory.
  Result<std::optional<ExecutionKey>> FindExecutionOf(const std::string& id) override;
  Result<std::vector<ExecutionId>> ListExecutionIds(PartitionId partition) override;
  // Sorts every head (memory is not indexed).
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeadsPage(const std::optional<ListCursor>& after,
                                                                     size_t limit) override;

 private:
  struct Part {
    // WriterLock: held by the owner across a batch; readers take it first. It guards the contents
    // of the shared states (which the analysis cannot name), handed out as std::unique_lock on
    // native().
    Mutex mu;
    Mutex meta_mu;  // guards the fields below (taken briefly by each call)
    uint64_t epoch GUARDED_BY(meta_mu) = 0;
    int64_t next_offset GUARDED_BY(meta_mu) = 0;
    uint64_t next_seq GUARDED_BY(meta_mu) = 1;
    // ascending seq (assigned in order, acknowledged as a prefix)
    std::deque<OutboxEntry> outbox GUARDED_BY(meta_mu);
    std::unordered_map<std::string, std::shared_ptr<engine::ExecutionState>> states
        GUARDED_BY(meta_mu);
    // (at, (exec, id))
    std::set<std::pair<TimestampUs, std::pair<std::string, std::string>>> timers
        GUARDED_BY(meta_mu);
    // (exec, id) -> at
    std::map<std::pair<std::string, std::string>, TimestampUs> timer_at GUARDED_BY(meta_mu);
  };
  Result<Part*> Get(PartitionId partition);
  // The state stored for `execution_id`, as `copy` makes it (whole, or its head), under the
  // partition's locks (readers never see a state in the middle of a batch).
  template <typename Copy>
  Result<std::optional<engine::ExecutionState>> ReadWith(PartitionId partition,
                                                         const ExecutionId& execution_id,
                                                         Copy copy);
  static Status CheckEpoch(const Part& p, PartitionId partition, Epoch epoch) REQUIRES(p.meta_mu);

  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace bora::store
