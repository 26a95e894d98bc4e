// The access log and request ids of the HttpServer (common/http/access_log.h): the lines a real
// server writes (captured from the process's logger in both formats), the X-Request-Id echo and
// generation, secret query values, and that deferred responses and event streams log once, when
// they end.
#include "common/http/access_log.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/http/http_server.h"
#include "common/http/test_client.h"
#include "common/http/test_stream.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/log_capture.h"

namespace bora::http {
namespace {

using std::chrono::seconds;

class AccessLogTest : public ::testing::Test {
 protected:
  void SetUp() override { log_ = std::make_unique<LogCapture>("info", LogFormat::kJson); }
  void TearDown() override {
    if (server_) server_->Stop();
    log_.reset();
  }
  void StartServer(HttpHandler handler) {
    server_ = std::make_unique<HttpServer>(HttpServerOptions{}, std::move(handler));
    ASSERT_TRUE(server_->Start().ok());
  }
  Result<HttpResponse> Call(const std::string& method, const std::string& target,
                            const std::map<std::string, std::string>& headers = {}) {
    return HttpCall("127.0.0.1", server_->port(), method, target, "", headers);
  }
  // The one JSON access line of `request_id`.
  JsonObject AccessLine(const std::string& request_id) {
    auto lines = log_->WaitFor("\"request_id\":\"" + request_id + "\"");
    EXPECT_EQ(lines.size(), 1u) << log_->All();
    if (lines.empty()) return {};
    auto json = ParseJson(lines[0]);
    EXPECT_TRUE(json.ok()) << lines[0];
    return json.ok() ? json->as_object() : JsonObject();
  }

