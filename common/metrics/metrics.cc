#include "common/metrics/metrics.h"

#include <prometheus/text_serializer.h>

#include <chrono>
#include <map>
#include <memory>

#ifndef BORA_VERSION
#define BORA_VERSION "unknown"
#endif

namespace bora::metrics {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

std::string Str(std::string_view s) { return std::string(s); }

struct State {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  LabelBounder workflows, tasks, actions, pools{64, "default"}, reasons{64}, routes{200},
      topics{200};
  std::atomic<bool> orchestrator_assigned{false};
  std::vector<FamilyInfo> described;
};

State& S() {
  static State* state =
      new State();  // never destroyed: metrics may be bumped during static destruction
  return *state;
}

// Records every family's name and type (Registry::Collect omits families without a series yet).
template <typename Builder>
auto& Reg(Builder&& b, std::string name, std::string help, std::string type) {
  S().described.push_back({name, type, help});
  return b.Name(name).Help(help).Register(*S().registry);
}

Families* Create() {
  auto* f = new Families{
      Reg(BuildGauge(), "bora_build_info", "Always 1; the version label names the build", "gauge"),
      Reg(BuildGauge(), "bora_process_start_time_seconds",
          "Start time of the process since the unix epoch, in seconds", "gauge"),
      Reg(BuildCounter(), "bora_executions_started_total",
          "Workflow executions started (top-level and sub-workflows)", "counter"),
      Reg(BuildCounter(), "bora_executions_finished_total",
          "Workflow executions that reached SUCCESS, ERROR or CANCELLED", "counter"),
      Reg(BuildHistogram(), "bora_execution_duration_seconds",
          "From start to completion of a workflow execution", "histogram"),
      Reg(BuildHistogram(), "bora_task_duration_seconds",
          "From start to completion of a task execution", "histogram"),
      Reg(BuildCounter(), "bora_orchestrator_events_applied_total",
          "Events the orchestrator applied to an execution", "counter"),
      Reg(BuildCounter(), "bora_orchestrator_events_refused_total",
          "Events that changed nothing: undecodable, unknown execution, duplicate start, refused",
          "counter"),
      Reg(BuildCounter(), "bora_orchestrator_commits_total",
          "State commits (one per applied batch of a partition)", "counter"),
      Reg(BuildCounter(), "bora_timers_fired_total", "Engine timers fired", "counter"),
      Reg(BuildCounter(), "bora_executions_purged_total",
          "Completed executions deleted from the state store (retention policy or DELETE)",
          "counter"),
      Reg(BuildHistogram(), "bora_orchestrator_loop_phase_seconds",
          "Time an orchestrator poll spends per phase (wait, load, apply, commit, produce, timers)",
          "histogram"),
      Reg(BuildGauge(), "bora_partitions_owned",
          "Partitions of bora.events this process's orchestrators own (their sum)", "gauge"),
      Reg(BuildCounter(), "bora_partition_claims_total",
          "Partition claims by this process; each one bumps the partition's epoch", "counter"),
      Reg(BuildGauge(), "bora_partition_epoch",
          "Epoch of an owned partition, as claimed by this process", "gauge"),
      Reg(BuildCounter(), "bora_partitions_fenced_total",
          "Commits refused because another owner claimed the partition", "counter"),
      Reg(BuildHistogram(), "bora_action_schedule_to_start_seconds",
          "From the orchestrator producing a RunAction to a worker starting the action",
          "histogram"),
      Reg(BuildHistogram(), "bora_action_duration_seconds", "Run time of an action on a worker",
          "histogram"),
      Reg(BuildGauge(), "bora_worker_slots_used", "Worker threads running an action", "gauge"),
      Reg(BuildGauge(), "bora_worker_slots_free", "Idle worker threads", "gauge"),
      Reg(BuildGauge(), "bora_worker_queue_depth",
          "Actions taken from Kafka and waiting for a worker thread", "gauge"),
      Reg(BuildGauge(), "bora_kafka_consumer_lag_messages",
          "Messages of an assigned partition not yet consumed (high watermark - position)",
          "gauge"),
      Reg(BuildCounter(), "bora_kafka_produce_errors_total", "Kafka produce and delivery failures",
          "counter"),
      Reg(BuildCounter(), "bora_kafka_consume_errors_total",
          "Kafka consumer errors (other than end of partition)", "counter"),
      Reg(BuildCounter(), "bora_kafka_rebalances_total",
          "Consumer group rebalance callbacks by kind (assign, revoke, error)", "counter"),
      Reg(BuildHistogram(), "bora_redis_command_duration_seconds",
          "Round trip of one Redis command", "histogram"),
      Reg(BuildCounter(), "bora_redis_errors_total", "Failed Redis commands", "counter"),
      Reg(BuildCounter(), "bora_events_received_total",
          "External events (CloudEvents, webhooks) received", "counter"),
      Reg(BuildCounter(), "bora_events_rejected_total",
          "External events refused (invalid, unauthorised, no trigger)", "counter"),
      Reg(BuildCounter(), "bora_events_deduplicated_total",
          "External events dropped as duplicates of one already seen", "counter"),
      Reg(BuildCounter(), "bora_events_unmatched_total",
          "External events that matched no event trigger (nothing started)", "counter"),
      Reg(BuildCounter(), "bora_webhook_requests_total", "Webhook requests by result", "counter"),
      Reg(BuildHistogram(), "bora_cron_fire_lag_seconds",
          "How late a cron trigger fired after its scheduled time", "histogram"),
      Reg(BuildCounter(), "bora_http_requests_total", "HTTP requests served", "counter"),
      Reg(BuildHistogram(), "bora_http_request_duration_seconds", "Time to answer an HTTP request",
          "histogram"),
      Reg(BuildCounter(), "bora_auth_keystone_requests_total",
          "Token validations asked of Keystone by result (valid, invalid, error)", "counter"),
      Reg(BuildCounter(), "bora_auth_token_cache_hits_total",
          "Keystone token checks answered from the cache", "counter"),
      Reg(BuildCounter(), "bora_auth_token_cache_misses_total",
          "Keystone token checks the cache could not answer", "counter"),
      Reg(BuildCounter(), "bora_auth_trust_requests_total",
          "Keystone trust calls (create, token, delete) by result (ok, error)", "counter"),
  };
  // Series that exist from the start, so dashboards show 0 rather than "no data".
  f->build_info.Add({{"version", BORA_VERSION}}).Set(1);
  f->process_start_time.Add({});  // MarkProcessStart sets it
  f->events_applied.Add({});
  f->commits.Add({});
  f->timers_fired.Add({});
  f->executions_purged.Add({});
  f->partitions_owned.Add({});
  f->kafka_produce_errors.Add({});
  f->partitions_fenced.Add({});
  f->redis_errors.Add({});
  f->events_received.Add({});
  f->events_rejected.Add({});
  f->events_deduplicated.Add({});
  f->events_unmatched.Add({});
  for (const char* reason :
       {"ALREADY_EXISTS", "NOT_FOUND", "INVALID_ARGUMENT", "FAILED_PRECONDITION"}) {
    f->events_refused.Add({{"reason", reason}});
  }
  f->kafka_consume_errors.Add({});
  for (const char* kind : {"assign", "revoke"}) f->kafka_rebalances.Add({{"kind", kind}});
  f->cron_fire_lag.Add({}, LatencyBuckets());
  for (const char* result : {"accepted", "rejected", "error"})
    f->webhook_requests.Add({{"result", result}});
  for (const char* result : {"valid", "invalid", "error"})
    f->auth_keystone_requests.Add({{"result", result}});
  f->auth_token_cache_hits.Add({});
  f->auth_token_cache_misses.Add({});
  for (const char* call : {"create", "token", "delete"}) {
    for (const char* result : {"ok", "error"})
      f->auth_trust_requests.Add({{"call", call}, {"result", result}});
  }
  return f;
}

}  // namespace

