#pragma once
// DiskDb: the durable single node's one RocksDB database in a directory (`bora serve --data-dir`),
// shared by the bus journal (column family "log"), the state store (the default column family) and
// the resource store ("resources"), so every write of the process goes through ONE write-ahead log:
// whatever survives a crash is a prefix of the writes, in order (a commit never survives without
// the messages it consumed, a trim never without the commit that allowed it).
//
// What it adds to RocksDB:
//  - the directory's lock with a message that names it (a second process is refused, never let in);
//  - the on-disk format version ("\0format" in the default column family): a directory written by
//    another version is refused with what to do, never read wrong;
//  - the fsync policy (FsyncPolicy) and a group sync: threads that need their writes on disk share
//    one fsync (WaitDurable);
//  - disk full: a write that fails for lack of space is kUnavailable "disk full: ..." and the
//  database
//    is resumed on the next write, so the process goes on once space returns;
//  - an online copy (Checkpoint: hard links where it can) for `bora admin backup`.
//
// Torn tail: RocksDB replays the write-ahead log up to the last complete record (point-in-time
// recovery): a process killed mid-write, or a log cut short, recovers to the last complete write.
//
// Thread-safety: every method may be called from any thread.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Status;
class WriteBatch;
}  // namespace rocksdb

namespace bora::disk {

// When writes reach the disk itself (fsync of the write-ahead log). Every policy survives kill -9
// of the process (a write is in the OS before it returns); they differ on a power loss or kernel
// crash.
enum class FsyncPolicy {
  kAlways,    // every write is fsync'ed before it returns (concurrent writers share one fsync)
  kInterval,  // a background fsync every `fsync_interval`; acknowledgements (API 201/202) fsync
              // first
  kNever,     // the OS writes back when it likes; nothing waits for the disk
};
// "always" | "interval" | "never".
Result<FsyncPolicy> ParseFsyncPolicy(std::string_view text);
std::string_view FsyncPolicyName(FsyncPolicy policy);

struct DiskDbOptions {
  std::string path;  // the directory (created with its parents if missing)
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{10};
  bool create_if_missing = true;
  // Writes are refused below this much free space; 0: the smaller of 256 MiB and 5% of the file
  // system.
  uint64_t min_free_bytes = 0;
  // false: no check of free space of Bora's own; writes meet a full disk in RocksDB (for tests of
  // that path, which a write between two checks can take too).
  bool check_space = true;
};

class DiskDb {
 public:
  // The on-disk format this build writes and reads.
  static constexpr int kFormatVersion = 1;
  static constexpr std::string_view kFormatKey{"\0format", 7};

  static Result<std::shared_ptr<DiskDb>> Open(const DiskDbOptions& options);
  ~DiskDb();
  DiskDb(const DiskDb&) = delete;
  DiskDb& operator=(const DiskDb&) = delete;

  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* state() const { return state_; }
  rocksdb::ColumnFamilyHandle* log() const { return log_; }
  rocksdb::ColumnFamilyHandle* resources() const { return resources_; }
  const std::string& path() const { return options_.path; }
  FsyncPolicy fsync() const { return options_.fsync; }

  // Writes `batch` atomically. With FsyncPolicy::kAlways it is on disk when this returns (unless
  // `wait_for_disk` is false: the caller calls WaitDurable later, e.g. once it released a lock);
  // otherwise in the OS. `what` names the operation in errors.
  Status Write(rocksdb::WriteBatch* batch, std::string_view what, bool wait_for_disk = true);
  // Waits until every write that returned before this call is on disk (one fsync shared by the
  // threads waiting; kNever: returns at once). What an acknowledgement waits for.
  Status WaitDurable() EXCLUDES(sync_mu_);
  // RocksDB's status as ours, naming the directory and `what` (kUnavailable "disk full" for lack of
  // space).
  Status FromRocks(const rocksdb::Status& s, std::string_view what) const;
  // kUnavailable while writes are refused for lack of space, or the last write failed and no write
  // has succeeded since.
  Status Healthy();
  // A consistent copy of the database in `dir` (which must not exist), taken while it runs.
  Status Checkpoint(const std::string& dir);
  // Bytes of the directory's files (SST and logs), as RocksDB counts them.
  uint64_t DiskBytes() const;

 private:
  explicit DiskDb(DiskDbOptions options) : options_(std::move(options)) {}
  void SyncLoop() EXCLUDES(sync_mu_);
  // Puts every write so far on disk (a synced write of a marker key).
  rocksdb::Status SyncLog();
  // kUnavailable "disk full: ..." while the file system has less than min_free_bytes free (a
  // statvfs at most every 10 ms).
  Status CheckSpace() EXCLUDES(space_mu_);

  DiskDbOptions options_;
  rocksdb::DB* db_ = nullptr;  // owned (deleted after the handles)
  rocksdb::ColumnFamilyHandle* state_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_ = nullptr;
  rocksdb::ColumnFamilyHandle* resources_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_ = nullptr;

  Mutex sync_mu_;
  CondVar sync_cv_;
  bool syncing_ GUARDED_BY(sync_mu_) = false;     // a thread is in SyncLog
  uint64_t synced_seq_ GUARDED_BY(sync_mu_) = 0;  // writes up to this sequence are on disk
  bool stopping_ GUARDED_BY(sync_mu_) = false;
  std::atomic<bool> needs_resume_{false};  // a write failed for lack of space
  uint64_t min_free_bytes_ = 0;            // resolved at Open
  Mutex space_mu_;
  int64_t space_checked_ns_ GUARDED_BY(space_mu_) = 0;  // steady clock of the last statvfs
  uint64_t free_bytes_ GUARDED_BY(space_mu_) = 0;       // what it found
  std::thread sync_thread_;                // FsyncPolicy::kInterval
};

}  // namespace bora::disk
