#pragma once
// KeystoneTrusts: Keystone trusts for runs nobody asks for at the time they start (cron
// triggers), as Mistral does (mistral/services/security.py): when a user creates a trigger, Bora
// creates a trust (trustor = the user, trustee = Bora's service user, the user's project and roles,
// impersonation); when the trigger fires, the service user gets a token scoped to that trust, which
// acts as the user in the project, and the run's actions use it; deleting the trigger deletes the
// trust.
//
// Trust-scoped tokens are cached per trust until `token_margin` before they expire; the service
// user's id (the trustee) is learnt once from a service token. Every Keystone call is counted in
// bora_auth_trust_requests_total{call, result}.
//
// Ownership: owns nothing but a share of the client. Thread-safety: every method may be called
// from any thread at once (one mutex for the caches, not held during Keystone calls).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/auth/keystone_client.h"
#include "common/clock.h"
#include "common/thread_annotations.h"

namespace bora::auth {

class KeystoneTrusts {
 public:
  KeystoneTrusts(PasswordCredentials service, std::shared_ptr<KeystoneClient> client,
                 const Clock* clock, std::chrono::seconds token_margin = std::chrono::seconds(60));

  // Creates a trust from `caller` (the identity of `caller_token`, a project-scoped token) to the
  // service user, on the caller's project with the caller's roles; returns its id. Errors as
  // KeystoneClient::CreateTrust's; kInvalidArgument for an unscoped token.
  Result<std::string> Create(const http::Identity& caller, std::string_view caller_token);
  // A token of the trust (cached; a new one once less than `token_margin` of it is left). Its
  // identity is the trustor's (user, project, roles).
  Result<IssuedToken> Token(const std::string& trust_id);
  // Deletes the trust with a token of itself (it impersonates the trustor, whom Keystone lets
  // delete it) and forgets the cached token.
  Status Delete(const std::string& trust_id);

 private:
  // The service user's id, from a service token the first time.
  Result<std::string> ServiceUserId();

  const PasswordCredentials service_;
  const std::shared_ptr<KeystoneClient> client_;
  const Clock* const clock_;
  const std::chrono::seconds token_margin_;

  Mutex mu_;
  std::optional<std::string> service_user_id_ GUARDED_BY(mu_);
  std::map<std::string, IssuedToken> tokens_ GUARDED_BY(mu_);  // trust id -> its token
};

}  // namespace bora::auth
