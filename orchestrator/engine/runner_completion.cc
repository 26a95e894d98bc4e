// The Runner (runner.h): action / sub-workflow completion, task finalisation, the policies
// applied after completion (fail-on, retry, wait-after), publish, force-fail.

#include "common/check.h"
#include "orchestrator/engine/runner.h"

namespace bora::engine {

// ------------------------------------------------------------------------------ action results
Status Runner::OnActionCompleted(const ActionCompleted& ev) {
  auto it = st_.index.action_by_id.find(ev.action_execution_id);
  if (it == st_.index.action_by_id.end()) {
    return NotFound("action execution " + ev.action_execution_id + " not found in execution " +
                    st_.id);
  }
  auto [ti, ai] = it->second;
  BORA_DCHECK(ti < st_.tasks.size() && ai < st_.tasks[ti].actions.size())
      << "the index names action " << ti << "." << ai << " for " << ev.action_execution_id;
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

Status Runner::OnSubWorkflowCompleted(const SubWorkflowCompleted& ev) {
  auto it = st_.index.action_by_id.find(ev.sub_execution_id);
  if (it == st_.index.action_by_id.end()) {
    return NotFound("sub-workflow execution " + ev.sub_execution_id + " not found in execution " +
                    st_.id);
  }
  auto [ti, ai] = it->second;
  BORA_DCHECK(ti < st_.tasks.size() && ai < st_.tasks[ti].actions.size())
      << "the index names action " << ti << "." << ai << " for " << ev.sub_execution_id;
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

bool Runner::ReopenForChildRerun(size_t ti, size_t ai, State new_state) {
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
Status Runner::ChildDone(size_t ti, size_t ai) {
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
void Runner::ContinueTask(size_t ti) {
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
void Runner::AfterActionsComplete(size_t ti, State s, std::optional<std::string> info) {
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
    bool stop_continue =
        (s == State::kSuccess && !ts.retry->continue_on) || (ts.retry->continue_on && !continue_on);
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
Result<std::pair<JsonObject, JsonObject>> Runner::ComputePublish(size_t ti, State s,
                                                                 const Json& data) {
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
State Runner::PublishState(State s, const std::optional<std::string>& info) {
  return s == State::kError && info && *info == kFailedByFailOn ? State::kSuccess : s;
}

// Completes the task: publish, keep-result, transitions, workflow completion check.
void Runner::Finalize(size_t ti, State s, std::optional<std::string> info) {
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
void Runner::ProcessCompleted(size_t ti) {
  if (spec_->type == lang::WorkflowType::kReverse) {
    MutTask(ti).processed = true;
    if (WfRunning()) ReverseContinue();
  } else {
    ProcessTransitions(ti);
  }
  EvaluateJoins();
  CheckCompletion();
}

// ---------------------------------------------------------------------------------- force-fail
// Task and workflow fail at once; on-error does not run.
void Runner::ForceFail(size_t ti, std::string msg) {
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

}  // namespace bora::engine
