// KeystoneAuthenticator against an in-memory Keystone (the two calls of KeystoneClient), with a
// manual clock; and the parsing of Keystone's token body.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>

#include "common/auth/keystone_authenticator.h"
#include "common/auth/keystone_http_client.h"
#include "common/auth/keystone_test_support.h"
#include "common/metrics/metrics.h"

namespace bora::auth {
namespace {

http::HttpRequest WithToken(const std::string& token) {
  http::HttpRequest r;
  r.method = "GET";
  r.path = "/v2/workflows";
  if (!token.empty()) r.headers["x-auth-token"] = token;
  return r;
}

double Counter(prometheus::Family<prometheus::Counter>& f,
               const std::map<std::string, std::string>& labels = {}) {
  return f.Add(labels).Value();
}

class KeystoneAuthenticatorTest : public ::testing::Test {
 protected:
  KeystoneAuthenticatorTest() {
    options.auth_url = "http://keystone.test:5000";
    options.service = {"bora", "Default", "secret", "service", "Default"};
  }
  KeystoneAuthenticator& Make() {
    auth = std::make_unique<KeystoneAuthenticator>(options, keystone, &clock);
    return *auth;
  }

  ManualClock clock;
  std::shared_ptr<FakeKeystone> keystone = std::make_shared<FakeKeystone>(&clock);
  KeystoneOptions options;
  std::unique_ptr<KeystoneAuthenticator> auth;
};

TEST_F(KeystoneAuthenticatorTest, ValidTokenGivesItsIdentityAndIsCached) {
  keystone->AddUser("alice", "project-a", clock.NowUs() + 3600 * kSecond, /*admin=*/true);
  auto& a = Make();
  double hits = Counter(metrics::Get().auth_token_cache_hits);
  double misses = Counter(metrics::Get().auth_token_cache_misses);
  double valid = Counter(metrics::Get().auth_keystone_requests, {{"result", "valid"}});

  EXPECT_FALSE(a.Lookup(WithToken("alice")).has_value());  // not seen yet: must block
  http::AuthResult r = a.Authenticate(WithToken("alice"));
  ASSERT_EQ(r.kind, http::AuthResult::Kind::kAllowed) << r.message;
  ASSERT_TRUE(r.identity.has_value());
  EXPECT_EQ(r.identity->project_id, "project-a");
  EXPECT_TRUE(r.identity->is_admin);
  EXPECT_EQ(keystone->validations, 1);
  EXPECT_EQ(keystone->issued, 1);

  auto cached = a.Lookup(WithToken("alice"));
  ASSERT_TRUE(cached.has_value());
  EXPECT_EQ(cached->kind, http::AuthResult::Kind::kAllowed);
  EXPECT_EQ(cached->identity->user_id, "u-alice");
  a.Authenticate(WithToken("alice"));
  EXPECT_EQ(keystone->validations, 1);  // both answered by the cache
  // Lookup counts (the server calls it first for every request); Authenticate does not.
  EXPECT_EQ(Counter(metrics::Get().auth_token_cache_hits), hits + 1);
  EXPECT_EQ(Counter(metrics::Get().auth_token_cache_misses), misses + 1);
  EXPECT_EQ(Counter(metrics::Get().auth_keystone_requests, {{"result", "valid"}}), valid + 1);
}

TEST_F(KeystoneAuthenticatorTest, CacheKeepsAValidTokenForTheCacheTimeThenAsksAgain) {
  keystone->AddUser("alice", "project-a", clock.NowUs() + 3600 * kSecond);
  auto& a = Make();
  ASSERT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kAllowed);
  clock.AdvanceSeconds(299);
  EXPECT_TRUE(a.Lookup(WithToken("alice")).has_value());
  clock.AdvanceSeconds(1);  // 300 s: token_cache_time is over
  EXPECT_FALSE(a.Lookup(WithToken("alice")).has_value());
  // Revoked meanwhile: Keystone's new answer counts.
  keystone->users.erase("alice");
  EXPECT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kRefused);
  EXPECT_EQ(keystone->validations, 2);
}

