#include "common/redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <boost/uuid/detail/sha1.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <unordered_map>

#include "common/metrics/metrics.h"
#include "common/redis/redis_cluster.h"

namespace bora {

RedisReply::~RedisReply() {
  if (r_) freeReplyObject(r_);
}

bool RedisReply::IsNil() const { return r_->type == REDIS_REPLY_NIL; }
bool RedisReply::IsArray() const { return r_->type == REDIS_REPLY_ARRAY; }
size_t RedisReply::Size() const { return r_->type == REDIS_REPLY_ARRAY ? r_->elements : 0; }

namespace {
std::string Text(const redisReply* r) {
  if (r == nullptr) return {};
  switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR: return std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    default: return {};
  }
}
}  // namespace

std::string RedisReply::Str() const { return Text(r_); }
std::string RedisReply::StrAt(size_t i) const { return i < Size() ? Text(r_->element[i]) : std::string(); }
long long RedisReply::IntAt(size_t i) const {
  if (i >= Size()) return 0;
  const redisReply* e = r_->element[i];
  if (e->type == REDIS_REPLY_INTEGER) return e->integer;
  long long v = 0;
  std::string s = Text(e);
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

Result<std::unique_ptr<RedisClient>> RedisClient::Connect(const std::string& url, int timeout_ms) {
  std::unique_ptr<RedisClient> c(new RedisClient());
  constexpr std::string_view kCluster = "redis+cluster://";
  if (url.rfind(kCluster, 0) == 0) {
    std::string rest = url.substr(kCluster.size());
    if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
    std::vector<std::string> seeds;
    for (size_t start = 0; start <= rest.size();) {
      size_t comma = rest.find(',', start);
      if (comma == std::string::npos) comma = rest.size();
      if (comma > start) seeds.push_back(rest.substr(start, comma - start));
      start = comma + 1;
    }
    if (seeds.empty()) return InvalidArgument("redis url " + url + ": no node");
    BORA_ASSIGN_OR_RETURN(c->cluster_, RedisClusterRouter::Connect(seeds, timeout_ms));
    c->address_ = url;
    c->timeout_ms_ = timeout_ms;
    return c;
  }
  std::string rest = url;
  if (rest.rfind("redis://", 0) == 0) rest = rest.substr(8);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest = rest.substr(0, slash);
  auto colon = rest.rfind(':');
  c->host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  if (colon != std::string::npos) {
    std::string p = rest.substr(colon + 1);
    int port = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port <= 0 || port > 65535) {
      return InvalidArgument("redis url " + url + ": bad port");
    }
    c->port_ = port;
  }
  if (c->host_.empty()) return InvalidArgument("redis url " + url + ": no host");
  c->timeout_ms_ = timeout_ms;
  c->address_ = c->host_ + ":" + std::to_string(c->port_);
  MutexLock lock(c->mu_);
  BORA_RETURN_IF_ERROR(c->EnsureConnected());
  return c;
}

RedisClient::~RedisClient() {
  if (ctx_) redisFree(ctx_);
}

uint64_t RedisClient::commands_sent() const {
  if (cluster_) return cluster_->commands_sent();
  return commands_.load(std::memory_order_relaxed);
}

Status RedisClient::EnsureConnected() {
  if (ctx_ && ctx_->err == 0) return Status::Ok();
  loaded_scripts_.clear();
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  timeval tv{timeout_ms_ / 1000, (timeout_ms_ % 1000) * 1000};
  ctx_ = redisConnectWithTimeout(host_.c_str(), port_, tv);
  if (ctx_ == nullptr || ctx_->err) {
    std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) {
      redisFree(ctx_);
      ctx_ = nullptr;
    }
    return Unavailable("redis " + address_ + ": " + why);
  }
  redisSetTimeout(ctx_, tv);
  return Status::Ok();
}

