// Unit tests of ingest/events: CloudEvents decoders (HTTP structured/binary/batch, Kafka),
// signatures, webhook adapters, event triggers and the IngestProcessor over an EmbeddedRuntime in
// deterministic mode.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "common/log_capture.h"
#include "common/metrics/metrics.h"
#include "ingest/events/cloud_event.h"
#include "ingest/events/event_trigger.h"
#include "ingest/events/ingest_processor.h"
#include "ingest/events/signature.h"
#include "ingest/events/webhooks.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/store/memory_resource_store.h"

namespace bora::events {
namespace {

constexpr TimestampUs kNow = 1767225600000000;  // 2026-01-01 00:00:00 UTC

// ------------------------------------------------------------------------------------- HTTP
// decoders
struct HttpCase {
  std::string name;
  Headers headers;
  std::string body;
  size_t expected_events;  // when ok
  std::string error;       // substring of the error message; empty = must succeed
  StatusCode code = StatusCode::kInvalidArgument;
};

TEST(CloudEventHttp, Table) {
  const std::string structured = "application/cloudevents+json";
  const std::string batch = "application/cloudevents-batch+json";
  std::vector<HttpCase> cases = {
      {"structured ok",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1}})",
       1,
       ""},
      {"structured with charset",
       {{"content-type", structured + "; charset=utf-8"}},
       R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})",
       1,
       ""},
      {"structured missing id",
       {{"content-type", structured}},
       R"({"specversion":"1.0","source":"/s","type":"t"})",
       0,
       "missing required attribute 'id'"},
      {"structured missing source",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","type":"t"})",
       0,
       "missing required attribute 'source'"},
      {"structured missing type",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","source":"/s"})",
       0,
       "missing required attribute 'type'"},
      {"structured missing specversion",
       {{"content-type", structured}},
       R"({"id":"1","source":"/s","type":"t"})",
       0,
       "missing required attribute 'specversion'"},
      {"structured wrong specversion",
       {{"content-type", structured}},
       R"({"specversion":"0.3","id":"1","source":"/s","type":"t"})",
       0,
       "unsupported specversion '0.3'"},
      {"structured id not a string",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":7,"source":"/s","type":"t"})",
       0,
       "attribute 'id' must be a string"},
      {"structured bad time",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","source":"/s","type":"t","time":"yesterday"})",
       0,
       "attribute 'time' is not an RFC 3339 timestamp"},
      {"structured bad extension name",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","source":"/s","type":"t","Bad-Name":"x"})",
       0,
       "invalid extension attribute name 'Bad-Name'"},
      {"structured object extension",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","source":"/s","type":"t","ext":{"a":1}})",
       0,
       "extension attribute 'ext' must be a string, boolean or integer"},
      {"structured data and data_base64",
       {{"content-type", structured}},
       R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="})",
       0,
       "mutually exclusive"},
      {"structured not json", {{"content-type", structured}}, "{", 0, "invalid CloudEvent JSON"},
      {"structured array", {{"content-type", structured}}, "[]", 0, "must be a JSON object"},
      {"batch ok",
       {{"content-type", batch}},
       R"([{"specversion":"1.0","id":"1","source":"/s","type":"t"},
           {"specversion":"1.0","id":"2","source":"/s","type":"t"}])",
       2,
       ""},
      {"batch empty", {{"content-type", batch}}, "[]", 0, ""},
      {"batch bad second",
       {{"content-type", batch}},
       R"([{"specversion":"1.0","id":"1","source":"/s","type":"t"},
           {"specversion":"1.0","id":"2","type":"t"}])",
       0,
       "event [1]: missing required attribute 'source'"},
      {"batch not array", {{"content-type", batch}}, "{}", 0, "must be a JSON array"},
      {"batch too large",
       {{"content-type", batch}},
       R"([{"specversion":"1.0","id":"1","source":"/s","type":"t"},
           {"specversion":"1.0","id":"2","source":"/s","type":"t"},
           {"specversion":"1.0","id":"3","source":"/s","type":"t"}])",
       0,
       "at most 2 events",
       StatusCode::kResourceExhausted},
      {"binary json",
       {{"ce-specversion", "1.0"},
        {"ce-id", "b1"},
        {"ce-source", "/x"},
        {"ce-type", "t"},
        {"content-type", "application/json"}},
       R"({"k":"v"})",
       1,
       ""},
      {"binary missing type",
       {{"ce-specversion", "1.0"}, {"ce-id", "b1"}, {"ce-source", "/x"}},
       "",
       0,
       "missing required attribute 'type'"},
      {"binary bad json data",
       {{"ce-specversion", "1.0"},
        {"ce-id", "b1"},
        {"ce-source", "/x"},
        {"ce-type", "t"},
        {"content-type", "application/json"}},
       "{",
       0,
       "data is not valid JSON"},
      {"binary datacontenttype header",
       {{"ce-specversion", "1.0"},
        {"ce-id", "b1"},
        {"ce-source", "/x"},
        {"ce-type", "t"},
        {"ce-datacontenttype", "a/b"}},
       "",
       0,
       "not allowed in binary mode"},
      {"binary bad percent",
       {{"ce-specversion", "1.0"}, {"ce-id", "b%zz"}, {"ce-source", "/x"}, {"ce-type", "t"}},
       "",
       0,
       "bad percent-encoding"},
      {"plain json is not an event",
       {{"content-type", "application/json"}},
       "{}",
       0,
       "not a CloudEvent"},
  };
  ParseLimits limits;
  limits.max_events = 2;
  for (const auto& c : cases) {
    auto r = ParseHttpEvents(c.headers, c.body, limits);
    if (c.error.empty()) {
      ASSERT_TRUE(r.ok()) << c.name << ": " << r.status().ToString();
      EXPECT_EQ(r->size(), c.expected_events) << c.name;
    } else {
      ASSERT_FALSE(r.ok()) << c.name;
      EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
      EXPECT_NE(r.status().message().find(c.error), std::string::npos)
          << c.name << ": " << r.status().message();
    }
  }
}

