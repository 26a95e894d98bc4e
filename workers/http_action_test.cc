// std.http / std.mistral_http against a local HTTP server started by the test, and the SSRF guard.
// Nothing here connects to a non-loopback address: denied addresses are refused before any connect.
#include <gtest/gtest.h>

#include <future>
#include <latch>

#include "workers/std_actions.h"
#include "workers/testing/fake_servers.h"
#include "workers/worker_pool.h"

namespace bora::workers {
namespace {

using testing::TestHttpServer;

class HttpActionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StdActionOptions options;
    options.allow_loopback_http = true;
    options.max_response_bytes = 64 * 1024;
    RegisterStdActions(registry_, options);
    RegisterStdActions(strict_registry_, StdActionOptions{});
  }

  // Validates (fills defaults) and runs like a worker would.
  ActionResult Run(const std::string& name, Json input, const ActionRegistry* registry = nullptr) {
    const ActionRegistry& reg = registry ? *registry : registry_;
    Result<Json> validated = reg.ValidateInput(name, input);
    EXPECT_TRUE(validated.ok()) << validated.status().ToString();
    if (!validated.ok()) return ActionResult::Error("invalid input");
    ActionRequest req;
    req.action_name = name;
    req.input = *validated;
    req.workflow_name = "wf";
    req.execution_id = "exec-1";
    req.task_execution_id = "task-1";
    req.action_execution_id = "action-1";
    req.callback_url = "http://bora/v2/action_executions/action-1";
    CancelToken cancel;
    return reg.FindAction(name)->Run(req, cancel);
  }

  static TestHttpServer::Response Echo(const TestHttpServer::Request& r) {
    JsonObject o;
    o["method"] = r.method;
    o["path"] = r.path;
    o["query"] = r.query;
    o["body"] = r.body;
    JsonObject h;
    for (const auto& [k, v] : r.headers) h[k] = v;
    o["headers"] = std::move(h);
    TestHttpServer::Response resp;
    resp.headers = {{"Content-Type", "application/json"},
                    {"Set-Cookie", "sid=abc; Path=/"},
                    {"X-Multi", "a"},
                    {"X-Multi", "b"}};
    resp.body = DumpJson(Json(std::move(o)));
    return resp;
  }

  ActionRegistry registry_;
  ActionRegistry strict_registry_;
};

const Json& At(const Json& v, std::string_view key) { return v.as_object().at(key); }

TEST_F(HttpActionTest, GetWithParamsReturnsMistralShape) {
  TestHttpServer server(&HttpActionTest::Echo);
  JsonObject params{{"a", 1}, {"b", "x y"}, {"c", JsonArray{"1", "2"}}};
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/get")}, {"params", params}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  const Json& d = r.data;
  for (const char* key : {"content", "status", "headers", "url", "history", "encoding", "reason",
                          "cookies", "elapsed"}) {
    EXPECT_TRUE(d.as_object().contains(key)) << key;
  }
  EXPECT_EQ(At(d, "status").as_int64(), 200);
  EXPECT_EQ(At(d, "reason").as_string(), "OK");
  EXPECT_EQ(At(d, "encoding").as_string(), "utf-8");
  EXPECT_TRUE(At(d, "history").as_array().empty());
  EXPECT_TRUE(At(d, "elapsed").is_double());
  EXPECT_EQ(At(At(d, "content"), "method").as_string(), "GET");
  EXPECT_EQ(At(At(d, "content"), "query").as_string(), "a=1&b=x+y&c=1&c=2");
  EXPECT_EQ(At(d, "url").as_string(), server.Url("/get?a=1&b=x+y&c=1&c=2"));
  EXPECT_EQ(At(At(d, "cookies"), "sid").as_string(), "abc");
  EXPECT_EQ(At(At(d, "headers"), "X-Multi").as_string(), "a, b");
  EXPECT_EQ(At(At(d, "headers"), "Content-Type").as_string(), "application/json");
}