TEST_F(KeystoneAuthenticatorTest, CacheEndsWhenTheTokenExpiresBeforeTheCacheTime) {
  keystone->AddUser("alice", "project-a", clock.NowUs() + 30 * kSecond);
  auto& a = Make();
  ASSERT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kAllowed);
  clock.AdvanceSeconds(29);
  EXPECT_TRUE(a.Lookup(WithToken("alice")).has_value());
  clock.AdvanceSeconds(1);
  EXPECT_FALSE(a.Lookup(WithToken("alice")).has_value());
  EXPECT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kRefused);
}

TEST_F(KeystoneAuthenticatorTest, InvalidTokenIsRefusedAndBrieflyCached) {
  auto& a = Make();
  double invalid = Counter(metrics::Get().auth_keystone_requests, {{"result", "invalid"}});
  http::AuthResult r = a.Authenticate(WithToken("forged"));
  EXPECT_EQ(r.kind, http::AuthResult::Kind::kRefused);
  EXPECT_EQ(http::AuthRefusal(r).status, 401);
  for (int i = 0; i < 5; ++i) {
    auto cached = a.Lookup(WithToken("forged"));
    ASSERT_TRUE(cached.has_value());
    EXPECT_EQ(cached->kind, http::AuthResult::Kind::kRefused);
  }
  EXPECT_EQ(keystone->validations, 1);
  clock.AdvanceSeconds(10);  // invalid_cache_time
  EXPECT_FALSE(a.Lookup(WithToken("forged")).has_value());
  EXPECT_EQ(Counter(metrics::Get().auth_keystone_requests, {{"result", "invalid"}}), invalid + 1);
}

TEST_F(KeystoneAuthenticatorTest, MissingTokenIsRefusedWithoutAskingKeystone) {
  auto& a = Make();
  auto r = a.Lookup(WithToken(""));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, http::AuthResult::Kind::kRefused);
  EXPECT_EQ(a.Authenticate(WithToken("")).kind, http::AuthResult::Kind::kRefused);
  EXPECT_EQ(keystone->validations + keystone->issued, 0);
}

TEST_F(KeystoneAuthenticatorTest, RejectedServiceTokenIsRenewedOnceAndTheCheckRetried) {
  keystone->AddUser("alice", "project-a", clock.NowUs() + 3600 * kSecond);
  keystone->AddUser("bob", "project-b", clock.NowUs() + 3600 * kSecond);
  auto& a = Make();
  ASSERT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kAllowed);
  keystone->service_token = "revoked-by-keystone";  // the one Bora holds is no longer valid
  http::AuthResult r = a.Authenticate(WithToken("bob"));
  EXPECT_EQ(r.kind, http::AuthResult::Kind::kAllowed) << r.message;
  EXPECT_EQ(keystone->issued, 2);
  EXPECT_EQ(keystone->validations, 3);  // alice; bob refused with the old token; bob again

  // Rejected again after renewal: 503, one renewal only.
  keystone->reject_service_token = true;
  keystone->AddUser("carol", "project-c", clock.NowUs() + 3600 * kSecond);
  r = a.Authenticate(WithToken("carol"));
  EXPECT_EQ(r.kind, http::AuthResult::Kind::kUnavailable);
  EXPECT_EQ(keystone->issued, 3);
}

