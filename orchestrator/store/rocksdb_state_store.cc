#include "orchestrator/store/rocksdb_state_store.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "common/disk/disk_db.h"
#include "common/disk/key_encoding.h"
#include "common/json.h"
#include "orchestrator/store/stored_state.h"

namespace bora::store {

namespace {

using disk::GetI64;
using disk::GetU16;
using disk::GetU32;
using disk::GetU64;
using disk::PutI64;
using disk::PutStr;
using disk::PutU32;
using disk::PutU64;

constexpr std::string_view kPartitionsKey{"\0partitions", 11};

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

// The same batch with its entries in key order (entries of one key keep their order): RocksDB's
// memtable inserts keys that follow each other from where the last one went, so a sorted batch
// costs far fewer key comparisons than one in the order the commit built it.
rocksdb::WriteBatch SortedBatch(const rocksdb::WriteBatch& batch) {
  struct Entry {
    bool put;
    rocksdb::Slice key, value;
  };
  struct Collect : rocksdb::WriteBatch::Handler {
    std::vector<Entry> entries;
    void Put(const rocksdb::Slice& k, const rocksdb::Slice& v) override {
      entries.push_back({true, k, v});
    }
    void Delete(const rocksdb::Slice& k) override { entries.push_back({false, k, {}}); }
  } c;
  (void)batch.Iterate(&c);
  std::stable_sort(c.entries.begin(), c.entries.end(),
                   [](const Entry& a, const Entry& b) { return a.key.compare(b.key) < 0; });
  rocksdb::WriteBatch out(batch.GetDataSize() + 64);
  for (const auto& e : c.entries) {
    if (e.put) {
      out.Put(e.key, e.value);
    } else {
      out.Delete(e.key);
    }
  }
  return out;
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
  // What each appended commit writes of each execution (nullopt: forget it).
  struct Written {
    int partition = 0;
    std::string execution_id;
    std::optional<KnownExecution> state;
  };
  std::vector<Written> written;
  std::map<int, Meta> meta;
  std::map<std::string, std::optional<TimestampUs>>
      timer_at;  // TimerAtKey -> fire_at (nullopt: removed)
};

RocksDbStateStore::RocksDbStateStore(RocksDbStoreOptions options,
                                     std::shared_ptr<disk::DiskDb> disk)
    : options_(std::move(options)), disk_(std::move(disk)), db_(disk_->db()) {
  for (int i = 0; i < options_.partitions; ++i) writer_mu_.push_back(std::make_unique<Mutex>());
  known_.resize(static_cast<size_t>(options_.partitions));
}

RocksDbStateStore::~RocksDbStateStore() = default;

Result<std::unique_ptr<RocksDbStateStore>> RocksDbStateStore::Open(
    const RocksDbStoreOptions& options) {
  if (options.partitions < 1) return InvalidArgument("a store needs at least one partition");
  std::shared_ptr<disk::DiskDb> disk = options.db;
  if (!disk) {
    if (options.path.empty()) return InvalidArgument("the state store needs a directory");
    disk::DiskDbOptions o;
    o.path = options.path;
    o.fsync = options.sync ? disk::FsyncPolicy::kAlways : disk::FsyncPolicy::kNever;
    BORA_ASSIGN_OR_RETURN(disk, disk::DiskDb::Open(o));
  }
  rocksdb::DB* db = disk->db();
  const rocksdb::Slice partitions_key(kPartitionsKey.data(), kPartitionsKey.size());
  std::string partitions;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), partitions_key, &partitions);
  if (s.IsNotFound()) {
    rocksdb::WriteBatch wb;
    wb.Put(partitions_key, std::to_string(options.partitions));
    BORA_RETURN_IF_ERROR(disk->Write(&wb, "write of the partition count"));
    BORA_RETURN_IF_ERROR(disk->WaitDurable());
  } else {
    BORA_RETURN_IF_ERROR(disk->FromRocks(s, "read of the partition count"));
    auto n = ParseInt(partitions);
    if (!n.ok() || *n != options.partitions) {
      return FailedPrecondition("data directory " + disk->path() + " was created with " +
                                partitions + " partitions, not " +
                                std::to_string(options.partitions));
    }
  }
  RocksDbStoreOptions kept = options;
  kept.path = disk->path();
  return std::unique_ptr<RocksDbStateStore>(new RocksDbStateStore(kept, std::move(disk)));
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
  BORA_RETURN_IF_ERROR(disk_->FromRocks(s, "read of partition meta"));
  if (v.size() != 24)
    return Internal("data directory " + options_.path + ": bad meta of partition " +
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

Status RocksDbStateStore::CheckEpoch(int partition, const Meta& meta, Epoch epoch) const {
  if (meta.epoch != epoch.value()) {
    return Aborted("partition " + std::to_string(partition) + " is fenced: epoch " +
                   std::to_string(epoch.value()) + " is stale (current " +
                   std::to_string(meta.epoch) + ")");
  }
  return Status::Ok();
}

Status RocksDbStateStore::Write(rocksdb::WriteBatch* batch, std::string_view what) const {
  return disk_->Write(batch, what);
}

Result<PartitionClaim> RocksDbStateStore::ClaimPartition(PartitionId partition_id) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  MutexLock lock(*writer_mu_[static_cast<size_t>(partition)]);
  BORA_ASSIGN_OR_RETURN(Meta m, ReadMeta(partition));
  ++m.epoch;
  rocksdb::WriteBatch wb;
  wb.Put(PartKey('m', partition), EncodeMeta(m.epoch, m.next_offset, m.next_seq));
  BORA_RETURN_IF_ERROR(Write(&wb, "claim of partition " + std::to_string(partition)));
  {
    MutexLock known_lock(known_mu_);
    known_[static_cast<size_t>(partition)].clear();
  }
  PartitionClaim claim;
  claim.epoch = Epoch(m.epoch);
  claim.next_offset = m.next_offset;
  const std::string prefix = PartKey('o', partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    OutboxEntry e;
    if (it->key().size() != kPartPrefix + 8 || !DecodeOutbox(View(it->value()), &e)) {
      return Internal("data directory " + options_.path + ": bad outbox entry in partition " +
                      std::to_string(partition));
    }
    e.seq = GetU64(View(it->key()), kPartPrefix);
    claim.outbox.push_back(std::move(e));
  }
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the outbox"));
  return claim;
}

Result<std::shared_ptr<engine::ExecutionState>> RocksDbStateStore::LoadExecution(
    PartitionId partition_id, const ExecutionId& execution_id) {
  const int partition = partition_id.value();
  if (CheckPartition(partition).ok()) {
    MutexLock known_lock(known_mu_);  // loaded states carry no revisions: write them whole
    known_[static_cast<size_t>(partition)].erase(execution_id.value());
  }
  BORA_ASSIGN_OR_RETURN(auto st, ReadState(partition, execution_id.value(), /*with_tasks=*/true));
  if (!st) return std::shared_ptr<engine::ExecutionState>();
  return std::make_shared<engine::ExecutionState>(std::move(*st));
}

Status RocksDbStateStore::AppendCommit(int partition, Epoch epoch, CommitBatch* batch,
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
      return disk_->FromRocks(s, "read of " + d.execution_id + " to delete it");
    }
    wb.Delete(key);
    const std::string tasks = TasksPrefix(partition, d.execution_id);
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(tasks); it->Valid() && StartsWith(it->key(), tasks); it->Next())
      wb.Delete(it->key());
    BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the tasks of " + d.execution_id));
    for (const auto& id : d.indexed_ids) wb.Delete(IdKey(id));
  }
  std::string text;
  std::string part;
  PutU32(part, static_cast<uint32_t>(partition));
  MutexLock known_lock(known_mu_);
  auto& known = known_[static_cast<size_t>(partition)];
  for (const auto& d : batch->deleted) {
    pending->written.push_back({partition, d.execution_id, std::nullopt});
  }
  for (const auto& st : batch->states) {
    text.clear();
    st->AppendHeadJsonText(text);
    wb.Put(StateKey(partition, st->id), text);
    // Only what changed since this store last wrote the execution (everything when it does not
    // know it: first write, after a claim, a load or a failed commit).
    auto it = known.find(st->id);
    const KnownExecution* before = it == known.end() ? nullptr : &it->second;
    for (const auto& d : batch->deleted) {
      if (d.execution_id == st->id) before = nullptr;  // deleted first: a new execution of that id
    }
    const std::string tasks = TasksPrefix(partition, st->id);
    const std::string index_value = part + st->id;
    KnownExecution now;
    now.tasks.reserve(st->tasks.size());
    for (size_t t = 0; t < st->tasks.size(); ++t) {
      const engine::TaskExecution& task = st->tasks[t];
      const KnownTask* kt =
          before != nullptr && t < before->tasks.size() ? &before->tasks[t] : nullptr;
      KnownTask& nt = now.tasks.emplace_back();
      nt.revision = task.revision;
      nt.items_revision = task.with_items.items_revision;
      nt.actions = task.actions.size();
      std::string key = tasks;
      PutU32(key, static_cast<uint32_t>(t));
      if (kt == nullptr && !task.id.empty()) wb.Put(IdKey(task.id), index_value);
      const size_t known_actions = kt != nullptr ? kt->actions : 0;
      // A task of at most one action execution (most tasks) is one key, its action inside: a step
      // of a chain writes two keys, not four.
      nt.whole = task.actions.size() <= 1 && !engine::ExecutionState::ItemsSplit(task);
      if (nt.whole) {
        const bool changed = kt == nullptr || !kt->whole || kt->revision != task.revision ||
                             task.revision == 0 || !task.changed_actions.empty() ||
                             task.all_actions_changed || task.actions.size() != kt->actions;
        if (changed) {
          text.clear();
          engine::ExecutionState::AppendTaskJsonText(task, text);
          wb.Put(key, text);
        }
        for (size_t a = known_actions; a < task.actions.size(); ++a) {
          if (!task.actions[a].id.empty()) wb.Put(IdKey(task.actions[a].id), index_value);
        }
        continue;
      }
      // Split: a head ("action_count" in place of the actions), the items, one key per action.
      const bool known_split = kt != nullptr && !kt->whole;
      if (!known_split || kt->revision != task.revision || task.revision == 0) {
        text.clear();
        engine::ExecutionState::AppendTaskHeadJsonText(task, text);
        wb.Put(key, text);
      }
      if (engine::ExecutionState::ItemsSplit(task) &&
          (!known_split || kt->items_revision != nt.items_revision || nt.items_revision == 0)) {
        text.clear();
        engine::ExecutionState::AppendItemsJsonText(task, text);
        wb.Put(key + 'i', text);
      }
      auto put_action = [&](size_t a) {
        std::string ak = key + 'a';
        PutU32(ak, static_cast<uint32_t>(a));
        text.clear();
        engine::ExecutionState::AppendActionJsonText(task.actions[a], text);
        wb.Put(ak, text);
      };
      const bool delta =
          known_split && !task.all_actions_changed && task.actions.size() >= kt->actions;
      size_t first_new = 0;
      if (delta) {
        for (uint32_t a : task.changed_actions) {
          if (a < kt->actions) put_action(a);  // (a repeated index is written twice: harmless)
        }
        first_new = kt->actions;
      }
      for (size_t a = first_new; a < task.actions.size(); ++a) put_action(a);
      for (size_t a = known_actions; a < task.actions.size(); ++a) {
        if (!task.actions[a].id.empty()) wb.Put(IdKey(task.actions[a].id), index_value);
      }
    }
    if (before == nullptr) wb.Put(CreatedKey(ListSecond(st->created_at), st->id), part);
    const bool final_state = st->state == engine::State::kSuccess ||
                             st->state == engine::State::kError ||
                             st->state == engine::State::kCancelled;
    // A finished execution is forgotten (a later commit of it writes it whole).
    pending->written.push_back(
        {partition, st->id, final_state ? std::nullopt : std::optional(std::move(now))});
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
    BORA_RETURN_IF_ERROR(disk_->FromRocks(s, "read of a timer"));
    if (v.size() != 8) return Internal("data directory " + options_.path + ": bad timer");
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

Status RocksDbStateStore::Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) {
  return CommitMany({{partition, epoch, batch}})[0];
}