TEST_F(HttpActionTest, PostDictBodyIsJsonAndHeadersAreSent) {
  TestHttpServer server(&HttpActionTest::Echo);
  ActionResult r =
      Run("std.http", JsonObject{{"url", server.Url("/post")},
                                 {"method", "post"},
                                 {"body", JsonObject{{"k", "v"}, {"n", 2}}},
                                 {"headers", JsonObject{{"X-Token", "t1"}, {"X-Num", 5}}},
                                 {"auth", "user:pa ss"},
                                 {"cookies", JsonObject{{"c1", "v1"}}}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  const Json& content = At(r.data, "content");
  EXPECT_EQ(At(content, "method").as_string(), "POST");
  EXPECT_EQ(At(content, "body").as_string(), "{\"k\": \"v\", \"n\": 2}");  // Python json.dumps
  const Json& h = At(content, "headers");
  EXPECT_EQ(At(h, "x-token").as_string(), "t1");
  EXPECT_EQ(At(h, "x-num").as_string(), "5");
  EXPECT_EQ(At(h, "authorization").as_string(), "Basic dXNlcjpwYSBzcw==");
  EXPECT_EQ(At(h, "cookie").as_string(), "c1=v1");
}

TEST_F(HttpActionTest, JsonParamSetsContentType) {
  TestHttpServer server(&HttpActionTest::Echo);
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/j")},
                                              {"method", "PUT"},
                                              {"json", JsonArray{1, "two", nullptr}}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  const Json& content = At(r.data, "content");
  EXPECT_EQ(At(content, "method").as_string(), "PUT");
  EXPECT_EQ(At(content, "body").as_string(), "[1, \"two\", null]");
  EXPECT_EQ(At(At(content, "headers"), "content-type").as_string(), "application/json");
}

TEST_F(HttpActionTest, BodyAndJsonTogetherFail) {
  ActionResult r = Run(
      "std.http",
      JsonObject{{"url", "http://127.0.0.1:1/"}, {"body", "x"}, {"json", JsonObject{{"a", 1}}}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_EQ(r.data.as_string(), "Only one of the parameters 'json' and 'body' can be passed");
}

TEST_F(HttpActionTest, NotFoundIsAnErrorWithTheSameShape) {
  TestHttpServer server([](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.status = 404;
    resp.reason = "Not Found";
    resp.headers = {{"Content-Type", "text/plain"}};
    resp.body = "no such page";
    return resp;
  });
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/missing")}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_EQ(At(r.data, "status").as_int64(), 404);
  EXPECT_EQ(At(r.data, "reason").as_string(), "Not Found");
  EXPECT_EQ(At(r.data, "content").as_string(), "no such page");
  EXPECT_EQ(At(r.data, "encoding").as_string(), "ISO-8859-1");
}

TEST_F(HttpActionTest, StatusBoundaries) {
  struct Case {
    int status;
    ActionResult::Kind kind;
  };
  for (Case c : {Case{199, ActionResult::Kind::kError}, Case{200, ActionResult::Kind::kSuccess},
                 Case{204, ActionResult::Kind::kSuccess}, Case{306, ActionResult::Kind::kSuccess},
                 Case{307, ActionResult::Kind::kError}, Case{500, ActionResult::Kind::kError}}) {
    TestHttpServer server([&](const TestHttpServer::Request&) {
      TestHttpServer::Response resp;
      resp.status = c.status;
      resp.reason = "R";
      return resp;
    });
    ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/s")}});
    EXPECT_EQ(r.kind, c.kind) << c.status;
    if (r.data.is_object()) {
      EXPECT_EQ(At(r.data, "status").as_int64(), c.status);
    }
  }
}

TEST_F(HttpActionTest, NonJsonContentIsText) {
  TestHttpServer server([](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.headers = {{"Content-Type", "text/html; charset=utf-8"}};
    resp.body = "<p>h\xC3\xA9llo</p>";
    return resp;
  });
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/")}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess);
  EXPECT_EQ(At(r.data, "content").as_string(), "<p>h\xC3\xA9llo</p>");
  EXPECT_EQ(At(r.data, "encoding").as_string(), "utf-8");
}

TEST_F(HttpActionTest, TimeoutFailsTheAction) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  TestHttpServer server([released](const TestHttpServer::Request&) {
    released.wait();  // holds the response until the client has given up
    return TestHttpServer::Response{};
  });
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/slow")}, {"timeout", 0.2}});
  release.set_value();
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("timed out"), std::string::npos)
      << r.data.as_string();
}

TEST_F(HttpActionTest, ResponseLargerThanTheCapFails) {
  TestHttpServer server([](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.body = std::string(200 * 1024, 'x');
    return resp;
  });
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/big")}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("larger than the limit of 65536 bytes"),
            std::string::npos)
      << r.data.as_string();
}

// The default body limit (4 MiB) keeps a result within the bus message limit (8 MiB) that it must
// travel in; it was 10 MiB, and such results hung their task.
TEST_F(HttpActionTest, DefaultBodyLimitFitsTheBusMessageLimit) {
  TestHttpServer server([](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.body = std::string(5 << 20, 'x');
    return resp;
  });
  StdActionOptions options;
  options.allow_loopback_http = true;
  ActionRegistry defaults;
  RegisterStdActions(defaults, options);
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/big")}}, &defaults);
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("larger than the limit of 4194304 bytes"),
            std::string::npos)
      << std::string(r.data.as_string()).substr(0, 200);
}

