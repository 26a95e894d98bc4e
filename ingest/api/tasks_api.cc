// /v2/tasks: list, get, update (rerun, skip), a task's action executions and sub-workflow
// executions.
#include "ingest/api/executions_internal.h"

namespace bora::api {

Result<HttpResponse> ExecutionsApi::Impl::ListTasks(const HttpRequest& request) {
  BORA_ASSIGN_OR_RETURN(auto q,
                        ParseListQuery(request, kTaskFilters, ctx_.limits.max_limit, kNonFilters));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto all, All(overlays));
  MistralViews views(ctx_);
  std::vector<Json> records;
  for (const auto& st : all)
    for (const auto& t : st.tasks) records.push_back(views.Task(st, t));
  return ListReply(std::move(records), q, "tasks", request);
}

Result<HttpResponse> ExecutionsApi::Impl::GetTask(const HttpRequest& request,
                                                  const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindTask(id, overlays));
  if (!found) return Fault(404, NotFoundMessage("TaskExecution", id));
  MistralViews views(ctx_);
  const auto& [st, ti] = *found;
  return Reply(200, views.Task(st, st.tasks[ti]));
}

Result<HttpResponse> ExecutionsApi::Impl::UpdateTask(const HttpRequest& request,
                                                     const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto body_r, ParseJsonBody(request));
  JsonObject& body = body_r;
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindTask(id, overlays));
  if (!found) return Fault(404, NotFoundMessage("TaskExecution", id));
  ExecutionState st = std::move(found->first);
  size_t ti = found->second;
  const engine::TaskExecution& task = st.tasks[ti];

  auto state_name = StringField(body, "state");
  auto name = StringField(body, "name");
  auto wf_name = StringField(body, "workflow_name");
  for (const auto* r : {&state_name, &name, &wf_name}) {
    BORA_RETURN_IF_ERROR(r->status());
  }
  if (!name->empty() && *name != task.name) return Fault(400, "Task name does not match.");
  if (!wf_name->empty() && *wf_name != st.workflow_name) {
    return Fault(400, "Workflow name does not match.");
  }
  MistralViews views(ctx_);
  State to;
  if (*state_name == "RUNNING") {
    BORA_ASSIGN_OR_RETURN(auto reset, BoolValue(Field(body, "reset"), "reset"));
    if (!reset.has_value()) return Fault(400, "Mandatory field missing: reset");
    std::optional<Json> env;
    if (const Json* e = Field(body, "env")) {
      BORA_ASSIGN_OR_RETURN(auto v, JsonFromField(*e, "env"));
      if (!v.is_object())
        return Fault(400, "Invalid input for field/attribute env: expected a dict");
      if (!v.as_object().empty()) env = v;
    }
    if (task.state != State::kError) {
      return Fault(400,
                   "The current task execution must be in ERROR for rerun. Only updating task to "
                   "rerun is supported.");
    }
    if (!task.with_items.enabled && !*reset) {
      return Fault(400, "Only with-items task has the option to not reset.");
    }
    if (st.state == State::kPaused) {
      // Mistral: a paused workflow ignores the rerun.
      return Reply(200, views.Task(st, task));
    }
    BORA_RETURN_IF_ERROR(
        ctx_.executions->RerunTask(ExecutionId(st.id), TaskExecutionId(id), *reset, env));
    to = State::kRunning;
  } else if (*state_name == "SKIPPED") {
    if (task.state != State::kError) {
      return Fault(400, "The current task execution must be in ERROR for skip.");
    }
    if (st.state == State::kPaused) return Reply(200, views.Task(st, task));
    BORA_RETURN_IF_ERROR(ctx_.executions->SkipTask(ExecutionId(st.id), TaskExecutionId(id)));
    to = State::kSkipped;
  } else {
    return Fault(400, "Invalid task state. Only updating task to rerun or skip is supported.");
  }
  // Wait until the task left ERROR (rerun/skip applied), else answer with the state asked for.
  auto after = WaitFor(st.id, [&id](const ExecutionState& s) {
    const auto* t = s.FindTaskById(id);
    return t != nullptr && t->state != State::kError;
  });
  if (after) {
    EnsureIndex(*after);
    const auto* t = after->FindTaskById(id);
    if (t != nullptr && t->state != State::kError) return Reply(200, views.Task(*after, *t));
  }
  engine::TaskExecution copy = task;
  copy.state = to;
  copy.state_info.reset();
  copy.updated_at = Now();
  return Reply(200, views.Task(st, copy));
}

Result<HttpResponse> ExecutionsApi::Impl::ListTaskActionExecutions(const HttpRequest& request,
                                                                   const std::string& id) {
  BORA_ASSIGN_OR_RETURN(
      auto q, ParseListQuery(request, kActionFilters, ctx_.limits.max_limit, kNonFilters));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindTask(id, overlays));
  std::vector<Json> records;
  MistralViews views(ctx_);
  if (found) {
    const auto& [st, ti] = *found;
    for (const auto& a : st.tasks[ti].actions) {
      if (!a.is_workflow) records.push_back(views.ActionExecution(st, st.tasks[ti], a));
    }
  }
  return ListReply(std::move(records), q, "action_executions", request);
}

Result<HttpResponse> ExecutionsApi::Impl::GetTaskActionExecution(const HttpRequest& request,
                                                                 const std::string& task_id,
                                                                 const std::string& action_id) {
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindTask(task_id, overlays));
  if (found) {
    const auto& [st, ti] = *found;
    for (const auto& a : st.tasks[ti].actions) {
      if (a.id == action_id && !a.is_workflow) {
        MistralViews views(ctx_);
        return Reply(200, views.ActionExecution(st, st.tasks[ti], a));
      }
    }
  }
  return Fault(404, NotFoundMessage("ActionExecution", action_id));
}

Result<HttpResponse> ExecutionsApi::Impl::ListTaskSubExecutions(const HttpRequest& request,
                                                                const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto f, ParseSubFilters(request));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindTask(id, overlays));
  if (!found) return Fault(404, NotFoundMessage("TaskExecution", id));
  const auto& [st, ti] = *found;
  MistralViews views(ctx_);
  JsonArray out;
  TaskSubs(st.tasks[ti], f, 0, views, overlays, &out);
  return Reply(200, JsonObject{{"executions", std::move(out)}});
}

}  // namespace bora::api
