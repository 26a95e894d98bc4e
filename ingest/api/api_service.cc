#include "ingest/api/api_service.h"

#include <yaml-cpp/yaml.h>

#include <boost/asio/ip/address.hpp>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "common/http/fault.h"
#include "common/log.h"
#include "common/metrics/http_routes.h"
#include "ingest/api/admin_api.h"
#include "ingest/api/catalog.h"
#include "ingest/api/cron_triggers_api.h"
#include "ingest/api/definitions_api.h"
#include "ingest/api/events_api.h"
#include "ingest/api/executions_api.h"
#include "ingest/api/openapi.h"
#include "ingest/api/services_api.h"
#include "ingest/console/console_routes.h"
#include "ingest/events/ingest_processor.h"
#include "orchestrator/runtime/cluster_node.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/store/memory_resource_store.h"
#include "orchestrator/store/redis_resource_store.h"
#include "orchestrator/triggers/cron_scheduler.h"

namespace bora::api {

namespace {

// Runs the cron scheduler for the partitions an orchestrator loop owns.
class CronTask final : public runtime::PartitionTask {
 public:
  explicit CronTask(triggers::CronScheduler* scheduler) : scheduler_(scheduler) {}
  Result<size_t> RunOwned(const std::vector<PartitionId>& owned) override {
    return scheduler_->RunDue(owned);
  }

