#pragma once
// Bora's Prometheus metrics: one process-wide prometheus::Registry and every metric family Bora
// exports, created together on first use (so /metrics always lists all of them, and a dashboard
// lint can compare its PromQL against the registry). Names follow `bora_<what>_<unit>`; labels are
// bounded: workflow, task, action, state, pool, partition, command, topic, result, reason, route —
// never an execution id. Free-text label values (workflow, task, action names, ...) go through a
// LabelBounder: after kMaxLabelValues distinct values per label, further ones are reported as
// "other".
//
// Who bumps what: the orchestrator (executions, tasks, partitions), the action worker and the
// worker pool (slots, queue, schedule-to-start, action durations), RedisClient (command latency),
// KafkaBus (errors, rebalances, consumer lag), the HTTP routes (requests); the events/webhook/cron
// counters are defined here for the ingest and trigger modules. dashboards/README.md has the table.
//
// Thread-safety: everything here may be called from any thread. The helpers are cheap (a map lookup
// under a mutex for labelled series, atomics otherwise); cache a child (`Family::Add`) on hot
// paths.
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/thread_annotations.h"

namespace bora::metrics {

// Kafka record header the orchestrator puts on RunAction messages: when it produced them (wall
// clock, µs since the epoch). Workers observe bora_action_schedule_to_start_seconds from it.
inline constexpr char kScheduledAtHeader[] = "bora-scheduled-at-us";

// Distinct values a free-text label keeps before new ones become "other".
inline constexpr size_t kMaxLabelValues = 500;
inline constexpr char kOtherLabel[] = "other";

// Caps the distinct values of one label. An empty value is reported as `empty_as`.
class LabelBounder {
 public:
  explicit LabelBounder(size_t cap = kMaxLabelValues, std::string empty_as = "none")
      : cap_(cap), empty_as_(std::move(empty_as)) {}
  std::string Bound(std::string_view value);
  size_t distinct() const;

