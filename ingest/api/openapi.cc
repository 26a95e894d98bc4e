#include "ingest/api/openapi.h"

#include <string>

namespace bora::api {

// Defined in the openapi_document.cc that openapi.cmake generates from openapi.json.
extern const char kOpenApiDocumentText[];
extern const size_t kOpenApiDocumentSize;

std::string_view OpenApiDocument() {
  return std::string_view(kOpenApiDocumentText, kOpenApiDocumentSize);
}

void RegisterOpenApiRoutes(http::Router& router) {
  router.Add("GET", "/v2/openapi.json", [](const http::HttpRequest&, const http::PathParams&) {
    http::HttpResponse r;
    r.status = 200;
    r.content_type = "application/json";
    r.body = std::string(OpenApiDocument());
    return r;
  });
}

}  // namespace bora::api
