#include "orchestrator/engine/engine.h"

#include <algorithm>
#include <functional>
#include <set>
#include <utility>

#include "orchestrator/expressions/expressions.h"

namespace bora::engine {

namespace {

using lang::TransitionItem;

constexpr int64_t kUsPerSecond = 1000000;
// The state_info of a task that fail-on failed (Mistral's text).
constexpr std::string_view kFailedByFailOn = "Failed by 'fail-on' policy";

std::string JoinNames(const std::vector<std::string>& names, std::string_view sep = ", ") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += sep;
    out += names[i];
  }
  return out;
}

// Python repr of a list of strings: ['a', 'b'].
std::string PyList(const std::vector<std::string>& names) {
  JsonArray arr;
  for (const auto& n : names) arr.push_back(Json(n));
  return PythonRepr(Json(std::move(arr)));
}

// Shallow overlay of `src`'s keys onto `dst` (both objects).
void Overlay(JsonObject& dst, const Json& src) {
  if (!src.is_object()) return;
  for (const auto& kv : src.get_object()) dst[kv.key()] = kv.value();
}

// A msg / state_info value as text: strings as-is, containers JSON-encoded.
std::string MessageText(const Json& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_object() || v.is_array()) return PythonJsonDumps(v);
  return PythonStr(v);
}

