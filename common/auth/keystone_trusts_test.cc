// KeystoneTrusts against the in-memory Keystone (keystone_test_support.h), with a manual clock.
#include "common/auth/keystone_trusts.h"

#include <gtest/gtest.h>

#include "common/auth/keystone_test_support.h"
#include "common/metrics/metrics.h"

namespace bora::auth {
namespace {

double TrustCalls(const char* call, const char* result) {
  return metrics::Get().auth_trust_requests.Add({{"call", call}, {"result", result}}).Value();
}

class KeystoneTrustsTest : public ::testing::Test {
 protected:
  KeystoneTrustsTest() {
    keystone->AddUser("alice", "alpha-id", clock.NowUs() + 3600 * kSecond);
    alice = keystone->users.at("alice");
  }
  ManualClock clock;
  std::shared_ptr<FakeKeystone> keystone = std::make_shared<FakeKeystone>(&clock);
  KeystoneTrusts trusts{{"bora", "Default", "secret", "service", "Default"}, keystone, &clock};
  http::Identity alice;
};

TEST_F(KeystoneTrustsTest, CreateDelegatesTheCallersProjectAndRolesToTheServiceUser) {
  const double ok = TrustCalls("create", "ok");
  auto id = trusts.Create(alice, "alice");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_EQ(keystone->trusts.count(*id), 1u);
  EXPECT_EQ(keystone->trusts.at(*id).user_id, "u-alice");
  EXPECT_EQ(keystone->trusts.at(*id).project_id, "alpha-id");
  EXPECT_EQ(TrustCalls("create", "ok"), ok + 1);
  // The service user's id is learnt once.
  ASSERT_TRUE(trusts.Create(alice, "alice").ok());
  EXPECT_EQ(keystone->issued, 1);
  EXPECT_EQ(keystone->trusts.size(), 2u);
}

TEST_F(KeystoneTrustsTest, CreateFailsClearly) {
  http::Identity unscoped = alice;
  unscoped.project_id.clear();
  EXPECT_EQ(trusts.Create(unscoped, "alice").status().code(), StatusCode::kInvalidArgument);
  // A token Keystone does not know (expired): refused.
  EXPECT_EQ(trusts.Create(alice, "forged").status().code(), StatusCode::kPermissionDenied);
  keystone->down = true;
  const double errors = TrustCalls("create", "error");
  EXPECT_EQ(trusts.Create(alice, "alice").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(TrustCalls("create", "error"), errors + 1);
  EXPECT_TRUE(keystone->trusts.empty());
}

TEST_F(KeystoneTrustsTest, TokenActsAsTheTrustorAndIsCachedUntilShortlyBeforeItExpires) {
  auto id = trusts.Create(alice, "alice");
  ASSERT_TRUE(id.ok());
  keystone->trust_token_life = 600 * kSecond;
  auto first = trusts.Token(*id);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->identity.user_id, "u-alice");
  EXPECT_EQ(first->identity.project_id, "alpha-id");
  EXPECT_EQ(first->expires_at_us, clock.NowUs() + 600 * kSecond);
  clock.AdvanceSeconds(539);
  auto cached = trusts.Token(*id);
  ASSERT_TRUE(cached.ok());
  EXPECT_EQ(cached->id, first->id);
  EXPECT_EQ(keystone->trust_tokens, 1);
  clock.AdvanceSeconds(2);  // less than 60 s left: a new one
  auto renewed = trusts.Token(*id);
  ASSERT_TRUE(renewed.ok());
  EXPECT_NE(renewed->id, first->id);
  EXPECT_EQ(keystone->trust_tokens, 2);
}

TEST_F(KeystoneTrustsTest, TokenOfAGoneTrustOrAnAbsentKeystoneFails) {
  EXPECT_EQ(trusts.Token("nope").status().code(), StatusCode::kNotFound);
  auto id = trusts.Create(alice, "alice");
  ASSERT_TRUE(id.ok());
  keystone->down = true;
  const double errors = TrustCalls("token", "error");
  EXPECT_EQ(trusts.Token(*id).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(TrustCalls("token", "error"), errors + 1);
}

TEST_F(KeystoneTrustsTest, DeleteRemovesTheTrustWithATokenOfItself) {
  auto id = trusts.Create(alice, "alice");
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(trusts.Token(*id).ok());
  Status deleted = trusts.Delete(*id);
  ASSERT_TRUE(deleted.ok()) << deleted.ToString();
  EXPECT_TRUE(keystone->trusts.empty());
  // Gone: no token of it any more (the cached one was forgotten), a second delete fails.
  EXPECT_EQ(trusts.Token(*id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(trusts.Delete(*id).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace bora::auth