std::string LabelBounder::Bound(std::string_view value) {
  if (value.empty()) return empty_as_;
  MutexLock lock(mu_);
  std::string v(value);
  if (seen_.contains(v)) return v;
  if (seen_.size() >= cap_) return kOtherLabel;
  seen_.insert(v);
  return v;
}

size_t LabelBounder::distinct() const {
  MutexLock lock(mu_);
  return seen_.size();
}

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600};
  return b;
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return b;
}

prometheus::Registry& Registry() {
  Get();
  return *S().registry;
}

Families& Get() {
  static Families* f = Create();
  return *f;
}

std::vector<FamilyInfo> Describe() {
  Get();
  return S().described;
}

std::string Serialize() { return prometheus::TextSerializer().Serialize(Registry().Collect()); }

std::string Workflow(std::string_view name) { return S().workflows.Bound(name); }
std::string Task(std::string_view name) { return S().tasks.Bound(name); }
std::string Action(std::string_view name) { return S().actions.Bound(name); }
std::string Pool(std::string_view name) { return S().pools.Bound(name); }
std::string Reason(std::string_view name) { return S().reasons.Bound(name); }
std::string Route(std::string_view name) { return S().routes.Bound(name); }
std::string Topic(std::string_view name) { return S().topics.Bound(name); }

