// The Runner (runner.h): workflow completion and output, final context, failure text, the tasks
// report for a parent, children control and notifications to the parent.

#include "orchestrator/engine/runner.h"

namespace bora::engine {

// ---------------------------------------------------------------------------------- completion
// state_info of a `fail` command without msg: the failure text if some error is unhandled, else
// None.
std::optional<std::string> Runner::DefaultFailInfo() const {
  for (const auto& t : st_.tasks) {
    if (t.state == State::kError && !t.error_handled) return FailureMessage();
  }
  return std::nullopt;
}

std::string Runner::FailureMessage() const {
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

void Runner::CheckCompletion() {
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
Json Runner::FinalContext(bool failed) const {
  JsonObject ctx;
  if (spec_ && spec_->type == lang::WorkflowType::kReverse) {
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

void Runner::CompleteWorkflow(State s, std::optional<std::string> info) {
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
    // Mistral 15: {"result": state_info} merged with the evaluated output-on-error, or with the
    // final context when there is none (or it evaluates to nothing); a key of theirs named "result"
    // wins. An output-on-error that fails to evaluate replaces the message (and the state_info)
    // with why.
    Json extra = final_ctx;
    if (spec_ && spec_->output_on_error) {
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

// This execution's tasks, then each finished sub-execution's (depth first), as Mistral's
// tasks(id, recursive=true) lists them: entries {"task": <task dict>, "sub_states": [...]}.
Json Runner::ReportedTasks() const {
  JsonArray out;
  AppendOwnTasks(out);
  AppendSubTasks(out);
  return Json(std::move(out));
}

void Runner::AppendOwnTasks(JsonArray& out) const {
  for (const auto& t : st_.tasks) {
    JsonArray sub_states;
    for (const auto& a : t.actions)
      if (a.is_workflow) sub_states.push_back(Json(StateName(a.state)));
    out.push_back(JsonObject{{"task", TaskDict(t)}, {"sub_states", std::move(sub_states)}});
  }
}

void Runner::AppendSubTasks(JsonArray& out) const {
  for (const auto& t : st_.tasks) {
    if (t.type != TaskExecution::Type::kWorkflow) continue;
    for (const auto& a : t.actions) {
      if (!a.is_workflow || !a.sub_tasks.is_array()) continue;
      for (const auto& e : a.sub_tasks.get_array()) out.push_back(e);
    }
  }
}

// ------------------------------------------------------------------------------ sub-executions
void Runner::ForEachRunningChild(ControlSubExecution::Op op, const std::string& except) {
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
void Runner::NotifyParentIfAny(State s) {
  if (st_.parent_execution_id.empty()) return;
  Emit(NotifyParent{st_.id, st_.parent_execution_id, st_.parent_task_execution_id, s});
}

// The workflow itself goes PAUSED: its running children are paused (all but `except`, the child
// whose pause caused this one) and its parent is told.
void Runner::EnterPaused(const std::string& except) {
  st_.state = State::kPaused;
  st_.updated_at = now_;
  ForEachRunningChild(ControlSubExecution::Op::kPause, except);
  NotifyParentIfAny(State::kPaused);
}

void Runner::CancelChildren() { ForEachRunningChild(ControlSubExecution::Op::kCancel); }

}  // namespace bora::engine
