#include "common/disk/disk_bus_journal.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <charconv>

#include "common/disk/key_encoding.h"
#include "common/log.h"

namespace bora::disk {

namespace {

// Reads big-endian fields off the front of a view; `ok` turns false on a short read.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t Int(size_t bytes) {
    if (in.size() < bytes) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(bytes);
    return v;
  }
  std::string_view Bytes(size_t n) {
    if (in.size() < n) {
      ok = false;
      return {};
    }
    std::string_view v = in.substr(0, n);
    in.remove_prefix(n);
    return v;
  }
  std::string_view Str16() { return Bytes(static_cast<size_t>(Int(2))); }
  std::string_view Str32() { return Bytes(static_cast<size_t>(Int(4))); }
};

std::string PartitionKey(char tag, const TopicPartition& tp) {
  std::string k(1, tag);
  PutStr(k, tp.topic);
  PutU32(k, static_cast<uint32_t>(tp.partition));
  return k;
}
std::string MessageKey(const TopicPartition& tp, int64_t offset) {
  std::string k = PartitionKey('m', tp);
  PutU64(k, static_cast<uint64_t>(offset));
  return k;
}
std::string TopicKey(std::string_view topic) {
  std::string k(1, 't');
  return k.append(topic);
}
std::string GroupKey(std::string_view group, const TopicPartition& tp) {
  std::string k(1, 'g');
  PutStr(k, group);
  PutStr(k, tp.topic);
  PutU32(k, static_cast<uint32_t>(tp.partition));
  return k;
}

std::string EncodeMessage(const BusMessage& m) {
  std::string v;
  v.reserve(6 + m.key.size() + m.value.size());
  PutU32(v, static_cast<uint32_t>(m.key.size()));
  v.append(m.key);
  PutU16(v, static_cast<uint16_t>(m.headers.size()));
  for (const auto& [name, value] : m.headers) {
    PutU32(v, static_cast<uint32_t>(name.size()));
    v.append(name);
    PutU32(v, static_cast<uint32_t>(value.size()));
    v.append(value);
  }
  return v.append(m.value);
}

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

}  // namespace

Result<BusJournal::Contents> DiskBusJournal::Load() {
  Contents out;
  std::map<TopicPartition, size_t> log_index;  // into out.logs
  auto corrupt = [&](std::string_view what, std::string_view key) {
    return Internal("data directory " + db_->path() + ": unreadable bus " + std::string(what) +
                    " (key of " + std::to_string(key.size()) + " bytes)");
  };
  std::unique_ptr<rocksdb::Iterator> it(db_->db()->NewIterator(rocksdb::ReadOptions(), db_->log()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    std::string_view value = View(it->value());
    Reader r{key.substr(1)};
    switch (key[0]) {
      case 't': {
        int n = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
        if (ec != std::errc() || n < 1) return corrupt("topic", key);
        out.topics.emplace_back(std::string(key.substr(1)), n);
        break;
      }
      case 'w':
      case 'm': {
        TopicPartition tp;
        tp.topic = std::string(r.Str16());
        tp.partition = static_cast<int>(r.Int(4));
        auto [slot, fresh] = log_index.emplace(tp, out.logs.size());
        if (fresh) out.logs.push_back({tp, 0, {}});
        PartitionLog& log = out.logs[slot->second];
        if (key[0] == 'w') {
          Reader v{value};
          log.first_offset = static_cast<int64_t>(v.Int(8));
          if (!v.ok || !r.ok) return corrupt("watermark", key);
          break;
        }
        int64_t offset = static_cast<int64_t>(r.Int(8));
        if (!r.ok) return corrupt("message", key);
        if (log.messages.empty() && offset > log.first_offset) {
          // A trim is written before its range is deleted, so the first message kept is at the
          // watermark or above it; start there.
          log.first_offset = offset;
        }
        if (log.messages.empty() && offset < log.first_offset) break;  // below the watermark
        Reader v{value};
        BusMessage m;
        m.partition = tp.partition;
        m.offset = offset;
        m.key = std::string(v.Str32());
        uint64_t headers = v.Int(2);
        for (uint64_t h = 0; h < headers && v.ok; ++h) {
          std::string name(v.Str32());
          std::string hv(v.Str32());
          m.headers.emplace_back(std::move(name), std::move(hv));
        }
        if (!v.ok) return corrupt("message", key);
        m.value = std::string(v.in);
        log.messages.push_back(std::move(m));
        break;
      }
      case 'g': {
        GroupPosition g;
        g.group = std::string(r.Str16());
        g.tp.topic = std::string(r.Str16());
        g.tp.partition = static_cast<int>(r.Int(4));
        Reader v{value};
        g.offset = static_cast<int64_t>(v.Int(8));
        if (!r.ok || !v.ok) return corrupt("group position", key);
        out.positions.push_back(std::move(g));
        break;
      }
      default:
        return corrupt("record", key);
    }
  }
  BORA_RETURN_IF_ERROR(db_->FromRocks(it->status(), "read of the bus log"));
  for (const auto& log : out.logs) first_[log.tp] = log.first_offset;
  return out;
}

Status DiskBusJournal::CreateTopic(std::string_view topic, int partitions) {
  rocksdb::WriteBatch wb;
  wb.Put(db_->log(), TopicKey(topic), std::to_string(partitions));
  return db_->Write(&wb, "topic creation", /*wait_for_disk=*/false);
}

Status DiskBusJournal::Append(const std::vector<const BusMessage*>& messages) {
  rocksdb::WriteBatch wb;
  for (const BusMessage* m : messages) {
    wb.Put(db_->log(), MessageKey({m->topic, m->partition}, m->offset), EncodeMessage(*m));
  }
  return db_->Write(&wb, "append to the bus log", /*wait_for_disk=*/false);
}

Status DiskBusJournal::Commit(const std::string& group, const TopicPartition& tp, int64_t offset) {
  rocksdb::WriteBatch wb;
  std::string v;
  PutU64(v, static_cast<uint64_t>(offset));
  wb.Put(db_->log(), GroupKey(group, tp), v);
  return db_->Write(&wb, "consumer position", /*wait_for_disk=*/false);
}

void DiskBusJournal::Trim(const TopicPartition& tp, int64_t offset) {
  int64_t& first = first_[tp];
  if (offset - first < kTrimStep) return;
  rocksdb::WriteBatch wb;
  std::string v;
  PutU64(v, static_cast<uint64_t>(offset));
  wb.Put(db_->log(), PartitionKey('w', tp), v);
  wb.DeleteRange(db_->log(), MessageKey(tp, first), MessageKey(tp, offset));
  // A failed trim only leaves messages on disk a while longer (the next trim covers them).
  if (Status s = db_->Write(&wb, "trim of the bus log", /*wait_for_disk=*/false); !s.ok()) {
    BORA_LOG_WARN("{}", s.ToString());
    return;
  }
  first = offset;
}

Status DiskBusJournal::AfterPublish() {
  return db_->fsync() == FsyncPolicy::kAlways ? db_->WaitDurable() : Status::Ok();
}

Status DiskBusJournal::Sync() { return db_->WaitDurable(); }

Result<std::unique_ptr<MemoryBus>> OpenDiskBus(std::shared_ptr<DiskDb> db) {
  return MemoryBus::Open(std::make_unique<DiskBusJournal>(std::move(db)));
}

}  // namespace bora::disk
