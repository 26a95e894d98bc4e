#include "orchestrator/store/rocksdb_state_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "common/json.h"
#include "orchestrator/store/stored_state.h"

namespace bora::store {

namespace {

constexpr std::string_view kPartitionsKey{"\0partitions", 11};

void PutU16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
}
// Signed, with the sign bit flipped: big-endian byte order is then numeric order.
void PutI64(std::string& out, int64_t v) {
  PutU64(out, static_cast<uint64_t>(v) ^ (uint64_t{1} << 63));
}
// A string of a key that more follows: length-prefixed (ids are far below 64 KiB; longer ones are
// cut, which only the ordering of timers of one execution would notice).
void PutStr(std::string& out, std::string_view s) {
  const size_t n = std::min<size_t>(s.size(), 0xffff);
  PutU16(out, static_cast<uint16_t>(n));
  out.append(s.substr(0, n));
}

uint64_t GetU64(std::string_view in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}
uint32_t GetU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[at + i]);
  return v;
}
uint16_t GetU16(std::string_view in, size_t at) {
  return static_cast<uint16_t>((static_cast<unsigned char>(in[at]) << 8) |
                               static_cast<unsigned char>(in[at + 1]));
}
int64_t GetI64(std::string_view in, size_t at) {
  return static_cast<int64_t>(GetU64(in, at) ^ (uint64_t{1} << 63));
}

// "<tag><partition>"
std::string PartKey(char tag, int partition) {
  std::string k(1, tag);
  PutU32(k, static_cast<uint32_t>(partition));
  return k;
}
constexpr size_t kPartPrefix = 5;

std::string StateKey(int partition, std::string_view id) {
  return PartKey('s', partition).append(id);
}
std::string TasksPrefix(int partition, std::string_view id) {
  std::string k = PartKey('t', partition);
  PutStr(k, id);
  return k;
}
std::string OutboxKey(int partition, uint64_t seq) {
  std::string k = PartKey('o', partition);
  PutU64(k, seq);
  return k;
}
std::string TimerKey(int partition, TimestampUs at, std::string_view exec, std::string_view timer) {
  std::string k = PartKey('T', partition);
  PutI64(k, at);
  PutStr(k, exec);
  return k.append(timer);
}
std::string TimerAtKey(int partition, std::string_view exec, std::string_view timer) {
  std::string k = PartKey('U', partition);
  PutStr(k, exec);
  return k.append(timer);
}
std::string IdKey(std::string_view id) { return std::string("i").append(id); }
std::string CreatedKey(int64_t second, std::string_view id) {
  std::string k("c");
  PutI64(k, second);
  return k.append(id);
}

// An outbox entry's value: <u32 len>topic <u32 len>key value.
std::string EncodeOutbox(const OutboxEntry& e) {
  std::string v;
  v.reserve(8 + e.topic.size() + e.key.size() + e.value.size());
  PutU32(v, static_cast<uint32_t>(e.topic.size()));
  v.append(e.topic);
  PutU32(v, static_cast<uint32_t>(e.key.size()));
  v.append(e.key);
  return v.append(e.value);
}
bool DecodeOutbox(std::string_view v, OutboxEntry* e) {
  if (v.size() < 4) return false;
  const size_t topic = GetU32(v, 0);
  if (v.size() < 8 + topic) return false;
  const size_t key = GetU32(v, 4 + topic);
  if (v.size() < 8 + topic + key) return false;
  e->topic.assign(v.substr(4, topic));
  e->key.assign(v.substr(8 + topic, key));
  e->value.assign(v.substr(8 + topic + key));
  return true;
}

bool StartsWith(const rocksdb::Slice& s, std::string_view prefix) {
  return s.size() >= prefix.size() && std::string_view(s.data(), prefix.size()) == prefix;
}
std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// RocksDB's status as ours, with the directory and the operation.
Status FromRocks(const rocksdb::Status& s, const std::string& path, std::string_view what) {
  if (s.ok()) return Status::Ok();
  std::string msg = "rocksdb " + std::string(what) + " in " + path + ": " + s.ToString();
  if (s.IsNotFound()) return NotFound(std::move(msg));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) return Unavailable(std::move(msg));
  if (s.IsInvalidArgument()) return InvalidArgument(std::move(msg));
  return Internal(std::move(msg));
}

