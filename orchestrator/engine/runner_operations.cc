// The Runner (runner.h): timers, pause, resume, sub-workflow updates, stop, rerun, skip.

#include "orchestrator/engine/runner.h"

namespace bora::engine {

// -------------------------------------------------------------------------------------- timers
Status Runner::OnTimer(const TimerFired& ev) {
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

void Runner::HandleTimer(const std::string& timer_id, const TimerInfo& info) {
  auto tit = st_.index.task_by_id.find(info.task_execution_id);
  if (tit == st_.index.task_by_id.end()) return;
  size_t ti = tit->second;
  TaskExecution& t = MutTask(ti);
  switch (info.kind) {
    case TimerInfo::Kind::kWaitBefore:
    case TimerInfo::Kind::kRetry:
    case TimerInfo::Kind::kAwaitAction:
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
Status Runner::Pause() {
  if (st_.state == State::kPaused) return Status::Ok();
  if (st_.state != State::kRunning && st_.state != State::kIdle) {
    return FailedPrecondition("cannot pause execution " + st_.id + " in state " +
                              std::string(StateName(st_.state)));
  }
  EnterPaused();
  return Status::Ok();
}

Status Runner::Resume(const ResumeExecution& ev) {
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
Status Runner::OnSubWorkflowUpdated(const SubWorkflowUpdated& ev) {
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
void Runner::ResumeRunning(const std::string& except) {
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

Status Runner::Stop(State s, std::optional<std::string> info) {
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

Status Runner::OnDefinitionGone(const Event& event, const std::string& why) {
  bool changed = false;
  if (const auto* done = std::get_if<ActionCompleted>(&event)) {
    auto it = st_.index.action_by_id.find(done->action_execution_id);
    if (it != st_.index.action_by_id.end()) {
      auto [ti, ai] = it->second;
      if (!st_.tasks[ti].actions[ai].is_workflow && !IsCompleted(st_.tasks[ti].actions[ai].state)) {
        ActionExecution& a = MutAction(ti, ai);
        a.state = done->kind == ActionCompleted::Kind::kSuccess ? State::kSuccess
                  : done->kind == ActionCompleted::Kind::kError ? State::kError
                                                                : State::kCancelled;
        a.output = JsonObject{{"result", done->data}};
        if (a.state != State::kSuccess && IsTruthy(done->data))
          a.state_info = PythonStr(done->data);
        a.updated_at = now_;
        changed = true;
      }
    }
  }
  if (!IsCompleted(st_.state)) {
    for (size_t ti = 0; ti < st_.tasks.size(); ++ti) {
      if (IsCompleted(st_.tasks[ti].state)) continue;
      TaskExecution& t = MutTask(ti);
      t.state = State::kError;
      t.state_info = why;
      t.updated_at = now_;
    }
    CompleteWorkflow(State::kError, why);
    changed = true;
  }
  if (!changed) return NotFound(why);
  return Status::Ok();
}

Status Runner::Rerun(const RerunTask& ev) {
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

Status Runner::Skip(const SkipTask& ev) {
  auto it = st_.index.task_by_id.find(ev.task_execution_id);
  if (it == st_.index.task_by_id.end())
    return NotFound("task execution " + ev.task_execution_id + " not found");
  size_t ti = it->second;
  if (MutTask(ti).state != State::kError) {
    return FailedPrecondition("task " + MutTask(ti).name + " must be in ERROR to skip, it is " +
                              std::string(StateName(MutTask(ti).state)));
  }
  if (st_.state == State::kPaused) return FailedPrecondition("execution " + st_.id + " is paused");
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

}  // namespace bora::engine
