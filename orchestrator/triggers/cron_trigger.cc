#include "orchestrator/triggers/cron_trigger.h"

#include <algorithm>

#include "common/fields.h"
#include "common/ids.h"
#include "orchestrator/triggers/cron.h"

namespace bora::triggers {
namespace {

constexpr int64_t kMinFirstDelayUs = 60'000'000;

}  // namespace

// The stored record's members, in the order they are written (absent optionals as null). Keys and
// meanings are what stores already hold: renaming one loses existing triggers.
template <typename S, typename V>
void VisitFields(S& t, V& v) requires std::same_as<std::remove_const_t<S>, CronTrigger> {
  using fields::kRequired;
  v.Str("id", t.id, kRequired);
  v.Str("name", t.name, kRequired);
  v.Str("pattern", t.pattern);
  v.Str("workflow_name", t.workflow_name, kRequired);
  v.Str("workflow_id", t.workflow_id);
  v.Str("workflow_namespace", t.workflow_namespace);
  v.Value("workflow_input", t.workflow_input, fields::kObject);
  v.Value("workflow_params", t.workflow_params, fields::kObject);
  v.OptInt("first_execution_time", t.first_execution_time);
  v.Int("next_execution_time", t.next_execution_time, kRequired);
  v.OptInt("remaining_executions", t.remaining_executions);
  v.Str("scope", t.scope);
  v.Str("project_id", t.project_id);
  v.Str("user_id", t.user_id, fields::kOmitDefault);  // absent in triggers stored before it
  v.Str("trust_id", t.trust_id, fields::kOmitDefault);  // only with Keystone
  v.Int("created_at", t.created_at);
  v.Int("updated_at", t.updated_at);
}

Json CronTrigger::ToRecord() const { return fields::ToJson(*this); }

Result<CronTrigger> CronTrigger::FromRecord(const Json& record) {
  CronTrigger t;
  BORA_RETURN_IF_ERROR(fields::FromJson(record, t, "cron trigger record"));
  return t;
}

Result<CronTrigger> NewCronTrigger(const CronTriggerRequest& request, TimestampUs now,
                                   const WorkflowResolver& resolve_workflow) {
  if (request.name.empty()) return InvalidArgument("Mandatory field missing: name");
  if (request.workflow_name.empty() && request.workflow_id.empty()) {
    return InvalidArgument("Mandatory field missing: workflow_name or workflow_id");
  }
  if (request.scope != "private" && request.scope != "public") {
    return InvalidArgument("Invalid input for field/attribute scope. Value: '" + request.scope +
                           "'. Value should be one of: private, public");
  }
  if (request.remaining_executions && *request.remaining_executions < 1) {
    return InvalidArgument("Invalid input for field/attribute remaining_executions. Value: '" +
                           std::to_string(*request.remaining_executions) +
                           "'. Value should be greater or equal to 1");
  }
  if (!request.workflow_input.is_object()) {
    return InvalidArgument("Invalid input: workflow_input must be a dict, not " +
                           std::string(PythonTypeName(request.workflow_input)));
  }
  if (!request.workflow_params.is_object()) {
    return InvalidArgument("Invalid params: workflow_params must be a dict, not " +
                           std::string(PythonTypeName(request.workflow_params)));
  }
  std::optional<TimestampUs> first_time;
  if (!request.first_execution_time.empty()) {
    BORA_ASSIGN_OR_RETURN(first_time, ParseMinuteTime(request.first_execution_time));
  }
  // Mistral's validate_cron_trigger_input.
  if (!first_time && request.pattern.empty()) {
    return InvalidArgument("Pattern or first_execution_time must be specified.");
  }
  std::optional<int64_t> count = request.remaining_executions;
  if (first_time) {
    if (now + kMinFirstDelayUs > *first_time) {
      return InvalidArgument("first_execution_time must be at least 1 minute in the future.");
    }
    if (request.pattern.empty() && count && *count > 1) {
      return InvalidArgument("Pattern must be provided if count is superior to 1.");
    }
  }
  TimestampUs next_time = 0;
  if (!request.pattern.empty()) {
    auto pattern = CronPattern::Parse(request.pattern);
    if (!pattern.ok()) {
      return InvalidArgument("The specified pattern is not valid: " + pattern.status().message());
    }
    auto next = pattern->Next(now);
    if (!next.ok()) {
      return InvalidArgument("The specified pattern is not valid: " + next.status().message());
    }
    next_time = *next;
  }
  if (first_time) {
    next_time = *first_time;
    if (request.pattern.empty() && !count) count = 1;
  }
  const std::string& identifier =
      request.workflow_id.empty() ? request.workflow_name : request.workflow_id;
  BORA_ASSIGN_OR_RETURN(
      ResolvedWorkflow wf,
      resolve_workflow(identifier, request.workflow_namespace, request.workflow_input));
  CronTrigger t;
  t.id = NewUuid();
  t.name = request.name;
  t.pattern = request.pattern;
  t.workflow_name = wf.name;
  t.workflow_id = wf.id;
  t.workflow_namespace = wf.namespace_name;
  t.workflow_input = request.workflow_input;
  t.workflow_params = request.workflow_params;
  t.first_execution_time = first_time;
  t.next_execution_time = next_time;
  t.remaining_executions = count;
  t.scope = request.scope;
  t.project_id = request.project_id;
  t.user_id = request.user_id;
  t.created_at = now;
  t.updated_at = now;
  return t;
}

bool IsDue(const CronTrigger& trigger, TimestampUs now) {
  return trigger.next_execution_time <= now + kFireAheadUs;
}

Result<std::optional<CronTrigger>> AdvanceCronTrigger(const CronTrigger& trigger, TimestampUs now) {
  CronTrigger next = trigger;
  if (next.remaining_executions && *next.remaining_executions > 0) --*next.remaining_executions;
  if ((next.remaining_executions && *next.remaining_executions == 0) || next.pattern.empty()) {
    return std::optional<CronTrigger>();
  }
  BORA_ASSIGN_OR_RETURN(CronPattern pattern, CronPattern::Parse(next.pattern));
  BORA_ASSIGN_OR_RETURN(next.next_execution_time,
                        pattern.Next(std::max(now, trigger.next_execution_time)));
  next.updated_at = now;
  return std::optional<CronTrigger>(std::move(next));
}

}  // namespace bora::triggers
