#pragma once
// StateStore: where a partition's execution states, its next bus offset, its fencing epoch, its
// outbox and its timers live. Two faces: PartitionStore, what the owner of a partition needs
// (claim, load, fenced commit, outbox, timers: the Orchestrator), and ExecutionReader, what readers
// need (reads by id, listings: the REST API, ExecutionClient, retention). Implementations (both
// faces): MemoryStateStore (tests, `bora run`), RedisStateStore (distributed mode: one Lua script
// per commit) and RocksDbStateStore (`bora serve
// --data-dir`). The same contract suite runs against all three.
//
// Exactly-once: Commit() writes {states, next offset, outbox additions, timer changes} atomically
// and only if `epoch` is the partition's current epoch; ClaimPartition() bumps the epoch, so a
// process that lost the partition (a zombie) fails its next commit with kAborted.
//
// Thread-safety: all methods may be called from any thread. A partition is written by its one owner
// at a time.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/strong_id.h"
#include "orchestrator/engine/state.h"

namespace bora::store {

// A message to produce after the commit (the transactional outbox). `seq` orders entries of a partition.
struct OutboxEntry {
  uint64_t seq = 0;
  std::string topic;
  std::string key;
  std::string value;
};

struct TimerEntry {
  std::string execution_id;
  std::string timer_id;
  TimestampUs fire_at = 0;
};

struct PartitionClaim {
  Epoch epoch;
  int64_t next_offset = 0;          // first bus offset not yet applied
  std::vector<OutboxEntry> outbox;  // committed but not acknowledged: the new owner re-sends them
};

// An execution a commit deletes (a purge): its state and its task and action execution ids in the id index.
// Its timers are not implied: the committer cancels them (CommitBatch::timers_cancelled).
struct DeletedExecution {
  std::string execution_id;
  std::vector<std::string> indexed_ids;  // its task and action execution ids
};

struct CommitBatch {
  int64_t next_offset = 0;
  // States changed by the batch. The memory store keeps these objects (no copy); other stores serialise them.
  std::vector<std::shared_ptr<engine::ExecutionState>> states;
  std::vector<OutboxEntry> outbox;  // seq assigned by the store
  std::vector<TimerEntry> timers_set;
  std::vector<TimerEntry> timers_cancelled;  // matched by (execution_id, timer_id)
  // Deleted before `states` are written (a state of the same id in `states` is a new execution).
  std::vector<DeletedExecution> deleted;
};

// One partition's commit in a CommitMany() call.
struct PartitionCommit {
  PartitionId partition;
  Epoch epoch;
  CommitBatch* batch = nullptr;
};

// Where a listing page starts: after the execution `id` created in second `created_s` (listing order is
// (created_at in whole seconds, id), both ascending: Mistral's default order).
struct ListCursor {
  int64_t created_s = 0;
  std::string id;
};
// The listing second of a creation time (µs since the epoch): floor(created_at / 1 s).
inline int64_t ListSecond(TimestampUs created_at) {
  return created_at >= 0 ? created_at / 1'000'000 : -((-created_at + 999'999) / 1'000'000);
}

// An execution to read in a LoadExecutions() call.
struct ExecutionKey {
  PartitionId partition;
  ExecutionId execution_id;
};

// What the owner of a partition needs.
class PartitionStore {
 public:
  virtual ~PartitionStore() = default;

  // Takes ownership of `partition`: bumps and returns its epoch, its next offset and the unacknowledged outbox.
  virtual Result<PartitionClaim> ClaimPartition(PartitionId partition) = 0;

  // The state of `execution_id` (stored under `partition`), or nullptr if there is none.
  virtual Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(
      PartitionId partition, const ExecutionId& execution_id) = 0;

  // Atomically applies `batch` if `epoch` is current; kAborted otherwise (nothing written). Assigns outbox
  // sequence numbers into `batch->outbox`.
  virtual Status Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) = 0;

  // Commit() of each element, each atomic and fenced on its own; the i-th status answers the i-th commit.
  // Stores with a network round trip send them all at once (the orchestrator commits every partition of a
  // poll together).
  virtual std::vector<Status> CommitMany(const std::vector<PartitionCommit>& commits) {
    std::vector<Status> out;
    out.reserve(commits.size());
    for (const auto& c : commits) out.push_back(Commit(c.partition, c.epoch, c.batch));
    return out;
  }

  // CommitMany() in two halves, for an owner with other work to do while the store writes:
  // `SendCommits(commits)->Await()` is `CommitMany(commits)`. The batches must outlive Await(). Between the two
  // calls the caller may use the store (from the same thread): calls other than loads see the sent commits
  // as if they had completed (a store runs its requests in order), and LoadExecution(s) of an execution the
  // sent commits do not write returns its stored state. A store that cannot overlap (PipelinesCommits()
  // false) commits in SendCommits and keeps the statuses for Await().
  class SentCommits {
   public:
    virtual ~SentCommits() = default;
    // The i-th status answers the i-th commit. Call once.
    virtual std::vector<Status> Await() = 0;
  };
  virtual std::unique_ptr<SentCommits> SendCommits(const std::vector<PartitionCommit>& commits) {
    class Done final : public SentCommits {
     public:
      explicit Done(std::vector<Status> s) : statuses_(std::move(s)) {}
      std::vector<Status> Await() override { return std::move(statuses_); }

     private:
      std::vector<Status> statuses_;
    };
    return std::make_unique<Done>(CommitMany(commits));
  }
  virtual bool PipelinesCommits() const { return false; }

  // LoadExecution() of each key, in one round trip where the store has one.
  virtual std::vector<Result<std::shared_ptr<engine::ExecutionState>>> LoadExecutions(
      const std::vector<ExecutionKey>& keys) {
    std::vector<Result<std::shared_ptr<engine::ExecutionState>>> out;
    out.reserve(keys.size());
    for (const auto& k : keys) out.push_back(LoadExecution(k.partition, k.execution_id));
    return out;
  }

  // Drops outbox entries with seq <= `up_to_seq` once they were produced. Fenced like Commit.
  virtual Status AckOutbox(PartitionId partition, Epoch epoch, uint64_t up_to_seq) = 0;

  // Timers of `partition` due at `now`, earliest first (at most `max`).
  virtual Result<std::vector<TimerEntry>> DueTimers(PartitionId partition, TimestampUs now,
                                                    size_t max) = 0;
  // Removes a fired timer (fenced).
  virtual Status RemoveTimer(PartitionId partition, Epoch epoch, const TimerEntry& timer) = 0;
  // The earliest timer of `partition`, if any.
  virtual Result<std::optional<TimestampUs>> NextTimer(PartitionId partition) = 0;

  // Held by the partition owner while it mutates loaded states in place and commits them. Stores
  // whose readers see only committed copies (Redis, RocksDB) return an empty lock.
  virtual std::unique_lock<std::mutex> WriterLock(PartitionId partition) { return {}; }
};

// What readers of executions need (any thread, any process).
class ExecutionReader {
 public:
  virtual ~ExecutionReader() = default;

  // A consistent copy of an execution's state for readers (API, CLI, tests), or nullopt. `partition` is the
  // execution's partition (PartitionForKey of its id).
  virtual Result<std::optional<engine::ExecutionState>> ReadExecution(
      PartitionId partition, const ExecutionId& execution_id) = 0;
  // ReadExecution() without the tasks (`tasks` empty): its state, input, output... cheaply, however many
  // tasks and actions it has.
  virtual Result<std::optional<engine::ExecutionState>> ReadExecutionHead(
      PartitionId partition, const ExecutionId& execution_id) {
    BORA_ASSIGN_OR_RETURN(auto st, ReadExecution(partition, execution_id));
    if (st) {
      st->tasks.clear();
      st->index = {};
    }
    return st;
  }
  // ReadExecution() of each key (nullopt for an unknown one), in one round trip where the store has one.
  virtual std::vector<Result<std::optional<engine::ExecutionState>>> ReadExecutions(
      const std::vector<ExecutionKey>& keys) {
    std::vector<Result<std::optional<engine::ExecutionState>>> out;
    out.reserve(keys.size());
    for (const auto& k : keys) out.push_back(ReadExecution(k.partition, k.execution_id));
    return out;
  }
  // The execution holding the task execution or action execution `id` (its partition and id), or
  // nullopt when the store knows no such id. Lets the API find a task by id without reading every
  // execution; a store may not know ids written before it kept this index (the caller then scans).
  // `id` stays a bare string: one index holds both kinds.
  virtual Result<std::optional<ExecutionKey>> FindExecutionOf(const std::string& id) = 0;
  // Every execution stored under `partition` WITHOUT its tasks (`tasks` empty; for listings that show
  // executions only), in no particular order.
  virtual Result<std::vector<engine::ExecutionState>> ReadExecutionHeads(PartitionId partition) = 0;
  // Ids of all executions stored under `partition` (for listings), in no particular order.
  virtual Result<std::vector<ExecutionId>> ListExecutionIds(PartitionId partition) = 0;
  // Up to `limit` executions of every partition WITHOUT their tasks, in listing order (ListCursor), after
  // `after` when given. The Redis store reads O(limit) entries of an index per partition, not every
  // execution.
  virtual Result<std::vector<engine::ExecutionState>> ReadExecutionHeadsPage(
      const std::optional<ListCursor>& after, size_t limit) = 0;
};

// Both faces: what every implementation provides.
class StateStore : public PartitionStore, public ExecutionReader {};

}  // namespace bora::store
