#include "orchestrator/triggers/cron_trigger.h"

#include <algorithm>

#include "common/ids.h"
#include "orchestrator/triggers/cron.h"

namespace bora::triggers {
namespace {

constexpr int64_t kMinFirstDelayUs = 60'000'000;

Result<std::string> GetString(const JsonObject& o, std::string_view key, bool required) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) {
    if (required) return InvalidArgument("cron trigger record: missing '" + std::string(key) + "'");
    return std::string();
  }
  if (!it->value().is_string()) {
    return InvalidArgument("cron trigger record: '" + std::string(key) + "' must be a string");
  }
  return std::string(it->value().as_string());
}

Result<std::optional<int64_t>> GetInt(const JsonObject& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>();
  if (it->value().is_int64()) return std::optional<int64_t>(it->value().as_int64());
  if (it->value().is_uint64())
    return std::optional<int64_t>(static_cast<int64_t>(it->value().as_uint64()));
  return InvalidArgument("cron trigger record: '" + std::string(key) + "' must be an integer");
}

Json OptionalInt(const std::optional<int64_t>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace

Json CronTrigger::ToRecord() const {
  JsonObject o;
  o["id"] = id;
  o["name"] = name;
  o["pattern"] = pattern;
  o["workflow_name"] = workflow_name;
  o["workflow_id"] = workflow_id;
  o["workflow_namespace"] = workflow_namespace;
  o["workflow_input"] = workflow_input;
  o["workflow_params"] = workflow_params;
  o["first_execution_time"] = OptionalInt(first_execution_time);
  o["next_execution_time"] = next_execution_time;
  o["remaining_executions"] = OptionalInt(remaining_executions);
  o["scope"] = scope;
  o["project_id"] = project_id;
  o["created_at"] = created_at;
  o["updated_at"] = updated_at;
  return o;
}

Result<CronTrigger> CronTrigger::FromRecord(const Json& record) {
  if (!record.is_object()) return InvalidArgument("cron trigger record: not a JSON object");
  const JsonObject& o = record.as_object();
  CronTrigger t;
  BORA_ASSIGN_OR_RETURN(t.id, GetString(o, "id", true));
  BORA_ASSIGN_OR_RETURN(t.name, GetString(o, "name", true));
  BORA_ASSIGN_OR_RETURN(t.pattern, GetString(o, "pattern", false));
  BORA_ASSIGN_OR_RETURN(t.workflow_name, GetString(o, "workflow_name", true));
  BORA_ASSIGN_OR_RETURN(t.workflow_id, GetString(o, "workflow_id", false));
  BORA_ASSIGN_OR_RETURN(t.workflow_namespace, GetString(o, "workflow_namespace", false));
  BORA_ASSIGN_OR_RETURN(t.scope, GetString(o, "scope", false));
  BORA_ASSIGN_OR_RETURN(t.project_id, GetString(o, "project_id", false));
  if (auto it = o.find("workflow_input"); it != o.end() && !it->value().is_null()) {
    t.workflow_input = it->value();
  }
  if (auto it = o.find("workflow_params"); it != o.end() && !it->value().is_null()) {
    t.workflow_params = it->value();
  }
  BORA_ASSIGN_OR_RETURN(t.first_execution_time, GetInt(o, "first_execution_time"));
  BORA_ASSIGN_OR_RETURN(t.remaining_executions, GetInt(o, "remaining_executions"));
  BORA_ASSIGN_OR_RETURN(auto next, GetInt(o, "next_execution_time"));
  if (!next) return InvalidArgument("cron trigger record: missing 'next_execution_time'");
  t.next_execution_time = *next;
  BORA_ASSIGN_OR_RETURN(auto created, GetInt(o, "created_at"));
  BORA_ASSIGN_OR_RETURN(auto updated, GetInt(o, "updated_at"));
  t.created_at = created.value_or(0);
  t.updated_at = updated.value_or(0);
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