Result<std::unique_ptr<RedisReply>> RedisClient::TakeReply(void* raw_reply, std::string_view name) {
  auto* raw = static_cast<redisReply*>(raw_reply);
  if (raw == nullptr) {
    std::string why = ctx_ ? ctx_->errstr : "not connected";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    loaded_scripts_.clear();
    return Unavailable("redis " + std::string(name) + ": " + why);
  }
  auto reply = std::make_unique<RedisReply>(raw);
  if (raw->type == REDIS_REPLY_ERROR) {
    std::string msg = reply->Str();
    if (msg.rfind("FENCED", 0) == 0) return Aborted("partition is fenced: " + msg);
    return Unavailable("redis " + std::string(name) + ": " + msg);
  }
  return reply;
}

Result<std::unique_ptr<RedisReply>> RedisClient::Command(const std::vector<std::string>& argv) {
  if (cluster_) return cluster_->Command(argv);
  MutexLock lock(mu_);
  DrainLocked();
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
  auto started = std::chrono::steady_clock::now();
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
  std::string_view name = argv.empty() ? std::string_view() : std::string_view(argv[0]);
  metrics::RedisCommand(name,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                        raw != nullptr && raw->type != REDIS_REPLY_ERROR);
  return TakeReply(raw, name);
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClient::Pipeline(const std::vector<Argv>& commands) {
  if (cluster_) return cluster_->Pipeline(commands);
  MutexLock lock(mu_);
  return PipelineLocked(commands);
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClient::PipelineLocked(
    const std::vector<Argv>& commands) {
  std::vector<Result<std::unique_ptr<RedisReply>>> out;
  out.reserve(commands.size());
  if (commands.empty()) return out;
  DrainLocked();
  if (Status s = EnsureConnected(); !s.ok()) {
    for (size_t i = 0; i < commands.size(); ++i) out.emplace_back(s);
    return out;
  }
  auto started = std::chrono::steady_clock::now();
  size_t appended = 0;
  for (const auto& argv : commands) {
    // Appending only buffers (hiredis writes when the first reply is read); it fails on out-of-memory.
    if (!AppendLocked(argv)) break;
    ++appended;
  }
  commands_ += appended;
  for (size_t i = 0; i < commands.size(); ++i) {
    std::string_view name = commands[i].empty() ? std::string_view() : commands[i][0];
    void* raw = nullptr;
    if (i < appended && ctx_ != nullptr && redisGetReply(ctx_, &raw) != REDIS_OK) raw = nullptr;
    if (i < appended) {
      // The round trip is shared: each command is recorded with the pipeline's time so far.
      auto* r = static_cast<redisReply*>(raw);
      metrics::RedisCommand(
          name, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
          r != nullptr && r->type != REDIS_REPLY_ERROR);
    }
    if (ctx_ == nullptr) {
      if (raw) freeReplyObject(raw);
      out.emplace_back(Unavailable("redis " + std::string(name) + ": connection lost in a pipeline"));
      continue;
    }
    out.push_back(TakeReply(raw, name));
  }
  return out;
}

namespace {

// Lower-case hex SHA-1 of a script body: the name EVALSHA knows it by.
std::string ScriptSha1(const std::string& body) {
  boost::uuids::detail::sha1 sha;
  sha.process_bytes(body.data(), body.size());
  boost::uuids::detail::sha1::digest_type digest;
  sha.get_digest(digest);
  char hex[41];
  for (int i = 0; i < 5; ++i) std::snprintf(hex + i * 8, 9, "%08x", digest[i]);
  return std::string(hex, 40);
}

// ScriptSha1, remembered per body (a handful of scripts; hashing the body is ~20x cheaper than SHA-1,
// which showed at 1.5% of the orchestrator's CPU when computed per commit).
std::string CachedScriptSha1(const std::string& body) {
  static Mutex mu;
  static std::unordered_map<std::string, std::string> cache GUARDED_BY(mu);
  MutexLock lock(mu);
  auto it = cache.find(body);
  if (it == cache.end()) it = cache.emplace(body, ScriptSha1(body)).first;
  return it->second;
}

}  // namespace

bool RedisClient::AppendLocked(const Argv& argv) {
  if (ctx_ == nullptr) return false;
  constexpr size_t kInline = 16;
  const char* ptrs_inline[kInline];
  size_t lens_inline[kInline];
  std::vector<const char*> ptrs_heap;
  std::vector<size_t> lens_heap;
  const char** ptrs = ptrs_inline;
  size_t* lens = lens_inline;
  if (argv.size() > kInline) {
    ptrs_heap.resize(argv.size());
    lens_heap.resize(argv.size());
    ptrs = ptrs_heap.data();
    lens = lens_heap.data();
  }
  for (size_t i = 0; i < argv.size(); ++i) {
    ptrs[i] = argv[i].data();
    lens[i] = argv[i].size();
  }
  return redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), ptrs, lens) == REDIS_OK;
}

