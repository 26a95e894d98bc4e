// /v2/action_executions: list, get, create (run an action directly), update (complete an async
// action), delete (403).
#include <atomic>
#include <cmath>
#include <future>

#include "common/ids.h"
#include "common/log.h"
#include "ingest/api/executions_internal.h"

namespace bora::api {

Result<HttpResponse> ExecutionsApi::Impl::ListActionExecutions(const HttpRequest& request) {
  BORA_ASSIGN_OR_RETURN(
      auto q, ParseListQuery(request, kActionFilters, ctx_.limits.max_limit, kNonFilters));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto all, All(overlays));
  MistralViews views(ctx_);
  std::vector<Json> records;
  for (const auto& st : all)
    for (const auto& t : st.tasks)
      for (const auto& a : t.actions)
        if (!a.is_workflow) records.push_back(views.ActionExecution(st, t, a));
  if (ctx_.resources != nullptr) {
    BORA_ASSIGN_OR_RETURN(auto stored, ctx_.resources->List(kActionKind));
    for (auto& [k, v] : stored) {
      if (overlays.list_all || api::ProjectOf(v, ctx_.project_id) == overlays.caller.project_id)
        records.push_back(std::move(v));
    }
  }
  return ListReply(std::move(records), q, "action_executions", request);
}

Result<HttpResponse> ExecutionsApi::Impl::GetActionExecution(const HttpRequest& request,
                                                             const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindAction(id, overlays));
  if (found) {
    MistralViews views(ctx_);
    const auto& t = found->state.tasks[found->task];
    return Reply(200, views.ActionExecution(found->state, t, t.actions[found->action]));
  }
  if (ctx_.resources != nullptr) {
    BORA_ASSIGN_OR_RETURN(auto stored, ctx_.resources->Get(kActionKind, id));
    if (stored && (overlays.caller.is_admin ||
                   api::ProjectOf(*stored, ctx_.project_id) == overlays.caller.project_id))
      return Reply(200, *stored);
  }
  return Fault(404, NotFoundMessage("ActionExecution", id));
}