TEST(CloudEventHttp, BinaryModeAttributesAndData) {
  Headers h = {{"ce-specversion", "1.0"},   {"ce-id", "id%201"},
               {"ce-source", "/src"},       {"ce-type", "com.example"},
               {"ce-subject", "vm-1"},      {"ce-time", "2026-01-01T10:00:00Z"},
               {"ce-traceparent", "00-ab"}, {"content-type", "text/plain"}};
  auto e = ParseHttpBinary(h, "hello");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->id, "id 1");
  EXPECT_EQ(e->subject, "vm-1");
  EXPECT_EQ(e->datacontenttype, "text/plain");
  ASSERT_TRUE(e->data.has_value());
  EXPECT_EQ(*e->data, Json("hello"));
  EXPECT_EQ(e->extensions.at("traceparent"), Json("00-ab"));

  h["content-type"] = "application/octet-stream";
  auto bin = ParseHttpBinary(h, std::string("\x00\x01\xff", 3));
  ASSERT_TRUE(bin.ok());
  ASSERT_TRUE(bin->data_base64.has_value());
  EXPECT_EQ(*bin->data_base64, std::string("\x00\x01\xff", 3));
  Json structured = CloudEventToJson(*bin);
  EXPECT_EQ(structured.as_object().at("data_base64"), Json("AAH/"));
  // Round trip through the structured form.
  auto back = CloudEventFromJson(structured);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back->data_base64, std::string("\x00\x01\xff", 3));
}

TEST(CloudEventHttp, DepthLimit) {
  std::string deep = R"({"specversion":"1.0","id":"1","source":"/s","type":"t","data":)";
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  deep += "}";
  ParseLimits limits;
  limits.max_depth = 20;
  auto r = ParseStructured(deep, limits);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("invalid CloudEvent JSON"), std::string::npos);
}

// ------------------------------------------------------------------------------------- Kafka
// binding
TEST(CloudEventKafka, Table) {
  struct Case {
    std::string name;
    KafkaHeaders headers;
    std::string value;
    std::string expected_id;  // empty: error
    std::string error;
  };
  std::vector<Case> cases = {
      {"structured, no headers (Bora's bus)",
       {},
       R"({"specversion":"1.0","id":"k1","source":"/s","type":"t"})",
       "k1",
       ""},
      {"structured content-type",
       {{"content-type", "application/cloudevents+json; charset=UTF-8"}},
       R"({"specversion":"1.0","id":"k2","source":"/s","type":"t"})",
       "k2",
       ""},
      {"binary",
       {{"ce_specversion", "1.0"},
        {"ce_id", "k3"},
        {"ce_source", "/s"},
        {"ce_type", "t"},
        {"content-type", "application/json"}},
       R"({"x":1})",
       "k3",
       ""},
      {"binary missing source",
       {{"ce_specversion", "1.0"}, {"ce_id", "k4"}, {"ce_type", "t"}},
       "",
       "",
       "missing required attribute 'source'"},
      {"structured garbage", {}, "not json", "", "invalid CloudEvent JSON"},
      {"batch content type",
       {{"content-type", "application/cloudevents-batch+json"}},
       "[]",
       "",
       "no batch mode"},
  };
  for (const auto& c : cases) {
    auto e = DecodeKafkaMessage(c.headers, c.value);
    if (!c.expected_id.empty()) {
      ASSERT_TRUE(e.ok()) << c.name << ": " << e.status().ToString();
      EXPECT_EQ(e->id, c.expected_id) << c.name;
    } else {
      ASSERT_FALSE(e.ok()) << c.name;
      EXPECT_NE(e.status().message().find(c.error), std::string::npos)
          << c.name << ": " << e.status().message();
    }
  }
  auto binary = DecodeKafkaMessage(cases[2].headers, cases[2].value);
  ASSERT_TRUE(binary.ok());
  EXPECT_EQ(binary->data->as_object().at("x"), Json(1));
}

TEST(CloudEvent, Rfc3339AndBase64) {
  for (const char* ok : {"2026-01-01T10:00:00Z", "2026-01-01T10:00:00.123456Z",
                         "2026-01-01T10:00:00+02:00", "2026-01-01t10:00:00z"})
    EXPECT_TRUE(IsRfc3339(ok)) << ok;
  for (const char* bad : {"2026-01-01", "2026-01-01T10:00:00", "2026-01-01T10:00Z", "x", "",
                          "2026-01-01T10:00:00.Z", "2026-01-01T10:00:00+0200"})
    EXPECT_FALSE(IsRfc3339(bad)) << bad;
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.has_value()) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(Base64Decode("Zm9v!").has_value());
}

