// End-to-end tests of the events routes: Router::Dispatch (no sockets) over an ApiTestBackend (an
// EmbeddedRuntime in deterministic mode, api_test_support.h); an IngestProcessor consumes the
// runtime's MemoryBus, RunUntilIdle runs the workflows.
#include "ingest/api/events_api.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ingest/api/api_test_support.h"
#include "ingest/api/catalog.h"
#include "ingest/events/ingest_processor.h"
#include "ingest/events/signature.h"
#include "orchestrator/runtime/embedded_runtime.h"

namespace bora::api {
namespace {

constexpr const char* kWorkflows = R"(
version: '2.0'
handle_alarm:
  input:
    - host
    - severity: low
  output:
    host: <% $.host %>
    severity: <% $.severity %>
  tasks:
    noop:
      action: std.noop
handle_alert:
  input:
    - alertname
    - instances
  output:
    alertname: <% $.alertname %>
  tasks:
    noop:
      action: std.noop
handle_event:
  input:
    - payload: null
  tasks:
    noop:
      action: std.noop
)";

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
    {"status": "firing", "labels": {"alertname": "HostDown", "instance": "node-1:9100"},
     "annotations": {}, "startsAt": "2026-01-01T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph", "fingerprint": "a1f0"},
    {"status": "firing", "labels": {"alertname": "HostDown", "instance": "node-2:9100"},
     "annotations": {}, "startsAt": "2026-01-01T09:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
     "generatorURL": "http://prometheus:9090/graph", "fingerprint": "b2c1"}]})";

class EventsApiTest : public ::testing::Test {
 protected:
  // The workflows go into the runtime directly (no catalog: triggers resolve them by engine
  // name); the test's own IngestProcessor consumes the MemoryBus.
  EventsApiTest()
      : backend_(Service()),
        processor_(events::IngestOptions(), &runtime_.bus(), &backend_.resources(),
                   &runtime_.client()) {
    EXPECT_TRUE(runtime_.LoadYaml(kWorkflows, "wf.yaml").ok());
    backend_.context().catalog = nullptr;
    RegisterEventsRoutes(router_, backend_.context());
  }
  static ApiServiceOptions Service() {
    ApiServiceOptions o = ApiTestBackend::DefaultServiceOptions();
    o.limits.max_events_per_batch = 3;
    return o;
  }

  http::HttpResponse Call(const std::string& method, const std::string& path,
                          const std::string& body = "",
                          std::map<std::string, std::string> headers = {}) {
    return router_.Dispatch(MakeRequest(method, path, body, "", headers));
  }
  std::string CreateTrigger(const std::string& json) {
    auto r = Call("POST", "/v2/event_triggers", json);
    EXPECT_EQ(r.status, 201) << r.body;
    return Field(BodyObject(r), "id");
  }
  // Runs the ingest processor and the workflows; returns the messages the processor handled.
  size_t Process() {
    auto n = processor_.PollOnce(std::chrono::milliseconds(0));
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_TRUE(runtime_.RunUntilIdle().ok());
    return n.ok() ? *n : 0;
  }
  // Every execution in the state store.
  std::vector<engine::ExecutionState> Executions() {
    std::vector<engine::ExecutionState> out;
    for (int p = 0; p < runtime_.partitions(); ++p) {
      auto ids = runtime_.store().ListExecutionIds(PartitionId(p));
      if (!ids.ok()) continue;
      for (const auto& id : *ids) {
        auto s = runtime_.client().Get(id);
        if (s.ok() && s->has_value()) out.push_back(**s);
      }
    }
    return out;
  }
  int64_t NowSeconds() { return runtime_.clock()->NowUs() / 1'000'000; }

  ApiTestBackend backend_;
  runtime::EmbeddedRuntime& runtime_ = backend_.runtime();
  events::IngestProcessor processor_;
  http::Router router_;
};