// A snapshot for the length of a read.
class Snapshot {
 public:
  explicit Snapshot(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {
    options_.snapshot = snap_;
  }
  ~Snapshot() { db_->ReleaseSnapshot(snap_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const rocksdb::ReadOptions& options() const { return options_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions options_;
};

Result<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return Internal("not an integer: '" + std::string(s) + "'");
  return v;
}

}  // namespace

// A commit being built: the write batch and, per partition, the meta and timers as the appended
// commits leave them.
struct RocksDbStateStore::Pending {
  rocksdb::WriteBatch wb;
  std::map<int, Meta> meta;
  std::map<std::string, std::optional<TimestampUs>>
      timer_at;  // TimerAtKey -> fire_at (nullopt: removed)
};

RocksDbStateStore::RocksDbStateStore(RocksDbStoreOptions options, std::unique_ptr<rocksdb::DB> db)
    : options_(std::move(options)), db_(std::move(db)) {
  for (int i = 0; i < options_.partitions; ++i)
    writer_mu_.push_back(std::make_unique<std::mutex>());
}

RocksDbStateStore::~RocksDbStateStore() = default;

Result<std::unique_ptr<RocksDbStateStore>> RocksDbStateStore::Open(
    const RocksDbStoreOptions& options) {
  if (options.partitions < 1) return InvalidArgument("a store needs at least one partition");
  if (options.path.empty()) return InvalidArgument("the state store needs a directory");
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);  // RocksDB makes the last level only
  if (ec) {
    return Unavailable("cannot create the state directory " + options.path + ": " + ec.message());
  }
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, options.path, &raw);
  if (!s.ok()) {
    // The LOCK file: another process (or another store in this one) has the directory open.
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return FailedPrecondition(
          "state directory " + options.path +
          " is in use by another bora process or store (RocksDB LOCK file): " + s.ToString());
    }
    return FromRocks(s, options.path, "open");
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string version;
  s = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
              &version);
  if (s.IsNotFound()) {
    // A new directory (nothing in it), or not ours.
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) {
      return FailedPrecondition(
          "state directory " + options.path +
          " holds a RocksDB database without a Bora format version: not a Bora state "
          "directory");
    }
    rocksdb::WriteBatch wb;
    wb.Put(rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), std::to_string(kFormatVersion));
    wb.Put(rocksdb::Slice(kPartitionsKey.data(), kPartitionsKey.size()),
           std::to_string(options.partitions));
    rocksdb::WriteOptions wo;
    wo.sync = true;
    BORA_RETURN_IF_ERROR(
        FromRocks(db->Write(wo, &wb), options.path, "write of the format version"));
  } else if (!s.ok()) {
    return FromRocks(s, options.path, "read of the format version");
  } else {
    auto v = ParseInt(version);
    if (!v.ok() || *v != kFormatVersion) {
      return FailedPrecondition(
          "state directory " + options.path + " has on-disk format version '" + version +
          "'; this build reads version " + std::to_string(kFormatVersion) +
          (v.ok() && *v > kFormatVersion ? " (written by a newer bora: upgrade bora)" : ""));
    }
    std::string partitions;
    BORA_RETURN_IF_ERROR(FromRocks(
        db->Get(rocksdb::ReadOptions(),
                rocksdb::Slice(kPartitionsKey.data(), kPartitionsKey.size()), &partitions),
        options.path, "read of the partition count"));
    auto n = ParseInt(partitions);
    if (!n.ok() || *n != options.partitions) {
      return FailedPrecondition("state directory " + options.path + " was created with " +
                                partitions + " partitions, not " +
                                std::to_string(options.partitions));
    }
  }
  return std::unique_ptr<RocksDbStateStore>(new RocksDbStateStore(options, std::move(db)));
}

Status RocksDbStateStore::CheckPartition(int partition) const {
  if (partition < 0 || partition >= options_.partitions) {
    return InvalidArgument("no partition " + std::to_string(partition) + " (the store has " +
                           std::to_string(options_.partitions) + ")");
  }
  return Status::Ok();
}

Result<RocksDbStateStore::Meta> RocksDbStateStore::ReadMeta(int partition) const {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), PartKey('m', partition), &v);
  Meta m;
  if (s.IsNotFound()) return m;
  BORA_RETURN_IF_ERROR(FromRocks(s, options_.path, "read of partition meta"));
  if (v.size() != 24)
    return Internal("state directory " + options_.path + ": bad meta of partition " +
                    std::to_string(partition));
  m.epoch = GetU64(v, 0);
  m.next_offset = static_cast<int64_t>(GetU64(v, 8));
  m.next_seq = GetU64(v, 16);
  return m;
}