void ExecutionStarted(std::string_view workflow) {
  Get().executions_started.Add({{"workflow", Workflow(workflow)}}).Increment();
}

void ExecutionFinished(std::string_view workflow, std::string_view state, double seconds) {
  auto& f = Get();
  std::string wf = Workflow(workflow);
  f.executions_finished.Add({{"workflow", wf}, {"state", Str(state)}}).Increment();
  f.execution_duration.Add({{"workflow", wf}, {"state", Str(state)}}, DurationBuckets())
      .Observe(seconds < 0 ? 0 : seconds);
}

void TaskFinished(std::string_view workflow, std::string_view task, std::string_view state,
                  double seconds) {
  Get()
      .task_duration
      .Add({{"workflow", Workflow(workflow)}, {"task", Task(task)}, {"state", Str(state)}},
           DurationBuckets())
      .Observe(seconds < 0 ? 0 : seconds);
}

void PartitionClaimed(int partition, uint64_t epoch) {
  auto& f = Get();
  std::string p = std::to_string(partition);
  f.partition_claims.Add({{"partition", p}}).Increment();
  f.partition_epoch.Add({{"partition", p}}).Set(static_cast<double>(epoch));
}

void PartitionFenced(int partition) { Get().partitions_fenced.Add({}).Increment(); }

void AddPartitionsOwned(int64_t delta) {
  Get().partitions_owned.Add({}).Increment(static_cast<double>(delta));
}

LoopPhases& OrchestratorLoopPhases() {
  static LoopPhases* phases = [] {
    auto& f = Get().loop_phase;
    auto child = [&](const char* phase) -> prometheus::Histogram& {
      return f.Add({{"phase", phase}}, LatencyBuckets());
    };
    return new LoopPhases{child("wait"),  child("load"),    child("apply"), child("commit"),
                          child("await"), child("produce"), child("timers")};
  }();
  return *phases;
}

void ActionScheduledToStart(std::string_view pool, double seconds) {
  Get()
      .schedule_to_start.Add({{"pool", Pool(pool)}}, LatencyBuckets())
      .Observe(seconds < 0 ? 0 : seconds);
}

void ActionFinished(std::string_view pool, std::string_view action, std::string_view result,
                    double seconds) {
  Get()
      .action_duration
      .Add({{"pool", Pool(pool)}, {"action", Action(action)}, {"result", Str(result)}},
           DurationBuckets())
      .Observe(seconds < 0 ? 0 : seconds);
}

void SetWorkerSlots(std::string_view pool, size_t used, size_t free) {
  auto& f = Get();
  std::string p = Pool(pool);
  f.worker_slots_used.Add({{"pool", p}}).Set(static_cast<double>(used));
  f.worker_slots_free.Add({{"pool", p}}).Set(static_cast<double>(free));
}

