#include "ingest/api/mistral_format.h"

#include <gtest/gtest.h>

namespace bora::api {
namespace {

Json Parse(const std::string& s) { return ParseJson(s).value(); }

TEST(MistralFormatTest, FaultBodyAndCode) {
  struct Case {
    int status;
    std::string faultcode;
  };
  for (const Case& c : {Case{400, "Client"}, Case{404, "Client"}, Case{409, "Client"},
                        Case{500, "Server"}, Case{503, "Server"}}) {
    http::HttpResponse r = Fault(c.status, "Object not found");
    EXPECT_EQ(r.status, c.status);
    EXPECT_EQ(r.content_type, "application/json");
    Json body = Parse(r.body);
    EXPECT_EQ(body.at("faultstring"), "Object not found");
    EXPECT_EQ(body.at("faultcode"), Json(c.faultcode.c_str()));
    EXPECT_TRUE(body.at("debuginfo").is_null());
  }
}

// Found by tests/fuzz (schemathesis): a 400 quoted a snippet of the body cut inside a UTF-8
// sequence (and a 404 a percent-decoded id), so the fault was no JSON text a client could decode.
TEST(MistralFormatTest, FaultMessageIsValidUtf8) {
  http::HttpResponse r = Fault(400, "got string '\xF0\x9D\x95\xBF\xF0\x9D...', id=\xFF");
  Json body = Parse(r.body);  // Boost.JSON rejects invalid UTF-8
  EXPECT_EQ(body.at("faultstring"),
            Json("got string '\xF0\x9D\x95\xBF\xEF\xBF\xBD\xEF\xBF\xBD...', id=\xEF\xBF\xBD"));
}

TEST(MistralFormatTest, HttpStatusForEveryCode) {
  struct Case {
    Status status;
    int http;
  };
  const Case cases[] = {
      {InvalidArgument("x"), 400},  {NotFound("x"), 404},          {AlreadyExists("x"), 409},
      {PermissionDenied("x"), 403}, {ResourceExhausted("x"), 413}, {FailedPrecondition("x"), 400},
      {Internal("x"), 500},         {Unavailable("x"), 503},       {Aborted("x"), 500},
  };
  for (const auto& c : cases) EXPECT_EQ(HttpStatusFor(c.status), c.http) << c.status.ToString();
  http::HttpResponse r = FaultFrom(NotFound("Execution not found"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Parse(r.body).at("faultstring"), "Execution not found");
}

TEST(MistralFormatTest, JsonReplyIsCompact) {
  JsonObject o;
  o["a"] = 1;
  o["b"] = "x";
  http::HttpResponse r = JsonReply(201, o);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"a":1,"b":"x"})");
}

TEST(MistralFormatTest, MistralTime) {
  EXPECT_TRUE(MistralTime(0).is_null());
  EXPECT_EQ(MistralTime(1767225600000000), "2026-01-01 00:00:00");
  EXPECT_EQ(MistralTime(1767261603500000), "2026-01-01 10:00:03");
}

TEST(MistralFormatTest, JsonStringUsesPythonDumps) {
  struct Case {
    std::string json;
    std::string expected;
  };
  const Case cases[] = {
      {R"({"num1": 1, "num2": 1})", R"({"num1": 1, "num2": 1})"},
      {R"({"namespace":"","env":{}})", R"({"namespace": "", "env": {}})"},
      {"{}", "{}"},
      {"4", "4"},
      {"[1,2.5,\"a\"]", R"([1, 2.5, "a"])"},
      {R"("caf\u00e9")", R"("caf\u00e9")"},
      {"true", "true"},
  };
  for (const auto& c : cases) EXPECT_EQ(JsonString(Parse(c.json)), Json(c.expected.c_str())) << c.json;
  EXPECT_TRUE(JsonString(nullptr).is_null());
}

TEST(MistralFormatTest, JsonFromField) {
  struct Case {
    Json in;
    Json out;
  };
  const Case cases[] = {
      {Json("{\"a\": 1}"), Parse(R"({"a":1})")},
      {Parse(R"({"a":1})"), Parse(R"({"a":1})")},
      {Json("[1, 2]"), Parse("[1,2]")},
      {Json("not json"), Json("not json")},
      {Json("\"quoted\""), Json("quoted")},
      {Json(5), Json(5)},
      {nullptr, nullptr},
  };
  for (const auto& c : cases) {
    auto r = JsonFromField(c.in, "input");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(*r, c.out) << DumpJson(c.in);
  }
  std::string deep(200, '[');
  deep += std::string(200, ']');
  auto r = JsonFromField(Json(deep), "input");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input"), std::string::npos);
}

TEST(MistralFormatTest, ParseJsonBody) {
  struct Case {
    std::string body;
    bool ok;
    std::string error_part;
  };
  const Case cases[] = {
      {R"({"a": 1})", true, ""},
      {"  {}  ", true, ""},
      {"", false, "empty"},
      {"   ", false, "empty"},
      {"[1]", false, "must be a JSON object"},
      {"\"s\"", false, "must be a JSON object"},
      {"{\"a\": }", false, "line 1, column"},
      {"{\n\"a\": 1,\n}", false, "line 3"},
  };
  for (const auto& c : cases) {
    http::HttpRequest req;
    req.body = c.body;
    auto r = ParseJsonBody(req);
    EXPECT_EQ(r.ok(), c.ok) << c.body;
    if (!c.ok) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("Invalid JSON body"), std::string::npos);
      EXPECT_NE(r.status().message().find(c.error_part), std::string::npos) << r.status().message();
    }
  }
}

}  // namespace
}  // namespace bora::api
