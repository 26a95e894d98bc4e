#pragma once
// INTERNAL to orchestrator/engine: not part of the module's interface, included only by the
// engine's own sources (engine.cc and runner_*.cc); nothing outside orchestrator/engine/ may
// include it.
//
// The Runner applies one event to one execution (Engine::Apply builds one per call). Its small
// helpers are defined inline below; its other member functions live in the file of their seam:
//   engine.cc               the expression host (task(), tasks(), execution(), env(), global())
//                           and Engine's public methods
//   runner_start.cc         execution start and input, task creation and start (pause-before,
//                           wait-before, timeout, with-items launch), sub-workflow start, action
//                           run and ad-hoc action expansion
//   runner_completion.cc    action / sub-workflow completion, task finalisation, fail-on, retry,
//                           wait-after, publish, force-fail
//   runner_transitions.cc   transitions and their dispatch, joins, reverse workflows
//   runner_workflow.cc      workflow completion and output, final context, failure text, the
//                           tasks report, children control and notifications to the parent
//   runner_operations.cc    timers, pause, resume, sub-workflow updates, stop, rerun, skip
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/engine/engine.h"
#include "orchestrator/expressions/expressions.h"

namespace bora::engine {

using lang::TransitionItem;

inline constexpr int64_t kUsPerSecond = 1000000;
// The state_info of a task that fail-on failed (Mistral's text).
inline constexpr std::string_view kFailedByFailOn = "Failed by 'fail-on' policy";

inline std::string JoinNames(const std::vector<std::string>& names, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += sep;
    out += names[i];
  }
  return out;
}

// Python repr of a list of strings: ['a', 'b'].
inline std::string PyList(const std::vector<std::string>& names) {
  JsonArray arr;
  for (const auto& n : names) arr.push_back(Json(n));
  return PythonRepr(Json(std::move(arr)));
}

// Shallow overlay of `src`'s keys onto `dst` (both objects).
inline void Overlay(JsonObject& dst, const Json& src) {
  if (!src.is_object()) return;
  for (const auto& kv : src.get_object()) dst[kv.key()] = kv.value();
}

// A msg / state_info value as text: strings as-is, containers JSON-encoded.
inline std::string MessageText(const Json& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_object() || v.is_array()) return PythonJsonDumps(v);
  return PythonStr(v);
}

// An expression value that must be a non-negative integer (policies).
inline Result<int64_t> ToNonNegativeInt(const Json& v, std::string_view what) {
  if (v.is_int64() && v.get_int64() >= 0) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  if (v.is_double() && v.get_double() >= 0 &&
      v.get_double() == static_cast<int64_t>(v.get_double())) {
    return static_cast<int64_t>(v.get_double());
  }
  if (v.is_string()) {
    try {
      size_t pos = 0;
      long long n = std::stoll(std::string(v.get_string()), &pos);
      if (pos == v.get_string().size() && n >= 0) return static_cast<int64_t>(n);
    } catch (...) {
    }
  }
  return InvalidArgument(std::string(what) + " must be an integer >= 0, got " + PythonRepr(v));
}

struct FiredItem {
  TransitionItem::Kind kind;
  std::string task_name;
  std::optional<std::string> msg;
  std::string event;
};

class Runner;

// expr::Host over the execution state: task(), tasks(), execution(), env(), global().
class StateHost final : public expr::Host {
 public:
  StateHost(Runner* runner, std::optional<size_t> current) : runner_(runner), current_(current) {}
  Result<Json> Call(std::string_view name, std::span<const Json> args,
                    const expr::KwArgs& kwargs) override;

 private:
  Runner* runner_;
  std::optional<size_t> current_;
};

// One Apply call: references to the state, the spec and the output.
class Runner {
 public:
  Runner(const Engine* engine, const Definitions* defs, const workers::ActionSignatures* actions,
         ExecutionState& st, std::shared_ptr<const lang::WorkflowSpec> spec, TimestampUs now,
         std::vector<Command>* out)
      : engine_(engine),
        defs_(defs),
        actions_(actions),
        st_(st),
        spec_(std::move(spec)),
        now_(now),
        out_(out) {}

  ExecutionState& st() { return st_; }
  const lang::WorkflowSpec& spec() const { return *spec_; }

  // ------------------------------------------------------------------------------------ evaluation
  // `$` for expressions: input < global context < extra < inbound (each later layer wins).
  Json BaseData() const {
    JsonObject d;
    Overlay(d, st_.input);
    Overlay(d, st_.global_context);
    return d;
  }

  Json TaskData(size_t ti, const Json* extra = nullptr, bool outbound = false) const {
    Json d = BaseData();
    if (extra) Overlay(d.get_object(), *extra);
    const TaskExecution& t = st_.tasks[ti];
    Overlay(d.get_object(), t.in_context);
    if (outbound) Overlay(d.get_object(), t.published);
    return d;
  }

