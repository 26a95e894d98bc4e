#include "orchestrator/store/redis_resource_store.h"

#include <algorithm>

namespace bora::store {

namespace {

// KEYS[1] hash; ARGV: field, expected text, "1"|"0" (replace|delete), replacement text.
// Returns {1} swapped, {0} absent, {0, current} differs.
constexpr const char* kCasScript = R"lua(
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return {0} end
if cur ~= ARGV[2] then return {0, cur} end
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return {1}
)lua";

Result<Json> ParseStored(const std::string& text, std::string_view kind, std::string_view key) {
  auto parsed = ParseJson(text, 256);
  if (!parsed.ok()) {
    return Internal("stored resource " + std::string(kind) + "/" + std::string(key) +
                    " is not JSON: " + parsed.status().message());
  }
  return std::move(parsed).value();
}

}  // namespace

Result<std::unique_ptr<RedisResourceStore>> RedisResourceStore::Connect(
    const std::string& url, const std::string& key_prefix, int timeout_ms) {
  BORA_ASSIGN_OR_RETURN(auto client, RedisClient::Connect(url, timeout_ms));
  // Fail early when the server is unreachable.
  BORA_RETURN_IF_ERROR(client->Command({"PING"}).status());
  return std::unique_ptr<RedisResourceStore>(new RedisResourceStore(std::move(client), key_prefix));
}

std::string RedisResourceStore::KindKey(std::string_view kind) const {
  return prefix_ + "bora:res:" + std::string(kind);
}

std::string RedisResourceStore::DedupeKey(std::string_view key) const {
  return prefix_ + "bora:dedupe:" + std::string(key);
}

Result<std::optional<Json>> RedisResourceStore::Get(std::string_view kind, std::string_view key) {
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"HGET", KindKey(kind), std::string(key)}));
  if (reply->IsNil()) return std::optional<Json>();
  BORA_ASSIGN_OR_RETURN(Json value, ParseStored(reply->Str(), kind, key));
  return std::optional<Json>(std::move(value));
}

Status RedisResourceStore::Put(std::string_view kind, std::string_view key, const Json& record) {
  return client_->Command({"HSET", KindKey(kind), std::string(key), DumpJson(record)}).status();
}

Result<bool> RedisResourceStore::Create(std::string_view kind, std::string_view key,
                                        const Json& record) {
  BORA_ASSIGN_OR_RETURN(
      auto reply, client_->Command({"HSETNX", KindKey(kind), std::string(key), DumpJson(record)}));
  return reply->Str() == "1";
}

Result<bool> RedisResourceStore::Delete(std::string_view kind, std::string_view key) {
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"HDEL", KindKey(kind), std::string(key)}));
  return reply->Str() == "1";
}

Result<std::vector<std::pair<std::string, Json>>> RedisResourceStore::List(std::string_view kind) {
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"HGETALL", KindKey(kind)}));
  std::vector<std::pair<std::string, Json>> out;
  out.reserve(reply->Size() / 2);
  for (size_t i = 0; i + 1 < reply->Size(); i += 2) {
    std::string key = reply->StrAt(i);
    BORA_ASSIGN_OR_RETURN(Json value, ParseStored(reply->StrAt(i + 1), kind, key));
    out.emplace_back(std::move(key), std::move(value));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<bool> RedisResourceStore::CompareAndSwap(std::string_view kind, std::string_view key,
                                                const Json& expected,
                                                const std::optional<Json>& replacement) {
  std::string expected_text = DumpJson(expected);
  const std::string replacement_text = replacement ? DumpJson(*replacement) : std::string();
  // At most two rounds: the second uses the stored text when it is the same JSON value as
  // `expected`.
  for (int round = 0; round < 2; ++round) {
    BORA_ASSIGN_OR_RETURN(auto reply, client_->Eval(kCasScript, {KindKey(kind)},
                                                    {std::string(key), expected_text,
                                                     replacement ? "1" : "0", replacement_text}));
    if (reply->IntAt(0) == 1) return true;
    if (reply->Size() < 2) return false;  // absent
    auto current = ParseJson(reply->StrAt(1), 256);
    if (!current.ok() || !JsonEquals(*current, expected)) return false;
    expected_text = reply->StrAt(1);
  }
  return false;  // the record changed between the rounds: another writer won
}

Result<bool> RedisResourceStore::Remember(std::string_view key, std::chrono::milliseconds ttl) {
  if (ttl.count() <= 0) return InvalidArgument("Remember: ttl must be positive");
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"SET", DedupeKey(key), "1", "NX", "PX",
                                                      std::to_string(ttl.count())}));
  return !reply->IsNil();
}

}  // namespace bora::store
