#pragma once
// GET /v2/services (`mistral service-list`): the services of the process that answers, as Mistral's
// {"services": [{"name": "<host>_<pid>", "type": "<role>_group"}]}: api_group when it serves the
// API, engine_group and event_engine_group with the orchestrator role (it applies events and runs
// cron and event triggers), executor_group with a worker. The embedded `bora serve` is every
// service in one process. A distributed deployment has no membership registry yet: each process
// lists only its own roles. (Mistral 15 without a coordination backend answers 406 "Service API is
// not supported.")
//
// Ownership: the handler keeps a reference to the ApiContext. Thread-safety: any server thread.
#include "common/http/router.h"
#include "ingest/api/api_context.h"

namespace bora::api {

void RegisterServicesRoutes(http::Router& router, ApiContext& context);

}  // namespace bora::api
