#include "orchestrator/store/redis_definitions.h"

#include "common/log.h"
#include "orchestrator/language/parser.h"

namespace bora::store {

namespace {
constexpr char kSep = '\x1f';
}

RedisDefinitions::RedisDefinitions(std::unique_ptr<RedisClient> client, std::string prefix)
    : client_(std::move(client)),
      hash_key_(prefix + "bora:definitions"),
      version_key_(prefix + "bora:definitions:version"),
      cache_(std::make_unique<engine::MemoryDefinitions>()) {}

Result<std::unique_ptr<RedisDefinitions>> RedisDefinitions::Connect(const std::string& url,
                                                                    const std::string& key_prefix) {
  BORA_ASSIGN_OR_RETURN(auto client, RedisClient::Connect(url));
  std::unique_ptr<RedisDefinitions> defs(new RedisDefinitions(std::move(client), key_prefix));
  BORA_RETURN_IF_ERROR(defs->Refresh());
  return defs;
}

Status RedisDefinitions::Put(const std::string& document_key, std::string_view yaml_text,
                             const std::string& namespace_name, const std::string& file_name) {
  lang::ParseOptions po;
  po.file_name = file_name.empty() ? document_key : file_name;
  BORA_ASSIGN_OR_RETURN(lang::Document doc, lang::ParseDocument(yaml_text, po));
  (void)doc;
  BORA_RETURN_IF_ERROR(
      client_->Command({"HSET", hash_key_, namespace_name + kSep + document_key, std::string(yaml_text)}).status());
  BORA_RETURN_IF_ERROR(client_->Command({"INCR", version_key_}).status());
  return Refresh();
}

Result<bool> RedisDefinitions::Remove(const std::string& document_key,
                                      const std::string& namespace_name) {
  BORA_ASSIGN_OR_RETURN(auto removed,
                        client_->Command({"HDEL", hash_key_, namespace_name + kSep + document_key}));
  bool existed = removed->Str() == "1";
  // Bumped even when nothing was removed: cheap, and never leaves a process on a stale cache.
  BORA_RETURN_IF_ERROR(client_->Command({"INCR", version_key_}).status());
  BORA_RETURN_IF_ERROR(Refresh());
  return existed;
}

Status RedisDefinitions::Refresh() {
  MutexLock lock(mu_);
  return RefreshLocked();
}

Status RedisDefinitions::RefreshLocked() const {
  BORA_ASSIGN_OR_RETURN(auto version, client_->Command({"GET", version_key_}));
  long long v = version->IsNil() ? 0 : std::stoll(version->Str());
  BORA_ASSIGN_OR_RETURN(auto all, client_->Command({"HGETALL", hash_key_}));
  auto fresh = std::make_unique<engine::MemoryDefinitions>();
  for (size_t i = 0; i + 1 < all->Size(); i += 2) {
    std::string field = all->StrAt(i);
    auto sep = field.find(kSep);
    std::string ns = sep == std::string::npos ? "" : field.substr(0, sep);
    std::string key = sep == std::string::npos ? field : field.substr(sep + 1);
    lang::ParseOptions po;
    po.file_name = key;
    auto doc = lang::ParseDocument(all->StrAt(i + 1), po);
    if (!doc.ok()) {
      BORA_LOG_WARN("stored definition {} does not parse: {}", key, doc.status().message());
      continue;
    }
    fresh->Add(std::make_shared<const lang::Document>(std::move(*doc)), ns);
  }
  cache_ = std::move(fresh);
  action_misses_.clear();
  version_ = v;
  last_check_ = std::chrono::steady_clock::now();
  return Status::Ok();
}

bool RedisDefinitions::RefreshIfChangedLocked() const {
  // A miss is common (names are tried in the workbook, then globally): one cheap GET, and a reload only when
  // another process stored a document since.
  auto version = client_->Command({"GET", version_key_});
  if (!version.ok()) return false;
  long long v = (*version)->IsNil() ? 0 : std::stoll((*version)->Str());
  if (v == version_) return false;
  return RefreshLocked().ok();
}

void RedisDefinitions::MaybeRefreshLocked() const {
  auto now = std::chrono::steady_clock::now();
  if (now - last_check_ < std::chrono::seconds(1)) return;
  last_check_ = now;
  auto version = client_->Command({"GET", version_key_});
  if (!version.ok()) return;
  long long v = (*version)->IsNil() ? 0 : std::stoll((*version)->Str());
  if (v != version_) {
    Status s = RefreshLocked();
    if (!s.ok()) BORA_LOG_WARN("definitions refresh failed: {}", s.ToString());
  }
}

std::shared_ptr<const lang::WorkflowSpec> RedisDefinitions::FindWorkflow(
    std::string_view full_name, std::string_view namespace_name) const {
  MutexLock lock(mu_);
  MaybeRefreshLocked();
  auto found = cache_->FindWorkflow(full_name, namespace_name);
  if (!found && RefreshIfChangedLocked()) found = cache_->FindWorkflow(full_name, namespace_name);
  return found;
}

std::shared_ptr<const lang::AdhocActionSpec> RedisDefinitions::FindAction(
    std::string_view full_name, std::string_view namespace_name) const {
  MutexLock lock(mu_);
  MaybeRefreshLocked();
  auto found = cache_->FindAction(full_name, namespace_name);
  if (found) return found;
  // Most action names are not ad-hoc actions (std.*, the engine asks for every task): a name that missed at
  // the current version is not asked of Redis again until the once-a-second check (or a workflow miss)
  // reloads, so the hot path pays no GET per task.
  auto key = std::make_pair(std::string(namespace_name), std::string(full_name));
  if (action_misses_.count(key)) return nullptr;
  if (RefreshIfChangedLocked()) found = cache_->FindAction(full_name, namespace_name);
  if (!found) {
    if (action_misses_.size() >= 10000) action_misses_.clear();
    action_misses_.insert(std::move(key));
  }
  return found;
}

}  // namespace bora::store