// ----------------------------------------------------------------------------------------
// signatures
TEST(Signature, KnownVectors) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // GitHub's documented example: secret "It's a Secret to Everybody", payload "Hello, World!".
  EXPECT_EQ(SignGitHub("It's a Secret to Everybody", "Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
}

TEST(Signature, Table) {
  const std::string secret = "whsec_" + Base64Encode("0123456789abcdef0123456789abcdef");
  const std::string body = R"({"hello":"world"})";
  const int64_t now_s = kNow / 1'000'000;
  auto standard = [&](int64_t ts, const std::string& sig_body, const std::string& key) {
    return Headers{{"webhook-id", "msg_1"},
                   {"webhook-timestamp", std::to_string(ts)},
                   {"webhook-signature", SignStandardWebhook(key, "msg_1", ts, sig_body)}};
  };
  struct Case {
    std::string name;
    SignatureStyle style;
    Headers headers;
    bool ok;
    std::string error;
  };
  std::vector<Case> cases = {
      {"standard good", SignatureStyle::kStandard, standard(now_s, body, secret), true, ""},
      {"standard good, 4 min skew", SignatureStyle::kStandard, standard(now_s - 240, body, secret),
       true, ""},
      {"standard several signatures",
       SignatureStyle::kStandard,
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", std::to_string(now_s)},
        {"webhook-signature", "v1,bm9wZQ== " + SignStandardWebhook(secret, "msg_1", now_s, body)}},
       true,
       ""},
      {"standard repeated headers joined",
       SignatureStyle::kStandard,
       {{"webhook-id", "msg_1"},
        {"webhook-timestamp", std::to_string(now_s)},
        {"webhook-signature", "v1,bm9wZQ==, " + SignStandardWebhook(secret, "msg_1", now_s, body)}},
       true,
       ""},
      {"standard bad (other body)", SignatureStyle::kStandard, standard(now_s, "{}", secret), false,
       "does not match"},
      {"standard bad (other key)", SignatureStyle::kStandard,
       standard(now_s, body, "whsec_b3RoZXI="), false, "does not match"},
      {"standard expired", SignatureStyle::kStandard, standard(now_s - 301, body, secret), false,
       "outside the 300 s tolerance"},
      {"standard future", SignatureStyle::kStandard, standard(now_s + 301, body, secret), false,
       "outside the 300 s tolerance"},
      {"standard missing", SignatureStyle::kStandard, {}, false, "missing signature headers"},
      {"standard bad timestamp",
       SignatureStyle::kStandard,
       {{"webhook-id", "msg_1"}, {"webhook-timestamp", "soon"}, {"webhook-signature", "v1,xx"}},
       false,
       "not a Unix time"},
      {"github good",
       SignatureStyle::kGitHub,
       {{"x-hub-signature-256", SignGitHub(secret, body)}},
       true,
       ""},
      {"github bad",
       SignatureStyle::kGitHub,
       {{"x-hub-signature-256", SignGitHub("nope", body)}},
       false,
       "does not match"},
      {"github missing", SignatureStyle::kGitHub, {}, false, "missing signature header"},
      {"github malformed",
       SignatureStyle::kGitHub,
       {{"x-hub-signature-256", "sha1=abc"}},
       false,
       "must be 'sha256="},
  };
  for (const auto& c : cases) {
    Status s = VerifySignature(c.style, secret, c.headers, body, kNow);
    EXPECT_EQ(s.ok(), c.ok) << c.name << ": " << s.ToString();
    if (!c.ok) {
      EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << c.name;
      EXPECT_NE(s.message().find(c.error), std::string::npos) << c.name << ": " << s.message();
    }
  }
}

// Timestamps at the ends of int64 and far from now are outside the tolerance (the age is computed
// without overflow); numbers int64 cannot hold are not Unix times.
TEST(Signature, ExtremeTimestampsAreOutsideTheTolerance) {
  const std::string secret = "whsec_" + Base64Encode("0123456789abcdef0123456789abcdef");
  const std::string body = "{}";
  const int64_t now_s = kNow / 1'000'000;
  auto signed_at = [&](int64_t ts) {
    return Headers{{"webhook-id", "msg_1"},
                   {"webhook-timestamp", std::to_string(ts)},
                   {"webhook-signature", SignStandardWebhook(secret, "msg_1", ts, body)}};
  };
  const int64_t kMin = std::numeric_limits<int64_t>::min();
  const int64_t kMax = std::numeric_limits<int64_t>::max();
  for (int64_t ts :
       {kMin, kMin + 1, kMin + now_s, kMax, kMax - now_s, int64_t{-1}, int64_t{0}, now_s - 301,
        now_s + 301, now_s - 1'000'000'000'000, now_s + 1'000'000'000'000}) {
    Status s = VerifyStandardWebhook(secret, signed_at(ts), body, kNow);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << ts << ": " << s.ToString();
    EXPECT_NE(s.message().find("outside the 300 s tolerance"), std::string::npos)
        << ts << ": " << s.message();
  }
  EXPECT_TRUE(VerifyStandardWebhook(secret, signed_at(now_s + 300), body, kNow).ok());
  EXPECT_TRUE(VerifyStandardWebhook(secret, signed_at(now_s - 300), body, kNow).ok());
  for (std::string text : {"9223372036854775808", "-9223372036854775809", "99999999999999999999",
                           " 1767225600", "+1767225600", "1767225600 ", "0x10", ""}) {
    Headers h = {{"webhook-id", "msg_1"},
                 {"webhook-timestamp", text},
                 {"webhook-signature", SignStandardWebhook(secret, "msg_1", now_s, body)}};
    Status s = VerifyStandardWebhook(secret, h, body, kNow);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << "'" << text << "'";
    EXPECT_FALSE(s.ok()) << "'" << text << "'";
  }
}

TEST(Signature, NameBasedUuidIsStableAndVersion5) {
  std::string a = NameBasedUuid("x"), b = NameBasedUuid("x"), c = NameBasedUuid("y");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '5');
  EXPECT_TRUE(IsUuidLike(a));
}

