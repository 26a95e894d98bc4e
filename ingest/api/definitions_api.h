#pragma once
// The definitions part of Mistral's REST API v2 (../shared/mistral-spec.md §5): the root and
// version documents (GET /, GET /v2, GET /info), workbooks, workflows, actions and environments,
// each with list (Mistral's marker/limit/sort/fields/filters), get, create (201), update (PUT),
// delete (204) and, for the YAML resources, POST .../validate. Definitions are YAML bodies
// (text/plain); environments are JSON bodies. Handlers work on ctx.catalog (ingest/api/catalog.h);
// definitions larger than ctx.limits.max_definition_bytes get 413.
//
// Thread-safety: register before serving; the handlers may run on any server thread.
#include "common/http/router.h"
#include "ingest/api/api_context.h"

namespace bora::api {

// `ctx` (and ctx.catalog) must outlive the router.
void RegisterDefinitionsRoutes(http::Router& router, ApiContext& ctx);

}  // namespace bora::api
