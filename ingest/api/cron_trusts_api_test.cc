// Cron triggers under Keystone (ApiContext::trusts) against the in-memory Keystone
// (common/auth/keystone_test_support.h): the trigger's trust is created with the caller's token,
// its runs carry a token of it, deleting the trigger deletes it, and a Keystone failure makes no
// trigger.
#include <gtest/gtest.h>

#include "common/auth/keystone_test_support.h"
#include "common/auth/keystone_trusts.h"
#include "common/http/router.h"
#include "ingest/api/api_test_support.h"
#include "ingest/api/cron_triggers_api.h"
#include "ingest/api/definitions_api.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/triggers/cron.h"
#include "orchestrator/triggers/cron_scheduler.h"

namespace bora::api {
namespace {

class CronTrustsApiTest : public ::testing::Test {
 protected:
  CronTrustsApiTest() {
    runtime_.manual_clock()->Set(*triggers::ParseMinuteTime("2026-01-01 10:00"));
    keystone_->AddUser("alpha-token", "alpha-id", runtime_.clock()->NowUs() + 3600 * auth::kSecond);
    alice_ = keystone_->users.at("alpha-token");
    alice_.project_name = "alpha";
    keystone_->users["alpha-token"] = alice_;
    backend_.context().trusts = trusts_.get();
    workers::ActionSignature probe;
    probe.name = "test.security_probe";
    runtime_.actions().Register(std::move(probe), std::make_shared<SecurityProbe>(&seen_));
    RegisterDefinitionsRoutes(router_, backend_.context());
    RegisterCronTriggersRoutes(router_, backend_.context());
    scheduler_.SetTrustTokenHook(CronTrustTokens(trusts_));
    auto created = Call("POST", "/v2/workflows", R"(
version: '2.0'
wf:
  tasks:
    t:
      action: test.security_probe
)");
    EXPECT_EQ(created.status, 201) << created.body;
  }

  // A request of alice (her token and the identity the authenticator would set).
  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "") {
    http::HttpRequest r =
        MakeRequest(method, target, body, body.empty() || body[0] == '{' ? "" : "text/plain",
                    {{"x-auth-token", "alpha-token"}});
    r.identity = alice_;
    return router_.Dispatch(r);
  }

  std::optional<triggers::CronTrigger> Stored(const std::string& name) {
    auto all = backend_.resources().List(triggers::kCronTriggerKind);
    EXPECT_TRUE(all.ok());
    for (auto& [key, record] : *all) {
      auto t = triggers::CronTrigger::FromRecord(record);
      if (t.ok() && t->name == name) return *t;
    }
    return std::nullopt;
  }

  Result<size_t> RunDue() {
    return scheduler_.RunDue({PartitionId(0), PartitionId(1), PartitionId(2), PartitionId(3)});
  }

  ApiTestBackend backend_;
  runtime::EmbeddedRuntime& runtime_ = backend_.runtime();
  std::shared_ptr<auth::FakeKeystone> keystone_ =
      std::make_shared<auth::FakeKeystone>(runtime_.clock());
  std::shared_ptr<auth::KeystoneTrusts> trusts_ = std::make_shared<auth::KeystoneTrusts>(
      auth::PasswordCredentials{"bora", "Default", "secret", "service", "Default"}, keystone_,
      runtime_.clock());
  triggers::CronScheduler scheduler_{&backend_.resources(), &runtime_.client(), runtime_.clock(),
                                     runtime_.partitions()};
  http::Router router_;
  http::Identity alice_;
  std::vector<Json> seen_;
};

constexpr char kEvery5[] = R"({"name": "t", "workflow_name": "wf", "pattern": "*/5 * * * *"})";

TEST_F(CronTrustsApiTest, CreateStoresATrustAndItsRunsActWithATokenOfIt) {
  auto r = Call("POST", "/v2/cron_triggers", kEvery5);
  ASSERT_EQ(r.status, 201) << r.body;
  // Stored, never shown.
  auto stored = Stored("t");
  ASSERT_TRUE(stored.has_value());
  ASSERT_FALSE(stored->trust_id.empty());
  ASSERT_EQ(keystone_->trusts.count(stored->trust_id), 1u);
  EXPECT_EQ(keystone_->trusts.at(stored->trust_id).user_id, "u-alpha-token");
  EXPECT_EQ(r.body.find(stored->trust_id), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/v2/cron_triggers/t").body.find(stored->trust_id), std::string::npos);

  // It fires (long after alice's own token expired) with a token of the trust, as alice.
  keystone_->users.clear();
  for (const char* at : {"2026-01-01 10:05", "2026-01-01 10:10"}) {
    runtime_.manual_clock()->Set(*triggers::ParseMinuteTime(at));
    auto fired = RunDue();
    ASSERT_TRUE(fired.ok()) << fired.status().ToString();
    EXPECT_EQ(*fired, 1u);
    ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  }
  ASSERT_EQ(seen_.size(), 2u);
  const std::string token = stored->trust_id + "-1";
  for (const Json& s : seen_) {
    EXPECT_EQ(DumpJson(s), R"({"auth_token":")" + token +
                               R"(","project_id":"alpha-id","project_name":"alpha",)"
                               R"("user_id":"u-alpha-token","user_name":"user alpha-token",)"
                               R"("is_trust_scoped":true,)"
                               R"("service_catalog":[{"type":"image","endpoints":[]}]})");
  }
  EXPECT_EQ(keystone_->trust_tokens, 1);  // cached between the two runs
}

