#pragma once
// ApiService: the REST API and the event paths around one runtime, in either mode.
//  - Embedded (`bora serve`): over an EmbeddedRuntime: MemoryResourceStore, a Catalog writing into the
//    runtime's MemoryDefinitions, the cron scheduler as a partition task of the orchestrator loops, the
//    ingest processor (bora.ingest on the MemoryBus) as a poll loop.
//  - Distributed (`bora serve|api|orchestrator --kafka --redis`): over a ClusterNode: RedisResourceStore
//    and RedisDefinitions (shared by every process), cron and ingest in processes with the orchestrator role
//    (cron triggers are fired by the owner of their partition; the ingest consumer group shares bora.ingest).
// The HTTP server (ingest/http) serves every resource route (rest_api), /metrics and /health/*.
//
// Ownership: the service does not own the runtime; create it before the runtime's Start() (it registers
// hooks), start its HTTP server after, stop it before the runtime stops. Thread-safety: Create/Start/Stop
// from one thread; the context and catalog may be used from any thread.
#include <memory>
#include <string>

#include "common/status.h"
#include "ingest/api/api_context.h"
#include "ingest/http/http_server.h"
#include "ingest/http/router.h"

namespace bora::runtime {
class EmbeddedRuntime;
class ClusterNode;
}  // namespace bora::runtime

namespace bora::api {

struct ApiServiceOptions {
  bool serve_http = true;
  http::HttpServerOptions http;  // port 8989 by default in the CLI; 0 = ephemeral
  ApiLimits limits;
  bool cron = true;    // run the cron scheduler (orchestrator role)
  bool ingest = true;  // run the ingest processor (orchestrator role)
};

class ApiService {
 public:
  static Result<std::unique_ptr<ApiService>> ForEmbedded(runtime::EmbeddedRuntime* runtime,
                                                         ApiServiceOptions options);
  static Result<std::unique_ptr<ApiService>> ForCluster(runtime::ClusterNode* node, ApiServiceOptions options);
  ~ApiService();

  // Stores a definition file through the catalog (so it is listed by the API): a workbook when it has a
  // top-level `workflows:` or `actions:` map with a `name`, else workflows; replaces existing ones.
  Status LoadFile(const std::string& path);

  // Starts the HTTP server (if serve_http). port() is then the bound port.
  Status Start();
  void Stop();
  int port() const;

  ApiContext& context();
  Catalog& catalog();
  http::Router& router();

 private:
  struct Impl;
  explicit ApiService(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The warning `bora serve|api` logs at start when the API listens beyond loopback without an auth
// token; empty when it does not.
std::string ExposureWarning(const http::HttpServerOptions& options);

// Registers every REST resource of `context` on `router` (definitions, executions/tasks/action
// executions, cron triggers, events/webhooks/event triggers) plus /metrics and /health/* (`ready`
// decides readiness). A POST, PUT or PATCH with a body to a route that takes JSON needs a JSON
// Content-Type (application/json or application/*+json), else 415; definitions (YAML), /v2/events
// and /v2/webhooks/{name} take any.
void RegisterRestApi(http::Router& router, ApiContext& context, std::function<Status()> ready);

}  // namespace bora::api
