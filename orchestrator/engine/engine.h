#pragma once
// The workflow engine: a pure state machine `Apply(state, event, now) -> state', commands`.
//
// Engine is immutable after construction and holds no per-execution data, so one instance may be
// shared by all threads; each call to Apply mutates only the ExecutionState it is given (the caller
// serialises calls per execution). Apply does no I/O, reads no clock and uses no randomness: ids
// come from the state's counter and time only from `now`, so replaying the same events gives the
// same states and commands.
//
// Semantics: ../../../shared/mistral-spec.md sections 1 and 3 (direct and reverse workflows,
// transitions and engine commands, error model, join, with-items, policies, publish, sub-workflows,
// ad-hoc actions, operations).
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "orchestrator/engine/project_namespace.h"
#include "orchestrator/engine/state.h"
#include "orchestrator/language/spec.h"
#include "sdk/messages/events.h"
#include "workers/action_signature.h"

namespace bora::engine {

// Where the engine finds workflow and ad-hoc action definitions. Lookups are exact: `full_name` is
// the stored name ("wb.wf" inside workbooks). The engine itself tries "<workbook>.<name>" before
// "<name>", and the execution's namespace before "". Implementations must be safe to call from
// several threads concurrently. Returned pointers share ownership of their Document, so a
// definition replaced later stays valid for the executions still using it.
class Definitions {
 public:
  virtual ~Definitions() = default;
  virtual std::shared_ptr<const lang::WorkflowSpec> FindWorkflow(
      std::string_view full_name, std::string_view namespace_name) const = 0;
  virtual std::shared_ptr<const lang::AdhocActionSpec> FindAction(
      std::string_view full_name, std::string_view namespace_name) const = 0;
};

// In-memory Definitions over parsed Documents. Add/Remove and lookups are thread-safe (a mutex).
class MemoryDefinitions final : public Definitions {
 public:
  // Registers every workflow and ad-hoc action of `document` under `namespace_name`, replacing same
  // names.
  void Add(std::shared_ptr<const lang::Document> document, const std::string& namespace_name = "");
  // Convenience: parses YAML text and adds it.
  Status AddYaml(std::string_view yaml_text, const std::string& namespace_name = "");
  // Unregisters one workflow / ad-hoc action by its full name ("wb.wf" inside workbooks) in
  // `namespace_name`; true if it was registered. Executions of it still running fail at their next
  // event (Engine::Apply).
  bool RemoveWorkflow(std::string_view full_name, std::string_view namespace_name = "");
  bool RemoveAction(std::string_view full_name, std::string_view namespace_name = "");

  std::shared_ptr<const lang::WorkflowSpec> FindWorkflow(
      std::string_view full_name, std::string_view namespace_name) const override;
  std::shared_ptr<const lang::AdhocActionSpec> FindAction(
      std::string_view full_name, std::string_view namespace_name) const override;

 private:
  mutable Mutex mu_;
  // (namespace, full name) -> spec
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const lang::WorkflowSpec>,
           std::less<>>
      workflows_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const lang::AdhocActionSpec>,
           std::less<>>
      actions_ GUARDED_BY(mu_);
};

// Bounds on one execution (ARCHITECTURE.md "Limits"). A workflow that would cross one fails with an
// ERROR whose state_info names the limit, instead of growing without end (a task that transitions to
// itself forever, a workflow that calls itself as a sub-workflow).
struct EngineLimits {
  // Task executions one workflow execution may create (loops and retried joins count each time; the
  // items of a with-items task are action executions of one task and do not count).
  int64_t max_tasks_per_execution = 100'000;
  // Nesting of sub-workflow executions: a top-level execution is depth 0, its sub-workflows depth 1...
  int max_subworkflow_depth = 32;
  // A task whose action no worker has declared (workers/external_actions.h) waits this many seconds
  // for a declaration (RUNNING_DELAYED, re-checked every 1..5 s), then fails "Failed to find
  // action". 0: it fails at once, as in Mistral and `bora run` (no worker can ever come).
  int64_t undeclared_action_wait_s = 0;
};

class Engine {
 public:
  // Both must outlive the Engine. `actions` is used for signatures only (input validation, async
  // flag).
  Engine(const Definitions* definitions, const workers::ActionSignatures* actions,
         EngineLimits limits = EngineLimits());

  const EngineLimits& limits() const { return limits_; }

  // Applies one event to `state`, appending the resulting commands to `out`.
  //
  // StartExecution must be applied to a default-constructed state. A top-level execution with
  // invalid input (missing required / undeclared parameters), an unknown workflow, or a reverse
  // workflow without a valid `task_name` returns kInvalidArgument ("Invalid input ...") / kNotFound
  // and leaves `state` untouched (no execution exists, the API answers 400/404). A sub-workflow
  // (parent ids set) with such a problem instead becomes an ERROR execution and emits
  // ExecutionFinished, so its parent task fails.
  //
  // Operations that are not allowed in the current state (rerun of a non-ERROR task, resume of a
  // running execution...) return kFailedPrecondition and change nothing. Events for finished
  // executions that are no longer relevant (late action completions, stale timers) are accepted and
  // recorded, returning OK. Any non-OK return leaves `state` unchanged and `out` untouched.
  //
  // An event for an execution whose workflow definition is gone (deleted while it ran) records an
  // action result on its action execution and fails the execution (unfinished tasks ERROR), naming
  // the deleted definition: it cannot go on, and waiting would hang it without a word.
  Status Apply(ExecutionState& state, const Event& event, TimestampUs now,
               std::vector<Command>* out) const;

  // Validates `input` against the workflow's declared input (fills defaults). For API pre-checks.
  Result<Json> ValidateWorkflowInput(const lang::WorkflowSpec& spec, const Json& input) const;

  // Finds the workflow a task/workflow name refers to from a workflow in `workbook` /
  // `namespace_name`.
  std::shared_ptr<const lang::WorkflowSpec> ResolveWorkflow(std::string_view name,
                                                            std::string_view workbook,
                                                            std::string_view namespace_name) const;

 private:
  const Definitions* definitions_;
  const workers::ActionSignatures* actions_;
  EngineLimits limits_;
};

}  // namespace bora::engine
