// /v2/executions: list, create, get, update, delete, tasks, sub-executions, report. Also the public
// ExecutionsApi methods (each forwards to ExecutionsApi::Impl, its fault turned into the reply by
// ReplyOrFault) and RegisterExecutionsRoutes (every route of executions, tasks and action
// executions).
#include "ingest/api/executions_api.h"

#include <algorithm>

#include "common/ids.h"
#include "ingest/api/catalog.h"
#include "ingest/api/execution_stream.h"
#include "ingest/api/executions_internal.h"

namespace bora::api {

namespace {

// Mistral's states.is_valid_transition (mistral/workflow/states.py).
bool IsValidTransition(State from, State to) {
  if (from == to) return true;
  switch (from) {
    case State::kIdle:
      return to == State::kRunning || to == State::kError || to == State::kCancelled;
    case State::kWaiting:
      return to == State::kRunning;
    case State::kRunning:
      return to == State::kPaused || to == State::kDelayed || to == State::kSuccess ||
             to == State::kError || to == State::kCancelled;
    case State::kDelayed:
    case State::kPaused:
      return to == State::kRunning || to == State::kError || to == State::kCancelled;
    case State::kCancelled:
      return to == State::kRunning;
    case State::kError:
      return to == State::kRunning || to == State::kSkipped;
    default:
      return false;
  }
}

std::string TransitionError(const ExecutionState& st, State to) {
  return "Can't change workflow execution state from " + std::string(engine::StateName(st.state)) +
         " to " + std::string(engine::StateName(to)) + ". [workflow=" + st.workflow_name +
         ", exec_id=" + st.id + "]";
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.body.clear();
  return r;
}

}  // namespace

Result<HttpResponse> ExecutionsApi::Impl::ListExecutions(const HttpRequest& request) {
  BORA_ASSIGN_OR_RETURN(auto q, ParseListQuery(request, kExecutionFilters, ctx_.limits.max_limit,
                                               kExecutionNonFilters));
  BORA_ASSIGN_OR_RETURN(auto more, ConsoleFilters(request));
  for (auto& f : more) q.filters.push_back(std::move(f));
  BORA_ASSIGN_OR_RETURN(auto include_output, QueryBool(request, "include_output", false));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  // The default order is the store's listing order: read as far as the page needs only.
  MistralViews views(ctx_);
  BORA_ASSIGN_OR_RETURN(auto page, Page(q, overlays, views));
  ListQuery query = q;
  std::vector<Json> records;
  if (page) {
    records = std::move(*page);
    query.marker.reset();   // the page starts after it
    query.filters.clear();  // and passed them
  } else {
    BORA_ASSIGN_OR_RETURN(auto all, AllHeads(overlays));  // an execution record shows no task
    records.reserve(all.size());
    for (const auto& st : all) records.push_back(ExecutionRecord(views, st, true, overlays));
  }
  BORA_ASSIGN_OR_RETURN(auto reply,
                        TryApplyListQuery(std::move(records), query, "executions", request));
  // Mistral defers `output` in lists unless include_output=true (or it is asked for in `fields`).
  bool output_in_fields = std::find(q.fields.begin(), q.fields.end(), "output") != q.fields.end();
  if (!include_output && !output_in_fields) {
    for (auto& r : reply.as_object()["executions"].as_array()) r.as_object().erase("output");
  }
  return Reply(200, reply);
}

Result<HttpResponse> ExecutionsApi::Impl::GetExecution(const HttpRequest& request,
                                                       const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto st, FindHead(id, overlays));  // an execution record shows no task
  if (!st) return Fault(404, NotFoundMessage("WorkflowExecution", id));
  MistralViews views(ctx_);
  return Reply(200, ExecutionRecord(views, *st, true, overlays));
}

