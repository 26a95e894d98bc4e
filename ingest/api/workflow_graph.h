#pragma once
// GET /v2/workflows/{identifier}/graph (Bora): a workflow's tasks and transitions as a graph, for
// drawing it (the web console). Nodes are the tasks, and one node per engine command an on-* clause
// names (fail / succeed / pause / noop); edges are the transitions by kind:
//   {"workflow", "namespace", "type": "direct"|"reverse",
//    "nodes": [{"id", "kind": "task"|"fail"|"succeed"|"pause"|"noop", "task", "action", "workflow",
//               "join": null|"all"|<n>, "with_items", "retry", "line"}],
//    "edges": [{"from", "to", "kind": "on-success"|"on-error"|"on-complete"|"on-skip"|"requires",
//               "condition": "<% ... %>"|null}]}
// A reverse workflow's `requires` edges go from the required task to the task requiring it. A
// transition to a task the workflow does not have is left out (validation refuses such documents).
// Thread-safety: pure function.
#include <string_view>

#include "common/json.h"
#include "orchestrator/language/spec.h"

namespace bora::api {

Json WorkflowGraph(const lang::WorkflowSpec& spec, std::string_view namespace_name);

}  // namespace bora::api
