#include "workers/net_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <initializer_list>

namespace bora::workers {

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  std::string s(text);
  IpAddress ip;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(ip.bytes.data(), &v4, 4);
    return ip;
  }
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    ip.is_v6 = true;
    std::memcpy(ip.bytes.data(), &v6, 16);
    return ip;
  }
  return InvalidArgument("not an IP address: '" + s + "'");
}

Result<IpAddress> IpAddress::FromSockaddr(const struct sockaddr* addr) {
  IpAddress ip;
  if (addr == nullptr) return InvalidArgument("null socket address");
  if (addr->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    std::memcpy(ip.bytes.data(), &in->sin_addr, 4);
    return ip;
  }
  if (addr->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    ip.is_v6 = true;
    std::memcpy(ip.bytes.data(), &in6->sin6_addr, 16);
    return ip;
  }
  return InvalidArgument("unsupported address family " + std::to_string(addr->sa_family));
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

IpAddress IpAddress::Unmapped() const {
  if (!is_v6) return *this;
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes.data(), kPrefix, 12) != 0) return *this;
  IpAddress v4;
  std::memcpy(v4.bytes.data(), bytes.data() + 12, 4);
  return v4;
}

bool IpAddress::IsLoopback() const {
  IpAddress ip = Unmapped();
  if (!ip.is_v6) return ip.bytes[0] == 127;
  for (int i = 0; i < 15; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[15] == 1;
}

Result<CidrBlock> CidrBlock::Parse(std::string_view text) {
  CidrBlock block;
  std::string_view addr = text;
  int prefix = -1;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    addr = text.substr(0, slash);
    std::string_view len = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
    if (ec != std::errc() || ptr != len.data() + len.size() || len.empty()) {
      return InvalidArgument("invalid CIDR prefix length in '" + std::string(text) + "'");
    }
  }
  BORA_ASSIGN_OR_RETURN(block.base, IpAddress::Parse(addr));
  int max_len = block.base.is_v6 ? 128 : 32;
  if (prefix < 0) prefix = max_len;
  if (prefix > max_len) {
    return InvalidArgument("CIDR prefix length out of range in '" + std::string(text) + "'");
  }
  block.prefix_len = prefix;
  return block;
}

bool CidrBlock::Contains(const IpAddress& raw) const {
  IpAddress ip = raw.Unmapped();
  if (ip.is_v6 != base.is_v6) return false;
  int full = prefix_len / 8;
  for (int i = 0; i < full; ++i) {
    if (ip.bytes[i] != base.bytes[i]) return false;
  }
  int rest = prefix_len % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == (base.bytes[full] & mask);
}

NetworkPolicy::NetworkPolicy(const std::vector<std::string>& denied_cidrs, bool allow_loopback)
    : allow_loopback_(allow_loopback) {
  for (const std::string& text : denied_cidrs) {
    Result<CidrBlock> block = CidrBlock::Parse(text);
    if (!block.ok()) {
      config_error_ =
          InvalidArgument("invalid denied CIDR '" + text + "': " + block.status().message());
      continue;
    }
    denied_.push_back(*block);
  }
}

namespace {

bool HasPrefix(const IpAddress& ip, std::initializer_list<uint8_t> prefix) {
  size_t i = 0;
  for (uint8_t b : prefix)
    if (ip.bytes[i++] != b) return false;
  return true;
}

IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  IpAddress v4;
  v4.bytes[0] = a;
  v4.bytes[1] = b;
  v4.bytes[2] = c;
  v4.bytes[3] = d;
  return v4;
}

struct Embedded {
  IpAddress v4;
  const char* form;
};