std::vector<Status> RocksDbStateStore::CommitMany(const std::vector<PartitionCommit>& commits) {
  std::vector<Status> out(commits.size(), Status::Ok());
  std::set<int> partitions;
  for (size_t i = 0; i < commits.size(); ++i) {
    out[i] = CheckPartition(commits[i].partition.value());
    if (!out[i].ok()) continue;
    // Two commits of one partition in a call (not what the orchestrator sends): one after the
    // other.
    if (!partitions.insert(commits[i].partition.value()).second) {
      return StateStore::CommitMany(commits);
    }
  }
  // In ascending partition order (std::set). A variable number of locks: std::unique_lock on
  // native(), which the analysis does not follow (these mutexes guard no annotated member).
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(partitions.size());
  for (int p : partitions) locks.emplace_back(writer_mu_[static_cast<size_t>(p)]->native());
  Pending pending;
  std::vector<size_t> appended;
  for (size_t i = 0; i < commits.size(); ++i) {
    if (!out[i].ok()) continue;
    const PartitionCommit& c = commits[i];
    auto meta = ReadMeta(c.partition.value());
    if (!meta.ok()) {
      out[i] = meta.status();
      continue;
    }
    pending.meta[c.partition.value()] = *meta;
    pending.wb.SetSavePoint();
    const size_t written_before = pending.written.size();
    out[i] = AppendCommit(c.partition.value(), c.epoch, c.batch, &pending);
    if (out[i].ok()) {
      appended.push_back(i);
      (void)pending.wb.PopSavePoint();
    } else {
      (void)pending.wb.RollbackToSavePoint();  // nothing of a failed commit is written
      pending.written.resize(written_before);
    }
  }
  Status written = Status::Ok();
  if (!appended.empty()) {
    rocksdb::WriteBatch sorted = SortedBatch(pending.wb);
    written = Write(&sorted, "commit");
  }
  if (!written.ok()) {
    for (size_t i : appended) out[i] = written;
  }
  // What a written commit wrote becomes what the store knows; a failed commit's executions are
  // forgotten (the next commit writes them whole).
  MutexLock known_lock(known_mu_);
  for (auto& w : pending.written) {
    auto& known = known_[static_cast<size_t>(w.partition)];
    if (written.ok() && w.state) {
      if (known.size() >= kMaxKnownPerPartition && !known.contains(w.execution_id)) known.clear();
      known[w.execution_id] = std::move(*w.state);
    } else {
      known.erase(w.execution_id);
    }
  }
  // Commits refused (fenced...) after appending nothing: forget their executions too.
  for (size_t i = 0; i < commits.size(); ++i) {
    if (out[i].ok() || commits[i].batch == nullptr ||
        !CheckPartition(commits[i].partition.value()).ok()) {
      continue;
    }
    auto& known = known_[static_cast<size_t>(commits[i].partition.value())];
    for (const auto& st : commits[i].batch->states) known.erase(st->id);
  }
  return out;
}

