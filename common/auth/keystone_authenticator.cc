#include "common/auth/keystone_authenticator.h"

#include <openssl/evp.h>

#include <algorithm>

#include "common/log.h"
#include "common/metrics/metrics.h"

namespace bora::auth {
namespace {

constexpr int64_t kUsPerSecond = 1000000;

}  // namespace

std::string TokenDigest(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(token.data(), token.size(), digest, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

KeystoneAuthenticator::KeystoneAuthenticator(KeystoneOptions options,
                                             std::shared_ptr<KeystoneClient> client,
                                             const Clock* clock)
    : options_(std::move(options)), client_(std::move(client)), clock_(clock) {}

size_t KeystoneAuthenticator::cached_entries() const {
  MutexLock lock(cache_mu_);
  return cache_.size();
}

std::optional<http::AuthResult> KeystoneAuthenticator::FromCache(const std::string& digest,
                                                                 bool count) {
  std::optional<http::AuthResult> result;
  {
    MutexLock lock(cache_mu_);
    auto it = cache_.find(digest);
    if (it != cache_.end() && it->second.until <= clock_->NowUs()) {
      lru_.erase(it->second.lru);
      cache_.erase(it);
      it = cache_.end();
    }
    if (it != cache_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      result = it->second.valid
                   ? http::AuthResult::Allow(it->second.identity)
                   : http::AuthResult::Refuse("Authentication required: invalid or expired token");
    }
  }
  if (count && result) metrics::AuthTokenCacheHit();
  if (count && !result) metrics::AuthTokenCacheMiss();
  return result;
}

void KeystoneAuthenticator::Store(const std::string& digest, bool valid,
                                  const http::Identity& identity, TimestampUs until) {
  MutexLock lock(cache_mu_);
  auto it = cache_.find(digest);
  if (it != cache_.end()) {
    lru_.erase(it->second.lru);
    cache_.erase(it);
  }
  while (!lru_.empty() && cache_.size() >= std::max<size_t>(options_.max_entries, 1)) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(digest);
  cache_.emplace(digest, Entry{valid, identity, until, lru_.begin()});
}

std::optional<http::AuthResult> KeystoneAuthenticator::Lookup(const http::HttpRequest& request) {
  std::string token = http::RequestToken(request);
  if (token.empty()) {
    return http::AuthResult::Refuse("Authentication required: no X-Auth-Token header");
  }
  return FromCache(TokenDigest(token), /*count=*/true);
}

http::AuthResult KeystoneAuthenticator::Authenticate(const http::HttpRequest& request) {
  std::string token = http::RequestToken(request);
  if (token.empty()) {
    return http::AuthResult::Refuse("Authentication required: no X-Auth-Token header");
  }
  std::string digest = TokenDigest(token);
  // Not counted: the server's Lookup just counted this request (an answer cached meanwhile, by a
  // concurrent request with the same token, is still used).
  if (auto cached = FromCache(digest, /*count=*/false)) return *cached;
  return Validate(token, digest);
}

Result<std::string> KeystoneAuthenticator::ServiceToken(bool renew) {
  MutexLock lock(service_mu_);
  const TimestampUs margin = options_.service_token_margin.count() * kUsPerSecond;
  if (!renew && service_token_ && service_token_->expires_at_us - margin > clock_->NowUs()) {
    return service_token_->id;
  }
  service_token_.reset();
  Result<IssuedToken> issued = client_->IssueToken(options_.service);
  if (!issued.ok()) return issued.status();
  service_token_ = *issued;
  return service_token_->id;
}

http::AuthResult KeystoneAuthenticator::Validate(const std::string& token,
                                                 const std::string& digest) {
  auto unavailable = [&](const Status& s) {
    metrics::AuthKeystoneRequest("error");
    BORA_LOG_WARN("keystone at {}: {}", options_.auth_url, s.ToString());
    return http::AuthResult::Unavailable("Authentication service unavailable: Keystone at " +
                                         options_.auth_url + " cannot validate the token (" +
                                         s.message() + ")");
  };
  Result<TokenValidation> answer = TokenValidation{};
  for (int attempt = 0; attempt < 2; ++attempt) {
    Result<std::string> service = ServiceToken(/*renew=*/attempt > 0);
    if (!service.ok()) return unavailable(service.status().WithContext("service token"));
    answer = client_->ValidateToken(*service, token);
    if (!answer.ok()) return unavailable(answer.status());
    if (answer->kind != TokenValidation::Kind::kServiceTokenRejected) break;
  }
  const TimestampUs now = clock_->NowUs();
  switch (answer->kind) {
    case TokenValidation::Kind::kServiceTokenRejected:
      return unavailable(PermissionDenied("the service token was rejected twice"));
    case TokenValidation::Kind::kInvalid:
      metrics::AuthKeystoneRequest("invalid");
      Store(digest, false, {}, now + options_.invalid_cache_time.count() * kUsPerSecond);
      return http::AuthResult::Refuse("Authentication required: invalid or expired token");
    case TokenValidation::Kind::kValid:
      break;
  }
  metrics::AuthKeystoneRequest("valid");
  http::Identity& identity = answer->identity;
  TimestampUs until = now + options_.token_cache_time.count() * kUsPerSecond;
  if (identity.expires_at_us > 0) until = std::min(until, identity.expires_at_us);
  if (until > now) Store(digest, true, identity, until);
  return http::AuthResult::Allow(std::move(identity));
}

}  // namespace bora::auth
