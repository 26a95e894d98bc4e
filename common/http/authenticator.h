#pragma once
// Authenticator: who sent a request, decided before its handler runs (RequestGate,
// request_reader.h). Three kinds: NoAuthenticator (everyone passes, no identity),
// StaticTokenAuthenticator (one shared bearer token, HttpServerOptions::auth_token) and
// KeystoneAuthenticator (common/auth: the token is validated against Keystone and gives an
// Identity).
//
// Two calls: Lookup() answers without blocking when it can (no auth, static token, a cached
// Keystone answer); when it cannot (nullopt) the server calls Authenticate(), which may block on an
// HTTP call bounded by a timeout, on a thread that is not an I/O thread (common/http/README.md,
// "Threading").
//
// Thread-safety: implementations are shared by every connection and must be thread-safe.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/http/http_types.h"

namespace bora::http {

struct AuthResult {
  enum class Kind {
    kAllowed,      // pass; `identity` when the token named one
    kRefused,      // 401: missing, invalid or expired token
    kUnavailable,  // 503: the identity service cannot be asked (a Keystone outage is not a 401)
  };
  Kind kind = Kind::kAllowed;
  std::optional<Identity> identity;
  std::string message;  // the fault's text for kRefused / kUnavailable

  static AuthResult Allow(std::optional<Identity> identity = std::nullopt) {
    return {Kind::kAllowed, std::move(identity), ""};
  }
  static AuthResult Refuse(std::string message) { return {Kind::kRefused, std::nullopt, message}; }
  static AuthResult Unavailable(std::string message) {
    return {Kind::kUnavailable, std::nullopt, message};
  }
};

// The refusal as a Mistral fault: 401 with `WWW-Authenticate: Bearer`, or 503. Not for kAllowed.
HttpResponse AuthRefusal(const AuthResult& result);

// The token a client sent: `X-Auth-Token` (python-mistralclient, keystoneauth), else the token of
// `Authorization: Bearer <token>` (scheme case-insensitive); "" when neither.
std::string RequestToken(const HttpRequest& request);

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The answer when it is known without blocking; nullopt: call Authenticate().
  virtual std::optional<AuthResult> Lookup(const HttpRequest& request) = 0;
  // The answer; may block (bounded by the implementation's timeouts).
  virtual AuthResult Authenticate(const HttpRequest& request) = 0;
};

// Every request passes, without identity.
class NoAuthenticator final : public Authenticator {
 public:
  std::optional<AuthResult> Lookup(const HttpRequest&) override { return AuthResult::Allow(); }
  AuthResult Authenticate(const HttpRequest&) override { return AuthResult::Allow(); }
};

// One shared token: `Authorization: Bearer <token>` or `X-Auth-Token: <token>` (either may carry
// it), compared in constant time; no identity.
class StaticTokenAuthenticator final : public Authenticator {
 public:
  explicit StaticTokenAuthenticator(std::string token) : token_(std::move(token)) {}
  std::optional<AuthResult> Lookup(const HttpRequest& request) override {
    return Authenticate(request);
  }
  AuthResult Authenticate(const HttpRequest& request) override;

 private:
  const std::string token_;
};

}  // namespace bora::http
