#pragma once
// RedisResourceStore: ResourceStore on redis-server (hiredis), for distributed mode. Records of a
// kind live in one hash `<prefix>bora:res:<kind>` (field = key, value = compact JSON); Create is
// HSETNX, CompareAndSwap one Lua script (atomic on the server). Dedupe keys are
// `<prefix>bora:dedupe:<key>`, written with SET NX PX so Redis expires them.
//
// CompareAndSwap compares JSON values, not texts: the script swaps when the stored text equals the
// caller's serialisation; when the texts differ it returns the stored text, and if that is the same
// JSON value (other key order, 1 vs 1.0) the swap is retried against that exact text.
//
// Threading: one RedisClient (mutex-guarded connection with reconnect); every method from any
// thread.
#include <memory>
#include <string>

#include "common/redis/redis_client.h"
#include "orchestrator/store/resource_store.h"

namespace bora::store {

class RedisResourceStore final : public ResourceStore {
 public:
  // `key_prefix` isolates tests and clusters sharing one Redis ("" in production).
  static Result<std::unique_ptr<RedisResourceStore>> Connect(const std::string& url,
                                                             const std::string& key_prefix = "",
                                                             int timeout_ms = 5000);

  Result<std::optional<Json>> Get(std::string_view kind, std::string_view key) override;
  Status Put(std::string_view kind, std::string_view key, const Json& record) override;
  Result<bool> Create(std::string_view kind, std::string_view key, const Json& record) override;
  Result<bool> Delete(std::string_view kind, std::string_view key) override;
  Result<std::vector<std::pair<std::string, Json>>> List(std::string_view kind) override;
  Result<bool> CompareAndSwap(std::string_view kind, std::string_view key, const Json& expected,
                              const std::optional<Json>& replacement) override;
  Result<bool> Remember(std::string_view key, std::chrono::milliseconds ttl) override;

  // The Redis keys used (for tests and operators).
  std::string KindKey(std::string_view kind) const;
  std::string DedupeKey(std::string_view key) const;

 private:
  RedisResourceStore(std::unique_ptr<RedisClient> client, std::string prefix)
      : client_(std::move(client)), prefix_(std::move(prefix)) {}

  std::unique_ptr<RedisClient> client_;
  std::string prefix_;
};

}  // namespace bora::store