// ------------------------------------------------------------------------------------------
// webhooks
constexpr const char* kAodhPayload = R"({
  "alarm_name": "cpu_high", "alarm_id": "b5e3c6a1-4c1f-4d1e-9a4b-2f6c1d7e8a90", "severity": "critical",
  "previous": "ok", "current": "alarm", "reason": "Transition to alarm due to 5 samples outside threshold",
  "reason_data": {"type": "threshold", "disposition": "outside", "count": 5, "most_recent": 93.2}})";

constexpr const char* kAlertmanagerPayload = R"({
  "version": "4", "groupKey": "{}:{alertname=\"HostDown\"}", "truncatedAlerts": 0, "status": "firing",
  "receiver": "bora", "groupLabels": {"alertname": "HostDown"},
  "commonLabels": {"alertname": "HostDown", "severity": "page"},
  "commonAnnotations": {"summary": "host down"}, "externalURL": "http://alertmanager:9093",
  "alerts": [
    {"status": "firing", "labels": {"alertname": "HostDown", "instance": "node-2:9100"},
     "annotations": {}, "startsAt": "2026-01-01T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph", "fingerprint": "b2c1"},
    {"status": "firing", "labels": {"alertname": "HostDown", "instance": "node-1:9100"},
     "annotations": {}, "startsAt": "2026-01-01T09:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph", "fingerprint": "a1f0"}]})";

TEST(Webhooks, Aodh) {
  WebhookConfig c;
  c.name = "aodh";
  c.format = WebhookFormat::kAodh;
  auto events = WebhookToEvents(c, {{"x-openstack-request-id", "req-42"}}, kAodhPayload, kNow);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 1u);
  const auto& e = (*events)[0];
  EXPECT_EQ(e.type, "aodh.alarm.alarm");
  EXPECT_EQ(e.source, "/v2/webhooks/aodh");
  EXPECT_EQ(e.subject, "b5e3c6a1-4c1f-4d1e-9a4b-2f6c1d7e8a90");
  EXPECT_EQ(e.id, "req-42");
  EXPECT_EQ(e.data->as_object().at("alarm_name"), Json("cpu_high"));
  // Without a request id the id is a hash of the body (stable).
  auto again = WebhookToEvents(c, {}, kAodhPayload, kNow);
  auto again2 = WebhookToEvents(c, {}, kAodhPayload, kNow + 1);
  ASSERT_TRUE(again.ok() && again2.ok());
  EXPECT_EQ((*again)[0].id, (*again2)[0].id);
  // "insufficient data" becomes a type-safe segment.
  auto insufficient = AodhToEvent(
      "aodh", {}, *ParseJson(R"({"alarm_id":"a","current":"insufficient data"})"), kNow);
  ASSERT_TRUE(insufficient.ok());
  EXPECT_EQ(insufficient->type, "aodh.alarm.insufficient_data");
  auto bad = WebhookToEvents(c, {}, R"({"alarm_name":"x"})", kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("missing field 'alarm_id'"), std::string::npos);
}

TEST(Webhooks, AlertmanagerDedupeKeyIgnoresAlertOrder) {
  auto payload = *ParseJson(kAlertmanagerPayload);
  auto e = AlertmanagerToEvent("am", payload, kNow);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->type, "alertmanager.alert.firing");
  EXPECT_EQ(e->subject, "HostDown");
  EXPECT_EQ(DedupeKey(*e), std::string("alertmanager\x1f{}:{alertname=\"HostDown\"}\x1f") +
                               "firing\x1f" + "a1f0,b2c1");
  // Same alerts in another order: same key and id.
  auto reversed = payload;
  auto& alerts = reversed.as_object()["alerts"].as_array();
  std::swap(alerts[0], alerts[1]);
  auto e2 = AlertmanagerToEvent("am", reversed, kNow + 5);
  ASSERT_TRUE(e2.ok());
  EXPECT_EQ(DedupeKey(*e2), DedupeKey(*e));
  EXPECT_EQ(e2->id, e->id);
  // Resolved: another key.
  auto resolved = payload;
  resolved.as_object()["status"] = "resolved";
  auto e3 = AlertmanagerToEvent("am", resolved, kNow);
  ASSERT_TRUE(e3.ok());
  EXPECT_NE(DedupeKey(*e3), DedupeKey(*e));
  EXPECT_EQ(e3->type, "alertmanager.alert.resolved");
  // Validation.
  auto v3 = payload;
  v3.as_object()["version"] = "3";
  EXPECT_FALSE(AlertmanagerToEvent("am", v3, kNow).ok());
  auto no_alerts = payload;
  no_alerts.as_object().erase("alerts");
  auto r = AlertmanagerToEvent("am", no_alerts, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'alerts' must be an array"), std::string::npos);
}

TEST(Webhooks, JsonAndSignatureGate) {
  WebhookConfig c;
  c.name = "deploy";
  c.secret = "s3cret";
  c.signature = SignatureStyle::kGitHub;
  std::string body = R"({"ref":"main"})";
  auto ok = WebhookToEvents(
      c, {{"x-hub-signature-256", SignGitHub("s3cret", body)}, {"x-github-delivery", "d-1"}}, body,
      kNow);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)[0].type, "bora.webhook.deploy");
  EXPECT_EQ((*ok)[0].id, "d-1");
  auto bad = WebhookToEvents(c, {{"x-hub-signature-256", SignGitHub("wrong", body)}}, body, kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kPermissionDenied);
  // The signature is checked before the body is parsed.
  auto bad_body = WebhookToEvents(c, {}, "{", kNow);
  EXPECT_EQ(bad_body.status().code(), StatusCode::kPermissionDenied);
}