void RedisClient::DrainLocked() {
  for (Outstanding& o : outstanding_) {
    if (o.read) continue;
    o.read = true;
    const size_t expected = o.calls + (o.load ? 1 : 0);
    o.replies.reserve(o.calls);
    for (size_t i = 0; i < expected; ++i) {
      if (ctx_ == nullptr) {
        if (i >= (o.load ? 1u : 0u)) {
          o.replies.emplace_back(Unavailable("redis EVALSHA: connection lost before the reply"));
        }
        continue;
      }
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK) raw = nullptr;
      auto* r = static_cast<redisReply*>(raw);
      const bool is_load = o.load && i == 0;
      metrics::RedisCommand(
          is_load ? "SCRIPT" : "EVALSHA",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - o.started).count(),
          r != nullptr && r->type != REDIS_REPLY_ERROR);
      auto reply = TakeReply(raw, is_load ? "SCRIPT LOAD" : "EVALSHA");
      if (is_load) {
        if (reply.ok()) loaded_scripts_.insert(o.sha);
        continue;
      }
      if (!reply.ok() && reply.status().message().find("NOSCRIPT") != std::string::npos) {
        loaded_scripts_.erase(o.sha);  // the next send loads it again
      }
      o.replies.push_back(std::move(reply));
    }
  }
}

uint64_t RedisClient::SendEvalMany(const std::string& body, std::vector<EvalCall> calls) {
  if (cluster_) return cluster_->SendEvalMany(body, std::move(calls));
  MutexLock lock(mu_);
  Status connected = Status::Ok();
  if (!calls.empty() && (ctx_ == nullptr || ctx_->err != 0)) {
    DrainLocked();  // what was sent on the lost connection fails first
    connected = EnsureConnected();
  }
  Outstanding& o = outstanding_.emplace_back();
  o.ticket = next_ticket_++;
  o.calls = calls.size();
  o.sha = CachedScriptSha1(body);
  o.started = std::chrono::steady_clock::now();
  auto fail_all = [&o](const Status& s) {
    o.read = true;
    o.replies.clear();
    for (size_t i = 0; i < o.calls; ++i) o.replies.emplace_back(s);
  };
  if (calls.empty()) {
    o.read = true;
    return o.ticket;
  }
  if (!connected.ok()) {
    fail_all(connected);
    return o.ticket;
  }
  o.load = !loaded_scripts_.count(o.sha);
  bool appended = !o.load || AppendLocked({"SCRIPT", "LOAD", body});
  Argv argv;
  std::string count;
  for (size_t i = 0; appended && i < calls.size(); ++i) {
    count = std::to_string(calls[i].keys.size());
    argv.clear();
    argv.reserve(3 + calls[i].keys.size() + calls[i].args.size());
    argv.push_back("EVALSHA");
    argv.push_back(o.sha);
    argv.push_back(count);
    for (const auto& k : calls[i].keys) argv.push_back(k);
    for (const auto& a : calls[i].args) argv.push_back(a);
    appended = AppendLocked(argv);
  }
  // Write now (a blocking socket with the client's timeout): the server starts on them while we go on.
  int done = 0;
  while (appended && done == 0) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) appended = false;
  }
  if (!appended) {
    // Nothing is known of what reached the server: the connection is dropped, and so is every reply.
    std::string why = ctx_ != nullptr && ctx_->err != 0 ? ctx_->errstr : "cannot buffer the commands";
    if (ctx_ != nullptr) redisFree(ctx_);
    ctx_ = nullptr;
    loaded_scripts_.clear();
    fail_all(Unavailable("redis EVALSHA: " + why));
    return o.ticket;
  }
  commands_ += calls.size() + (o.load ? 1 : 0);
  return o.ticket;
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClient::ReceiveEvalMany(uint64_t ticket) {
  if (cluster_) return cluster_->ReceiveEvalMany(ticket);
  MutexLock lock(mu_);
  DrainLocked();
  for (auto it = outstanding_.begin(); it != outstanding_.end(); ++it) {
    if (it->ticket != ticket) continue;
    auto out = std::move(it->replies);
    outstanding_.erase(it);
    return out;
  }
  return {};
}