 private:
  triggers::CronScheduler* scheduler_;
};

}  // namespace

struct ApiService::Impl {
  ApiServiceOptions options;
  ApiContext context;
  std::unique_ptr<store::ResourceStore> resources;
  // The API's own client: it answers 201/202 once the event is durable (ExecutionClient
  // wait_durable).
  std::unique_ptr<runtime::ExecutionClient> client;
  std::unique_ptr<DefinitionsSink> sink;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<triggers::CronScheduler> cron;
  std::unique_ptr<CronTask> cron_task;
  std::unique_ptr<events::IngestProcessor> ingest;
  std::function<Status()> ready;
  http::Router router;
  std::shared_ptr<WorkersApi> workers;
  std::unique_ptr<http::HttpServer> server;
};

ApiService::ApiService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiService::~ApiService() { Stop(); }

Result<std::unique_ptr<ApiService>> ApiService::Create(const runtime::Roles& roles,
                                                       ApiStorage storage,
                                                       ApiServiceOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->resources = std::move(storage.owned_resources);
  store::ResourceStore* resources =
      storage.resources != nullptr ? storage.resources : impl->resources.get();
  if (resources == nullptr) return InvalidArgument("ApiService needs a resource store");
  impl->sink = std::move(storage.sink);
  CatalogOptions co;
  co.max_definition_bytes = options.limits.max_definition_bytes;
  impl->catalog =
      std::make_unique<Catalog>(resources, impl->sink.get(), roles.clock, roles.actions, co);
  // Definitions stored before a restart go back to the engine.
  if (storage.reload_catalog) BORA_RETURN_IF_ERROR(impl->catalog->Reload());
  // The API's own client answers 201/202 once the event is durable.
  impl->client = std::make_unique<runtime::ExecutionClient>(
      roles.bus, roles.executions, roles.engine, roles.definitions, roles.partitions,
      roles.topic_prefix, /*wait_durable=*/true);
  ApiContext& c = impl->context;
  c.executions = impl->client.get();
  c.states = roles.executions;
  c.partitions = roles.partitions;
  c.resources = resources;
  c.catalog = impl->catalog.get();
  c.engine = roles.engine;
  c.actions = roles.actions;
  c.bus = roles.bus;
  c.trim_bus = roles.trim;
  c.topic_prefix = roles.topic_prefix;
  c.clock = roles.clock;
  c.limits = options.limits;
  c.disk = roles.disk;
  c.trusts = options.trusts.get();
  if (options.serve_http) c.service_groups.push_back("api_group");
  if (roles.add_partition_task) {
    c.service_groups.push_back("engine_group");
    c.service_groups.push_back("event_engine_group");
  }
  if (roles.worker) c.service_groups.push_back("executor_group");
  BORA_RETURN_IF_ERROR(LoadDeclaredActions(c));
  // Cron and ingest run where the orchestrator loops are.
  if (roles.add_partition_task && options.cron) {
    impl->cron = std::make_unique<triggers::CronScheduler>(resources, roles.client, roles.clock,
                                                           roles.partitions);
    if (options.trusts) {
      impl->cron->SetTrustTokenHook(CronTrustTokens(options.trusts));
    }
    impl->cron_task = std::make_unique<CronTask>(impl->cron.get());
    roles.add_partition_task(impl->cron_task.get());
  }
  if (roles.add_poll_loop && options.ingest) {
    events::IngestOptions io;
    io.topic_prefix = roles.topic_prefix;
    io.group = roles.topic_prefix + io.group;
    io.partitions = storage.ingest_partitions;
    impl->ingest =
        std::make_unique<events::IngestProcessor>(io, roles.bus, resources, roles.client);
    roles.add_poll_loop({"ingest", [p = impl->ingest.get()](std::chrono::milliseconds timeout) {
                           return p->PollOnce(timeout);
                         }});
  }
  impl->ready = storage.ready ? std::move(storage.ready) : [] { return Status::Ok(); };
  return std::unique_ptr<ApiService>(new ApiService(std::move(impl)));
}

Result<std::unique_ptr<ApiService>> ApiService::ForEmbedded(runtime::EmbeddedRuntime* runtime,
                                                            ApiServiceOptions options) {
  ApiStorage storage;
  storage.resources = &runtime->resources();
  storage.sink = std::make_unique<MemoryDefinitionsSink>(&runtime->definitions());
  if (disk::DiskDb* db = runtime->disk()) {
    storage.reload_catalog = true;
    // Ready while the data directory takes writes (not while the disk is full).
    storage.ready = [db] { return db->Healthy(); };
  }
  return Create(runtime->roles(), std::move(storage), options);
}

Result<std::unique_ptr<ApiService>> ApiService::ForCluster(runtime::ClusterNode* node,
                                                           ApiServiceOptions options) {
  const runtime::ClusterOptions& co = node->options();
  ApiStorage storage;
  BORA_ASSIGN_OR_RETURN(storage.owned_resources,
                        store::RedisResourceStore::Connect(co.redis, co.prefix));
  storage.sink = std::make_unique<RedisDefinitionsSink>(&node->definitions());
  storage.ingest_partitions = co.partitions;
  // Ready when Redis answers (the resource store reads a key).
  store::ResourceStore* resources = storage.owned_resources.get();
  storage.ready = [resources]() -> Status {
    auto r = resources->Get("health", "ping");
    return r.ok() ? Status::Ok() : r.status();
  };
  return Create(node->roles(), std::move(storage), options);
}

Status ApiService::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  bool workbook = false;
  try {
    YAML::Node root = YAML::Load(yaml);
    workbook = root.IsMap() && root["name"] && (root["workflows"] || root["actions"]);
  } catch (const YAML::Exception&) {
    // The catalog reports the parse error with its line and column.
  }
  DefinitionScope where;
  Status s;
  if (workbook) {
    auto created = impl_->catalog->CreateWorkbook(yaml, where);
    if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
      created = impl_->catalog->UpdateWorkbook(yaml, where);
    }
    s = created.status();
  } else {
    auto created = impl_->catalog->CreateWorkflows(yaml, where);
    if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
      created = impl_->catalog->UpdateWorkflows(yaml, where);
    }
    s = created.status();
  }
  if (!s.ok()) return Status(s.code(), path + ": " + s.message());
  return Status::Ok();
}

namespace {

// Patterns whose POST/PUT bodies are not JSON (any Content-Type).
bool TakesAnyBody(const std::string& pattern) {
  // YAML definitions (python-mistralclient sends them as text/plain), and the event intake, whose
  // content types are the senders' (CloudEvents binary mode, webhooks).
  static const std::set<std::string> kPatterns = {"/v2/workbooks",
                                                  "/v2/workbooks/validate",
                                                  "/v2/workflows",
                                                  "/v2/workflows/{identifier}",
                                                  "/v2/workflows/validate",
                                                  "/v2/actions",
                                                  "/v2/actions/{identifier}",
                                                  "/v2/actions/validate",
                                                  "/v2/events",
                                                  "/v2/webhooks/{name}"};
  return kPatterns.count(pattern) > 0;
}

bool IsJsonMediaType(std::string_view content_type) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == "application/json" || (type.rfind("application/", 0) == 0 && type.size() > 5 &&
                                        type.compare(type.size() - 5, 5, "+json") == 0);
}