// The IPv4 addresses an IPv6 address carries (IPv4-mapped is unmapped before this).
std::vector<Embedded> EmbeddedIpv4(const IpAddress& ip) {
  const auto& b = ip.bytes;
  std::vector<Embedded> out;
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052).
  if (HasPrefix(ip, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}))
    out.push_back({V4(b[12], b[13], b[14], b[15]), "NAT64 64:ff9b::/96"});
  // IPv4-translated ::ffff:0:0:0/96 (RFC 2765, SIIT).
  if (HasPrefix(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}))
    out.push_back({V4(b[12], b[13], b[14], b[15]), "IPv4-translated ::ffff:0:0:0/96"});
  // 6to4 2002::/16 (RFC 3056): the relay's IPv4 address follows the prefix.
  if (HasPrefix(ip, {0x20, 0x02})) out.push_back({V4(b[2], b[3], b[4], b[5]), "6to4 2002::/16"});
  // Teredo 2001::/32 (RFC 4380): the server's IPv4 address, then the client's, inverted.
  if (HasPrefix(ip, {0x20, 0x01, 0, 0})) {
    out.push_back({V4(b[4], b[5], b[6], b[7]), "Teredo server, 2001::/32"});
    out.push_back({V4(static_cast<uint8_t>(~b[12]), static_cast<uint8_t>(~b[13]),
                      static_cast<uint8_t>(~b[14]), static_cast<uint8_t>(~b[15])),
                   "Teredo client, 2001::/32"});
  }
  return out;
}

}  // namespace

Status NetworkPolicy::CheckDirect(const IpAddress& ip) const {
  if (ip.IsLoopback()) {
    if (allow_loopback_) return Status::Ok();
    return PermissionDenied(
        "address " + ip.ToString() +
        " is loopback, which is denied (start bora with --allow-loopback-http to allow it)");
  }
  for (const CidrBlock& block : denied_) {
    if (block.Contains(ip)) {
      return PermissionDenied("address " + ip.ToString() + " is in the denied network " +
                              block.base.ToString() + "/" + std::to_string(block.prefix_len));
    }
  }
  return Status::Ok();
}

Status NetworkPolicy::Check(const IpAddress& raw) const {
  IpAddress ip = raw.Unmapped();
  if (!config_error_.ok()) {
    return PermissionDenied("outbound connections are disabled by a bad SSRF configuration (" +
                            config_error_.message() + ")");
  }
  BORA_RETURN_IF_ERROR(CheckDirect(ip));
  if (!ip.is_v6 || ip.IsLoopback()) return Status::Ok();
  // Local-use NAT64 (RFC 8215): where the IPv4 address sits depends on the operator's prefix
  // length, so the whole block is denied.
  if (HasPrefix(ip, {0, 0x64, 0xff, 0x9b, 0, 0x01}))
    return PermissionDenied("address " + ip.ToString() +
                            " is in the local-use NAT64 network 64:ff9b:1::/48, which is denied");
  // IPv4-compatible ::a.b.c.d (deprecated by RFC 4291; :: and ::1 are handled above).
  if (HasPrefix(ip, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}))
    return PermissionDenied("address " + ip.ToString() +
                            " is an IPv4-compatible address (::/96, deprecated), which is denied");
  for (const Embedded& e : EmbeddedIpv4(ip)) {
    Status s = CheckDirect(e.v4);
    if (!s.ok())
      return PermissionDenied("address " + ip.ToString() + " embeds IPv4 " + e.v4.ToString() +
                              " (" + e.form + "): " + s.message());
  }
  return Status::Ok();
}

Result<std::vector<IpAddress>> ResolveHost(const std::string& host) {
  std::string bare = host;
  if (bare.size() >= 2 && bare.front() == '[' && bare.back() == ']') {
    bare = bare.substr(1, bare.size() - 2);
  }
  Result<IpAddress> literal = IpAddress::Parse(bare);
  if (literal.ok()) return std::vector<IpAddress>{*literal};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(bare.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return Unavailable("Failed to resolve '" + bare + "': " + gai_strerror(rc));
  }
  std::vector<IpAddress> out;
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    Result<IpAddress> ip = IpAddress::FromSockaddr(p->ai_addr);
    if (!ip.ok()) continue;
    bool dup = false;
    for (const IpAddress& seen : out)
      dup = dup || (seen.is_v6 == ip->is_v6 && seen.bytes == ip->bytes);
    if (!dup) out.push_back(*ip);
  }
  freeaddrinfo(res);
  if (out.empty()) return Unavailable("Failed to resolve '" + bare + "': no usable address");
  return out;
}

}  // namespace bora::workers