TEST_F(KeystoneAuthenticatorTest, ServiceTokenIsRenewedBeforeItExpires) {
  keystone->service_token_life = 600 * kSecond;
  keystone->AddUser("alice", "project-a", clock.NowUs() + 7200 * kSecond);
  keystone->AddUser("bob", "project-b", clock.NowUs() + 7200 * kSecond);
  auto& a = Make();
  ASSERT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kAllowed);
  EXPECT_EQ(keystone->issued, 1);
  clock.AdvanceSeconds(539);  // 61 s left: still used
  ASSERT_EQ(a.Authenticate(WithToken("bob")).kind, http::AuthResult::Kind::kAllowed);
  EXPECT_EQ(keystone->issued, 1);
  clock.AdvanceSeconds(2);  // 59 s left: under the 60 s margin, renewed first
  keystone->AddUser("carol", "project-c", clock.NowUs() + 7200 * kSecond);
  ASSERT_EQ(a.Authenticate(WithToken("carol")).kind, http::AuthResult::Kind::kAllowed);
  EXPECT_EQ(keystone->issued, 2);
}

TEST_F(KeystoneAuthenticatorTest, UnreachableKeystoneIs503AndNotCached) {
  keystone->AddUser("alice", "project-a", clock.NowUs() + 3600 * kSecond);
  keystone->down = true;
  auto& a = Make();
  double errors = Counter(metrics::Get().auth_keystone_requests, {{"result", "error"}});
  http::AuthResult r = a.Authenticate(WithToken("alice"));
  EXPECT_EQ(r.kind, http::AuthResult::Kind::kUnavailable);
  http::HttpResponse refusal = http::AuthRefusal(r);
  EXPECT_EQ(refusal.status, 503);
  EXPECT_NE(refusal.body.find("Keystone at http://keystone.test:5000"), std::string::npos)
      << refusal.body;
  EXPECT_FALSE(a.Lookup(WithToken("alice")).has_value());
  EXPECT_EQ(Counter(metrics::Get().auth_keystone_requests, {{"result", "error"}}), errors + 1);

  keystone->down = false;  // back: the next request is answered
  EXPECT_EQ(a.Authenticate(WithToken("alice")).kind, http::AuthResult::Kind::kAllowed);
}

TEST_F(KeystoneAuthenticatorTest, BadServiceCredentialsAre503) {
  options.service.password = "wrong";
  keystone->AddUser("alice", "project-a", clock.NowUs() + 3600 * kSecond);
  http::AuthResult r = Make().Authenticate(WithToken("alice"));
  EXPECT_EQ(r.kind, http::AuthResult::Kind::kUnavailable);
  EXPECT_NE(r.message.find("service token"), std::string::npos) << r.message;
  EXPECT_EQ(keystone->validations, 0);
}

TEST_F(KeystoneAuthenticatorTest, CacheIsBoundedLeastRecentlyUsedFirstOut) {
  options.max_entries = 2;
  for (const char* t : {"a", "b", "c"}) keystone->AddUser(t, "p", clock.NowUs() + 3600 * kSecond);
  auto& a = Make();
  a.Authenticate(WithToken("a"));
  a.Authenticate(WithToken("b"));
  EXPECT_TRUE(a.Lookup(WithToken("a")).has_value());  // a is now the most recent
  a.Authenticate(WithToken("c"));                     // b goes
  EXPECT_EQ(a.cached_entries(), 2u);
  EXPECT_TRUE(a.Lookup(WithToken("a")).has_value());
  EXPECT_FALSE(a.Lookup(WithToken("b")).has_value());
  EXPECT_TRUE(a.Lookup(WithToken("c")).has_value());
}

