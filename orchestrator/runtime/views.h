#pragma once
// JSON views of execution state for people and tools: what `bora run --json` prints and what the REST API and
// the conformance runner read. Pure functions.
#include "common/json.h"
#include "orchestrator/engine/state.h"

namespace bora::runtime {

// {id, name, type, state, state_info, published, result, runtime_context, created_at, started_at,
//  finished_at, duration_ms, action_executions: [{id, name, index, state, accepted, ...}]}
Json TaskView(const engine::TaskExecution& task);

// {id, workflow, state, state_info, input, output, params, created_at, updated_at, tasks: [TaskView...]}
// Tasks in creation order.
Json ExecutionView(const engine::ExecutionState& state);

}  // namespace bora::runtime
