#pragma once
// Execution state of one workflow execution: plain, serialisable value types (the state will live
// in Redis).
//
// An ExecutionState is owned by whoever applies events to it (one partition thread in the runtime);
// it is never shared between threads while being mutated. Engine::Apply (engine.h) is the only code
// that mutates it; readers (API, conformance runner, tests) read a copy or read between Apply
// calls.
//
// Layout: tasks are kept in creation order in `tasks`; each task keeps its action executions (or
// sub-workflow executions) in `actions`. Derived lookup indexes (by id / by name) live in
// `ExecutionState::index`; they are not serialised and are rebuilt by FromJson() / RebuildIndex().
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "sdk/messages/state.h"

namespace bora::engine {

// A process-wide increasing number, never 0 (TaskExecution::revision); stores compare revisions for
// equality only. Thread-safe.
uint64_t NextRevision();

// One run of an action (or of a sub-workflow) on behalf of a task. With-items tasks have one per
// item and attempt; retries and reruns add new ones and mark the superseded ones accepted=false.
struct ActionExecution {
  std::string id;            // UUID-shaped, deterministic
  std::string name;          // concrete action name ("std.echo"), or the sub-workflow's full name
  std::string adhoc_name;    // the ad-hoc action the task named (full name), empty if none
  bool is_workflow = false;  // true: `id` is the sub-workflow execution id
  int index = 0;             // with-items item index (0 otherwise)
  State state = State::kRunning;  // RUNNING, SUCCESS, ERROR, CANCELLED (PAUSED for async actions)
  bool accepted = true;           // false once superseded by a retry / rerun
  Json input;   // the input sent to the action (after ad-hoc expansion) / sub-workflow input
  Json output;  // Mistral's output: {"result": data|error} for actions; sub-workflow output
  std::optional<std::string> state_info;
  int attempt = 0;  // redelivery attempt counter (RunAction.attempt)
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
  // A finished sub-workflow's tasks and its own sub-executions' (depth first), kept only when the
  // workflow reads them (tasks(..., recursive)): [{"task": <Mistral task dict>, "sub_states":
  // [state of each of that task's sub-executions]}]. Null otherwise.
  Json sub_tasks;
  // Not stored: see TaskExecution::revision.
  uint64_t revision = 0;
};

// with-items bookkeeping of one task execution (counters make per-completion work O(1)).
struct WithItemsState {
  bool enabled = false;
  Json items;         // object: var name -> array of values (evaluated once when the task starts)
  int64_t count = 0;  // number of items
  int64_t concurrency = 0;       // 0 = unlimited
  std::vector<int64_t> pending;  // item indexes still to launch, in launch order (front = next)
  size_t pending_pos = 0;        // next position in `pending`
  int64_t running = 0;           // launched and not completed (accepted executions only)
  int64_t succeeded = 0;
  int64_t failed = 0;
  int64_t cancelled = 0;
  // Not stored: a new value (NextRevision) whenever `items` is set (see TaskExecution::revision), so a
  // store can keep the items, written once, out of the task head it writes on every change.
  uint64_t items_revision = 0;
};

struct TriggeredBy {
  std::string task_id;
  std::string event;  // "on-success", "on-error", "on-complete", "on-skip"
};

// One execution of a task (a task name may run several times in cycles).
struct TaskExecution {
  enum class Type { kAction, kWorkflow };

  std::string id;
  std::string name;
  Type type = Type::kAction;
  bool is_join = false;  // a `join` task: one execution per workflow execution
  State state = State::kIdle;
  std::optional<std::string> state_info;

  Json in_context = JsonObject();  // inbound context (branch variables), an object
  Json published = JsonObject();   // variables published by this task (branch scope)
  Json published_global = JsonObject();
  // Publish counters per top-level key along the branch (context versioning for joins).
  std::map<std::string, int64_t> context_versions;

  std::vector<ActionExecution> actions;  // creation order
  WithItemsState with_items;

  // runtime_context.
  int retry_no = 0;            // re-runs done by the retry policy
  bool retry_started = false;  // retry policy context exists (retry_no counts)
  std::vector<TriggeredBy> triggered_by;
  bool keep_result = true;
  bool safe_rerun = false;

