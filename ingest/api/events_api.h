#pragma once
// Events in (ingest/api/README.md "Events and webhooks", ingest/events/README.md):
//   POST   /v2/events                    CloudEvents 1.0 over HTTP (structured, binary or batch
//                                        mode) -> 202 {"accepted": n, "ids": [...]} once
//                                        published to bora.ingest
//   POST   /v2/webhooks/{name}           a configured webhook (aodh | alertmanager | json);
//                                        signature checked when it has a secret (401 on failure)
//   GET    /v2/webhook_configs[/{name}]  webhook configurations (secrets are never returned)
//   POST   /v2/webhook_configs           {name, format, secret?, signature?, description?}
//   DELETE /v2/webhook_configs/{name}
//   GET    /v2/event_triggers[/{id}], POST, PUT /{id}, DELETE /{id}: Mistral's resource, extended
//                                        with type/source/subject matching and input_mapping
// Events are only accepted here (durably published to `<prefix>bora.ingest`); an
// events::IngestProcessor running beside the orchestrators matches the triggers and starts
// workflows.
//
// Ownership: EventsApi keeps a reference to the ApiContext, which must outlive it (and the router).
// Thread-safety: every handler may run on any server thread concurrently.
#include <memory>
#include <string>

#include "common/http/http_types.h"
#include "common/http/router.h"
#include "ingest/api/api_context.h"

namespace bora::api {

class EventsApi {
 public:
  explicit EventsApi(ApiContext& context);

  http::HttpResponse PostEvents(const http::HttpRequest& request);
  http::HttpResponse PostWebhook(const http::HttpRequest& request, const std::string& name);

  http::HttpResponse ListWebhookConfigs(const http::HttpRequest& request);
  http::HttpResponse GetWebhookConfig(const http::HttpRequest& request, const std::string& name);
  http::HttpResponse CreateWebhookConfig(const http::HttpRequest& request);
  http::HttpResponse DeleteWebhookConfig(const http::HttpRequest& request, const std::string& name);

  http::HttpResponse ListEventTriggers(const http::HttpRequest& request);
  http::HttpResponse GetEventTrigger(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse CreateEventTrigger(const http::HttpRequest& request);
  http::HttpResponse UpdateEventTrigger(const http::HttpRequest& request, const std::string& id);
  http::HttpResponse DeleteEventTrigger(const http::HttpRequest& request, const std::string& id);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

// Adds every route above to `router`; the handlers keep a reference to `context`.
void RegisterEventsRoutes(http::Router& router, ApiContext& context);

}  // namespace bora::api