  // The same layers as TaskData without copying them (see expr::Scope): for evaluations during
  // which nothing changes the input, the global context or the task list.
  expr::Scope TaskScope(size_t ti, const Json* extra = nullptr) const {
    expr::Scope scope;
    scope.Push(st_.input);
    scope.Push(st_.global_context);
    if (extra) scope.Push(*extra);
    scope.Push(st_.tasks[ti].in_context);
    return scope;
  }

  Result<Json> Eval(const expr::Template& tmpl, const expr::Scope& scope,
                    std::optional<size_t> current) {
    StateHost host(this, current);
    expr::EvalContext ctx;
    ctx.scope = &scope;
    ctx.host = &host;
    ctx.clock = &expression_clock_;
    return tmpl.Evaluate(ctx);
  }

  Result<Json> Eval(const expr::Template& tmpl, const Json& data, std::optional<size_t> current) {
    StateHost host(this, current);
    expr::EvalContext ctx;
    ctx.data = &data;
    ctx.host = &host;
    ctx.clock = &expression_clock_;
    return tmpl.Evaluate(ctx);
  }

  // ------------------------------------------------------------------------------- small helpers
  void Emit(Command c) { out_->push_back(std::move(c)); }

  void Touch(TaskExecution& t) { t.updated_at = now_; }

  // Every access to a task or an action execution that may change it goes through these (reads too,
  // where it is simpler: a needless mark only costs a store a serialisation). See
  // TaskExecution::revision.
  TaskExecution& MutTask(size_t ti) {
    TaskExecution& t = st_.tasks[ti];
    t.revision = NextRevision();
    return t;
  }

  ActionExecution& MutAction(size_t ti, size_t ai) {
    TaskExecution& t = MutTask(ti);
    ActionExecution& a = t.actions[ai];
    a.revision = NextRevision();
    st_.ListChangedAction(ti, ai);
    return a;
  }

  void MarkActions(size_t ti) {
    for (auto& a : MutTask(ti).actions) a.revision = NextRevision();
    st_.ListAllActionsChanged(ti);
  }

  void SetTaskState(size_t ti, State s) {
    TaskExecution& t = MutTask(ti);
    bool was = IsCompleted(t.state);
    bool is = IsCompleted(s);
    if (was && !is) ++st_.index.incomplete_tasks;
    if (!was && is) --st_.index.incomplete_tasks;
    t.state = s;
    Touch(t);
    if (is) t.finished_at = now_;
  }

  std::string SetTimerFor(size_t ti, TimerInfo::Kind kind, int64_t seconds) {
    std::string timer_id = st_.NextId();
    TimestampUs fire_at = now_ + seconds * kUsPerSecond;
    st_.timers[timer_id] = TimerInfo{kind, MutTask(ti).id, fire_at, false};
    Emit(SetTimer{st_.id, timer_id, fire_at});
    return timer_id;
  }

  void CancelTimerIfAny(std::string& timer_id) {
    if (timer_id.empty()) return;
    if (st_.timers.erase(timer_id) > 0) Emit(CancelTimer{st_.id, timer_id});
    timer_id.clear();
  }

  bool WfRunning() const { return st_.state == State::kRunning; }

  std::string RunError(size_t ti, const std::string& error) const {
    return "Failed to run task [error=" + error + ", wf=" + st_.workflow_name +
           ", task=" + st_.tasks[ti].name + "]";
  }

  std::string CompleteError(size_t ti, const std::string& error) const {
    return "Failed to complete task [error=" + error + ", wf=" + st_.workflow_name +
           ", task=" + st_.tasks[ti].name + "]";
  }

  // Whether this execution keeps its finished sub-executions' tasks: it reads tasks(recursive) or
  // reports them to a parent that does.
  bool KeepsSubTasks() const { return (spec_ && spec_->reads_sub_tasks) || st_.report_tasks; }

  // ----------------------------------------------------------------------------------- resolution
  std::shared_ptr<const lang::WorkflowSpec> FindWorkflow(std::string_view name) const {
    return engine_->ResolveWorkflow(name, spec_->workbook, st_.workflow_namespace);
  }

  // Expands an action call through ad-hoc definitions to a concrete registered action.
  struct ConcreteAction {
    std::string name;
    std::string adhoc_name;
    Json input;
    bool is_async = false;
    std::string pool;  // an external action's pool (ActionSignature::pool)
  };

  // ------------------------------------------------------------------- host helpers (engine.cc)
  Json TaskSpecJson(const std::string& name) const;
  Json TaskDict(const TaskExecution& t) const;
  Result<Json> Tasks(const Json* wf_id, const Json* recursive, const Json* state,
                     const Json* flat) const;
  Json ExecutionDict() const;