namespace {
std::string EncodeMeta(uint64_t epoch, int64_t next_offset, uint64_t next_seq) {
  std::string v;
  PutU64(v, epoch);
  PutU64(v, static_cast<uint64_t>(next_offset));
  PutU64(v, next_seq);
  return v;
}
}  // namespace

Status RocksDbStateStore::CheckEpoch(int partition, const Meta& meta, uint64_t epoch) const {
  if (meta.epoch != epoch) {
    return Aborted("partition " + std::to_string(partition) + " is fenced: epoch " +
                   std::to_string(epoch) + " is stale (current " + std::to_string(meta.epoch) +
                   ")");
  }
  return Status::Ok();
}

Status RocksDbStateStore::Write(rocksdb::WriteBatch* batch, std::string_view what) const {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  return FromRocks(db_->Write(wo, batch), options_.path, what);
}

Result<PartitionClaim> RocksDbStateStore::ClaimPartition(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(*writer_mu_[static_cast<size_t>(partition)]);
  BORA_ASSIGN_OR_RETURN(Meta m, ReadMeta(partition));
  ++m.epoch;
  rocksdb::WriteBatch wb;
  wb.Put(PartKey('m', partition), EncodeMeta(m.epoch, m.next_offset, m.next_seq));
  BORA_RETURN_IF_ERROR(Write(&wb, "claim of partition " + std::to_string(partition)));
  PartitionClaim claim;
  claim.epoch = m.epoch;
  claim.next_offset = m.next_offset;
  const std::string prefix = PartKey('o', partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    OutboxEntry e;
    if (it->key().size() != kPartPrefix + 8 || !DecodeOutbox(View(it->value()), &e)) {
      return Internal("state directory " + options_.path + ": bad outbox entry in partition " +
                      std::to_string(partition));
    }
    e.seq = GetU64(View(it->key()), kPartPrefix);
    claim.outbox.push_back(std::move(e));
  }
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the outbox"));
  return claim;
}

Result<std::shared_ptr<engine::ExecutionState>> RocksDbStateStore::LoadExecution(
    int partition, const std::string& execution_id) {
  BORA_ASSIGN_OR_RETURN(auto st, ReadState(partition, execution_id, /*with_tasks=*/true));
  if (!st) return std::shared_ptr<engine::ExecutionState>();
  return std::make_shared<engine::ExecutionState>(std::move(*st));
}