  std::unique_ptr<LogCapture> log_;
  std::unique_ptr<HttpServer> server_;
};

HttpResponse Plain(std::string body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

TEST(RequestIdTest, ClientValueWhenSaneElseNewUuid) {
  EXPECT_EQ(RequestIdFor("req-1"), "req-1");
  EXPECT_EQ(RequestIdFor(std::string(128, 'a')), std::string(128, 'a'));
  for (std::string bad : {std::string(), std::string(129, 'a'), std::string("a b"),
                          std::string("a\nb"), std::string("caf\xc3\xa9")}) {
    std::string id = RequestIdFor(bad);
    EXPECT_TRUE(IsUuidLike(id)) << bad << " -> " << id;
  }
  EXPECT_NE(RequestIdFor(""), RequestIdFor(""));
}

TEST(LoggedTargetTest, SecretQueryValuesAreMaskedAndLongTargetsCut) {
  EXPECT_EQ(LoggedTarget("/v2/executions"), "/v2/executions");
  EXPECT_EQ(LoggedTarget("/v2/executions?limit=10&sort_keys=created_at"),
            "/v2/executions?limit=10&sort_keys=created_at");
  EXPECT_EQ(LoggedTarget("/x?token=abc&a=1&Auth_Token=d&client_secret=e&password=f&flag"),
            "/x?token=***&a=1&Auth_Token=***&client_secret=***&password=***&flag");
  EXPECT_EQ(LoggedTarget("/x?api_key=1&signature=2&"), "/x?api_key=***&signature=***&");
  EXPECT_EQ(LoggedTarget("/x?%74oken=1&a%5Fb=2"), "/x?%74oken=***&a%5Fb=2");
  std::string long_target = "/" + std::string(2000, 'p');
  std::string cut = LoggedTarget(long_target);
  EXPECT_EQ(cut.size(), kMaxLoggedTarget + 3);
  EXPECT_EQ(cut.substr(cut.size() - 3), "...");
}

TEST_F(AccessLogTest, JsonLineHasEveryFieldAndTheClientRequestIdIsEchoed) {
  StartServer([](const HttpRequest&) { return Plain("created!", 201); });
  auto r = Call("POST", "/v2/executions?limit=1&token=s3cret", {{"X-Request-Id", "req-abc"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 201);
  bool echoed = false;
  for (const auto& [name, value] : r->headers)
    echoed |= name == "x-request-id" && value == "req-abc";
  EXPECT_TRUE(echoed);
  JsonObject line = AccessLine("req-abc");
  EXPECT_EQ(line["msg"], Json("access"));
  EXPECT_EQ(line["level"], Json("info"));
  EXPECT_EQ(line["method"], Json("POST"));
  EXPECT_EQ(line["path"], Json("/v2/executions?limit=1&token=***"));
  EXPECT_EQ(line["status"], Json(201));
  EXPECT_EQ(line["bytes"], Json(8));
  ASSERT_TRUE(line["duration_ms"].is_double());
  EXPECT_GE(line["duration_ms"].as_double(), 0.0);
  ASSERT_TRUE(line["remote"].is_string());
  EXPECT_EQ(line["remote"].as_string().find("127.0.0.1:"), 0u);
  EXPECT_EQ(log_->All().find("s3cret"), std::string::npos) << "secret query values are masked";
}

TEST_F(AccessLogTest, RequestIdIsGeneratedWhenMissingOrInsane) {
  StartServer([](const HttpRequest&) { return Plain("ok"); });
  std::vector<std::string> ids;
  for (auto headers : {std::map<std::string, std::string>{},
                       std::map<std::string, std::string>{{"X-Request-Id", std::string(200, 'x')}},
                       std::map<std::string, std::string>{{"X-Request-Id", "two words"}}}) {
    auto r = Call("GET", "/", headers);
    ASSERT_TRUE(r.ok());
    std::string id;
    for (const auto& [name, value] : r->headers)
      if (name == "x-request-id") id = value;
    EXPECT_TRUE(IsUuidLike(id)) << id;
    EXPECT_EQ(AccessLine(id)["status"], Json(200));
    ids.push_back(id);
  }
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_EQ(log_->All().find(std::string(200, 'x')), std::string::npos);
}

TEST_F(AccessLogTest, TextLineReadsAsKeyValues) {
  log_.reset();
  log_ = std::make_unique<LogCapture>("info", LogFormat::kText);
  StartServer([](const HttpRequest&) { return Plain("nope", 404); });
  auto r = Call("GET", "/missing?a=1", {{"X-Request-Id", "txt-1"}});
  ASSERT_TRUE(r.ok());
  auto lines = log_->WaitFor("request_id=txt-1");
  ASSERT_EQ(lines.size(), 1u) << log_->All();
  std::regex want(
      R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} info access method=GET path=/missing\?a=1 status=404 )"
      R"(bytes=4 duration_ms=\d+\.\d{3} request_id=txt-1 remote=127\.0\.0\.1:\d+\r?\n$)");
  EXPECT_TRUE(std::regex_match(lines[0], want)) << lines[0];
}

TEST_F(AccessLogTest, MalformedRequestIsLoggedWithAnId) {
  StartServer([](const HttpRequest&) { return Plain("ok"); });
  HttpTestConnection conn;
  ASSERT_TRUE(conn.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(conn.SendRaw("GET / HTTP/1.1\r\nBad Header\r\n\r\n").ok());
  auto out = conn.ReadUntilClose();
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->find("400"), std::string::npos) << *out;
  EXPECT_NE(out->find("X-Request-Id: "), std::string::npos) << *out;
  auto lines = log_->WaitFor("\"status\":400");
  ASSERT_EQ(lines.size(), 1u) << log_->All();
  auto json = ParseJson(lines[0]);
  ASSERT_TRUE(json.ok());
  EXPECT_TRUE(IsUuidLike(json->as_object().at("request_id").as_string()));
}

// A long poll logs once, when its computed response was sent (not when the handler returned).
TEST_F(AccessLogTest, DeferredResponseLogsOnceWhenAnswered) {
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto started = std::make_shared<std::promise<void>>();
  StartServer([released, started](const HttpRequest&) {
    HttpResponse r;
    r.deferred = [released, started] {
      started->set_value();
      released.wait();
      return Plain("late", 202);
    };
    return r;
  });
  std::future<Result<HttpResponse>> reply = std::async(std::launch::async, [&] {
    return Call("GET", "/wait", {{"X-Request-Id", "poll-1"}});
  });
  started->get_future().wait();
  EXPECT_TRUE(log_->Lines("poll-1").empty()) << "logged before it was answered: " << log_->All();
  release->set_value();
  auto r = reply.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 202);
  JsonObject line = AccessLine("poll-1");
  EXPECT_EQ(line["status"], Json(202));
  EXPECT_EQ(line["bytes"], Json(4));
}

TEST_F(AccessLogTest, EventStreamLogsOnceWhenItEndsWithItsBytes) {
  const std::string event = "event: x\ndata: {}\n\n";
  auto stream = std::make_shared<ScriptedStream>(std::vector<std::string>{event}, /*hold=*/true);
  StartServer([stream](const HttpRequest&) {
    HttpResponse r;
    r.stream = stream;
    return r;
  });
  HttpTestConnection conn;
  ASSERT_TRUE(conn.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(conn.SendRaw("GET /stream HTTP/1.1\r\nHost: x\r\nX-Request-Id: sse-1\r\n\r\n").ok());
  stream->WaitStarted();
  EXPECT_TRUE(log_->Lines("sse-1").empty()) << "logged before the stream ended: " << log_->All();
  stream->Release();
  auto out = conn.ReadUntilClose();
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->find("X-Request-Id: sse-1\r\n"), std::string::npos) << *out;
  JsonObject line = AccessLine("sse-1");
  EXPECT_EQ(line["status"], Json(200));
  EXPECT_EQ(line["bytes"], Json(static_cast<int64_t>(event.size())));
}

}  // namespace
}  // namespace bora::http