// Params.env as Mistral resolves it: a dict, or the name of a stored environment (its variables).
Result<Json> ExecutionsApi::Impl::ResolveEnv(const Json& env, const Caller& caller) {
  if (env.is_null()) return Json(JsonObject());
  if (env.is_object()) return env;
  if (env.is_string()) {
    std::string name(env.get_string());
    if (name.empty()) return Json(JsonObject());
    if (ctx_.catalog == nullptr) return InvalidArgument("Environment is not found: " + name);
    BORA_ASSIGN_OR_RETURN(auto rec, ctx_.catalog->GetEnvironment(name, caller));
    if (!rec || !rec->is_object()) return InvalidArgument("Environment is not found: " + name);
    const Json* vars = rec->as_object().if_contains("variables");
    if (vars == nullptr || vars->is_null()) return Json(JsonObject());
    BORA_ASSIGN_OR_RETURN(Json v, JsonFromField(*vars, "variables"));
    if (!v.is_object())
      return InvalidArgument("Environment variables of " + name + " are not a dict");
    return v;
  }
  return InvalidArgument("Unexpected value type for environment [env=" + PythonStr(env) +
                         ", type=" + std::string(PythonTypeName(env)) + "]");
}

Result<HttpResponse> ExecutionsApi::Impl::CreateExecution(const HttpRequest& request) {
  BORA_ASSIGN_OR_RETURN(auto body_r, ParseJsonBody(request));
  JsonObject& body = body_r;
  BORA_RETURN_IF_ERROR(CheckBackend());
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));

  BORA_ASSIGN_OR_RETURN(auto id_r, StringField(body, "id"));
  std::string id = id_r;
  MistralViews views(ctx_);
  if (!id.empty()) {
    // Idempotent create: an existing id answers the existing execution.
    if (overlays.deleted.count(id)) {
      return Fault(409, "Execution " + id + " was deleted; its id cannot be reused");
    }
    BORA_ASSIGN_OR_RETURN(auto existing, FindHead(id, overlays));
    if (existing) return Reply(201, ExecutionRecord(views, *existing, true, overlays));
    // Another project's execution with that id: not this caller's to see, nor to reuse.
    BORA_ASSIGN_OR_RETURN(auto any, FindHead(id, Overlays{overlays.deleted, {}}));
    if (any) return Fault(409, "Duplicate entry for WorkflowExecution ['id']: " + id);
  }

  auto wf_id = StringField(body, "workflow_id");
  auto wf_name = StringField(body, "workflow_name");
  auto wf_ns = StringField(body, "workflow_namespace");
  auto description = StringField(body, "description");
  auto source_id = StringField(body, "source_execution_id");
  for (const auto* r : {&wf_id, &wf_name, &wf_ns, &description, &source_id}) {
    BORA_RETURN_IF_ERROR(r->status());
  }
  BORA_ASSIGN_OR_RETURN(auto input, ObjectField(body, "input"));
  BORA_ASSIGN_OR_RETURN(auto params, ObjectField(body, "params"));

  const Caller caller = overlays.caller;
  std::string name = *wf_name, ns = *wf_ns, desc = *description;
  // The project of the workflow's definition: the caller's, or a public workflow's owner.
  std::string definition_project = caller.project_id;
  bool ns_given = Field(body, "workflow_namespace") != nullptr;
  Json in = input, pr = params;
  if (!source_id->empty()) {
    // Mistral: the source execution's workflow, input and params, overridden by the request.
    BORA_ASSIGN_OR_RETURN(auto src, Find(*source_id, overlays));
    if (!src) return Fault(404, NotFoundMessage("WorkflowExecution", *source_id));
    if (name.empty() && wf_id->empty()) name = src->workflow_name;
    if (!ns_given) ns = std::string(engine::PlainNamespace(src->workflow_namespace));
    Json merged_in = src->input.is_object() ? src->input : Json(JsonObject());
    if (Field(body, "input") != nullptr) DeepMerge(merged_in, in);
    in = merged_in;
    Json merged_params = src->params.is_object() ? src->params : Json(JsonObject());
    DeepMerge(merged_params, pr);
    pr = merged_params;
    desc = desc + " Based on the execution '" + *source_id + "'";
    size_t b = desc.find_first_not_of(' ');
    desc = b == std::string::npos ? std::string() : desc.substr(b);
    pr.as_object()["source_execution_id"] = *source_id;
  }
  if (!ns_given && pr.as_object().contains("namespace") &&
      pr.as_object()["namespace"].is_string()) {
    ns = std::string(pr.as_object()["namespace"].get_string());
  }
  if (!wf_id->empty() || (!name.empty() && ctx_.catalog != nullptr)) {
    if (ctx_.catalog != nullptr) {
      // The caller's project's workflow, else a public one (Mistral's secure lookup).
      const std::string& identifier = wf_id->empty() ? name : *wf_id;
      BORA_ASSIGN_OR_RETURN(auto rec, ctx_.catalog->GetWorkflow(identifier, ns, caller));
      if ((!rec || !rec->is_object()) && !wf_id->empty()) {
        return Fault(404, "Workflow not found [workflow_identifier=" + *wf_id + "]");
      }
      if (rec && rec->is_object()) {
        const auto& o = rec->as_object();
        if (const Json* n = o.if_contains("name"); n && n->is_string())
          name = std::string(n->get_string());
        if (const Json* n = o.if_contains("namespace"); n && n->is_string()) {
          ns = std::string(n->get_string());
        }
        definition_project = api::ProjectOf(*rec, ctx_.project_id);
      }
    } else {
      name = *wf_id;  // no catalog: the id is taken as a name
    }
  }
  if (name.empty()) {
    return Fault(400, "Workflow ID or workflow name must be provided. Workflow ID is recommended.");
  }
  {
    // Mistral's params order: namespace, env, then the rest.
    Json env = pr.as_object().contains("env") ? pr.as_object()["env"] : Json(nullptr);
    BORA_ASSIGN_OR_RETURN(auto resolved, ResolveEnv(env, caller));
    JsonObject ordered;
    ordered["namespace"] = ns;
    ordered["env"] = std::move(resolved);
    for (const auto& kv : pr.as_object()) {
      if (kv.key() != "namespace" && kv.key() != "env") ordered[kv.key()] = kv.value();
    }
    pr = std::move(ordered);
  }

  runtime::StartRequest start;
  start.workflow_name = name;
  start.workflow_namespace = engine::QualifiedNamespace(definition_project, ns);
  start.project_id = caller.project_id == ctx_.project_id ? std::string() : caller.project_id;
  start.user_id = caller.user_id;
  // The caller's security context for the actions (OpenStack actions call the services with it),
  // as Mistral's context: kept with the execution's state; the token expires (no trusts).
  start.security = SecurityContext(request, caller);
  start.input = in;
  start.params = pr;
  start.description = desc;
  start.execution_id = ExecutionId(id.empty() ? NewUuid() : id);
  BORA_ASSIGN_OR_RETURN(auto started, ctx_.executions->Start(start));
  const std::string exec_id = std::move(started).value();

  auto st = WaitFor(
      exec_id, [](const ExecutionState&) { return true; }, /*head_only=*/true);
  if (st) return Reply(201, ExecutionRecord(views, *st, true, overlays));
  // Not visible yet: the record as the orchestrator will create it.
  ExecutionState synth;
  synth.id = exec_id;
  synth.workflow_name = name;
  synth.workflow_namespace = start.workflow_namespace;
  synth.project_id = start.project_id;
  synth.user_id = start.user_id;
  synth.security = start.security;
  synth.description = desc;
  synth.input = in;
  synth.params = pr;
  synth.params.as_object()["namespace"] = ns;
  synth.state = State::kRunning;
  synth.output = JsonObject();
  synth.created_at = synth.updated_at = Now();
  return Reply(201, ExecutionRecord(views, synth, true, overlays));
}