TEST_F(EventsApiTest, AodhWebhookStartsMappedWorkflowAndDuplicateStartsNothing) {
  ASSERT_EQ(Call("POST", "/v2/webhook_configs", R"({"name":"aodh","format":"aodh"})").status, 201);
  std::string trigger = CreateTrigger(R"({"name":"on-alarm","workflow_id":"handle_alarm",
      "event":"aodh.alarm.alarm",
      "input_mapping":"<% {host => $.data.alarm_name, severity => $.data.severity} %>"})");
  std::map<std::string, std::string> headers = {{"x-openstack-request-id", "req-1"}};
  auto r = Call("POST", "/v2/webhooks/aodh", kAodhPayload, headers);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Field(BodyObject(r), "accepted"), "1");
  EXPECT_EQ(Process(), 1u);
  auto all = Executions();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].workflow_name, "handle_alarm");
  EXPECT_EQ(all[0].state, engine::State::kSuccess);
  EXPECT_EQ(all[0].input, *ParseJson(R"({"host":"cpu_high","severity":"critical"})"));
  EXPECT_EQ(all[0].params.as_object().at("event_params").as_object().at("type"),
            Json("aodh.alarm.alarm"));
  EXPECT_EQ(all[0].id, events::TriggerExecutionId(trigger, "/v2/webhooks/aodh\x1freq-1"));

  // The same notification again (Aodh retry: same request id): accepted, starts nothing.
  ASSERT_EQ(Call("POST", "/v2/webhooks/aodh", kAodhPayload, headers).status, 202);
  EXPECT_EQ(Process(), 1u);
  EXPECT_EQ(Executions().size(), 1u);
  EXPECT_EQ(processor_.stats().duplicates, 1u);
}

TEST_F(EventsApiTest, AlertmanagerWebhookWithStandardSignature) {
  const std::string secret = "whsec_" + events::Base64Encode("alertmanager-shared-secret");
  ASSERT_EQ(Call("POST", "/v2/webhook_configs",
                 R"({"name":"am","format":"alertmanager","secret":")" + secret + R"("})")
                .status,
            201);
  CreateTrigger(
      R"({"name":"on-hostdown","workflow_id":"handle_alert","type":"alertmanager.alert.firing",
      "subject":"HostDown","source":"/v2/webhooks/*",
      "input_mapping":{"alertname":"<% $.data.commonLabels.alertname %>",
                       "instances":"<% $.data.alerts.select($.labels.instance) %>"}})");
  auto signed_headers = [&](const std::string& id, const std::string& body) {
    int64_t ts = NowSeconds();
    return std::map<std::string, std::string>{
        {"webhook-id", id},
        {"webhook-timestamp", std::to_string(ts)},
        {"webhook-signature", events::SignStandardWebhook(secret, id, ts, body)}};
  };
  auto r = Call("POST", "/v2/webhooks/am", kAlertmanagerPayload,
                signed_headers("msg_1", kAlertmanagerPayload));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(Process(), 1u);
  auto all = Executions();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, engine::State::kSuccess);
  EXPECT_EQ(all[0].input,
            *ParseJson(R"({"alertname":"HostDown","instances":["node-1:9100","node-2:9100"]})"));

  // A repeat notification (another delivery id, alerts in another order) is the same group state:
  // nothing.
  auto reordered = *ParseJson(kAlertmanagerPayload);
  auto& alerts = reordered.as_object()["alerts"].as_array();
  std::swap(alerts[0], alerts[1]);
  std::string body2 = DumpJson(reordered);
  ASSERT_EQ(Call("POST", "/v2/webhooks/am", body2, signed_headers("msg_2", body2)).status, 202);
  EXPECT_EQ(Process(), 1u);
  EXPECT_EQ(Executions().size(), 1u);

  // Bad signature, missing signature, expired timestamp: 401 and nothing is published.
  auto bad = signed_headers("msg_3", "{}");
  auto r401 = Call("POST", "/v2/webhooks/am", kAlertmanagerPayload, bad);
  EXPECT_EQ(r401.status, 401) << r401.body;
  EXPECT_EQ(Field(BodyObject(r401), "faultcode"), "Client");
  EXPECT_EQ(Call("POST", "/v2/webhooks/am", kAlertmanagerPayload).status, 401);
  auto expired = signed_headers("msg_4", kAlertmanagerPayload);
  runtime_.manual_clock()->AdvanceSeconds(301);
  EXPECT_EQ(Call("POST", "/v2/webhooks/am", kAlertmanagerPayload, expired).status, 401);
  EXPECT_EQ(Process(), 0u);
  EXPECT_EQ(Executions().size(), 1u);
}

