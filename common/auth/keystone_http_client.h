#pragma once
// KeystoneHttpClient: KeystoneClient over HTTP (libcurl) against a real Keystone v3 at `auth_url`
// ("http://keystone:5000", with or without a trailing "/v3"). Every call is bounded by `timeout`
// (connect included); no proxy from the environment; redirects are not followed.
//
// Thread-safety: each call uses its own curl handle; calls may run concurrently.
#include <chrono>
#include <string>
#include <string_view>

#include "common/auth/keystone_client.h"

namespace bora::auth {

// The parts of Keystone's token body (`{"token": {...}}` of POST or GET /v3/auth/tokens) Bora
// uses: user, project, roles (is_admin when one is "admin"), expires_at. kInvalidArgument when the
// body is not such an object.
Result<http::Identity> ParseTokenBody(std::string_view body);
// Keystone's expires_at ("2026-12-06T22:35:00.000000Z", fraction and zone optional) to µs since
// the epoch.
Result<int64_t> ParseKeystoneTime(std::string_view text);
// The body of a password authentication scoped to a project.
std::string PasswordAuthBody(const PasswordCredentials& credentials);
// The body of a password authentication scoped to a trust ({"OS-TRUST:trust": {"id": ...}}).
std::string TrustAuthBody(const PasswordCredentials& credentials, std::string_view trust_id);

class KeystoneHttpClient final : public KeystoneClient {
 public:
  KeystoneHttpClient(std::string auth_url, std::chrono::milliseconds timeout);
  Result<IssuedToken> IssueToken(const PasswordCredentials& credentials) override;
  Result<TokenValidation> ValidateToken(std::string_view service_token,
                                        std::string_view subject_token) override;
  Result<std::string> CreateTrust(std::string_view user_token, const TrustRequest& trust) override;
  Result<IssuedToken> IssueTrustToken(const PasswordCredentials& service,
                                      std::string_view trust_id) override;
  Status DeleteTrust(std::string_view token, std::string_view trust_id) override;

 private:
  std::string tokens_url_;  // <auth_url>/v3/auth/tokens
  std::string trusts_url_;  // <auth_url>/v3/OS-TRUST/trusts
  std::chrono::milliseconds timeout_;
};

}  // namespace bora::auth
