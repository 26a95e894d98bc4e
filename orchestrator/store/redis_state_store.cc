#include "orchestrator/store/redis_state_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <unordered_set>

#include "common/json.h"
#include "common/json_text.h"
#include "common/log.h"
#include "orchestrator/store/stored_state.h"

namespace bora::store {

namespace {

// Commit: KEYS meta, states, outbox, timers, ids, created, then the tasks hash of each deleted execution
// and of each state of the batch (in order). ARGV epoch, next_offset, then counted sections: deleted
// executions (id, m, (indexed id)*m)*, deleted before anything is written; states (id, head, m, (task
// index, task json)*m)*; outbox (n, then ONE argument: the JSON array of the n entries, when n > 0);
// cancelled timers (member)*; set timers (score, member)*; new task / action execution ids (id,
// execution id)*; states new to this store for the listing index (creation second, execution id)* (ZADD:
// idempotent).
// The batch's entries take the sequence numbers first..first+n-1 and are stored as one field "first:last"
// (one write per batch, not per message). Returns first (0 if n = 0).
// A listing page of one partition: KEYS created; ARGV second, id ("" = from the start), limit. Members
// after (second, id) in (score, member) order, as a flat [member, score, ...] list: first the ties in the
// cursor's second (filtered here, so a busy second is not sent back), then the later seconds.
constexpr const char* kPageScript = R"lua(
local n = tonumber(ARGV[3])
local out = {}
local from = '-inf'
if ARGV[2] ~= '' then
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1])) do
    if #out >= 2 * n then break end
    if m > ARGV[2] then out[#out + 1] = m; out[#out + 1] = ARGV[1] end
  end
  from = '(' .. ARGV[1]
end
if #out < 2 * n then
  local rest = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, n - #out / 2)
  for _, v in ipairs(rest) do out[#out + 1] = v end
end
return out
)lua";

constexpr const char* kCommitScript = R"lua(
-- HSET key with the n (field, value) pairs from ARGV[i] on, 100 pairs per call (unpack's stack limit);
-- returns the index after them.
local function hset_pairs(key, i, n)
  while n > 0 do
    local c = math.min(n, 100)
    redis.call('HSET', key, unpack(ARGV, i, i + 2 * c - 1))
    i = i + 2 * c; n = n - c
  end
  return i
end
-- HSET key with the (field, value) pairs of table t, 100 pairs per call.
local function hset_table(key, t)
  local j = 1
  while j <= #t do
    local last = math.min(#t, j + 199)
    redis.call('HSET', key, unpack(t, j, last))
    j = last + 1
  end
end
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if tostring(epoch) ~= ARGV[1] then return redis.error_reply('FENCED current epoch ' .. tostring(epoch)) end
redis.call('HSET', KEYS[1], 'next_offset', ARGV[2])
local i = 3
local nd = tonumber(ARGV[i]); i = i + 1
for k = 1, nd do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[6], ARGV[i])
  redis.call('UNLINK', KEYS[6 + k])
  local m = tonumber(ARGV[i + 1]); i = i + 2
  while m > 0 do
    local c = math.min(m, 200)
    redis.call('HDEL', KEYS[5], unpack(ARGV, i, i + c - 1))
    i = i + c; m = m - c
  end
end
local n = tonumber(ARGV[i]); i = i + 1
local heads = {}  -- every state's head in one HSET (a call per state cost Redis ~1 us each)
for k = 1, n do
  heads[#heads + 1] = ARGV[i]; heads[#heads + 1] = ARGV[i + 1]
  i = hset_pairs(KEYS[6 + nd + k], i + 3, tonumber(ARGV[i + 2]))
end
hset_table(KEYS[2], heads)
n = tonumber(ARGV[i]); i = i + 1
local first = 0
if n > 0 then
  local last = redis.call('HINCRBY', KEYS[1], 'next_seq', n)
  first = last - n + 1
  redis.call('HSET', KEYS[3], first .. ':' .. last, ARGV[i]); i = i + 1
end
n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do redis.call('ZREM', KEYS[4], ARGV[i]); i = i + 1 end
n = tonumber(ARGV[i]); i = i + 1
for k = 1, n do redis.call('ZADD', KEYS[4], ARGV[i], ARGV[i + 1]); i = i + 2 end
i = hset_pairs(KEYS[5], i + 1, tonumber(ARGV[i]))
n = tonumber(ARGV[i]); i = i + 1
if n > 0 then redis.call('ZADD', KEYS[6], unpack(ARGV, i, i + 2 * n - 1)) end
return first
)lua";

// Claim: KEYS meta, outbox. Bumps the epoch; returns {epoch, next_offset, acked, field1, batch1, field2,
// batch2...}: entries with a sequence number <= acked were acknowledged already (their batch was only partly).
constexpr const char* kClaimScript = R"lua(
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
local offset = redis.call('HGET', KEYS[1], 'next_offset') or '0'
local acked = redis.call('HGET', KEYS[1], 'acked') or '0'
local out = {tostring(epoch), tostring(offset), tostring(acked)}
local all = redis.call('HGETALL', KEYS[2])
for k = 1, #all do out[#out + 1] = all[k] end
return out
)lua";

// Ack: KEYS meta, outbox. ARGV epoch, up_to_seq. Drops the batches whose last entry is acknowledged and
// remembers the mark (a claim skips the acknowledged entries of a batch acknowledged in part).
constexpr const char* kAckScript = R"lua(
local epoch = redis.call('HGET', KEYS[1], 'epoch')
if tostring(epoch) ~= ARGV[1] then return redis.error_reply('FENCED current epoch ' .. tostring(epoch)) end
local up = tonumber(ARGV[2])
local acked = tonumber(redis.call('HGET', KEYS[1], 'acked') or '0')
if up > acked then redis.call('HSET', KEYS[1], 'acked', ARGV[2]) end
for _, field in ipairs(redis.call('HKEYS', KEYS[2])) do
  local last = tonumber(string.match(field, ':(%d+)$') or field)  -- "first:last", or "seq" (one entry)
  if last ~= nil and last <= up then redis.call('HDEL', KEYS[2], field) end
end
return 1
)lua";

