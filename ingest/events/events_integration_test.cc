// Distributed mode: the events path over real Kafka and Redis (scripts/services.sh; BORA_KAFKA,
// BORA_REDIS). A ClusterNode (orchestrator + worker roles) runs the ingest processor as a poll
// loop; the REST handlers (EventsApi, called directly) accept a webhook delivery and CloudEvents on
// Kafka; a RedisResourceStore keeps triggers, webhook configs and dedupe keys. Each test uses a
// prefix of its own.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/ids.h"
#include "ingest/api/events_api.h"
#include "ingest/events/ingest_processor.h"
#include "ingest/events/webhooks.h"
#include "orchestrator/runtime/cluster_node.h"
#include "orchestrator/store/redis_resource_store.h"

namespace bora::events {
namespace {

constexpr const char* kWorkflows = R"(
version: '2.0'
handle_alert:
  input:
    - alertname
    - instances: []
  output:
    alertname: <% $.alertname %>
  tasks:
    noop:
      action: std.noop
)";

constexpr const char* kAlertmanagerPayload = R"({
  "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "truncatedAlerts": 0, "status": "firing",
  "receiver": "bora", "groupLabels": {"alertname": "DiskFull"},
  "commonLabels": {"alertname": "DiskFull", "severity": "page"}, "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull", "instance": "db-1:9100"},
              "annotations": {}, "startsAt": "2026-01-01T09:58:00Z", "endsAt": "0001-01-01T00:00:00Z",
              "generatorURL": "http://prometheus:9090/graph", "fingerprint": "c3d2"}]})";

// Integration: polls the state until `pred` holds or the deadline passes (the cluster runs on its
// threads).
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

TEST(EventsIntegration, WebhookAndKafkaEventsStartWorkflowsOnceOverKafkaAndRedis) {
  const char* kafka = std::getenv("BORA_KAFKA");
  const char* redis = std::getenv("BORA_REDIS");
  ASSERT_TRUE(kafka != nullptr && redis != nullptr)
      << "BORA_KAFKA and BORA_REDIS must be set (eval \"$(scripts/services.sh start)\")";
  const std::string prefix = "evt" + NewUuid().substr(0, 8) + ".";

  runtime::ClusterOptions co;
  co.kafka = kafka;
  co.redis = redis;
  co.prefix = prefix;
  co.partitions = 2;
  co.action_partitions = 1;
  co.worker_threads = 2;
  auto node = runtime::ClusterNode::Create(co);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->definitions().Put("test", kWorkflows, "", "wf.yaml").ok());
  auto resources = store::RedisResourceStore::Connect(redis, prefix);
  ASSERT_TRUE(resources.ok()) << resources.status().ToString();

  IngestOptions io;
  io.topic_prefix = prefix;
  io.group = prefix + "bora-ingest";
  io.partitions = 2;
  IngestProcessor processor(io, &(*node)->bus(), resources->get(), &(*node)->client());
  (*node)->AddPollLoop({"ingest", [&processor](std::chrono::milliseconds timeout) {
                          return processor.PollOnce(timeout);
                        }});
  ASSERT_TRUE((*node)->Start().ok());

  api::ApiContext ctx;
  ctx.executions = &(*node)->client();
  ctx.states = &(*node)->store();
  ctx.partitions = co.partitions;
  ctx.resources = resources->get();
  ctx.engine = &(*node)->engine();
  ctx.bus = &(*node)->bus();
  ctx.topic_prefix = prefix;
  ctx.clock = SystemClock::Get();
  api::EventsApi events_api(ctx);
  auto post = [&](const std::string& path, const std::string& body) {
    http::HttpRequest r;
    r.method = "POST";
    r.path = r.target = path;
    r.body = body;
    r.headers["content-type"] = "application/json";
    return r;
  };
  ASSERT_EQ(events_api
                .CreateWebhookConfig(
                    post("/v2/webhook_configs", R"({"name":"am","format":"alertmanager"})"))
                .status,
            201);
  auto trigger = events_api.CreateEventTrigger(post("/v2/event_triggers", R"({"name":"disk",
      "workflow_id":"handle_alert","event":"alertmanager.alert.firing",
      "input_mapping":{"alertname":"<% $.data.commonLabels.alertname %>",
                       "instances":"<% $.data.alerts.select($.labels.instance) %>"}})"));
  ASSERT_EQ(trigger.status, 201) << trigger.body;
  std::string trigger_id(ParseJson(trigger.body)->as_object().at("id").as_string());

  // The same notification twice (Alertmanager repeats), and a CloudEvent put on Kafka directly.
  for (int i = 0; i < 2; ++i) {
    auto r = events_api.PostWebhook(post("/v2/webhooks/am", kAlertmanagerPayload), "am");
    ASSERT_EQ(r.status, 202) << r.body;
  }
  CloudEvent direct;
  direct.id = "k-1";
  direct.source = "/kafka/producer";
  direct.type = "alertmanager.alert.firing";
  direct.data = *ParseJson(R"({"commonLabels":{"alertname":"FromKafka"},"alerts":[]})");
  ASSERT_TRUE(PublishIngestEvents(&(*node)->bus(), prefix, {direct}, 2).ok());

  auto am_event = AlertmanagerToEvent("am", *ParseJson(kAlertmanagerPayload), 0);
  ASSERT_TRUE(am_event.ok());
  std::string am_id = TriggerExecutionId(trigger_id, DedupeKey(*am_event));
  std::string kafka_id = TriggerExecutionId(trigger_id, DedupeKey(direct));
  auto succeeded = [&](const std::string& id) {
    auto s = (*node)->client().Get(ExecutionId(id));
    return s.ok() && s->has_value() && (*s)->state == engine::State::kSuccess;
  };
  EXPECT_TRUE(
      WaitFor([&] { return succeeded(am_id) && succeeded(kafka_id); }, std::chrono::seconds(60)))
      << "stats: started " << processor.stats().started << ", events " << processor.stats().events;
  EXPECT_TRUE(WaitFor([&] { return processor.stats().events >= 3; }, std::chrono::seconds(30)));
  IngestStats stats = processor.stats();
  EXPECT_EQ(stats.events, 3u);
  EXPECT_EQ(stats.started, 2u);
  EXPECT_EQ(stats.duplicates, 1u);
  auto am_state = (*node)->client().Get(ExecutionId(am_id));
  ASSERT_TRUE(am_state.ok() && am_state->has_value());
  EXPECT_EQ((*am_state)->input,
            *ParseJson(R"({"alertname":"DiskFull","instances":["db-1:9100"]})"));
  // Exactly two executions exist under this prefix.
  size_t total = 0;
  for (int p = 0; p < co.partitions; ++p) {
    auto ids = (*node)->store().ListExecutionIds(PartitionId(p));
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    total += ids->size();
  }
  EXPECT_EQ(total, 2u);
  processor.Wakeup();
  (*node)->Stop();
}

}  // namespace
}  // namespace bora::events