Status RocksDbStateStore::AckOutbox(PartitionId partition_id, Epoch epoch, uint64_t up_to_seq) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  MutexLock lock(*writer_mu_[static_cast<size_t>(partition)]);
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
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the outbox"));
  if (wb.Count() == 0) return Status::Ok();
  return Write(&wb, "outbox acknowledgement");
}

Result<std::vector<TimerEntry>> RocksDbStateStore::DueTimers(PartitionId partition_id,
                                                             TimestampUs now, size_t max) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('T', partition);
  std::vector<TimerEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix) && out.size() < max;
       it->Next()) {
    std::string_view k = View(it->key());
    if (k.size() < kPartPrefix + 10)
      return Internal("data directory " + options_.path + ": bad timer key");
    const TimestampUs at = GetI64(k, kPartPrefix);
    if (at > now) break;
    const size_t len = GetU16(k, kPartPrefix + 8);
    if (k.size() < kPartPrefix + 10 + len)
      return Internal("data directory " + options_.path + ": bad timer key");
    out.push_back({std::string(k.substr(kPartPrefix + 10, len)),
                   std::string(k.substr(kPartPrefix + 10 + len)), at});
  }
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the timers"));
  return out;
}

Status RocksDbStateStore::RemoveTimer(PartitionId partition_id, Epoch epoch,
                                      const TimerEntry& timer) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  MutexLock lock(*writer_mu_[static_cast<size_t>(partition)]);
  BORA_ASSIGN_OR_RETURN(Meta m, ReadMeta(partition));
  BORA_RETURN_IF_ERROR(CheckEpoch(partition, m, epoch));
  const std::string at_key = TimerAtKey(partition, timer.execution_id, timer.timer_id);
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), at_key, &v);
  if (s.IsNotFound()) return Status::Ok();
  BORA_RETURN_IF_ERROR(disk_->FromRocks(s, "read of a timer"));
  if (v.size() != 8 || GetI64(v, 0) != timer.fire_at)
    return Status::Ok();  // set again since it fired
  rocksdb::WriteBatch wb;
  wb.Delete(TimerKey(partition, timer.fire_at, timer.execution_id, timer.timer_id));
  wb.Delete(at_key);
  return Write(&wb, "removal of a timer");
}

