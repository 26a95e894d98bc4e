#include "orchestrator/engine/engine.h"

#include "orchestrator/engine/runner.h"

namespace bora::engine {

// ---------------------------------------------------------------------------------- host helpers
Json Runner::TaskSpecJson(const std::string& name) const {
  JsonObject o;
  o["name"] = name;
  const lang::TaskSpec* ts = spec_ ? spec_->FindTask(name) : nullptr;
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

Json Runner::TaskDict(const TaskExecution& t) const {
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
Result<Json> Runner::Tasks(const Json* wf_id, const Json* recursive, const Json* state,
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

Json Runner::ExecutionDict() const {
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

// -------------------------------------------------------------------------------------------
// Engine

Engine::Engine(const Definitions* definitions, const workers::ActionSignatures* actions,
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
  // Then the default namespace of the execution's project ("" for the default project).
  if (std::string_view fallback = DefaultNamespaceOf(namespace_name); namespace_name != fallback) {
    for (const auto& c : candidates) {
      if (auto w = definitions_->FindWorkflow(c, fallback)) return w;
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
      state.project_id = start->project_id;
      state.user_id = start->user_id;
      state.security = start->security;
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
      return FailedPrecondition("execution " + state.id + " is " +
                                std::string(StateName(state.state)) +
                                "; only a completed execution can be purged");
    }
    for (const auto& t : state.tasks) {
      for (const auto& a : t.actions) {
        if (a.is_workflow)
          out->push_back(ControlSubExecution{state.id, a.id, ControlSubExecution::Op::kPurge});
      }
    }
    out->push_back(DeleteExecution{state.id});
    return Status::Ok();
  }
  auto spec = definitions_->FindWorkflow(state.workflow_name, state.workflow_namespace);
  if (!spec && state.workflow_namespace != DefaultNamespaceOf(state.workflow_namespace))
    spec = definitions_->FindWorkflow(state.workflow_name,
                                      DefaultNamespaceOf(state.workflow_namespace));
  if (!spec) {
    Runner r(this, definitions_, actions_, state, nullptr, now, out);
    TimestampUs previous_update = state.updated_at;
    state.updated_at = now;
    Status status = r.OnDefinitionGone(
        event, "Workflow definition '" + state.workflow_name + "'" +
                   (PlainNamespace(state.workflow_namespace).empty()
                        ? std::string()
                        : " in namespace '" +
                              std::string(PlainNamespace(state.workflow_namespace)) + "'") +
                   " was deleted while the execution ran; it cannot go on");
    if (!status.ok()) state.updated_at = previous_update;
    return status;
  }
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