// Load: KEYS states, tasks hash of the execution. ARGV id. Returns {} when there is no state, else
// {head, field1, task1, field2, task2, ...} (a state written whole before states were split has no
// tasks hash).
constexpr const char* kLoadScript = R"lua(
local head = redis.call('HGET', KEYS[1], ARGV[1])
if not head then return {} end
local out = {head}
local all = redis.call('HGETALL', KEYS[2])
for k = 1, #all do out[#out + 1] = all[k] end
return out
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

namespace {
// A stored count ("task_count", "action_count"): a non-negative integer, or -1.
int64_t CountOf(const Json& count) {
  if (count.is_int64()) return count.get_int64() < 0 ? -1 : count.get_int64();
  if (count.is_uint64()) return static_cast<int64_t>(count.get_uint64());
  return -1;
}

// A load script's reply: {} (no state), {whole state} (written before states were split), or
// {head, index, task, index, task, ...}.
Result<std::shared_ptr<engine::ExecutionState>> DecodeState(const RedisReply& r, const std::string& id) {
  if (!r.IsArray()) return Internal("stored state of " + id + ": unexpected reply");
  if (r.Size() == 0) return std::shared_ptr<engine::ExecutionState>();
  auto head = ParseJson(r.StrAt(0), 512);
  if (!head.ok()) return head.status().WithContext("stored state of " + id);
  Result<engine::ExecutionState> state = InvalidArgument("");
  const bool split = head->is_object() && head->get_object().contains("task_count");
  if (!split) {
    state = engine::ExecutionState::FromJson(*head);
  } else {
    const int64_t n = CountOf(head->get_object().at("task_count"));
    if (n < 0) return Internal("stored state of " + id + ": bad task_count");
    // At most one slot more than there are stored tasks: a count beyond that finds a missing task there.
    const size_t slots = std::min(static_cast<size_t>(n), (r.Size() - 1) / 2 + 1);
    // Fields "<task>" (the task's head, or a whole task as written before actions were split) and
    // "<task>.<action>", and "<task>.items" (a with-items task's items).
    std::vector<std::optional<Json>> task_heads(slots);
    std::vector<std::vector<std::pair<int64_t, Json>>> actions(slots);
    std::vector<std::optional<Json>> items(slots);  // "<task>.items"
    for (size_t i = 1; i + 1 < r.Size(); i += 2) {
      const std::string field = r.StrAt(i);
      const auto dot = field.find('.');
      auto index = ToInt(std::string_view(field).substr(0, dot));
      const bool is_items = dot != std::string::npos && std::string_view(field).substr(dot + 1) == "items";
      auto action = dot == std::string::npos || is_items
                        ? Result<int64_t>(int64_t{-1})
                        : ToInt(std::string_view(field).substr(dot + 1));
      const bool bad_action = dot != std::string::npos && !is_items && (!action.ok() || *action < 0);
      if (!index.ok() || *index < 0 || bad_action) {
        return Internal("stored state of " + id + ": bad task field '" + field + "'");
      }
      if (static_cast<size_t>(*index) >= slots) continue;  // not part of this state
      auto json = ParseJson(r.StrAt(i + 1), 512);
      if (!json.ok()) return json.status().WithContext("stored state of " + id + ", field " + field);
      if (is_items) {
        items[static_cast<size_t>(*index)] = std::move(*json);
      } else if (dot == std::string::npos) {
        task_heads[static_cast<size_t>(*index)] = std::move(*json);
      } else {
        actions[static_cast<size_t>(*index)].emplace_back(*action, std::move(*json));
      }
    }
    std::vector<Json> tasks;
    tasks.reserve(slots);
    for (size_t t = 0; t < slots; ++t) {
      const std::string where = "stored state of " + id + ": task " + std::to_string(t);
      if (!task_heads[t]) return Internal(where + " is missing");
      Json& task = *task_heads[t];
      if (!task.is_object() || !task.get_object().contains("action_count")) {
        tasks.push_back(std::move(task));  // a whole task (actions inside)
        continue;
      }
      const int64_t m = CountOf(task.get_object().at("action_count"));
      if (m < 0) return Internal(where + ": bad action_count");
      auto& mine = actions[t];
      std::sort(mine.begin(), mine.end(),
                [](const auto& x, const auto& y) { return x.first < y.first; });
      std::vector<Json> ordered;
      ordered.reserve(std::min<size_t>(static_cast<size_t>(m), mine.size()));
      for (auto& [a, json] : mine) {
        if (a >= m) break;  // not part of this task
        if (a != static_cast<int64_t>(ordered.size())) break;  // a gap: reported below
        ordered.push_back(std::move(json));
      }
      if (static_cast<int64_t>(ordered.size()) != m) {
        return Internal(where + " action " + std::to_string(ordered.size()) + " is missing");
      }
      auto joined =
          engine::ExecutionState::TaskFromJsonParts(std::move(task), std::move(ordered), std::move(items[t]));
      if (!joined.ok()) return joined.status().WithContext(where);
      tasks.push_back(std::move(*joined));
    }
    state = engine::ExecutionState::FromJsonParts(std::move(*head), std::move(tasks));
  }
  if (!state.ok()) return state.status().WithContext("stored state of " + id);
  return std::make_shared<engine::ExecutionState>(std::move(*state));
}

uint64_t Digest(std::string_view text) { return std::hash<std::string_view>{}(text) ^ text.size(); }

bool IsFinal(engine::State s) {
  return s == engine::State::kSuccess || s == engine::State::kError || s == engine::State::kCancelled;
}
}  // namespace