Result<std::optional<TimestampUs>> RocksDbStateStore::NextTimer(PartitionId partition_id) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('T', partition);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->Seek(prefix);
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the timers"));
  if (!it->Valid() || !StartsWith(it->key(), prefix) || it->key().size() < kPartPrefix + 8) {
    return std::optional<TimestampUs>();
  }
  return std::optional<TimestampUs>(GetI64(View(it->key()), kPartPrefix));
}

Result<std::optional<engine::ExecutionState>> RocksDbStateStore::ReadState(
    int partition, const std::string& execution_id, bool with_tasks) const {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  Snapshot snap(db_);
  std::string head;
  rocksdb::Status s = db_->Get(snap.options(), StateKey(partition, execution_id), &head);
  if (s.IsNotFound()) return std::optional<engine::ExecutionState>();
  BORA_RETURN_IF_ERROR(disk_->FromRocks(s, "read of " + execution_id));
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
  // Per task, in key order: its head ("t"... <task>: a whole task, or a head with "action_count"),
  // then its items (<task> 'i') and its actions (<task> 'a' <action>). Keys of tasks beyond
  // task_count (left by a state that had more) and of actions beyond action_count are not part of
  // it.
  std::optional<Json> head_json;
  std::optional<Json> items;
  std::vector<Json> actions;
  bool gap = false;
  auto finish_task = [&]() -> Status {
    if (!head_json) return Status::Ok();
    const std::string at = where + ", task " + std::to_string(tasks.size());
    Json task = std::move(*head_json);
    head_json.reset();
    if (task.is_object() && task.get_object().contains("action_count")) {
      const Json& c = task.get_object().at("action_count");
      const int64_t m = c.is_int64()    ? c.get_int64()
                        : c.is_uint64() ? static_cast<int64_t>(c.get_uint64())
                                        : -1;
      if (m < 0) return Internal(at + ": bad action_count");
      if (actions.size() < static_cast<size_t>(m)) {
        return Internal(at + ": action " + std::to_string(actions.size()) + " is missing");
      }
      actions.resize(static_cast<size_t>(m));
      auto joined = engine::ExecutionState::TaskFromJsonParts(std::move(task), std::move(actions),
                                                              std::move(items));
      if (!joined.ok()) return joined.status().WithContext(at);
      task = std::move(*joined);
    }
    actions.clear();
    items.reset();
    gap = false;
    tasks.push_back(std::move(task));
    return Status::Ok();
  };
  size_t current = 0;
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    std::string_view k = View(it->key()).substr(prefix.size());
    if (k.size() < 4) return Internal(where + ": bad task key");
    const size_t t = GetU32(k, 0);
    if (t >= n) break;  // beyond task_count
    std::string_view rest = k.substr(4);
    if (rest.empty()) {
      BORA_RETURN_IF_ERROR(finish_task());
      if (t != tasks.size()) {
        return Internal(where + ": task " + std::to_string(tasks.size()) + " is missing");
      }
      current = t;
      auto task = ParseJson(View(it->value()), 512);
      if (!task.ok()) return task.status().WithContext(where + ", task " + std::to_string(t));
      head_json = std::move(*task);
      continue;
    }
    if (!head_json || t != current) {
      return Internal(where + ": task " + std::to_string(t) + " has parts but no head");
    }
    auto part = ParseJson(View(it->value()), 512);
    if (!part.ok()) return part.status().WithContext(where + ", task " + std::to_string(t));
    if (rest == "i") {
      items = std::move(*part);
    } else if (rest.size() == 5 && rest[0] == 'a') {
      const size_t a = GetU32(rest, 1);
      // After a gap the task's actions stop there: its action_count decides whether the missing
      // one belongs to it (finish_task).
      if (a == actions.size() && !gap) {
        actions.push_back(std::move(*part));
      } else {
        gap = true;
      }
    } else {
      return Internal(where + ": bad task key");
    }
  }
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the tasks of " + execution_id));
  BORA_RETURN_IF_ERROR(finish_task());
  if (tasks.size() != n)
    return Internal(where + ": task " + std::to_string(tasks.size()) + " is missing");
  auto st = engine::ExecutionState::FromJsonParts(std::move(*json), std::move(tasks));
  if (!st.ok()) return st.status().WithContext(where);
  return std::optional<engine::ExecutionState>(std::move(*st));
}

