#include "common/redis/redis_cluster.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <optional>
#include <thread>

namespace bora {

uint16_t RedisKeySlot(std::string_view key) {
  if (auto open = key.find('{'); open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  uint16_t crc = 0;  // CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0
  for (unsigned char c : key) {
    crc ^= static_cast<uint16_t>(c) << 8;
    for (int i = 0; i < 8; ++i)
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : crc << 1;
  }
  return crc % RedisClusterRouter::kSlots;
}

namespace {

// The key a command is routed by (none for PING, SCRIPT, CLUSTER, ...).
std::optional<std::string_view> KeyOf(const RedisClient::Argv& argv) {
  if (argv.size() < 2) return std::nullopt;
  std::string up(argv[0]);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  if (up == "EVAL" || up == "EVALSHA") {
    if (argv.size() < 4 || argv[2] == "0") return std::nullopt;
    return argv[3];
  }
  if (up == "PING" || up == "SCRIPT" || up == "CLUSTER" || up == "INFO" || up == "WAIT" ||
      up == "ASKING") {
    return std::nullopt;
  }
  return argv[1];
}

RedisClient::Argv ViewOf(const std::vector<std::string>& argv) {
  return RedisClient::Argv(argv.begin(), argv.end());
}

// A node's address as CLUSTER SLOTS gives it ([host, port, id, ...]); an empty host is the asked
// node's.
std::string NodeAddress(const redisReply* node, const std::string& asked) {
  if (node == nullptr || node->type != REDIS_REPLY_ARRAY || node->elements < 2) return {};
  std::string host(node->element[0]->str ? node->element[0]->str : "", node->element[0]->len);
  if (host.empty() || host == "?") host = asked.substr(0, asked.rfind(':'));
  return host + ":" + std::to_string(node->element[1]->integer);
}

Status WithPlace(const Status& s, const std::string& node, int slot) {
  return Status(s.code(), s.message() + " (redis cluster node " + (node.empty() ? "?" : node) +
                              ", slot " + std::to_string(slot) + ")");
}

void Backoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50 << attempt, 500)));
}

}  // namespace

Result<std::unique_ptr<RedisClusterRouter>> RedisClusterRouter::Connect(
    std::vector<std::string> seeds, int timeout_ms) {
  if (seeds.empty()) return InvalidArgument("redis+cluster url: no node");
  std::unique_ptr<RedisClusterRouter> r(new RedisClusterRouter());
  r->seeds_ = std::move(seeds);
  r->timeout_ms_ = timeout_ms;
  BORA_RETURN_IF_ERROR(r->RefreshMap());
  return r;
}

Result<RedisClient*> RedisClusterRouter::Node(const std::string& address) {
  MutexLock lock(mu_);
  auto it = nodes_.find(address);
  if (it != nodes_.end()) return it->second.get();
  BORA_ASSIGN_OR_RETURN(auto client, RedisClient::Connect(address, timeout_ms_));
  return nodes_.emplace(address, std::move(client)).first->second.get();
}

Status RedisClusterRouter::RefreshMap(const std::string& first) {
  std::vector<std::string> candidates;
  if (!first.empty()) candidates.push_back(first);
  {
    MutexLock lock(mu_);
    for (const auto& s : slots_) {
      if (!s.empty() && std::find(candidates.begin(), candidates.end(), s) == candidates.end()) {
        candidates.push_back(s);
      }
    }
  }
  for (const auto& s : seeds_) {
    if (std::find(candidates.begin(), candidates.end(), s) == candidates.end())
      candidates.push_back(s);
  }
  Status last = Unavailable("redis cluster: no node answered CLUSTER SLOTS");
  for (const auto& address : candidates) {
    auto node = Node(address);
    if (!node.ok()) {
      last = node.status();
      continue;
    }
    auto reply = (*node)->Command({"CLUSTER", "SLOTS"});
    if (!reply.ok()) {
      last = reply.status();
      continue;
    }
    const redisReply* r = (*reply)->get();
    std::array<std::string, kSlots> map;
    size_t covered = 0;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
      const redisReply* range = r->element[i];
      if (range->type != REDIS_REPLY_ARRAY || range->elements < 3) continue;
      long long from = range->element[0]->integer, to = range->element[1]->integer;
      std::string master = NodeAddress(range->element[2], address);
      for (long long s = std::max(0LL, from); s <= to && s < kSlots; ++s) {
        map[s] = master;
        ++covered;
      }
    }
    if (covered == 0) {
      last = Unavailable("redis cluster node " + address + ": CLUSTER SLOTS lists no slot");
      continue;
    }
    MutexLock lock(mu_);
    slots_ = std::move(map);
    ++refreshes_;
    return Status::Ok();
  }
  return last;
}