Status RocksDbStateStore::AppendCommit(int partition, uint64_t epoch, CommitBatch* batch,
                                       Pending* pending) const {
  Meta& m = pending->meta[partition];
  BORA_RETURN_IF_ERROR(CheckEpoch(partition, m, epoch));
  rocksdb::WriteBatch& wb = pending->wb;
  for (const auto& d : batch->deleted) {
    const std::string key = StateKey(partition, d.execution_id);
    std::string head;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), key, &head);
    if (s.ok()) {
      BORA_ASSIGN_OR_RETURN(auto st, DecodeStoredHead(head, d.execution_id));
      wb.Delete(CreatedKey(ListSecond(st.created_at), d.execution_id));
    } else if (!s.IsNotFound()) {
      return FromRocks(s, options_.path, "read of " + d.execution_id + " to delete it");
    }
    wb.Delete(key);
    const std::string tasks = TasksPrefix(partition, d.execution_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(tasks); it->Valid() && StartsWith(it->key(), tasks); it->Next())
      wb.Delete(it->key());
    BORA_RETURN_IF_ERROR(
        FromRocks(it->status(), options_.path, "read of the tasks of " + d.execution_id));
    for (const auto& id : d.indexed_ids) wb.Delete(IdKey(id));
  }
  std::string text;
  std::string part;
  PutU32(part, static_cast<uint32_t>(partition));
  for (const auto& st : batch->states) {
    text.clear();
    st->AppendHeadJsonText(text);
    wb.Put(StateKey(partition, st->id), text);
    const std::string tasks = TasksPrefix(partition, st->id);
    std::string index_value = part + st->id;
    for (size_t t = 0; t < st->tasks.size(); ++t) {
      const engine::TaskExecution& task = st->tasks[t];
      std::string key = tasks;
      PutU32(key, static_cast<uint32_t>(t));
      text.clear();
      engine::ExecutionState::AppendTaskJsonText(task, text);
      wb.Put(key, text);
      if (!task.id.empty()) wb.Put(IdKey(task.id), index_value);
      for (const auto& a : task.actions) {
        if (!a.id.empty()) wb.Put(IdKey(a.id), index_value);
      }
    }
    wb.Put(CreatedKey(ListSecond(st->created_at), st->id), part);
  }
  m.next_offset = batch->next_offset;
  for (auto& e : batch->outbox) {
    e.seq = m.next_seq++;
    wb.Put(OutboxKey(partition, e.seq), EncodeOutbox(e));
  }
  // The fire time a timer has as of this commit (pending first, then the database).
  auto current = [&](const std::string& at_key) -> Result<std::optional<TimestampUs>> {
    auto p = pending->timer_at.find(at_key);
    if (p != pending->timer_at.end()) return p->second;
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), at_key, &v);
    if (s.IsNotFound()) return std::optional<TimestampUs>();
    BORA_RETURN_IF_ERROR(FromRocks(s, options_.path, "read of a timer"));
    if (v.size() != 8) return Internal("state directory " + options_.path + ": bad timer");
    return std::optional<TimestampUs>(GetI64(v, 0));
  };
  for (const auto& t : batch->timers_cancelled) {
    const std::string at_key = TimerAtKey(partition, t.execution_id, t.timer_id);
    BORA_ASSIGN_OR_RETURN(auto at, current(at_key));
    if (!at) continue;
    wb.Delete(TimerKey(partition, *at, t.execution_id, t.timer_id));
    wb.Delete(at_key);
    pending->timer_at[at_key] = std::nullopt;
  }
  for (const auto& t : batch->timers_set) {
    const std::string at_key = TimerAtKey(partition, t.execution_id, t.timer_id);
    BORA_ASSIGN_OR_RETURN(auto at, current(at_key));
    if (at) wb.Delete(TimerKey(partition, *at, t.execution_id, t.timer_id));
    wb.Put(TimerKey(partition, t.fire_at, t.execution_id, t.timer_id), "");
    std::string v;
    PutI64(v, t.fire_at);
    wb.Put(at_key, v);
    pending->timer_at[at_key] = t.fire_at;
  }
  wb.Put(PartKey('m', partition), EncodeMeta(m.epoch, m.next_offset, m.next_seq));
  return Status::Ok();
}

Status RocksDbStateStore::Commit(int partition, uint64_t epoch, CommitBatch* batch) {
  return CommitMany({{partition, epoch, batch}})[0];
}

std::vector<Status> RocksDbStateStore::CommitMany(const std::vector<PartitionCommit>& commits) {
  std::vector<Status> out(commits.size(), Status::Ok());
  std::set<int> partitions;
  for (size_t i = 0; i < commits.size(); ++i) {
    out[i] = CheckPartition(commits[i].partition);
    if (!out[i].ok()) continue;
    // Two commits of one partition in a call (not what the orchestrator sends): one after the
    // other.
    if (!partitions.insert(commits[i].partition).second) return StateStore::CommitMany(commits);
  }
  std::vector<std::unique_lock<std::mutex>> locks;  // in ascending partition order (std::set)
  locks.reserve(partitions.size());
  for (int p : partitions) locks.emplace_back(*writer_mu_[static_cast<size_t>(p)]);
  Pending pending;
  std::vector<size_t> appended;
  for (size_t i = 0; i < commits.size(); ++i) {
    if (!out[i].ok()) continue;
    const PartitionCommit& c = commits[i];
    auto meta = ReadMeta(c.partition);
    if (!meta.ok()) {
      out[i] = meta.status();
      continue;
    }
    pending.meta[c.partition] = *meta;
    pending.wb.SetSavePoint();
    out[i] = AppendCommit(c.partition, c.epoch, c.batch, &pending);
    if (out[i].ok()) {
      appended.push_back(i);
      (void)pending.wb.PopSavePoint();
    } else {
      (void)pending.wb.RollbackToSavePoint();  // nothing of a failed commit is written
    }
  }
  if (appended.empty()) return out;
  Status written = Write(&pending.wb, "commit");
  if (!written.ok()) {
    for (size_t i : appended) out[i] = written;
  }
  return out;
}