Result<int> RedisClient::WaitForReplicas(std::string_view key, int replicas, int timeout_ms) {
  if (cluster_) return cluster_->WaitForReplicas(key, replicas, timeout_ms);
  BORA_ASSIGN_OR_RETURN(auto reply,
                        Command({"WAIT", std::to_string(replicas), std::to_string(timeout_ms)}));
  return static_cast<int>(reply->get()->integer);
}

Result<std::unique_ptr<RedisReply>> RedisClient::Eval(const std::string& body,
                                                      const std::vector<std::string>& keys,
                                                      const std::vector<std::string>& args) {
  if (cluster_) return cluster_->Eval(body, keys, args);
  // EVALSHA sends 40 bytes instead of the script; a server that does not know the script yet (first use,
  // or a restart) answers NOSCRIPT, and EVAL then runs and caches it.
  std::vector<std::string> argv{"EVALSHA", CachedScriptSha1(body), std::to_string(keys.size())};
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  auto reply = Command(argv);
  if (reply.ok() || reply.status().message().find("NOSCRIPT") == std::string::npos) return reply;
  argv[0] = "EVAL";
  argv[1] = body;
  return Command(argv);
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClient::EvalMany(const std::string& body,
                                                                       const std::vector<EvalCall>& calls,
                                                                       bool idempotent) {
  if (calls.empty()) return {};
  if (cluster_) return cluster_->EvalMany(body, calls, idempotent);
  MutexLock lock(mu_);
  DrainLocked();
  const bool was_connected = ctx_ != nullptr && ctx_->err == 0;
  auto out = EvalManyLocked(body, calls);
  if (idempotent && was_connected && ctx_ == nullptr) out = EvalManyLocked(body, calls);
  return out;
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClient::EvalManyLocked(const std::string& body,
                                                                             const std::vector<EvalCall>& calls) {
  const std::string sha = CachedScriptSha1(body);
  std::vector<Argv> commands;
  commands.reserve(calls.size() + 1);
  // A connection that has not loaded the script yet loads it first, in the same round trip.
  const bool load = (ctx_ == nullptr || ctx_->err != 0 || !loaded_scripts_.count(sha));
  if (load) commands.push_back({"SCRIPT", "LOAD", body});
  std::vector<std::string> counts;
  counts.reserve(calls.size());
  for (const auto& c : calls) counts.push_back(std::to_string(c.keys.size()));
  for (size_t i = 0; i < calls.size(); ++i) {
    Argv argv;
    argv.reserve(3 + calls[i].keys.size() + calls[i].args.size());
    argv.push_back("EVALSHA");
    argv.push_back(sha);
    argv.push_back(counts[i]);
    for (const auto& k : calls[i].keys) argv.push_back(k);
    for (const auto& a : calls[i].args) argv.push_back(a);
    commands.push_back(std::move(argv));
  }
  auto replies = PipelineLocked(commands);
  std::vector<Result<std::unique_ptr<RedisReply>>> out;
  out.reserve(calls.size());
  size_t first = load ? 1 : 0;
  if (load && replies[0].ok()) loaded_scripts_.insert(sha);
  for (size_t i = 0; i < calls.size(); ++i) {
    auto& r = replies[first + i];
    if (!r.ok() && r.status().message().find("NOSCRIPT") != std::string::npos) {
      // Flushed meanwhile (SCRIPT FLUSH): the script did not run; run it with its body.
      loaded_scripts_.erase(sha);
      Argv argv = commands[first + i];
      argv[0] = "EVAL";
      argv[1] = body;
      out.push_back(std::move(PipelineLocked({argv})[0]));
      continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace bora