TEST_F(HttpActionTest, RedirectsFollowedOnlyWhenAllowed) {
  TestHttpServer server([](const TestHttpServer::Request& req) {
    TestHttpServer::Response resp;
    if (req.path == "/from") {
      resp.status = 302;
      resp.reason = "Found";
      resp.headers = {{"Location", "/to?x=1"}};
    } else {
      resp.headers = {{"Content-Type", "application/json"}};
      resp.body = "{\"arrived\": true, \"method\": \"" + req.method + "\"}";
    }
    return resp;
  });
  // Mistral passes allow_redirects=None to requests, which then does not follow.
  ActionResult not_followed = Run("std.http", JsonObject{{"url", server.Url("/from")}});
  ASSERT_EQ(not_followed.kind, ActionResult::Kind::kSuccess);
  EXPECT_EQ(At(not_followed.data, "status").as_int64(), 302);

  ActionResult followed = Run("std.http", JsonObject{{"url", server.Url("/from")},
                                                     {"method", "POST"},
                                                     {"body", "data"},
                                                     {"allow_redirects", true}});
  ASSERT_EQ(followed.kind, ActionResult::Kind::kSuccess) << PythonStr(followed.data);
  EXPECT_EQ(At(followed.data, "status").as_int64(), 200);
  EXPECT_EQ(At(followed.data, "url").as_string(), server.Url("/to?x=1"));
  EXPECT_EQ(At(At(followed.data, "content"), "arrived").as_bool(), true);
  EXPECT_EQ(At(At(followed.data, "content"), "method").as_string(), "GET");  // 302 after POST ⇒ GET
}