RedisStateStore::RedisStateStore(RedisStoreOptions options, std::unique_ptr<RedisClient> client,
                                 std::unique_ptr<RedisClient> reader)
    : options_(std::move(options)),
      client_(std::move(client)),
      reader_(std::move(reader)),
      written_(options_.partitions) {
  const char* verify = std::getenv("BORA_VERIFY_REVISIONS");
  verify_revisions_ = verify != nullptr && std::string_view(verify) == "1";
}

RedisStateStore::~RedisStateStore() = default;

Result<std::unique_ptr<RedisStateStore>> RedisStateStore::Connect(const RedisStoreOptions& options) {
  if (options.partitions < 1) return InvalidArgument("a store needs at least one partition");
  BORA_ASSIGN_OR_RETURN(auto client, RedisClient::Connect(options.url, options.timeout_ms));
  BORA_ASSIGN_OR_RETURN(auto reader, RedisClient::Connect(options.url, options.timeout_ms));
  return std::unique_ptr<RedisStateStore>(
      new RedisStateStore(options, std::move(client), std::move(reader)));
}

Status RedisStateStore::CheckPartition(PartitionId partition) const {
  if (partition.value() < 0 || partition.value() >= options_.partitions) {
    return InvalidArgument("no partition " + std::to_string(partition.value()) +
                           " (the store has " + std::to_string(options_.partitions) + ")");
  }
  return Status::Ok();
}

std::string RedisStateStore::Key(PartitionId partition, std::string_view what) const {
  return "{" + options_.key_prefix + "p" + std::to_string(partition.value()) +
         "}:" + std::string(what);
}

std::string RedisStateStore::TasksKey(PartitionId partition,
                                      const std::string& execution_id) const {
  return Key(partition, "tasks:" + execution_id);
}

void RedisStateStore::ForgetWritten(PartitionId partition, const std::string* execution_id) {
  MutexLock lock(written_mu_);
  auto& m = written_[static_cast<size_t>(partition.value())];
  if (execution_id == nullptr) {
    m.clear();
  } else {
    m.erase(*execution_id);
  }
}

namespace {
// How long a claim on a cluster waits for the replica to take the new epoch (WAIT 1; ~0.1-0.3 ms
// when the replica is up: tests/redis_cluster/redis_cluster_test.cc).
constexpr int kClaimWaitMs = 500;
}  // namespace

