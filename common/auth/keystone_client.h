#pragma once
// KeystoneClient: the Keystone v3 calls Bora makes (token validation; trusts for cron-triggered
// runs), as an interface so that KeystoneAuthenticator's and KeystoneTrusts' logic (caching,
// service-token renewal, outages) is tested against an in-memory Keystone (keystone_test_support.h)
// and runs against the real one through KeystoneHttpClient (keystone_http_client.h).
//
// Thread-safety: implementations are called from several threads at once.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/http_types.h"
#include "common/json.h"
#include "common/status.h"

namespace bora::auth {

// Password credentials scoped to a project (the service user's, keystonemiddleware's
// [keystone_authtoken] username/password/project_name/user_domain_name/project_domain_name).
struct PasswordCredentials {
  std::string user;
  std::string user_domain = "Default";
  std::string password;
  std::string project;
  std::string project_domain = "Default";
};

// A token Keystone issued: its id (the X-Subject-Token header), when it expires, whose it is
// (user and project of the token body; the service user's id is the trustee of trusts) and the
// body's service catalog (null when it has none).
struct IssuedToken {
  std::string id;
  int64_t expires_at_us = 0;
  http::Identity identity;
  Json catalog = nullptr;
};

// A trust to create (POST /v3/OS-TRUST/trusts): the trustor delegates `roles` on `project_id` to
// the trustee, with impersonation (tokens of the trust act as the trustor), without expiry.
struct TrustRequest {
  std::string trustor_user_id;
  std::string trustee_user_id;
  std::string project_id;
  std::vector<std::string> roles;  // role names
};

// What Keystone said of a user token.
struct TokenValidation {
  enum class Kind {
    kValid,                 // 200: `identity` is the token's
    kInvalid,               // 404: unknown, revoked or expired
    kServiceTokenRejected,  // 401: the service token itself is not accepted (expired, revoked)
  };
  Kind kind = Kind::kInvalid;
  http::Identity identity;
};

class KeystoneClient {
 public:
  virtual ~KeystoneClient() = default;
  // POST /v3/auth/tokens with password auth. kPermissionDenied when Keystone refuses the
  // credentials (401), kUnavailable when it cannot be reached, times out or fails (5xx).
  virtual Result<IssuedToken> IssueToken(const PasswordCredentials& credentials) = 0;
  // GET /v3/auth/tokens with X-Auth-Token: service_token, X-Subject-Token: subject_token.
  // kUnavailable when Keystone cannot be reached, times out or answers anything but 200/401/404.
  virtual Result<TokenValidation> ValidateToken(std::string_view service_token,
                                                std::string_view subject_token) = 0;
  // POST /v3/OS-TRUST/trusts with X-Auth-Token: user_token (the trustor's): the trust's id.
  // kPermissionDenied when Keystone refuses (401/403: expired token, not the trustor, roles the
  // user lacks), kNotFound (404: unknown trustee or project), kUnavailable (unreachable, 5xx).
  virtual Result<std::string> CreateTrust(std::string_view user_token,
                                          const TrustRequest& trust) = 0;
  // POST /v3/auth/tokens: password auth of `service` (the trustee) scoped to the trust
  // ({"OS-TRUST:trust": {"id": trust_id}}): a token acting as the trustor (impersonation) in the
  // trust's project. kNotFound when the trust is gone (404), kPermissionDenied (401/403),
  // kUnavailable otherwise.
  virtual Result<IssuedToken> IssueTrustToken(const PasswordCredentials& service,
                                              std::string_view trust_id) = 0;
  // DELETE /v3/OS-TRUST/trusts/{trust_id} with X-Auth-Token: token (the trustor's, or a token of
  // the trust itself, which impersonates the trustor). kNotFound (404), kPermissionDenied
  // (401/403), kUnavailable otherwise.
  virtual Status DeleteTrust(std::string_view token, std::string_view trust_id) = 0;
};

}  // namespace bora::auth
