#include "common/metrics/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/metrics/http_routes.h"

namespace bora::metrics {
namespace {

// Lines of the exposition text that start with `prefix`.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

// The value of the first sample line that starts with `series` (name plus labels as serialized).
double Sample(const std::string& text, const std::string& series) {
  for (const auto& line : Lines(text, series + " "))
    return std::stod(line.substr(series.size() + 1));
  return -1;
}

TEST(LabelBounder, KeepsUpToCapThenOther) {
  struct Case {
    std::string value;
    std::string want;
  };
  LabelBounder b(3);
  const Case cases[] = {{"a", "a"},     {"b", "b"}, {"", "none"},   {"c", "c"},
                        {"d", "other"}, {"a", "a"}, {"e", "other"}, {"c", "c"}};
  for (const auto& c : cases) EXPECT_EQ(b.Bound(c.value), c.want) << c.value;
  EXPECT_EQ(b.distinct(), 3u);
}

TEST(LabelBounder, EmptyValueName) {
  LabelBounder b(2, "default");
  EXPECT_EQ(b.Bound(""), "default");
  EXPECT_EQ(b.distinct(), 0u);
}

TEST(Metrics, EveryFamilyFollowsTheNamingRules) {
  const std::regex name_re("^bora_[a-z0-9_]+$");
  std::set<std::string> names;
  for (const auto& family : Describe()) {
    EXPECT_TRUE(names.insert(family.name).second) << "twice: " << family.name;
    EXPECT_TRUE(std::regex_match(family.name, name_re)) << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
    if (family.type == "counter") {
      EXPECT_TRUE(family.name.ends_with("_total")) << family.name;
    }
    if (family.type == "histogram") {
      EXPECT_TRUE(family.name.ends_with("_seconds")) << family.name;
    }
  }
  for (const auto& family : Registry().Collect()) {
    EXPECT_TRUE(names.contains(family.name)) << "not described: " << family.name;
    for (const auto& m : family.metric) {
      for (const auto& label : m.label) {
        EXPECT_NE(label.name, "execution_id") << family.name;
        EXPECT_NE(label.name, "id") << family.name;
      }
    }
  }
  // The families the issue asks for, by name.
  for (const char* want : {"bora_build_info",
                           "bora_executions_started_total",
                           "bora_executions_finished_total",
                           "bora_execution_duration_seconds",
                           "bora_task_duration_seconds",
                           "bora_action_schedule_to_start_seconds",
                           "bora_worker_queue_depth",
                           "bora_kafka_consumer_lag_messages",
                           "bora_worker_slots_used",
                           "bora_worker_slots_free",
                           "bora_events_received_total",
                           "bora_events_rejected_total",
                           "bora_events_deduplicated_total",
                           "bora_events_unmatched_total",
                           "bora_webhook_requests_total",
                           "bora_cron_fire_lag_seconds",
                           "bora_kafka_produce_errors_total",
                           "bora_kafka_consume_errors_total",
                           "bora_kafka_rebalances_total",
                           "bora_redis_command_duration_seconds",
                           "bora_partitions_owned",
                           "bora_partition_claims_total"}) {
    EXPECT_TRUE(names.contains(want)) << want;
  }
}

TEST(Metrics, SerializesTextFormat) {
  ExecutionStarted("serialize.wf");
  ExecutionStarted("serialize.wf");
  ExecutionFinished("serialize.wf", "SUCCESS", 0.3);
  TaskFinished("serialize.wf", "t1", "ERROR", 2);
  RedisCommand("hget", 0.0002, true);
  RedisCommand("evalsha", 0.001, false);
  SetWorkerSlots("serialize-pool", 3, 1);
  std::string text = Serialize();
  EXPECT_EQ(Lines(text, "# TYPE bora_executions_started_total counter").size(), 1u);
  EXPECT_EQ(Lines(text, "# TYPE bora_execution_duration_seconds histogram").size(), 1u);
  EXPECT_EQ(Sample(text, "bora_executions_started_total{workflow=\"serialize.wf\"}"), 2);
  EXPECT_EQ(
      Sample(text, "bora_executions_finished_total{state=\"SUCCESS\",workflow=\"serialize.wf\"}"),
      1);
  EXPECT_EQ(Sample(text,
                   "bora_execution_duration_seconds_bucket{state=\"SUCCESS\",workflow=\"serialize."
                   "wf\",le=\"0.5\"}"),
            1);
  EXPECT_EQ(Sample(text,
                   "bora_execution_duration_seconds_bucket{state=\"SUCCESS\",workflow=\"serialize."
                   "wf\",le=\"0.25\"}"),
            0);
  EXPECT_EQ(Sample(text,
                   "bora_task_duration_seconds_count{state=\"ERROR\",task=\"t1\",workflow="
                   "\"serialize.wf\"}"),
            1);
  EXPECT_EQ(Sample(text, "bora_redis_command_duration_seconds_count{command=\"HGET\"}"), 1);
  EXPECT_GE(Sample(text, "bora_redis_errors_total"), 1);
  EXPECT_EQ(Sample(text, "bora_worker_slots_used{pool=\"serialize-pool\"}"), 3);
  EXPECT_EQ(Sample(text, "bora_worker_slots_free{pool=\"serialize-pool\"}"), 1);
  EXPECT_EQ(Lines(text, "bora_build_info{version=\"").size(), 1u);
  // Pre-created series: dashboards show 0 instead of nothing.
  EXPECT_EQ(Sample(text, "bora_webhook_requests_total{result=\"accepted\"}"), 0);
}

TEST(Metrics, WorkflowLabelIsBounded) {
  for (size_t i = 0; i < kMaxLabelValues + 50; ++i)
    ExecutionStarted("bounded.wf" + std::to_string(i));
  std::string text = Serialize();
  auto lines = Lines(text, "bora_executions_started_total{");
  EXPECT_LE(lines.size(), kMaxLabelValues + 1);  // + "other"
  double other = Sample(text, "bora_executions_started_total{workflow=\"other\"}");
  EXPECT_GE(other, 50);
}

TEST(Metrics, ReadinessFlag) {
  SetOrchestratorAssigned(true);
  EXPECT_TRUE(OrchestratorAssigned());
  SetOrchestratorAssigned(false);
  EXPECT_FALSE(OrchestratorAssigned());
}

TEST(Routes, ResponsesAndInstrumentation) {
  struct Case {
    std::string name;
    http::HttpResponse response;
    int status;
    std::string body_has;
  };
  const Case cases[] = {
      {"metrics", MetricsResponse(), 200, "# TYPE bora_build_info gauge"},
      {"live", LiveResponse(), 200, "ok"},
      {"ready", ReadyResponse([] { return Status::Ok(); }), 200, "\"ready\""},
      {"not ready", ReadyResponse([] { return Unavailable("redis down"); }), 503, "redis down"},
      {"no check", ReadyResponse(nullptr), 200, "\"ready\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.response.status, c.status) << c.name;
    EXPECT_NE(c.response.body.find(c.body_has), std::string::npos)
        << c.name << ": " << c.response.body;
  }
  EXPECT_EQ(MetricsResponse().content_type, std::string(kContentType));

  auto handler = Instrumented("/test/{id}", [](const http::HttpRequest&, const http::PathParams&) {
    http::HttpResponse r;
    r.status = 404;
    return r;
  });
  http::HttpRequest req;
  req.method = "GET";
  req.path = "/test/abc";
  EXPECT_EQ(handler(req, {}).status, 404);
  EXPECT_EQ(handler(req, {}).status, 404);
  std::string text = Serialize();
  EXPECT_EQ(
      Sample(text, "bora_http_requests_total{code=\"404\",method=\"GET\",route=\"/test/{id}\"}"),
      2);
  // A caller the authenticator named (Keystone): its project is a label of its own series.
  req.identity = http::Identity{};
  req.identity->project_id = "p-alpha";
  EXPECT_EQ(handler(req, {}).status, 404);
  text = Serialize();
  EXPECT_EQ(Sample(text,
                   "bora_http_requests_total{code=\"404\",method=\"GET\",project=\"p-alpha\","
                   "route=\"/test/{id}\"}"),
            1);
  EXPECT_EQ(
      Sample(text, "bora_http_requests_total{code=\"404\",method=\"GET\",route=\"/test/{id}\"}"),
      2);
}

}  // namespace
}  // namespace bora::metrics