  // Completion bookkeeping.
  bool processed = false;       // transitions evaluated
  bool error_handled = false;   // an on-error item fired
  bool has_next_tasks = false;  // some transition (task or command) fired
  bool force_failed = false;    // failed by an expression/input error: workflow fails regardless
  std::vector<std::string> next_task_names;  // tasks this execution routed to (for joins)
  State final_state = State::kIdle;  // the state to complete with after wait-after (internal)
  bool paused_before = false;        // pause-before already honoured
  std::string pending_timer_id;      // wait-before / wait-after / retry delay timer
  std::string timeout_timer_id;      // timeout policy timer
  // When the task began waiting for a worker to declare its action (EngineLimits::
  // undeclared_action_wait_s); 0 when it is not waiting.
  TimestampUs awaiting_action_since = 0;

  TimestampUs created_at = 0;
  TimestampUs started_at = 0;
  TimestampUs finished_at = 0;
  TimestampUs updated_at = 0;

  // Not stored, not compared: a new value (NextRevision) whenever the engine may have changed this task
  // (its head; each action execution has its own), 0 as loaded. A store that remembers the revision it
  // last wrote skips serialising a task, or an action, whose revision did not move. The engine marks every
  // access that can write (Runner::MutTask / MutAction); code outside the engine must not change a task
  // it does not give a new revision.
  uint64_t revision = 0;
  // Not stored, not compared: which action executions got a new revision (indexes, possibly repeated) since
  // the runtime last called ClearChangeLists(), or all of them (`all_actions_changed`). Lets a store look at
  // the changed actions of a with-items task of many items, not at every one. Actions appended since are not
  // listed (a store tells them by their index).
  std::vector<uint32_t> changed_actions;
  bool all_actions_changed = false;

  // Mistral's task result: one accepted execution ⇒ its result, several (or with-items) ⇒ list in
  // item order, workflow task ⇒ the sub-workflow output; null when keep-result is false or nothing
  // ran.
  Json Result() const;
  // Mistral's runtime_context dict ({"retry_task_policy": {"retry_no": n}, "triggered_by": [...],
  // "with_items": {...}}).
  Json RuntimeContextJson() const;
  // in_context shallow-updated with published.
  Json OutboundContext() const;
};

// A timer the engine asked for (SetTimer); TimerFired looks it up here.
struct TimerInfo {
  enum class Kind { kWaitBefore, kWaitAfter, kRetry, kTimeout, kAwaitAction };
  Kind kind = Kind::kWaitBefore;
  std::string task_execution_id;
  TimestampUs fire_at = 0;
  bool fired = false;  // fired while the execution was paused; handled on resume
};

// A task start postponed by a `pause` engine command, replayed on resume.
struct BackloggedStart {
  std::string task_name;
  std::string triggered_by_task_id;
  std::string event;
};

// Derived lookups, rebuilt by ExecutionState::RebuildIndex(); never serialised.
struct ExecutionIndex {
  std::unordered_map<std::string, size_t> task_by_id;  // task id -> position in tasks
  std::unordered_map<std::string, size_t>
      latest_task_by_name;  // name -> position of the latest execution
  std::unordered_map<std::string, std::vector<size_t>> tasks_by_name;
  // action / sub-workflow execution id -> (task position, position in actions)
  std::unordered_map<std::string, std::pair<size_t, size_t>> action_by_id;
  std::unordered_map<std::string, size_t>
      join_task_by_name;         // the (only) join task execution of a name
  int64_t incomplete_tasks = 0;  // tasks not in a completed state
};

// Everything of a workflow execution but its tasks: what listings and live views read
// (StateStore::ReadExecutionHead), copied without touching the tasks.
struct ExecutionHead {
  std::string id;
  std::string workflow_name;       // full name ("wb.wf")
  // "" = default; qualified by the project of the workflow's definition (project_namespace.h)
  std::string workflow_namespace;
  // The project the execution belongs to and the user who started it (Keystone ids; sub-workflows
  // inherit both). "" (states stored before projects existed, no Keystone) = the default project.
  std::string project_id;
  std::string user_id;
  // The security context for actions (StartExecution::security), or null. Holds the caller's
  // Keystone token when the API had one: stored with the state (Redis, the data directory), as
  // Mistral keeps it in its database; it expires with the token (no trusts yet).
  Json security = nullptr;
  std::string description;
  std::string parent_execution_id;       // empty for a top-level execution
  std::string parent_task_execution_id;  // the parent's task execution id
  std::string root_execution_id;         // empty for a top-level execution (Mistral's convention)
  int parent_item_index = 0;             // with-items index of this sub-workflow in its parent task
  int depth = 0;                         // sub-workflow nesting: 0 for a top-level execution
  // Report this execution's tasks (and its sub-executions') to the parent when finished: an
  // ancestor reads tasks(..., recursive).
  bool report_tasks = false;

