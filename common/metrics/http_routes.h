#pragma once
// The observability routes every Bora process serves: GET /metrics (Prometheus text format 0.0.4),
// GET /health/live (200 while the process runs) and GET /health/ready (200 when `ready` answers OK,
// else 503 with the reason). Mounted on the API router by `bora serve`/`bora api` and on the
// --metrics-port server of `bora orchestrator` and `bora worker`.
//
// The handlers only use the plain values of common/http/http_types.h; AddRoutes is inline so this
// library does not link the HTTP server (whoever owns a Router links it).
//
// Thread-safety: handlers may run on any thread at once; `ready` must be thread-safe.
#include <functional>
#include <string>

#include "common/http/http_types.h"
#include "common/http/router.h"
#include "common/status.h"

namespace bora::metrics {

// OK when the process can do its work; otherwise the reason (shown in the 503 body).
using ReadyCheck = std::function<Status()>;

http::HttpResponse MetricsResponse();
http::HttpResponse LiveResponse();
http::HttpResponse ReadyResponse(const ReadyCheck& ready);

// Wraps `handler` so each request is counted in bora_http_requests_total and timed in
// bora_http_request_duration_seconds under `route` (the pattern, never the raw path).
http::RouteHandler Instrumented(std::string route, http::RouteHandler handler);

inline void AddRoutes(http::Router& router, ReadyCheck ready) {
  router.Add("GET", "/metrics",
             Instrumented("/metrics", [](const http::HttpRequest&, const http::PathParams&) {
               return MetricsResponse();
             }));
  router.Add("GET", "/health/live",
             Instrumented("/health/live", [](const http::HttpRequest&, const http::PathParams&) {
               return LiveResponse();
             }));
  router.Add("GET", "/health/ready",
             Instrumented("/health/ready", [ready = std::move(ready)](const http::HttpRequest&,
                                                                      const http::PathParams&) {
               return ReadyResponse(ready);
             }));
}

}  // namespace bora::metrics