Result<HttpResponse> ExecutionsApi::Impl::UpdateExecution(const HttpRequest& request,
                                                          const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto body_r, ParseJsonBody(request));
  JsonObject& body = body_r;
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  // The record and the checks need no task.
  BORA_ASSIGN_OR_RETURN(auto found, FindHead(id, overlays));
  if (!found) return Fault(404, NotFoundMessage("WorkflowExecution", id));
  ExecutionState st = std::move(*found);

  auto state_name = StringField(body, "state");
  auto state_info = StringField(body, "state_info");
  auto description = StringField(body, "description");
  for (const auto* r : {&state_name, &state_info, &description}) {
    BORA_RETURN_IF_ERROR(r->status());
  }
  // env: top-level "env" or Mistral's params.env (params may be a JSON string).
  std::optional<Json> env;
  if (const Json* e = Field(body, "env")) {
    BORA_ASSIGN_OR_RETURN(auto v, JsonFromField(*e, "env"));
    env = v;
  } else if (Field(body, "params") != nullptr) {
    BORA_ASSIGN_OR_RETURN(auto p, ObjectField(body, "params"));
    if (const Json* e = Field(p.as_object(), "env")) env = *e;
  }
  if (env && env->is_object() && env->as_object().empty()) env.reset();
  if (env && !env->is_object()) {
    BORA_ASSIGN_OR_RETURN(auto resolved, ResolveEnv(*env, overlays.caller));
    env = resolved;
  }

  if (state_name->empty() && description->empty() && !env) {
    return Fault(400, "The property state, description, or env is not provided for update.");
  }
  if (!description->empty() && !state_name->empty()) {
    return Fault(400, "The property description must be updated separately from state.");
  }
  std::optional<State> target;
  if (!state_name->empty()) {
    target = engine::StateFromName(*state_name);
    static const std::set<std::string> kAllowed = {"IDLE",  "RUNNING", "SUCCESS",
                                                   "ERROR", "PAUSED",  "CANCELLED"};
    if (!target || !kAllowed.count(*state_name)) {
      return Fault(400, "Invalid input for field/attribute state. Value: '" + *state_name +
                            "'. Value should be one of: CANCELLED, ERROR, IDLE, PAUSED, RUNNING, "
                            "SUCCESS");
    }
  }
  if (env && target && *target != State::kRunning) {
    return Fault(
        400,
        "The property env can only be updated when workflow execution is not running or on "
        "resume from pause.");
  }
  MistralViews views(ctx_);

  if (!description->empty()) {
    if (ctx_.resources == nullptr) {
      return Fault(500, "updating a description needs a resource store, none is configured");
    }
    Json meta = JsonObject{{"description", *description}};
    BORA_RETURN_IF_ERROR(ctx_.resources->Put(kMetaKind, id, meta));
    overlays.meta[id] = meta;
    if (!target && !env) return Reply(200, ExecutionRecord(views, st, true, overlays));
  }
  if (!target) {
    // env alone: Mistral updates a paused/idle execution's env in place; Bora only on resume.
    return Fault(400,
                 "Updating env without a state change is not supported; resume the execution with "
                 "{\"state\": \"RUNNING\", \"params\": {\"env\": {...}}}");
  }

  State to = *target;
  Status sent = Status::Ok();
  std::optional<std::string> info =
      state_info->empty() ? std::nullopt : std::optional<std::string>(*state_info);
  if (to == State::kRunning) {
    // Mistral's resume_workflow: only paused or idle executions resume; others are returned
    // unchanged.
    if (st.state != State::kPaused && st.state != State::kIdle) {
      return Reply(200, ExecutionRecord(views, st, true, overlays));
    }
    sent = ctx_.executions->Resume(ExecutionId(id), env);
  } else if (to == State::kPaused) {
    if (!IsValidTransition(st.state, to)) return Fault(400, TransitionError(st, to));
    if (st.state == State::kPaused) return Reply(200, ExecutionRecord(views, st, true, overlays));
    sent = ctx_.executions->Pause(ExecutionId(id));
  } else if (to == State::kSuccess || to == State::kError || to == State::kCancelled) {
    if (!IsValidTransition(st.state, to)) return Fault(400, TransitionError(st, to));
    if (st.state == to) return Reply(200, ExecutionRecord(views, st, true, overlays));
    sent = to == State::kCancelled ? ctx_.executions->Cancel(ExecutionId(id), info)
                                   : ctx_.executions->Stop(ExecutionId(id), to, info);
  } else {
    return Fault(400, "Cannot change state to " + *state_name +
                          ". Allowed states are: 'RUNNING, PAUSED, SUCCESS, ERROR, CANCELLED");
  }
  BORA_RETURN_IF_ERROR(sent);
  auto after = WaitFor(
      id, [to](const ExecutionState& s) { return s.state == to; }, /*head_only=*/true);
  if (after && after->state == to)
    return Reply(200, ExecutionRecord(views, *after, true, overlays));
  // Not applied yet: answer with the state asked for (as Mistral's synchronous engine call would).
  if (after) st = std::move(*after);
  st.state = to;
  if (to != State::kRunning && info) st.state_info = info;
  if (to == State::kRunning) st.state_info.reset();
  st.updated_at = Now();
  return Reply(200, ExecutionRecord(views, st, true, overlays));
}