// An expression value that must be a non-negative integer (policies).
Result<int64_t> ToNonNegativeInt(const Json& v, std::string_view what) {
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
  Runner(const Engine* engine, const Definitions* defs, const workers::ActionRegistry* actions,
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

  // ---------------------------------------------------------------------------------- host helpers
  Json TaskSpecJson(const std::string& name) const {
    JsonObject o;
    o["name"] = name;
    const lang::TaskSpec* ts = spec_->FindTask(name);
    if (ts == nullptr) return o;
    o["description"] = ts->description;
    JsonArray tags;
    for (const auto& t : ts->tags) tags.push_back(Json(t));
    o["tags"] = std::move(tags);
    if (ts->action) o["action"] = ts->action->Source();
    if (ts->workflow) o["workflow"] = ts->workflow->Source();
    if (ts->input) o["input"] = ts->input->Source();
    if (ts->publish) o["publish"] = ts->publish->Source();
    if (ts->join != lang::JoinKind::kNone) {
      o["join"] = ts->join == lang::JoinKind::kAll   ? Json("all")
                  : ts->join == lang::JoinKind::kOne ? Json("one")
                                                     : Json(ts->join_count);
    }
    return o;
  }

  Json TaskDict(const TaskExecution& t) const {
    JsonObject o;
    o["id"] = t.id;
    o["name"] = t.name;
    o["spec"] = TaskSpecJson(t.name);
    o["state"] = StateName(t.state);
    o["state_info"] = t.state_info ? Json(*t.state_info) : Json(nullptr);
    o["result"] = t.Result();
    o["published"] = t.published;
    o["type"] = t.type == TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
    o["workflow_execution_id"] = st_.id;
    o["created_at"] = FormatMistralTime(t.created_at);
    o["updated_at"] = FormatMistralTime(t.updated_at ? t.updated_at : t.created_at);
    return o;
  }

  // tasks(workflow_execution_id, recursive, state, flat), as Mistral's std_functions.tasks_: this
  // execution's tasks (the engine sees no other execution: another id gives []), then with
  // `recursive` and an id those of each finished sub-execution, depth first (kept since the
  // workflow calls tasks(recursive); a sub-execution still running has reported nothing yet);
  // `state` keeps tasks in that state; `flat` drops workflow tasks whose sub-execution is in the
  // task's own state.
  Result<Json> Tasks(const Json* wf_id, const Json* recursive, const Json* state,
                     const Json* flat) const {
    if (wf_id && !wf_id->is_null() && !wf_id->is_string())
      return InvalidArgument("tasks(): workflow_execution_id must be a string or null");
    if (state && !state->is_null() && !state->is_string())
      return InvalidArgument("tasks(): state must be a string or null");
    JsonArray out;
    if (wf_id && wf_id->is_string() && wf_id->get_string() != st_.id) return Json(std::move(out));
    const bool rec = recursive && IsTruthy(*recursive) && wf_id && wf_id->is_string();
    const bool only_flat = flat && IsTruthy(*flat);
    const std::string_view want =
        state && state->is_string() ? std::string_view(state->get_string()) : std::string_view();
    JsonArray entries;
    AppendOwnTasks(entries);
    if (rec) AppendSubTasks(entries);
    for (auto& e : entries) {
      JsonObject& entry = e.get_object();
      const Json& task = entry.at("task");
      const JsonObject& t = task.get_object();
      const Json& task_state = t.at("state");
      if (!want.empty() && std::string_view(task_state.get_string()) != want) continue;
      if (only_flat && t.at("type") == "WORKFLOW") {
        const JsonArray& subs = entry.at("sub_states").get_array();
        if (std::any_of(subs.begin(), subs.end(), [&](const Json& s) { return s == task_state; }))
          continue;
      }
      out.push_back(std::move(entry.at("task")));
    }
    return Json(std::move(out));
  }

  Json ExecutionDict() const {
    JsonObject spec;
    spec["name"] = spec_->name;
    spec["version"] = "2.0";
    spec["type"] = spec_->type == lang::WorkflowType::kReverse ? "reverse" : "direct";
    JsonObject tasks;
    for (const auto& t : spec_->tasks) tasks[t.name] = TaskSpecJson(t.name);
    spec["tasks"] = std::move(tasks);
    JsonObject o;
    o["id"] = st_.id;
    o["name"] = st_.workflow_name;
    o["spec"] = std::move(spec);
    o["input"] = st_.input;
    o["params"] = st_.params;
    o["state"] = StateName(st_.state);
    o["created_at"] = FormatMistralTime(st_.created_at);
    o["updated_at"] = FormatMistralTime(st_.updated_at ? st_.updated_at : st_.created_at);
    o["root_execution_id"] =
        st_.root_execution_id.empty() ? Json(nullptr) : Json(st_.root_execution_id);
    return o;
  }

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

  // The same layers as TaskData without copying them (see expr::Scope): for evaluations during which
  // nothing changes the input, the global context or the task list.
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

  // Every access to a task or an action execution that may change it goes through these (reads too, where
  // it is simpler: a needless mark only costs a store a serialisation). See TaskExecution::revision.
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

  // Inbound task names of `name` (tasks naming it in any on-* clause), in document order. The map
  // is built lazily once per Apply, so events that need no graph queries (most completions) do not
  // pay for it.
  const std::vector<std::string>& InboundOf(const std::string& name) {
    static const std::vector<std::string> kNone;
    if (!inbound_) {
      inbound_.emplace();
      for (const auto& t : spec_->tasks) {
        std::set<std::string> targets;
        for (const auto* c : {&t.on_success, &t.on_error, &t.on_complete, &t.on_skip}) {
          if (!c->has_value()) continue;
          for (const auto& item : (*c)->next) {
            if (item.kind == TransitionItem::Kind::kTask && targets.insert(item.task_name).second) {
              (*inbound_)[item.task_name].push_back(t.name);
            }
          }
        }
      }
    }
    auto it = inbound_->find(name);
    return it == inbound_->end() ? kNone : it->second;
  }

  // ----------------------------------------------------------------------------------- resolution
  std::shared_ptr<const lang::WorkflowSpec> FindWorkflow(std::string_view name) const {
    return engine_->ResolveWorkflow(name, spec_->workbook, st_.workflow_namespace);
  }

  std::shared_ptr<const lang::AdhocActionSpec> FindAdhoc(std::string_view name,
                                                         std::string_view workbook) const {
    std::vector<std::string> candidates;
    if (!workbook.empty()) candidates.push_back(std::string(workbook) + "." + std::string(name));
    candidates.push_back(std::string(name));
    for (const auto& ns : {st_.workflow_namespace, std::string()}) {
      for (const auto& c : candidates) {
        if (auto a = defs_->FindAction(c, ns)) return a;
      }
      if (st_.workflow_namespace.empty()) break;
    }
    return nullptr;
  }

  // Expands an action call through ad-hoc definitions to a concrete registered action.
  struct ConcreteAction {
    std::string name;
    std::string adhoc_name;
    Json input;
    bool is_async = false;
  };

  Result<ConcreteAction> ExpandAction(const std::string& name, Json input,
                                      const expr::Scope& wf_data) {
    ConcreteAction result;
    std::string current = name;
    std::string workbook = spec_->workbook;
    std::set<std::string> seen;
    while (true) {
      auto adhoc = FindAdhoc(current, workbook);
      if (!adhoc) break;
      if (!seen.insert(adhoc->full_name).second) {
        return InvalidArgument("Cycle in ad-hoc action definitions at " + adhoc->full_name);
      }
      if (result.adhoc_name.empty()) result.adhoc_name = adhoc->full_name;
      if (!input.is_object()) return InvalidArgument("Invalid input for action " + current);
      // Declared input: defaults and missing required parameters.
      JsonObject in = input.get_object();
      std::vector<std::string> missing;
      for (const auto& p : adhoc->input) {
        if (in.contains(p.name)) continue;
        if (p.has_default) {
          in[p.name] = p.default_value;
        } else {
          missing.push_back(p.name);
        }
      }
      if (!missing.empty()) {
        return InvalidArgument("Invalid input [name=" + adhoc->full_name + ", class=" +
                               adhoc->full_name + ", missing=" + PyList(missing) + "]");
      }
      // base-input sees the action input first, then the workflow context.
      const Json in_json(std::move(in));
      expr::Scope data = wf_data;
      data.Push(in_json);
      BORA_ASSIGN_OR_RETURN(Json base_input, Eval(adhoc->base_input, data, current_task_));
      if (base_input.is_null()) base_input = JsonObject();
      input = std::move(base_input);
      current = adhoc->base;
      workbook = adhoc->workbook;
    }
    const workers::ActionSignature* sig = actions_->FindSignature(current);
    if (sig == nullptr) {
      return NotFound("Failed to find action [action_name=" + current +
                      ", namespace=" + st_.workflow_namespace + "]");
    }
    BORA_ASSIGN_OR_RETURN(Json validated, actions_->ValidateInput(current, input));
    result.name = current;
    result.input = std::move(validated);
    result.is_async = sig->is_async;
    return result;
  }

  // Applies ad-hoc `output` transforms (innermost first) to a raw action result.
  Result<Json> TransformAdhocOutput(const std::string& adhoc_name, Json raw) {
    std::vector<std::shared_ptr<const lang::AdhocActionSpec>> chain;
    std::string current = adhoc_name;
    std::string workbook = spec_->workbook;
    std::set<std::string> seen;
    while (true) {
      auto a = FindAdhoc(current, workbook);
      if (!a || !seen.insert(a->full_name).second) break;
      chain.push_back(a);
      current = a->base;
      workbook = a->workbook;
    }
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if (!(*it)->output) continue;
      BORA_ASSIGN_OR_RETURN(raw, Eval(*(*it)->output, raw, current_task_));
    }
    return raw;
  }

  // --------------------------------------------------------------------------------------- start
  Status Start(const StartExecution& ev) {
    auto spec = spec_;
    st_.id = ev.execution_id;
    st_.workflow_name = spec->full_name;
    st_.workflow_namespace = ev.workflow_namespace;
    st_.description = ev.description;
    st_.parent_execution_id = ev.parent_execution_id;
    st_.parent_task_execution_id = ev.parent_task_execution_id;
    st_.root_execution_id = ev.root_execution_id;
    st_.parent_item_index = ev.parent_item_index;
    st_.depth = ev.depth;
    st_.report_tasks = ev.report_tasks;
    st_.created_at = now_;
    st_.updated_at = now_;
    JsonObject params = ev.params.is_object() ? ev.params.get_object() : JsonObject();
    params["namespace"] = ev.workflow_namespace;
    if (!params.contains("env") || !params["env"].is_object()) params["env"] = JsonObject();
    st_.params = std::move(params);
    st_.state = State::kRunning;
    st_.RebuildIndex();
    // Most executions run each task about once: size the task vector and the indexes up front so
    // they do not reallocate (moving every TaskExecution) as the execution advances.
    const size_t expected_tasks = spec->tasks.size();
    st_.tasks.reserve(expected_tasks);
    st_.index.task_by_id.reserve(expected_tasks);
    st_.index.latest_task_by_name.reserve(expected_tasks);
    st_.index.tasks_by_name.reserve(expected_tasks);
    st_.index.action_by_id.reserve(expected_tasks);

    auto input = engine_->ValidateWorkflowInput(*spec, ev.input);
    if (!input.ok()) {
      st_.input = ev.input.is_object() ? ev.input : Json(JsonObject());
      CompleteWorkflow(State::kError, input.status().message());
      return Status::Ok();
    }
    st_.input = std::move(input).value();

    if (spec->vars) {
      Json data = BaseData();
      auto vars = Eval(*spec->vars, data, std::nullopt);
      if (!vars.ok()) {
        CompleteWorkflow(State::kError,
                         "Failed to evaluate workflow vars: " + vars.status().message());
        return Status::Ok();
      }
      if (vars->is_object()) Overlay(st_.global_context.get_object(), *vars);
    }

    if (spec->type == lang::WorkflowType::kReverse) {
      const Json* tn = st_.params.get_object().if_contains("task_name");
      if (tn == nullptr || !tn->is_string() ||
          spec->FindTask(std::string(tn->get_string())) == nullptr) {
        CompleteWorkflow(
            State::kError,
            "Invalid input [name=" + spec->full_name +
                "]: a reverse workflow needs params.task_name naming one of its tasks");
        return Status::Ok();
      }
      ReverseContinue();
    } else {
      std::vector<std::string> starts;
      for (const auto& t : spec->tasks) {
        if (InboundOf(t.name).empty()) starts.push_back(t.name);
      }
      for (const auto& name : starts) {
        if (st_.state == State::kPaused) {
          st_.backlog.push_back({name, "", ""});  // e.g. paused by pause-before of an earlier task
        } else if (WfRunning()) {
          StartTask(name, JsonObject(), {}, {});
        }
      }
      EvaluateJoins();
    }
    CheckCompletion();
    return Status::Ok();
  }

  // Creates (or, for joins, finds) the task execution for `name` and runs it.
  void StartTask(const std::string& name, Json in_ctx, std::map<std::string, int64_t> versions,
                 std::optional<TriggeredBy> trig) {
    const lang::TaskSpec* ts = spec_->FindTask(name);
    if (ts == nullptr) return;
    if (!WithinTaskLimit(name)) return;
    if (ts->join != lang::JoinKind::kNone) {
      auto it = st_.index.join_task_by_name.find(name);
      if (it != st_.index.join_task_by_name.end()) {
        TaskExecution& jt = MutTask(it->second);
        if (trig) jt.triggered_by.push_back(*trig);
        Touch(jt);
        return;  // joins are evaluated after every completion
      }
      size_t ti = NewTask(name, State::kWaiting);
      MutTask(ti).is_join = true;
      if (trig) MutTask(ti).triggered_by.push_back(*trig);
      st_.index.join_task_by_name[name] = ti;
      return;
    }
    size_t ti = NewTask(name, State::kIdle);
    TaskExecution& t = MutTask(ti);
    t.in_context = std::move(in_ctx);
    t.context_versions = std::move(versions);
    if (trig) t.triggered_by.push_back(*trig);
    RunTaskPolicies(ti);
  }

  // False (and the execution fails) when creating one more task execution would cross
  // EngineLimits::max_tasks_per_execution.
  bool WithinTaskLimit(const std::string& name) {
    const int64_t limit = engine_->limits().max_tasks_per_execution;
    if (static_cast<int64_t>(st_.tasks.size()) < limit) return true;
    if (!IsCompleted(st_.state)) {
      CompleteWorkflow(State::kError, "Failed to start task [wf=" + st_.workflow_name + ", task=" +
                                          name + "]: the execution already has " +
                                          std::to_string(st_.tasks.size()) +
                                          " task executions, the limit (max_tasks_per_execution)");
    }
    return false;
  }

  size_t NewTask(const std::string& name, State s) {
    TaskExecution t;
    t.id = st_.NextId();
    t.name = name;
    t.state = s;
    t.created_at = now_;
    t.updated_at = now_;
    const lang::TaskSpec* ts = spec_->FindTask(name);
    if (ts && ts->workflow) t.type = TaskExecution::Type::kWorkflow;
    size_t ti = st_.tasks.size();
    st_.tasks.push_back(std::move(t));
    st_.index.task_by_id[MutTask(ti).id] = ti;
    st_.index.latest_task_by_name[name] = ti;
    st_.index.tasks_by_name[name].push_back(ti);
    if (!IsCompleted(s)) ++st_.index.incomplete_tasks;
    return ti;
  }

  // pause-before and wait-before, then the task body.
  void RunTaskPolicies(size_t ti) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    current_task_ = ti;
    if (ts.pause_before && !MutTask(ti).paused_before) {
      auto v = Eval(*ts.pause_before, TaskScope(ti), ti);
      if (!v.ok()) return ForceFail(ti, RunError(ti, v.status().message()));
      if (IsTruthy(*v)) {
        MutTask(ti).paused_before = true;
        if (WfRunning()) EnterPaused();
        return;  // stays IDLE until resume
      }
    }
    MutTask(ti).paused_before = true;
    if (ts.wait_before) {
      auto v = Eval(*ts.wait_before, TaskScope(ti), ti);
      if (!v.ok()) return ForceFail(ti, RunError(ti, v.status().message()));
      auto secs = ToNonNegativeInt(*v, "wait-before");
      if (!secs.ok()) return ForceFail(ti, RunError(ti, secs.status().message()));
      if (*secs > 0) {
        SetTaskState(ti, State::kDelayed);
        MutTask(ti).pending_timer_id = SetTimerFor(ti, TimerInfo::Kind::kWaitBefore, *secs);
        return;
      }
    }
    RunTaskBody(ti);
  }

  std::string RunError(size_t ti, const std::string& error) const {
    return "Failed to run task [error=" + error + ", wf=" + st_.workflow_name +
           ", task=" + st_.tasks[ti].name + "]";
  }
  std::string CompleteError(size_t ti, const std::string& error) const {
    return "Failed to complete task [error=" + error + ", wf=" + st_.workflow_name +
           ", task=" + st_.tasks[ti].name + "]";
  }

  // Starts the task's action(s) / sub-workflow(s).
  void RunTaskBody(size_t ti) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    current_task_ = ti;
    SetTaskState(ti, State::kRunning);
    TaskExecution& t0 = MutTask(ti);
    if (t0.started_at == 0) t0.started_at = now_;
    t0.processed = false;
    const expr::Scope data = TaskScope(ti);

    // safe-rerun / keep-result flags.
    {
      auto sr = Eval(ts.safe_rerun, data, ti);
      MutTask(ti).safe_rerun = sr.ok() && IsTruthy(*sr);
    }
    // Timeout policy (once per task execution).
    if (ts.timeout && MutTask(ti).timeout_timer_id.empty()) {
      auto v = Eval(*ts.timeout, data, ti);
      if (!v.ok()) return ForceFail(ti, RunError(ti, v.status().message()));
      auto secs = ToNonNegativeInt(*v, "timeout");
      if (!secs.ok()) return ForceFail(ti, RunError(ti, secs.status().message()));
      if (*secs > 0)
        MutTask(ti).timeout_timer_id = SetTimerFor(ti, TimerInfo::Kind::kTimeout, *secs);
    }

    if (!ts.with_items.empty()) {
      WithItemsState& w = MutTask(ti).with_items;
      w = WithItemsState();
      w.enabled = true;
      // Every variable's value first (Mistral evaluates the whole with-items clause, then checks
      // it).
      JsonObject evaluated;
      for (const auto& var : ts.with_items) {
        auto v = Eval(var.source, data, ti);
        if (!v.ok()) return ForceFail(ti, RunError(ti, v.status().message()));
        evaluated[var.name] = std::move(v).value();
      }
      JsonObject items;
      int64_t count = -1;
      for (const auto& var : ts.with_items) {
        Json arr = evaluated.at(var.name);
        if (arr.is_string()) {
          JsonArray chars;
          // Python iterates code points: split UTF-8 sequences, not bytes.
          std::string_view text = arr.get_string();
          for (size_t i = 0; i < text.size();) {
            size_t len = 1;
            unsigned char c = static_cast<unsigned char>(text[i]);
            if (c >= 0xF0)
              len = 4;
            else if (c >= 0xE0)
              len = 3;
            else if (c >= 0xC0)
              len = 2;
            len = std::min(len, text.size() - i);
            chars.push_back(Json(std::string(text.substr(i, len))));
            i += len;
          }
          arr = std::move(chars);
        } else if (arr.is_object()) {
          // Python iterates a dict's keys, in order (settled on Mistral 15).
          JsonArray keys;
          keys.reserve(arr.get_object().size());
          for (const auto& kv : arr.get_object()) keys.push_back(Json(std::string(kv.key())));
          arr = std::move(keys);
        }
        if (!arr.is_array()) {
          return ForceFail(
              ti, RunError(ti, "Wrong input format for: " + var.name +
                                   ". Iterable type is expected for each value, got " +
                                   std::string(PythonTypeName(arr)) + " " + PythonRepr(arr)));
        }
        int64_t n = static_cast<int64_t>(arr.get_array().size());
        if (count >= 0 && n != count) {
          // Mistral's text: the whole evaluated clause.
          return ForceFail(ti, RunError(ti, "Wrong input format for: " + PythonRepr(evaluated) +
                                                ". All arrays must have the same length."));
        }
        count = n;
        items[var.name] = std::move(arr);
      }
      w.items = std::move(items);
      w.items_revision = NextRevision();
      w.count = std::max<int64_t>(count, 0);
      if (ts.concurrency) {
        auto c = Eval(*ts.concurrency, data, ti);
        if (!c.ok()) return ForceFail(ti, RunError(ti, c.status().message()));
        auto n = ToNonNegativeInt(*c, "concurrency");
        if (!n.ok()) return ForceFail(ti, RunError(ti, n.status().message()));
        MutTask(ti).with_items.concurrency = *n;
      }
      // Every item becomes an action execution of this task: size the vector and the id index once
      // instead of growing them item by item (a million items would move them ~20 times).
      TaskExecution& t1 = MutTask(ti);
      t1.actions.reserve(t1.actions.size() + static_cast<size_t>(t1.with_items.count));
      st_.index.action_by_id.reserve(st_.index.action_by_id.size() +
                                     static_cast<size_t>(t1.with_items.count));
      WithItemsState& w2 = t1.with_items;
      w2.pending.clear();
      w2.pending.reserve(static_cast<size_t>(w2.count));
      for (int64_t i = 0; i < w2.count; ++i) w2.pending.push_back(i);
      w2.pending_pos = 0;
      if (w2.count == 0) return AfterActionsComplete(ti, State::kSuccess, std::nullopt);
      LaunchPendingItems(ti);
      return;
    }
    LaunchOne(ti, 0, nullptr);
  }

  void LaunchPendingItems(size_t ti) {
    while (true) {
      TaskExecution& t = MutTask(ti);
      WithItemsState& w = t.with_items;
      if (t.state != State::kRunning || st_.state == State::kPaused) return;
      if (w.pending_pos >= w.pending.size()) break;
      if (w.concurrency > 0 && w.running >= w.concurrency) break;
      int64_t idx = w.pending[w.pending_pos++];
      ++w.running;
      JsonObject extra;
      if (!w.items.is_object()) return ForceFail(ti, RunError(ti, "with-items values are missing"));
      for (const auto& kv : w.items.get_object()) {
        extra[kv.key()] = kv.value().get_array()[static_cast<size_t>(idx)];
      }
      Json extra_json(std::move(extra));
      if (!LaunchOne(ti, idx, &extra_json)) return;
    }
    WithItemsState& w = MutTask(ti).with_items;
    if (w.pending_pos >= w.pending.size()) {
      w.pending.clear();
      w.pending_pos = 0;
    }
  }

  // Launches one action / sub-workflow for item `index`. False if the task was force-failed.
  bool LaunchOne(size_t ti, int64_t index, const Json* extra) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    current_task_ = ti;
    const expr::Scope data = TaskScope(ti, extra);
    // Input: inline params, then `input:` (wins).
    auto inl = Eval(ts.inline_params, data, ti);
    if (!inl.ok()) return ForceFail(ti, RunError(ti, inl.status().message())), false;
    JsonObject input = inl->is_object() ? inl->get_object() : JsonObject();
    if (ts.input) {
      auto in = Eval(*ts.input, data, ti);
      if (!in.ok()) return ForceFail(ti, RunError(ti, in.status().message())), false;
      if (!in->is_object() && !in->is_null()) {
        ForceFail(ti, RunError(ti, "Wrong dynamic input for task: " + ts.name +
                                       ". Dict type is expected. Actual type: " +
                                       std::string(PythonTypeName(*in)) +
                                       ". Actual value: " + PythonStr(*in)));
        return false;
      }
      Overlay(input, *in);
    }
    std::string target;
    if (ts.target) {
      auto tv = Eval(*ts.target, data, ti);
      if (!tv.ok()) return ForceFail(ti, RunError(ti, tv.status().message())), false;
      if (tv->is_string()) target = std::string(tv->get_string());
    }

    if (ts.workflow) {
      auto name = Eval(*ts.workflow, data, ti);
      if (!name.ok()) return ForceFail(ti, RunError(ti, name.status().message())), false;
      std::string wf_name = name->is_string() ? std::string(name->get_string()) : PythonStr(*name);
      auto sub = FindWorkflow(wf_name);
      if (!sub) {
        ForceFail(ti, RunError(ti, "Failed to find workflow [name=" + wf_name +
                                       ", namespace=" + st_.workflow_namespace + "]"));
        return false;
      }
      if (const int limit = engine_->limits().max_subworkflow_depth; st_.depth >= limit) {
        ForceFail(ti, RunError(ti, "sub-workflow " + wf_name + " would be nested " +
                                       std::to_string(st_.depth + 1) +
                                       " levels deep, over the limit of " +
                                       std::to_string(limit) + " (max_subworkflow_depth)"));
        return false;
      }
      // Keys declared as the sub-workflow's input are input; others become execution params.
      std::set<std::string> declared;
      for (const auto& p : sub->input) declared.insert(p.name);
      JsonObject sub_input, sub_params;
      for (const auto& kv : input) {
        if (declared.contains(std::string(kv.key()))) {
          sub_input[kv.key()] = kv.value();
        } else {
          sub_params[kv.key()] = kv.value();
        }
      }
      auto valid = engine_->ValidateWorkflowInput(*sub, Json(sub_input));
      if (!valid.ok()) return ForceFail(ti, RunError(ti, valid.status().message())), false;
      sub_params["env"] = st_.Env();
      sub_params["namespace"] = st_.workflow_namespace;
      ActionExecution a;
      a.id = st_.NextId();
      a.name = sub->full_name;
      a.is_workflow = true;
      a.index = static_cast<int>(index);
      a.state = State::kRunning;
      a.input = valid.value();
      a.created_at = now_;
      a.updated_at = now_;
      StartExecution start;
      start.execution_id = a.id;
      start.workflow_name = sub->full_name;
      start.workflow_namespace = st_.workflow_namespace;
      start.input = std::move(valid).value();
      start.params = std::move(sub_params);
      start.parent_execution_id = st_.id;
      start.parent_task_execution_id = MutTask(ti).id;
      start.root_execution_id = st_.root_execution_id.empty() ? st_.id : st_.root_execution_id;
      start.parent_item_index = static_cast<int>(index);
      start.depth = st_.depth + 1;
      start.report_tasks = KeepsSubTasks();
      AddAction(ti, std::move(a));
      Emit(StartSubWorkflow{start.execution_id, std::move(start)});
      return true;
    }

    std::string action_name = "std.noop";
    if (ts.action) {
      auto name = Eval(*ts.action, data, ti);
      if (!name.ok()) return ForceFail(ti, RunError(ti, name.status().message())), false;
      action_name = name->is_string() ? std::string(name->get_string()) : PythonStr(*name);
      if (action_name.empty()) action_name = "std.noop";
    }
    // Action defaults from env.__actions.<action name> (never override given input).
    if (const Json* defaults = st_.Env().get_object().if_contains("__actions");
        defaults && defaults->is_object()) {
      if (const Json* d = defaults->get_object().if_contains(action_name); d && d->is_object()) {
        for (const auto& kv : d->get_object()) {
          if (!input.contains(kv.key())) input[kv.key()] = kv.value();
        }
      }
    }
    auto concrete = ExpandAction(action_name, Json(std::move(input)), data);
    if (!concrete.ok()) return ForceFail(ti, RunError(ti, concrete.status().message())), false;
    ActionExecution a;
    a.id = st_.NextId();
    a.name = concrete->name;
    a.adhoc_name = concrete->adhoc_name;
    a.index = static_cast<int>(index);
    a.state = State::kRunning;
    a.input = concrete->input;
    a.created_at = now_;
    a.updated_at = now_;
    RunAction cmd;
    cmd.execution_id = st_.id;
    cmd.workflow_name = st_.workflow_name;
    cmd.task_execution_id = MutTask(ti).id;
    cmd.task_name = MutTask(ti).name;
    cmd.action_execution_id = a.id;
    cmd.action_name = concrete->name;
    cmd.input = std::move(concrete->input);
    cmd.target = std::move(target);
    if (ts.timeout) {
      auto tv = Eval(*ts.timeout, data, ti);
      if (tv.ok()) cmd.timeout_s = ToNonNegativeInt(*tv, "timeout").value_or(0);
    }
    cmd.safe_rerun = MutTask(ti).safe_rerun;
    cmd.is_async = concrete->is_async;
    AddAction(ti, std::move(a));
    Emit(std::move(cmd));
    return true;
  }

  void AddAction(size_t ti, ActionExecution a) {
    TaskExecution& t = MutTask(ti);
    st_.index.action_by_id[a.id] = {ti, t.actions.size()};
    t.actions.push_back(std::move(a));
  }

  // ------------------------------------------------------------------------------ action results
  Status OnActionCompleted(const ActionCompleted& ev) {
    auto it = st_.index.action_by_id.find(ev.action_execution_id);
    if (it == st_.index.action_by_id.end()) {
      return NotFound("action execution " + ev.action_execution_id + " not found in execution " +
                      st_.id);
    }
    auto [ti, ai] = it->second;
    ActionExecution& a = MutAction(ti, ai);
    if (a.is_workflow)
      return InvalidArgument("execution " + a.id + " is a sub-workflow, not an action");
    if (IsCompleted(a.state)) return Status::Ok();  // duplicate delivery
    State s = ev.kind == ActionCompleted::Kind::kSuccess ? State::kSuccess
              : ev.kind == ActionCompleted::Kind::kError ? State::kError
                                                         : State::kCancelled;
    Json result = ev.data;
    current_task_ = ti;
    if (s == State::kSuccess && !a.adhoc_name.empty()) {
      auto transformed = TransformAdhocOutput(a.adhoc_name, result);
      if (!transformed.ok()) {
        s = State::kError;
        result = Json(transformed.status().message());
      } else {
        result = std::move(transformed).value();
      }
    }
    ActionExecution& a2 = MutAction(ti, ai);
    a2.state = s;
    a2.output = JsonObject{{"result", result}};
    // Mistral: state_info = str(result) for unsuccessful actions (None when the result is empty).
    if (s != State::kSuccess && IsTruthy(result)) a2.state_info = PythonStr(result);
    a2.updated_at = now_;
    return ChildDone(ti, ai);
  }

  Status OnSubWorkflowCompleted(const SubWorkflowCompleted& ev) {
    auto it = st_.index.action_by_id.find(ev.sub_execution_id);
    if (it == st_.index.action_by_id.end()) {
      return NotFound("sub-workflow execution " + ev.sub_execution_id + " not found in execution " +
                      st_.id);
    }
    auto [ti, ai] = it->second;
    ActionExecution& a = MutAction(ti, ai);
    State new_state = IsCompleted(ev.state) ? ev.state : State::kError;
    if (IsCompleted(a.state)) {
      // A failed sub-execution finished again after a task inside it was rerun: reopen this task
      // (and the execution) like Mistral puts parents back to RUNNING. Duplicates of the same
      // outcome are ignored.
      if (!ReopenForChildRerun(ti, ai, new_state)) return Status::Ok();
    }
    ActionExecution& a2 = MutAction(ti, ai);
    a2.state = new_state;
    a2.output = ev.output;
    a2.state_info = ev.state_info;
    a2.sub_tasks = KeepsSubTasks() ? ev.tasks : Json();
    a2.updated_at = now_;
    return ChildDone(ti, ai);
  }

  bool ReopenForChildRerun(size_t ti, size_t ai, State new_state) {
    TaskExecution& t = MutTask(ti);
    ActionExecution& a = MutAction(ti, ai);
    if (a.state != State::kError || new_state == State::kError || !a.accepted) return false;
    if (t.state != State::kError || st_.index.latest_task_by_name[t.name] != ti) return false;
    if (st_.state == State::kPaused || st_.state == State::kCancelled) return false;
    if (t.with_items.enabled) {
      if (t.with_items.failed > 0) --t.with_items.failed;
      ++t.with_items.running;  // ChildDone counts the new outcome
    }
    a.state = State::kRunning;
    t.state_info.reset();
    t.force_failed = false;
    t.processed = false;
    t.error_handled = false;
    t.has_next_tasks = false;
    t.next_task_names.clear();
    t.published = JsonObject();
    SetTaskState(ti, State::kRunning);
    if (IsCompleted(st_.state)) {
      st_.state = State::kRunning;
      st_.state_info.reset();
      st_.finished_notified = false;
    }
    return true;
  }

  // Bookkeeping after one child (action or sub-workflow) completed.
  Status ChildDone(size_t ti, size_t ai) {
    TaskExecution& t = MutTask(ti);
    const ActionExecution& a = t.actions[ai];
    if (!a.accepted) return Status::Ok();
    if (t.with_items.enabled) {
      WithItemsState& w = t.with_items;
      if (w.running > 0) --w.running;
      if (a.state == State::kSuccess)
        ++w.succeeded;
      else if (a.state == State::kCancelled)
        ++w.cancelled;
      else
        ++w.failed;
    }
    if (t.state != State::kRunning)
      return Status::Ok();  // completed already (timeout) or not running
    ContinueTask(ti);
    CheckCompletion();
    return Status::Ok();
  }

  // Launches more items or completes the task if every child finished.
  void ContinueTask(size_t ti) {
    TaskExecution& t = MutTask(ti);
    if (t.state != State::kRunning) return;
    if (t.with_items.enabled) {
      LaunchPendingItems(ti);
      TaskExecution& t2 = MutTask(ti);
      const WithItemsState& w = t2.with_items;
      if (t2.state != State::kRunning) return;
      // Mistral completes a with-items task as soon as one accepted execution was cancelled.
      if (w.cancelled > 0)
        return AfterActionsComplete(ti, State::kCancelled, "One or more actions was cancelled.");
      if (w.running > 0 || w.pending_pos < w.pending.size()) return;
      if (w.failed > 0)
        return AfterActionsComplete(ti, State::kError, "One or more actions had failed.");
      return AfterActionsComplete(ti, State::kSuccess, std::nullopt);
    }
    const ActionExecution* last = nullptr;
    for (const auto& a : t.actions) {
      if (!a.accepted) continue;
      if (!IsCompleted(a.state)) return;
      last = &a;
    }
    if (last == nullptr) return;
    State s = last->state;
    std::optional<std::string> info;
    if (s != State::kSuccess) info = last->state_info;
    AfterActionsComplete(ti, s, info);
  }

  // fail-on, retry, wait-after; then Finalize.
  void AfterActionsComplete(size_t ti, State s, std::optional<std::string> info) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    current_task_ = ti;
    if (s == State::kSuccess && ts.fail_on) {
      auto v = Eval(*ts.fail_on, TaskScope(ti), ti);
      if (!v.ok()) return ForceFail(ti, CompleteError(ti, v.status().message()));
      if (IsTruthy(*v)) {
        s = State::kError;
        info = std::string(kFailedByFailOn);
      }
    }
    // A workflow that already finished (succeed/fail command, stop) schedules nothing new for its
    // still-running tasks: no retry, no wait-after.
    bool wf_done = IsCompleted(st_.state);
    if (ts.retry && s != State::kCancelled && !wf_done) {
      MutTask(ti).retry_started = true;
      // Conditions see the outbound context (with what would be published).
      State saved = MutTask(ti).state;
      const State publish_as = PublishState(s, info);
      MutTask(ti).state = publish_as;
      Json data = TaskData(ti);
      if (auto pub = ComputePublish(ti, publish_as, data); pub.ok()) {
        Overlay(data.get_object(), pub->first);
      }
      MutTask(ti).state = saved;
      auto count = Eval(ts.retry->count, data, ti);
      if (!count.ok()) return ForceFail(ti, CompleteError(ti, count.status().message()));
      auto n = ToNonNegativeInt(*count, "retry count");
      if (!n.ok()) return ForceFail(ti, CompleteError(ti, n.status().message()));
      bool continue_on = false, break_on = false;
      if (ts.retry->continue_on) {
        auto v = Eval(*ts.retry->continue_on, data, ti);
        if (!v.ok()) return ForceFail(ti, CompleteError(ti, v.status().message()));
        continue_on = IsTruthy(*v);
      }
      if (ts.retry->break_on && s == State::kError) {
        auto v = Eval(*ts.retry->break_on, data, ti);
        if (!v.ok()) return ForceFail(ti, CompleteError(ti, v.status().message()));
        break_on = IsTruthy(*v);
      }
      bool remain = MutTask(ti).retry_no < *n;
      bool stop_continue = (s == State::kSuccess && !ts.retry->continue_on) ||
                           (ts.retry->continue_on && !continue_on);
      bool break_triggered = s == State::kError && break_on;
      if (remain && !break_triggered && !stop_continue) {
        int64_t delay = 0;
        if (ts.retry->delay) {
          auto d = Eval(*ts.retry->delay, data, ti);
          if (!d.ok()) return ForceFail(ti, CompleteError(ti, d.status().message()));
          auto ds = ToNonNegativeInt(*d, "retry delay");
          if (!ds.ok()) return ForceFail(ti, CompleteError(ti, ds.status().message()));
          delay = *ds;
        }
        TaskExecution& t = MutTask(ti);
        MarkActions(ti);
        for (auto& a : t.actions) a.accepted = false;
        ++t.retry_no;
        t.state_info = info;
        if (delay > 0) {
          SetTaskState(ti, State::kDelayed);
          t.pending_timer_id = SetTimerFor(ti, TimerInfo::Kind::kRetry, delay);
        } else {
          RunTaskBody(ti);
        }
        return;
      }
    }
    if (ts.wait_after && !wf_done) {
      auto v = Eval(*ts.wait_after, TaskScope(ti), ti);
      if (!v.ok()) return ForceFail(ti, CompleteError(ti, v.status().message()));
      auto secs = ToNonNegativeInt(*v, "wait-after");
      if (!secs.ok()) return ForceFail(ti, CompleteError(ti, secs.status().message()));
      if (*secs > 0) {
        TaskExecution& t = MutTask(ti);
        t.final_state = s;
        t.state_info = info;
        SetTaskState(ti, State::kDelayed);
        t.pending_timer_id = SetTimerFor(ti, TimerInfo::Kind::kWaitAfter, *secs);
        return;
      }
    }
    Finalize(ti, s, info);
  }

  // Evaluates what a task publishes when completing in state `s`: (branch vars, global vars).
  // Precedence: on-complete.publish > publish / publish-on-error / publish-on-skip >
  // on-<state>.publish.
  Result<std::pair<JsonObject, JsonObject>> ComputePublish(size_t ti, State s, const Json& data) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    JsonObject branch, global;
    auto apply = [&](const std::optional<expr::Template>& tmpl, JsonObject& dst) -> Status {
      if (!tmpl) return Status::Ok();
      BORA_ASSIGN_OR_RETURN(Json v, Eval(*tmpl, data, ti));
      if (v.is_object()) Overlay(dst, v);
      return Status::Ok();
    };
    auto apply_clause = [&](const std::optional<lang::OnClause>& c) -> Status {
      if (!c) return Status::Ok();
      BORA_RETURN_IF_ERROR(apply(c->publish_branch, branch));
      BORA_RETURN_IF_ERROR(apply(c->publish_global, global));
      return Status::Ok();
    };
    if (s == State::kSuccess) {
      BORA_RETURN_IF_ERROR(apply_clause(ts.on_success));
      BORA_RETURN_IF_ERROR(apply(ts.publish, branch));
      BORA_RETURN_IF_ERROR(apply_clause(ts.on_complete));
    } else if (s == State::kError) {
      BORA_RETURN_IF_ERROR(apply_clause(ts.on_error));
      BORA_RETURN_IF_ERROR(apply(ts.publish_on_error, branch));
      BORA_RETURN_IF_ERROR(apply_clause(ts.on_complete));
    } else if (s == State::kSkipped) {
      BORA_RETURN_IF_ERROR(apply_clause(ts.on_skip));
      BORA_RETURN_IF_ERROR(apply(ts.publish_on_skip, branch));
    }
    return std::make_pair(std::move(branch), std::move(global));
  }

  // The state a task publishes as: a task failed by fail-on publishes as the success it was
  // (Mistral publishes when the action completes and applies fail-on after; its transitions are
  // on-error's).
  static State PublishState(State s, const std::optional<std::string>& info) {
    return s == State::kError && info && *info == kFailedByFailOn ? State::kSuccess : s;
  }

  // Completes the task: publish, keep-result, transitions, workflow completion check.
  void Finalize(size_t ti, State s, std::optional<std::string> info) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    current_task_ = ti;
    {
      TaskExecution& t = MutTask(ti);
      CancelTimerIfAny(t.timeout_timer_id);
      CancelTimerIfAny(t.pending_timer_id);
      t.state_info = s == State::kSuccess ? std::nullopt : info;
    }
    SetTaskState(ti, s);
    // Publish sees the task as it publishes (SUCCESS for a task failed by fail-on).
    const State publish_as = PublishState(s, info);
    MutTask(ti).state = publish_as;
    Json data = TaskData(ti);
    auto pub = ComputePublish(ti, publish_as, data);
    MutTask(ti).state = s;
    if (!pub.ok()) return ForceFail(ti, CompleteError(ti, pub.status().message()));
    {
      TaskExecution& t = MutTask(ti);
      t.published = JsonObject();
      for (const auto& kv : pub->first) {
        t.published.get_object()[kv.key()] = kv.value();
        ++t.context_versions[std::string(kv.key())];
      }
      t.published_global = pub->second;
      Overlay(st_.global_context.get_object(), Json(pub->second));
      auto keep = Eval(ts.keep_result, data, ti);
      t.keep_result = !keep.ok() || IsTruthy(*keep);
    }
    if (st_.state == State::kPaused) {
      MutTask(ti).processed = false;  // transitions are evaluated on resume
      return;
    }
    ProcessCompleted(ti);
  }

  // Evaluates the transitions of a completed task (direct) or schedules dependents (reverse).
  void ProcessCompleted(size_t ti) {
    if (spec_->type == lang::WorkflowType::kReverse) {
      MutTask(ti).processed = true;
      if (WfRunning()) ReverseContinue();
    } else {
      ProcessTransitions(ti);
    }
    EvaluateJoins();
    CheckCompletion();
  }

  Result<std::vector<FiredItem>> EvalClause(const std::optional<lang::OnClause>& clause,
                                            const char* event, const Json& data, size_t ti) {
    std::vector<FiredItem> out;
    if (!clause) return out;
    for (const auto& item : clause->next) {
      if (item.condition) {
        BORA_ASSIGN_OR_RETURN(Json c, Eval(*item.condition, data, ti));
        if (!IsTruthy(c)) continue;
      }
      FiredItem f{item.kind, item.task_name, std::nullopt, event};
      if (item.msg) {
        BORA_ASSIGN_OR_RETURN(Json m, Eval(*item.msg, data, ti));
        f.msg = MessageText(m);
      }
      out.push_back(std::move(f));
    }
    return out;
  }

  void ProcessTransitions(size_t ti) {
    const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
    State s = MutTask(ti).state;
    Json data = TaskData(ti, nullptr, /*outbound=*/true);
    std::vector<FiredItem> fired;
    bool error_handled = false;
    auto add = [&](const std::optional<lang::OnClause>& c, const char* ev) -> Status {
      BORA_ASSIGN_OR_RETURN(auto items, EvalClause(c, ev, data, ti));
      for (auto& i : items) fired.push_back(std::move(i));
      return Status::Ok();
    };
    Status status;
    if (s == State::kError) {
      status = add(ts.on_error, "on-error");
      error_handled = !fired.empty();
      if (status.ok()) status = add(ts.on_complete, "on-complete");
    } else if (s == State::kSuccess) {
      status = add(ts.on_success, "on-success");
      if (status.ok()) status = add(ts.on_complete, "on-complete");
    } else if (s == State::kSkipped) {
      status = add(ts.on_skip, "on-skip");
      if (status.ok() && fired.empty()) status = add(ts.on_success, "on-success");
    }
    if (!status.ok()) return ForceFail(ti, CompleteError(ti, status.message()));
    TaskExecution& t = MutTask(ti);
    t.processed = true;
    t.error_handled = error_handled;
    t.next_task_names.clear();
    t.has_next_tasks = false;
    for (const auto& f : fired) {
      if (f.kind == TransitionItem::Kind::kTask) {
        t.next_task_names.push_back(f.task_name);
        t.has_next_tasks = true;
      }
    }
    Dispatch(ti, fired);
  }

  // Mistral's dispatcher: tasks start in order until a state command; fail/succeed drop the rest,
  // pause backlogs the rest.
  void Dispatch(size_t ti, const std::vector<FiredItem>& fired) {
    std::string from_id = MutTask(ti).id;
    bool paused_by_cmd = false;
    for (const auto& f : fired) {
      switch (f.kind) {
        case TransitionItem::Kind::kNoop:
          break;
        case TransitionItem::Kind::kTask:
          if (paused_by_cmd || st_.state == State::kPaused) {
            st_.backlog.push_back({f.task_name, from_id, f.event});
          } else if (WfRunning()) {
            StartNext(f.task_name, from_id, f.event);
          }
          break;
        case TransitionItem::Kind::kFail:
          if (WfRunning() || st_.state == State::kPaused) {
            CompleteWorkflow(State::kError, f.msg ? f.msg : DefaultFailInfo());
          }
          return;
        case TransitionItem::Kind::kSucceed:
          if (WfRunning() || st_.state == State::kPaused) CompleteWorkflow(State::kSuccess, f.msg);
          return;
        case TransitionItem::Kind::kPause:
          if (WfRunning()) {
            EnterPaused();
            st_.state_info = f.msg;
            paused_by_cmd = true;
          }
          break;
      }
    }
  }

  void StartNext(const std::string& name, const std::string& from_task_id,
                 const std::string& event) {
    const TaskExecution* from = st_.FindTaskById(from_task_id);
    Json ctx = from ? from->OutboundContext() : Json(JsonObject());
    std::map<std::string, int64_t> versions =
        from ? from->context_versions : std::map<std::string, int64_t>();
    std::optional<TriggeredBy> trig;
    if (from) trig = TriggeredBy{from_task_id, event};
    StartTask(name, std::move(ctx), std::move(versions), std::move(trig));
  }

  // --------------------------------------------------------------------------------------- joins
  // Induced state of one inbound task for join `join_name`: kRunning (satisfied), kWaiting, kError.
  State InducedJoinState(const std::string& inbound, const std::string& join_name) {
    const TaskExecution* t = st_.FindLatestTask(inbound);
    if (t == nullptr) {
      std::set<std::string> visited;
      return PossibleRoute(inbound, visited) ? State::kWaiting : State::kError;
    }
    if (!IsCompleted(t->state) || !t->processed) return State::kWaiting;
    if (std::find(t->next_task_names.begin(), t->next_task_names.end(), join_name) ==
        t->next_task_names.end()) {
      return State::kError;
    }
    return State::kRunning;
  }

  // Whether a not-yet-started task may still run (Mistral's _possible_route).
  // `visited` makes it linear in the graph size (a task already explored adds no new route).
  bool PossibleRoute(const std::string& name, std::set<std::string>& visited) {
    if (!visited.insert(name).second) return false;
    std::vector<std::string> in = InboundOf(name);
    if (in.empty()) return false;  // a start task that did not run will never run
    for (const auto& n : in) {
      const TaskExecution* t = st_.FindLatestTask(n);
      if (t == nullptr) {
        if (PossibleRoute(n, visited)) return true;
      } else if (!IsCompleted(t->state) || !t->processed ||
                 std::find(t->next_task_names.begin(), t->next_task_names.end(), name) !=
                     t->next_task_names.end()) {
        return true;
      }
    }
    return false;
  }

  void EvaluateJoins() {
    if (spec_->type != lang::WorkflowType::kDirect || !WfRunning()) return;
    bool changed = true;
    while (changed) {
      changed = false;
      std::vector<std::pair<std::string, size_t>> waiting;
      for (const auto& [name, ti] : st_.index.join_task_by_name) {
        if (MutTask(ti).state == State::kWaiting) waiting.emplace_back(name, ti);
      }
      std::sort(waiting.begin(), waiting.end(),
                [](auto& a, auto& b) { return a.second < b.second; });
      for (const auto& [name, ti] : waiting) {
        if (MutTask(ti).state != State::kWaiting) continue;
        if (EvaluateJoin(ti, /*force=*/false)) changed = true;
      }
    }
  }

  // Returns true if the join left WAITING.
  bool EvaluateJoin(size_t ti, bool force) {
    const std::string name = MutTask(ti).name;
    const lang::TaskSpec& ts = *spec_->FindTask(name);
    std::vector<std::string> inbound = InboundOf(name);
    std::vector<std::string> satisfied, errors, blocked;
    for (const auto& in : inbound) {
      State s = InducedJoinState(in, name);
      if (s == State::kRunning)
        satisfied.push_back(in);
      else if (s == State::kError)
        errors.push_back(in);
      else
        blocked.push_back(in);
    }
    int64_t total = static_cast<int64_t>(inbound.size());
    int64_t need = ts.join == lang::JoinKind::kAll
                       ? total
                       : (ts.join == lang::JoinKind::kOne ? 1 : ts.join_count);
    bool run = static_cast<int64_t>(satisfied.size()) >= need;
    if (ts.join == lang::JoinKind::kAll && !errors.empty()) run = false;
    bool fail = ts.join == lang::JoinKind::kAll
                    ? !errors.empty()
                    : static_cast<int64_t>(errors.size()) > total - need;
    if (force && !run) {
      fail = true;
      for (auto& b : blocked) errors.push_back(b);
    }
    if (run) {
      // Merge upstream outbound contexts with context versioning (higher version wins, ties keep
      // first).
      JsonObject ctx;
      std::map<std::string, int64_t> versions;
      for (const auto& in : satisfied) {
        const TaskExecution* u = st_.FindLatestTask(in);
        Json out = u->OutboundContext();
        for (const auto& kv : out.get_object()) {
          std::string key(kv.key());
          auto vit = u->context_versions.find(key);
          int64_t v = vit == u->context_versions.end() ? 0 : vit->second;
          auto cur = versions.find(key);
          if (!ctx.contains(key) || (cur != versions.end() && v > cur->second) ||
              (cur == versions.end() && v > 0)) {
            ctx[key] = kv.value();
            versions[key] = v;
          }
        }
      }
      TaskExecution& t = MutTask(ti);
      t.in_context = std::move(ctx);
      t.context_versions = std::move(versions);
      SetTaskState(ti, State::kIdle);
      RunTaskPolicies(ti);
      return true;
    }
    if (fail) {
      Finalize(ti, State::kError, "Failed by tasks: " + PyList(errors));
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------------- reverse
  // Starts every needed task whose requirements all succeeded.
  void ReverseContinue() {
    std::string target;
    if (st_.params.is_object()) {
      if (const Json* v = st_.params.get_object().if_contains("task_name"); v && v->is_string()) {
        target = std::string(v->get_string());
      }
    }
    // DFS post-order over `requires` from the target.
    std::vector<std::string> order;
    std::set<std::string> seen;
    std::function<void(const std::string&)> visit = [&](const std::string& n) {
      if (!seen.insert(n).second) return;
      const lang::TaskSpec* ts = spec_->FindTask(n);
      if (!ts) return;
      for (const auto& r : ts->requires_tasks) visit(r);
      order.push_back(n);
    };
    visit(target);
    for (const auto& n : order) {
      if (!WfRunning()) return;
      if (st_.FindLatestTask(n) != nullptr) continue;
      const lang::TaskSpec* ts = spec_->FindTask(n);
      bool ready = true;
      JsonObject ctx;
      std::map<std::string, int64_t> versions;
      for (const auto& r : ts->requires_tasks) {
        const TaskExecution* rt = st_.FindLatestTask(r);
        if (rt == nullptr || rt->state != State::kSuccess || !rt->processed) {
          ready = false;
          break;
        }
        Overlay(ctx, rt->OutboundContext());
        for (const auto& [k, v] : rt->context_versions) versions[k] = std::max(versions[k], v);
      }
      if (!ready) continue;
      StartTask(n, Json(std::move(ctx)), std::move(versions), std::nullopt);
    }
  }

  // ---------------------------------------------------------------------------------- completion
  // state_info of a `fail` command without msg: the failure text if some error is unhandled, else
  // None.
  std::optional<std::string> DefaultFailInfo() const {
    for (const auto& t : st_.tasks) {
      if (t.state == State::kError && !t.error_handled) return FailureMessage();
    }
    return std::nullopt;
  }

  std::string FailureMessage() const {
    std::vector<const TaskExecution*> failed;
    for (const auto& t : st_.tasks) {
      if (t.state == State::kError && !t.error_handled) failed.push_back(&t);
    }
    std::vector<std::string> names;
    for (const auto* t : failed) names.push_back(t->name);
    std::string msg = "Failure caused by error in tasks: " + JoinNames(names) + "\n";
    for (const auto* t : failed) {
      msg += "\n  " + t->name + " [task_ex_id=" + t->id + "] -> " +
             (t->state_info ? *t->state_info : "None") + "\n";
      int i = 0;
      for (const auto& a : t->actions) {
        if (!a.accepted || a.state != State::kError || a.is_workflow) continue;
        msg += "    [action_ex_id=" + a.id + ", idx=" + std::to_string(i++) +
               "]: " + (a.state_info ? *a.state_info : "None") + "\n";
      }
      i = 0;
      for (const auto& a : t->actions) {
        if (!a.accepted || a.state != State::kError || !a.is_workflow) continue;
        msg += "    [wf_ex_id=" + a.id + ", idx=" + std::to_string(i++) +
               "]: " + (a.state_info ? *a.state_info : "None") + "\n";
      }
    }
    return msg;
  }

  void CheckCompletion() {
    if (!WfRunning()) return;
    if (!st_.backlog.empty()) return;
    if (st_.index.incomplete_tasks > 0) {
      // Joins that can no longer be satisfied when nothing else runs would wait forever: fail them.
      int64_t waiting_joins = 0;
      std::vector<size_t> joins;
      for (const auto& [name, ti] : st_.index.join_task_by_name) {
        if (MutTask(ti).state == State::kWaiting) {
          ++waiting_joins;
          joins.push_back(ti);
        }
      }
      if (waiting_joins == 0 || waiting_joins != st_.index.incomplete_tasks) return;
      std::sort(joins.begin(), joins.end());
      EvaluateJoin(joins.front(), /*force=*/true);
      return;  // Finalize re-enters CheckCompletion
    }
    bool cancelled = false, unhandled = false;
    for (const auto& t : st_.tasks) {
      if (t.state == State::kCancelled) cancelled = true;
      if (t.state == State::kError && !t.error_handled) unhandled = true;
    }
    if (cancelled) return CompleteWorkflow(State::kCancelled, std::nullopt);
    if (unhandled) return CompleteWorkflow(State::kError, FailureMessage());
    CompleteWorkflow(State::kSuccess, std::nullopt);
  }

  // Mistral's final context: the outbound contexts of the end tasks (completed, no next task) merged.
  // `failed`: for a failed workflow, whose end tasks include the ERROR and CANCELLED ones.
  Json FinalContext(bool failed = false) const {
    JsonObject ctx;
    if (spec_->type == lang::WorkflowType::kReverse) {
      std::string target;
      if (const Json* v = st_.params.get_object().if_contains("task_name"); v && v->is_string()) {
        target = std::string(v->get_string());
      }
      if (const TaskExecution* t = st_.FindLatestTask(target)) Overlay(ctx, t->OutboundContext());
      return ctx;
    }
    Json out(std::move(ctx));
    for (const auto& t : st_.tasks) {
      const bool end_state = t.state == State::kSuccess || t.state == State::kSkipped ||
                             (failed && (t.state == State::kError || t.state == State::kCancelled));
      if (end_state && !t.has_next_tasks) DeepMerge(out, t.OutboundContext());
    }
    return out;
  }

  void CompleteWorkflow(State s, std::optional<std::string> info) {
    Json final_ctx = FinalContext(/*failed=*/s == State::kError);
    JsonObject data;
    Overlay(data, st_.input);
    Overlay(data, st_.global_context);
    Overlay(data, final_ctx);
    Json data_json(std::move(data));
    if (s == State::kSuccess) {
      bool use_ctx = !spec_->output || (spec_->output->Source().is_object() &&
                                        spec_->output->Source().get_object().empty());
      if (use_ctx) {
        st_.output = final_ctx;
      } else {
        auto v = Eval(*spec_->output, data_json, std::nullopt);
        if (!v.ok()) {
          s = State::kError;
          info = "Failed to evaluate workflow output: " + v.status().message();
        } else {
          st_.output = std::move(v).value();
        }
      }
    }
    if (s == State::kError) {
      // Mistral 15: {"result": state_info} merged with the evaluated output-on-error, or with the final
      // context when there is none (or it evaluates to nothing); a key of theirs named "result" wins. An
      // output-on-error that fails to evaluate replaces the message (and the state_info) with why.
      Json extra = final_ctx;
      if (spec_->output_on_error) {
        auto v = Eval(*spec_->output_on_error, data_json, std::nullopt);
        if (!v.ok()) {
          info = "Failed to evaluate expression in output-on-error! (output-on-error: '" +
                 PythonStr(spec_->output_on_error->Source()) + "', exception: '" +
                 v.status().message() + "' Cause: '" + info.value_or("") + "'";
          extra = JsonObject();
        } else if (IsTruthy(*v)) {
          extra = std::move(v).value();
        }
      }
      Json out = JsonObject{{"result", info ? Json(*info) : Json(nullptr)}};
      if (extra.is_object()) DeepMerge(out, extra);
      st_.output = std::move(out);
    }
    if (s == State::kCancelled && !st_.output.is_object()) st_.output = JsonObject();
    st_.state = s;
    st_.state_info = info;
    st_.updated_at = now_;
    st_.backlog.clear();
    if (s == State::kCancelled) CancelChildren();
    ExecutionFinished fin;
    fin.execution_id = st_.id;
    fin.workflow_name = st_.workflow_name;
    fin.state = s;
    fin.output = st_.output;
    fin.state_info = info;
    fin.parent_execution_id = st_.parent_execution_id;
    fin.parent_task_execution_id = st_.parent_task_execution_id;
    fin.root_execution_id = st_.root_execution_id;
    if (st_.report_tasks) fin.tasks = ReportedTasks();
    st_.finished_notified = true;
    Emit(std::move(fin));
  }

  // Whether this execution keeps its finished sub-executions' tasks: it reads tasks(recursive) or
  // reports them to a parent that does.
  bool KeepsSubTasks() const { return spec_->reads_sub_tasks || st_.report_tasks; }

  // This execution's tasks, then each finished sub-execution's (depth first), as Mistral's
  // tasks(id, recursive=true) lists them: entries {"task": <task dict>, "sub_states": [...]}.
  Json ReportedTasks() const {
    JsonArray out;
    AppendOwnTasks(out);
    AppendSubTasks(out);
    return Json(std::move(out));
  }
  void AppendOwnTasks(JsonArray& out) const {
    for (const auto& t : st_.tasks) {
      JsonArray sub_states;
      for (const auto& a : t.actions)
        if (a.is_workflow) sub_states.push_back(Json(StateName(a.state)));
      out.push_back(JsonObject{{"task", TaskDict(t)}, {"sub_states", std::move(sub_states)}});
    }
  }
  void AppendSubTasks(JsonArray& out) const {
    for (const auto& t : st_.tasks) {
      if (t.type != TaskExecution::Type::kWorkflow) continue;
      for (const auto& a : t.actions) {
        if (!a.is_workflow || !a.sub_tasks.is_array()) continue;
        for (const auto& e : a.sub_tasks.get_array()) out.push_back(e);
      }
    }
  }

  // Task and workflow fail at once; on-error does not run.
  void ForceFail(size_t ti, std::string msg) {
    TaskExecution& t = MutTask(ti);
    CancelTimerIfAny(t.timeout_timer_id);
    CancelTimerIfAny(t.pending_timer_id);
    t.state_info = msg;
    t.force_failed = true;
    t.processed = true;
    t.error_handled = false;
    t.has_next_tasks = false;
    t.next_task_names.clear();
    SetTaskState(ti, State::kError);
    if (WfRunning() || st_.state == State::kPaused) CompleteWorkflow(State::kError, msg);
  }

  // ------------------------------------------------------------------------------ sub-executions
  void ForEachRunningChild(ControlSubExecution::Op op, const std::string& except = {}) {
    for (const auto& t : st_.tasks) {
      if (IsCompleted(t.state)) continue;
      for (const auto& a : t.actions) {
        if (a.is_workflow && a.accepted && !IsCompleted(a.state) && a.id != except) {
          Emit(ControlSubExecution{st_.id, a.id, op});
        }
      }
    }
  }
  // A sub-workflow tells its parent each time it pauses or resumes (Mistral's on_action_update):
  // the parent's task shows PAUSED, the parent pauses with it and resumes when no task of it is
  // paused.
  void NotifyParentIfAny(State s) {
    if (st_.parent_execution_id.empty()) return;
    Emit(NotifyParent{st_.id, st_.parent_execution_id, st_.parent_task_execution_id, s});
  }
  // The workflow itself goes PAUSED: its running children are paused (all but `except`, the child
  // whose pause caused this one) and its parent is told.
  void EnterPaused(const std::string& except = {}) {
    st_.state = State::kPaused;
    st_.updated_at = now_;
    ForEachRunningChild(ControlSubExecution::Op::kPause, except);
    NotifyParentIfAny(State::kPaused);
  }
  void CancelChildren() { ForEachRunningChild(ControlSubExecution::Op::kCancel); }

  // -------------------------------------------------------------------------------------- timers
  Status OnTimer(const TimerFired& ev) {
    auto it = st_.timers.find(ev.timer_id);
    if (it == st_.timers.end()) return Status::Ok();  // cancelled or already handled
    if (st_.state == State::kPaused) {
      it->second.fired = true;
      return Status::Ok();
    }
    TimerInfo info = it->second;
    st_.timers.erase(it);
    HandleTimer(ev.timer_id, info);
    CheckCompletion();
    return Status::Ok();
  }

  void HandleTimer(const std::string& timer_id, const TimerInfo& info) {
    auto tit = st_.index.task_by_id.find(info.task_execution_id);
    if (tit == st_.index.task_by_id.end()) return;
    size_t ti = tit->second;
    TaskExecution& t = MutTask(ti);
    switch (info.kind) {
      case TimerInfo::Kind::kWaitBefore:
      case TimerInfo::Kind::kRetry:
        if (t.pending_timer_id != timer_id || t.state != State::kDelayed) return;
        t.pending_timer_id.clear();
        if (IsCompleted(st_.state)) {
          // The workflow finished meanwhile: do not start actions for it.
          Finalize(ti, State::kCancelled, "Workflow execution is already completed");
          return;
        }
        RunTaskBody(ti);
        return;
      case TimerInfo::Kind::kWaitAfter:
        if (t.pending_timer_id != timer_id || t.state != State::kDelayed) return;
        t.pending_timer_id.clear();
        Finalize(ti, t.final_state, t.state_info);
        return;
      case TimerInfo::Kind::kTimeout: {
        if (t.timeout_timer_id != timer_id || IsCompleted(t.state)) return;
        t.timeout_timer_id.clear();
        CancelTimerIfAny(t.pending_timer_id);
        const lang::TaskSpec& ts = *spec_->FindTask(t.name);
        int64_t secs = 0;
        if (ts.timeout) {
          auto v = Eval(*ts.timeout, TaskScope(ti), ti);
          if (v.ok()) secs = ToNonNegativeInt(*v, "timeout").value_or(0);
        }
        // A normal ERROR completion: retry and on-error apply; running actions are left alone.
        AfterActionsComplete(ti, State::kError,
                             "Task timed out [timeout(s)=" + std::to_string(secs) + "].");
        return;
      }
    }
  }

  // ---------------------------------------------------------------------------------- operations
  Status Pause() {
    if (st_.state == State::kPaused) return Status::Ok();
    if (st_.state != State::kRunning && st_.state != State::kIdle) {
      return FailedPrecondition("cannot pause execution " + st_.id + " in state " +
                                std::string(StateName(st_.state)));
    }
    EnterPaused();
    return Status::Ok();
  }

  Status Resume(const ResumeExecution& ev) {
    if (st_.state != State::kPaused && st_.state != State::kIdle) {
      return FailedPrecondition("cannot resume execution " + st_.id + " in state " +
                                std::string(StateName(st_.state)));
    }
    if (ev.env) {
      Json& env = st_.params.get_object()["env"];
      if (!env.is_object()) env = JsonObject();
      DeepMerge(env, *ev.env);
    }
    ResumeRunning();
    return Status::Ok();
  }

  // A child paused or resumed (Mistral's task_handler._on_action_update): its action and task show
  // it (a task is PAUSED while any of its children is), this execution pauses with it, and resumes
  // once none of its tasks is paused. Stale updates (a child or task already completed) change
  // nothing.
  Status OnSubWorkflowUpdated(const SubWorkflowUpdated& ev) {
    if (ev.state != State::kPaused && ev.state != State::kRunning) {
      return InvalidArgument("SubWorkflowUpdated carries PAUSED or RUNNING, not " +
                             std::string(StateName(ev.state)));
    }
    auto it = st_.index.action_by_id.find(ev.sub_execution_id);
    if (it == st_.index.action_by_id.end()) {
      return NotFound("sub-workflow execution " + ev.sub_execution_id + " not found in execution " +
                      st_.id);
    }
    auto [ti, ai] = it->second;
    if (IsCompleted(MutAction(ti, ai).state) || IsCompleted(MutTask(ti).state)) return Status::Ok();
    if (IsCompleted(st_.state)) return Status::Ok();
    ActionExecution& a = MutAction(ti, ai);
    a.state = ev.state;
    a.updated_at = now_;
    if (ev.state == State::kPaused) {
      if (MutTask(ti).state == State::kRunning) SetTaskState(ti, State::kPaused);
      if (WfRunning()) EnterPaused(ev.sub_execution_id);
      return Status::Ok();
    }
    const TaskExecution& t = MutTask(ti);
    bool child_paused = std::any_of(t.actions.begin(), t.actions.end(), [](const auto& x) {
      return x.is_workflow && x.accepted && x.state == State::kPaused;
    });
    if (t.state == State::kPaused && !child_paused) SetTaskState(ti, State::kRunning);
    bool task_paused = std::any_of(st_.tasks.begin(), st_.tasks.end(),
                                   [](const auto& x) { return x.state == State::kPaused; });
    if (st_.state == State::kPaused && !task_paused) {
      ResumeRunning(ev.sub_execution_id);
    } else if (WfRunning() && MutTask(ti).state == State::kRunning) {
      ContinueTask(ti);  // children that completed while the task was paused
      CheckCompletion();
    }
    return Status::Ok();
  }

  // Back to RUNNING: children resumed (all but `except`, the child whose resume caused this one),
  // the parent told, then what waited for the pause to end.
  void ResumeRunning(const std::string& except = {}) {
    st_.state = State::kRunning;
    st_.state_info.reset();
    st_.updated_at = now_;
    ForEachRunningChild(ControlSubExecution::Op::kResume, except);
    NotifyParentIfAny(State::kRunning);
    // Timers that fired while paused.
    std::vector<std::pair<std::string, TimerInfo>> fired;
    for (const auto& [id, info] : st_.timers) {
      if (info.fired) fired.emplace_back(id, info);
    }
    std::sort(fired.begin(), fired.end(),
              [](auto& a, auto& b) { return a.second.fire_at < b.second.fire_at; });
    for (auto& [id, info] : fired) {
      st_.timers.erase(id);
      if (!WfRunning()) break;
      HandleTimer(id, info);
    }
    // pause-before tasks, then completions that arrived while paused.
    size_t n = st_.tasks.size();
    for (size_t ti = 0; ti < n && WfRunning(); ++ti) {
      if (MutTask(ti).state == State::kIdle && MutTask(ti).paused_before) RunTaskPolicies(ti);
    }
    for (size_t ti = 0; ti < n && WfRunning(); ++ti) {
      if (MutTask(ti).state == State::kRunning) ContinueTask(ti);
    }
    for (size_t ti = 0; ti < n && WfRunning(); ++ti) {
      const TaskExecution& t = MutTask(ti);
      if (IsCompleted(t.state) && !t.processed) ProcessCompleted(ti);
    }
    // Task starts held back by a `pause` command.
    std::vector<BackloggedStart> backlog;
    backlog.swap(st_.backlog);
    for (size_t i = 0; i < backlog.size(); ++i) {
      if (st_.state == State::kPaused) {  // paused again: keep the rest
        st_.backlog.insert(st_.backlog.end(), backlog.begin() + i, backlog.end());
        break;
      }
      if (!WfRunning()) break;
      StartNext(backlog[i].task_name, backlog[i].triggered_by_task_id, backlog[i].event);
    }
    if (spec_->type == lang::WorkflowType::kReverse && WfRunning()) ReverseContinue();
    EvaluateJoins();
    CheckCompletion();
  }

  Status Stop(State s, std::optional<std::string> info) {
    if (IsCompleted(st_.state)) {
      return FailedPrecondition("execution " + st_.id + " is already " +
                                std::string(StateName(st_.state)));
    }
    if (s != State::kSuccess && s != State::kError && s != State::kCancelled) {
      return InvalidArgument("an execution can be stopped only with SUCCESS, ERROR or CANCELLED");
    }
    CompleteWorkflow(s, info);
    return Status::Ok();
  }

  Status Rerun(const RerunTask& ev) {
    auto it = st_.index.task_by_id.find(ev.task_execution_id);
    if (it == st_.index.task_by_id.end())
      return NotFound("task execution " + ev.task_execution_id + " not found");
    size_t ti = it->second;
    TaskExecution& t = MutTask(ti);
    if (st_.state == State::kPaused) {
      return FailedPrecondition("execution " + st_.id +
                                " is paused; resume it before rerunning tasks");
    }
    if (t.state != State::kError) {
      return FailedPrecondition("task " + t.name + " [id=" + t.id +
                                "] must be in ERROR to rerun, it is " +
                                std::string(StateName(t.state)));
    }
    if (!ev.reset && !t.with_items.enabled) {
      return FailedPrecondition("reset=false is only allowed for with-items tasks");
    }
    if (ev.env) {
      Json& env = st_.params.get_object()["env"];
      if (!env.is_object()) env = JsonObject();
      DeepMerge(env, *ev.env);
    }
    st_.state = State::kRunning;
    st_.state_info.reset();
    st_.finished_notified = false;
    st_.updated_at = now_;
    t.state_info.reset();
    t.force_failed = false;
    t.processed = false;
    t.error_handled = false;
    t.has_next_tasks = false;
    t.next_task_names.clear();
    t.published = JsonObject();
    MarkActions(ti);
    if (ev.reset || !t.with_items.enabled) {
      for (auto& a : t.actions) a.accepted = false;
      RunTaskBody(ti);
    } else {
      WithItemsState& w = t.with_items;
      w.pending.clear();
      w.pending_pos = 0;
      for (auto& a : t.actions) {
        if (a.accepted && a.state != State::kSuccess) {
          a.accepted = false;
          w.pending.push_back(a.index);
        }
      }
      std::sort(w.pending.begin(), w.pending.end());
      w.failed = 0;
      w.cancelled = 0;
      w.running = 0;
      SetTaskState(ti, State::kRunning);
      ContinueTask(ti);
    }
    CheckCompletion();
    return Status::Ok();
  }

  Status Skip(const SkipTask& ev) {
    auto it = st_.index.task_by_id.find(ev.task_execution_id);
    if (it == st_.index.task_by_id.end())
      return NotFound("task execution " + ev.task_execution_id + " not found");
    size_t ti = it->second;
    if (MutTask(ti).state != State::kError) {
      return FailedPrecondition("task " + MutTask(ti).name + " must be in ERROR to skip, it is " +
                                std::string(StateName(MutTask(ti).state)));
    }
    if (st_.state == State::kPaused)
      return FailedPrecondition("execution " + st_.id + " is paused");
    if (IsCompleted(st_.state)) {
      st_.state = State::kRunning;
      st_.state_info.reset();
      st_.finished_notified = false;
    }
    TaskExecution& t = MutTask(ti);
    t.force_failed = false;
    t.error_handled = false;
    t.published = JsonObject();
    Finalize(ti, State::kSkipped, std::nullopt);
    return Status::Ok();
  }

  std::optional<size_t> current_task_;

 private:
  const Engine* engine_;
  const Definitions* defs_;
  const workers::ActionRegistry* actions_;
  ExecutionState& st_;
  std::shared_ptr<const lang::WorkflowSpec> spec_;
  TimestampUs now_;
  // YAQL's now() reads the event's time, so applying an event twice gives the same state.
  ManualClock expression_clock_{now_};
  std::vector<Command>* out_;
  std::optional<std::map<std::string, std::vector<std::string>>> inbound_;  // lazily built
};

Result<Json> StateHost::Call(std::string_view name, std::span<const Json> args,
                             const expr::KwArgs& kwargs) {
  auto kw = [&](std::string_view key, size_t pos) -> const Json* {
    for (const auto& [k, v] : kwargs) {
      if (k == key) return &v;
    }
    return pos < args.size() ? &args[pos] : nullptr;
  };
  ExecutionState& st = runner_->st();
  if (name == "task") {
    const Json* n = kw("task_name", 0);
    if (n == nullptr) n = kw("name", 99);
    if (n == nullptr || n->is_null()) {
      if (!current_) return Json(nullptr);
      return runner_->TaskDict(st.tasks[*current_]);
    }
    if (!n->is_string()) return InvalidArgument("task(): the task name must be a string");
    const TaskExecution* t = st.FindLatestTask(n->get_string());
    if (t == nullptr) return Json(nullptr);
    return runner_->TaskDict(*t);
  }
  if (name == "tasks") {
    return runner_->Tasks(kw("workflow_execution_id", 0), kw("recursive", 1), kw("state", 2),
                          kw("flat", 3));
  }
  if (name == "execution") return runner_->ExecutionDict();
  if (name == "env") return st.Env();
  if (name == "global") {
    const Json* n = kw("var_name", 0);
    if (n == nullptr || !n->is_string()) return Json(nullptr);
    if (const Json* v = st.global_context.get_object().if_contains(n->get_string())) return *v;
    return Json(nullptr);
  }
  return NotFound("no function named " + std::string(name));
}

}  // namespace

