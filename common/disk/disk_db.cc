#include "common/disk/disk_db.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "common/log.h"

namespace bora::disk {

namespace {
constexpr const char* kLogFamily = "log";
constexpr const char* kResourcesFamily = "resources";

bool IsNoSpace(const rocksdb::Status& s) {
  return s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos;
}

// RocksDB's own messages go to Bora's log, not to a LOG file in the data directory: a LOG file
// shares the data directory's disk, and once a line failed to fit, RocksDB (Debian builds keep
// its assertions) aborts the process on the next line it writes there, as a full disk is being
// reported. Its info lines are Bora's debug lines; warnings and errors keep their level.
class RocksLogger : public rocksdb::Logger {
 public:
  RocksLogger() : rocksdb::Logger(Level()) {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    char line[1024];
    int n = std::vsnprintf(line, sizeof(line), format, ap);
    if (n < 0) return;
    std::string_view text(line, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1));
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    if (level >= rocksdb::InfoLogLevel::ERROR_LEVEL &&
        level != rocksdb::InfoLogLevel::HEADER_LEVEL) {
      BORA_LOG_ERROR("rocksdb: {}", text);
    } else if (level == rocksdb::InfoLogLevel::WARN_LEVEL) {
      BORA_LOG_WARN("rocksdb: {}", text);
    } else {
      BORA_LOG_DEBUG("rocksdb: {}", text);
    }
  }

 private:
  // Info lines are formatted only when Bora logs at debug (RocksDB writes many).
  static rocksdb::InfoLogLevel Level() {
    return spdlog::default_logger_raw()->should_log(spdlog::level::debug)
               ? rocksdb::InfoLogLevel::INFO_LEVEL
               : rocksdb::InfoLogLevel::WARN_LEVEL;
  }
};
}  // namespace

Result<FsyncPolicy> ParseFsyncPolicy(std::string_view text) {
  if (text == "always") return FsyncPolicy::kAlways;
  if (text == "interval") return FsyncPolicy::kInterval;
  if (text == "never") return FsyncPolicy::kNever;
  return InvalidArgument("--fsync takes always, interval or never, not '" + std::string(text) +
                         "'");
}

std::string_view FsyncPolicyName(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "?";
}