  Json input = JsonObject();   // validated input with defaults
  Json params = JsonObject();  // {"namespace": "", "env": {...}, "task_name": ..., ...}
  State state = State::kIdle;
  std::optional<std::string> state_info;
  Json output = JsonObject();
  Json global_context = JsonObject();  // `vars` + global publishes

  std::map<std::string, TimerInfo> timers;  // live timers by id
  std::vector<BackloggedStart> backlog;     // task starts held back by a `pause` command
  bool finished_notified = false;  // ExecutionFinished already emitted for the current completion

  uint64_t id_counter = 0;  // for deterministic ids
  TimestampUs created_at = 0;
  TimestampUs updated_at = 0;
};

// The whole state of one workflow execution: its head and its tasks.
struct ExecutionState : ExecutionHead {
  std::vector<TaskExecution> tasks;  // creation order

  ExecutionIndex index;  // derived
  // Not stored: indexes of the tasks whose change list is not empty (changed_actions or
  // all_actions_changed), so ClearChangeLists visits those instead of every task of the execution.
  std::vector<uint32_t> tasks_with_change_lists;

  // Rebuilds `index` from `tasks`.
  void RebuildIndex();
  // Lists action `ai` of task `ti` as changed (TaskExecution::changed_actions), or every action of it.
  void ListChangedAction(size_t ti, size_t ai);
  void ListAllActionsChanged(size_t ti);
  // Empties every task's change list (TaskExecution::changed_actions): the runtime calls it once a store has
  // taken the state's changes (after it sent the commit), so the lists do not grow. Costs the number of
  // tasks listed in tasks_with_change_lists, not the number of tasks.
  void ClearChangeLists();
  // The latest task execution with this name, or nullptr.
  const TaskExecution* FindLatestTask(std::string_view name) const;
  TaskExecution* FindTaskById(std::string_view id);
  const TaskExecution* FindTaskById(std::string_view id) const;
  // Next deterministic UUID-shaped id (derived from `id` and `id_counter`).
  std::string NextId();
  const Json& Env() const;  // params.env, or an empty object

  // Serialisation (all fields except `index`). FromJson rebuilds the index.
  Json ToJson() const;
  // The same document as compact JSON text, byte-identical to DumpJson(ToJson()) but written
  // directly (no Json tree): what the state store writes. Both come from one field list.
  std::string ToJsonText() const;
  // Appends ToJsonText() to `out` (lets a caller reuse one buffer).
  void AppendJsonText(std::string& out) const;
  static Result<ExecutionState> FromJson(const Json& json);
  // A state holding this one's head and no tasks (an empty index): copies no task.
  ExecutionState CopyHead() const {
    ExecutionState head;
    static_cast<ExecutionHead&>(head) = *this;
    return head;
  }

  // Split serialisation, for stores that write only the tasks that changed: the head is
  // ToJsonText() with "task_count" in place of "tasks"; a task's text is its element of "tasks".
  void AppendHeadJsonText(std::string& out) const;
  static void AppendTaskJsonText(const TaskExecution& task, std::string& out);
  // FromJson of a head and its tasks (in order); refuses a head whose task_count differs.
  static Result<ExecutionState> FromJsonParts(Json head, std::vector<Json> tasks);
  // One level down, for tasks with many action executions (with-items): a task's head is its text
  // with "action_count" in place of "actions"; TaskFromJsonParts joins a head and its actions' JSON
  // (in order) into the task's JSON, refusing a head whose action_count differs.
  // A with-items task's head also leaves out the (large, set-once) `with_items.items`, marked
  // "items_split": AppendItemsJsonText writes them, and TaskFromJsonParts takes them back (refusing a
  // head that says they were split when none are given).
  static void AppendTaskHeadJsonText(const TaskExecution& task, std::string& out);
  static void AppendActionJsonText(const ActionExecution& action, std::string& out);
  static void AppendItemsJsonText(const TaskExecution& task, std::string& out);
  // Whether AppendTaskHeadJsonText leaves `task`'s items out.
  static bool ItemsSplit(const TaskExecution& task);
  static Result<Json> TaskFromJsonParts(Json head, std::vector<Json> actions,
                                        std::optional<Json> items = std::nullopt);
};

// A UUID-shaped id derived deterministically from `seed` and `counter` (hash-based, version-4
// layout).
std::string DeriveId(std::string_view seed, uint64_t counter);

}  // namespace bora::engine