// -------------------------------------------------------------------------------------------
// Engine

Engine::Engine(const Definitions* definitions, const workers::ActionRegistry* actions,
               EngineLimits limits)
    : definitions_(definitions), actions_(actions), limits_(limits) {}

Result<Json> Engine::ValidateWorkflowInput(const lang::WorkflowSpec& spec,
                                           const Json& input) const {
  if (!input.is_object() && !input.is_null()) {
    return InvalidArgument("Invalid input [name=" + spec.full_name +
                           ", class=WorkflowSpec]: expected a dict, got " +
                           std::string(PythonTypeName(input)) + " " + PythonRepr(input));
  }
  JsonObject in = input.is_object() ? input.get_object() : JsonObject();
  JsonObject out;
  std::vector<std::string> missing, unexpected;
  std::set<std::string> declared;
  for (const auto& p : spec.input) {
    declared.insert(p.name);
    if (auto* v = in.if_contains(p.name)) {
      out[p.name] = *v;
    } else if (p.has_default) {
      out[p.name] = p.default_value;
    } else {
      missing.push_back(p.name);
    }
  }
  for (const auto& kv : in) {
    if (!declared.contains(std::string(kv.key()))) unexpected.emplace_back(kv.key());
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string msg = "Invalid input [name=" + spec.full_name + ", class=WorkflowSpec";
    if (!missing.empty()) msg += ", missing=" + PyList(missing);
    if (!unexpected.empty()) msg += ", unexpected=" + PyList(unexpected);
    msg += "]";
    return InvalidArgument(msg);
  }
  return Json(std::move(out));
}

