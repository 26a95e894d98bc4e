#pragma once
// The engine's contract: Events in (what happened), Commands out (what the runtime must do next).
// Plain value types; safe to copy and move between threads. Engine::Apply (engine.h) consumes one
// Event and appends Commands. The runtime executes Commands *after* persisting the new
// ExecutionState.
//
// Contract summary (see README.md):
//  - RunAction: run `action_name` with `input`; reply with ActionCompleted (same ids). Async
//  actions reply later.
//  - StartSubWorkflow: create a new ExecutionState (default-constructed) and Apply `start` to it.
//  - SetTimer / CancelTimer: deliver TimerFired{execution_id, timer_id} at/after `fire_at` unless
//  cancelled.
//    A TimerFired for an unknown / cancelled timer is ignored, so cancelling is best-effort.
//  - ExecutionFinished: the execution reached SUCCESS / ERROR / CANCELLED. If it has a parent, the
//  runtime turns
//    it into SubWorkflowCompleted for the parent execution.
//  - ControlSubExecution: pause / resume / cancel / purge a child execution (Apply
//  Pause/Resume/Cancel/PurgeExecution to it).
//  - NotifyParent: the execution paused or resumed; the runtime turns it into SubWorkflowUpdated
//  for the parent execution.
//  - DeleteExecution: remove the execution's stored state (after a PurgeExecution was accepted);
//  later events for it find no execution.
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "sdk/messages/state.h"