Result<std::optional<engine::ExecutionState>> RocksDbStateStore::ReadExecution(
    PartitionId partition, const ExecutionId& execution_id) {
  return ReadState(partition.value(), execution_id.value(), /*with_tasks=*/true);
}

Result<std::optional<engine::ExecutionState>> RocksDbStateStore::ReadExecutionHead(
    PartitionId partition, const ExecutionId& execution_id) {
  return ReadState(partition.value(), execution_id.value(), /*with_tasks=*/false);
}

Result<std::optional<ExecutionKey>> RocksDbStateStore::FindExecutionOf(const std::string& id) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), IdKey(id), &v);
  if (s.IsNotFound()) return std::optional<ExecutionKey>();
  BORA_RETURN_IF_ERROR(disk_->FromRocks(s, "read of the id index"));
  if (v.size() < 4)
    return Internal("data directory " + options_.path + ": bad id index entry for " + id);
  return std::optional<ExecutionKey>(
      ExecutionKey{PartitionId(static_cast<int>(GetU32(v, 0))), ExecutionId(v.substr(4))});
}

Result<std::vector<engine::ExecutionState>> RocksDbStateStore::ReadExecutionHeads(
    PartitionId partition_id) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('s', partition);
  std::vector<engine::ExecutionState> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    const std::string id(View(it->key()).substr(prefix.size()));
    BORA_ASSIGN_OR_RETURN(auto st, DecodeStoredHead(View(it->value()), id));
    out.push_back(std::move(st));
  }
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the executions"));
  return out;
}