Result<RedisClient*> RedisClusterRouter::NodeForSlot(uint16_t slot, std::string* address) {
  {
    MutexLock lock(mu_);
    *address = slots_[slot];
  }
  if (address->empty())
    return Unavailable("redis cluster: slot " + std::to_string(slot) + " has no master");
  return Node(*address);
}

RedisClusterRouter::Redirect RedisClusterRouter::ParseRedirect(const Status& status, uint16_t* slot,
                                                               std::string* address) {
  if (status.code() != StatusCode::kUnavailable) return Redirect::kNone;
  const std::string& m = status.message();
  for (auto [word, kind] :
       {std::pair{": MOVED ", Redirect::kMoved}, std::pair{": ASK ", Redirect::kAsk}}) {
    auto at = m.find(word);
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(m).substr(at + std::strlen(word));
    auto space = rest.find(' ');
    if (space == std::string_view::npos) return Redirect::kNone;
    int s = 0;
    std::from_chars(rest.data(), rest.data() + space, s);
    *slot = static_cast<uint16_t>(s);
    std::string_view addr = rest.substr(space + 1);
    *address = std::string(addr.substr(0, addr.find_first_of(" (")));
    return kind;
  }
  if (m.find(": TRYAGAIN") != std::string::npos || m.find(": CLUSTERDOWN") != std::string::npos) {
    return Redirect::kRetry;
  }
  return Redirect::kNone;
}

bool RedisClusterRouter::AfterFailure(const Status& status, std::string* ask_address) {
  uint16_t slot = 0;
  std::string address;
  switch (ParseRedirect(status, &slot, &address)) {
    case Redirect::kMoved: {
      // A MOVED usually means a failover or a resharding: many slots moved. The map is read from
      // the node named (it knows its own slots best; a node just back from a failure may still
      // claim its old ones), and the redirected slot is set as the reply said whatever the map
      // read.
      (void)RefreshMap(address);
      MutexLock lock(mu_);
      slots_[slot] = address;
      return true;
    }
    case Redirect::kAsk:
      *ask_address = address;
      return true;
    case Redirect::kRetry:
      (void)RefreshMap();
      return true;
    case Redirect::kNone:
      break;
  }
  // Anything else: a script or command error, or a connection lost after sending (the command may
  // have run). Not retried; the map is read again in case a node went away.
  if (status.code() == StatusCode::kUnavailable) (void)RefreshMap();
  return false;
}

Result<std::unique_ptr<RedisReply>> RedisClusterRouter::Routed(
    uint16_t slot,
    const std::function<Result<std::unique_ptr<RedisReply>>(RedisClient*, bool)>& send) {
  std::string ask;
  Status last = Unavailable("redis cluster: no attempt");
  std::string address;
  for (int attempt = 0; attempt < kMaxRedirects; ++attempt) {
    Result<RedisClient*> node = Unavailable("");
    if (!ask.empty()) {
      address = ask;
      node = Node(ask);
    } else {
      node = NodeForSlot(slot, &address);
    }
    if (!node.ok()) {
      // Not sent: the master is down (a failover is under way) or unknown. Read the map again and
      // retry.
      last = node.status();
      ask.clear();
      Backoff(attempt);
      (void)RefreshMap();
      continue;
    }
    const bool asking = !ask.empty();
    ask.clear();
    auto reply = send(*node, asking);
    if (reply.ok()) return reply;
    last = reply.status();
    if (last.message().rfind("redis " + (*node)->address() + ":", 0) == 0) {
      // The connection could not be made again (RedisClient names the address, not the command):
      // nothing was sent. The master is down; retry once the map names another.
      Backoff(attempt);
      (void)RefreshMap();
      continue;
    }
    if (!AfterFailure(last, &ask)) return WithPlace(last, address, slot);
    uint16_t ignored_slot;
    std::string ignored;
    if (ParseRedirect(last, &ignored_slot, &ignored) == Redirect::kRetry) Backoff(attempt);
  }
  return WithPlace(Status(last.code(), last.message() + "; gave up after " +
                                           std::to_string(kMaxRedirects) + " redirects or retries"),
                   address, slot);
}