// Ids of `st` and every execution below it (sub-workflows, recursively).
void ExecutionsApi::Impl::Descendants(const ExecutionState& st, const Overlays& overlays,
                                      std::vector<std::string>* out, int depth) {
  if (depth > 64) return;
  for (const auto& t : st.tasks) {
    for (const auto& a : t.actions) {
      if (!a.is_workflow) continue;
      out->push_back(a.id);
      auto child = Find(a.id, overlays);
      if (child.ok() && *child) Descendants(**child, overlays, out, depth + 1);
    }
  }
}

Result<HttpResponse> ExecutionsApi::Impl::DeleteExecution(const HttpRequest& request,
                                                          const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto force, QueryBool(request, "force", false));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, Find(id, overlays));
  if (!found) return Fault(404, NotFoundMessage("WorkflowExecution", id));
  const ExecutionState& st = *found;
  if (!force && !engine::IsCompleted(st.state)) {
    return Fault(403, "Only completed executions can be deleted. Execution " + id + " is in " +
                          std::string(engine::StateName(st.state)) + " state");
  }
  if (ctx_.resources == nullptr) {
    return Fault(500, "deleting executions needs a resource store, none is configured");
  }
  if (!engine::IsCompleted(st.state)) {
    // Forced delete of a live execution: stop it so it does not keep running unseen.
    BORA_RETURN_IF_ERROR(ctx_.executions->Cancel(ExecutionId(id), std::string("Deleted")));
  }
  std::vector<std::string> ids = {id};
  Descendants(st, overlays, &ids);
  Json tomb = JsonObject{{"deleted_at", MistralTime(Now())}};
  for (const auto& d : ids) {
    BORA_RETURN_IF_ERROR(ctx_.resources->Put(kDeletedKind, d, tomb));
  }
  // The tombstones hide it at once (and keep its id from being reused); the purge deletes the
  // stored state with its sub-workflow executions (after the cancel above, in order, for a forced
  // delete).
  BORA_RETURN_IF_ERROR(ctx_.executions->Send(engine::PurgeExecution{id}));
  return NoContent();
}