TEST_F(CronTrustsApiTest, DeletingTheTriggerDeletesItsTrust) {
  ASSERT_EQ(Call("POST", "/v2/cron_triggers", kEvery5).status, 201);
  ASSERT_EQ(keystone_->trusts.size(), 1u);
  EXPECT_EQ(Call("DELETE", "/v2/cron_triggers/t").status, 204);
  EXPECT_TRUE(keystone_->trusts.empty());
  // A duplicate name makes no second trust survive.
  ASSERT_EQ(Call("POST", "/v2/cron_triggers", kEvery5).status, 201);
  EXPECT_EQ(Call("POST", "/v2/cron_triggers", kEvery5).status, 409);
  EXPECT_EQ(keystone_->trusts.size(), 1u);
}

TEST_F(CronTrustsApiTest, KeystoneFailingAtCreateMakesNoTrigger) {
  keystone_->down = true;
  auto down = Call("POST", "/v2/cron_triggers", kEvery5);
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_NE(down.body.find("Cannot create a Keystone trust for the cron trigger"),
            std::string::npos)
      << down.body;
  EXPECT_FALSE(Stored("t").has_value());
  // Keystone refusing the caller's token: 403, no trigger either.
  keystone_->down = false;
  keystone_->users.clear();
  auto refused = Call("POST", "/v2/cron_triggers", kEvery5);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_FALSE(Stored("t").has_value());
  EXPECT_TRUE(keystone_->trusts.empty());
}

// No token of the trust (Keystone away): the run does not start with other credentials; the
// trigger stays due and fires once Keystone answers (Mistral retries at its next pass).
TEST_F(CronTrustsApiTest, NoTrustTokenAtFireTimeRetriesLater) {
  ASSERT_EQ(Call("POST", "/v2/cron_triggers", kEvery5).status, 201);
  runtime_.manual_clock()->Set(*triggers::ParseMinuteTime("2026-01-01 10:05"));
  keystone_->down = true;
  auto failed = RunDue();
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("no token of its trust"), std::string::npos)
      << failed.status().ToString();
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  EXPECT_TRUE(seen_.empty());
  EXPECT_EQ(Stored("t")->next_execution_time, *triggers::ParseMinuteTime("2026-01-01 10:05"));
  keystone_->down = false;
  runtime_.manual_clock()->AdvanceSeconds(1.5);
  auto fired = RunDue();
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_EQ(*fired, 1u);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_TRUE(seen_[0].as_object().contains("auth_token"));
}

// Without trusts (no Keystone): as before, the trigger has none and its run no token.
TEST_F(CronTrustsApiTest, WithoutTrustsNothingChanges) {
  backend_.context().trusts = nullptr;
  ASSERT_EQ(Call("POST", "/v2/cron_triggers", kEvery5).status, 201);
  EXPECT_TRUE(Stored("t")->trust_id.empty());
  EXPECT_EQ(keystone_->trusts_created, 0);
  runtime_.manual_clock()->Set(*triggers::ParseMinuteTime("2026-01-01 10:05"));
  ASSERT_TRUE(RunDue().ok());
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(DumpJson(seen_[0]), R"({"project_id":"alpha-id","user_id":"u-alpha-token"})");
}

}  // namespace
}  // namespace bora::api