Result<PartitionClaim> RedisStateStore::ClaimPartition(PartitionId partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  ForgetWritten(partition, nullptr);  // another owner may have written since
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Eval(kClaimScript, {Key(partition, "meta"), Key(partition, "outbox")}, {}));
  if (!reply->IsArray() || reply->Size() < 3) return Internal("redis claim: unexpected reply");
  if (client_->cluster() != nullptr) {
    // On a cluster, the new epoch reaches the master's replica before the new owner writes: a
    // failover right after the claim cannot bring back the previous epoch and let the stale owner
    // in. Without a live replica (WAIT answers 0 after the timeout) the claim goes on; then only
    // Kafka's revocation keeps a stale owner out, as after a single server's restart.
    (void)client_->WaitForReplicas(Key(partition, "meta"), 1, kClaimWaitMs);
  }
  PartitionClaim claim;
  BORA_ASSIGN_OR_RETURN(int64_t epoch, ToInt(reply->StrAt(0)));
  BORA_ASSIGN_OR_RETURN(claim.next_offset, ToInt(reply->StrAt(1)));
  BORA_ASSIGN_OR_RETURN(int64_t acked, ToInt(reply->StrAt(2)));
  claim.epoch = Epoch(static_cast<uint64_t>(epoch));
  for (size_t i = 3; i + 1 < reply->Size(); i += 2) {
    // Field "first:last", value [[topic, key, value], ...] with last - first + 1 entries; or (written before
    // batches were stored whole) field "seq", value [topic, key, value].
    const std::string field = reply->StrAt(i);
    const auto colon = field.find(':');
    auto first = ToInt(std::string_view(field).substr(0, colon));
    auto last = colon == std::string::npos ? first : ToInt(std::string_view(field).substr(colon + 1));
    auto entries = ParseJson(reply->StrAt(i + 1));
    if (colon == std::string::npos && entries.ok()) entries = Json(JsonArray{*entries});
    if (!first.ok() || !last.ok() || !entries.ok() || !entries->is_array() ||
        static_cast<int64_t>(entries->get_array().size()) != *last - *first + 1) {
      return Internal("redis claim: bad outbox batch '" + field + "'");
    }
    int64_t seq = *first;
    for (const auto& e : entries->get_array()) {
      if (!e.is_array() || e.get_array().size() != 3 || !e.get_array()[0].is_string() ||
          !e.get_array()[1].is_string() || !e.get_array()[2].is_string()) {
        return Internal("redis claim: bad outbox entry " + std::to_string(seq));
      }
      const auto& a = e.get_array();
      if (seq > acked) {
        claim.outbox.push_back({static_cast<uint64_t>(seq), std::string(a[0].as_string()),
                                std::string(a[1].as_string()), std::string(a[2].as_string())});
      }
      ++seq;
    }
  }
  std::sort(claim.outbox.begin(), claim.outbox.end(),
            [](const OutboxEntry& a, const OutboxEntry& b) { return a.seq < b.seq; });
  return claim;
}

Result<std::shared_ptr<engine::ExecutionState>> RedisStateStore::LoadExecution(
    PartitionId partition, const ExecutionId& execution_id) {
  return std::move(LoadExecutions({{partition, execution_id}})[0]);
}

RedisClient::EvalCall RedisStateStore::LoadCall(PartitionId partition,
                                                const std::string& execution_id) const {
  return {{Key(partition, "states"), TasksKey(partition, execution_id)}, {execution_id}};
}