std::shared_ptr<const lang::WorkflowSpec> Engine::ResolveWorkflow(
    std::string_view name, std::string_view workbook, std::string_view namespace_name) const {
  std::vector<std::string> candidates;
  if (!workbook.empty()) candidates.push_back(std::string(workbook) + "." + std::string(name));
  candidates.push_back(std::string(name));
  for (const auto& c : candidates) {
    if (auto w = definitions_->FindWorkflow(c, namespace_name)) return w;
  }
  if (!namespace_name.empty()) {
    for (const auto& c : candidates) {
      if (auto w = definitions_->FindWorkflow(c, "")) return w;
    }
  }
  return nullptr;
}

Status Engine::Apply(ExecutionState& state, const Event& event, TimestampUs now,
                     std::vector<Command>* out) const {
  if (out == nullptr) return InvalidArgument("Apply: `out` must not be null");
  if (const auto* start = std::get_if<StartExecution>(&event)) {
    if (!state.id.empty()) return FailedPrecondition("execution " + state.id + " already exists");
    if (start->execution_id.empty()) return InvalidArgument("StartExecution: empty execution_id");
    auto spec = ResolveWorkflow(start->workflow_name, "", start->workflow_namespace);
    bool is_sub = !start->parent_execution_id.empty();
    if (!spec) {
      if (!is_sub)
        return NotFound("Workflow not found [workflow_identifier=" + start->workflow_name + "]");
      // A sub-workflow that cannot start still finishes (ERROR) so its parent task fails.
      state.id = start->execution_id;
      state.workflow_name = start->workflow_name;
      state.workflow_namespace = start->workflow_namespace;
      state.parent_execution_id = start->parent_execution_id;
      state.parent_task_execution_id = start->parent_task_execution_id;
      state.root_execution_id = start->root_execution_id;
      state.state = State::kError;
      state.state_info = "Workflow not found [workflow_identifier=" + start->workflow_name + "]";
      state.created_at = state.updated_at = now;
      ExecutionFinished fin;
      fin.execution_id = state.id;
      fin.workflow_name = state.workflow_name;
      fin.state = State::kError;
      fin.state_info = state.state_info;
      fin.output = JsonObject{{"result", *state.state_info}};
      fin.parent_execution_id = state.parent_execution_id;
      fin.parent_task_execution_id = state.parent_task_execution_id;
      fin.root_execution_id = state.root_execution_id;
      state.finished_notified = true;
      out->push_back(std::move(fin));
      return Status::Ok();
    }
    if (!is_sub) {
      BORA_RETURN_IF_ERROR(ValidateWorkflowInput(*spec, start->input).status());
    }
    if (spec->type == lang::WorkflowType::kReverse) {
      const Json* tn =
          start->params.is_object() ? start->params.get_object().if_contains("task_name") : nullptr;
      std::string msg;
      if (tn == nullptr || !tn->is_string()) {
        msg = "Invalid input [name=" + spec->full_name +
              "]: reverse workflow requires params.task_name";
      } else if (spec->FindTask(std::string(tn->get_string())) == nullptr) {
        msg = "Invalid input [name=" + spec->full_name + "]: task '" +
              std::string(tn->get_string()) + "' not found";
      }
      if (!msg.empty() && !is_sub) return InvalidArgument(msg);
    }
    Runner r(this, definitions_, actions_, state, spec, now, out);
    return r.Start(*start);
  }

  if (state.id.empty())
    return FailedPrecondition("execution does not exist (apply StartExecution first)");
  if (EventExecutionId(event) != state.id) {
    return InvalidArgument("event for execution " + EventExecutionId(event) + " applied to " +
                           state.id);
  }
  // A purge needs no definition (the workflow may be gone) and changes nothing in the state: the
  // runtime deletes it.
  if (std::holds_alternative<PurgeExecution>(event)) {
    if (!IsCompleted(state.state)) {
      return FailedPrecondition("execution " + state.id + " is " + std::string(StateName(state.state)) +
                                "; only a completed execution can be purged");
    }
    for (const auto& t : state.tasks) {
      for (const auto& a : t.actions) {
        if (a.is_workflow) out->push_back(ControlSubExecution{state.id, a.id, ControlSubExecution::Op::kPurge});
      }
    }
    out->push_back(DeleteExecution{state.id});
    return Status::Ok();
  }
  auto spec = definitions_->FindWorkflow(state.workflow_name, state.workflow_namespace);
  if (!spec && !state.workflow_namespace.empty())
    spec = definitions_->FindWorkflow(state.workflow_name, "");
  if (!spec) return NotFound("workflow definition " + state.workflow_name + " not found");
  Runner r(this, definitions_, actions_, state, spec, now, out);
  TimestampUs previous_update = state.updated_at;
  state.updated_at = now;
  Status status = std::visit(
      [&](const auto& ev) -> Status {
        using T = std::decay_t<decltype(ev)>;
        if constexpr (std::is_same_v<T, StartExecution>) {
          return Internal("unreachable");
        } else if constexpr (std::is_same_v<T, ActionCompleted>) {
          return r.OnActionCompleted(ev);
        } else if constexpr (std::is_same_v<T, SubWorkflowCompleted>) {
          return r.OnSubWorkflowCompleted(ev);
        } else if constexpr (std::is_same_v<T, TimerFired>) {
          return r.OnTimer(ev);
        } else if constexpr (std::is_same_v<T, PauseExecution>) {
          return r.Pause();
        } else if constexpr (std::is_same_v<T, ResumeExecution>) {
          return r.Resume(ev);
        } else if constexpr (std::is_same_v<T, CancelExecution>) {
          return r.Stop(State::kCancelled, ev.state_info);
        } else if constexpr (std::is_same_v<T, StopExecution>) {
          return r.Stop(ev.state, ev.state_info);
        } else if constexpr (std::is_same_v<T, RerunTask>) {
          return r.Rerun(ev);
        } else if constexpr (std::is_same_v<T, SkipTask>) {
          return r.Skip(ev);
        } else if constexpr (std::is_same_v<T, SubWorkflowUpdated>) {
          return r.OnSubWorkflowUpdated(ev);
        } else {
          return Internal("unreachable");  // PurgeExecution, handled above
        }
      },
      event);
  if (!status.ok()) state.updated_at = previous_update;  // refused events change nothing
  return status;
}

}  // namespace bora::engine