 private:
  size_t cap_;
  std::string empty_as_;
  mutable Mutex mu_;
  std::unordered_set<std::string> seen_ GUARDED_BY(mu_);
};

// Histogram bucket sets (seconds).
const prometheus::Histogram::BucketBoundaries&
DurationBuckets();  // 5 ms .. 1 h (executions, tasks)
const prometheus::Histogram::BucketBoundaries&
LatencyBuckets();  // 50 µs .. 10 s (Redis, scheduling)

// Every family Bora exports. Created once, registered in Registry(); never destroyed.
struct Families {
  // Build.
  prometheus::Family<prometheus::Gauge>& build_info;          // {version} = 1
  prometheus::Family<prometheus::Gauge>& process_start_time;  // unix seconds
  // Executions and tasks (orchestrator).
  prometheus::Family<prometheus::Counter>& executions_started;    // {workflow}
  prometheus::Family<prometheus::Counter>& executions_finished;   // {workflow, state}
  prometheus::Family<prometheus::Histogram>& execution_duration;  // {workflow, state}
  prometheus::Family<prometheus::Histogram>& task_duration;       // {workflow, task, state}
  prometheus::Family<prometheus::Counter>& events_applied;        // orchestrator events applied
  prometheus::Family<prometheus::Counter>& events_refused;  // {reason}: engine refused / unknown
  prometheus::Family<prometheus::Counter>& commits;         // state commits (one per batch)
  prometheus::Family<prometheus::Counter>& timers_fired;
  prometheus::Family<prometheus::Counter>& executions_purged;  // deleted by retention or DELETE
  prometheus::Family<prometheus::Histogram>& loop_phase;  // {phase}: where an orchestrator poll goes
  // Partitions (orchestrator).
  prometheus::Family<prometheus::Gauge>& partitions_owned;
  prometheus::Family<prometheus::Counter>& partition_claims;  // {partition}: epoch changes we made
  prometheus::Family<prometheus::Gauge>& partition_epoch;     // {partition}
  prometheus::Family<prometheus::Counter>& partitions_fenced;
  // Workers.
  prometheus::Family<prometheus::Histogram>& schedule_to_start;  // {pool}
  prometheus::Family<prometheus::Histogram>& action_duration;    // {pool, action, result}
  prometheus::Family<prometheus::Gauge>& worker_slots_used;      // {pool}
  prometheus::Family<prometheus::Gauge>& worker_slots_free;      // {pool}
  prometheus::Family<prometheus::Gauge>& worker_queue_depth;     // {pool}: runs waiting for a slot
  // Kafka.
  prometheus::Family<prometheus::Gauge>& consumer_lag;  // {topic, partition}
  prometheus::Family<prometheus::Counter>& kafka_produce_errors;
  prometheus::Family<prometheus::Counter>& kafka_consume_errors;
  prometheus::Family<prometheus::Counter>& kafka_rebalances;  // {kind: assign|revoke|error}
  // Redis.
  prometheus::Family<prometheus::Histogram>& redis_command_duration;  // {command}
  prometheus::Family<prometheus::Counter>& redis_errors;
  // Ingest (bumped by ingest/ and orchestrator/triggers/).
  prometheus::Family<prometheus::Counter>& events_received;
  prometheus::Family<prometheus::Counter>& events_rejected;
  prometheus::Family<prometheus::Counter>& events_deduplicated;
  prometheus::Family<prometheus::Counter>& events_unmatched;  // matched no event trigger
  prometheus::Family<prometheus::Counter>& webhook_requests;  // {result}
  prometheus::Family<prometheus::Histogram>& cron_fire_lag;   // seconds late
  // HTTP (API process and the metrics/health routes).
  prometheus::Family<prometheus::Counter>& http_requests;  // {route, method, code[, project]}
  prometheus::Family<prometheus::Histogram>& http_request_duration;  // {route, method}
  // Keystone token validation (common/auth).
  prometheus::Family<prometheus::Counter>& auth_keystone_requests;  // {result: valid|invalid|error}
  prometheus::Family<prometheus::Counter>& auth_token_cache_hits;
  prometheus::Family<prometheus::Counter>& auth_token_cache_misses;
  // Keystone trust calls (common/auth/keystone_trusts.h).
  prometheus::Family<prometheus::Counter>& auth_trust_requests;  // {call, result: ok|error}
};

struct FamilyInfo {
  std::string name;  // as exported (counters end in _total; histograms add _bucket/_sum/_count)
  std::string type;  // "counter", "gauge", "histogram"
  std::string help;
};
// Every family Bora defines, whether or not it has a series yet.
std::vector<FamilyInfo> Describe();

// The process-wide registry (all families registered on first call).
prometheus::Registry& Registry();
Families& Get();
// The text exposition format 0.0.4 of the registry.
std::string Serialize();
inline constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Label bounding for the free-text labels (shared by all callers).
std::string Workflow(std::string_view name);
std::string Task(std::string_view name);
std::string Action(std::string_view name);
std::string Pool(std::string_view name);  // "" -> "default"
std::string Reason(std::string_view name);
std::string Route(std::string_view name);
std::string Topic(std::string_view name);

// Typed helpers (each bounds its labels).
void ExecutionStarted(std::string_view workflow);
void ExecutionFinished(std::string_view workflow, std::string_view state, double seconds);
void TaskFinished(std::string_view workflow, std::string_view task, std::string_view state,
                  double seconds);
void PartitionClaimed(int partition, uint64_t epoch);
void PartitionFenced(int partition);
// Each orchestrator adds the change of its own count (several loops in one process sum up).
void AddPartitionsOwned(int64_t delta);
// The orchestrator loop's phase histograms (children cached): wait = blocked in the consumer poll,
// load = reading executions no cache holds, apply = decoding and applying events, commit = sending the
// commit to the store, await = waiting for a sent commit's reply and handing its outbox to the bus (with
// overlapped commits: the previous poll's, awaited after this poll's apply), produce = sending what the bus
// holds and serving its deliveries, timers = firing timers.
struct LoopPhases {
  prometheus::Histogram& wait;
  prometheus::Histogram& load;
  prometheus::Histogram& apply;
  prometheus::Histogram& commit;
  prometheus::Histogram& await;
  prometheus::Histogram& produce;
  prometheus::Histogram& timers;
};
LoopPhases& OrchestratorLoopPhases();
void ActionScheduledToStart(std::string_view pool, double seconds);
void ActionFinished(std::string_view pool, std::string_view action, std::string_view result,
                    double seconds);
void SetWorkerSlots(std::string_view pool, size_t used, size_t free);
// The three gauges of one pool, looked up once (for WorkerPool's hot path).
struct PoolGauges {
  prometheus::Gauge* slots_used = nullptr;
  prometheus::Gauge* slots_free = nullptr;
  prometheus::Gauge* queue_depth = nullptr;
};
PoolGauges WorkerPoolGauges(std::string_view pool);
void SetWorkerQueueDepth(std::string_view pool, size_t depth);
void SetConsumerLag(std::string_view topic, int partition, int64_t lag);
void KafkaProduceError();
void KafkaConsumeError();
void KafkaRebalance(std::string_view kind);
void RedisCommand(std::string_view command, double seconds, bool ok);
// Events (CloudEvents, webhooks) carry no labels: their sources are user-controlled.
void EventReceived();
void EventRejected();
void EventDeduplicated();
void EventUnmatched();
void WebhookRequest(std::string_view result);
void CronFired(double lag_seconds);
// `project`: the caller's project when the authenticator named one (Keystone), else "" (no
// `project` label on the sample); at most kMaxLabelValues distinct, then "other".
void HttpRequest(std::string_view route, std::string_view method, int code, double seconds,
                 std::string_view project = "");
// A Keystone token validation call: result "valid", "invalid" or "error" (unreachable, refused).
void AuthKeystoneRequest(std::string_view result);
// The Keystone token cache answered (a valid or an invalid token) / did not.
void AuthTokenCacheHit();
void AuthTokenCacheMiss();
// A Keystone trust call: `call` "create", "token" (a trust-scoped token issued) or "delete";
// `ok` false when Keystone refused or could not be reached.
void AuthTrustRequest(std::string_view call, bool ok);

// Sets bora_process_start_time_seconds to the clock's now (0 until then). Called once by the
// process's entry point (cli/main.cc), which holds the wall clock.
void MarkProcessStart(const Clock& clock);

// Readiness inputs that only the roles know (process-wide).
// The orchestrator's consumer got its first partition assignment (possibly empty: more
// orchestrators than partitions). Set by partition::Orchestrator.
void SetOrchestratorAssigned(bool assigned);
bool OrchestratorAssigned();

}  // namespace bora::metrics