TEST_F(EventsApiTest, GitHubSignatureAndPlainJsonWebhook) {
  ASSERT_EQ(Call("POST", "/v2/webhook_configs",
                 R"({"name":"deploy","format":"json","secret":"s3cret","signature":"github"})")
                .status,
            201);
  CreateTrigger(R"({"name":"on-deploy","workflow_id":"handle_event","event":"bora.webhook.deploy",
      "input_mapping":{"payload":"<% $.data %>"}})");
  std::string body = R"({"ref":"refs/heads/main"})";
  auto bad = Call("POST", "/v2/webhooks/deploy", body,
                  {{"x-hub-signature-256", events::SignGitHub("wrong", body)}});
  EXPECT_EQ(bad.status, 401);
  auto ok = Call(
      "POST", "/v2/webhooks/deploy", body,
      {{"x-hub-signature-256", events::SignGitHub("s3cret", body)}, {"x-github-delivery", "d1"}});
  ASSERT_EQ(ok.status, 202) << ok.body;
  EXPECT_EQ(Process(), 1u);
  auto all = Executions();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].input, *ParseJson(R"({"payload":{"ref":"refs/heads/main"}})"));
  // Unknown webhook: 404; bad payload for a format: 400.
  EXPECT_EQ(Call("POST", "/v2/webhooks/nope", body).status, 404);
  ASSERT_EQ(Call("POST", "/v2/webhook_configs", R"({"name":"aodh","format":"aodh"})").status, 201);
  auto bad_payload = Call("POST", "/v2/webhooks/aodh", R"({"alarm_name":"x"})");
  EXPECT_EQ(bad_payload.status, 400);
  EXPECT_NE(bad_payload.body.find("alarm_id"), std::string::npos);
}

TEST_F(EventsApiTest, CloudEventsModes) {
  std::string trigger = CreateTrigger(R"({"name":"any-order","workflow_id":"handle_alarm",
      "type":"com.example.order.*","input_mapping":{"host":"<% $.subject %>"}})");
  struct Case {
    std::string name;
    std::map<std::string, std::string> headers;
    std::string body;
    int status;
    std::string expect;  // substring of the body
  };
  std::vector<Case> cases = {
      {"structured",
       {{"content-type", "application/cloudevents+json"}},
       R"({"specversion":"1.0","id":"o1","source":"/shop","type":"com.example.order.created","subject":"h1"})",
       202,
       R"("ids":["o1"])"},
      {"binary",
       {{"ce-specversion", "1.0"},
        {"ce-id", "o2"},
        {"ce-source", "/shop"},
        {"ce-type", "com.example.order.paid"},
        {"ce-subject", "h2"},
        {"content-type", "application/json"}},
       R"({"total": 10})",
       202,
       R"("accepted":1)"},
      {"batch",
       {{"content-type", "application/cloudevents-batch+json"}},
       R"([{"specversion":"1.0","id":"o3","source":"/shop","type":"com.example.order.created","subject":"h3"},
           {"specversion":"1.0","id":"o4","source":"/shop","type":"other","subject":"h4"}])",
       202,
       R"("accepted":2)"},
      {"batch too big",
       {{"content-type", "application/cloudevents-batch+json"}},
       R"([{"specversion":"1.0","id":"a","source":"/s","type":"t"},{"specversion":"1.0","id":"b","source":"/s","type":"t"},
           {"specversion":"1.0","id":"c","source":"/s","type":"t"},{"specversion":"1.0","id":"d","source":"/s","type":"t"}])",
       413,
       "at most 3 events"},
      {"batch bad item",
       {{"content-type", "application/cloudevents-batch+json"}},
       R"([{"specversion":"1.0","id":"a","source":"/s","type":"t"},{"specversion":"1.0","id":"b","source":"/s"}])",
       400,
       "event [1]: missing required attribute 'type'"},
      {"not a cloudevent",
       {{"content-type", "application/json"}},
       R"({"a":1})",
       400,
       "not a CloudEvent"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/v2/events", c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find(c.expect), std::string::npos) << c.name << ": " << r.body;
  }
  EXPECT_EQ(Process(), 4u);  // o1, o2, o3, o4 (only the accepted ones were published)
  auto all = Executions();
  ASSERT_EQ(all.size(), 3u);
  std::set<std::string> hosts;
  for (const auto& e : all) {
    EXPECT_EQ(e.state, engine::State::kSuccess);
    hosts.insert(std::string(e.input.as_object().at("host").as_string()));
  }
  EXPECT_EQ(hosts, (std::set<std::string>{"h1", "h2", "h3"}));
}