Result<HttpResponse> ExecutionsApi::Impl::ListExecutionTasks(const HttpRequest& request,
                                                             const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto q,
                        ParseListQuery(request, kTaskFilters, ctx_.limits.max_limit, kNonFilters));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto st, Find(id, overlays));
  std::vector<Json> records;
  MistralViews views(ctx_);
  if (st) {
    for (const auto& t : st->tasks) records.push_back(views.Task(*st, t));
  }
  return ListReply(std::move(records), q, "tasks", request);
}

Result<HttpResponse> ExecutionsApi::Impl::ListSubExecutions(const HttpRequest& request,
                                                            const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto f, ParseSubFilters(request));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto st, Find(id, overlays));
  if (!st) return Fault(404, NotFoundMessage("WorkflowExecution", id));
  MistralViews views(ctx_);
  JsonArray out;
  ExecutionSubs(*st, f, 0, views, overlays, &out);
  return Reply(200, JsonObject{{"executions", std::move(out)}});
}

Json ExecutionsApi::Impl::ReportWorkflow(const ExecutionState& st, const SubFilters& f,
                                         int64_t depth, ReportStatistics* stats,
                                         const Overlays& overlays) {
  JsonObject e;
  e["id"] = st.id;
  e["name"] = st.workflow_name;
  e["state"] = engine::StateName(st.state);
  e["state_info"] = st.state_info ? Json(*st.state_info) : Json(nullptr);
  e["created_at"] = MistralTime(st.created_at);
  e["updated_at"] = MistralTime(st.updated_at);
  if (f.max_depth >= 0 && f.max_depth < depth) return e;
  JsonArray tasks;
  for (const auto& t : st.tasks) {
    if (f.errors_only && t.state != State::kError) continue;
    stats->Count(t.state);
    JsonObject te;
    te["id"] = t.id;
    te["name"] = t.name;
    te["type"] = t.type == engine::TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
    te["state"] = engine::StateName(t.state);
    te["state_info"] = t.state_info ? Json(*t.state_info) : Json(nullptr);
    te["created_at"] = MistralTime(t.created_at);
    te["updated_at"] = MistralTime(t.updated_at);
    if (t.retry_started) te["retry_count"] = t.retry_no;
    JsonArray actions, workflows;
    for (const auto& a : t.actions) {
      if (a.is_workflow) {
        auto child = Find(a.id, overlays);
        if (child.ok() && *child && depth < 64) {
          workflows.push_back(ReportWorkflow(**child, f, depth + 1, stats, overlays));
        }
        continue;
      }
      actions.push_back(
          JsonObject{{"id", a.id},
                     {"name", a.adhoc_name.empty() ? a.name : a.adhoc_name},
                     {"state", engine::StateName(a.state)},
                     {"state_info", a.state_info ? Json(*a.state_info) : Json(nullptr)},
                     {"created_at", MistralTime(a.created_at)},
                     {"updated_at", MistralTime(a.updated_at)},
                     {"last_heartbeat", nullptr}});
    }
    te["action_executions"] = std::move(actions);
    te["workflow_executions"] = std::move(workflows);
    tasks.push_back(std::move(te));
  }
  e["task_executions"] = std::move(tasks);
  return e;
}

