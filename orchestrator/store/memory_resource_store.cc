#include "orchestrator/store/memory_resource_store.h"

namespace bora::store {

Result<std::optional<Json>> MemoryResourceStore::Get(std::string_view kind, std::string_view key) {
  MutexLock lock(mu_);
  auto kit = records_.find(kind);
  if (kit == records_.end()) return std::optional<Json>();
  auto it = kit->second.find(key);
  if (it == kit->second.end()) return std::optional<Json>();
  return std::optional<Json>(it->second);
}

Status MemoryResourceStore::Put(std::string_view kind, std::string_view key, const Json& record) {
  MutexLock lock(mu_);
  records_[std::string(kind)][std::string(key)] = record;
  return Status::Ok();
}

Result<bool> MemoryResourceStore::Create(std::string_view kind, std::string_view key,
                                         const Json& record) {
  MutexLock lock(mu_);
  return records_[std::string(kind)].emplace(std::string(key), record).second;
}

Result<bool> MemoryResourceStore::Delete(std::string_view kind, std::string_view key) {
  MutexLock lock(mu_);
  auto kit = records_.find(kind);
  if (kit == records_.end()) return false;
  auto it = kit->second.find(key);
  if (it == kit->second.end()) return false;
  kit->second.erase(it);
  return true;
}

Result<std::vector<std::pair<std::string, Json>>> MemoryResourceStore::List(std::string_view kind) {
  MutexLock lock(mu_);
  std::vector<std::pair<std::string, Json>> out;
  auto kit = records_.find(kind);
  if (kit == records_.end()) return out;
  out.reserve(kit->second.size());
  for (const auto& [k, v] : kit->second) out.emplace_back(k, v);
  return out;
}

Result<bool> MemoryResourceStore::CompareAndSwap(std::string_view kind, std::string_view key,
                                                 const Json& expected,
                                                 const std::optional<Json>& replacement) {
  MutexLock lock(mu_);
  auto kit = records_.find(kind);
  if (kit == records_.end()) return false;
  auto it = kit->second.find(key);
  if (it == kit->second.end() || !JsonEquals(it->second, expected)) return false;
  if (replacement) {
    it->second = *replacement;
  } else {
    kit->second.erase(it);
  }
  return true;
}

Result<bool> MemoryResourceStore::Remember(std::string_view key, std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return InvalidArgument("Remember: ttl must be positive");
  TimestampUs now = clock_->NowUs();
  MutexLock lock(mu_);
  // Lazy expiry, oldest first: O(log n) per expired key.
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    auto it = dedupe_.find(by_expiry_.begin()->second);
    if (it != dedupe_.end() && it->second <= now) dedupe_.erase(it);
    by_expiry_.erase(by_expiry_.begin());
  }
  TimestampUs expiry = now + ttl.count() * 1000;
  if (!dedupe_.emplace(std::string(key), expiry).second) return false;
  by_expiry_.emplace(expiry, std::string(key));
  return true;
}

}  // namespace bora::store