// JSON numbers are finite: an event whose data holds a number beyond a double is refused with a
// 400 naming the field (it was accepted with a 202, then dropped); on the Kafka intake topic it is
// counted and logged as malformed.
TEST_F(EventsApiTest, NumbersBeyondADoubleAreRefusedNamingTheField) {
  CreateTrigger(R"({"name":"any-order","workflow_id":"handle_alarm",
      "type":"com.example.order.*","input_mapping":{"host":"<% $.subject %>"}})");
  ASSERT_EQ(Call("POST", "/v2/webhook_configs", R"({"name":"plain","format":"json"})").status, 201);
  struct Case {
    std::string name;
    std::string path;
    std::map<std::string, std::string> headers;
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"structured",
       "/v2/events",
       {{"content-type", "application/cloudevents+json"}},
       R"({"specversion":"1.0","id":"o1","source":"/shop","type":"com.example.order.created",)"
       R"("subject":"h1","data":{"qty":[1, 1e999]}})",
       "'data.qty[1]'"},
      {"binary",
       "/v2/events",
       {{"ce-specversion", "1.0"},
        {"ce-id", "o2"},
        {"ce-source", "/shop"},
        {"ce-type", "com.example.order.paid"},
        {"content-type", "application/json"}},
       R"({"total": -1e309})",
       "'total'"},
      {"webhook", "/v2/webhooks/plain", {}, R"({"n": )" + std::string(400, '9') + "}", "'n'"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", c.path, c.body, c.headers);
    EXPECT_EQ(r.status, 400) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find("number out of range at " + c.field), std::string::npos)
        << c.name << ": " << r.body;
  }
  EXPECT_EQ(Process(), 0u);  // nothing was published
  ASSERT_TRUE(runtime_.bus()
                  .Publish(events::IngestTopic(), "k",
                           R"({"specversion":"1.0","id":"o3","source":"/shop",)"
                           R"("type":"com.example.order.created","subject":"h3",)"
                           R"("data":{"qty":1e999}})")
                  .ok());
  EXPECT_EQ(Process(), 1u);
  EXPECT_EQ(processor_.stats().malformed, 1u);
  EXPECT_EQ(processor_.stats().started, 0u);
  EXPECT_TRUE(Executions().empty());
}