TEST(TokenDigestTest, IsTheSha256InHex) {
  EXPECT_EQ(TokenDigest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KeystoneBodyTest, TokenBodyGivesTheIdentity) {
  auto id = ParseTokenBody(R"({"token": {"methods": ["password"],
      "expires_at": "2026-12-06T22:35:00.250000Z", "issued_at": "2026-12-06T21:35:00.000000Z",
      "user": {"id": "u1", "name": "alice", "domain": {"id": "default", "name": "Default"},
               "password_expires_at": null},
      "project": {"id": "p1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
      "roles": [{"id": "r1", "name": "member"}, {"id": "r2", "name": "admin"}],
      "catalog": []}})");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->user_id, "u1");
  EXPECT_EQ(id->user_name, "alice");
  EXPECT_EQ(id->user_domain, "Default");
  EXPECT_EQ(id->project_id, "p1");
  EXPECT_EQ(id->project_name, "demo");
  EXPECT_EQ(id->project_domain, "Default");
  EXPECT_EQ(id->roles, (std::vector<std::string>{"member", "admin"}));
  EXPECT_TRUE(id->is_admin);
  EXPECT_EQ(id->expires_at_us, 1796596500250000);  // date -d 2026-12-06T22:35:00Z +%s = 1796596500

  auto member =
      ParseTokenBody(R"({"token": {"user": {"id": "u2"}, "roles": [{"name": "member"}]}})");
  ASSERT_TRUE(member.ok());
  EXPECT_FALSE(member->is_admin);
  EXPECT_EQ(member->project_id, "");

  EXPECT_FALSE(ParseTokenBody("{}").ok());
  EXPECT_FALSE(ParseTokenBody("not json").ok());
  EXPECT_FALSE(ParseTokenBody(R"({"token": {"user": {"id": "u"}, "expires_at": "soon"}})").ok());
}

TEST(KeystoneBodyTest, PasswordAuthBodyHasTheShapeKeystoneWants) {
  PasswordCredentials c{"bora", "Default", "p\"w", "service", "Default"};
  EXPECT_EQ(PasswordAuthBody(c),
            R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bora",)"
            R"("domain":{"name":"Default"},"password":"p\"w"}}},"scope":{"project":)"
            R"({"name":"service","domain":{"name":"Default"}}}}})");
}

TEST(KeystoneBodyTest, TrustAuthBodyIsScopedToTheTrust) {
  PasswordCredentials c{"bora", "Default", "pw", "service", "Default"};
  EXPECT_EQ(TrustAuthBody(c, "abc"),
            R"({"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"bora",)"
            R"("domain":{"name":"Default"},"password":"pw"}}},"scope":{"OS-TRUST:trust":)"
            R"({"id":"abc"}}}})");
}

// A TCP socket bound to a free loopback port (*port), listening or not; -1 on failure.
int LoopbackSocket(bool listen, int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      (listen && ::listen(fd, 16) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

// A socket that listens but never answers: each call ends at the timeout, as kUnavailable.
TEST(KeystoneHttpClientTest, SilentKeystoneTimesOutAsUnavailable) {
  int port = 0;
  int fd = LoopbackSocket(/*listen=*/true, &port);
  ASSERT_GE(fd, 0);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/v3/";
  KeystoneHttpClient client(url, std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  auto r = client.ValidateToken("svc", "user");
  auto issued = client.IssueToken({"u", "Default", "p", "proj", "Default"});
  auto took = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), StatusCode::kUnavailable);
  EXPECT_GE(took, std::chrono::milliseconds(500));
  EXPECT_LT(took, std::chrono::seconds(5));
}

// A bound socket that does not listen: connection refused, at once.
TEST(KeystoneHttpClientTest, RefusedConnectionIsUnavailable) {
  int port = 0;
  int fd = LoopbackSocket(/*listen=*/false, &port);
  ASSERT_GE(fd, 0);
  KeystoneHttpClient client("http://127.0.0.1:" + std::to_string(port),
                            std::chrono::milliseconds(2000));
  auto r = client.ValidateToken("svc", "user");
  auto trust = client.CreateTrust("user", {"u", "svc", "p", {"member"}});
  auto trust_token = client.IssueTrustToken({"u", "Default", "p", "", "Default"}, "t1");
  Status deleted = client.DeleteTrust("user", "t1");
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_EQ(trust.status().code(), StatusCode::kUnavailable) << trust.status().ToString();
  EXPECT_EQ(trust_token.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(deleted.code(), StatusCode::kUnavailable) << deleted.ToString();
}

}  // namespace
}  // namespace bora::auth
