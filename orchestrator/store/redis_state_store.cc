#include "orchestrator/store/redis_state_store.h"

#include <hiredis/hiredis.h>

#include <charconv>

#include "common/json.h"

namespace bora::store {

namespace {

// Commit: KEYS meta, states, outbox, timers. ARGV epoch, next_offset, then four counted sections:
// states (id, json)*, outbox (entry)*, cancelled timers (member)*, set timers (score, member)*.
// Returns the outbox sequence numbers assigned, in order.
constexpr const char* kCommitScript = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if tostring(epoch) ~= ARGV[1] then return redis.error_reply('FENCED current epoch ' .. tostring(epoch)) end
redis.call('HSET', KEYS[1], 'next_offset', ARGV[2])
local i = 3
local n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]); i = i + 2 end
n = tonumber(ARGV[i]); i = i + 1
local seqs = {}
for k = 1, n do
  local seq = redis.call('HINCRBY', KEYS[1], 'next_seq', 1)
  redis.call('HSET', KEYS[3], seq, ARGV[i]); seqs[#seqs + 1] = seq; i = i + 1
end
n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do redis.call('ZREM', KEYS[4], ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do redis.call('ZADD', KEYS[4], ARGV[i], ARGV[i + 1]); i = i + 2 end
return seqs
)lua";

// Claim: KEYS meta, outbox. Bumps the epoch; returns {epoch, next_offset, seq1, entry1, seq2, entry2...}.
constexpr const char* kClaimScript = R"lua(
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local offset = redis.call('HGET', KEYS[1], 'next_offset') or '0'
local out = {tostring(epoch), tostring(offset)}
local all = redis.call('HGETALL', KEYS[2])
for k = 1, #all do out[#out + 1] = all[k] end
return out
)lua";

// Ack: KEYS meta, outbox. ARGV epoch, up_to_seq.
constexpr const char* kAckScript = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if tostring(epoch) ~= ARGV[1] then return redis.error_reply('FENCED current epoch ' .. tostring(epoch)) end
local up = tonumber(ARGV[2])
for _, seq in ipairs(redis.call('HKEYS', KEYS[2])) do
  if tonumber(seq) <= up then redis.call('HDEL', KEYS[2], seq) end
end
return 1
)lua";

// Remove a fired timer: KEYS meta, timers. ARGV epoch, member, score.
constexpr const char* kRemoveTimerScript = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if tostring(epoch) ~= ARGV[1] then return redis.error_reply('FENCED current epoch ' .. tostring(epoch)) end
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
if score and tonumber(score) == tonumber(ARGV[3]) then redis.call('ZREM', KEYS[2], ARGV[2]) end
return 1
)lua";

constexpr char kSep = '\x1f';

std::string TimerMember(const std::string& exec, const std::string& timer) {
  return exec + kSep + timer;
}

Result<int64_t> ToInt(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return Internal("redis: expected an integer, got '" + std::string(s) + "'");
  }
  return v;
}

}  // namespace

struct RedisStateStore::Reply {
  redisReply* r = nullptr;
  ~Reply() {
    if (r) freeReplyObject(r);
  }
};

namespace {
std::string Str(const redisReply* r) {
  if (r == nullptr) return {};
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR) {
    return std::string(r->str, r->len);
  }
  if (r->type == REDIS_REPLY_INTEGER) return std::to_string(r->integer);
  return {};
}

Result<std::shared_ptr<engine::ExecutionState>> DecodeState(const redisReply* r, const std::string& id) {
  if (r->type == REDIS_REPLY_NIL) return std::shared_ptr<engine::ExecutionState>();
  auto json = ParseJson(Str(r), 512);
  if (!json.ok()) return json.status().WithContext("stored state of " + id);
  auto state = engine::ExecutionState::FromJson(*json);
  if (!state.ok()) return state.status().WithContext("stored state of " + id);
  return std::make_shared<engine::ExecutionState>(std::move(*state));
}
}  // namespace

RedisStateStore::RedisStateStore(RedisStoreOptions options) : options_(std::move(options)) {}

RedisStateStore::~RedisStateStore() {
  if (ctx_) redisFree(ctx_);
}

