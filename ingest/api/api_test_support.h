#pragma once
// Test support for the REST handler tests of ingest/api (library bora_api_test_support; tests only).
//  - ApiTestBackend: a deterministic EmbeddedRuntime with the API state around it, built by
//    ApiService::ForEmbedded so that one place fills an ApiContext: a MemoryResourceStore on the
//    runtime's (manual) clock, a Catalog writing into the runtime's MemoryDefinitions, and the context.
//    By default no HTTP server, no cron scheduler and no ingest processor: tests register the routes
//    they exercise on their own http::Router and drive everything with RunUntilIdle.
//  - MakeRequest: an http::HttpRequest as the server hands it to the Router (path and query split out
//    of the target and percent-decoded), for Router::Dispatch without sockets.
//  - BodyObject / Field: reading JSON replies in assertions.
//
// Ownership: the backend owns the runtime and the service (destroyed in that reverse order); the
// references its accessors return live as long as the backend. Thread-safety: the test's thread only.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/http/http_types.h"
#include "common/json.h"
#include "ingest/api/api_context.h"
#include "ingest/api/api_service.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "workers/action.h"

namespace bora::api {

class ApiTestBackend {
 public:
  // deterministic = true: nothing runs until RunUntilIdle, the clock is a ManualClock.
  static runtime::EmbeddedOptions DefaultRuntimeOptions();
  // serve_http = false, cron = false, ingest = false (default limits).
  static ApiServiceOptions DefaultServiceOptions();

  explicit ApiTestBackend(const ApiServiceOptions& service = DefaultServiceOptions(),
                          const runtime::EmbeddedOptions& runtime = DefaultRuntimeOptions());
  ~ApiTestBackend();
  ApiTestBackend(const ApiTestBackend&) = delete;
  ApiTestBackend& operator=(const ApiTestBackend&) = delete;

  runtime::EmbeddedRuntime& runtime() { return *runtime_; }
  store::ResourceStore& resources() { return *service_->context().resources; }
  Catalog& catalog() { return service_->catalog(); }
  ApiContext& context() { return service_->context(); }
  ApiService& service() { return *service_; }

 private:
  std::unique_ptr<runtime::EmbeddedRuntime> runtime_;
  std::unique_ptr<ApiService> service_;
};

// A request for Router::Dispatch: `target` is "/path?query" (percent-encoded, '+' = space in the
// query); base_url "http://localhost:8989". Headers are `headers` plus host "localhost:8989" unless
// given, and `content_type` (or
// application/json when empty) as content-type when a body is given and `headers` has none.
http::HttpRequest MakeRequest(const std::string& method, const std::string& target,
                              const std::string& body = "", const std::string& content_type = "",
                              const std::map<std::string, std::string>& headers = {});

// The reply's body as a JSON object; an empty object (and a test failure) when it is not one.
JsonObject BodyObject(const http::HttpResponse& response);

// `key` of `object`: a string as is, any other value as JSON text, "<missing>" when absent.
std::string Field(const JsonObject& object, const char* key);

// An action that records the security context its requests carry (register it under a test
// name with ActionRegistry::Register).
class SecurityProbe final : public workers::Action {
 public:
  explicit SecurityProbe(std::vector<Json>* seen) : seen_(seen) {}
  workers::ActionResult Run(const workers::ActionRequest& request,
                            const workers::CancelToken&) override {
    seen_->push_back(request.security);
    return workers::ActionResult::Success(nullptr);
  }

 private:
  std::vector<Json>* seen_;
};

}  // namespace bora::api