Result<std::unique_ptr<RedisReply>> RedisClusterRouter::Command(
    const std::vector<std::string>& argv) {
  auto key = KeyOf(ViewOf(argv));
  const uint16_t slot = key ? RedisKeySlot(*key) : 0;
  return Routed(slot,
                [&argv](RedisClient* node, bool asking) -> Result<std::unique_ptr<RedisReply>> {
                  if (!asking) return node->Command(argv);
                  auto replies = node->Pipeline({{"ASKING"}, ViewOf(argv)});
                  return std::move(replies[1]);
                });
}

Result<std::unique_ptr<RedisReply>> RedisClusterRouter::Eval(const std::string& body,
                                                             const std::vector<std::string>& keys,
                                                             const std::vector<std::string>& args) {
  const uint16_t slot = keys.empty() ? 0 : RedisKeySlot(keys[0]);
  return Routed(slot, [&](RedisClient* node, bool asking) -> Result<std::unique_ptr<RedisReply>> {
    if (!asking) return node->Eval(body, keys, args);
    std::vector<std::string> argv{"EVAL", body, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    auto replies = node->Pipeline({{"ASKING"}, ViewOf(argv)});
    return std::move(replies[1]);
  });
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClusterRouter::Pipeline(
    const std::vector<RedisClient::Argv>& commands) {
  std::vector<Result<std::unique_ptr<RedisReply>>> out;
  out.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i)
    out.emplace_back(Unavailable("redis cluster: not sent"));
  // Group by master, in order.
  std::map<std::string, std::vector<size_t>> groups;
  {
    MutexLock lock(mu_);
    for (size_t i = 0; i < commands.size(); ++i) {
      auto key = KeyOf(commands[i]);
      groups[slots_[key ? RedisKeySlot(*key) : 0]].push_back(i);
    }
  }
  for (const auto& [address, indices] : groups) {
    auto node = address.empty() ? Result<RedisClient*>(Unavailable("")) : Node(address);
    std::vector<Result<std::unique_ptr<RedisReply>>> replies;
    if (node.ok()) {
      std::vector<RedisClient::Argv> part;
      part.reserve(indices.size());
      for (size_t i : indices) part.push_back(commands[i]);
      replies = (*node)->Pipeline(part);
    }
    for (size_t j = 0; j < indices.size(); ++j) {
      const size_t i = indices[j];
      uint16_t slot = 0;
      std::string to;
      if (node.ok() &&
          (replies[j].ok() || ParseRedirect(replies[j].status(), &slot, &to) == Redirect::kNone)) {
        out[i] = std::move(replies[j]);
        if (!out[i].ok()) {
          auto key = KeyOf(commands[i]);
          out[i] = WithPlace(out[i].status(), address, key ? RedisKeySlot(*key) : 0);
        }
        continue;
      }
      // Not sent (no node) or redirected: it did not run; send it alone, following redirects.
      out[i] = Command(std::vector<std::string>(commands[i].begin(), commands[i].end()));
    }
  }
  return out;
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClusterRouter::EvalMany(
    const std::string& body, const std::vector<RedisClient::EvalCall>& calls, bool idempotent) {
  if (calls.empty()) return {};
  std::vector<RedisClient::EvalCall> copy = calls;
  auto out = ReceiveEvalMany(SendEvalMany(body, std::move(copy)));
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].ok()) continue;
    uint16_t slot = 0;
    std::string to;
    const Status& s = out[i].status();
    const bool did_not_run = ParseRedirect(s, &slot, &to) != Redirect::kNone ||
                             s.message().find("NOSCRIPT") != std::string::npos;
    // Scripts that only read run again whatever happened; others only when they did not run.
    if (did_not_run || (idempotent && s.code() == StatusCode::kUnavailable)) {
      out[i] = Eval(body, calls[i].keys, calls[i].args);
    }
  }
  return out;
}

