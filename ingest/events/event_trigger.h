#pragma once
// EventTrigger: Mistral's event trigger resource ({id, name, workflow_id, workflow_input,
// workflow_params, exchange, topic, event, scope, project_id, created_at, updated_at}) extended for
// CloudEvents: match fields `type`, `source`, `subject` (exact, or a prefix when the pattern ends
// with '*'; empty matches anything; Mistral's `event` is the CloudEvents `type`) and
// `input_mapping`, a value that may hold YAQL/Jinja expressions evaluated with the CloudEvent
// (structured JSON form) as `$` / `_`; its result (an object) is merged over `workflow_input`.
// Stored in a ResourceStore (kind "event_trigger", key = id) as EventTriggerToRecord writes it
// (plain JSON values, times in microseconds).
//
// Thread-safety: values and pure functions.
#include <string>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "ingest/events/cloud_event.h"
#include "orchestrator/expressions/expressions.h"

namespace bora::events {

inline constexpr std::string_view kEventTriggerKind = "event_trigger";

struct EventTrigger {
  std::string id;
  std::string name;
  std::string workflow_id;         // as given (name or id), or the catalog id
  std::string workflow_name;       // resolved full name
  std::string workflow_namespace;  // resolved namespace
  Json workflow_input = JsonObject();
  Json workflow_params = JsonObject();
  std::string exchange;  // Mistral compatibility; informational
  std::string topic;     // Mistral compatibility; informational
  std::string type;      // match: CloudEvents type (Mistral `event`)
  std::string source;    // match
  std::string subject;   // match
  Json input_mapping;    // null: none
  std::string scope = "private";
  std::string project_id;
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

// Reads a create request body (Mistral's fields plus
// type/source/subject/input_mapping/workflow_namespace). workflow_input/workflow_params may be
// objects or JSON strings; `event` and `type` are the same field (both given and different: error).
// At least one of event/type/source/subject is required; input_mapping must compile. Unknown fields
// are kInvalidArgument. id/timestamps are left for the caller.
Result<EventTrigger> EventTriggerFromRequest(const Json& body, const expr::Limits& limits = {});
// Fields a PUT may change: name, workflow_input, workflow_params, input_mapping, scope. Others
// (exchange, topic, event, type, source, subject, workflow_id, ...) are kInvalidArgument ("Can not
// update fields ...").
Status ApplyEventTriggerUpdate(EventTrigger& trigger, const Json& body,
                               const expr::Limits& limits = {});

// The stored record: every member above, written and read from one field list (event_trigger.cc).
// A bad record (not an object, a member of the wrong type, no id) is kInternal naming the member.
Json EventTriggerToRecord(const EventTrigger& trigger);
Result<EventTrigger> EventTriggerFromRecord(const Json& record);
// Mistral's REST shape: workflow_input/workflow_params (and a non-string input_mapping) as
// JSON-encoded strings, times "YYYY-MM-DD HH:MM:SS", `event` = type.
Json EventTriggerToRest(const EventTrigger& trigger);

// "" matches anything; "a.b.*" matches values starting with "a.b."; otherwise exact.
bool MatchesPattern(std::string_view pattern, std::string_view value);
bool TriggerMatches(const EventTrigger& trigger, const CloudEvent& event);

// workflow_input deep-merged with input_mapping evaluated against `event_json` (must give an
// object).
Result<Json> MapWorkflowInput(const EventTrigger& trigger, const Json& event_json,
                              const expr::Limits& limits = {});
// workflow_params + {"event_params": event_json} (Mistral's execution().params.event_params).
Json TriggerParams(const EventTrigger& trigger, const Json& event_json);
// The execution id a trigger gives the event with `dedupe_key`: a name-based UUID, so a redelivered
// event starts nothing twice (the engine refuses a second StartExecution for an existing id).
std::string TriggerExecutionId(const std::string& trigger_id, const std::string& dedupe_key);

}  // namespace bora::events