Result<HttpResponse> ExecutionsApi::Impl::GetReport(const HttpRequest& request,
                                                    const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto f, ParseSubFilters(request));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto st, Find(id, overlays));
  if (!st) return Fault(404, NotFoundMessage("WorkflowExecution", id));
  ReportStatistics stats;
  Json root = ReportWorkflow(*st, f, 0, &stats, overlays);
  return Reply(200, JsonObject{{"root_workflow_execution", std::move(root)},
                               {"statistics", stats.ToJson()}});
}

ExecutionsApi::ExecutionsApi(ApiContext& context, ExecutionsApiOptions options)
    : impl_(std::make_shared<Impl>(context, options)) {}
HttpResponse ExecutionsApi::ListExecutions(const HttpRequest& r) {
  return ReplyOrFault(impl_->ListExecutions(r));
}
HttpResponse ExecutionsApi::CreateExecution(const HttpRequest& r) {
  return ReplyOrFault(impl_->CreateExecution(r));
}
HttpResponse ExecutionsApi::GetExecution(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->GetExecution(r, id));
}
HttpResponse ExecutionsApi::UpdateExecution(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->UpdateExecution(r, id));
}
HttpResponse ExecutionsApi::DeleteExecution(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->DeleteExecution(r, id));
}
HttpResponse ExecutionsApi::ListExecutionTasks(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->ListExecutionTasks(r, id));
}
HttpResponse ExecutionsApi::ListSubExecutions(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->ListSubExecutions(r, id));
}
HttpResponse ExecutionsApi::GetReport(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->GetReport(r, id));
}

HttpResponse ExecutionsApi::ListTasks(const HttpRequest& r) {
  return ReplyOrFault(impl_->ListTasks(r));
}
HttpResponse ExecutionsApi::GetTask(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->GetTask(r, id));
}
HttpResponse ExecutionsApi::UpdateTask(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->UpdateTask(r, id));
}
HttpResponse ExecutionsApi::ListTaskActionExecutions(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->ListTaskActionExecutions(r, id));
}
HttpResponse ExecutionsApi::GetTaskActionExecution(const HttpRequest& r, const std::string& task_id,
                                                   const std::string& action_id) {
  return ReplyOrFault(impl_->GetTaskActionExecution(r, task_id, action_id));
}
HttpResponse ExecutionsApi::ListTaskSubExecutions(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->ListTaskSubExecutions(r, id));
}
HttpResponse ExecutionsApi::DeleteActionExecution(const HttpRequest&, const std::string&) {
  return Fault(403, "Action execution deletion is not allowed.");
}
HttpResponse ExecutionsApi::ListActionExecutions(const HttpRequest& r) {
  return ReplyOrFault(impl_->ListActionExecutions(r));
}
HttpResponse ExecutionsApi::GetActionExecution(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->GetActionExecution(r, id));
}
HttpResponse ExecutionsApi::CreateActionExecution(const HttpRequest& r) {
  return ReplyOrFault(impl_->CreateActionExecution(r));
}
HttpResponse ExecutionsApi::UpdateActionExecution(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->UpdateActionExecution(r, id));
}