TEST_F(HttpActionTest, CredentialsAreNotForwardedToAnotherHost) {
  int port = 0;
  TestHttpServer server([&port](const TestHttpServer::Request& req) {
    TestHttpServer::Response resp;
    if (req.path == "/from") {
      resp.status = 307;
      resp.headers = {{"Location", "http://localhost:" + std::to_string(port) + "/to"}};
    }
    return resp;
  });
  port = server.port();
  ActionResult r =
      Run("std.http",
          JsonObject{{"url", server.Url("/from")}, {"auth", "u:p"}, {"allow_redirects", true}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_TRUE(reqs[0].headers.contains("authorization"));
  EXPECT_FALSE(reqs[1].headers.contains("authorization"));
  EXPECT_EQ(reqs[1].path, "/to");
}

TEST_F(HttpActionTest, RedirectToADeniedAddressIsRefused) {
  TestHttpServer server([](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.status = 301;
    resp.headers = {{"Location", "http://10.0.0.1/internal"}};
    return resp;
  });
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/")}, {"allow_redirects", true}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("SSRF"), std::string::npos) << r.data.as_string();
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(HttpActionTest, InvalidUrlsFail) {
  struct Case {
    const char* url;
    const char* message;
  };
  for (Case c :
       {Case{"some.not.existing.url", "Invalid URL 'some.not.existing.url': No scheme supplied"},
        Case{"ftp://example.com/x", "No connection adapters were found"},
        Case{"http://", "Invalid URL"}}) {
    ActionResult r = Run("std.http", JsonObject{{"url", c.url}});
    ASSERT_EQ(r.kind, ActionResult::Kind::kError) << c.url;
    std::string msg(r.data.as_string());
    EXPECT_EQ(msg.rfind("Failed to send HTTP request: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << msg;
  }
}

TEST_F(HttpActionTest, SsrfDenyListRefusesBeforeConnecting) {
  TestHttpServer server(&HttpActionTest::Echo);
  struct Case {
    std::string url;
    std::string message;
  };
  std::vector<Case> cases = {
      {server.Url("/"), "loopback"},
      {"http://localhost:" + std::to_string(server.port()) + "/", "loopback"},
      {"http://[::1]:" + std::to_string(server.port()) + "/", "loopback"},
      {"http://10.0.0.1/", "10.0.0.0/8"},
      {"http://172.20.1.1:8080/", "172.16.0.0/12"},
      {"http://192.168.1.1/", "192.168.0.0/16"},
      {"http://169.254.169.254/latest/meta-data", "169.254.0.0/16"},
      {"http://0.0.0.0/", "0.0.0.0/8"},
      {"http://[::ffff:10.0.0.1]/", "10.0.0.0/8"},
      {"http://[fd00::1]/", "fc00::/7"},
      {"http://[fe80::1]/", "fe80::/10"},
  };
  for (const Case& c : cases) {
    ActionResult r = Run("std.http", JsonObject{{"url", c.url}}, &strict_registry_);
    ASSERT_EQ(r.kind, ActionResult::Kind::kError) << c.url;
    std::string msg(r.data.as_string());
    EXPECT_NE(msg.find("SSRF"), std::string::npos) << c.url << ": " << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.url << ": " << msg;
  }
  EXPECT_TRUE(server.requests().empty());
  // The same server is reachable when loopback is allowed.
  ActionResult ok = Run("std.http", JsonObject{{"url", server.Url("/")}});
  EXPECT_EQ(ok.kind, ActionResult::Kind::kSuccess);
}

TEST_F(HttpActionTest, BadDenyListFailsClosed) {
  ActionRegistry reg;
  StdActionOptions options;
  options.allow_loopback_http = true;
  options.denied_cidrs = {"10.0.0.0/8", "not-a-cidr"};
  RegisterStdActions(reg, options);
  TestHttpServer server(&HttpActionTest::Echo);
  ActionResult r = Run("std.http", JsonObject{{"url", server.Url("/")}}, &reg);
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("not-a-cidr"), std::string::npos);
  EXPECT_TRUE(server.requests().empty());
}

TEST_F(HttpActionTest, ProxiesAreRefused) {
  ActionResult r = Run("std.http", JsonObject{{"url", "http://127.0.0.1:1/"},
                                              {"proxies", JsonObject{{"http", "http://p:3128"}}}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("proxies"), std::string::npos);
}

TEST_F(HttpActionTest, ConnectionRefusedIsAnError) {
  int port = testing::UnusedLoopbackPort();
  ActionResult r =
      Run("std.http", JsonObject{{"url", "http://127.0.0.1:" + std::to_string(port) + "/"}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_EQ(std::string(r.data.as_string()).rfind("Failed to send HTTP request: ", 0), 0u);
}

TEST_F(HttpActionTest, MistralHttpSendsHeadersAndGoesAsync) {
  TestHttpServer server(&HttpActionTest::Echo);
  ActionResult r = Run("std.mistral_http", JsonObject{{"url", server.Url("/cb")},
                                                      {"headers", JsonObject{{"X-Own", "1"}}}});
  EXPECT_EQ(r.kind, ActionResult::Kind::kAsync);
  ASSERT_EQ(server.requests().size(), 1u);
  const auto h = server.requests()[0].headers;
  EXPECT_EQ(h.at("mistral-workflow-name"), "wf");
  EXPECT_EQ(h.at("mistral-workflow-execution-id"), "exec-1");
  EXPECT_EQ(h.at("mistral-task-id"), "task-1");
  EXPECT_EQ(h.at("mistral-action-execution-id"), "action-1");
  EXPECT_EQ(h.at("mistral-callback-url"), "http://bora/v2/action_executions/action-1");
  EXPECT_EQ(h.at("x-own"), "1");
  EXPECT_TRUE(registry_.FindSignature("std.mistral_http")->is_async);
}

TEST_F(HttpActionTest, MistralHttpErrorStatusIsReported) {
  TestHttpServer server([](const TestHttpServer::Request&) {
    TestHttpServer::Response resp;
    resp.status = 503;
    resp.reason = "Service Unavailable";
    return resp;
  });
  ActionResult r = Run("std.mistral_http", JsonObject{{"url", server.Url("/cb")}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_EQ(At(r.data, "status").as_int64(), 503);
}

TEST_F(HttpActionTest, CancelStopsAWaitingRequest) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> arrived;
  TestHttpServer server([&](const TestHttpServer::Request&) {
    arrived.set_value();
    released.wait();
    return TestHttpServer::Response{};
  });
  Result<Json> input =
      registry_.ValidateInput("std.http", JsonObject{{"url", server.Url("/wait")}});
  ASSERT_TRUE(input.ok());
  ActionRequest req;
  req.action_name = "std.http";
  req.input = *input;
  CancelToken cancel;
  auto result = std::async(std::launch::async,
                           [&] { return registry_.FindAction("std.http")->Run(req, cancel); });
  arrived.get_future().wait();
  cancel.cancelled.store(true);
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(result.get().kind, ActionResult::Kind::kCancelled);
  release.set_value();
}

TEST_F(HttpActionTest, ManyConcurrentRequestsThroughThePool) {
  constexpr int kRuns = 40;
  TestHttpServer server(&HttpActionTest::Echo);
  std::atomic<int> ok{0};
  std::latch done(kRuns);
  WorkerPool pool(&registry_, WorkerPoolOptions{4, kRuns});
  for (int i = 0; i < kRuns; ++i) {
    ActionRequest req;
    req.action_name = "std.http";
    req.action_execution_id = std::to_string(i);
    req.input = *registry_.ValidateInput(
        "std.http", JsonObject{{"url", server.Url("/n")}, {"params", JsonObject{{"i", i}}}});
    ASSERT_TRUE(pool.Submit(std::move(req),
                            [&](const ActionRequest& r, ActionResult result) {
                              if (result.kind == ActionResult::Kind::kSuccess &&
                                  At(At(result.data, "content"), "query").as_string() ==
                                      "i=" + r.action_execution_id) {
                                ok.fetch_add(1);
                              }
                              done.count_down();
                            })
                    .ok());
  }
  done.wait();
  EXPECT_EQ(ok.load(), kRuns);
  EXPECT_EQ(server.requests().size(), static_cast<size_t>(kRuns));
}

}  // namespace
}  // namespace bora::workers
