#pragma once
// MemoryResourceStore: ResourceStore in process memory, for embedded mode and tests. Dedupe keys
// expire by the injected Clock (a ManualClock in tests, so expiry is checked without sleeping);
// expired keys are dropped lazily on the next Remember.
//
// Ownership: the Clock is not owned and must outlive the store. Thread-safety: one mutex; any
// thread.
#include <map>
#include <mutex>
#include <string>

#include "common/check.h"
#include "common/clock.h"
#include "common/thread_annotations.h"
#include "orchestrator/store/resource_store.h"

namespace bora::store {

class MemoryResourceStore final : public ResourceStore {
 public:
  // `clock` dates the dedupe keys' expiry.
  explicit MemoryResourceStore(const Clock* clock) : clock_(clock) {
    BORA_CHECK(clock_ != nullptr) << "MemoryResourceStore needs a clock";
  }

  Result<std::optional<Json>> Get(std::string_view kind, std::string_view key) override;
  Status Put(std::string_view kind, std::string_view key, const Json& record) override;
  Result<bool> Create(std::string_view kind, std::string_view key, const Json& record) override;
  Result<bool> Delete(std::string_view kind, std::string_view key) override;
  Result<std::vector<std::pair<std::string, Json>>> List(std::string_view kind) override;
  Result<bool> CompareAndSwap(std::string_view kind, std::string_view key, const Json& expected,
                              const std::optional<Json>& replacement) override;
  Result<bool> Remember(std::string_view key, std::chrono::milliseconds ttl) override;

 private:
  const Clock* clock_;
  Mutex mu_;
  // kind -> key -> record
  std::map<std::string, std::map<std::string, Json, std::less<>>, std::less<>> records_
      GUARDED_BY(mu_);
  std::map<std::string, TimestampUs, std::less<>> dedupe_ GUARDED_BY(mu_);  // key -> expiry (µs)
  // expiry -> key, for lazy expiry
  std::multimap<TimestampUs, std::string> by_expiry_ GUARDED_BY(mu_);
};

}  // namespace bora::store
