#pragma once
// RocksDbStateStore: StateStore on local disk, in the default column family of a DiskDb
// (common/disk/disk_db.h: one RocksDB database per data directory, shared with the bus journal and
// the resource store), for the durable single node (`bora serve --data-dir`). Same exactly-once
// contract as RedisStateStore: Commit checks the partition's epoch and writes {deleted executions,
// states, next offset, outbox entries, timer changes} in ONE rocksdb::WriteBatch (one WAL record:
// all of it survives a crash, or none of it). CommitMany checks each partition's epoch on its own
// and writes every commit that passed in one WriteBatch: one WAL write (and one fsync) per poll.
//
// Keys (<p> = partition as 4 bytes big-endian, <len> = 2 bytes big-endian, integers fixed-width
// big-endian, signed ones with the sign bit flipped so they sort in numeric order):
//   "\0format"                 on-disk format version (DiskDb)
//   "\0partitions"             the partition count the directory was created with (decimal text)
//   "m" <p>                    meta: epoch u64, next_offset i64, next_seq u64 (24 bytes)
//   "s" <p> <execution id>     the state's head: AppendHeadJsonText (the JSON with "task_count")
//   "t" <p> <len> <execution id> <task u32>          a task of at most one action execution, whole
//                                                    (AppendTaskJsonText), or a task's head
//                                                    (AppendTaskHeadJsonText: "action_count" in
//                                                    place of its actions, which have keys of their
//                                                    own)
//   "t" <p> <len> <execution id> <task u32> 'a' <action u32>   one action execution
//   "t" <p> <len> <execution id> <task u32> 'i'       a with-items task's items (set once)
//   "o" <p> <seq u64>          an outbox entry (<u32 len>topic <u32 len>key value)
//   "T" <p> <fire_at i64> <len> <execution id> <timer id>   a timer, in firing order (value empty)
//   "U" <p> <len> <execution id> <timer id>                  the same timer's fire_at
//   "i" <task or action execution id> -> <p> <execution id>  FindExecutionOf's index
//   "c" <created second i64> <execution id> -> <p>           the listing index
// A commit writes the state's head and only what changed since this store last wrote the
// execution: task heads whose revision moved (TaskExecution::revision), items whose items_revision
// moved, the actions the engine listed as changed (TaskExecution::changed_actions) and new ones; a
// with-items task of 100,000 items costs a commit the items that moved. What it wrote is remembered
// per execution (revisions and action counts) from the partition's claim on, and forgotten when the
// execution finishes, is loaded again, a commit of it fails, or the partition passes
// kMaxKnownPerPartition executions; an execution the store does not know is written whole. (The
// Redis store does the same, plus digests; BORA_VERIFY_REVISIONS checks the engine's lists there.)
//
// Durability: as the DiskDb's FsyncPolicy (a store opened on its own directory: `sync` true is
// kAlways, false kNever). Without an fsync a commit's WAL record is in the OS when Commit returns,
// which survives kill -9 of the process; a power loss may lose the last commits, never a part of
// one (a torn WAL record is dropped whole on recovery).
//
// Threading: every method may be called from any thread. Writers of a partition (Claim, Commit,
// AckOutbox, RemoveTimer) are serialised by that partition's mutex, which makes the epoch check and
// the write one step; readers use RocksDB snapshots and take no lock. A second process opening the
// same directory fails (DiskDb: RocksDB's LOCK file).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/thread_annotations.h"
#include "orchestrator/store/state_store.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace bora::disk {
class DiskDb;
}

namespace bora::store {

struct RocksDbStoreOptions {
  // The database to use (shared with the bus and resources); when null, `path` is opened alone.
  std::shared_ptr<disk::DiskDb> db;
  std::string path;    // the directory (created with its parents if missing), without `db`
  int partitions = 1;  // partitions of bora.events; must match what the directory was created with
  bool sync = true;    // without `db`: fsync every commit (see above for what `false` may lose)
};

class RocksDbStateStore final : public StateStore {
 public:
  static Result<std::unique_ptr<RocksDbStateStore>> Open(const RocksDbStoreOptions& options);
  ~RocksDbStateStore() override;

  Result<PartitionClaim> ClaimPartition(PartitionId partition) override;
  Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(
      PartitionId partition, const ExecutionId& execution_id) override;
  Status Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) override;
  // One WriteBatch (one WAL write, one fsync) for every commit whose epoch is current.
  std::vector<Status> CommitMany(const std::vector<PartitionCommit>& commits) override;
  Status AckOutbox(PartitionId partition, Epoch epoch, uint64_t up_to_seq) override;
  Result<std::vector<TimerEntry>> DueTimers(PartitionId partition, TimestampUs now,
                                            size_t max) override;
  Status RemoveTimer(PartitionId partition, Epoch epoch, const TimerEntry& timer) override;
  Result<std::optional<TimestampUs>> NextTimer(PartitionId partition) override;
  Result<std::optional<engine::ExecutionState>> ReadExecution(
      PartitionId partition, const ExecutionId& execution_id) override;
  // One Get of the head: no task is read.
  Result<std::optional<engine::ExecutionState>> ReadExecutionHead(
      PartitionId partition, const ExecutionId& execution_id) override;
  Result<std::optional<ExecutionKey>> FindExecutionOf(const std::string& id) override;
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeads(PartitionId partition) override;
  Result<std::vector<ExecutionId>> ListExecutionIds(PartitionId partition) override;
  // Reads `limit` entries of the listing index from the cursor on, then their heads.
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeadsPage(
      const std::optional<ListCursor>& after, size_t limit) override;

 private:
  struct Meta {
    uint64_t epoch = 0;
    int64_t next_offset = 0;
    uint64_t next_seq = 1;
  };
  struct Pending;  // a commit being built (in the .cc)
  // What the store last wrote of an execution's task.
  struct KnownTask {
    uint64_t revision = 0;
    uint64_t items_revision = 0;
    size_t actions = 0;  // action executions written
    bool whole = false;  // written as one key, its actions inside
  };
  struct KnownExecution {
    std::vector<KnownTask> tasks;
  };
  static constexpr size_t kMaxKnownPerPartition = 100'000;

  RocksDbStateStore(RocksDbStoreOptions options, std::shared_ptr<disk::DiskDb> disk);
  Status CheckPartition(int partition) const;
  Result<Meta> ReadMeta(int partition) const;
  Status CheckEpoch(int partition, const Meta& meta, Epoch epoch) const;
  // Appends `batch` (fenced by `epoch` against `pending`'s meta) to `pending`'s write batch.
  Status AppendCommit(int partition, Epoch epoch, CommitBatch* batch, Pending* pending) const;
  // Writes `batch` (sync per the options); errors carry the path and `what`.
  Status Write(rocksdb::WriteBatch* batch, std::string_view what) const;
  Result<std::optional<engine::ExecutionState>> ReadState(int partition,
                                                          const std::string& execution_id,
                                                          bool with_tasks) const;

  RocksDbStoreOptions options_;
  std::shared_ptr<disk::DiskDb> disk_;
  rocksdb::DB* db_;  // disk_->db()
  // One per partition: held by every writer of the partition across its epoch check and its write.
  // (Indexed by partition, so nothing names them in a GUARDED_BY: the data they guard is on disk.)
  std::vector<std::unique_ptr<Mutex>> writer_mu_;
  mutable Mutex known_mu_;
  // Per partition: execution id -> what this store last wrote of it.
  mutable std::vector<std::unordered_map<std::string, KnownExecution>> known_ GUARDED_BY(known_mu_);
};

}  // namespace bora::store
