#pragma once
// CronTrigger: the record of a Mistral cron trigger and Mistral's rules for it
// (../shared/mistral-spec.md §6): creation checks, the first next_execution_time, and the advance
// after a run (missed runs skipped, remaining_executions counted down, 0 = delete).
//
// Records are stored in a ResourceStore under kind kCronTriggerKind, key = trigger name (names are
// unique; the store's Create() makes a duplicate name fail atomically). The scheduler
// (cron_scheduler.h) and the REST resource (ingest/api/cron_triggers_api.h) both use this file.
//
// Thread-safety: plain values and pure functions.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"

namespace bora::triggers {

inline constexpr char kCronTriggerKind[] = "cron_trigger";

struct CronTrigger {
  std::string id;  // UUID; the trigger's partition is PartitionForKey(id, partitions)
  std::string name;
  std::string pattern;  // "" when the trigger only has a first_execution_time
  std::string workflow_name;
  std::string workflow_id;
  // Not in Mistral's REST shape; used to start the workflow. Qualified by the project of the
  // workflow's definition (engine/project_namespace.h).
  std::string workflow_namespace;
  Json workflow_input = JsonObject();
  Json workflow_params = JsonObject();
  std::optional<TimestampUs> first_execution_time;
  TimestampUs next_execution_time = 0;
  std::optional<int64_t> remaining_executions;  // nullopt: unlimited
  std::string scope = "private";
  std::string project_id = "<default-project>";  // its executions start in this project
  std::string user_id;                           // who created it ("" without Keystone)
  // The Keystone trust its creator gave Bora's service user (common/auth/keystone_trusts.h); its
  // runs act with a token of it. "" without Keystone. Never in the REST shape.
  std::string trust_id;
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;

  // The stored form (times as integers, json fields as JSON values, absent optionals as null),
  // written and read from one field list (cron_trigger.cc). FromRecord accepts what ToRecord wrote;
  // a bad record is kInvalidArgument naming the member.
  Json ToRecord() const;
  static Result<CronTrigger> FromRecord(const Json& record);
};

// A creation request, as POST /v2/cron_triggers carries it (json fields already decoded from
// strings).
struct CronTriggerRequest {
  std::string name;
  std::string workflow_name;  // workflow_name or workflow_id
  std::string workflow_id;
  std::string workflow_namespace;
  Json workflow_input = JsonObject();
  Json workflow_params = JsonObject();
  std::string pattern;
  std::string first_execution_time;  // "YYYY-MM-DD HH:MM" UTC, or ""
  std::optional<int64_t> remaining_executions;
  std::string scope = "private";
  std::string project_id = "<default-project>";
  std::string user_id;
};

// The workflow a trigger starts, as the caller resolved it.
struct ResolvedWorkflow {
  std::string id;
  std::string name;
  std::string namespace_name;
};

// Finds the workflow (by name or id, in a namespace) and validates `input` like an execution start
// would: kNotFound "Workflow not found [workflow_identifier=...]", kInvalidArgument "Invalid input
// ...".
using WorkflowResolver = std::function<Result<ResolvedWorkflow>(
    const std::string& name_or_id, const std::string& namespace_name, const Json& input)>;

// Mistral's create_cron_trigger: validates the request and builds the record (new id, times = now).
// kInvalidArgument with Mistral's messages:
//   "Pattern or first_execution_time must be specified."
//   "first_execution_time must be at least 1 minute in the future."
//   "Pattern must be provided if count is superior to 1."
//   "The specified pattern is not valid: <why>"
// Without a pattern remaining_executions defaults to 1. next_execution_time = first_execution_time
// if given, else the pattern's first match after `now`.
Result<CronTrigger> NewCronTrigger(const CronTriggerRequest& request, TimestampUs now,
                                   const WorkflowResolver& resolve_workflow);

// Mistral's scheduler rule: true when the trigger fires at `now`
// (next_execution_time <= now + 2 s).
bool IsDue(const CronTrigger& trigger, TimestampUs now);
inline constexpr int64_t kFireAheadUs = 2'000'000;

// The record after a run at `now`: nullopt when the trigger is done (remaining reached 0, or no
// pattern); otherwise next_execution_time = the pattern's first match after max(now,
// next_execution_time) (missed runs are skipped) and remaining_executions decremented.
Result<std::optional<CronTrigger>> AdvanceCronTrigger(const CronTrigger& trigger, TimestampUs now);

}  // namespace bora::triggers