Status DiskDb::FromRocks(const rocksdb::Status& s, std::string_view what) const {
  if (s.ok()) return Status::Ok();
  std::string msg = "rocksdb " + std::string(what) + " in " + options_.path + ": " + s.ToString();
  if (IsNoSpace(s)) return Unavailable("disk full: " + msg);
  if (s.IsNotFound()) return NotFound(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Unavailable(std::move(msg));
  if (s.IsInvalidArgument()) return InvalidArgument(std::move(msg));
  return Internal(std::move(msg));
}

Result<std::shared_ptr<DiskDb>> DiskDb::Open(const DiskDbOptions& options) {
  if (options.path.empty()) return InvalidArgument("the data directory is not set");
  std::shared_ptr<DiskDb> self(new DiskDb(options));
  std::error_code ec;
  if (options.create_if_missing) {
    std::filesystem::create_directories(options.path, ec);  // RocksDB makes the last level only
    if (ec) {
      return Unavailable("cannot create the data directory " + options.path + ": " + ec.message());
    }
  }
  rocksdb::DBOptions o;
  o.create_if_missing = options.create_if_missing;
  o.create_missing_column_families = true;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.max_background_jobs = 2;
  o.info_log = std::make_shared<RocksLogger>();
  // No preallocation of the write-ahead log: a write that does not fit fails there and then (disk
  // full is seen by the write that meets it, not some megabytes later, at a flush).
  o.allow_fallocate = false;
  // Write-ahead log files are deleted once every column family flushed what they hold; a family
  // that is seldom written (resources) would keep old logs alive: past this total, it is flushed.
  o.max_total_wal_size = 64 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  rocksdb::ColumnFamilyOptions cf;
  cf.OptimizeLevelStyleCompaction(64 << 20);
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, cf);
  families.emplace_back(kLogFamily, cf);
  families.emplace_back(kResourcesFamily, cf);
  // A directory may hold families this build does not know (a newer bora): open them too, so the
  // format check below is what refuses it.
  std::vector<std::string> existing;
  if (rocksdb::DB::ListColumnFamilies(o, options.path, &existing).ok()) {
    for (const auto& name : existing) {
      bool known = std::any_of(families.begin(), families.end(),
                               [&](const auto& d) { return d.name == name; });
      if (!known) families.emplace_back(name, cf);
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, options.path, families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return FailedPrecondition("data directory " + options.path +
                                " is in use by another bora process (its LOCK file is held); stop "
                                "that process or choose another --data-dir");
    }
    return self->FromRocks(s, "open");
  }
  self->db_ = raw;
  self->default_ = handles[0];
  self->state_ = handles[0];
  self->log_ = handles[1];
  self->resources_ = handles[2];
  for (size_t i = 3; i < handles.size(); ++i) raw->DestroyColumnFamilyHandle(handles[i]);

  std::string version;
  s = raw->Get(rocksdb::ReadOptions(), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
               &version);
  if (s.IsNotFound()) {
    for (auto* family : {self->default_, self->log_, self->resources_}) {
      std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), family));
      it->SeekToFirst();
      if (it->Valid()) {
        return FailedPrecondition("data directory " + options.path +
                                  " holds a RocksDB database without a Bora format version: not a "
                                  "Bora data directory");
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    BORA_RETURN_IF_ERROR(
        self->FromRocks(raw->Put(wo, rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
                                 std::to_string(kFormatVersion)),
                        "write of the format version"));
  } else if (!s.ok()) {
    return self->FromRocks(s, "read of the format version");
  } else {
    int v = 0;
    auto [p, err] = std::from_chars(version.data(), version.data() + version.size(), v);
    bool parsed = err == std::errc() && p == version.data() + version.size();
    if (!parsed || v != kFormatVersion) {
      return FailedPrecondition(
          "data directory " + options.path + " has on-disk format version '" + version +
          "'; this build reads version " + std::to_string(kFormatVersion) +
          (parsed && v > kFormatVersion ? " (written by a newer bora: upgrade bora)"
                                        : " (not a directory this bora can read)"));
    }
  }
  self->min_free_bytes_ = options.check_space ? options.min_free_bytes : 0;
  if (self->min_free_bytes_ == 0 && options.check_space) {
    struct statvfs fs {};
    if (statvfs(options.path.c_str(), &fs) == 0) {
      const uint64_t total = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
      self->min_free_bytes_ = std::min<uint64_t>(uint64_t{256} << 20, total / 20);
    }
  }
  if (options.fsync == FsyncPolicy::kInterval) {
    self->sync_thread_ = std::thread([p = self.get()] { p->SyncLoop(); });
  }
  return self;
}

DiskDb::~DiskDb() {
  {
    MutexLock lock(sync_mu_);
    stopping_ = true;
  }
  sync_cv_.NotifyAll();
  if (sync_thread_.joinable()) sync_thread_.join();
  if (db_ == nullptr) return;
  if (options_.fsync != FsyncPolicy::kNever && !needs_resume_.load()) (void)SyncLog();
  for (auto* h : {default_, log_, resources_}) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h);
  }
  (void)db_->Close();
  delete db_;
}

Status DiskDb::CheckSpace() {
  if (min_free_bytes_ == 0) return Status::Ok();
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  MutexLock lock(space_mu_);
  if (now - space_checked_ns_ >= 10'000'000 || space_checked_ns_ == 0) {
    struct statvfs fs {};
    if (statvfs(options_.path.c_str(), &fs) == 0) {
      free_bytes_ = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    }
    space_checked_ns_ = now;
  }
  if (free_bytes_ >= min_free_bytes_) return Status::Ok();
  return Unavailable("disk full: data directory " + options_.path + " has " +
                     std::to_string(free_bytes_ >> 10) + " KiB free, below the " +
                     std::to_string(min_free_bytes_ >> 10) +
                     " KiB bora keeps free; writes resume once space is freed");
}