Result<RedisClient::EvalCall> RedisStateStore::CommitCall(
    PartitionId partition, Epoch epoch, const CommitBatch& batch,
    std::vector<WrittenTasks>* written) const {
  RedisClient::EvalCall call;
  call.keys = {Key(partition, "meta"), Key(partition, "states"), Key(partition, "outbox"),
               Key(partition, "timers"), Key(partition, "ids"), Key(partition, "created")};
  auto& args = call.args;
  args.reserve(8 + 5 * batch.states.size() + batch.outbox.size() + batch.timers_cancelled.size() +
               2 * batch.timers_set.size());
  // Task and action execution ids not indexed yet: (id, execution id).
  std::vector<std::pair<const std::string*, const std::string*>> new_ids;
  // States this store does not know (new, or not written by it since the claim): into the listing index.
  std::vector<const engine::ExecutionState*> new_states;
  args.push_back(std::to_string(epoch.value()));
  args.push_back(std::to_string(batch.next_offset));
  args.push_back(std::to_string(batch.deleted.size()));
  for (const auto& d : batch.deleted) {
    call.keys.push_back(TasksKey(partition, d.execution_id));
    args.push_back(d.execution_id);
    args.push_back(std::to_string(d.indexed_ids.size()));
    args.insert(args.end(), d.indexed_ids.begin(), d.indexed_ids.end());
    written->push_back(WrittenTasks{d.execution_id, true, {}});  // forgotten
  }
  args.push_back(std::to_string(batch.states.size()));
  {
    MutexLock lock(written_mu_);
    const auto& known = written_[static_cast<size_t>(partition.value())];
    std::string text;
    for (const auto& s : batch.states) {
      call.keys.push_back(TasksKey(partition, s->id));
      args.push_back(s->id);
      args.emplace_back();
      s->AppendHeadJsonText(args.back());
      const size_t count_at = args.size();
      args.emplace_back();
      // Only the tasks whose text differs from what this store last wrote (all when it does not know, or
      // when the same commit deletes the execution first: a new one of the same id).
      auto it = known.find(s->id);
      const Known* before = it == known.end() ? nullptr : &it->second;
      for (const auto& d : batch.deleted) {
        if (d.execution_id == s->id) before = nullptr;
      }
      if (before == nullptr) new_states.push_back(s.get());
      WrittenTasks w{s->id, IsFinal(s->state), {}};
      w.tasks.reserve(s->tasks.size());
      size_t changed = 0;
      for (size_t t = 0; t < s->tasks.size(); ++t) {
        const engine::TaskExecution& task = s->tasks[t];
        const KnownTask* kt =
            before != nullptr && t < before->tasks.size() ? &before->tasks[t] : nullptr;
        // Ids of tasks and actions this store has not written yet go to the index (again, harmlessly,
        // after a claim or a load).
        if (kt == nullptr) new_ids.emplace_back(&task.id, &s->id);
        TaskWrite& tw = w.tasks.emplace_back();
        KnownTask& now = tw.task;
        now.revision = task.revision;
        const std::string field = std::to_string(t);
        // A task (an action) whose revision did not move since this store wrote it is unchanged: it is not
        // even serialised (unless verifying). Otherwise its text is written if its digest changed.
        if (kt != nullptr && kt->revision == task.revision && !verify_revisions_) {
          now.head = kt->head;
        } else {
          text.clear();
          engine::ExecutionState::AppendTaskHeadJsonText(task, text);
          now.head = Digest(text);
          if (kt != nullptr && kt->revision == task.revision && kt->head != now.head) {
            return Internal("execution " + s->id + " task " + task.name + " [id=" + task.id +
                            "] changed without a new revision");
          }
          if (kt == nullptr || kt->head != now.head) {
            args.push_back(field);
            args.push_back(text);
            ++changed;
          }
        }
        // A with-items task's items are a field of their own ("<task>.items"), written when set.
        if (engine::ExecutionState::ItemsSplit(task)) {
          now.items_revision = task.with_items.items_revision;
          const bool same_revision =
              kt != nullptr && kt->items != 0 && kt->items_revision == now.items_revision;
          if (same_revision && !verify_revisions_) {
            now.items = kt->items;
          } else {
            text.clear();
            engine::ExecutionState::AppendItemsJsonText(task, text);
            now.items = Digest(text) | 1;  // never 0 ("none")
            if (kt == nullptr || kt->items != now.items) {
              if (same_revision) {
                return Internal("execution " + s->id + " task " + task.name + " [id=" + task.id +
                                "]: its with-items items changed without a new revision");
              }
              args.push_back(field + ".items");
              args.push_back(text);
              ++changed;
            }
          }
        }
        // A task's action executions are fields of their own ("<task>.<action>"): a with-items task of
        // many items writes the few that changed, not all of them. Looks at one action: writes it if its
        // text changed; returns its (digest, revision).
        auto action = [&](size_t a) -> Result<std::pair<uint64_t, uint64_t>> {
          const engine::ActionExecution& ae = task.actions[a];
          const bool known_action = kt != nullptr && a < kt->actions.size();
          const bool same_revision = known_action && kt->action_revisions[a] == ae.revision;
          if (same_revision && !verify_revisions_) return std::make_pair(kt->actions[a], ae.revision);
          if (!known_action) new_ids.emplace_back(&ae.id, &s->id);
          text.clear();
          engine::ExecutionState::AppendActionJsonText(ae, text);
          const uint64_t d = Digest(text);
          if (known_action && kt->actions[a] == d) return std::make_pair(d, ae.revision);
          if (same_revision) {
            return Internal("execution " + s->id + " task " + task.name + " action " + ae.id +
                            " changed without a new revision");
          }
          args.push_back(field + "." + std::to_string(a));
          args.push_back(text);
          ++changed;
          return std::make_pair(d, ae.revision);
        };
        // Only the listed actions and the new ones when the store knows the others as they are.
        const bool delta =
            kt != nullptr && !task.all_actions_changed && task.actions.size() >= kt->actions.size();
        if (delta) {
          tw.full = false;
          tw.action_count = task.actions.size();
          std::vector<uint32_t> look = task.changed_actions;
          std::sort(look.begin(), look.end());
          look.erase(std::unique(look.begin(), look.end()), look.end());
          for (uint32_t a : look) {
            if (a >= kt->actions.size()) break;  // new: below
            BORA_ASSIGN_OR_RETURN(auto dr, action(a));
            tw.actions.emplace_back(a, dr.first, dr.second);
          }
          for (size_t a = kt->actions.size(); a < task.actions.size(); ++a) {
            BORA_ASSIGN_OR_RETURN(auto dr, action(a));
            tw.actions.emplace_back(static_cast<uint32_t>(a), dr.first, dr.second);
          }
          // Verifying: an action the engine did not list must be as this store wrote it.
          for (size_t a = 0; verify_revisions_ && a < kt->actions.size(); ++a) {
            if (std::binary_search(look.begin(), look.end(), static_cast<uint32_t>(a))) continue;
            text.clear();
            engine::ExecutionState::AppendActionJsonText(task.actions[a], text);
            if (Digest(text) != kt->actions[a]) {
              return Internal("execution " + s->id + " task " + task.name + " action " + task.actions[a].id +
                              " changed without being listed as changed");
            }
          }
        } else {
          now.actions.reserve(task.actions.size());
          now.action_revisions.reserve(task.actions.size());
          for (size_t a = 0; a < task.actions.size(); ++a) {
            BORA_ASSIGN_OR_RETURN(auto dr, action(a));
            now.actions.push_back(dr.first);
            now.action_revisions.push_back(dr.second);
          }
        }
      }
      args[count_at] = std::to_string(changed);
      written->push_back(std::move(w));
    }
  }
  args.push_back(std::to_string(batch.outbox.size()));
  if (!batch.outbox.empty()) {
    std::string entries;
    JsonTextWriter w(entries);
    w.BeginArray();
    for (const auto& e : batch.outbox) {
      w.BeginArray();
      w.Str(e.topic);
      w.Str(e.key);
      w.Str(e.value);
      w.EndArray();
    }
    w.EndArray();
    args.push_back(std::move(entries));
  }
  args.push_back(std::to_string(batch.timers_cancelled.size()));
  for (const auto& t : batch.timers_cancelled) args.push_back(TimerMember(t.execution_id, t.timer_id));
  args.push_back(std::to_string(batch.timers_set.size()));
  for (const auto& t : batch.timers_set) {
    args.push_back(std::to_string(t.fire_at));
    args.push_back(TimerMember(t.execution_id, t.timer_id));
  }
  args.push_back(std::to_string(new_ids.size()));
  for (const auto& [id, exec] : new_ids) {
    args.push_back(*id);
    args.push_back(*exec);
  }
  args.push_back(std::to_string(new_states.size()));
  for (const auto* st : new_states) {
    args.push_back(std::to_string(ListSecond(st->created_at)));
    args.push_back(st->id);
  }
  return call;
}