uint64_t RedisClusterRouter::SendEvalMany(const std::string& body,
                                          std::vector<RedisClient::EvalCall> calls) {
  std::map<std::string, std::vector<size_t>> groups;
  uint64_t ticket;
  {
    MutexLock lock(mu_);
    ticket = next_ticket_++;
    for (size_t i = 0; i < calls.size(); ++i) {
      groups[slots_[calls[i].keys.empty() ? 0 : RedisKeySlot(calls[i].keys[0])]].push_back(i);
    }
  }
  Sent sent;
  sent.calls = calls.size();
  for (auto& [address, indices] : groups) {
    SentPart part{nullptr, 0, std::move(indices), {}};
    for (size_t i : part.indices) {
      part.slots.push_back(calls[i].keys.empty() ? 0 : RedisKeySlot(calls[i].keys[0]));
    }
    auto node = address.empty() ? Result<RedisClient*>(Unavailable("")) : Node(address);
    if (node.ok()) {
      std::vector<RedisClient::EvalCall> to_send;
      to_send.reserve(part.indices.size());
      for (size_t i : part.indices) to_send.push_back(std::move(calls[i]));
      part.node = *node;
      part.ticket = (*node)->SendEvalMany(body, std::move(to_send));
    }
    sent.parts.push_back(std::move(part));
  }
  MutexLock lock(mu_);
  sent_[ticket] = std::move(sent);
  return ticket;
}

std::vector<Result<std::unique_ptr<RedisReply>>> RedisClusterRouter::ReceiveEvalMany(
    uint64_t ticket) {
  Sent sent;
  {
    MutexLock lock(mu_);
    auto it = sent_.find(ticket);
    if (it == sent_.end()) return {};
    sent = std::move(it->second);
    sent_.erase(it);
  }
  std::vector<Result<std::unique_ptr<RedisReply>>> out;
  out.reserve(sent.calls);
  for (size_t i = 0; i < sent.calls; ++i) out.emplace_back(Unavailable("redis cluster: no reply"));
  bool refresh = false;
  for (SentPart& part : sent.parts) {
    std::vector<Result<std::unique_ptr<RedisReply>>> replies;
    if (part.node != nullptr) replies = part.node->ReceiveEvalMany(part.ticket);
    for (size_t j = 0; j < part.indices.size(); ++j) {
      const size_t i = part.indices[j];
      if (j < replies.size()) out[i] = std::move(replies[j]);
      if (part.node == nullptr || !out[i].ok()) {
        if (part.node == nullptr || out[i].status().code() == StatusCode::kUnavailable)
          refresh = true;
        const std::string where =
            part.node == nullptr ? std::string("no master") : part.node->address();
        out[i] = WithPlace(part.node == nullptr ? Unavailable("redis cluster: master unreachable")
                                                : out[i].status(),
                           where, part.slots[j]);
      }
    }
  }
  if (refresh) (void)RefreshMap();
  return out;
}

Result<int> RedisClusterRouter::WaitForReplicas(std::string_view key, int replicas,
                                                int timeout_ms) {
  const uint16_t slot = RedisKeySlot(key);
  std::string address;
  BORA_ASSIGN_OR_RETURN(RedisClient * node, NodeForSlot(slot, &address));
  auto waited = node->WaitForReplicas(key, replicas, timeout_ms);
  if (!waited.ok()) return WithPlace(waited.status(), address, slot);
  return waited;
}

uint64_t RedisClusterRouter::commands_sent() const {
  MutexLock lock(mu_);
  uint64_t n = 0;
  for (const auto& [address, node] : nodes_) n += node->commands_sent();
  return n;
}

std::string RedisClusterRouter::MasterOf(uint16_t slot) const {
  MutexLock lock(mu_);
  return slots_[slot];
}

uint64_t RedisClusterRouter::map_refreshes() const {
  MutexLock lock(mu_);
  return refreshes_;
}

}  // namespace bora
