// Tests for the router, the HttpServer (limits, auth, parsing, keep-alive, concurrency, stop) and
// HttpCall.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/http/fault.h"
#include "common/http/http_server.h"
#include "common/http/router.h"
#include "common/http/test_client.h"
#include "common/http/test_stream.h"
#include "common/json.h"
#include "common/thread_annotations.h"

namespace bora::http {
namespace {

HttpResponse Text(std::string body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// A handler answering "tag k=v k=v" so cases can check which route won and what it captured.
RouteHandler Tagged(std::string tag) {
  return [tag](const HttpRequest&, const PathParams& params) {
    std::string out = tag;
    for (const auto& [k, v] : params) out += " " + k + "=" + v;
    return Text(out);
  };
}

Router MakeRouter() {
  Router r;
  r.Add("GET", "/v2/executions", Tagged("list"));
  r.Add("POST", "/v2/executions", Tagged("create"));
  r.Add("GET", "/v2/executions/{id}", Tagged("get"));
  r.Add("PUT", "/v2/executions/{id}", Tagged("put"));
  r.Add("DELETE", "/v2/executions/{id}", Tagged("delete"));
  r.Add("GET", "/v2/executions/report-all", Tagged("literal"));
  r.Add("GET", "/v2/executions/{id}/tasks", Tagged("tasks"));
  r.Add("GET", "/v2/{kind}/{name}/members", Tagged("members"));
  r.Add("GET", "/v2/workflows/{name}/members", Tagged("wf-members"));
  r.Add("GET", "/", Tagged("root"));
  r.Add("GET", "/ui/{path*}", Tagged("ui"));
  r.Add("GET", "/ui/assets/{file}", Tagged("asset"));
  r.Add("GET", "/boom", [](const HttpRequest&, const PathParams&) -> HttpResponse {
    throw std::runtime_error("kaboom");
  });
  return r;
}

HttpRequest Req(std::string method, std::string path) {
  HttpRequest req;
  req.method = std::move(method);
  req.path = path;
  req.target = std::move(path);
  return req;
}

Json BodyJson(const HttpResponse& r) {
  auto parsed = ParseJson(r.body);
  return parsed.ok() ? *parsed : Json(nullptr);
}

std::string FaultString(const HttpResponse& r) {
  Json j = BodyJson(r);
  if (!j.is_object() || !j.as_object().contains("faultstring")) return "<no fault: " + r.body + ">";
  return std::string(j.as_object().at("faultstring").as_string());
}

TEST(RouterTest, Table) {
  struct Case {
    std::string method, path;
    int status;
    std::string body;  // for 2xx
  };
  const std::vector<Case> cases = {
      {"GET", "/v2/executions", 200, "list"},
      {"GET", "/v2/executions/", 200, "list"},  // trailing slash tolerated
      {"POST", "/v2/executions", 200, "create"},
      {"GET", "/v2/executions/abc", 200, "get id=abc"},
      {"GET", "/v2/executions/abc/", 200, "get id=abc"},
      {"PUT", "/v2/executions/abc", 200, "put id=abc"},
      {"DELETE", "/v2/executions/a b", 200, "delete id=a b"},
      {"GET", "/v2/executions/report-all", 200, "literal"},  // literal beats capture
      {"GET", "/v2/executions/x1/tasks", 200, "tasks id=x1"},
      {"GET", "/v2/workflows/wf/members", 200, "wf-members name=wf"},
      {"GET", "/v2/actions/std.echo/members", 200, "members kind=actions name=std.echo"},
      {"GET", "/", 200, "root"},
      {"GET", "/ui", 200, "ui path="},  // a rest capture matches zero segments
      {"GET", "/ui/", 200, "ui path="},
      {"GET", "/ui/executions/e1/tasks/t1", 200, "ui path=executions/e1/tasks/t1"},
      {"GET", "/ui/assets/app.js", 200, "asset file=app.js"},  // a capture beats a rest capture
      {"GET", "/ui/assets/x/app.js", 200, "ui path=assets/x/app.js"},
      {"POST", "/ui/x", 405, ""},
      {"GET", "/v2/nothing", 404, ""},
      {"GET", "/v2/executions/a/b/c", 404, ""},
      {"PATCH", "/v2/executions/abc", 405, ""},
      {"DELETE", "/v2/executions", 405, ""},
      {"GET", "/boom", 500, ""},
  };
  Router router = MakeRouter();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    HttpResponse r = router.Dispatch(Req(c.method, c.path));
    EXPECT_EQ(r.status, c.status);
    if (c.status < 300) {
      EXPECT_EQ(r.body, c.body);
    } else {
      Json j = BodyJson(r);
      ASSERT_TRUE(j.is_object()) << r.body;
      EXPECT_EQ(j.as_object().at("faultcode"), Json(c.status >= 500 ? "Server" : "Client"));
      EXPECT_TRUE(j.as_object().at("debuginfo").is_null());
    }
  }
}

TEST(RouterTest, MethodNotAllowedListsAllowHeaderAndThrowGivesMessage) {
  Router router = MakeRouter();
  HttpResponse r = router.Dispatch(Req("PATCH", "/v2/executions/x"));
  ASSERT_EQ(r.status, 405);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Allow");
  EXPECT_EQ(r.headers[0].second, "DELETE, GET, PUT");
  HttpResponse boom = router.Dispatch(Req("GET", "/boom"));
  EXPECT_EQ(FaultString(boom), "Internal error: kaboom");
}

// Echo handler: the request as JSON.
HttpResponse Echo(const HttpRequest& req) {
  JsonArray query;
  for (const auto& [k, v] : req.query) query.push_back(JsonArray{Json(k), Json(v)});
  JsonObject headers;
  for (const auto& [k, v] : req.headers) headers[k] = v;
  HttpResponse r;
  r.body = DumpJson(JsonObject{{"method", req.method},
                               {"target", req.target},
                               {"path", req.path},
                               {"query", query},
                               {"headers", headers},
                               {"body", req.body},
                               {"remote", req.remote},
                               {"base_url", req.base_url}});
  r.headers.emplace_back("X-Echo", "1");
  return r;
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}, HttpHandler handler = Echo) {
    server_ = std::make_unique<HttpServer>(std::move(options), std::move(handler));
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_GT(server_->port(), 0);
  }
  Result<HttpResponse> Call(const std::string& method, const std::string& target,
                            const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {}) {
    return HttpCall("127.0.0.1", server_->port(), method, target, body, headers);
  }
  // Sends raw bytes on a fresh connection and returns everything until the server closes.
  std::string Raw(const std::string& bytes) {
    HttpTestConnection conn;
    EXPECT_TRUE(conn.Connect("127.0.0.1", server_->port()).ok());
    EXPECT_TRUE(conn.SendRaw(bytes).ok());
    auto out = conn.ReadUntilClose();
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : "";
  }
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ServerTest, FillsRequestAndPercentDecodes) {
  StartServer();
  auto r = Call("POST", "/v2/echo/a%20b%2Fc?x=1%2B2&y=a+b&x=3&flag&e=", "{\"k\": 1}",
                {{"X-Custom-Header", "Value"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  Json j = BodyJson(*r);
  const JsonObject& o = j.as_object();
  EXPECT_EQ(o.at("method"), Json("POST"));
  EXPECT_EQ(o.at("target"), Json("/v2/echo/a%20b%2Fc?x=1%2B2&y=a+b&x=3&flag&e="));
  EXPECT_EQ(o.at("path"), Json("/v2/echo/a b/c"));
  auto expected_query = ParseJson(R"([["x","1+2"],["y","a b"],["x","3"],["flag",""],["e",""]])");
  EXPECT_EQ(DumpJson(o.at("query")), DumpJson(*expected_query));
  EXPECT_EQ(o.at("body"), Json("{\"k\": 1}"));
  EXPECT_EQ(o.at("headers").as_object().at("x-custom-header"), Json("Value"));
  EXPECT_EQ(o.at("headers").as_object().at("content-type"), Json("application/json"));
  EXPECT_EQ(std::string(o.at("remote").as_string()).rfind("127.0.0.1:", 0), 0u);
  bool saw_echo = false;
  for (const auto& [k, v] : r->headers) saw_echo |= (k == "x-echo" && v == "1");
  EXPECT_TRUE(saw_echo);
}

TEST_F(ServerTest, RouterBehindServer) {
  auto router = std::make_shared<Router>(MakeRouter());
  StartServer({}, [router](const HttpRequest& req) { return router->Dispatch(req); });
  auto ok = Call("GET", "/v2/executions/id%201?x=1");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "get id=id 1");
  EXPECT_EQ(ok->content_type, "text/plain");
  auto missing = Call("GET", "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->content_type, "application/json");
  auto boom = Call("GET", "/boom");
  ASSERT_TRUE(boom.ok());
  EXPECT_EQ(boom->status, 500);
}

TEST_F(ServerTest, HandlerExceptionIs500) {
  StartServer({}, [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("bad"); });
  auto r = Call("GET", "/");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(FaultString(*r), "Internal error: bad");
}

TEST_F(ServerTest, BodyTooLargeIs413) {
  HttpServerOptions options;
  options.max_body_bytes = 16;
  StartServer(options);
  auto small = Call("POST", "/x", std::string(16, 'a'));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->status, 200);
  auto big = Call("POST", "/x", std::string(100, 'a'));
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(FaultString(*big), "Request body too large (100 bytes; limit 16)");
  // A large body the server refuses still gets the answer rather than a reset.
  auto huge = Call("POST", "/x", std::string(3 << 20, 'a'));
  ASSERT_TRUE(huge.ok()) << huge.status().ToString();
  EXPECT_EQ(huge->status, 413);
  // Chunked without a length: refused while reading.
  std::string raw =
      Raw("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
          "20\r\n" +
          std::string(32, 'b') + "\r\n0\r\n\r\n");
  EXPECT_NE(raw.find("HTTP/1.1 413"), std::string::npos) << raw;
}

TEST_F(ServerTest, HeadersTooLargeIs431) {
  StartServer();
  auto r = Call("GET", "/x", "", {{"X-Big", std::string(9000, 'h')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
  auto fine = Call("GET", "/x", "", {{"X-Big", std::string(4000, 'h')}});
  ASSERT_TRUE(fine.ok());
  EXPECT_EQ(fine->status, 200);
}

// A chunk line (size and extensions) longer than max_chunk_line_bytes is refused as soon as the
// server has that many bytes of it: the answer comes while the line is still unfinished, so the
// server never holds more than the limit of it.
TEST_F(ServerTest, LongChunkExtensionIsRefusedBeforeTheLineEnds) {
  HttpServerOptions options;
  options.read_timeout = std::chrono::seconds(3);
  StartServer(options);
  const std::string head = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  HttpTestConnection conn;
  ASSERT_TRUE(conn.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(conn.SendRaw(head + "5;" + std::string(64 << 10, 'x')).ok());  // no CRLF, ever
  auto out = conn.ReadUntilClose(std::chrono::seconds(20));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->rfind("HTTP/1.1 400", 0), 0u) << *out;
  EXPECT_NE(out->find("chunk line longer than 1024 bytes"), std::string::npos) << *out;
  // Extensions within the limit are accepted (and ignored), in every chunk and the last one.
  std::string ext = ";" + std::string(1000, 'e');
  std::string ok = Raw(head + "5" + ext + "\r\nhello\r\n1;a=\"b\"\r\n!\r\n0" + ext + "\r\n\r\n" +
                       "GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  EXPECT_NE(ok.find("\"body\":\"hello!\""), std::string::npos) << ok;
  EXPECT_NE(ok.find("\"path\":\"/next\""), std::string::npos) << ok;
}

// Trailer fields count like header fields: more than max_header_bytes of them is 431.
TEST_F(ServerTest, TrailerOverTheHeaderLimitIs431) {
  StartServer();
  const std::string head = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (size_t size : {size_t{9000}, size_t{70000}}) {
    SCOPED_TRACE(size);
    std::string out =
        Raw(head + "5\r\nhello\r\n0\r\nX-Trailer: " + std::string(size, 't') + "\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
    EXPECT_NE(out.find("Request header fields too large"), std::string::npos) << out.substr(0, 200);
  }
  std::string fine =
      Raw("POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
          "Connection: close\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: " +
          std::string(4000, 't') + "\r\n\r\n");
  EXPECT_EQ(fine.rfind("HTTP/1.1 200", 0), 0u) << fine.substr(0, 200);
  // The server still serves afterwards.
  auto r = Call("GET", "/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

// A browser sends Origin with cross-site requests: POST, PUT, PATCH and DELETE from an origin
// that is neither the server's nor allowed are refused (403) before the handler; requests without
// Origin (CLIs, SDKs) and reads pass.
TEST_F(ServerTest, CrossOriginStateChangingRequestsAre403) {
  HttpServerOptions options;
  options.allowed_origins = {"https://ui.example.com"};
  std::atomic<int> handled{0};
  StartServer(options, [&](const HttpRequest& req) {
    ++handled;
    return Echo(req);
  });
  const std::string port = std::to_string(server_->port());
  struct Case {
    std::string method, origin;
    int status;
  };
  const std::vector<Case> cases = {
      {"POST", "", 200},
      {"POST", "https://evil.example", 403},
      {"PUT", "https://evil.example", 403},
      {"PATCH", "https://evil.example", 403},
      {"DELETE", "https://evil.example", 403},
      {"POST", "null", 403},
      {"POST", "http://127.0.0.1:1", 403},
      {"POST", "http://127.0.0.1.evil.example:" + port, 403},
      {"GET", "https://evil.example", 200},
      {"POST", "http://127.0.0.1:" + port, 200},
      {"POST", "http://localhost:" + port, 200},
      {"DELETE", "HTTPS://UI.example.com/", 200},
  };
  int allowed = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " Origin: " + c.origin);
    std::map<std::string, std::string> headers;
    if (!c.origin.empty()) headers["Origin"] = c.origin;
    auto r = Call(c.method, "/v2/executions", "{}", headers);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, c.status) << r->body;
    if (c.status == 403) {
      EXPECT_NE(FaultString(*r).find("Cross-origin request refused"), std::string::npos);
    } else {
      ++allowed;
    }
  }
  EXPECT_EQ(handled.load(), allowed);
}

// Handlers build links from HttpRequest::base_url: the listener or the configured public URL,
// never the Host header.
TEST_F(ServerTest, BaseUrlIsTheListenerOrThePublicUrlNotTheHostHeader) {
  StartServer();
  auto r = Call("GET", "/x", "", {{"Host", "evil.example"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(BodyJson(*r).as_object().at("base_url"),
            Json("http://127.0.0.1:" + std::to_string(server_->port())));
  HttpServerOptions options;
  options.public_url = "https://bora.example.com/";
  StartServer(options);
  r = Call("GET", "/x", "", {{"Host", "evil.example"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(BodyJson(*r).as_object().at("base_url"), Json("https://bora.example.com"));
  // The public URL's origin is the server's own.
  r = Call("POST", "/x", "{}", {{"Origin", "https://bora.example.com"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, BearerToken) {
  HttpServerOptions options;
  options.auth_token = "s3cret";
  options.unauthenticated_prefixes = {"/ui"};
  StartServer(options);
  struct Case {
    std::string name, path;
    std::map<std::string, std::string> headers;
    int status;
  };
  const std::vector<Case> cases = {
      {"no header", "/v2/workflows", {}, 401},
      {"bearer", "/v2/workflows", {{"Authorization", "Bearer s3cret"}}, 200},
      {"bearer lower-case scheme", "/v2/workflows", {{"Authorization", "bearer s3cret"}}, 200},
      {"x-auth-token", "/v2/workflows", {{"X-Auth-Token", "s3cret"}}, 200},
      {"wrong bearer", "/v2/workflows", {{"Authorization", "Bearer s3cre"}}, 401},
      {"longer bearer", "/v2/workflows", {{"Authorization", "Bearer s3cret1"}}, 401},
      {"wrong x-auth-token", "/v2/workflows", {{"X-Auth-Token", "nope"}}, 401},
      {"basic scheme", "/v2/workflows", {{"Authorization", "Basic s3cret"}}, 401},
      {"health live", "/health/live", {}, 200},
      {"health ready trailing slash", "/health/ready/", {}, 200},
      {"health prefix is not exempt", "/health/live/x", {}, 401},
      {"exempt prefix itself", "/ui", {}, 200},
      {"under an exempt prefix", "/ui/executions/x", {}, 200},
      {"a longer name is not under it", "/uix", {}, 401},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Call("GET", c.path, "", c.headers);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, c.status);
    if (c.status == 401) {
      EXPECT_EQ(FaultString(*r), "Authentication required: missing or invalid token");
    }
  }
}

TEST_F(ServerTest, MalformedRequestsAre400) {
  StartServer();
  const std::vector<std::string> cases = {
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET /x HTTP/9.9\r\n\r\n",
      "G(T /x HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /x%zz HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /x%4 HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
      "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const std::string& raw : cases) {
    SCOPED_TRACE(raw);
    std::string out = Raw(raw);
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
    EXPECT_NE(out.find("\"faultcode\":\"Client\""), std::string::npos) << out;
  }
  // The server still serves afterwards.
  auto r = Call("GET", "/x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, RepeatedHeadersAreJoined) {
  StartServer();
  std::string out =
      Raw("GET /h HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nConnection: close\r\n\r\n");
  EXPECT_NE(out.find("\"x-a\":\"1, 2\""), std::string::npos) << out;
}

TEST_F(ServerTest, AbsoluteFormTarget) {
  StartServer();
  std::string out =
      Raw("GET http://example.com/a%2Fb?q=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("\"path\":\"/a/b\""), std::string::npos) << out;
}

TEST_F(ServerTest, ExpectContinueAndHttp10) {
  HttpServerOptions options;
  options.max_body_bytes = 8;
  StartServer(options);
  std::string out =
      Raw("POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n"
          "Connection: close\r\n\r\nhello");
  EXPECT_EQ(out.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK", 0), 0u) << out;
  EXPECT_NE(out.find("\"body\":\"hello\""), std::string::npos) << out;
  // Too large: refused up front, without a 100.
  std::string big =
      Raw("POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 9\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big;
  // HTTP/1.0 without keep-alive: answered in 1.0 and closed.
  std::string old = Raw("GET /old HTTP/1.0\r\n\r\n");
  EXPECT_EQ(old.rfind("HTTP/1.0 200 OK", 0), 0u) << old;
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer();
  HttpTestConnection conn;
  ASSERT_TRUE(conn.Connect("127.0.0.1", server_->port()).ok());
  std::string remote;
  for (int i = 0; i < 5; ++i) {
    auto r = conn.Call("POST", "/n/" + std::to_string(i), "body" + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Json j = BodyJson(*r);
    EXPECT_EQ(j.as_object().at("path"), Json("/n/" + std::to_string(i)));
    EXPECT_EQ(j.as_object().at("body"), Json("body" + std::to_string(i)));
    std::string this_remote(j.as_object().at("remote").as_string());
    if (i == 0) remote = this_remote;
    EXPECT_EQ(this_remote, remote);  // same client port: same connection
  }
}

TEST_F(ServerTest, KeepAliveOffClosesAfterResponse) {
  HttpServerOptions options;
  options.keep_alive = false;
  StartServer(options);
  std::string out =
      Raw("GET /a HTTP/1.1\r\nHost: h\r\n\r\n");  // returns only because the server closes
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("Connection: close"), std::string::npos) << out;
}

TEST_F(ServerTest, ConcurrentClients) {
  std::atomic<int> handled{0};
  HttpServerOptions options;
  options.threads = 4;
  StartServer(options, [&](const HttpRequest& req) {
    ++handled;
    return Text(req.body);
  });
  constexpr int kClients = 8, kRequests = 25;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpTestConnection conn;
      if (!conn.Connect("127.0.0.1", server_->port()).ok()) return;
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(c) + "-" + std::to_string(i);
        auto r = (i % 2) ? conn.Call("POST", "/", body) : Call("POST", "/", body);
        if (r.ok() && r->status == 200 && r->body == body) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok.load(), kClients * kRequests);
  EXPECT_EQ(handled.load(), kClients * kRequests);
}

TEST_F(ServerTest, SlowClientIsDisconnectedAfterReadTimeout) {
  HttpServerOptions options;
  options.read_timeout = std::chrono::milliseconds(200);
  StartServer(options);
  HttpTestConnection conn;
  ASSERT_TRUE(conn.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(conn.SendRaw("GET /x HTTP/1.1\r\nHost: h\r\nX-Slow: ").ok());
  auto out = conn.ReadUntilClose(std::chrono::seconds(20));
  ASSERT_TRUE(out.ok()) << out.status().ToString();  // closed by the server, well before 20 s
  EXPECT_EQ(*out, "");
}

TEST_F(ServerTest, StopWhileClientHoldsConnectionDoesNotHang) {
  StartServer();
  HttpTestConnection idle, partial;
  ASSERT_TRUE(idle.Connect("127.0.0.1", server_->port()).ok());
  auto r = idle.Call("GET", "/first");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(partial.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(partial.SendRaw("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc").ok());
  server_->Stop();
  auto a = idle.ReadUntilClose(std::chrono::seconds(20));
  auto b = partial.ReadUntilClose(std::chrono::seconds(20));
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  server_->Stop();  // idempotent
  EXPECT_FALSE(HttpCall("127.0.0.1", server_->options().port, "GET", "/").ok() &&
               server_->options().port != 0);
}

TEST_F(ServerTest, StartErrorsAreValues) {
  StartServer();
  HttpServerOptions taken;
  taken.port = server_->port();
  HttpServer second(taken, Echo);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  HttpServerOptions bad;
  bad.address = "not an address";
  HttpServer third(bad, Echo);
  EXPECT_EQ(third.Start().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server_->Start().code(), StatusCode::kFailedPrecondition);
}

HttpHandler StreamWith(std::shared_ptr<ScriptedStream> stream) {
  return [stream](const HttpRequest&) {
    HttpResponse r;
    r.stream = stream;
    r.headers.emplace_back("X-Stream", "1");
    return r;
  };
}

TEST_F(ServerTest, EventStreamSendsItsTextThenCloses) {
  HttpServerOptions options;
  options.stream_keepalive = std::chrono::milliseconds(0);  // a comment for every "" answer
  auto stream = std::make_shared<ScriptedStream>(
      std::vector<std::string>{"event: a\ndata: 1\n\n", "", "event: b\ndata: {\"x\":2}\n\n"});
  StartServer(options, StreamWith(stream));
  std::string out = Raw("GET /v2/stream HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("Content-Type: text/event-stream\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Cache-Control: no-cache\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("X-Stream: 1\r\n"), std::string::npos) << out;
  const std::string body = out.substr(out.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "event: a\ndata: 1\n\n:\n\nevent: b\ndata: {\"x\":2}\n\n");
}

TEST_F(ServerTest, EventStreamsAreBoundedAndStopEndsThem) {
  HttpServerOptions options;
  options.max_streams = 1;
  auto held = std::make_shared<ScriptedStream>(std::vector<std::string>{"data: late\n\n"}, true);
  StartServer(options, StreamWith(held));
  HttpTestConnection first;
  ASSERT_TRUE(first.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(first.SendRaw("GET /v2/stream HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  held->WaitStarted();
  // The one slot is taken: a second stream is refused, plain requests are still answered.
  auto second = Call("GET", "/v2/stream");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 503);
  EXPECT_NE(second->body.find("Too many event streams are open (the limit is 1)"),
            std::string::npos)
      << second->body;
  // Stop() ends the held stream (its Next() returns within its wait) and returns.
  server_->Stop();
  auto rest = first.ReadUntilClose();
  ASSERT_TRUE(rest.ok()) << rest.status().ToString();
  EXPECT_NE(rest->find("text/event-stream"), std::string::npos) << *rest;
  EXPECT_EQ(rest->find("data: late"), std::string::npos) << *rest;
}

TEST_F(ServerTest, AnEndedStreamFreesItsSlot) {
  HttpServerOptions options;
  options.max_streams = 1;
  auto held = std::make_shared<ScriptedStream>(std::vector<std::string>{"data: one\n\n"}, true);
  StartServer(options, StreamWith(held));
  HttpTestConnection first;
  ASSERT_TRUE(first.Connect("127.0.0.1", server_->port()).ok());
  ASSERT_TRUE(first.SendRaw("GET /s HTTP/1.1\r\nHost: x\r\n\r\n").ok());
  held->WaitStarted();
  held->Release();
  auto out = first.ReadUntilClose();
  ASSERT_TRUE(out.ok());
  EXPECT_NE(out->find("data: one\n\n"), std::string::npos) << *out;
  // The slot is free once the client saw the connection close: a new stream is served.
  auto again = Call("GET", "/s");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->status, 200);
}

TEST(HttpCallTest, ConnectionRefusedIsUnavailable) {
  int port;
  {
    HttpServer s({}, Echo);
    ASSERT_TRUE(s.Start().ok());
    port = s.port();
  }
  auto r = HttpCall("127.0.0.1", port, "GET", "/");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

TEST(FaultTest, Shape) {
  HttpResponse r = MistralFault(413, "too big");
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, R"({"faultstring":"too big","faultcode":"Client","debuginfo":null})");
  EXPECT_EQ(MistralFault(503, "x").body,
            R"({"faultstring":"x","faultcode":"Server","debuginfo":null})");
}

// Found by tests/fuzz (schemathesis): a 404 quoting a percent-decoded path (%FF%FE) was not UTF-8,
// so the body was no JSON text a client could decode.
TEST(FaultTest, MessageIsMadeValidUtf8) {
  const std::string kBad = "\xEF\xBF\xBD";  // U+FFFD
  struct Case {
    std::string in, out;
  };
  for (const Case& c : {
           Case{"plain ascii", "plain ascii"},
           Case{"caf\xC3\xA9 \xF0\x9D\x95\xBF \xE2\x82\xAC",
                "caf\xC3\xA9 \xF0\x9D\x95\xBF \xE2\x82\xAC"},
           Case{"a\xFF\xFE!", "a" + kBad + kBad + "!"},            // never valid bytes
           Case{"cut \xF0\x9D\x95", "cut " + kBad + kBad + kBad},  // a sequence cut short
           Case{"\x80x", kBad + "x"},                              // a stray continuation byte
           Case{"\xC0\xAF", kBad + kBad},                          // an overlong '/'
           Case{"\xED\xA0\x80", kBad + kBad + kBad},               // a surrogate (U+D800)
           Case{"\xF4\x90\x80\x80", kBad + kBad + kBad + kBad},    // above U+10FFFF
       }) {
    EXPECT_EQ(ValidUtf8(c.in), c.out);
  }
  Router router = MakeRouter();
  HttpResponse r = router.Dispatch(Req("GET", "/v2/nothing/\xFF\xFE"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(FaultString(r), "Resource not found: /v2/nothing/" + kBad + kBad);
}

}  // namespace
}  // namespace bora::http

namespace bora::http {
namespace {

// A deferred response (a long poll) is computed on a thread of its own: with one I/O thread, other
// requests are served while it waits; its connection stays usable afterwards; beyond max_deferred,
// 503.
TEST_F(ServerTest, DeferredResponsesHoldNoIoThread) {
  HttpServerOptions options;
  options.threads = 1;
  options.max_deferred = 1;
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto started = std::make_shared<std::promise<void>>();
  StartServer(options, [released, started](const HttpRequest& req) {
    if (req.path != "/wait") return Echo(req);
    HttpResponse r;
    r.deferred = [released, started] {
      started->set_value();
      released.wait();
      HttpResponse late;
      late.content_type = "text/plain";
      late.body = "late";
      return late;
    };
    return r;
  });
  HttpTestConnection waiting;
  ASSERT_TRUE(waiting.Connect("127.0.0.1", server_->port()).ok());
  std::thread caller([&] {
    auto r = waiting.Call("GET", "/wait", "", {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "late");
    // The same connection is kept alive and answers the next request.
    auto next = waiting.Call("GET", "/after", "", {});
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(BodyJson(*next).as_object().at("path"), Json("/after"));
  });
  started->get_future().wait();
  auto other = Call("GET", "/other");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->status, 200) << "the one I/O thread is free while the long poll waits";
  auto refused = Call("GET", "/wait");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("Too many waiting requests (the limit is 1)"), std::string::npos);
  release->set_value();
  caller.join();
}

}  // namespace
}  // namespace bora::http
