#include "common/auth/keystone_trusts.h"

#include "common/metrics/metrics.h"

namespace bora::auth {

KeystoneTrusts::KeystoneTrusts(PasswordCredentials service, std::shared_ptr<KeystoneClient> client,
                               const Clock* clock, std::chrono::seconds token_margin)
    : service_(std::move(service)),
      client_(std::move(client)),
      clock_(clock),
      token_margin_(token_margin) {}

Result<std::string> KeystoneTrusts::ServiceUserId() {
  {
    MutexLock lock(mu_);
    if (service_user_id_) return *service_user_id_;
  }
  Result<IssuedToken> issued = client_->IssueToken(service_);
  if (!issued.ok()) return issued.status().WithContext("the service user's token");
  if (issued->identity.user_id.empty()) return Unavailable("Keystone named no service user id");
  MutexLock lock(mu_);
  service_user_id_ = issued->identity.user_id;
  return *service_user_id_;
}

Result<std::string> KeystoneTrusts::Create(const http::Identity& caller,
                                           std::string_view caller_token) {
  if (caller.project_id.empty() || caller.user_id.empty()) {
    return InvalidArgument("a trust needs a project-scoped token of a user");
  }
  Result<std::string> trustee = ServiceUserId();
  if (!trustee.ok()) {
    metrics::AuthTrustRequest("create", false);
    return trustee.status();
  }
  TrustRequest request{caller.user_id, *trustee, caller.project_id, caller.roles};
  Result<std::string> id = client_->CreateTrust(caller_token, request);
  metrics::AuthTrustRequest("create", id.ok());
  return id;
}

Result<IssuedToken> KeystoneTrusts::Token(const std::string& trust_id) {
  const int64_t margin_us = std::chrono::microseconds(token_margin_).count();
  {
    MutexLock lock(mu_);
    auto it = tokens_.find(trust_id);
    if (it != tokens_.end() && it->second.expires_at_us - margin_us > clock_->NowUs()) {
      return it->second;
    }
  }
  Result<IssuedToken> issued = client_->IssueTrustToken(service_, trust_id);
  metrics::AuthTrustRequest("token", issued.ok());
  MutexLock lock(mu_);
  if (!issued.ok()) {
    tokens_.erase(trust_id);
    return issued.status();
  }
  tokens_[trust_id] = *issued;
  return *issued;
}

Status KeystoneTrusts::Delete(const std::string& trust_id) {
  Result<IssuedToken> token = Token(trust_id);
  {
    MutexLock lock(mu_);
    tokens_.erase(trust_id);
  }
  if (!token.ok()) return token.status().WithContext("a token to delete trust " + trust_id);
  Status deleted = client_->DeleteTrust(token->id, trust_id);
  metrics::AuthTrustRequest("delete", deleted.ok());
  return deleted;
}

}  // namespace bora::auth