  // -------------------------------------------------------------------- start (runner_start.cc)
  std::shared_ptr<const lang::AdhocActionSpec> FindAdhoc(std::string_view name,
                                                         std::string_view workbook) const;
  Result<ConcreteAction> ExpandAction(const std::string& name, Json input,
                                      const expr::Scope& wf_data);
  Result<Json> TransformAdhocOutput(const std::string& adhoc_name, Json raw);
  Status Start(const StartExecution& ev);
  void StartTask(const std::string& name, Json in_ctx, std::map<std::string, int64_t> versions,
                 std::optional<TriggeredBy> trig);
  bool WithinTaskLimit(const std::string& name);
  size_t NewTask(const std::string& name, State s);
  void RunTaskPolicies(size_t ti);
  void RunTaskBody(size_t ti);
  void LaunchPendingItems(size_t ti);
  bool LaunchOne(size_t ti, int64_t index, const Json* extra);
  bool AwaitDeclaration(size_t ti, const std::string& action_name);
  void AddAction(size_t ti, ActionExecution a);

  // ---------------------------------------------------------- completion (runner_completion.cc)
  Status OnActionCompleted(const ActionCompleted& ev);
  Status OnSubWorkflowCompleted(const SubWorkflowCompleted& ev);
  bool ReopenForChildRerun(size_t ti, size_t ai, State new_state);
  Status ChildDone(size_t ti, size_t ai);
  void ContinueTask(size_t ti);
  void AfterActionsComplete(size_t ti, State s, std::optional<std::string> info);
  Result<std::pair<JsonObject, JsonObject>> ComputePublish(size_t ti, State s, const Json& data);
  static State PublishState(State s, const std::optional<std::string>& info);
  void Finalize(size_t ti, State s, std::optional<std::string> info);
  void ProcessCompleted(size_t ti);
  void ForceFail(size_t ti, std::string msg);

  // ---------------------------------------- transitions, joins, reverse (runner_transitions.cc)
  const std::vector<std::string>& InboundOf(const std::string& name);
  Result<std::vector<FiredItem>> EvalClause(const std::optional<lang::OnClause>& clause,
                                            const char* event, const Json& data, size_t ti);
  void ProcessTransitions(size_t ti);
  void Dispatch(size_t ti, const std::vector<FiredItem>& fired);
  void StartNext(const std::string& name, const std::string& from_task_id,
                 const std::string& event);
  State InducedJoinState(const std::string& inbound, const std::string& join_name);
  bool PossibleRoute(const std::string& name, std::set<std::string>& visited);
  void EvaluateJoins();
  bool EvaluateJoin(size_t ti, bool force);
  void ReverseContinue();

  // --------------------------------------------------- workflow completion (runner_workflow.cc)
  std::optional<std::string> DefaultFailInfo() const;
  std::string FailureMessage() const;
  void CheckCompletion();
  Json FinalContext(bool failed = false) const;
  void CompleteWorkflow(State s, std::optional<std::string> info);
  Json ReportedTasks() const;
  void AppendOwnTasks(JsonArray& out) const;
  void AppendSubTasks(JsonArray& out) const;
  void ForEachRunningChild(ControlSubExecution::Op op, const std::string& except = {});
  void NotifyParentIfAny(State s);
  void EnterPaused(const std::string& except = {});
  void CancelChildren();

  // ----------------------------------------------- timers and operations (runner_operations.cc)
  Status OnTimer(const TimerFired& ev);
  void HandleTimer(const std::string& timer_id, const TimerInfo& info);
  Status Pause();
  Status Resume(const ResumeExecution& ev);
  Status OnSubWorkflowUpdated(const SubWorkflowUpdated& ev);
  void ResumeRunning(const std::string& except = {});
  Status Stop(State s, std::optional<std::string> info);
  // The execution's workflow definition is gone (deleted while it ran; the Runner has no spec): an
  // action result is still recorded on its action execution, and an execution not yet completed
  // fails with `why`, its unfinished tasks ERROR, instead of refusing every event from now on.
  Status OnDefinitionGone(const Event& event, const std::string& why);
  Status Rerun(const RerunTask& ev);
  Status Skip(const SkipTask& ev);

  std::optional<size_t> current_task_;

 private:
  const Engine* engine_;
  const Definitions* defs_;
  const workers::ActionSignatures* actions_;
  ExecutionState& st_;
  std::shared_ptr<const lang::WorkflowSpec> spec_;
  TimestampUs now_;
  // YAQL's now() reads the event's time, so applying an event twice gives the same state.
  ManualClock expression_clock_{now_};
  std::vector<Command>* out_;
  std::optional<std::map<std::string, std::vector<std::string>>> inbound_;  // lazily built
};

}  // namespace bora::engine