Status RedisStateStore::ReadCommitReply(const RedisReply& reply, CommitBatch* batch) {
  auto first = ToInt(reply.Str());
  if (!first.ok() || (*first <= 0 && !batch->outbox.empty())) return Internal("redis commit: unexpected reply");
  uint64_t seq = static_cast<uint64_t>(*first);
  for (auto& e : batch->outbox) e.seq = seq++;
  return Status::Ok();
}

Status RedisStateStore::Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) {
  return CommitMany({{partition, epoch, batch}})[0];
}

// Commits sent by SendCommits (or CommitMany): the script calls' replies are read back in Await.
class RedisStateStore::Sent final : public StateStore::SentCommits {
 public:
  Sent(RedisStateStore* store, const std::vector<PartitionCommit>& commits) : store_(store), commits_(commits) {
    out_.assign(commits.size(), Status::Ok());
    std::vector<RedisClient::EvalCall> calls;
    calls.reserve(commits.size());
    written_.reserve(commits.size());
    for (size_t i = 0; i < commits.size(); ++i) {
      out_[i] = store->CheckPartition(commits[i].partition);
      if (!out_[i].ok()) continue;
      std::vector<WrittenTasks> written;
      auto call = store->CommitCall(commits[i].partition, commits[i].epoch, *commits[i].batch, &written);
      if (!call.ok()) {
        BORA_LOG_ERROR("commit of partition {}: {}", commits[i].partition, call.status().ToString());
        out_[i] = call.status();
        continue;
      }
      written_.push_back(std::move(written));
      calls.push_back(std::move(*call));
      index_.push_back(i);
    }
    ticket_ = store->client_->SendEvalMany(kCommitScript, std::move(calls));
  }

  std::vector<Status> Await() override {
    auto replies = store_->client_->ReceiveEvalMany(ticket_);
    MutexLock lock(store_->written_mu_);
    for (size_t k = 0; k < index_.size(); ++k) {
      size_t i = index_[k];
      out_[i] = k >= replies.size()   ? Internal("redis commit: no reply")
                : replies[k].ok() ? ReadCommitReply(**replies[k], commits_[i].batch)
                                  : replies[k].status();
      auto& known = store_->written_[static_cast<size_t>(commits_[i].partition.value())];
      // A finished execution is forgotten (a later event, e.g. a rerun, writes all its tasks again); so is
      // everything when the map outgrows the orchestrator's cache.
      if (known.size() > kMaxRemembered) known.clear();
      for (auto& w : written_[k]) {
        if (!out_[i].ok() || w.final) {
          known.erase(w.id);  // a failed commit may or may not have written: the next one writes all tasks
        } else {
          Remember(known, w);
        }
      }
    }
    return std::move(out_);
  }

 private:
  RedisStateStore* store_;
  std::vector<PartitionCommit> commits_;
  std::vector<Status> out_;
  std::vector<size_t> index_;  // the k-th script call is commits_[index_[k]]
  std::vector<std::vector<WrittenTasks>> written_;  // what the k-th call writes, remembered if it commits
  uint64_t ticket_ = 0;
};

void RedisStateStore::Remember(std::unordered_map<std::string, Known>& known, WrittenTasks& w) {
  auto it = known.find(w.id);
  for (const TaskWrite& tw : w.tasks) {
    // A delta needs what it was computed against (gone if the map was cleared meanwhile): forget instead.
    if (!tw.full && it == known.end()) {
      return;
    }
  }
  if (it == known.end()) it = known.emplace(w.id, Known{}).first;
  std::vector<KnownTask>& tasks = it->second.tasks;
  tasks.resize(w.tasks.size());
  for (size_t t = 0; t < w.tasks.size(); ++t) {
    TaskWrite& tw = w.tasks[t];
    if (tw.full) {
      tasks[t] = std::move(tw.task);
      continue;
    }
    KnownTask& kt = tasks[t];
    kt.head = tw.task.head;
    kt.revision = tw.task.revision;
    kt.items = tw.task.items;
    kt.items_revision = tw.task.items_revision;
    kt.actions.resize(tw.action_count);
    kt.action_revisions.resize(tw.action_count);
    for (const auto& [a, digest, revision] : tw.actions) {
      kt.actions[a] = digest;
      kt.action_revisions[a] = revision;
    }
  }
}

