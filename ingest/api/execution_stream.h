#pragma once
// GET /v2/executions/{id}/stream: an execution's changes as Server-Sent Events, for live views
// (the web console's execution page). Built on the REST views themselves, so a stream shows what
// GET /v2/executions/{id} and GET /v2/executions/{id}/tasks show:
//   event: execution   data: <the execution, as GET /v2/executions/{id}>       (when it changed)
//   event: tasks       data: <{"tasks": [...]}, as GET /v2/executions/{id}/tasks> (when it changed)
//   event: end         data: {"state": "SUCCESS"}  once the execution is finished; the stream ends
//   event: gone        data: <the fault>            the execution was deleted; the stream ends
// The first events carry the current state. Changes are found by reading the views every
// `poll` (the API process sees the state store, not the engine), so a change shows within `poll`
// plus the time the orchestrator takes to commit it.
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
