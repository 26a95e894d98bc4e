#include "common/metrics/http_routes.h"

#include <chrono>
#include <exception>

#include "common/json.h"
#include "common/metrics/metrics.h"

namespace bora::metrics {

http::HttpResponse MetricsResponse() {
  http::HttpResponse r;
  r.content_type = kContentType;
  r.body = Serialize();
  return r;
}

http::HttpResponse LiveResponse() {
  http::HttpResponse r;
  r.body = R"({"status":"ok"})";
  return r;
}

http::HttpResponse ReadyResponse(const ReadyCheck& ready) {
  Status s = Status::Ok();
  if (ready) {
    try {
      s = ready();
    } catch (const std::exception& e) {
      s = Internal(std::string("readiness check threw: ") + e.what());
    }
  }
  http::HttpResponse r;
  JsonObject body;
  body["status"] = s.ok() ? "ready" : "not ready";
  if (!s.ok()) {
    r.status = 503;
    body["reason"] = s.message();
  }
  r.body = DumpJson(Json(std::move(body)));
  return r;
}

http::RouteHandler Instrumented(std::string route, http::RouteHandler handler) {
  return [route = std::move(route), handler = std::move(handler)](const http::HttpRequest& request,
                                                                  const http::PathParams& params) {
    auto start = std::chrono::steady_clock::now();
    http::HttpResponse response = handler(request, params);
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    HttpRequest(route, request.method, response.status, seconds,
                request.identity ? std::string_view(request.identity->project_id) : "");
    return response;
  };
}

}  // namespace bora::metrics