Result<HttpResponse> ExecutionsApi::Impl::CreateActionExecution(const HttpRequest& request) {
  BORA_ASSIGN_OR_RETURN(auto body_r, ParseJsonBody(request));
  JsonObject& body = body_r;
  auto name = StringField(body, "name");
  auto description = StringField(body, "description");
  auto ns = StringField(body, "workflow_namespace");
  for (const auto* r : {&name, &description, &ns}) {
    BORA_RETURN_IF_ERROR(r->status());
  }
  if (name->empty()) return Fault(400, "Please provide at least action name to run action.");
  BORA_ASSIGN_OR_RETURN(auto input, ObjectField(body, "input"));
  BORA_ASSIGN_OR_RETURN(auto params, ObjectField(body, "params"));
  const JsonObject& p = params.as_object();
  auto save_result = BoolValue(Field(p, "save_result"), "save_result");
  auto run_sync = BoolValue(Field(p, "run_sync"), "run_sync");
  if (!save_result.ok()) return FaultFrom(save_result.status());
  if (!run_sync.ok()) return FaultFrom(run_sync.status());
  bool save = save_result->value_or(false);

  const workers::ActionSignature* sig =
      ctx_.actions != nullptr ? ctx_.actions->FindSignature(*name) : nullptr;
  workers::Action* action = ctx_.actions != nullptr ? ctx_.actions->FindAction(*name) : nullptr;
  const bool external =
      sig != nullptr && action == nullptr && !sig->pool.empty() && ctx_.run_external != nullptr;
  if (sig == nullptr || (action == nullptr && !external)) {
    return Fault(400, "Failed to find action [action_name=" + *name + "]");
  }
  const bool sync = run_sync->value_or(false);
  if (sync && sig->is_async) {
    return Fault(400, "Action does not support synchronous execution.");
  }
  BORA_ASSIGN_OR_RETURN(auto validated, ctx_.actions->ValidateInput(*name, input));

  workers::ActionRequest req;
  req.action_name = *name;
  req.input = validated;
  req.action_execution_id = NewUuid();
  // The caller's security context, as for executions (README "Projects").
  req.security = SecurityContext(request, CallerOf(request, ctx_.project_id));
  if (const Json* t = Field(p, "timeout"); t && t->is_number()) {
    double secs =
        t->is_double() ? t->get_double() : static_cast<double>(t->is_int64() ? t->get_int64() : 0);
    if (secs > 0) {
      req.timeout_ms = static_cast<int64_t>(secs * 1000);
      req.timeout_s = static_cast<int64_t>(std::ceil(secs));
    }
  }
  const TimestampUs created = Now();
  // The record of the run in Mistral's shape; `output` null while it runs.
  const Caller caller = CallerOf(request, ctx_.project_id);
  auto record = [this, created, project = caller.project_id, id = req.action_execution_id,
                 name = *name, description = *description, ns = *ns, input = Json(input),
                 params = Json(params)](State state, const std::optional<Json>& output,
                                        const std::optional<std::string>& info) {
    JsonObject rec;
    rec["id"] = id;
    rec["workflow_name"] = nullptr;
    rec["workflow_namespace"] = ns;
    rec["task_name"] = nullptr;
    rec["task_execution_id"] = nullptr;
    rec["state"] = engine::StateName(state);
    rec["state_info"] = info ? Json(*info) : Json(nullptr);
    rec["tags"] = nullptr;
    rec["name"] = name;
    rec["description"] = description;
    rec["project_id"] = project;
    rec["accepted"] = true;
    rec["input"] = JsonString(input);
    rec["output"] = output ? JsonString(JsonObject{{"result", *output}}) : JsonString(JsonObject());
    rec["created_at"] = MistralTime(created);
    rec["updated_at"] = MistralTime(Now());
    rec["params"] = JsonString(params);
    return rec;
  };
  auto of_result = [record](const workers::ActionResult& result) {
    const State state = workers::ActionResultState(result.kind);
    return record(state,
                  result.kind == workers::ActionResult::Kind::kAsync
                      ? std::nullopt
                      : std::optional<Json>(result.data),
                  std::nullopt);
  };
  if (save && ctx_.resources == nullptr) {
    return Fault(500, "save_result needs a resource store, none is configured");
  }

  if (!external) {
    // Runs in this API thread (both run_sync and save_result-without-run_sync; see the README).
    workers::CancelToken cancel;
    workers::ActionResult result = action->Run(req, cancel);
    JsonObject rec = of_result(result);
    if (save) BORA_RETURN_IF_ERROR(ctx_.resources->Put(kActionKind, req.action_execution_id, rec));
    return Reply(201, rec);
  }

  // A declared external action: queued for the HTTP workers of its pool that poll this process.
  const std::string id = req.action_execution_id;
  const std::string pool = sig->pool;
  if (save && !sync) {
    // Mistral's asynchronous run: RUNNING now; the worker's completion updates the stored record.
    JsonObject running = record(State::kRunning, std::nullopt, std::nullopt);
    BORA_RETURN_IF_ERROR(ctx_.resources->Put(kActionKind, id, running));
    store::ResourceStore* resources = ctx_.resources;
    BORA_RETURN_IF_ERROR(
        ctx_.run_external(std::move(req), [resources, id, of_result](workers::ActionResult result) {
          Status s = resources->Put(kActionKind, id, of_result(result));
          if (!s.ok())
            BORA_LOG_WARN("action execution {}: its result was not stored: {}", id, s.ToString());
        }));
    return Reply(201, running);
  }
  // Otherwise the caller waits for the result (a deferred response), at most the action's timeout
  // or kDirectRunWait.
  constexpr int64_t kDirectRunWaitS = 60;
  const int64_t wait_s =
      req.timeout_s > 0 ? std::min<int64_t>(req.timeout_s, 3600) : kDirectRunWaitS;
  auto outcome = std::make_shared<std::promise<workers::ActionResult>>();
  auto answered = std::make_shared<std::atomic<bool>>(false);
  BORA_RETURN_IF_ERROR(
      ctx_.run_external(std::move(req), [outcome, answered](workers::ActionResult result) {
        if (!answered->exchange(true)) outcome->set_value(std::move(result));
      }));
  HttpResponse deferred;
  deferred.deferred = [this, outcome, answered, record, of_result, wait_s, id, pool, save,
                       name = *name]() -> HttpResponse {
    auto future = outcome->get_future();
    JsonObject rec;
    if (future.wait_for(std::chrono::seconds(wait_s)) == std::future_status::ready) {
      rec = of_result(future.get());
    } else {
      answered->store(true);
      const bool withdrawn = ctx_.withdraw_external(name, id);
      rec = record(State::kError, std::nullopt,
                   withdrawn ? "no worker of pool '" + pool + "' took action " + name + " within " +
                                   std::to_string(wait_s) + " s"
                             : "no result within " + std::to_string(wait_s) +
                                   " s: a worker still runs it, and its result will not be kept");
    }
    if (save) {
      Status s = ctx_.resources->Put(kActionKind, id, rec);
      if (!s.ok()) return FaultFrom(s);
    }
    return Reply(201, rec);
  };
  return deferred;
}

