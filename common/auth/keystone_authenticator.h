#pragma once
// KeystoneAuthenticator: X-Auth-Token validated against Keystone v3, as keystonemiddleware's
// auth_token does. The service authenticates itself with password credentials (a service token,
// renewed before it expires or when Keystone rejects it), asks Keystone about each user token it
// has not seen recently (GET /v3/auth/tokens) and caches the answer:
//   - valid tokens until min(expires_at, now + token_cache_time) (300 s by default, as
//     keystonemiddleware's token_cache_time);
//   - invalid ones for invalid_cache_time (10 s), so a bad token cannot hammer Keystone;
//   - keyed by the SHA-256 of the token, never the token; at most max_entries (least recently
//     used first out).
// Keystone unreachable (or the service credentials refused) gives 503, never 401, and is not
// cached. Every call is bounded by the client's timeout.
//
// Thread-safety: Lookup and Authenticate may be called from any thread at once. Two concurrent
// misses of one token both ask Keystone (no request coalescing).
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/auth/keystone_client.h"
#include "common/clock.h"
#include "common/http/authenticator.h"
#include "common/thread_annotations.h"

namespace bora::auth {

struct KeystoneOptions {
  std::string auth_url;  // for messages ("Keystone at <url> ...")
  PasswordCredentials service;
  std::chrono::seconds token_cache_time{300};
  std::chrono::seconds invalid_cache_time{10};
  size_t max_entries = 10000;
  // The service token is renewed once less than this is left of it.
  std::chrono::seconds service_token_margin{60};
};

// The SHA-256 of `token` as 64 hex digits: the cache key.
std::string TokenDigest(std::string_view token);

class KeystoneAuthenticator final : public http::Authenticator {
 public:
  KeystoneAuthenticator(KeystoneOptions options, std::shared_ptr<KeystoneClient> client,
                        const Clock* clock);

  // A cached answer, a 401 for a request without a token, else nullopt.
  std::optional<http::AuthResult> Lookup(const http::HttpRequest& request) override;
  // Lookup, else asks Keystone (blocks up to the client's timeout, twice when the service token
  // must be fetched first).
  http::AuthResult Authenticate(const http::HttpRequest& request) override;

  size_t cached_entries() const;

 private:
  struct Entry {
    bool valid = false;
    http::Identity identity;
    TimestampUs until = 0;
    std::list<std::string>::iterator lru;  // its place in lru_
  };

  // The cached answer; `count`: bump the cache hit/miss counters (Lookup does, so that each
  // request counts once).
  std::optional<http::AuthResult> FromCache(const std::string& digest, bool count);
  void Store(const std::string& digest, bool valid, const http::Identity& identity,
             TimestampUs until);
  // The service token, fetched or renewed when needed; `renew` forces a new one.
  Result<std::string> ServiceToken(bool renew);
  http::AuthResult Validate(const std::string& token, const std::string& digest);

  const KeystoneOptions options_;
  const std::shared_ptr<KeystoneClient> client_;
  const Clock* const clock_;

  mutable Mutex cache_mu_;
  std::unordered_map<std::string, Entry> cache_ GUARDED_BY(cache_mu_);  // digest -> answer
  std::list<std::string> lru_ GUARDED_BY(cache_mu_);  // digests, most recently used first

  // Held while a service token is fetched, so concurrent misses fetch it once.
  Mutex service_mu_;
  std::optional<IssuedToken> service_token_ GUARDED_BY(service_mu_);
};

}  // namespace bora::auth
