#include "orchestrator/store/rocksdb_resource_store.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "common/check.h"
#include "common/disk/disk_db.h"
#include "common/disk/key_encoding.h"

namespace bora::store {

namespace {

std::string KindPrefix(std::string_view kind) {
  std::string k(1, 'r');
  disk::PutStr(k, kind);
  return k;
}
std::string RecordKey(std::string_view kind, std::string_view key) {
  return KindPrefix(kind).append(key);
}
std::string EncodeTime(TimestampUs t) {
  uint64_t v = static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}
TimestampUs DecodeTime(std::string_view in) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < in.size(); ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return static_cast<TimestampUs>(v ^ (uint64_t{1} << 63));
}
std::string DedupeKey(std::string_view key) { return std::string(1, 'd').append(key); }
std::string ExpiryKey(TimestampUs at, std::string_view key) {
  return std::string(1, 'e').append(EncodeTime(at)).append(key);
}

}  // namespace

RocksDbResourceStore::RocksDbResourceStore(std::shared_ptr<disk::DiskDb> db, const Clock* clock)
    : db_(std::move(db)), clock_(clock) {
  BORA_CHECK(db_ != nullptr && clock_ != nullptr)
      << "RocksDbResourceStore needs a DiskDb and a clock";
}

Result<std::optional<Json>> RocksDbResourceStore::GetLocked(std::string_view kind,
                                                            std::string_view key) {
  std::string text;
  rocksdb::Status s =
      db_->db()->Get(rocksdb::ReadOptions(), db_->resources(), RecordKey(kind, key), &text);
  if (s.IsNotFound()) return std::optional<Json>();
  BORA_RETURN_IF_ERROR(db_->FromRocks(s, "read of a " + std::string(kind) + " record"));
  auto parsed = ParseJson(text);
  if (!parsed.ok()) {
    return Internal("data directory " + db_->path() + ": unreadable " + std::string(kind) +
                    " record: " + parsed.status().message());
  }
  return std::optional<Json>(std::move(*parsed));
}

Status RocksDbResourceStore::PutLocked(std::string_view kind, std::string_view key,
                                       const std::optional<Json>& record) {
  rocksdb::WriteBatch wb;
  if (record) {
    wb.Put(db_->resources(), RecordKey(kind, key), DumpJson(*record));
  } else {
    wb.Delete(db_->resources(), RecordKey(kind, key));
  }
  BORA_RETURN_IF_ERROR(db_->Write(&wb, "write of a " + std::string(kind) + " record"));
  // Records are few and the API acknowledges them (201): on disk before that, whatever the policy.
  return db_->WaitDurable();
}

Result<std::optional<Json>> RocksDbResourceStore::Get(std::string_view kind, std::string_view key) {
  return GetLocked(kind, key);  // a point read needs no lock
}

Status RocksDbResourceStore::Put(std::string_view kind, std::string_view key, const Json& record) {
  MutexLock lock(mu_);
  return PutLocked(kind, key, record);
}

Result<bool> RocksDbResourceStore::Create(std::string_view kind, std::string_view key,
                                          const Json& record) {
  MutexLock lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto existing, GetLocked(kind, key));
  if (existing) return false;
  BORA_RETURN_IF_ERROR(PutLocked(kind, key, record));
  return true;
}

Result<bool> RocksDbResourceStore::Delete(std::string_view kind, std::string_view key) {
  MutexLock lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto existing, GetLocked(kind, key));
  if (!existing) return false;
  BORA_RETURN_IF_ERROR(PutLocked(kind, key, std::nullopt));
  return true;
}

Result<std::vector<std::pair<std::string, Json>>> RocksDbResourceStore::List(
    std::string_view kind) {
  const std::string prefix = KindPrefix(kind);
  std::vector<std::pair<std::string, Json>> out;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->db()->NewIterator(rocksdb::ReadOptions(), db_->resources()));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view k(it->key().data(), it->key().size());
    if (k.substr(0, prefix.size()) != prefix) break;
    auto parsed = ParseJson(std::string_view(it->value().data(), it->value().size()));
    if (!parsed.ok()) {
      return Internal("data directory " + db_->path() + ": unreadable " + std::string(kind) +
                      " record: " + parsed.status().message());
    }
    out.emplace_back(std::string(k.substr(prefix.size())), std::move(*parsed));
  }
  BORA_RETURN_IF_ERROR(db_->FromRocks(it->status(), "listing of " + std::string(kind)));
  return out;  // keys sort bytewise: sorted by key
}

Result<bool> RocksDbResourceStore::CompareAndSwap(std::string_view kind, std::string_view key,
                                                  const Json& expected,
                                                  const std::optional<Json>& replacement) {
  MutexLock lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto existing, GetLocked(kind, key));
  if (!existing || !JsonEquals(*existing, expected)) return false;
  BORA_RETURN_IF_ERROR(PutLocked(kind, key, replacement));
  return true;
}

Result<bool> RocksDbResourceStore::Remember(std::string_view key, std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return InvalidArgument("Remember: ttl must be positive");
  const TimestampUs now = clock_->NowUs();
  MutexLock lock(mu_);
  rocksdb::WriteBatch wb;
  // Lazy expiry, oldest first (at most 1,000 per call, so one call stays short).
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db()->NewIterator(rocksdb::ReadOptions(), db_->resources()));
    int dropped = 0;
    for (it->Seek("e"); it->Valid() && dropped < 1000; it->Next(), ++dropped) {
      std::string_view k(it->key().data(), it->key().size());
      if (k.empty() || k[0] != 'e' || k.size() < 9) break;
      if (DecodeTime(k.substr(1, 8)) > now) break;
      wb.Delete(db_->resources(), it->key());
      wb.Delete(db_->resources(), DedupeKey(k.substr(9)));
    }
    BORA_RETURN_IF_ERROR(db_->FromRocks(it->status(), "read of dedupe keys"));
  }
  std::string expiry;
  rocksdb::Status s =
      db_->db()->Get(rocksdb::ReadOptions(), db_->resources(), DedupeKey(key), &expiry);
  if (s.ok() && DecodeTime(expiry) > now) {
    if (wb.Count() > 0) BORA_RETURN_IF_ERROR(db_->Write(&wb, "expiry of dedupe keys"));
    return false;
  }
  if (!s.ok() && !s.IsNotFound()) return db_->FromRocks(s, "read of a dedupe key");
  const TimestampUs at = now + ttl.count() * 1000;
  if (s.ok()) wb.Delete(db_->resources(), ExpiryKey(DecodeTime(expiry), key));
  wb.Put(db_->resources(), DedupeKey(key), EncodeTime(at));
  wb.Put(db_->resources(), ExpiryKey(at, key), "");
  BORA_RETURN_IF_ERROR(db_->Write(&wb, "write of a dedupe key"));
  return true;
}

}  // namespace bora::store
