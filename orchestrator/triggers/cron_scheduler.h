#pragma once
// CronScheduler: fires the due cron triggers of the partitions a process owns, exactly once per
// tick across processes. Triggers live in a ResourceStore (kind kCronTriggerKind); trigger T
// belongs to partition PartitionForKey(T.id, partitions), so whoever owns that partition of
// bora.events (one orchestrator per partition) fires it — no separate leader election.
//
// Exactly once: for a due trigger, RunDue first starts the workflow with a DETERMINISTIC execution
// id (CronExecutionId(trigger id, scheduled tick)), then advances the record with CompareAndSwap.
// Two schedulers racing on one tick start the same id (the engine refuses the second start as a
// duplicate) and only one wins the CAS; a crash between the start and the CAS re-fires the same
// tick with the same id after a restart, which the engine again refuses. Mistral's rules otherwise:
// due when next_execution_time <= now + 2 s, missed runs skipped, remaining_executions counted
// down, 0 = deleted.
//
// Cost: the store is listed at most once per second (kRefreshIntervalUs; that is how triggers
// created by the API in another process are seen); a due trigger is re-read (Get) before it fires.
// So RunDue may be called on every loop iteration.
//
// Intended use, in the orchestrator loop that owns `owned_partitions` (every iteration; cheap
// when nothing is due):
//   auto fired = cron.RunDue(owned_partitions);
//   if (!fired.ok()) BORA_LOG_WARN("cron: {}", fired.status().ToString());
//   if (auto due = cron.NextDue(owned_partitions))  // bounds the next wait / poll timeout
//     wait_us = std::min(wait_us, std::max<int64_t>(0, *due - clock->NowUs()));
//
// Ownership: nothing is owned; all pointees outlive the scheduler. Thread-safety: all methods may
// be called from any thread (one mutex; a start is published while it is held).
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "common/strong_id.h"
#include "common/thread_annotations.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/store/resource_store.h"
#include "orchestrator/triggers/cron_trigger.h"

namespace bora::triggers {

// The execution id a trigger's tick starts: a name-based (version 5, SHA-1) UUID of
// "cron_trigger/<trigger id>/<tick µs>" in a fixed Bora namespace. Same inputs, same id, in every
// process.
std::string CronExecutionId(const std::string& trigger_id, TimestampUs tick);

// The description Mistral gives executions a trigger starts:
// {"description": "Workflow execution created by cron trigger '(<id>)'.",
//  "triggered_by": {"type": "cron_trigger", "id": <id>, "name": <name>}} as Python json.dumps text.
std::string CronExecutionDescription(const CronTrigger& trigger);

class CronScheduler {
 public:
  static constexpr int64_t kRefreshIntervalUs = 1'000'000;

  CronScheduler(store::ResourceStore* store, runtime::ExecutionClient* client, const Clock* clock,
                int partitions);

  // Fires every due trigger of `owned_partitions` once. Returns how many ticks THIS scheduler fired
  // and advanced (a tick whose CAS another process won is not counted). A start refused as
  // kNotFound or kInvalidArgument (workflow deleted, input no longer valid) is logged and the tick
  // skipped, like Mistral; other errors (bus or store unavailable) leave the trigger due, retried
  // after kRefreshIntervalUs (not on every call), and are returned after the other triggers were
  // tried.
  Result<size_t> RunDue(const std::vector<PartitionId>& owned_partitions);

  // When RunDue should next be called for `owned_partitions`: the earliest fire time of their
  // triggers (next_execution_time - 2 s), but no later than the next store refresh (so new
  // triggers are seen within a second). nullopt when `owned_partitions` is empty.
  std::optional<TimestampUs> NextDue(const std::vector<PartitionId>& owned_partitions);

  // The earliest fire time (next_execution_time - 2 s, or a pending retry) of the triggers of
  // `owned_partitions` as last read (re-read if stale), without the refresh bound; nullopt if there
  // are none. For a deterministic loop that jumps a ManualClock to the next thing to do.
  std::optional<TimestampUs> NextFireTime(const std::vector<PartitionId>& owned_partitions);

  // Makes the next call re-read the store (e.g. after this process created or deleted a trigger).
  void Invalidate();

  // Optional, before the first RunDue: rewrites a trigger's workflow_params before each start, e.g.
  // to resolve "env": "<stored environment name>" through the Catalog the way POST /v2/executions
  // does (the engine takes `env` as an object). An error is treated like a refused start (logged,
  // tick skipped) when kNotFound/kInvalidArgument, else retried.
  using ParamsHook = std::function<Result<Json>(const Json& workflow_params)>;
  void SetParamsHook(ParamsHook hook);

  // Optional, before the first RunDue (Keystone): a token of a trigger's trust (CronTrigger::
  // trust_id) and who it acts as. A trigger with a trust then starts its run with security
  // {auth_token, project_id, project_name, user_id, user_name, is_trust_scoped: true,
  // service_catalog} of that token (Mistral's security.create_context and its context's
  // service_catalog: a trust-scoped token cannot be exchanged for another, so an action uses it
  // as it is, with the endpoints of its catalog). An error leaves the trigger due and is retried
  // after kRefreshIntervalUs, as Mistral does (it logs the failure and tries at its next pass): the
  // run never starts with other credentials than its creator's. Without a hook a trigger with a
  // trust starts with {project_id, user_id} only (a warning is logged).
  struct TrustToken {
    std::string token;
    std::string user_id;
    std::string user_name;
    std::string project_id;
    std::string project_name;
    Json service_catalog = nullptr;  // the token's catalog (Keystone's token body), if any
  };
  using TrustTokenHook = std::function<Result<TrustToken>(const std::string& trust_id)>;
  void SetTrustTokenHook(TrustTokenHook hook);

  PartitionId PartitionOf(const std::string& trigger_id) const;

 private:
  struct Entry {
    std::string key;
    Json record;
    CronTrigger trigger;
    PartitionId partition;
  };

  Status RefreshLocked(TimestampUs now, bool force) REQUIRES(mu_);
  std::optional<TimestampUs> EarliestLocked(const std::vector<PartitionId>& owned_partitions) const
      REQUIRES(mu_);
  // Re-reads, fires and advances one trigger. true if this scheduler advanced it.
  Result<bool> FireLocked(const Entry& entry, TimestampUs now) REQUIRES(mu_);

  store::ResourceStore* store_;
  runtime::ExecutionClient* client_;
  const Clock* clock_;
  int partitions_;

  Mutex mu_;
  std::vector<Entry> cache_ GUARDED_BY(mu_);
  std::optional<TimestampUs> last_refresh_ GUARDED_BY(mu_);
  // key -> when a failed trigger is retried
  std::map<std::string, TimestampUs> retry_at_ GUARDED_BY(mu_);
  ParamsHook params_hook_ GUARDED_BY(mu_);
  TrustTokenHook trust_token_hook_ GUARDED_BY(mu_);
};

}  // namespace bora::triggers
