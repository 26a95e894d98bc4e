#pragma once
// FakeKeystone (tests only): an in-memory KeystoneClient. It knows the user tokens added with
// AddUser, issues a service token for user "bora" / password "secret" (user id "u-bora"), keeps
// trusts (trust tokens "trust-<trust id>-<n>" act as the trustor), and counts its calls.
#include <atomic>
#include <functional>
#include <map>
#include <string>

#include "common/auth/keystone_client.h"
#include "common/clock.h"

namespace bora::auth {

inline constexpr int64_t kSecond = 1000000;  // µs

// Keystone as the authenticator sees it: tokens it knows, the service token it issued, counts of
// calls, and switches for an outage.
class FakeKeystone final : public KeystoneClient {
 public:
  explicit FakeKeystone(const Clock* clock) : clock_(clock) {}

  Result<IssuedToken> IssueToken(const PasswordCredentials& c) override {
    ++issued;
    if (down) return Unavailable("connection refused");
    if (c.user != "bora" || c.password != "secret") return PermissionDenied("bad credentials");
    service_token = "svc-" + std::to_string(issued.load());
    http::Identity id;
    id.user_id = "u-bora";
    id.user_name = "bora";
    return IssuedToken{service_token, clock_->NowUs() + service_token_life, id};
  }

  Result<std::string> CreateTrust(std::string_view user_token, const TrustRequest& t) override {
    ++trusts_created;
    if (down) return Unavailable("connection refused");
    auto it = users.find(std::string(user_token));
    if (it == users.end() || it->second.expires_at_us <= clock_->NowUs())
      return PermissionDenied("The request you have made requires authentication. (HTTP 401)");
    if (it->second.user_id != t.trustor_user_id || it->second.project_id != t.project_id)
      return PermissionDenied("not the trustor (HTTP 403)");
    if (t.trustee_user_id != "u-bora") return NotFound("no such trustee (HTTP 404)");
    std::string id = "trust-" + std::to_string(trusts_created.load());
    trusts[id] = it->second;
    return id;
  }

  Result<IssuedToken> IssueTrustToken(const PasswordCredentials& c,
                                      std::string_view trust_id) override {
    ++trust_tokens;
    if (down) return Unavailable("connection refused");
    if (c.user != "bora" || c.password != "secret") return PermissionDenied("bad credentials");
    auto it = trusts.find(std::string(trust_id));
    if (it == trusts.end()) return NotFound("trust not found (HTTP 404)");
    std::string token = std::string(trust_id) + "-" + std::to_string(trust_tokens.load());
    trust_of_token[token] = std::string(trust_id);
    http::Identity id = it->second;
    id.expires_at_us = clock_->NowUs() + trust_token_life;
    Json catalog = JsonArray{Json{{"type", "image"}, {"endpoints", JsonArray()}}};
    return IssuedToken{token, id.expires_at_us, id, catalog};
  }

  Status DeleteTrust(std::string_view token, std::string_view trust_id) override {
    if (down) return Unavailable("connection refused");
    auto it = trust_of_token.find(std::string(token));
    if (it == trust_of_token.end() || it->second != trust_id)
      return PermissionDenied("not the trustor (HTTP 403)");
    if (trusts.erase(std::string(trust_id)) == 0) return NotFound("trust not found (HTTP 404)");
    return Status::Ok();
  }

  Result<TokenValidation> ValidateToken(std::string_view service,
                                        std::string_view subject) override {
    if (before_validate) before_validate();
    ++validations;
    if (down) return Unavailable("connection refused");
    if (service != service_token || reject_service_token)
      return Kind(TokenValidation::Kind::kServiceTokenRejected);
    auto it = users.find(std::string(subject));
    if (it == users.end() || it->second.expires_at_us <= clock_->NowUs())
      return Kind(TokenValidation::Kind::kInvalid);
    TokenValidation v;
    v.kind = TokenValidation::Kind::kValid;
    v.identity = it->second;
    return v;
  }

  void AddUser(const std::string& token, const std::string& project, int64_t expires_at,
               bool admin = false) {
    http::Identity id;
    id.user_id = "u-" + token;
    id.user_name = "user " + token;
    id.project_id = project;
    id.roles = {"member"};
    if (admin) id.roles.push_back("admin");
    id.is_admin = admin;
    id.expires_at_us = expires_at;
    users[token] = id;
  }

  std::map<std::string, http::Identity> users;
  std::string service_token;
  int64_t service_token_life = 3600 * kSecond;
  std::map<std::string, http::Identity> trusts;  // trust id -> the trustor's identity
  std::map<std::string, std::string> trust_of_token;
  int64_t trust_token_life = 3600 * kSecond;
  // Counts of calls, and switches; set them while no call runs. `before_validate` runs at the
  // start of each validation (a test holds it to see what a slow Keystone blocks).
  std::atomic<int> issued = 0;
  std::atomic<int> validations = 0;
  std::atomic<int> trusts_created = 0;
  std::atomic<int> trust_tokens = 0;
  bool down = false;
  bool reject_service_token = false;
  std::function<void()> before_validate;

 private:
  static TokenValidation Kind(TokenValidation::Kind k) {
    TokenValidation v;
    v.kind = k;
    return v;
  }
  const Clock* clock_;
};

}  // namespace bora::auth