namespace bora::engine {

// -----------------------------------------------------------------------------------------------
// events

// Starts a new execution. Apply it to a default-constructed ExecutionState.
struct StartExecution {
  std::string execution_id;   // chosen by the caller (API) or derived by the parent engine
  std::string workflow_name;  // as given by the user; resolved in `workflow_namespace`, then ""
  std::string workflow_namespace;  // "" = default (qualified by a project: project_namespace.h)
  // The project the execution belongs to and the user who started it ("" = the default project);
  // the engine copies them to sub-workflows.
  std::string project_id;
  std::string user_id;
  // The caller's security context for actions, or null: {project_id, user_id, project_name,
  // user_name, auth_token (the caller's Keystone token, when the API has one)}. Sub-workflows
  // inherit it; every RunAction of the execution carries it.
  Json security = nullptr;
  Json input = JsonObject();
  // Extra params: "env" (object), "task_name" (reverse workflows), "namespace", anything else is
  // kept.
  Json params = JsonObject();
  std::string description;
  // Sub-workflows only.
  std::string parent_execution_id;
  std::string parent_task_execution_id;
  std::string root_execution_id;
  int parent_item_index = 0;
  int depth = 0;  // nesting below the top-level execution (EngineLimits::max_subworkflow_depth)
  bool report_tasks = false;  // ExecutionState::report_tasks
};

// An action execution finished (also used by the API to complete async actions).
struct ActionCompleted {
  enum class Kind { kSuccess, kError, kCancelled };
  std::string execution_id;
  std::string task_execution_id;
  std::string action_execution_id;
  Kind kind = Kind::kSuccess;
  Json data;  // result on success, error data on error
};

// A child execution finished (the runtime builds this from the child's ExecutionFinished).
struct SubWorkflowCompleted {
  std::string execution_id;  // the parent execution
  std::string task_execution_id;
  std::string sub_execution_id;
  State state = State::kSuccess;  // SUCCESS, ERROR or CANCELLED
  Json output = JsonObject();
  std::optional<std::string> state_info;
  Json tasks;  // the child's reported tasks (ActionExecution::sub_tasks), null when not reported
};

struct TimerFired {
  std::string execution_id;
  std::string timer_id;
};

struct PauseExecution {
  std::string execution_id;
};

struct ResumeExecution {
  std::string execution_id;
  std::optional<Json> env;  // merged (deep) into params.env when given
};

struct CancelExecution {
  std::string execution_id;
  std::optional<std::string> state_info;
};

// PUT /v2/executions/{id} {"state": SUCCESS|ERROR|CANCELLED, "state_info": ...}.
struct StopExecution {
  std::string execution_id;
  State state = State::kCancelled;
  std::optional<std::string> state_info;
};

// PUT /v2/tasks/{id} {"state": "RUNNING", "reset": bool, "env": {...}}: rerun an ERROR task.
struct RerunTask {
  std::string execution_id;
  std::string task_execution_id;
  bool reset = true;
  std::optional<Json> env;  // merged into params.env
};

// PUT /v2/tasks/{id} {"state": "SKIPPED"}: skip an ERROR task.
struct SkipTask {
  std::string execution_id;
  std::string task_execution_id;
};

// A child execution paused or resumed (the runtime builds this from the child's NotifyParent): the
// parent's task shows it (PAUSED while any of its children is paused), the parent pauses with it
// and resumes once none of its tasks is paused, as in Mistral.
struct SubWorkflowUpdated {
  std::string execution_id;  // the parent execution
  std::string task_execution_id;
  std::string sub_execution_id;
  State state = State::kPaused;  // PAUSED or RUNNING
};

// Removes a completed execution and, through ControlSubExecution, its sub-workflow executions
// (execution retention, DELETE /v2/executions/{id}). Refused while the execution is not completed.
struct PurgeExecution {
  std::string execution_id;
};

using Event = std::variant<StartExecution, ActionCompleted, SubWorkflowCompleted, TimerFired,
                           PauseExecution, ResumeExecution, CancelExecution, StopExecution,
                           RerunTask, SkipTask, PurgeExecution, SubWorkflowUpdated>;

// The name of each Event alternative, in variant order ("StartExecution", "ActionCompleted", ...):
// the `type` of its bus message (sdk/protocol).
inline constexpr std::string_view kEventNames[] = {
    "StartExecution", "ActionCompleted", "SubWorkflowCompleted", "TimerFired",
    "PauseExecution", "ResumeExecution", "CancelExecution",      "StopExecution",
    "RerunTask",      "SkipTask",        "PurgeExecution",       "SubWorkflowUpdated"};
static_assert(std::size(kEventNames) == std::variant_size_v<Event>);

// The execution id an event is addressed to.
const std::string& EventExecutionId(const Event& event);
// "StartExecution", "ActionCompleted", ... (for logs).
std::string_view EventName(const Event& event);

// ----------------------------------------------------------------------------------------------
// commands

struct RunAction {
  std::string execution_id;
  std::string workflow_name;
  std::string task_execution_id;
  std::string task_name;
  std::string action_execution_id;
  std::string action_name;    // concrete registered action (after ad-hoc expansion)
  Json input = JsonObject();  // validated, defaults filled in
  std::string target;         // executor pool / host (`target:`), empty = default
  int64_t timeout_s = 0;    // `timeout:` policy in seconds, 0 = none (the engine also sets a timer)
  bool safe_rerun = false;  // a redelivered run may be re-run instead of failed
  bool is_async = false;    // the action completes later through the API
  int attempt = 0;
  Json security = nullptr;  // the execution's security context (StartExecution::security), or null
};

struct StartSubWorkflow {
  std::string sub_execution_id;
  StartExecution start;  // start.execution_id == sub_execution_id; parent ids filled in
};

struct SetTimer {
  std::string execution_id;
  std::string timer_id;
  TimestampUs fire_at = 0;
};

struct CancelTimer {
  std::string execution_id;
  std::string timer_id;
};

struct ExecutionFinished {
  std::string execution_id;
  std::string workflow_name;
  State state = State::kSuccess;
  Json output = JsonObject();
  std::optional<std::string> state_info;
  std::string parent_execution_id;  // empty for top-level executions
  std::string parent_task_execution_id;
  std::string root_execution_id;
  Json tasks;  // with report_tasks: ActionExecution::sub_tasks for the parent, else null
};

struct ControlSubExecution {
  enum class Op { kPause, kResume, kCancel, kPurge };
  std::string execution_id;      // the parent
  std::string sub_execution_id;  // the child to act on
  Op op = Op::kPause;
};

// The execution was purged: the runtime deletes its stored state (and its task / action ids) in the
// same commit, and forgets it.
struct DeleteExecution {
  std::string execution_id;
};

// A sub-workflow paused (its pause command, pause-before, a request) or resumed: the runtime
// delivers SubWorkflowUpdated to its parent.
struct NotifyParent {
  std::string execution_id;  // the sub-workflow
  std::string parent_execution_id;
  std::string parent_task_execution_id;
  State state = State::kPaused;  // PAUSED or RUNNING
};

using Command = std::variant<RunAction, StartSubWorkflow, SetTimer, CancelTimer, ExecutionFinished,
                             ControlSubExecution, DeleteExecution, NotifyParent>;

std::string_view CommandName(const Command& command);

}  // namespace bora::engine
