#pragma once
// Mistral REST v2 resources over workflow executions (../shared/mistral-spec.md §5, ingest/api/README.md
// "Executions, tasks, action executions"):
//   /v2/executions[/{id}] GET POST PUT DELETE, /v2/executions/{id}/tasks, /{id}/executions, /{id}/report
//   /v2/tasks[/{id}] GET PUT, /v2/tasks/{id}/action_executions, /{id}/executions, /{id}/workflow_executions
//   /v2/action_executions[/{id}] GET POST PUT
// Reads come from ApiContext::states (every partition is scanned for listings and for task / action
// execution ids); changes are events published through ApiContext::executions; deleted executions and
// directly run actions are ResourceStore records (kinds "deleted_execution", "execution_meta",
// "action_execution").
//
// Ownership: ExecutionsApi keeps a reference to the ApiContext, which must outlive it (and the router).
// Thread-safety: every handler may run on any server thread concurrently.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/http/http_types.h"
#include "common/http/router.h"
#include "common/json.h"
#include "common/status.h"
#include "ingest/api/api_context.h"

namespace bora::api {

struct ExecutionsApiOptions {
  // After publishing a start (POST /v2/executions) or an operation (PUT), how long to wait for the
  // orchestrator to make it visible in the StateStore before answering with a record synthesised from the
  // request. 0 = do not wait (deterministic tests: nothing runs until the test pumps the runtime).
  std::chrono::milliseconds change_wait{5000};
  // Interval between StateStore reads while waiting.
  std::chrono::milliseconds poll_interval{10};
  // Interval between reads of an execution streamed to a client (GET /v2/executions/{id}/stream).
  std::chrono::milliseconds stream_poll{50};
};

// The handlers, callable directly (tests) or through the routes RegisterExecutionsRoutes adds.
class ExecutionsApi {
 public:
  ExecutionsApi(ApiContext& context, ExecutionsApiOptions options = {});

  http::HttpResponse ListExecutions(const http::HttpRequest& request);
  http::HttpResponse CreateExecution(const http::HttpRequest& request);
  http::HttpResponse GetExecution(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse UpdateExecution(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse DeleteExecution(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse ListExecutionTasks(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse ListSubExecutions(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse GetReport(const http::HttpRequest& request, const std::string& id);

  http::HttpResponse ListTasks(const http::HttpRequest& request);
  http::HttpResponse GetTask(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse UpdateTask(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse ListTaskActionExecutions(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse GetTaskActionExecution(const http::HttpRequest& request, const std::string& task_id,
                                            const std::string& action_id);
  http::HttpResponse ListTaskSubExecutions(const http::HttpRequest& request, const std::string& id);

  // Bora's endpoints for live views (console_api.cc; ingest/api/README.md "Live views"):
  // GET /v2/executions/counts (the list's filters and `search`) and GET /v2/tasks/{id}/items.
  http::HttpResponse CountExecutions(const http::HttpRequest& request);
  http::HttpResponse ListTaskItems(const http::HttpRequest& request, const std::string& id);
  // What changes whenever the execution does (its head only: cheap however large it is); NotFound
  // for an unknown or deleted execution.
  Result<std::string> ChangeMarker(const std::string& id);
  // (task execution id, summary) of each task, in creation order: the execution stream's `tasks`.
  Result<std::vector<std::pair<std::string, Json>>> TaskSummaries(const std::string& id);

  http::HttpResponse ListActionExecutions(const http::HttpRequest& request);
  http::HttpResponse GetActionExecution(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse CreateActionExecution(const http::HttpRequest& request);
  http::HttpResponse UpdateActionExecution(const http::HttpRequest& request, const std::string& id);
  // 403 "Action execution deletion is not allowed." (Mistral's default configuration).
  http::HttpResponse DeleteActionExecution(const http::HttpRequest& request, const std::string& id);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

// Adds every route above to `router`; the handlers keep a reference to `context`.
void RegisterExecutionsRoutes(http::Router& router, ApiContext& context);
void RegisterExecutionsRoutes(http::Router& router, ApiContext& context,
                              const ExecutionsApiOptions& options);

}  // namespace bora::api
