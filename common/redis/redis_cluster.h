#pragma once
// RedisClusterRouter: the Redis Cluster side of RedisClient (a `redis+cluster://` URL).
// Hand-written because hiredis in Debian 12 has no cluster support and hiredis-cluster is not
// packaged.
//
// It keeps the slot map (`CLUSTER SLOTS`: slot range -> master address) and one RedisClient (one
// hiredis connection) per master, and sends each command to the master of its key's slot
// (CRC16/XMODEM of the key, or of its hash tag `{...}`, mod 16384). A `MOVED slot host:port` reply
// updates the map and the command is sent again; `ASK slot host:port` sends `ASKING` then the
// command to that node once, without touching the map; `TRYAGAIN`/`CLUSTERDOWN` and connection
// errors refresh the map. Retries are bounded (kMaxRedirects). Only replies that prove the command
// did not run (MOVED, ASK, TRYAGAIN, CLUSTERDOWN, a refused connection) are retried; a connection
// lost after sending fails the command, as on one server.
//
// Pipelines and EvalMany are split per master (one pipeline per node; EvalMany and SendEvalMany
// write to every node before reading any, Pipeline asks the nodes one after the other); replies
// come back in the caller's order. Commands of one slot keep their order; commands of different
// slots on different nodes have none between them.
//
// Threading: any thread; a mutex guards the map, node clients have their own.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/redis/redis_client.h"
#include "common/status.h"
#include "common/thread_annotations.h"

namespace bora {

// The cluster slot of `key`: CRC16 (XMODEM) of the hash tag (the text between the first `{` and the
// next
// `}`, when not empty) or of the whole key, mod 16384.
uint16_t RedisKeySlot(std::string_view key);

class RedisClusterRouter {
 public:
  static constexpr int kSlots = 16384;
  static constexpr int kMaxRedirects = 8;

  // `seeds`: "host:port" of some nodes; the map is read from the first that answers.
  static Result<std::unique_ptr<RedisClusterRouter>> Connect(std::vector<std::string> seeds,
                                                             int timeout_ms);

  Result<std::unique_ptr<RedisReply>> Command(const std::vector<std::string>& argv);
  Result<std::unique_ptr<RedisReply>> Eval(const std::string& body,
                                           const std::vector<std::string>& keys,
                                           const std::vector<std::string>& args);
  std::vector<Result<std::unique_ptr<RedisReply>>> Pipeline(
      const std::vector<RedisClient::Argv>& commands);
  std::vector<Result<std::unique_ptr<RedisReply>>> EvalMany(
      const std::string& body, const std::vector<RedisClient::EvalCall>& calls, bool idempotent);
  // As RedisClient's: a script answered MOVED/ASK/NOSCRIPT by ReceiveEvalMany is not sent again
  // (later sends may have run meanwhile); the map is updated and the call fails with kUnavailable.
  uint64_t SendEvalMany(const std::string& body, std::vector<RedisClient::EvalCall> calls);
  std::vector<Result<std::unique_ptr<RedisReply>>> ReceiveEvalMany(uint64_t ticket);

  // WAIT on the connection to the master of `key`'s slot (no redirect: a moved slot has a new
  // master that did not take the writes this connection made).
  Result<int> WaitForReplicas(std::string_view key, int replicas, int timeout_ms);

  uint64_t commands_sent() const;
  // The master of `slot` in the current map ("" if none), and how often the map was read.
  std::string MasterOf(uint16_t slot) const;
  uint64_t map_refreshes() const;

 private:
  RedisClusterRouter() = default;
  // Reads CLUSTER SLOTS from `first` if given and it answers, else from a known master or a seed.
  Status RefreshMap(const std::string& first = "");
  // The client of `address`, connected on first use.
  Result<RedisClient*> Node(const std::string& address);
  Result<RedisClient*> NodeForSlot(uint16_t slot, std::string* address);
  // Runs `send` against the slot's master, following redirects.
  Result<std::unique_ptr<RedisReply>> Routed(
      uint16_t slot,
      const std::function<Result<std::unique_ptr<RedisReply>>(RedisClient*, bool asking)>& send);
  // The slot that `status` redirects to and the node, when it is a MOVED or ASK error.
  enum class Redirect { kNone, kMoved, kAsk, kRetry };
  static Redirect ParseRedirect(const Status& status, uint16_t* slot, std::string* address);
  // Handles a redirect or retryable failure of a command for `slot`; false when it is final.
  bool AfterFailure(const Status& status, std::string* ask_address);

  std::vector<std::string> seeds_;
  int timeout_ms_ = 5000;
  mutable Mutex mu_;
  std::array<std::string, kSlots> slots_ GUARDED_BY(mu_);  // master address per slot
  std::map<std::string, std::unique_ptr<RedisClient>> nodes_ GUARDED_BY(mu_);  // never erased
  uint64_t refreshes_ GUARDED_BY(mu_) = 0;
  struct SentPart {
    RedisClient* node;
    uint64_t ticket;
    std::vector<size_t> indices;  // of the caller's calls
    std::vector<uint16_t> slots;  // their slots
  };
  struct Sent {
    size_t calls = 0;
    std::vector<SentPart> parts;
  };
  std::map<uint64_t, Sent> sent_ GUARDED_BY(mu_);
  uint64_t next_ticket_ GUARDED_BY(mu_) = 1;
};

}  // namespace bora