TEST_F(EventsApiTest, EventTriggerResource) {
  // Create: Mistral's fields, json-typed fields as strings.
  auto created = Call("POST", "/v2/event_triggers",
                      R"({"name":"t1","workflow_id":"handle_alarm","exchange":"openstack",
                          "topic":"notifications","event":"compute.instance.create.end",
                          "workflow_input":"{\"host\": \"h\"}","workflow_params":{"env":{"a":1}}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto body = BodyObject(created);
  std::string id = Field(body, "id");
  EXPECT_EQ(Field(body, "workflow_input"), "{\"host\": \"h\"}");
  EXPECT_EQ(Field(body, "workflow_params"), "{\"env\": {\"a\": 1}}");
  EXPECT_EQ(Field(body, "event"), "compute.instance.create.end");
  EXPECT_EQ(Field(body, "project_id"), "<default-project>");
  EXPECT_EQ(Field(body, "created_at"), "2026-01-01 00:00:00");
  EXPECT_EQ(Field(body, "scope"), "private");

  struct Case {
    std::string method, path, body;
    int status;
    std::string expect;
  };
  std::vector<Case> cases = {
      {"GET", "/v2/event_triggers/" + id, "", 200, "\"name\":\"t1\""},
      {"GET", "/v2/event_triggers/missing", "", 404, "Event trigger not found"},
      {"POST", "/v2/event_triggers",
       R"({"name":"t1","workflow_id":"handle_alarm","exchange":"openstack","topic":"notifications",
           "event":"compute.instance.create.end"})",
       409, "Duplicate entry"},
      {"POST", "/v2/event_triggers", R"({"name":"t2","workflow_id":"nope","event":"x"})", 404,
       "Workflow not found"},
      {"POST", "/v2/event_triggers", R"({"name":"t2","workflow_id":"handle_alarm"})", 400,
       "at least one of"},
      {"POST", "/v2/event_triggers", "{", 400, "Invalid JSON"},
      {"PUT", "/v2/event_triggers/" + id, R"({"event":"other"})", 400,
       "Can not update fields event"},
      {"PUT", "/v2/event_triggers/" + id, R"({"name":"renamed","workflow_input":{"host":"x"}})",
       200, "\"name\":\"renamed\""},
      {"PUT", "/v2/event_triggers/missing", R"({"name":"x"})", 404, "not found"},
      {"GET", "/v2/event_triggers?name=renamed", "", 200, "\"event_triggers\":[{"},
      {"GET", "/v2/event_triggers?name=nope", "", 200, "\"event_triggers\":[]"},
      {"GET", "/v2/event_triggers?color=red", "", 400, "color"},
      {"DELETE", "/v2/event_triggers/" + id, "", 204, ""},
      {"DELETE", "/v2/event_triggers/" + id, "", 404, "not found"},
  };
  for (const auto& c : cases) {
    http::HttpRequest r;
    r.method = c.method;
    r.target = c.path;
    auto q = c.path.find('?');
    r.path = c.path.substr(0, q);
    if (q != std::string::npos) {
      std::string kv = c.path.substr(q + 1);
      auto eq = kv.find('=');
      r.query.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
    r.body = c.body;
    if (!c.body.empty()) r.headers["content-type"] = "application/json";
    auto resp = router_.Dispatch(r);
    EXPECT_EQ(resp.status, c.status) << c.method << " " << c.path << ": " << resp.body;
    EXPECT_NE(resp.body.find(c.expect), std::string::npos)
        << c.method << " " << c.path << ": " << resp.body;
  }
}

TEST_F(EventsApiTest, WebhookConfigResource) {
  std::vector<std::tuple<std::string, std::string, std::string, int, std::string>> cases = {
      {"POST", "/v2/webhook_configs", R"({"name":"a","format":"aodh","secret":"x"})", 201,
       "\"has_secret\":true"},
      {"POST", "/v2/webhook_configs", R"({"name":"a","format":"aodh"})", 409, "already exists"},
      {"POST", "/v2/webhook_configs", R"({"name":"b","format":"xml"})", 400, "unknown format"},
      {"GET", "/v2/webhook_configs/a", "", 200, "\"format\":\"aodh\""},
      {"GET", "/v2/webhook_configs", "", 200, "\"webhook_configs\":[{\"name\":\"a\""},
      {"GET", "/v2/webhook_configs/zz", "", 404, "Webhook not found"},
      {"DELETE", "/v2/webhook_configs/a", "", 204, ""},
      {"DELETE", "/v2/webhook_configs/a", "", 404, "Webhook not found"},
  };
  for (const auto& [method, path, body, status, expect] : cases) {
    auto r = Call(method, path, body);
    EXPECT_EQ(r.status, status) << method << " " << path << ": " << r.body;
    EXPECT_NE(r.body.find(expect), std::string::npos) << method << " " << path << ": " << r.body;
    EXPECT_EQ(r.body.find("\"secret\""), std::string::npos)
        << "secrets are never returned: " << r.body;
  }
}

