#include "ingest/api/mistral_views.h"

#include "ingest/api/catalog.h"
#include "ingest/api/mistral_format.h"

namespace bora::api {

namespace {

Json OptText(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return Json(*s);
}

Json IdOrNull(const std::string& id) {
  if (id.empty()) return nullptr;
  return Json(id);
}

// json.dumps of a value, "null" for null (Mistral dumps the task result even when it is None).
Json Dumps(const Json& v) { return Json(PythonJsonDumps(v)); }

}  // namespace

Json MistralViews::WorkflowId(const std::string& name, const std::string& namespace_name) {
  if (context_.catalog == nullptr) return nullptr;
  auto key = std::make_pair(name, namespace_name);
  auto it = workflow_ids_.find(key);
  if (it != workflow_ids_.end()) return it->second;
  Json id = nullptr;
  // The definition's project is the one its (qualified) namespace names.
  Caller owner;
  owner.is_admin = false;
  std::string_view project = engine::DefaultNamespaceOf(namespace_name);
  owner.project_id =
      project.empty() ? context_.project_id : std::string(project.substr(0, project.size() - 1));
  auto found = context_.catalog->GetWorkflow(
      name, std::string(engine::PlainNamespace(namespace_name)), owner);
  if (found.ok() && found->has_value() && (*found)->is_object()) {
    if (const Json* p = (*found)->as_object().if_contains("id")) id = *p;
  }
  workflow_ids_.emplace(key, id);
  return id;
}

Json MistralViews::Execution(const engine::ExecutionState& st, bool include_output) {
  JsonObject o;
  o["id"] = st.id;
  o["workflow_id"] = WorkflowId(st.workflow_name, st.workflow_namespace);
  o["workflow_name"] = st.workflow_name;
  o["workflow_namespace"] = std::string(engine::PlainNamespace(st.workflow_namespace));
  o["description"] = st.description;
  o["tags"] = JsonArray();
  o["params"] = JsonString(st.params.is_null() ? Json(JsonObject()) : st.params);
  o["task_execution_id"] = IdOrNull(st.parent_task_execution_id);
  o["root_execution_id"] = IdOrNull(st.root_execution_id);
  Json source = nullptr;
  if (st.params.is_object()) {
    if (const Json* p = st.params.as_object().if_contains("source_execution_id")) source = *p;
  }
  o["source_execution_id"] = source;
  o["state"] = engine::StateName(st.state);
  o["state_info"] = OptText(st.state_info);
  o["input"] = JsonString(st.input.is_null() ? Json(JsonObject()) : st.input);
  if (include_output) o["output"] = JsonString(st.output.is_null() ? Json(JsonObject()) : st.output);
  o["created_at"] = MistralTime(st.created_at);
  o["updated_at"] = MistralTime(st.updated_at);
  o["project_id"] = st.project_id.empty() ? context_.project_id : st.project_id;
  o["published_global"] =
      JsonString(st.global_context.is_null() ? Json(JsonObject()) : st.global_context);
  return o;
}

Json MistralViews::Task(const engine::ExecutionState& st, const engine::TaskExecution& t) {
  JsonObject o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["type"] = t.type == engine::TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
  o["workflow_name"] = st.workflow_name;
  o["workflow_namespace"] = std::string(engine::PlainNamespace(st.workflow_namespace));
  o["workflow_id"] = WorkflowId(st.workflow_name, st.workflow_namespace);
  o["workflow_execution_id"] = st.id;
  o["tags"] = nullptr;
  o["state"] = engine::StateName(t.state);
  o["state_info"] = OptText(t.state_info);
  o["project_id"] = st.project_id.empty() ? context_.project_id : st.project_id;
  o["runtime_context"] = Dumps(t.RuntimeContextJson());
  o["result"] = Dumps(t.Result());
  o["published"] = Dumps(t.published.is_null() ? Json(JsonObject()) : t.published);
  o["published_global"] = Dumps(t.published_global.is_null() ? Json(JsonObject()) : t.published_global);
  o["processed"] = t.processed;
  o["created_at"] = MistralTime(t.created_at);
  o["updated_at"] = MistralTime(t.updated_at);
  o["started_at"] = MistralTime(t.started_at);
  o["finished_at"] = MistralTime(t.finished_at);
  return o;
}

Json MistralViews::ActionExecution(const engine::ExecutionState& st, const engine::TaskExecution& t,
                                   const engine::ActionExecution& a) {
  JsonObject o;
  o["id"] = a.id;
  o["workflow_name"] = st.workflow_name;
  o["workflow_namespace"] = std::string(engine::PlainNamespace(st.workflow_namespace));
  o["task_name"] = t.name;
  o["task_execution_id"] = t.id;
  o["state"] = engine::StateName(a.state);
  o["state_info"] = OptText(a.state_info);
  o["tags"] = nullptr;
  o["name"] = a.adhoc_name.empty() ? a.name : a.adhoc_name;
  o["description"] = "";
  o["project_id"] = st.project_id.empty() ? context_.project_id : st.project_id;
  o["accepted"] = a.accepted;
  o["input"] = JsonString(a.input.is_null() ? Json(JsonObject()) : a.input);
  o["output"] = JsonString(a.output.is_null() ? Json(JsonObject()) : a.output);
  o["created_at"] = MistralTime(a.created_at);
  o["updated_at"] = MistralTime(a.updated_at);
  o["params"] = Dumps(JsonObject());
  return o;
}

void ReportStatistics::Count(engine::State state) {
  switch (state) {
    case engine::State::kRunning: ++running; break;
    case engine::State::kSuccess: ++success; break;
    case engine::State::kError: ++error; break;
    case engine::State::kIdle: ++idle; break;
    case engine::State::kPaused: ++paused; break;
    default: return;
  }
  ++total;
}

Json ReportStatistics::ToJson() const {
  return JsonObject{{"total_tasks_count", total},     {"running_tasks_count", running},
                    {"success_tasks_count", success}, {"error_tasks_count", error},
                    {"idle_tasks_count", idle},       {"paused_tasks_count", paused}};
}

}  // namespace bora::api
