#pragma once
// MistralViews: execution, task and action-execution records in Mistral's REST shape
// (../shared/mistral-spec.md §5) built from engine::ExecutionState. json-typed fields (input, output,
// params, published, published_global, runtime_context, task result) are Python json.dumps strings; times
// are "YYYY-MM-DD HH:MM:SS" UTC.
//
// workflow_id comes from ApiContext::catalog (GetWorkflow(name, namespace)["id"]) when a catalog is set,
// else it is null; lookups are cached for the lifetime of one MistralViews (make one per request).
//
// Thread-safety: one MistralViews per request/thread (the cache is not synchronised).
#include <map>
#include <string>
#include <utility>

#include "common/json.h"
#include "ingest/api/api_context.h"
#include "orchestrator/engine/state.h"

namespace bora::api {

class MistralViews {
 public:
  explicit MistralViews(const ApiContext& context) : context_(context) {}

  // {id, workflow_id, workflow_name, workflow_namespace, description, tags, params, task_execution_id,
  //  root_execution_id, source_execution_id, state, state_info, input, output, created_at, updated_at,
  //  project_id, published_global}. Without `include_output` the `output` key is left out (Mistral's lists
  //  defer it unless include_output=true).
  Json Execution(const engine::ExecutionState& state, bool include_output = true);

  // {id, name, type, workflow_name, workflow_namespace, workflow_id, workflow_execution_id, tags, state,
  //  state_info, project_id, runtime_context, result, published, published_global, processed,
  //  created_at, updated_at, started_at, finished_at}.
  Json Task(const engine::ExecutionState& state, const engine::TaskExecution& task);

  // {id, workflow_name, workflow_namespace, task_name, task_execution_id, state, state_info, tags, name,
  //  description, project_id, accepted, input, output, created_at, updated_at, params}.
  Json ActionExecution(const engine::ExecutionState& state, const engine::TaskExecution& task,
                       const engine::ActionExecution& action);

  // The workflow's catalog id, or null (no catalog, unknown workflow, lookup error).
  Json WorkflowId(const std::string& name, const std::string& namespace_name);

 private:
  const ApiContext& context_;
  std::map<std::pair<std::string, std::string>, Json> workflow_ids_;
};

// Mistral's report statistics (api/controllers/v2/resources.py ExecutionReportStatistics): only RUNNING,
// SUCCESS, ERROR, IDLE and PAUSED tasks are counted (total = their sum).
struct ReportStatistics {
  int64_t total = 0, running = 0, success = 0, error = 0, idle = 0, paused = 0;
  void Count(engine::State state);
  Json ToJson() const;
};

}  // namespace bora::api