PoolGauges WorkerPoolGauges(std::string_view pool) {
  auto& f = Get();
  std::string p = Pool(pool);
  return {&f.worker_slots_used.Add({{"pool", p}}), &f.worker_slots_free.Add({{"pool", p}}),
          &f.worker_queue_depth.Add({{"pool", p}})};
}

void SetWorkerQueueDepth(std::string_view pool, size_t depth) {
  Get().worker_queue_depth.Add({{"pool", Pool(pool)}}).Set(static_cast<double>(depth));
}

void SetConsumerLag(std::string_view topic, int partition, int64_t lag) {
  Get()
      .consumer_lag.Add({{"topic", Topic(topic)}, {"partition", std::to_string(partition)}})
      .Set(static_cast<double>(lag < 0 ? 0 : lag));
}

void KafkaProduceError() { Get().kafka_produce_errors.Add({}).Increment(); }
void KafkaConsumeError() { Get().kafka_consume_errors.Add({}).Increment(); }
void KafkaRebalance(std::string_view kind) {
  Get().kafka_rebalances.Add({{"kind", Str(kind)}}).Increment();
}

void RedisCommand(std::string_view command, double seconds, bool ok) {
  auto& f = Get();
  std::string name;
  name.reserve(command.size());
  for (char ch : command)
    name.push_back(ch >= 'a' && ch <= 'z' ? static_cast<char>(ch - 'a' + 'A') : ch);
  static LabelBounder commands(64, "UNKNOWN");
  name = commands.Bound(name);
  f.redis_command_duration.Add({{"command", name}}, LatencyBuckets())
      .Observe(seconds < 0 ? 0 : seconds);
  if (!ok) f.redis_errors.Add({}).Increment();
}

void EventReceived() { Get().events_received.Add({}).Increment(); }
void EventRejected() { Get().events_rejected.Add({}).Increment(); }
void EventDeduplicated() { Get().events_deduplicated.Add({}).Increment(); }
void EventUnmatched() { Get().events_unmatched.Add({}).Increment(); }
void AuthKeystoneRequest(std::string_view result) {
  Get().auth_keystone_requests.Add({{"result", std::string(result)}}).Increment();
}
void AuthTokenCacheHit() { Get().auth_token_cache_hits.Add({}).Increment(); }
void AuthTokenCacheMiss() { Get().auth_token_cache_misses.Add({}).Increment(); }
void AuthTrustRequest(std::string_view call, bool ok) {
  Get()
      .auth_trust_requests.Add({{"call", std::string(call)}, {"result", ok ? "ok" : "error"}})
      .Increment();
}

void WebhookRequest(std::string_view result) {
  Get().webhook_requests.Add({{"result", Reason(result)}}).Increment();
}
void CronFired(double lag_seconds) {
  Get().cron_fire_lag.Add({}, LatencyBuckets()).Observe(lag_seconds < 0 ? 0 : lag_seconds);
}

void HttpRequest(std::string_view route, std::string_view method, int code, double seconds,
                 std::string_view project) {
  auto& f = Get();
  std::string r = Route(route);
  static LabelBounder methods(16, "NONE");
  static LabelBounder projects;
  std::string m = methods.Bound(method);
  std::map<std::string, std::string> labels{
      {"route", r}, {"method", m}, {"code", std::to_string(code)}};
  if (!project.empty()) labels.emplace("project", projects.Bound(project));
  f.http_requests.Add(labels).Increment();
  f.http_request_duration.Add({{"route", r}, {"method", m}}, LatencyBuckets())
      .Observe(seconds < 0 ? 0 : seconds);
}

void MarkProcessStart(const Clock& clock) {
  Get().process_start_time.Add({}).Set(static_cast<double>(clock.NowUs()) / 1e6);
}

void SetOrchestratorAssigned(bool assigned) { S().orchestrator_assigned = assigned; }
bool OrchestratorAssigned() { return S().orchestrator_assigned.load(); }

}  // namespace bora::metrics