// With a Catalog (as `bora serve` runs): workflow_id may be the workflow's catalog id (what
// python-mistralclient sends) or its name; the trigger stores the id and starts the named workflow.
TEST(EventsApiCatalogTest, WorkflowIdResolvesThroughTheCatalog) {
  ApiTestBackend backend;
  runtime::EmbeddedRuntime& runtime = backend.runtime();
  auto created = backend.catalog().CreateWorkflows(kWorkflows, {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::string workflow_uuid;
  for (const auto& w : *created)
    if (w.as_object().at("name") == Json("handle_alarm"))
      workflow_uuid = std::string(w.as_object().at("id").as_string());
  ASSERT_FALSE(workflow_uuid.empty());
  EventsApi api(backend.context());
  auto post = [](const std::string& path, const std::string& body,
                 const std::map<std::string, std::string>& headers = {}) {
    return MakeRequest("POST", path, body, "", headers);
  };
  // Mistral's client shape: workflow_id is the UUID, json fields pre-dumped as strings.
  auto by_id = api.CreateEventTrigger(
      post("/v2/event_triggers",
           R"({"name":"by-id","workflow_id":")" + workflow_uuid + R"(","exchange":"openstack",
          "topic":"notifications","event":"compute.instance.update",
          "workflow_input":"{\"host\": \"h1\"}","workflow_params":"{}"})"));
  ASSERT_EQ(by_id.status, 201) << by_id.body;
  auto body = ParseJson(by_id.body)->as_object();
  EXPECT_EQ(body.at("workflow_id"), Json(workflow_uuid));
  EXPECT_EQ(body.at("workflow_name"), Json("handle_alarm"));
  auto by_name = api.CreateEventTrigger(post(
      "/v2/event_triggers",
      R"({"name":"by-name","workflow_id":"handle_alarm","event":"other","workflow_input":{"host":"h2"}})"));
  ASSERT_EQ(by_name.status, 201) << by_name.body;
  EXPECT_EQ(ParseJson(by_name.body)->as_object().at("workflow_id"), Json(workflow_uuid));
  auto unknown = api.CreateEventTrigger(
      post("/v2/event_triggers",
           R"({"name":"x","workflow_id":"00000000-0000-4000-8000-000000000000","event":"x"})"));
  EXPECT_EQ(unknown.status, 404) << unknown.body;

  auto accepted = api.PostEvents(post("/v2/events", "{}",
                                      {{"ce-specversion", "1.0"},
                                       {"ce-id", "n1"},
                                       {"ce-source", "nova"},
                                       {"ce-type", "compute.instance.update"},
                                       {"content-type", "application/json"}}));
  ASSERT_EQ(accepted.status, 202) << accepted.body;
  events::IngestProcessor processor(events::IngestOptions(), &runtime.bus(), &backend.resources(),
                                    &runtime.client());
  auto n = processor.PollOnce(std::chrono::milliseconds(0));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 1u);
  ASSERT_TRUE(runtime.RunUntilIdle().ok());
  std::string trigger_id(body.at("id").as_string());
  auto state =
      runtime.client().Get(ExecutionId(events::TriggerExecutionId(trigger_id, "nova\x1fn1")));
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->state, engine::State::kSuccess);
  EXPECT_EQ((*state)->input, *ParseJson(R"({"host":"h1","severity":"low"})"));
}

}  // namespace
}  // namespace bora::api
