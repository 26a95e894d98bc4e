// The Runner (runner.h): execution start and input, task creation and start (pause-before,
// wait-before, timeout, with-items launch), sub-workflow start, action run and ad-hoc action
// expansion.

#include "orchestrator/engine/runner.h"

namespace bora::engine {

// ----------------------------------------------------------------------------------- resolution
std::shared_ptr<const lang::AdhocActionSpec> Runner::FindAdhoc(std::string_view name,
                                                               std::string_view workbook) const {
  std::vector<std::string> candidates;
  if (!workbook.empty()) candidates.push_back(std::string(workbook) + "." + std::string(name));
  candidates.push_back(std::string(name));
  const std::string fallback(DefaultNamespaceOf(st_.workflow_namespace));
  for (const auto& ns : {st_.workflow_namespace, fallback}) {
    for (const auto& c : candidates) {
      if (auto a = defs_->FindAction(c, ns)) return a;
    }
    if (st_.workflow_namespace == fallback) break;
  }
  return nullptr;
}

Result<Runner::ConcreteAction> Runner::ExpandAction(const std::string& name, Json input,
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
      return InvalidArgument("Invalid input [name=" + adhoc->full_name +
                             ", class=" + adhoc->full_name + ", missing=" + PyList(missing) + "]");
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
  result.pool = sig->pool;
  return result;
}

// Applies ad-hoc `output` transforms (innermost first) to a raw action result.
Result<Json> Runner::TransformAdhocOutput(const std::string& adhoc_name, Json raw) {
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
Status Runner::Start(const StartExecution& ev) {
  auto spec = spec_;
  st_.id = ev.execution_id;
  st_.workflow_name = spec->full_name;
  st_.workflow_namespace = ev.workflow_namespace;
  st_.project_id = ev.project_id;
  st_.user_id = ev.user_id;
  st_.security = ev.security;
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
  params["namespace"] = std::string(PlainNamespace(ev.workflow_namespace));
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
      CompleteWorkflow(State::kError,
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
void Runner::StartTask(const std::string& name, Json in_ctx,
                       std::map<std::string, int64_t> versions, std::optional<TriggeredBy> trig) {
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
bool Runner::WithinTaskLimit(const std::string& name) {
  const int64_t limit = engine_->limits().max_tasks_per_execution;
  if (static_cast<int64_t>(st_.tasks.size()) < limit) return true;
  if (!IsCompleted(st_.state)) {
    CompleteWorkflow(State::kError, "Failed to start task [wf=" + st_.workflow_name +
                                        ", task=" + name + "]: the execution already has " +
                                        std::to_string(st_.tasks.size()) +
                                        " task executions, the limit (--max-tasks-per-execution)");
  }
  return false;
}

size_t Runner::NewTask(const std::string& name, State s) {
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
void Runner::RunTaskPolicies(size_t ti) {
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

// Starts the task's action(s) / sub-workflow(s).
void Runner::RunTaskBody(size_t ti) {
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
    if (*secs > 0) MutTask(ti).timeout_timer_id = SetTimerFor(ti, TimerInfo::Kind::kTimeout, *secs);
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

void Runner::LaunchPendingItems(size_t ti) {
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

// A task whose action nobody has declared yet waits for a worker to declare it (EngineLimits::
// undeclared_action_wait_s): RUNNING_DELAYED with a state_info that says so, looked up again
// after 1..5 s. False when it does not wait: waiting is off, the time is up, or the task already
// ran actions (a with-items item naming another action).
bool Runner::AwaitDeclaration(size_t ti, const std::string& action_name) {
  const int64_t limit_s = engine_->limits().undeclared_action_wait_s;
  TaskExecution& t = MutTask(ti);
  if (limit_s <= 0 || !t.actions.empty()) return false;
  if (t.awaiting_action_since == 0) t.awaiting_action_since = now_;
  const int64_t waited_s = (now_ - t.awaiting_action_since) / 1'000'000;
  if (waited_s >= limit_s) return false;
  SetTaskState(ti, State::kDelayed);
  TaskExecution& task = MutTask(ti);
  task.state_info = "Waiting for a worker to declare action '" + action_name +
                    "': no worker has declared it yet (the task fails if none does within " +
                    std::to_string(limit_s) + " s)";
  const int64_t next_s = std::clamp<int64_t>(waited_s / 2, 1, 5);
  task.pending_timer_id =
      SetTimerFor(ti, TimerInfo::Kind::kAwaitAction, std::min(next_s, limit_s - waited_s));
  return true;
}

// Launches one action / sub-workflow for item `index`. False if the task was force-failed.
bool Runner::LaunchOne(size_t ti, int64_t index, const Json* extra) {
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
      ForceFail(ti, RunError(ti, "Failed to find workflow [name=" + wf_name + ", namespace=" +
                                     std::string(PlainNamespace(st_.workflow_namespace)) + "]"));
      return false;
    }
    if (const int limit = engine_->limits().max_subworkflow_depth; st_.depth >= limit) {
      ForceFail(
          ti, RunError(ti, "sub-workflow " + wf_name + " would be nested " +
                               std::to_string(st_.depth + 1) + " levels deep, over the limit of " +
                               std::to_string(limit) + " (--max-subworkflow-depth)"));
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
    sub_params["namespace"] = std::string(PlainNamespace(st_.workflow_namespace));
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
    start.project_id = st_.project_id;
    start.user_id = st_.user_id;
    start.security = st_.security;
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
  if (!concrete.ok()) {
    if (concrete.status().code() == StatusCode::kNotFound && AwaitDeclaration(ti, action_name)) {
      return false;
    }
    std::string why = concrete.status().message();
    if (const TimestampUs since = MutTask(ti).awaiting_action_since; since != 0) {
      why += ": no worker declared it within " + std::to_string((now_ - since) / 1'000'000) + " s";
    }
    return ForceFail(ti, RunError(ti, why)), false;
  }
  if (TaskExecution& t = MutTask(ti); t.awaiting_action_since != 0) {
    t.awaiting_action_since = 0;  // a worker declared it: the wait is over
    t.state_info.reset();
  }
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
  // A task without `target:` runs an external action where its workers are (their declared pool).
  cmd.target = target.empty() ? concrete->pool : std::move(target);
  if (ts.timeout) {
    auto tv = Eval(*ts.timeout, data, ti);
    if (tv.ok()) cmd.timeout_s = ToNonNegativeInt(*tv, "timeout").value_or(0);
  }
  cmd.safe_rerun = MutTask(ti).safe_rerun;
  cmd.is_async = concrete->is_async;
  cmd.security = st_.security;
  AddAction(ti, std::move(a));
  Emit(std::move(cmd));
  return true;
}

void Runner::AddAction(size_t ti, ActionExecution a) {
  TaskExecution& t = MutTask(ti);
  st_.index.action_by_id[a.id] = {ti, t.actions.size()};
  t.actions.push_back(std::move(a));
}

}  // namespace bora::engine