Result<std::vector<ExecutionId>> RocksDbStateStore::ListExecutionIds(PartitionId partition_id) {
  const int partition = partition_id.value();
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string prefix = PartKey('s', partition);
  std::vector<ExecutionId> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && StartsWith(it->key(), prefix); it->Next()) {
    out.emplace_back(std::string(View(it->key()).substr(prefix.size())));
  }
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the execution ids"));
  return out;
}

Result<std::vector<engine::ExecutionState>> RocksDbStateStore::ReadExecutionHeadsPage(
    const std::optional<ListCursor>& after, size_t limit) {
  std::vector<engine::ExecutionState> out;
  if (limit == 0) return out;
  Snapshot snap(db_);
  const std::string from = after ? CreatedKey(after->created_s, after->id) : std::string("c");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap.options()));
  for (it->Seek(from); it->Valid() && StartsWith(it->key(), "c") && out.size() < limit;
       it->Next()) {
    std::string_view k = View(it->key());
    if (after && k == from) continue;  // the cursor itself
    if (k.size() < 9 || it->value().size() != 4) {
      return Internal("data directory " + options_.path + ": bad listing index entry");
    }
    const std::string id(k.substr(9));
    const int partition = static_cast<int>(GetU32(View(it->value()), 0));
    BORA_RETURN_IF_ERROR(CheckPartition(partition));
    std::string head;
    rocksdb::Status s = db_->Get(snap.options(), StateKey(partition, id), &head);
    if (s.IsNotFound()) continue;  // deleted since it was indexed
    BORA_RETURN_IF_ERROR(disk_->FromRocks(s, "read of " + id));
    BORA_ASSIGN_OR_RETURN(auto st, DecodeStoredHead(head, id));
    out.push_back(std::move(st));
  }
  BORA_RETURN_IF_ERROR(disk_->FromRocks(it->status(), "read of the listing index"));
  return out;
}

}  // namespace bora::store
