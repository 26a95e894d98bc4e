#include "orchestrator/runtime/views.h"

namespace bora::runtime {

namespace {
Json OptText(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return Json(*s);
}
Json Time(TimestampUs t) {
  if (t == 0) return nullptr;
  return Json(FormatIsoTime(t));
}
}  // namespace

Json TaskView(const engine::TaskExecution& task) {
  JsonObject o;
  o["id"] = task.id;
  o["name"] = task.name;
  o["type"] = task.type == engine::TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
  o["state"] = engine::StateName(task.state);
  o["state_info"] = OptText(task.state_info);
  o["published"] = task.published;
  o["result"] = task.Result();
  o["runtime_context"] = task.RuntimeContextJson();
  o["created_at"] = Time(task.created_at);
  o["started_at"] = Time(task.started_at);
  o["finished_at"] = Time(task.finished_at);
  if (task.started_at != 0 && task.finished_at >= task.started_at) {
    o["duration_ms"] = static_cast<double>(task.finished_at - task.started_at) / 1000.0;
  } else {
    o["duration_ms"] = nullptr;
  }
  JsonArray actions;
  for (const auto& a : task.actions) {
    JsonObject ao;
    ao["id"] = a.id;
    ao["name"] = a.name;
    ao["is_workflow"] = a.is_workflow;
    ao["index"] = a.index;
    ao["state"] = engine::StateName(a.state);
    ao["accepted"] = a.accepted;
    ao["state_info"] = OptText(a.state_info);
    ao["input"] = a.input;
    ao["output"] = a.output;
    actions.push_back(std::move(ao));
  }
  o["action_executions"] = std::move(actions);
  return o;
}

Json ExecutionView(const engine::ExecutionState& state) {
  JsonObject o;
  o["id"] = state.id;
  o["workflow"] = state.workflow_name;
  o["state"] = engine::StateName(state.state);
  o["state_info"] = OptText(state.state_info);
  o["input"] = state.input;
  o["output"] = state.output;
  o["params"] = state.params;
  o["created_at"] = Time(state.created_at);
  o["updated_at"] = Time(state.updated_at);
  if (!state.parent_execution_id.empty()) {
    o["parent_execution_id"] = state.parent_execution_id;
    o["parent_task_execution_id"] = state.parent_task_execution_id;
  }
  JsonArray tasks;
  tasks.reserve(state.tasks.size());
  for (const auto& t : state.tasks) tasks.push_back(TaskView(t));
  o["tasks"] = std::move(tasks);
  return o;
}

Json ExecutionTreeView(const engine::ExecutionState& state, const SubExecutionLookup& lookup,
                       int max_depth) {
  Json view = ExecutionView(state);
  JsonArray& tasks = view.get_object()["tasks"].get_array();
  for (size_t ti = 0; ti < state.tasks.size(); ++ti) {
    const auto& task = state.tasks[ti];
    JsonArray& actions = tasks[ti].get_object()["action_executions"].get_array();
    for (size_t ai = 0; ai < task.actions.size(); ++ai) {
      const auto& action = task.actions[ai];
      if (!action.is_workflow) continue;
      Json sub = nullptr;
      if (max_depth > 0) {
        if (auto found = lookup(action.id)) sub = ExecutionTreeView(*found, lookup, max_depth - 1);
      }
      actions[ai].get_object()["sub_execution"] = std::move(sub);
    }
  }
  return view;
}

}  // namespace bora::runtime