Status RocksDbStateStore::AckOutbox(int partition, uint64_t epoch, uint64_t up_to_seq) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(*writer_mu_[static_cast<size_t>(partition)]);
  BORA_ASSIGN_OR_RETURN(Meta m, ReadMeta(partition));
  BORA_RETURN_IF_ERROR(CheckEpoch(partition, m, epoch));
  const std::string prefix = PartKey('o', partition);
  rocksdb::WriteBatch wb;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    if (it->key().size() != kPartPrefix + 8 || GetU64(View(it->key()), kPartPrefix) > up_to_seq)
      break;
    wb.Delete(it->key());
  }
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the outbox"));
  if (wb.Count() == 0) return Status::Ok();
  return Write(&wb, "outbox acknowledgement");
}

Result<std::vector<TimerEntry>> RocksDbStateStore::DueTimers(int partition, TimestampUs now,
                                                             size_t max) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('T', partition);
  std::vector<TimerEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix) && out.size() < max;
       it->Next()) {
    std::string_view k = View(it->key());
    if (k.size() < kPartPrefix + 10)
      return Internal("state directory " + options_.path + ": bad timer key");
    const TimestampUs at = GetI64(k, kPartPrefix);
    if (at > now) break;
    const size_t len = GetU16(k, kPartPrefix + 8);
    if (k.size() < kPartPrefix + 10 + len)
      return Internal("state directory " + options_.path + ": bad timer key");
    out.push_back({std::string(k.substr(kPartPrefix + 10, len)),
                   std::string(k.substr(kPartPrefix + 10 + len)), at});
  }
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the timers"));
  return out;
}

Status RocksDbStateStore::RemoveTimer(int partition, uint64_t epoch, const TimerEntry& timer) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(*writer_mu_[static_cast<size_t>(partition)]);
  BORA_ASSIGN_OR_RETURN(Meta m, ReadMeta(partition));
  BORA_RETURN_IF_ERROR(CheckEpoch(partition, m, epoch));
  const std::string at_key = TimerAtKey(partition, timer.execution_id, timer.timer_id);
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), at_key, &v);
  if (s.IsNotFound()) return Status::Ok();
  BORA_RETURN_IF_ERROR(FromRocks(s, options_.path, "read of a timer"));
  if (v.size() != 8 || GetI64(v, 0) != timer.fire_at)
    return Status::Ok();  // set again since it fired
  rocksdb::WriteBatch wb;
  wb.Delete(TimerKey(partition, timer.fire_at, timer.execution_id, timer.timer_id));
  wb.Delete(at_key);
  return Write(&wb, "removal of a timer");
}

Result<std::optional<TimestampUs>> RocksDbStateStore::NextTimer(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('T', partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(prefix);
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the timers"));
  if (!it->Valid() || !StartsWith(it->key(), prefix) || it->key().size() < kPartPrefix + 8) {
    return std::optional<TimestampUs>();
  }
  return std::optional<TimestampUs>(GetI64(View(it->key()), kPartPrefix));
}

Result<std::optional<engine::ExecutionState>> RocksDbStateStore::ReadState(
    int partition, const std::string& execution_id, bool with_tasks) const {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  Snapshot snap(db_.get());
  std::string head;
  rocksdb::Status s = db_->Get(snap.options(), StateKey(partition, execution_id), &head);
  if (s.IsNotFound()) return std::optional<engine::ExecutionState>();
  BORA_RETURN_IF_ERROR(FromRocks(s, options_.path, "read of " + execution_id));
  if (!with_tasks) {
    BORA_ASSIGN_OR_RETURN(auto st, DecodeStoredHead(head, execution_id));
    return std::optional<engine::ExecutionState>(std::move(st));
  }
  const std::string where = "stored state of " + execution_id;
  auto json = ParseJson(head, 512);
  if (!json.ok()) return json.status().WithContext(where);
  if (!json->is_object() || !json->get_object().contains("task_count"))
    return Internal(where + ": no task_count");
  const Json& count = json->get_object().at("task_count");
  const bool good = (count.is_int64() && count.get_int64() >= 0) || count.is_uint64();
  if (!good) return Internal(where + ": bad task_count");
  const size_t n = count.is_int64() ? static_cast<size_t>(count.get_int64())
                                    : static_cast<size_t>(count.get_uint64());
  std::vector<Json> tasks;
  tasks.reserve(n);
  const std::string prefix = TasksPrefix(partition, execution_id);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap.options()));
  // Tasks beyond task_count (left by a state that had more) are not part of it.
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix) && tasks.size() < n;
       it->Next()) {
    if (it->key().size() != prefix.size() + 4 ||
        GetU32(View(it->key()), prefix.size()) != tasks.size()) {
      return Internal(where + ": task " + std::to_string(tasks.size()) + " is missing");
    }
    auto task = ParseJson(View(it->value()), 512);
    if (!task.ok())
      return task.status().WithContext(where + ", task " + std::to_string(tasks.size()));
    tasks.push_back(std::move(*task));
  }
  BORA_RETURN_IF_ERROR(
      FromRocks(it->status(), options_.path, "read of the tasks of " + execution_id));
  if (tasks.size() != n)
    return Internal(where + ": task " + std::to_string(tasks.size()) + " is missing");
  auto st = engine::ExecutionState::FromJsonParts(std::move(*json), std::move(tasks));
  if (!st.ok()) return st.status().WithContext(where);
  return std::optional<engine::ExecutionState>(std::move(*st));
}