http::RouteHandler RequireJsonBody(const std::string& pattern, http::RouteHandler handler) {
  if (TakesAnyBody(pattern)) return handler;
  return [handler = std::move(handler)](const http::HttpRequest& r, const http::PathParams& p) {
    bool has_body = r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
    std::string type = r.Header("content-type");
    if (has_body && !r.body.empty() && !IsJsonMediaType(type)) {
      return http::MistralFault(
          415, "Unsupported Media Type: " + r.method + " " + r.path +
                   " takes a JSON body (Content-Type: application/json), got " +
                   (type.empty() ? std::string("no Content-Type") : "'" + type + "'"));
    }
    return handler(r, p);
  };
}

}  // namespace

std::string ExposureWarning(const http::HttpServerOptions& options) {
  if (!options.auth_token.empty() || options.authenticator) return "";
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(options.address, ec);
  if (!ec && address.is_loopback()) return "";
  return "the REST API listens on " + options.address +
         ", beyond loopback, without an auth token: anyone who can reach it can read and start "
         "workflows (use --auth-token-file)";
}

std::shared_ptr<WorkersApi> RegisterRestApi(http::Router& router, ApiContext& context,
                                            std::function<Status()> ready) {
  // Every route is counted and timed under its pattern (bora_http_requests_total and its
  // histogram); metrics::AddRoutes wraps its own. Routes that take JSON refuse other bodies (415).
  router.SetWrapper([](const std::string& pattern, http::RouteHandler handler) {
    return metrics::Instrumented(pattern, RequireJsonBody(pattern, std::move(handler)));
  });
  RegisterDefinitionsRoutes(router, context);
  RegisterExecutionsRoutes(router, context);
  RegisterCronTriggersRoutes(router, context);
  RegisterEventsRoutes(router, context);
  RegisterAdminRoutes(router, context);
  RegisterServicesRoutes(router, context);
  auto workers = std::make_shared<WorkersApi>(context);
  workers->Register(router);
  router.SetWrapper(nullptr);
  metrics::AddRoutes(router, std::move(ready));
  RegisterOpenApiRoutes(router);
  return workers;
}

Status ApiService::Start() {
  if (!impl_->options.serve_http || impl_->server) return Status::Ok();
  impl_->workers = RegisterRestApi(impl_->router, impl_->context, impl_->ready);
  // The web console: static files, no data, so no token (its API calls carry the token).
  console::RegisterConsoleRoutes(impl_->router, console::BuiltConsoleFiles());
  http::HttpServerOptions ho = impl_->options.http;
  ho.unauthenticated_prefixes.insert("/ui");
  ho.max_body_bytes = std::max(ho.max_body_bytes, impl_->options.limits.max_definition_bytes);
  impl_->server = std::make_unique<http::HttpServer>(
      ho, [router = &impl_->router](const http::HttpRequest& request) { return router->Dispatch(request); });
  Status s = impl_->server->Start();
  if (!s.ok()) {
    impl_->server.reset();
    return s;
  }
  BORA_LOG_INFO("REST API on http://{}", impl_->server->endpoint());
  BORA_LOG_INFO("Web console on http://{}/ui", impl_->server->endpoint());
  if (std::string warning = ExposureWarning(ho); !warning.empty()) BORA_LOG_WARN("{}", warning);
  return Status::Ok();
}

void ApiService::Stop() {
  if (impl_ && impl_->workers) impl_->workers->Shutdown();  // ends waiting polls first
  if (impl_ && impl_->server) impl_->server->Stop();
  if (impl_ && impl_->ingest) impl_->ingest->Wakeup();
}

int ApiService::port() const { return impl_->server ? impl_->server->port() : 0; }
ApiContext& ApiService::context() { return impl_->context; }
Catalog& ApiService::catalog() { return *impl_->catalog; }
http::Router& ApiService::router() { return impl_->router; }

}  // namespace bora::api
