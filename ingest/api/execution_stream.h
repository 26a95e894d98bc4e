#pragma once
// GET /v2/executions/{id}/stream: an execution's changes as Server-Sent Events, for live views
// (the web console's execution page):
//   event: execution   data: <the execution, as GET /v2/executions/{id}>        (when it changed)
//   event: tasks       data: {"tasks": [<task summary>, ...]}: every task the first time, then the
//                      tasks whose summary changed (merge by id). A summary: id, name, state,
//                      state_info, type, created_at, started_at, finished_at, updated_at, retry_no,
//                      actions (action executions so far), items ({total, success, error, running}
//                      for a with-items task, else null), sub_executions (ids), worker_pool (the
//                      pool of an external action's workers, else null).
//   event: end         data: {"state": "SUCCESS"}  once the execution is finished; the stream ends
//   event: gone        data: <the fault>            the execution was deleted; the stream ends
// Changes are found by reading the execution's head (ExecutionsApi::ChangeMarker: cheap however
// large the execution) every `poll`; the views and summaries are read only when it moved, and no
// sooner than 3x the last such read's duration after it (a 100,000-item execution changing all the
// time is not read whole every poll). So a change shows within `poll` (or that spacing) plus the
// time the orchestrator takes to commit it.
//
// Thread-safety: the stream is read by the HTTP server's stream thread; ExecutionsApi's views are
// thread-safe.
#include <chrono>
#include <memory>
#include <string>

#include "common/http/http_types.h"
#include "ingest/api/executions_api.h"

namespace bora::api {

// 200 with the stream, or the fault GET /v2/executions/{id} answers (404 for an unknown id).
http::HttpResponse StreamExecution(std::shared_ptr<ExecutionsApi> api,
                                   const http::HttpRequest& request, const std::string& id,
                                   std::chrono::milliseconds poll);

}  // namespace bora::api
