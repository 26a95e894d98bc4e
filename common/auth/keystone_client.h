#pragma once
// KeystoneClient: the two Keystone v3 calls token validation needs, as an interface so that
// KeystoneAuthenticator's logic (caching, service-token renewal, outages) is tested against an
// in-memory Keystone (keystone_test.cc) and runs against the real one through KeystoneHttpClient
// (keystone_http_client.h).
//
// Thread-safety: implementations are called from several threads at once.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/http_types.h"
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

// A token Keystone issued: its id (the X-Subject-Token header) and when it expires.
struct IssuedToken {
  std::string id;
  int64_t expires_at_us = 0;
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
};

}  // namespace bora::auth