std::vector<Status> RedisStateStore::CommitMany(const std::vector<PartitionCommit>& commits) {
  return Sent(this, commits).Await();
}

std::unique_ptr<StateStore::SentCommits> RedisStateStore::SendCommits(
    const std::vector<PartitionCommit>& commits) {
  return std::make_unique<Sent>(this, commits);
}

std::vector<Result<std::shared_ptr<engine::ExecutionState>>> RedisStateStore::LoadExecutions(
    const std::vector<ExecutionKey>& keys) {
  auto out = Read(keys);
  // What is stored is the truth now: the next commit of these executions writes all their tasks.
  for (const auto& k : keys) {
    if (CheckPartition(k.partition).ok()) ForgetWritten(k.partition, &k.execution_id.value());
  }
  return out;
}

std::vector<Result<std::shared_ptr<engine::ExecutionState>>> RedisStateStore::Read(
    const std::vector<ExecutionKey>& keys) {
  std::vector<Result<std::shared_ptr<engine::ExecutionState>>> out;
  out.reserve(keys.size());
  std::vector<RedisClient::EvalCall> calls;
  calls.reserve(keys.size());
  for (const auto& k : keys) {
    if (CheckPartition(k.partition).ok())
      calls.push_back(LoadCall(k.partition, k.execution_id.value()));
  }
  auto replies = reader_->EvalMany(kLoadScript, calls, /*idempotent=*/true);
  size_t r = 0;
  for (const auto& k : keys) {
    if (Status s = CheckPartition(k.partition); !s.ok()) {
      out.emplace_back(s);
    } else if (const auto& reply = replies[r++]; !reply.ok()) {
      out.emplace_back(reply.status());
    } else {
      out.push_back(DecodeState(**reply, k.execution_id.value()));
    }
  }
  return out;
}

Status RedisStateStore::AckOutbox(PartitionId partition, Epoch epoch, uint64_t up_to_seq) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  return client_
      ->Eval(kAckScript, {Key(partition, "meta"), Key(partition, "outbox")},
             {std::to_string(epoch.value()), std::to_string(up_to_seq)})
      .status();
}

Result<std::vector<TimerEntry>> RedisStateStore::DueTimers(PartitionId partition, TimestampUs now,
                                                           size_t max) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"ZRANGEBYSCORE", Key(partition, "timers"), "-inf",
                                             std::to_string(now), "WITHSCORES", "LIMIT", "0",
                                             std::to_string(max)}));
  std::vector<TimerEntry> out;
  for (size_t i = 0; i + 1 < reply->Size(); i += 2) {
    std::string member = reply->StrAt(i);
    auto sep = member.find(kSep);
    if (sep == std::string::npos) continue;
    BORA_ASSIGN_OR_RETURN(int64_t at, ToInt(reply->StrAt(i + 1)));
    out.push_back({member.substr(0, sep), member.substr(sep + 1), at});
  }
  return out;
}

Status RedisStateStore::RemoveTimer(PartitionId partition, Epoch epoch, const TimerEntry& timer) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  return client_
      ->Eval(kRemoveTimerScript, {Key(partition, "meta"), Key(partition, "timers")},
             {std::to_string(epoch.value()), TimerMember(timer.execution_id, timer.timer_id),
              std::to_string(timer.fire_at)})
      .status();
}

Result<std::optional<TimestampUs>> RedisStateStore::NextTimer(PartitionId partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"ZRANGE", Key(partition, "timers"), "0", "0", "WITHSCORES"}));
  if (reply->Size() < 2) return std::optional<TimestampUs>();
  BORA_ASSIGN_OR_RETURN(int64_t at, ToInt(reply->StrAt(1)));
  return std::optional<TimestampUs>(at);
}

Result<std::optional<engine::ExecutionState>> RedisStateStore::ReadExecution(
    PartitionId partition, const ExecutionId& execution_id) {
  return std::move(ReadExecutions({{partition, execution_id}})[0]);
}

std::vector<Result<std::optional<engine::ExecutionState>>> RedisStateStore::ReadExecutions(
    const std::vector<ExecutionKey>& keys) {
  std::vector<Result<std::optional<engine::ExecutionState>>> out;
  out.reserve(keys.size());
  for (size_t from = 0; from < keys.size(); from += kReadChunk) {
    std::vector<ExecutionKey> chunk(keys.begin() + static_cast<long>(from),
                                    keys.begin() + static_cast<long>(std::min(keys.size(), from + kReadChunk)));
    for (auto& r : Read(chunk)) {
      if (!r.ok()) {
        out.emplace_back(r.status());
      } else if (*r == nullptr) {
        out.emplace_back(std::optional<engine::ExecutionState>());
      } else {
        out.emplace_back(std::optional<engine::ExecutionState>(std::move(**r)));
      }
    }
  }
  return out;
}

