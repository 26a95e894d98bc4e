#pragma once
// RedisClient: one hiredis connection with reconnect, for the Redis adapters (RedisStateStore,
// RedisDefinitions). hiredis errors become Status values here and nowhere else.
//
// Threading: a mutex serialises commands; any thread may call. A lost connection is re-established
// on the next command (the command that saw the loss fails with kUnavailable).
//
// A `redis+cluster://host:port[,host:port...]` URL makes a client of a Redis Cluster instead: every
// call goes through a RedisClusterRouter (redis_cluster.h), which sends each command to the master
// of its key's slot (scripts: of their first key; all keys of one call must share a slot).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

struct redisContext;
struct redisReply;

namespace bora {

class RedisClusterRouter;

// A reply, owned. Accessors read the hiredis reply without copying the tree.
class RedisReply {
 public:
  explicit RedisReply(redisReply* r) : r_(r) {}
  ~RedisReply();
  RedisReply(const RedisReply&) = delete;
  RedisReply& operator=(const RedisReply&) = delete;

  const redisReply* get() const { return r_; }
  bool IsNil() const;
  bool IsArray() const;
  size_t Size() const;                    // array elements
  std::string Str() const;                // string/status/integer as text
  std::string StrAt(size_t i) const;      // element i as text
  long long IntAt(size_t i) const;        // element i as an integer reply

 private:
  redisReply* r_;
};

class RedisClient {
 public:
  // `url`: "redis://host:port" or "host:port" (one server), or
  // "redis+cluster://host:port[,host:port...]" (a Redis Cluster; the nodes listed are seeds, the
  // slot map is read from the first that answers).
  static Result<std::unique_ptr<RedisClient>> Connect(const std::string& url, int timeout_ms = 5000);
  ~RedisClient();

  // Runs a command in argv form. Redis error replies become kUnavailable with the message, except
  // "FENCED ..." script errors, which become kAborted.
  Result<std::unique_ptr<RedisReply>> Command(const std::vector<std::string>& argv);
  // EVAL `body` (atomic on the server).
  Result<std::unique_ptr<RedisReply>> Eval(const std::string& body, const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args);

  // Sends every command, then reads every reply: one round trip for all. The i-th result answers the i-th
  // command, with the errors Command() gives. A lost connection fails every command not yet answered (those
  // may or may not have run, as with Command()).
  using Argv = std::vector<std::string_view>;
  std::vector<Result<std::unique_ptr<RedisReply>>> Pipeline(const std::vector<Argv>& commands);

  // One script run per element of `calls`, pipelined (EVALSHA; a script the server does not know is loaded
  // first, and a NOSCRIPT reply is retried with EVAL). Each script runs atomically on its own.
  struct EvalCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  // `idempotent` (scripts that only read): a connection found lost during the call (a Redis restart since
  // the last command) is made again and the calls run once more, instead of failing them.
  std::vector<Result<std::unique_ptr<RedisReply>>> EvalMany(const std::string& body,
                                                           const std::vector<EvalCall>& calls,
                                                           bool idempotent = false);

  // EvalMany in two halves, for a caller that has other work to do while the server runs the scripts:
  // SendEvalMany writes the commands and returns at once; ReceiveEvalMany(ticket) reads their replies
  // (blocking until they come). Meanwhile any call on this client may be made, from any thread: the server
  // answers in order, so a later call first reads the replies still owed to earlier sends and keeps them for
  // their ReceiveEvalMany. Each ticket must be received exactly once. Unlike EvalMany, a NOSCRIPT reply
  // (the script cache flushed after this connection loaded it) is not retried: later commands may already
  // have run, so that call fails (kUnavailable) like any other lost reply.
  uint64_t SendEvalMany(const std::string& body, std::vector<EvalCall> calls);
  std::vector<Result<std::unique_ptr<RedisReply>>> ReceiveEvalMany(uint64_t ticket);

  // WAIT `replicas` `timeout_ms` on the connection that wrote `key` (on a cluster: to the master of
  // its slot): how many replicas acknowledged every write sent on it so far (fewer when the timeout
  // passed).
  Result<int> WaitForReplicas(std::string_view key, int replicas, int timeout_ms);

  // A statistic read without the lock (the count may be a moment old).
  uint64_t commands_sent() const;
  const std::string& address() const { return address_; }
  // The router of a cluster client (null for one server).
  RedisClusterRouter* cluster() const { return cluster_.get(); }

 private:
  RedisClient() = default;
  Status EnsureConnected() REQUIRES(mu_);
  // The reply (or error) of a command that returned `raw` (owned). Drops the connection when `raw`
  // is null.
  Result<std::unique_ptr<RedisReply>> TakeReply(void* raw, std::string_view name) REQUIRES(mu_);
  std::vector<Result<std::unique_ptr<RedisReply>>> PipelineLocked(const std::vector<Argv>& commands)
      REQUIRES(mu_);
  std::vector<Result<std::unique_ptr<RedisReply>>> EvalManyLocked(
      const std::string& body, const std::vector<EvalCall>& calls) REQUIRES(mu_);
  // Reads the replies still owed to SendEvalMany calls, oldest first, and keeps them. Every other
  // command reads its own reply only after this.
  void DrainLocked() REQUIRES(mu_);
  // Appends `argv` to hiredis's output buffer; false if it cannot (out of memory or no connection).
  bool AppendLocked(const Argv& argv) REQUIRES(mu_);

  // A SendEvalMany whose replies were not all handed out yet.
  struct Outstanding {
    uint64_t ticket = 0;
    size_t calls = 0;
    bool load = false;  // a SCRIPT LOAD precedes the calls
    std::string sha;
    std::chrono::steady_clock::time_point started;
    bool read = false;  // replies below read off the connection (or failed)
    std::vector<Result<std::unique_ptr<RedisReply>>> replies;
  };

  std::unique_ptr<RedisClusterRouter>
      cluster_;  // set for a cluster URL; then nothing below is used
  std::string host_;
  int port_ = 6379;
  int timeout_ms_ = 5000;
  std::string address_;
  Mutex mu_;
  redisContext* ctx_ GUARDED_BY(mu_) = nullptr;
  std::atomic<uint64_t> commands_{0};                    // written with mu_ held, read without it
  std::deque<Outstanding> outstanding_ GUARDED_BY(mu_);  // oldest first
  uint64_t next_ticket_ GUARDED_BY(mu_) = 1;
  // SHA-1s loaded on this connection (cleared on reconnect).
  std::unordered_set<std::string> loaded_scripts_ GUARDED_BY(mu_);
};

}  // namespace bora