TEST(Webhooks, ConfigValidation) {
  struct Case {
    std::string json;
    std::string error;
  };
  std::vector<Case> cases = {
      {R"({"name":"a","format":"aodh"})", ""},
      {R"({"name":"a","format":"alertmanager","secret":"x","signature":"github"})", ""},
      {R"({"name":"a"})", ""},
      {R"({"format":"aodh"})", "missing field 'name'"},
      {R"({"name":"a b"})", "invalid name"},
      {R"({"name":"a","format":"xml"})", "unknown format 'xml'"},
      {R"({"name":"a","signature":"md5"})", "unknown signature style 'md5'"},
      {R"({"name":"a","extra":1})", "unknown field 'extra'"},
  };
  for (const auto& c : cases) {
    auto r = WebhookConfigFromJson(*ParseJson(c.json));
    if (c.error.empty()) {
      EXPECT_TRUE(r.ok()) << c.json << ": " << r.status().ToString();
    } else {
      ASSERT_FALSE(r.ok()) << c.json;
      EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
    }
  }
  WebhookConfig c;
  c.name = "x";
  c.secret = "s";
  Json rest = WebhookConfigToJson(c, false);
  EXPECT_FALSE(rest.as_object().contains("secret"));
  EXPECT_EQ(rest.as_object().at("has_secret"), Json(true));
  auto back = WebhookConfigFromJson(WebhookConfigToJson(c, true));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->secret, "s");
}

// ------------------------------------------------------------------------------------ event
// triggers
TEST(EventTriggers, Matching) {
  struct Case {
    std::string pattern, value;
    bool match;
  };
  for (const auto& c : std::vector<Case>{{"", "x", true},
                                         {"a.b", "a.b", true},
                                         {"a.b", "a.bc", false},
                                         {"a.*", "a.b", true},
                                         {"a.*", "a", false},
                                         {"*", "anything", true},
                                         {"aodh.alarm.*", "aodh.alarm.ok", true}})
    EXPECT_EQ(MatchesPattern(c.pattern, c.value), c.match) << c.pattern << " ~ " << c.value;
  EventTrigger t;
  t.type = "aodh.alarm.*";
  t.subject = "vm-1";
  CloudEvent e;
  e.type = "aodh.alarm.alarm";
  e.subject = "vm-1";
  EXPECT_TRUE(TriggerMatches(t, e));
  e.subject = "vm-2";
  EXPECT_FALSE(TriggerMatches(t, e));
}