Status DiskDb::Write(rocksdb::WriteBatch* batch, std::string_view what, bool wait_for_disk) {
  BORA_RETURN_IF_ERROR(CheckSpace());
  // RocksDB counts key comparisons and the like per thread unless told not to (a thread-local
  // lookup per comparison in the memtable: ~4% of a disk run's CPU).
  thread_local bool counters_off = [] {
    rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
    return true;
  }();
  (void)counters_off;
  if (needs_resume_.load(std::memory_order_relaxed)) {
    // A write failed for lack of space: RocksDB stopped writing until resumed.
    rocksdb::Status r = db_->Resume();
    if (!r.ok()) return FromRocks(r, std::string(what) + " (resuming after a failed write)");
    needs_resume_ = false;
    BORA_LOG_INFO("data directory {}: writing again", options_.path);
  }
  rocksdb::WriteOptions wo;
  rocksdb::Status s = db_->Write(wo, batch);
  if (!s.ok()) {
    if (s.IsIOError()) needs_resume_ = true;  // RocksDB refuses writes until resumed
    return FromRocks(s, what);
  }
  if (wait_for_disk && options_.fsync == FsyncPolicy::kAlways) return WaitDurable();
  return Status::Ok();
}

Status DiskDb::WaitDurable() {
  if (options_.fsync == FsyncPolicy::kNever) return Status::Ok();
  const uint64_t target = db_->GetLatestSequenceNumber();
  MutexLock lock(sync_mu_);
  while (true) {
    if (synced_seq_ >= target) return Status::Ok();
    if (!syncing_) break;
    sync_cv_.Wait(sync_mu_);
  }
  // This thread syncs for everyone waiting: every write up to `covering` is in the log file.
  syncing_ = true;
  const uint64_t covering = db_->GetLatestSequenceNumber();
  lock.Unlock();
  rocksdb::Status s =
      needs_resume_.load() ? rocksdb::Status::IOError("a write failed (disk full?)") : SyncLog();
  lock.Lock();
  syncing_ = false;
  if (s.ok()) synced_seq_ = std::max(synced_seq_, covering);
  sync_cv_.NotifyAll();
  if (!s.ok() && IsNoSpace(s)) needs_resume_ = true;
  return FromRocks(s, "fsync of the write-ahead log");
}

rocksdb::Status DiskDb::SyncLog() {
  // Not DB::SyncWAL: it syncs the log file beside the writers' appends, and once an append failed
  // (disk full) that file refuses any further call with an assertion (Debian's librocksdb keeps
  // them): a sync racing a failing append aborted the process. A synced write goes through the
  // write thread instead, after every append before it; RocksDB stops writes after a failed one,
  // so it never touches the failed file (and syncs every live log file).
  static constexpr std::string_view kSyncKey{"\0sync", 5};
  rocksdb::WriteBatch marker;
  rocksdb::Status s = marker.Put(default_, rocksdb::Slice(kSyncKey.data(), kSyncKey.size()), "");
  if (!s.ok()) return s;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return db_->Write(wo, &marker);
}

void DiskDb::SyncLoop() {
  MutexLock lock(sync_mu_);
  while (!stopping_) {
    sync_cv_.WaitFor(sync_mu_, options_.fsync_interval, [&] {
      sync_mu_.AssertHeld();
      return stopping_;
    });
    if (stopping_) break;
    lock.Unlock();
    Status s = WaitDurable();
    if (!s.ok()) BORA_LOG_WARN("{}", s.ToString());
    lock.Lock();
  }
}

Status DiskDb::Healthy() {
  BORA_RETURN_IF_ERROR(CheckSpace());
  if (needs_resume_.load(std::memory_order_relaxed)) {
    return Unavailable("data directory " + options_.path + ": the last write failed (disk full?)");
  }
  return Status::Ok();
}

Status DiskDb::Checkpoint(const std::string& dir) {
  rocksdb::Checkpoint* raw = nullptr;
  BORA_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_, &raw), "backup"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush 0: the memtables are flushed first, so the copy needs no log replay.
  return FromRocks(checkpoint->CreateCheckpoint(dir, 0), "backup to " + dir);
}

uint64_t DiskDb::DiskBytes() const {
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(options_.path, ec)) {
    if (entry.is_regular_file(ec)) total += entry.file_size(ec);
  }
  return total;
}

}  // namespace bora::disk