Result<HttpResponse> ExecutionsApi::Impl::UpdateActionExecution(const HttpRequest& request,
                                                                const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto body_r, ParseJsonBody(request));
  JsonObject& body = body_r;
  BORA_ASSIGN_OR_RETURN(auto state_name, StringField(body, "state"));
  Json output = nullptr;
  if (const Json* o = Field(body, "output")) {
    BORA_ASSIGN_OR_RETURN(auto v, JsonFromField(*o, "output"));
    output = v;
  }
  engine::ActionCompleted::Kind kind;
  State to;
  Json data;
  if (state_name == "SUCCESS") {
    kind = engine::ActionCompleted::Kind::kSuccess;
    to = State::kSuccess;
    data = output;
  } else if (state_name == "ERROR") {
    kind = engine::ActionCompleted::Kind::kError;
    to = State::kError;
    data = IsTruthy(output) ? output : Json("Unknown error");
  } else if (state_name == "CANCELLED") {
    kind = engine::ActionCompleted::Kind::kCancelled;
    to = State::kCancelled;
    data = nullptr;
  } else {
    return Fault(400, "Error. Expected one of ['SUCCESS', 'ERROR', 'CANCELLED'], actual: " +
                          (state_name.empty() ? std::string("None") : state_name));
  }

  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindAction(id, overlays));
  MistralViews views(ctx_);
  if (found) {
    ExecutionState st = std::move(found->state);
    size_t ti = found->task, ai = found->action;
    const engine::TaskExecution& task = st.tasks[ti];
    const engine::ActionExecution& action = task.actions[ai];
    if (engine::IsCompleted(action.state)) {
      return Fault(400, "Action execution [id=" + id + "] is already completed [state=" +
                            std::string(engine::StateName(action.state)) + "]");
    }
    BORA_RETURN_IF_ERROR(ctx_.executions->CompleteAction(
        ExecutionId(st.id), TaskExecutionId(task.id), ActionExecutionId(id), kind, data));
    std::string task_id = task.id;
    auto after = WaitFor(st.id, [&](const ExecutionState& s) {
      for (const auto& t : s.tasks)
        for (const auto& a : t.actions)
          if (a.id == id) return engine::IsCompleted(a.state);
      return false;
    });
    if (after) {
      EnsureIndex(*after);
      const auto* t = after->FindTaskById(task_id);
      if (t != nullptr) {
        for (const auto& a : t->actions) {
          if (a.id == id && engine::IsCompleted(a.state)) {
            return Reply(200, views.ActionExecution(*after, *t, a));
          }
        }
      }
    }
    engine::ActionExecution copy = action;
    copy.state = to;
    copy.output = to == State::kCancelled ? Json(JsonObject()) : Json(JsonObject{{"result", data}});
    copy.updated_at = Now();
    return Reply(200, views.ActionExecution(st, task, copy));
  }
  // A directly run (POST /v2/action_executions) async action kept in the resource store.
  if (ctx_.resources != nullptr) {
    BORA_ASSIGN_OR_RETURN(auto stored, ctx_.resources->Get(kActionKind, id));
    if (stored && stored->is_object() &&
        (overlays.caller.is_admin ||
         api::ProjectOf(*stored, ctx_.project_id) == overlays.caller.project_id)) {
      JsonObject rec = stored->as_object();
      const Json* cur = rec.if_contains("state");
      std::string cur_state = cur && cur->is_string() ? std::string(cur->get_string()) : "";
      auto cur_s = engine::StateFromName(cur_state);
      if (cur_s && engine::IsCompleted(*cur_s)) {
        return Fault(
            400, "Action execution [id=" + id + "] is already completed [state=" + cur_state + "]");
      }
      rec["state"] = std::string(engine::StateName(to));
      rec["output"] = to == State::kCancelled ? JsonString(JsonObject())
                                              : JsonString(JsonObject{{"result", data}});
      rec["updated_at"] = MistralTime(Now());
      BORA_ASSIGN_OR_RETURN(auto swapped,
                            ctx_.resources->CompareAndSwap(kActionKind, id, *stored, Json(rec)));
      if (!swapped) return Fault(409, "Action execution [id=" + id + "] was changed concurrently");
      return Reply(200, rec);
    }
  }
  return Fault(404, NotFoundMessage("ActionExecution", id));
}

}  // namespace bora::api
