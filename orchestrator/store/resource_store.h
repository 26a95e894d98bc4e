#pragma once
// ResourceStore: the small records the REST API keeps besides execution state: workbooks, workflow and action
// definitions' metadata, environments, cron triggers, event triggers; plus short-lived deduplication keys.
// A record is a JSON object stored under (kind, key); callers choose the key (e.g. "<namespace>\x1f<name>").
// Implementations: MemoryResourceStore (embedded mode, tests) and RedisResourceStore (distributed mode: one
// hash per kind, `<prefix>bora:res:<kind>`; dedupe keys `<prefix>bora:dedupe:<key>` with a TTL). One contract
// suite (tests/contract/resource_store_contract_test.cc) runs against both.
//
// Thread-safety: all methods may be called from any thread.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::store {

class ResourceStore {
 public:
  virtual ~ResourceStore() = default;

  // The record under (kind, key), or nullopt.
  virtual Result<std::optional<Json>> Get(std::string_view kind, std::string_view key) = 0;
  // Creates or replaces.
  virtual Status Put(std::string_view kind, std::string_view key, const Json& record) = 0;
  // Creates only if absent: true if created, false if a record already existed (nothing written).
  virtual Result<bool> Create(std::string_view kind, std::string_view key, const Json& record) = 0;
  // true if a record was deleted.
  virtual Result<bool> Delete(std::string_view kind, std::string_view key) = 0;
  // Every record of `kind` as (key, record), sorted by key.
  virtual Result<std::vector<std::pair<std::string, Json>>> List(std::string_view kind) = 0;
  // Compare-and-swap: if the stored record equals `expected` (same JSON value), replaces it with
  // `replacement` (or deletes it when nullopt) and returns true; otherwise changes nothing and returns false.
  // Used to advance cron triggers so that one process fires each tick.
  virtual Result<bool> CompareAndSwap(std::string_view kind, std::string_view key, const Json& expected,
                                      const std::optional<Json>& replacement) = 0;
  // Deduplication: remembers `key` for `ttl` if it is not remembered already. true = first time seen
  // (the caller proceeds), false = a duplicate within the window.
  virtual Result<bool> Remember(std::string_view key, std::chrono::milliseconds ttl) = 0;
};

}  // namespace bora::store
