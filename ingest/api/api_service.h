#pragma once
// ApiService: the REST API and the event paths around one runtime, in any mode. Create() is the one
// place that builds them (the catalog, the API's execution client, the cron scheduler as a
// partition task of the orchestrator loops, the ingest processor as a poll loop) from a
// runtime::Roles and the storage of the backend (ApiStorage); ForEmbedded and ForCluster only
// gather those:
//  - Embedded (`bora serve`): an EmbeddedRuntime's roles, its resource store (memory or on disk), a
//  Catalog
//    writing into its MemoryDefinitions (reloaded from the store on start when on disk).
//  - Distributed (`bora serve|api|orchestrator --kafka --redis`): a ClusterNode's roles, a
//    RedisResourceStore and RedisDefinitions (shared by every process); cron and ingest only in
//    processes with the orchestrator role (cron triggers are fired by the owner of their partition;
//    the ingest consumer group shares bora.ingest).
// The HTTP server (common/http) serves every resource route (rest_api), /metrics and /health/*.
//
// Ownership: the service does not own the runtime; create it before the runtime's Start() (it
// registers hooks), start its HTTP server after, stop it before the runtime stops. Thread-safety:
// Create/Start/Stop from one thread; the context and catalog may be used from any thread.
#include <functional>
#include <memory>
#include <string>

#include "common/auth/keystone_trusts.h"
#include "common/http/http_server.h"
#include "common/http/router.h"
#include "common/status.h"
#include "ingest/api/api_context.h"
#include "ingest/api/catalog.h"
#include "ingest/api/workers_api.h"
#include "orchestrator/runtime/roles.h"

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
  // Keystone trusts (--auth keystone, or the --keystone-* flags of `bora orchestrator`): cron
  // triggers created by Keystone users get one, and their runs a token of it. Null: none.
  std::shared_ptr<auth::KeystoneTrusts> trusts;
};

// What differs per backend around the roles: where definitions and triggers are kept and how
// readiness is checked.
struct ApiStorage {
  store::ResourceStore* resources = nullptr;              // not owned; or:
  std::unique_ptr<store::ResourceStore> owned_resources;  // owned by the service
  std::unique_ptr<DefinitionsSink> sink;                  // where the catalog registers documents
  bool reload_catalog =
      false;  // re-register the stored definitions at creation (a store that outlives the process)
  std::function<Status()> ready;  // /health/ready (null: always ready)
  int ingest_partitions = 1;      // of bora.ingest, when the ingest processor creates it
};

class ApiService {
 public:
  static Result<std::unique_ptr<ApiService>> Create(const runtime::Roles& roles, ApiStorage storage,
                                                    ApiServiceOptions options);
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
// Returns the worker API it registered (ingest/api/workers_api.h): keep it while the router serves,
// and Shutdown() it before the server stops (it ends waiting polls and its pool loops).
std::shared_ptr<WorkersApi> RegisterRestApi(http::Router& router, ApiContext& context,
                                            std::function<Status()> ready);

}  // namespace bora::api