Result<std::unique_ptr<RedisStateStore>> RedisStateStore::Connect(const RedisStoreOptions& options) {
  std::unique_ptr<RedisStateStore> store(new RedisStateStore(options));
  std::string rest = options.url;
  if (rest.rfind("redis://", 0) == 0) rest = rest.substr(8);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  store->host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  if (colon != std::string::npos) {
    auto port = ToInt(rest.substr(colon + 1));
    if (!port.ok() || *port <= 0 || *port > 65535) {
      return InvalidArgument("redis url " + options.url + ": bad port");
    }
    store->port_ = static_cast<int>(*port);
  }
  if (store->host_.empty()) return InvalidArgument("redis url " + options.url + ": no host");
  std::lock_guard lock(store->mu_);
  BORA_RETURN_IF_ERROR(store->EnsureConnected());
  return store;
}

Status RedisStateStore::EnsureConnected() {
  if (ctx_ && ctx_->err == 0) return Status::Ok();
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  timeval tv{options_.timeout_ms / 1000, (options_.timeout_ms % 1000) * 1000};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (ctx_ == nullptr || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    return Unavailable("redis " + host_ + ":" + std::to_string(port_) + ": " + why);
  }
  redisSetTimeout(ctx_, tv);
  return Status::Ok();
}

Result<std::shared_ptr<RedisStateStore::Reply>> RedisStateStore::Command(const std::vector<std::string>& argv) {
  BORA_RETURN_IF_ERROR(EnsureConnected());
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  ++commands_;
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  if (raw == nullptr) {
    std::string why = ctx_->errstr;
    redisFree(ctx_);
    ctx_ = nullptr;
    return Unavailable("redis " + argv[0] + ": " + why);
  }
  auto reply = std::make_shared<Reply>();
  reply->r = raw;
  if (raw->type == REDIS_REPLY_ERROR) {
    std::string msg = Str(raw);
    if (msg.rfind("FENCED", 0) == 0) return Aborted("partition is fenced: " + msg);
    if (msg.rfind("NOSCRIPT", 0) == 0) return NotFound(msg);
    return Unavailable("redis " + argv[0] + ": " + msg);
  }
  return reply;
}

Result<std::shared_ptr<RedisStateStore::Reply>> RedisStateStore::Script(
    const std::string& body, const std::vector<std::string>& keys, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"EVAL", body, std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return Command(argv);
}

Status RedisStateStore::CheckPartition(int partition) const {
  if (partition < 0 || partition >= options_.partitions) {
    return InvalidArgument("no partition " + std::to_string(partition) + " (the store has " +
                           std::to_string(options_.partitions) + ")");
  }
  return Status::Ok();
}

std::string RedisStateStore::Key(int partition, const char* what) const {
  return "{" + options_.key_prefix + "p" + std::to_string(partition) + "}:" + what;
}

Result<PartitionClaim> RedisStateStore::ClaimPartition(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto reply, Script(kClaimScript, {Key(partition, "meta"), Key(partition, "outbox")}, {}));
  const redisReply* r = reply->r;
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) return Internal("redis claim: unexpected reply");
  PartitionClaim claim;
  BORA_ASSIGN_OR_RETURN(int64_t epoch, ToInt(Str(r->element[0])));
  BORA_ASSIGN_OR_RETURN(claim.next_offset, ToInt(Str(r->element[1])));
  claim.epoch = static_cast<uint64_t>(epoch);
  for (size_t i = 2; i + 1 < r->elements; i += 2) {
    BORA_ASSIGN_OR_RETURN(int64_t seq, ToInt(Str(r->element[i])));
    auto entry = ParseJson(Str(r->element[i + 1]));
    if (!entry.ok() || !entry->is_array() || entry->get_array().size() != 3) {
      return Internal("redis claim: bad outbox entry " + std::to_string(seq));
    }
    const auto& a = entry->get_array();
    claim.outbox.push_back({static_cast<uint64_t>(seq), std::string(a[0].as_string()),
                            std::string(a[1].as_string()), std::string(a[2].as_string())});
  }
  std::sort(claim.outbox.begin(), claim.outbox.end(),
            [](const OutboxEntry& a, const OutboxEntry& b) { return a.seq < b.seq; });
  return claim;
}

Result<std::shared_ptr<engine::ExecutionState>> RedisStateStore::LoadExecution(
    int partition, const std::string& execution_id) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto reply, Command({"HGET", Key(partition, "states"), execution_id}));
  return DecodeState(reply->r, execution_id);
}

