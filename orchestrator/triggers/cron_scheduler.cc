#include "orchestrator/triggers/cron_scheduler.h"

#include "common/metrics/metrics.h"

#include <algorithm>

#include "common/bus/bus.h"
#include "common/log.h"

namespace bora::triggers {
namespace {

bool Owns(const std::vector<PartitionId>& owned, PartitionId partition) {
  return std::find(owned.begin(), owned.end(), partition) != owned.end();
}

// Permanent start errors: retrying the same tick cannot succeed.
bool IsPermanent(const Status& s) {
  return s.code() == StatusCode::kNotFound || s.code() == StatusCode::kInvalidArgument ||
         s.code() == StatusCode::kFailedPrecondition;
}

}  // namespace

std::string CronExecutionId(const std::string& trigger_id, TimestampUs tick) {
  // A fixed namespace for Bora's cron execution ids (a random UUID chosen once).
  return NameBasedUuid("6b0f3c52-8d7e-4a1b-9f2c-3e5d7a9b1c40",
                       "cron_trigger/" + trigger_id + "/" + std::to_string(tick));
}

std::string CronExecutionDescription(const CronTrigger& trigger) {
  JsonObject triggered_by;
  triggered_by["type"] = "cron_trigger";
  triggered_by["id"] = trigger.id;
  triggered_by["name"] = trigger.name;
  JsonObject d;
  d["description"] = "Workflow execution created by cron trigger '(" + trigger.id + ")'.";
  d["triggered_by"] = std::move(triggered_by);
  return PythonJsonDumps(d);
}

CronScheduler::CronScheduler(store::ResourceStore* store, runtime::ExecutionClient* client,
                             const Clock* clock, int partitions)
    : store_(store), client_(client), clock_(clock), partitions_(partitions < 1 ? 1 : partitions) {}

PartitionId CronScheduler::PartitionOf(const std::string& trigger_id) const {
  return PartitionId(PartitionForKey(trigger_id, partitions_));
}

void CronScheduler::SetParamsHook(ParamsHook hook) {
  MutexLock lock(mu_);
  params_hook_ = std::move(hook);
}

void CronScheduler::SetTrustTokenHook(TrustTokenHook hook) {
  MutexLock lock(mu_);
  trust_token_hook_ = std::move(hook);
}

void CronScheduler::Invalidate() {
  MutexLock lock(mu_);
  last_refresh_.reset();
}

Status CronScheduler::RefreshLocked(TimestampUs now, bool force) {
  if (!force && last_refresh_ && now >= *last_refresh_ &&
      now - *last_refresh_ < kRefreshIntervalUs) {
    return Status::Ok();
  }
  BORA_ASSIGN_OR_RETURN(auto records, store_->List(kCronTriggerKind));
  std::vector<Entry> entries;
  entries.reserve(records.size());
  for (auto& [key, record] : records) {
    auto trigger = CronTrigger::FromRecord(record);
    if (!trigger.ok()) {
      BORA_LOG_WARN("cron trigger '{}' is unreadable and ignored: {}", key,
                    trigger.status().ToString());
      continue;
    }
    Entry e;
    e.key = key;
    e.partition = PartitionOf(trigger->id);
    e.trigger = std::move(*trigger);
    e.record = std::move(record);
    entries.push_back(std::move(e));
  }
  cache_ = std::move(entries);
  last_refresh_ = now;
  return Status::Ok();
}

Result<bool> CronScheduler::FireLocked(const Entry& cached, TimestampUs now) {
  // Re-read: another process may have fired, changed or deleted it since the last refresh.
  BORA_ASSIGN_OR_RETURN(std::optional<Json> record, store_->Get(kCronTriggerKind, cached.key));
  if (!record) return false;
  BORA_ASSIGN_OR_RETURN(CronTrigger trigger, CronTrigger::FromRecord(*record));
  if (!IsDue(trigger, now) || PartitionOf(trigger.id) != cached.partition) return false;

  runtime::StartRequest start;
  start.workflow_name = trigger.workflow_name;
  start.workflow_namespace = trigger.workflow_namespace;
  // In the creator's project, as its user (Mistral runs them with the trigger's trust).
  start.project_id = engine::IsDefaultProject(trigger.project_id) ? "" : trigger.project_id;
  start.user_id = trigger.user_id;
  if (!trigger.trust_id.empty() && trust_token_hook_) {
    // As its creator, through the trust the creator gave Bora (Mistral's create_context). No
    // token, no run: retried later rather than started with other credentials.
    Result<TrustToken> token = trust_token_hook_(trigger.trust_id);
    if (!token.ok()) {
      return Unavailable("cron trigger '" + trigger.name + "' (" + trigger.id +
                         "): no token of its trust " + trigger.trust_id +
                         ", not started: " + token.status().ToString());
    }
    start.security = JsonObject{
        {"auth_token", token->token},
        {"project_id", token->project_id.empty() ? trigger.project_id : token->project_id},
        {"project_name", token->project_name},
        {"user_id", token->user_id.empty() ? trigger.user_id : token->user_id},
        {"user_name", token->user_name},
        {"is_trust_scoped", true}};
    if (!token->service_catalog.is_null()) {
      start.security.as_object()["service_catalog"] = token->service_catalog;
    }
  } else if (!start.project_id.empty()) {
    // No trust (created without Keystone, or this process has no --keystone-* flags): the
    // project and user only; an OpenStack action needs configured credentials for it.
    if (!trigger.trust_id.empty()) {
      BORA_LOG_WARN(
          "cron trigger '{}' ({}) has a trust but this process cannot use it (no "
          "Keystone configured): its run has no token",
          trigger.name, trigger.id);
    }
    start.security = JsonObject{{"project_id", trigger.project_id}, {"user_id", trigger.user_id}};
  }
  start.input = trigger.workflow_input;
  start.params = trigger.workflow_params;
  start.description = CronExecutionDescription(trigger);
  start.execution_id = ExecutionId(CronExecutionId(trigger.id, trigger.next_execution_time));
  Result<ExecutionId> started = start.execution_id;
  if (params_hook_) {
    auto params = params_hook_(trigger.workflow_params);
    if (params.ok()) {
      start.params = std::move(*params);
    } else {
      started = params.status();
    }
  }
  if (started.ok()) started = client_->Start(start);
  if (started.ok()) {
    metrics::CronFired(static_cast<double>(std::max<int64_t>(0, now - trigger.next_execution_time)) /
                       1e6);
  }
  if (!started.ok()) {
    if (!IsPermanent(started.status())) return started.status();
    BORA_LOG_WARN("cron trigger '{}' ({}): the workflow could not be started, tick {} skipped: {}",
                  trigger.name, trigger.id, FormatMistralTime(trigger.next_execution_time),
                  started.status().ToString());
  }

  std::optional<Json> replacement;
  auto advanced = AdvanceCronTrigger(trigger, now);
  if (!advanced.ok()) {
    // Only a corrupted pattern gets here (creation validates it): delete rather than fire forever.
    BORA_LOG_ERROR("cron trigger '{}' ({}) cannot be advanced and is deleted: {}", trigger.name,
                   trigger.id, advanced.status().ToString());
  } else if (advanced->has_value()) {
    replacement = (*advanced)->ToRecord();
  }
  BORA_ASSIGN_OR_RETURN(bool swapped,
                        store_->CompareAndSwap(kCronTriggerKind, cached.key, *record, replacement));
  return swapped && started.ok();
}

Result<size_t> CronScheduler::RunDue(const std::vector<PartitionId>& owned_partitions) {
  MutexLock lock(mu_);
  const TimestampUs now = clock_->NowUs();
  BORA_RETURN_IF_ERROR(RefreshLocked(now, false));
  size_t fired = 0;
  bool changed = false;
  Status first_error;
  for (const Entry& entry : cache_) {
    if (!Owns(owned_partitions, entry.partition) || !IsDue(entry.trigger, now)) continue;
    if (auto it = retry_at_.find(entry.key); it != retry_at_.end()) {
      if (now < it->second) continue;
      retry_at_.erase(it);
    }
    auto r = FireLocked(entry, now);
    changed = true;
    if (!r.ok()) {
      BORA_LOG_WARN("cron trigger '{}': {}", entry.key, r.status().ToString());
      retry_at_[entry.key] = now + kRefreshIntervalUs;
      if (first_error.ok()) first_error = r.status();
      continue;
    }
    if (*r) ++fired;
  }
  // Fired, lost or failed triggers changed in the store: read them again now (not in a second).
  if (changed) {
    if (Status s = RefreshLocked(now, true); !s.ok()) {
      last_refresh_.reset();  // try again on the next call
      BORA_LOG_WARN("cron: cannot list triggers: {}", s.ToString());
    }
  }
  if (!first_error.ok()) return first_error;
  return fired;
}

std::optional<TimestampUs> CronScheduler::EarliestLocked(
    const std::vector<PartitionId>& owned_partitions) const {
  std::optional<TimestampUs> earliest;
  for (const Entry& e : cache_) {
    if (!Owns(owned_partitions, e.partition)) continue;
    TimestampUs at = e.trigger.next_execution_time - kFireAheadUs;
    if (auto it = retry_at_.find(e.key); it != retry_at_.end()) at = std::max(at, it->second);
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

std::optional<TimestampUs> CronScheduler::NextDue(
    const std::vector<PartitionId>& owned_partitions) {
  if (owned_partitions.empty()) return std::nullopt;
  MutexLock lock(mu_);
  const TimestampUs now = clock_->NowUs();
  Status s = RefreshLocked(now, false);
  if (!s.ok()) {
    BORA_LOG_WARN("cron: cannot list triggers: {}", s.ToString());
    return now + kRefreshIntervalUs;
  }
  TimestampUs due = *last_refresh_ + kRefreshIntervalUs;
  if (auto earliest = EarliestLocked(owned_partitions)) due = std::min(due, *earliest);
  return due;
}

std::optional<TimestampUs> CronScheduler::NextFireTime(
    const std::vector<PartitionId>& owned_partitions) {
  MutexLock lock(mu_);
  Status s = RefreshLocked(clock_->NowUs(), false);
  if (!s.ok()) BORA_LOG_WARN("cron: cannot list triggers: {}", s.ToString());
  return EarliestLocked(owned_partitions);
}

}  // namespace bora::triggers