Result<std::vector<engine::ExecutionState>> RedisStateStore::ReadExecutionHeads(
    PartitionId partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  const std::string states = Key(partition, "states");
  std::vector<engine::ExecutionState> out;
  std::unordered_set<std::string> seen;  // HSCAN may return an entry twice (while the hash is rehashed)
  std::string cursor = "0";
  do {
    BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"HSCAN", states, cursor, "COUNT",
                                                        std::to_string(kReadChunk)}));
    const redisReply* r = reply->get();
    if (r == nullptr || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
      return Internal("redis HSCAN " + states + ": unexpected reply");
    }
    cursor.assign(r->element[0]->str, r->element[0]->len);
    const redisReply* items = r->element[1];
    for (size_t i = 0; i + 1 < items->elements; i += 2) {
      std::string id(items->element[i]->str, items->element[i]->len);
      if (!seen.insert(id).second) continue;
      // A head (tasks in their own hash, not read) or a state stored whole (its tasks dropped).
      BORA_ASSIGN_OR_RETURN(
          auto state,
          DecodeStoredHead(std::string_view(items->element[i + 1]->str, items->element[i + 1]->len),
                           id));
      out.push_back(std::move(state));
    }
  } while (cursor != "0");
  return out;
}

Result<std::optional<engine::ExecutionState>> RedisStateStore::ReadExecutionHead(
    PartitionId partition, const ExecutionId& execution_id) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  BORA_ASSIGN_OR_RETURN(auto reply,
                        client_->Command({"HGET", Key(partition, "states"), execution_id.value()}));
  if (reply->IsNil()) return std::optional<engine::ExecutionState>();
  BORA_ASSIGN_OR_RETURN(auto state, DecodeStoredHead(reply->Str(), execution_id.value()));
  return std::optional<engine::ExecutionState>(std::move(state));
}

Result<std::optional<ExecutionKey>> RedisStateStore::FindExecutionOf(const std::string& id) {
  std::vector<std::string> hashes;
  std::vector<RedisClient::Argv> commands;
  hashes.reserve(static_cast<size_t>(options_.partitions));
  for (int p = 0; p < options_.partitions; ++p) hashes.push_back(Key(PartitionId(p), "ids"));
  for (const auto& h : hashes) commands.push_back({"HGET", h, id});
  auto replies = client_->Pipeline(commands);
  for (size_t p = 0; p < replies.size(); ++p) {
    if (!replies[p].ok()) return replies[p].status();
    if (!(*replies[p])->IsNil()) {
      return std::optional<ExecutionKey>(
          ExecutionKey{PartitionId(static_cast<int>(p)), ExecutionId((*replies[p])->Str())});
    }
  }
  return std::optional<ExecutionKey>();
}

Result<std::vector<ExecutionId>> RedisStateStore::ListExecutionIds(PartitionId partition) {
  BORA_RETURN_IF_ERROR(CheckPartition(partition));
  BORA_ASSIGN_OR_RETURN(auto reply, client_->Command({"HKEYS", Key(partition, "states")}));
  std::vector<ExecutionId> out;
  for (size_t i = 0; i < reply->Size(); ++i) out.emplace_back(reply->StrAt(i));
  return out;
}

Result<std::vector<engine::ExecutionState>> RedisStateStore::ReadExecutionHeadsPage(
    const std::optional<ListCursor>& after, size_t limit) {
  std::vector<engine::ExecutionState> out;
  if (limit == 0) return out;
  std::vector<RedisClient::EvalCall> calls;
  for (int p = 0; p < options_.partitions; ++p) {
    calls.push_back({{Key(PartitionId(p), "created")},
                     {after ? std::to_string(after->created_s) : "0", after ? after->id : "",
                      std::to_string(limit)}});
  }
  auto replies = reader_->EvalMany(kPageScript, calls, /*idempotent=*/true);
  struct Entry {
    int64_t second;
    std::string id;
    int partition;
  };
  std::vector<Entry> entries;
  for (int p = 0; p < options_.partitions; ++p) {
    auto& reply = replies[static_cast<size_t>(p)];
    if (!reply.ok()) return reply.status().WithContext("listing page of partition " + std::to_string(p));
    for (size_t i = 0; i + 1 < (*reply)->Size(); i += 2) {
      BORA_ASSIGN_OR_RETURN(int64_t second, ToInt((*reply)->StrAt(i + 1)));
      entries.push_back({second, (*reply)->StrAt(i), p});
    }
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.second != b.second ? a.second < b.second : a.id < b.id;
  });
  if (entries.size() > limit) entries.resize(limit);
  std::vector<std::string> hashes;
  hashes.reserve(entries.size());
  std::vector<RedisClient::Argv> gets;
  gets.reserve(entries.size());
  for (const auto& e : entries) {
    hashes.push_back(Key(PartitionId(e.partition), "states"));
    gets.push_back({"HGET", hashes.back(), e.id});
  }
  auto heads = reader_->Pipeline(gets);
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!heads[i].ok()) return heads[i].status();
    if ((*heads[i])->IsNil()) continue;  // deleted since it was indexed
    BORA_ASSIGN_OR_RETURN(auto state, DecodeStoredHead((*heads[i])->Str(), entries[i].id));
    out.push_back(std::move(state));
  }
  return out;
}

}  // namespace bora::store
