#pragma once
// RedisDefinitions: workflow and ad-hoc action definitions shared by every process of a distributed
// deployment. Documents (YAML text) live in the Redis hash `<prefix>bora:definitions` (field
// "<namespace>\x1f<document key>") with a version counter; each process keeps a parsed cache and reloads it
// when the version moved: checked on a lookup that misses, and at most once a second otherwise.
//
// Threading: all methods may be called from any thread (a mutex guards the cache).
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/redis/redis_client.h"
#include "common/thread_annotations.h"
#include "orchestrator/engine/engine.h"

namespace bora::store {

class RedisDefinitions final : public engine::Definitions {
 public:
  static Result<std::unique_ptr<RedisDefinitions>> Connect(const std::string& url,
                                                           const std::string& key_prefix = "");

  // Validates and stores a Workflow Language document under `document_key` (replacing it), then bumps the
  // version. Errors name the file, line and column (`file_name` is used in messages).
  Status Put(const std::string& document_key, std::string_view yaml_text, const std::string& namespace_name = "",
             const std::string& file_name = "");
  // Removes the document stored under `document_key` in `namespace_name` (its workflows and actions stop
  // resolving in every process: the version is bumped), then refreshes. true if it existed.
  Result<bool> Remove(const std::string& document_key, const std::string& namespace_name = "");
  // Reloads the cache from Redis now.
  Status Refresh();

  std::shared_ptr<const lang::WorkflowSpec> FindWorkflow(std::string_view full_name,
                                                         std::string_view namespace_name) const override;
  std::shared_ptr<const lang::AdhocActionSpec> FindAction(std::string_view full_name,
                                                          std::string_view namespace_name) const override;

 private:
  RedisDefinitions(std::unique_ptr<RedisClient> client, std::string prefix);
  Status RefreshLocked() const REQUIRES(mu_);
  void MaybeRefreshLocked() const REQUIRES(mu_);  // at most once a second, when the version moved
  // Reloads now if the version moved; true if reloaded.
  bool RefreshIfChangedLocked() const REQUIRES(mu_);

  std::unique_ptr<RedisClient> client_;
  std::string hash_key_, version_key_;
  mutable Mutex mu_;
  mutable std::unique_ptr<engine::MemoryDefinitions> cache_ GUARDED_BY(mu_);
  mutable long long version_ GUARDED_BY(mu_) = -1;
  // (namespace, name) of action lookups that missed at `version_` (cleared on every reload).
  mutable std::set<std::pair<std::string, std::string>> action_misses_ GUARDED_BY(mu_);
  mutable std::chrono::steady_clock::time_point last_check_ GUARDED_BY(mu_){};
};

}  // namespace bora::store
