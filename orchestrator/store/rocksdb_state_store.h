#pragma once
// RocksDbStateStore: StateStore on local disk (RocksDB, one database in a directory), for the
// durable single node (issue 15). Same exactly-once contract as RedisStateStore: Commit checks the
// partition's epoch and writes {deleted executions, states, next offset, outbox entries, timer
// changes} in ONE rocksdb::WriteBatch (one WAL record: all of it survives a crash, or none of it).
// CommitMany checks each partition's epoch on its own and writes every commit that passed in one
// WriteBatch: one WAL write (and one fsync) per poll.
//
// Keys (one column family; <p> = partition as 4 bytes big-endian, <len> = 2 bytes big-endian,
// integers fixed-width big-endian, signed ones with the sign bit flipped so they sort in numeric
// order):
//   "\0format"                        on-disk format version (decimal text); a newer one is refused
//   "\0partitions"                    the partition count the directory was created with (decimal
//   text) "m" <p>                           meta: epoch u64, next_offset i64, next_seq u64 (24
//   bytes) "s" <p> <execution id>            the state's head: AppendHeadJsonText (the JSON with
//   "task_count") "t" <p> <len> <execution id> <task index u32>   one task: AppendTaskJsonText
//   (actions inside) "o" <p> <seq u64>                 an outbox entry (<len>topic <len>... see
//   EncodeOutbox in the .cc) "T" <p> <fire_at i64> <len> <execution id> <timer id>   a timer, in
//   firing order (value empty) "U" <p> <len> <execution id> <timer id>                  the same
//   timer's fire_at (to cancel / replace) "i" <task or action execution id> -> <p> <execution id>
//   FindExecutionOf's index "c" <created second i64> <execution id> -> <p>         the listing
//   index (ReadExecutionHeadsPage)
// A commit writes every task of each changed state (not only the changed ones, as the Redis store
// does).
//
// Durability (RocksDbStoreOptions::sync): with `sync` each commit returns after the WAL was
// fsync'ed, so a commit that returned survives a power loss; without it the WAL record is written
// to the OS (page cache) before the commit returns, which survives kill -9 of the process but may
// lose the last commits on a power loss or kernel crash (never a part of one: a torn WAL record is
// dropped whole on recovery).
//
// Threading: every method may be called from any thread. Writers of a partition (Claim, Commit,
// AckOutbox, RemoveTimer) are serialised by that partition's mutex, which makes the epoch check and
// the write one step; readers use RocksDB snapshots and take no lock. A second process (or a second
// store in the same process) opening the same directory fails: RocksDB locks the directory (its
// LOCK file).
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/store/state_store.h"

namespace rocksdb {
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace bora::store {

struct RocksDbStoreOptions {
  std::string path;    // the directory (created with its parents if missing)
  int partitions = 1;  // partitions of bora.events; must match what the directory was created with
  bool sync =
      true;  // fsync the WAL on every commit (see the header comment for what `false` may lose)
};

class RocksDbStateStore final : public StateStore {
 public:
  // The on-disk format this build writes and reads. A directory with another version is refused.
  static constexpr int kFormatVersion = 1;
  // The key holding the format version (for tests that fake a newer one).
  static constexpr std::string_view kFormatKey{"\0format", 7};

  static Result<std::unique_ptr<RocksDbStateStore>> Open(const RocksDbStoreOptions& options);
  ~RocksDbStateStore() override;

  Result<PartitionClaim> ClaimPartition(int partition) override;
  Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(
      int partition, const std::string& execution_id) override;
  Status Commit(int partition, uint64_t epoch, CommitBatch* batch) override;
  // One WriteBatch (one WAL write, one fsync) for every commit whose epoch is current.
  std::vector<Status> CommitMany(const std::vector<PartitionCommit>& commits) override;
  Status AckOutbox(int partition, uint64_t epoch, uint64_t up_to_seq) override;
  Result<std::vector<TimerEntry>> DueTimers(int partition, TimestampUs now, size_t max) override;
  Status RemoveTimer(int partition, uint64_t epoch, const TimerEntry& timer) override;
  Result<std::optional<TimestampUs>> NextTimer(int partition) override;
  Result<std::optional<engine::ExecutionState>> ReadExecution(
      int partition, const std::string& execution_id) override;
  // One Get of the head: no task is read.
  Result<std::optional<engine::ExecutionState>> ReadExecutionHead(
      int partition, const std::string& execution_id) override;
  Result<std::optional<ExecutionKey>> FindExecutionOf(const std::string& id) override;
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeads(int partition) override;
  Result<std::vector<std::string>> ListExecutionIds(int partition) override;
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

  RocksDbStateStore(RocksDbStoreOptions options, std::unique_ptr<rocksdb::DB> db);
  Status CheckPartition(int partition) const;
  Result<Meta> ReadMeta(int partition) const;
  Status CheckEpoch(int partition, const Meta& meta, uint64_t epoch) const;
  // Appends `batch` (fenced by `epoch` against `pending`'s meta) to `pending`'s write batch.
  Status AppendCommit(int partition, uint64_t epoch, CommitBatch* batch, Pending* pending) const;
  // Writes `batch` (sync per the options); errors carry the path and `what`.
  Status Write(rocksdb::WriteBatch* batch, std::string_view what) const;
  Result<std::optional<engine::ExecutionState>> ReadState(int partition,
                                                          const std::string& execution_id,
                                                          bool with_tasks) const;

  RocksDbStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  // One per partition: held by every writer of the partition across its epoch check and its write.
  std::vector<std::unique_ptr<std::mutex>> writer_mu_;
};

}  // namespace bora::store
