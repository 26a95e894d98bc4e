#pragma once
// JSON views of execution state for people and tools: what `bora run --json` prints (and what the
// conformance runner's third run reads back from it). The REST API has its own
// (ingest/api/mistral_views.h). Pure functions.
#include <functional>
#include <optional>
#include <string>

#include "common/json.h"
#include "orchestrator/engine/state.h"

namespace bora::runtime {

// {id, name, type, state, state_info, published, result, runtime_context, created_at, started_at,
//  finished_at, duration_ms, action_executions: [{id, name, index, state, accepted, ...}]}
Json TaskView(const engine::TaskExecution& task);

// {id, workflow, state, state_info, input, output, params, created_at, updated_at, tasks: [TaskView...]}
// Tasks in creation order.
Json ExecutionView(const engine::ExecutionState& state);

// The sub-workflow execution of `execution_id`, or nullopt when there is none.
using SubExecutionLookup =
    std::function<std::optional<engine::ExecutionState>(const std::string& execution_id)>;

// ExecutionView, plus in every action execution that runs a sub-workflow (`is_workflow: true`) the
// sub-workflow execution's ExecutionTreeView under "sub_execution" (the same shape, recursively;
// null when `lookup` does not find it). What `bora run --json` prints. Nesting deeper than
// `max_depth` levels is cut (null) so a malformed tree cannot recurse without end.
Json ExecutionTreeView(const engine::ExecutionState& state, const SubExecutionLookup& lookup,
                       int max_depth = 64);

}  // namespace bora::runtime
