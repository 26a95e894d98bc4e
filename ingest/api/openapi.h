#pragma once
// The OpenAPI 3.0.3 document of Bora's REST API (ingest/api/openapi.json, embedded in the binary at
// build time by openapi.cmake) and the route that serves it: GET /v2/openapi.json
// (application/json). The document describes every route RegisterRestApi registers (plus this one);
// openapi_test checks it against the registered routes and validates real responses against it.
//
// Thread-safety: the document is immutable; the handler may run on any thread.
#include <string_view>

#include "common/http/router.h"

namespace bora::api {

// The document text, exactly as in ingest/api/openapi.json.
std::string_view OpenApiDocument();

// Adds GET /v2/openapi.json.
void RegisterOpenApiRoutes(http::Router& router);

}  // namespace bora::api