void RegisterExecutionsRoutes(http::Router& router, ApiContext& context) {
  RegisterExecutionsRoutes(router, context, ExecutionsApiOptions{});
}

void RegisterExecutionsRoutes(http::Router& router, ApiContext& context,
                              const ExecutionsApiOptions& options) {
  auto impl = std::make_shared<ExecutionsApi>(context, options);
  using P = http::PathParams;
  auto id_of = [](const P& p, const char* key) {
    auto it = p.find(key);
    return it == p.end() ? std::string() : it->second;
  };
  router.Add("GET", "/v2/executions",
             [impl](const HttpRequest& r, const P&) { return impl->ListExecutions(r); });
  router.Add("POST", "/v2/executions",
             [impl](const HttpRequest& r, const P&) { return impl->CreateExecution(r); });
  router.Add("GET", "/v2/executions/counts",
             [impl](const HttpRequest& r, const P&) { return impl->CountExecutions(r); });
  router.Add("GET", "/v2/executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetExecution(r, id_of(p, "id"));
  });
  router.Add("PUT", "/v2/executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->UpdateExecution(r, id_of(p, "id"));
  });
  router.Add("DELETE", "/v2/executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->DeleteExecution(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/executions/{id}/tasks", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListExecutionTasks(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/executions/{id}/executions",
             [impl, id_of](const HttpRequest& r, const P& p) {
               return impl->ListSubExecutions(r, id_of(p, "id"));
             });
  router.Add("GET", "/v2/executions/{id}/report", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetReport(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/executions/{id}/stream",
             [impl, id_of, poll = options.stream_poll](const HttpRequest& r, const P& p) {
               return StreamExecution(impl, r, id_of(p, "id"), poll);
             });
  router.Add("GET", "/v2/tasks",
             [impl](const HttpRequest& r, const P&) { return impl->ListTasks(r); });
  router.Add("GET", "/v2/tasks/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetTask(r, id_of(p, "id"));
  });
  router.Add("PUT", "/v2/tasks/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->UpdateTask(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks/{id}/items", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListTaskItems(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks/{id}/action_executions",
             [impl, id_of](const HttpRequest& r, const P& p) {
               return impl->ListTaskActionExecutions(r, id_of(p, "id"));
             });
  router.Add("GET", "/v2/tasks/{id}/action_executions/{aid}",
             [impl, id_of](const HttpRequest& r, const P& p) {
               return impl->GetTaskActionExecution(r, id_of(p, "id"), id_of(p, "aid"));
             });
  router.Add("GET", "/v2/tasks/{id}/executions", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListTaskSubExecutions(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks/{id}/workflow_executions",
             [impl, id_of](const HttpRequest& r, const P& p) {
               return impl->ListTaskSubExecutions(r, id_of(p, "id"));
             });
  router.Add("GET", "/v2/action_executions",
             [impl](const HttpRequest& r, const P&) { return impl->ListActionExecutions(r); });
  router.Add("POST", "/v2/action_executions",
             [impl](const HttpRequest& r, const P&) { return impl->CreateActionExecution(r); });
  router.Add("GET", "/v2/action_executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetActionExecution(r, id_of(p, "id"));
  });
  router.Add("PUT", "/v2/action_executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->UpdateActionExecution(r, id_of(p, "id"));
  });
  // Mistral's default ([api] allow_action_execution_deletion = False).
  router.Add("DELETE", "/v2/action_executions/{id}",
             [impl, id_of](const HttpRequest& r, const P& p) {
               return impl->DeleteActionExecution(r, id_of(p, "id"));
             });
}

}  // namespace bora::api