Status RedisStateStore::Commit(int partition, uint64_t epoch, CommitBatch* batch) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::vector<std::string> args{std::to_string(epoch), std::to_string(batch->next_offset)};
  args.push_back(std::to_string(batch->states.size()));
  for (const auto& s : batch->states) {
    args.push_back(s->id);
    args.push_back(DumpJson(s->ToJson()));
  }
  args.push_back(std::to_string(batch->outbox.size()));
  for (const auto& e : batch->outbox) {
    args.push_back(DumpJson(JsonArray{Json(e.topic), Json(e.key), Json(e.value)}));
  }
  args.push_back(std::to_string(batch->timers_cancelled.size()));
  for (const auto& t : batch->timers_cancelled) args.push_back(TimerMember(t.execution_id, t.timer_id));
  args.push_back(std::to_string(batch->timers_set.size()));
  for (const auto& t : batch->timers_set) {
    args.push_back(std::to_string(t.fire_at));
    args.push_back(TimerMember(t.execution_id, t.timer_id));
  }
  std::lock_guard lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto reply, Script(kCommitScript,
                                           {Key(partition, "meta"), Key(partition, "states"),
                                            Key(partition, "outbox"), Key(partition, "timers")},
                                           args));
  const redisReply* r = reply->r;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != batch->outbox.size()) {
    return Internal("redis commit: unexpected reply");
  }
  for (size_t i = 0; i < r->elements; ++i) batch->outbox[i].seq = static_cast<uint64_t>(r->element[i]->integer);
  return Status::Ok();
}

Status RedisStateStore::AckOutbox(int partition, uint64_t epoch, uint64_t up_to_seq) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  return Script(kAckScript, {Key(partition, "meta"), Key(partition, "outbox")},
                {std::to_string(epoch), std::to_string(up_to_seq)})
      .status();
}

Result<std::vector<TimerEntry>> RedisStateStore::DueTimers(int partition, TimestampUs now, size_t max) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto reply, Command({"ZRANGEBYSCORE", Key(partition, "timers"), "-inf",
                                             std::to_string(now), "WITHSCORES", "LIMIT", "0",
                                             std::to_string(max)}));
  std::vector<TimerEntry> out;
  const redisReply* r = reply->r;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    std::string member = Str(r->element[i]);
    auto sep = member.find(kSep);
    if (sep == std::string::npos) continue;
    BORA_ASSIGN_OR_RETURN(int64_t at, ToInt(Str(r->element[i + 1])));
    out.push_back({member.substr(0, sep), member.substr(sep + 1), at});
  }
  return out;
}

Status RedisStateStore::RemoveTimer(int partition, uint64_t epoch, const TimerEntry& timer) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  return Script(kRemoveTimerScript, {Key(partition, "meta"), Key(partition, "timers")},
                {std::to_string(epoch), TimerMember(timer.execution_id, timer.timer_id),
                 std::to_string(timer.fire_at)})
      .status();
}

Result<std::optional<TimestampUs>> RedisStateStore::NextTimer(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto reply, Command({"ZRANGE", Key(partition, "timers"), "0", "0", "WITHSCORES"}));
  const redisReply* r = reply->r;
  if (r->elements < 2) return std::optional<TimestampUs>();
  BORA_ASSIGN_OR_RETURN(int64_t at, ToInt(Str(r->element[1])));
  return std::optional<TimestampUs>(at);
}

Result<std::optional<engine::ExecutionState>> RedisStateStore::ReadExecution(
    int partition, const std::string& execution_id) {
  BORA_ASSIGN_OR_RETURN(auto state, LoadExecution(partition, execution_id));
  if (!state) return std::optional<engine::ExecutionState>();
  return std::optional<engine::ExecutionState>(std::move(*state));
}

Result<std::vector<std::string>> RedisStateStore::ListExecutionIds(int partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  std::lock_guard lock(mu_);
  BORA_ASSIGN_OR_RETURN(auto reply, Command({"HKEYS", Key(partition, "states")}));
  std::vector<std::string> out;
  for (size_t i = 0; i < reply->r->elements; ++i) out.push_back(Str(reply->r->element[i]));
  return out;
}

}  // namespace bora::store
