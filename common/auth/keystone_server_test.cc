// KeystoneAuthenticator in a real HttpServer, against the in-memory Keystone: the identity reaches
// the handler, refusals are Mistral faults (401, 503), the access line names the project, and a
// slow Keystone does not hold the server's I/O thread.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "common/auth/keystone_authenticator.h"
#include "common/auth/keystone_test_support.h"
#include "common/http/http_server.h"
#include "common/http/test_client.h"
#include "common/log_capture.h"

namespace bora::auth {
namespace {

class KeystoneServerTest : public ::testing::Test {
 protected:
  void StartServer(int threads = 2) {
    KeystoneOptions options;
    options.auth_url = "http://keystone.test:5000";
    options.service = {"bora", "Default", "secret", "service", "Default"};
    http::HttpServerOptions http_options;
    http_options.threads = threads;
    http_options.authenticator = std::make_shared<KeystoneAuthenticator>(options, keystone, &clock);
    server = std::make_unique<http::HttpServer>(
        std::move(http_options), [](const http::HttpRequest& req) {
          http::HttpResponse r;
          r.content_type = "text/plain";
          r.body =
              req.identity ? req.identity->project_id + " " + req.identity->user_name : "anonymous";
          return r;
        });
    ASSERT_TRUE(server->Start().ok());
  }
  Result<http::HttpResponse> Get(const std::string& path, const std::string& token) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["X-Auth-Token"] = token;
    return http::HttpCall("127.0.0.1", server->port(), "GET", path, "", headers);
  }

  ManualClock clock;
  std::shared_ptr<FakeKeystone> keystone = std::make_shared<FakeKeystone>(&clock);
  // Before the server: the server (and the access lines its threads write) goes first.
  std::unique_ptr<LogCapture> log;
  std::unique_ptr<http::HttpServer> server;
};

TEST_F(KeystoneServerTest, HandlerSeesTheIdentityAndRefusalsAreFaults) {
  keystone->AddUser("alice", "project-a", clock.NowUs() + 3600 * kSecond);
  log = std::make_unique<LogCapture>("info", LogFormat::kText);
  StartServer();

  auto ok = Get("/v2/workflows", "alice");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "project-a user alice");
  EXPECT_FALSE(log->WaitFor("project=project-a").empty());
  auto again = Get("/v2/workflows", "alice");  // from the cache
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->body, "project-a user alice");
  EXPECT_EQ(keystone->validations.load(), 1);

  auto forged = Get("/v2/workflows", "forged");
  ASSERT_TRUE(forged.ok());
  EXPECT_EQ(forged->status, 401);
  EXPECT_NE(forged->body.find("\"faultstring\""), std::string::npos) << forged->body;
  auto none = Get("/v2/workflows", "");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->status, 401);

  auto health = Get("/health/live", "");  // exempt: no token, no Keystone call
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "anonymous");

  keystone->down = true;
  auto down = Get("/v2/workflows", "bob");
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(down->status, 503);
  EXPECT_NE(down->body.find("Keystone at http://keystone.test:5000"), std::string::npos)
      << down->body;
}

// With one I/O thread, a request waiting for Keystone does not delay another connection.
TEST_F(KeystoneServerTest, SlowKeystoneDoesNotHoldTheIoThread) {
  keystone->AddUser("slow", "project-s", clock.NowUs() + 3600 * kSecond);
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  keystone->before_validate = [&entered, released] {
    entered.set_value();
    released.wait();
  };
  StartServer(/*threads=*/1);
  auto slow = std::async(std::launch::async, [&] { return Get("/v2/workflows", "slow"); });
  entered.get_future().wait();  // the slow request is in Keystone now

  auto other = std::async(std::launch::async, [&] { return Get("/health/live", ""); });
  bool answered = other.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  release.set_value();
  ASSERT_TRUE(answered) << "the I/O thread was held by the Keystone call";
  ASSERT_TRUE(other.get().ok());
  auto slow_reply = slow.get();
  ASSERT_TRUE(slow_reply.ok());
  EXPECT_EQ(slow_reply->status, 200);
  EXPECT_EQ(slow_reply->body, "project-s user slow");
}

}  // namespace
}  // namespace bora::auth