Result<std::optional<engine::ExecutionState>> RocksDbStateStore::ReadExecution(
    int partition, const std::string& execution_id) {
  return ReadState(partition, execution_id, /*with_tasks=*/true);
}

Result<std::optional<engine::ExecutionState>> RocksDbStateStore::ReadExecutionHead(
    int partition, const std::string& execution_id) {
  return ReadState(partition, execution_id, /*with_tasks=*/false);
}

Result<std::optional<ExecutionKey>> RocksDbStateStore::FindExecutionOf(const std::string& id) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), IdKey(id), &v);
  if (s.IsNotFound()) return std::optional<ExecutionKey>();
  BORA_RETURN_IF_ERROR(FromRocks(s, options_.path, "read of the id index"));
  if (v.size() < 4)
    return Internal("state directory " + options_.path + ": bad id index entry for " + id);
  return std::optional<ExecutionKey>(ExecutionKey{static_cast<int>(GetU32(v, 0)), v.substr(4)});
}

Result<std::vector<engine::ExecutionState>> RocksDbStateStore::ReadExecutionHeads(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('s', partition);
  std::vector<engine::ExecutionState> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    const std::string id(View(it->key()).substr(prefix.size()));
    BORA_ASSIGN_OR_RETURN(auto st, DecodeStoredHead(View(it->value()), id));
    out.push_back(std::move(st));
  }
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the executions"));
  return out;
}

Result<std::vector<std::string>> RocksDbStateStore::ListExecutionIds(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('s', partition);
  std::vector<std::string> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    out.emplace_back(View(it->key()).substr(prefix.size()));
  }
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the execution ids"));
  return out;
}

Result<std::vector<engine::ExecutionState>> RocksDbStateStore::ReadExecutionHeadsPage(
    const std::optional<ListCursor>& after, size_t limit) {
  std::vector<engine::ExecutionState> out;
  if (limit == 0) return out;
  Snapshot snap(db_.get());
  const std::string from = after ? CreatedKey(after->created_s, after->id) : std::string("c");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap.options()));
  for (it->Seek(from); it->Valid() && StartsWith(it->key(), "c") && out.size() < limit;
       it->Next()) {
    std::string_view k = View(it->key());
    if (after && k == from) continue;  // the cursor itself
    if (k.size() < 9 || it->value().size() != 4) {
      return Internal("state directory " + options_.path + ": bad listing index entry");
    }
    const std::string id(k.substr(9));
    const int partition = static_cast<int>(GetU32(View(it->value()), 0));
    BORA_RETURN_IF_ERROR(CheckPartition(partition));
    std::string head;
    rocksdb::Status s = db_->Get(snap.options(), StateKey(partition, id), &head);
    if (s.IsNotFound()) continue;  // deleted since it was indexed
    BORA_RETURN_IF_ERROR(FromRocks(s, options_.path, "read of " + id));
    BORA_ASSIGN_OR_RETURN(auto st, DecodeStoredHead(head, id));
    out.push_back(std::move(st));
  }
  BORA_RETURN_IF_ERROR(FromRocks(it->status(), options_.path, "read of the listing index"));
  return out;
}

}  // namespace bora::store
