#pragma once
// NetworkPolicy: the SSRF guard of std.http / std.mistral_http. It holds a list of denied CIDR
// blocks and decides, for a resolved IP address, whether an outbound connection may be made.
// Loopback addresses (127.0.0.0/8, ::1) are allowed only when `allow_loopback` is set, whatever the
// list says. IPv6 addresses that carry an IPv4 address are also checked as that IPv4 address:
// IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16,
// Teredo 2001::/32 (server and client address). The local-use NAT64 block 64:ff9b:1::/48 and the
// deprecated IPv4-compatible block ::/96 (but ::1) are denied outright, whatever the list says.
// Immutable after construction; safe to share between threads.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sockaddr;

namespace bora::workers {

// An IP address in a family-independent form: IPv4 as 4 bytes, IPv6 as 16.
struct IpAddress {
  bool is_v6 = false;
  std::array<uint8_t, 16> bytes{};

  static Result<IpAddress> Parse(std::string_view text);  // "10.0.0.1", "::1", "[::1]"
  static Result<IpAddress> FromSockaddr(const struct sockaddr* addr);
  std::string ToString() const;
  bool IsLoopback() const;
  // ::ffff:a.b.c.d ⇒ a.b.c.d; anything else unchanged.
  IpAddress Unmapped() const;
};

struct CidrBlock {
  IpAddress base;
  int prefix_len = 0;

  // "10.0.0.0/8", "fc00::/7", or a bare address ("::1" = /128, "1.2.3.4" = /32).
  static Result<CidrBlock> Parse(std::string_view text);
  bool Contains(const IpAddress& ip) const;
};

class NetworkPolicy {
 public:
  // Invalid CIDR text makes the policy deny everything (fail closed); `config_error()` says why.
  NetworkPolicy(const std::vector<std::string>& denied_cidrs, bool allow_loopback);

  // OK, or kPermissionDenied naming the address and the block that denies it.
  Status Check(const IpAddress& ip) const;
  const Status& config_error() const { return config_error_; }

 private:
  // Loopback and the denied list only (no embedded IPv4 forms).
  Status CheckDirect(const IpAddress& ip) const;

  std::vector<CidrBlock> denied_;
  bool allow_loopback_;
  Status config_error_;
};

// Resolves `host` (a name or an IP literal) to its addresses (getaddrinfo; blocking). Errors are
// kUnavailable "Failed to resolve 'host': <reason>".
Result<std::vector<IpAddress>> ResolveHost(const std::string& host);

}  // namespace bora::workers