TEST(EventTriggers, RequestValidation) {
  struct Case {
    std::string json;
    std::string error;
  };
  std::vector<Case> cases = {
      {R"({"name":"t","workflow_id":"wf","event":"x"})", ""},
      {R"({"name":"t","workflow_id":"wf","exchange":"openstack","topic":"notifications","event":"x",
           "workflow_input":"{\"a\": 1}","workflow_params":{"env":{}}})",
       ""},
      {R"({"name":"t","workflow_id":"wf","source":"/v2/webhooks/*","input_mapping":"<% {h => $.id} %>"})",
       ""},
      {R"({"workflow_id":"wf","event":"x"})", "'name' is required"},
      {R"({"name":"t","event":"x"})", "'workflow_id' is required"},
      {R"({"name":"t","workflow_id":"wf"})", "at least one of"},
      {R"({"name":"t","workflow_id":"wf","event":"x","type":"y"})", "'event' and 'type' differ"},
      {R"({"name":"t","workflow_id":"wf","event":"x","workflow_input":"[1]"})", "must be a dict"},
      {R"({"name":"t","workflow_id":"wf","event":"x","input_mapping":"<% $.x + %>"})",
       "input_mapping"},
      {R"({"name":"t","workflow_id":"wf","event":"x","scope":"world"})", "scope must be"},
      {R"({"name":"t","workflow_id":"wf","event":"x","color":"red"})", "unknown field 'color'"},
  };
  for (const auto& c : cases) {
    auto r = EventTriggerFromRequest(*ParseJson(c.json));
    if (c.error.empty()) {
      EXPECT_TRUE(r.ok()) << c.json << ": " << r.status().ToString();
    } else {
      ASSERT_FALSE(r.ok()) << c.json;
      EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
    }
  }
  auto t = EventTriggerFromRequest(*ParseJson(R"({"name":"t","workflow_id":"wf","event":"x"})"));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(
      ApplyEventTriggerUpdate(*t, *ParseJson(R"({"name":"t2","workflow_input":{"a":1}})")).ok());
  EXPECT_EQ(t->name, "t2");
  Status refused = ApplyEventTriggerUpdate(*t, *ParseJson(R"({"event":"y","topic":"z"})"));
  EXPECT_EQ(refused.message(), "Can not update fields event, topic of event trigger.");
  EXPECT_EQ(t->type, "x");
}

TEST(EventTriggers, MapInputAndRestShape) {
  auto t = EventTriggerFromRequest(*ParseJson(
      R"({"name":"t","workflow_id":"wf","event":"x","workflow_input":{"fixed":1,"host":"none"},
          "input_mapping":{"host":"<% $.data.alarm_name %>","sev":"{{ _.data.severity }}"}})"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Json event = *ParseJson(R"({"id":"1","data":{"alarm_name":"cpu_high","severity":"low"}})");
  auto input = MapWorkflowInput(*t, event);
  ASSERT_TRUE(input.ok()) << input.status().ToString();
  EXPECT_EQ(*input, *ParseJson(R"({"fixed":1,"host":"cpu_high","sev":"low"})"));
  auto missing = MapWorkflowInput(*t, *ParseJson(R"({"id":"1","data":{}})"));
  EXPECT_FALSE(missing.ok());
  EventTrigger scalar = *t;
  scalar.input_mapping = "<% $.id %>";
  auto not_dict = MapWorkflowInput(scalar, event);
  ASSERT_FALSE(not_dict.ok());
  EXPECT_NE(not_dict.status().message().find("must give a dict"), std::string::npos);

  t->id = "tid";
  t->created_at = kNow;
  Json rest = EventTriggerToRest(*t);
  EXPECT_EQ(rest.as_object().at("event"), Json("x"));
  EXPECT_EQ(rest.as_object().at("workflow_input"), Json("{\"fixed\": 1, \"host\": \"none\"}"));
  EXPECT_EQ(rest.as_object().at("created_at"), Json("2026-01-01 00:00:00"));
  EXPECT_TRUE(rest.as_object().at("updated_at").is_null());
  auto back = EventTriggerFromRecord(EventTriggerToRecord(*t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(EventTriggerToRecord(*back), EventTriggerToRecord(*t));
  EXPECT_EQ(TriggerExecutionId("a", "k"), TriggerExecutionId("a", "k"));
  EXPECT_NE(TriggerExecutionId("a", "k"), TriggerExecutionId("b", "k"));
}

TEST(EventTriggers, RecordRoundTripsAndReadsOldRecords) {
  // Written by the hand-written codec this field list replaced: still read, and written the same.
  const std::string old =
      R"({"id":"tid","name":"n","workflow_id":"wf","workflow_name":"wf","workflow_namespace":"",)"
      R"("workflow_input":{"a":1},"workflow_params":{},"exchange":"ex","topic":"notifications",)"
      R"("type":"x.y","source":"/s","subject":"","input_mapping":null,"scope":"public",)"
      R"("project_id":"p","created_at":1767225600000000,"updated_at":0})";
  auto t = EventTriggerFromRecord(*ParseJson(old));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->workflow_input, Json(JsonObject{{"a", 1}}));
  EXPECT_TRUE(t->input_mapping.is_null());
  EXPECT_EQ(t->scope, "public");
  EXPECT_EQ(t->created_at, kNow);
  EXPECT_EQ(DumpJson(EventTriggerToRecord(*t)), old);
  // Optional members present: the same trigger back.
  t->input_mapping = JsonObject{{"host", "<% $.data.host %>"}};
  t->subject = "vm-*";
  t->updated_at = kNow + 1;
  auto back = EventTriggerFromRecord(EventTriggerToRecord(*t));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->input_mapping, t->input_mapping);
  EXPECT_EQ(back->subject, "vm-*");
  EXPECT_EQ(back->updated_at, kNow + 1);
  EXPECT_EQ(EventTriggerToRecord(*back), EventTriggerToRecord(*t));
  // A bad record is an internal error naming the member.
  for (const auto& [bad, member] : std::vector<std::pair<std::string, std::string>>{
           {R"({"id":"t","created_at":"2026"})", "'created_at'"},
           {R"({"id":"t","workflow_input":3})", "'workflow_input'"},
           {R"({"id":7})", "'id'"},
           {R"({"name":"n"})", "'id'"},
           {R"([1])", "not a JSON object"}}) {
    auto r = EventTriggerFromRecord(*ParseJson(bad));
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInternal) << bad;
    EXPECT_NE(r.status().message().find(member), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(EventTriggerFromRecord(*ParseJson(R"({"id":""})")).status().message(),
            "event trigger record without an id");
}

TEST(CloudEvent, StructuredFormRoundTrips) {
  CloudEvent minimal;
  minimal.id = "1";
  minimal.source = "/s";
  minimal.type = "t";
  EXPECT_EQ(DumpJson(CloudEventToJson(minimal)),
            R"({"specversion":"1.0","id":"1","source":"/s","type":"t"})");
  CloudEvent full = minimal;
  full.subject = "vm-1";
  full.time = "2026-01-01T10:00:00Z";
  full.datacontenttype = "application/json";
  full.dataschema = "https://example.com/schema";
  full.extensions["traceparent"] = "00-ab";
  full.data = JsonObject{{"a", 1}};
  for (const CloudEvent& e : {minimal, full}) {
    auto back = CloudEventFromJson(CloudEventToJson(e));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(CloudEventToJson(*back), CloudEventToJson(e));
    EXPECT_EQ(back->dataschema, e.dataschema);
  }
  // Kafka binary mode: an empty ce_specversion is an unsupported version, as before.
  auto empty = DecodeKafkaMessage({{"ce_specversion", ""}, {"ce_id", "1"}}, "");
  EXPECT_EQ(empty.status().message(), "unsupported specversion '' (expected \"1.0\")");
}

// ----------------------------------------------------------------------------------
// IngestProcessor
constexpr const char* kWorkflows = R"(
version: '2.0'
handle_alarm:
  input:
    - host
    - severity: low
  output:
    host: <% $.host %>
    severity: <% $.severity %>
    source: <% execution().params.event_params.source %>
  tasks:
    noop:
      action: std.noop
)";

class IngestProcessorTest : public ::testing::Test {
 protected:
  IngestProcessorTest() : runtime_(Options()), resources_(runtime_.clock()) {
    EXPECT_TRUE(runtime_.LoadYaml(kWorkflows, "wf.yaml").ok());
  }
  static runtime::EmbeddedOptions Options() {
    runtime::EmbeddedOptions o;
    o.deterministic = true;
    return o;
  }
  std::string AddTrigger(const std::string& json) {
    auto t = EventTriggerFromRequest(*ParseJson(json));
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    t->id = NewUuid();
    t->workflow_name = t->workflow_id;
    EXPECT_TRUE(resources_.Put(kEventTriggerKind, t->id, EventTriggerToRecord(*t)).ok());
    return t->id;
  }
  static CloudEvent Event(const std::string& id, const std::string& type, Json data) {
    CloudEvent e;
    e.id = id;
    e.source = "/test";
    e.type = type;
    e.data = std::move(data);
    return e;
  }
  IngestProcessor MakeProcessor() {
    IngestOptions o;
    return IngestProcessor(o, &runtime_.bus(), &resources_, &runtime_.client());
  }

  runtime::EmbeddedRuntime runtime_;
  store::MemoryResourceStore resources_{SystemClock::Get()};
};

TEST_F(IngestProcessorTest, StartsMatchingWorkflowOnceAndSkipsGarbage) {
  std::string trigger = AddTrigger(R"({"name":"t","workflow_id":"handle_alarm","event":"alarm.*",
      "input_mapping":{"host":"<% $.data.host %>"},"workflow_params":{"env":{"k":"v"}}})");
  AddTrigger(R"({"name":"other","workflow_id":"handle_alarm","event":"other.type"})");
  IngestProcessor processor = MakeProcessor();
  std::vector<CloudEvent> batch = {Event("e1", "alarm.fired", *ParseJson(R"({"host":"node-1"})")),
                                   Event("e1", "alarm.fired", *ParseJson(R"({"host":"node-1"})")),
                                   Event("e2", "nothing.matches", JsonObject())};
  ASSERT_TRUE(PublishIngestEvents(&runtime_.bus(), "", batch).ok());
  ASSERT_TRUE(runtime_.bus().Publish(IngestTopic(), "k", "not json at all").ok());
  ASSERT_TRUE(runtime_.bus().Publish(IngestTopic(), "k", R"({"specversion":"1.0"})").ok());

  prometheus::Counter& unmatched = metrics::Get().events_unmatched.Add({});
  const double unmatched_before = unmatched.Value();
  LogCapture log("debug", LogFormat::kText);
  auto handled = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_EQ(*handled, 5u);
  IngestStats s = processor.stats();
  EXPECT_EQ(s.events, 3u);
  EXPECT_EQ(s.malformed, 2u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.unmatched, 1u);
  EXPECT_EQ(unmatched.Value() - unmatched_before, 1.0) << "bora_events_unmatched_total";
  EXPECT_EQ(log.Lines("event unmatched").size(), 1u) << log.All();
  EXPECT_EQ(log.Lines("debug event unmatched id=e2 type=nothing.matches source=").size(), 1u)
      << log.All();
  EXPECT_EQ(s.started, 1u);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());

  std::string id = TriggerExecutionId(trigger, std::string("/test\x1f") + "e1");
  auto state = runtime_.client().Get(ExecutionId(id));
  ASSERT_TRUE(state.ok() && state->has_value()) << id;
  EXPECT_EQ((*state)->state, engine::State::kSuccess);
  EXPECT_EQ((*state)->input, *ParseJson(R"({"host":"node-1","severity":"low"})"));
  EXPECT_EQ((*state)->output.as_object().at("source"), Json("/test"));
  EXPECT_EQ((*state)->params.as_object().at("env"), *ParseJson(R"({"k":"v"})"));
  EXPECT_NE((*state)->description.find("event_trigger"), std::string::npos);

  // Offsets were committed: a new processor of the same group sees nothing more.
  IngestProcessor second = MakeProcessor();
  auto again = second.PollOnce(std::chrono::milliseconds(0));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);
}

TEST_F(IngestProcessorTest, KafkaBinaryModeMessagesStartTheirWorkflow) {
  // CloudEvents' Kafka binding, binary mode: attributes in ce_* record headers, data in the value.
  std::string trigger = AddTrigger(R"({"name":"t","workflow_id":"handle_alarm","event":"alarm.fired",
      "input_mapping":{"host":"<% $.data.host %>"}})");
  IngestProcessor processor = MakeProcessor();
  BusHeaders headers = {{"ce_specversion", "1.0"}, {"ce_id", "b1"}, {"ce_source", "/test"},
                        {"ce_type", "alarm.fired"}, {"content-type", "application/json"}};
  ASSERT_TRUE(runtime_.bus().CreateTopic(IngestTopic(), 1).ok());
  ASSERT_TRUE(
      runtime_.bus().PublishWithHeaders(IngestTopic(), "k", R"({"host":"node-7"})", headers).ok());
  auto handled = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_TRUE(handled.ok()) << handled.status().ToString();
  EXPECT_EQ(processor.stats().malformed, 0u);
  EXPECT_EQ(processor.stats().started, 1u);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  auto state = runtime_.client().Get(
      ExecutionId(TriggerExecutionId(trigger, std::string("/test\x1f") + "b1")));
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->state, engine::State::kSuccess);
  EXPECT_EQ((*state)->input.as_object().at("host"), Json("node-7"));
}

TEST_F(IngestProcessorTest, DuplicateWithinWindowStartsNothingAfterWindowDedupesById) {
  AddTrigger(R"({"name":"t","workflow_id":"handle_alarm","event":"alarm.fired",
      "input_mapping":{"host":"<% $.data.host %>"}})");
  IngestProcessor processor = MakeProcessor();
  CloudEvent e = Event("e1", "alarm.fired", *ParseJson(R"({"host":"n"})"));
  auto first = processor.ProcessEvent(e);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->started.size(), 1u);
  // A duplicate before the orchestrator applied the start: the execution is not visible yet, so the
  // start is re-issued under the same id (what recovers a start lost in a crash); the engine
  // refuses it.
  auto early = processor.ProcessEvent(e);
  ASSERT_TRUE(early.ok());
  EXPECT_TRUE(early->duplicate);
  EXPECT_TRUE(early->started.empty());
  ASSERT_EQ(early->reissued.size(), 1u);
  EXPECT_EQ(early->reissued[0], first->started[0]);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  // A duplicate once the execution exists: nothing at all.
  auto dup = processor.ProcessEvent(e);
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->duplicate);
  EXPECT_TRUE(dup->started.empty());
  EXPECT_TRUE(dup->reissued.empty());
  // After the window the same event is not a duplicate for the store, but its execution id is the
  // same: the engine refuses the second start, so still one execution, untouched.
  runtime_.manual_clock()->AdvanceSeconds(11 * 60);
  auto later = processor.ProcessEvent(e);
  ASSERT_TRUE(later.ok());
  EXPECT_FALSE(later->duplicate);
  ASSERT_EQ(later->started.size(), 1u);
  EXPECT_EQ(later->started[0], first->started[0]);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  auto state = runtime_.client().Get(ExecutionId(first->started[0]));
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->state, engine::State::kSuccess);
  EXPECT_EQ((*state)->input, *ParseJson(R"({"host":"n","severity":"low"})"));
  EXPECT_EQ(processor.stats().started, 2u);
  EXPECT_EQ(processor.stats().duplicates, 2u);
  EXPECT_EQ(processor.stats().reissued, 1u);
}

// A ResourceStore whose Remember fails (kUnavailable) a given number of times: a transient failure.
class FlakyStore final : public store::ResourceStore {
 public:
  explicit FlakyStore(store::ResourceStore* inner) : inner_(inner) {}
  int remember_failures = 0;
  Result<std::optional<Json>> Get(std::string_view k, std::string_view key) override {
    return inner_->Get(k, key);
  }
  Status Put(std::string_view k, std::string_view key, const Json& r) override {
    return inner_->Put(k, key, r);
  }
  Result<bool> Create(std::string_view k, std::string_view key, const Json& r) override {
    return inner_->Create(k, key, r);
  }
  Result<bool> Delete(std::string_view k, std::string_view key) override {
    return inner_->Delete(k, key);
  }
  Result<std::vector<std::pair<std::string, Json>>> List(std::string_view k) override {
    return inner_->List(k);
  }
  Result<bool> CompareAndSwap(std::string_view k, std::string_view key, const Json& e,
                              const std::optional<Json>& r) override {
    return inner_->CompareAndSwap(k, key, e, r);
  }
  Result<bool> Remember(std::string_view key, std::chrono::milliseconds ttl) override {
    if (remember_failures > 0) {
      --remember_failures;
      return Unavailable("redis is down");
    }
    return inner_->Remember(key, ttl);
  }

 private:
  store::ResourceStore* inner_;
};

TEST_F(IngestProcessorTest, TransientStoreFailureRedeliversWithoutLosingOrDoubling) {
  std::string trigger =
      AddTrigger(R"({"name":"t","workflow_id":"handle_alarm","event":"alarm.fired",
      "input_mapping":{"host":"<% $.data.host %>"}})");
  FlakyStore flaky(&resources_);
  IngestProcessor processor(IngestOptions(), &runtime_.bus(), &flaky, &runtime_.client());
  std::vector<CloudEvent> batch = {Event("a", "alarm.fired", *ParseJson(R"({"host":"a"})")),
                                   Event("b", "alarm.fired", *ParseJson(R"({"host":"b"})"))};
  ASSERT_TRUE(PublishIngestEvents(&runtime_.bus(), "", batch).ok());
  flaky.remember_failures = 2;  // the first two polls fail on their first event
  auto r1 = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.status().code(), StatusCode::kUnavailable);
  auto r2 = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_FALSE(r2.ok());  // the second failure, on the redelivered first message
  auto r3 = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_TRUE(r3.ok()) << r3.status().ToString();
  EXPECT_EQ(*r3, 2u);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  for (const char* id : {"a", "b"}) {
    auto state = runtime_.client().Get(
        ExecutionId(TriggerExecutionId(trigger, std::string("/test\x1f") + id)));
    ASSERT_TRUE(state.ok() && state->has_value()) << id;
    EXPECT_EQ((*state)->input.as_object().at("host"), Json(id));
  }
  EXPECT_EQ(processor.stats().started, 2u);
  auto r4 = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(*r4, 0u);
}

TEST_F(IngestProcessorTest, StartErrorsDoNotStopTheBatch) {
  AddTrigger(R"({"name":"missing","workflow_id":"no_such_workflow","event":"x"})");
  AddTrigger(R"({"name":"bad-map","workflow_id":"handle_alarm","event":"x",
      "input_mapping":{"host":"<% $.data.nope %>"}})");
  std::string good = AddTrigger(R"({"name":"good","workflow_id":"handle_alarm","event":"x",
      "workflow_input":{"host":"fixed"}})");
  IngestProcessor processor = MakeProcessor();
  auto outcome = processor.ProcessEvent(Event("e9", "x", JsonObject()));
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->errors.size(), 2u);
  ASSERT_EQ(outcome->started.size(), 1u);
  EXPECT_EQ(outcome->started[0], TriggerExecutionId(good, std::string("/test\x1f") + "e9"));
  EXPECT_EQ(processor.stats().start_errors, 2u);
}

}  // namespace
}  // namespace bora::events
