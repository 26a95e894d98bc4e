#include "ingest/api/events_api.h"

#include <atomic>
#include <set>

#include "common/ids.h"
#include "common/log.h"
#include "common/metrics/metrics.h"
#include "ingest/api/caller.h"
#include "ingest/api/catalog.h"
#include "ingest/api/list_query.h"
#include "ingest/api/mistral_format.h"
#include "ingest/events/cloud_event.h"
#include "ingest/events/event_trigger.h"
#include "ingest/events/ingest_processor.h"
#include "ingest/events/webhooks.h"

namespace bora::api {

using http::HttpRequest;
using http::HttpResponse;

namespace {

HttpResponse ErrorReply(const Status& status) {
  if (status.code() == StatusCode::kUnavailable || status.code() == StatusCode::kDeadlineExceeded)
    return Fault(503, status.message());
  return FaultFrom(status);
}

const std::set<std::string> kTriggerFilters = {
    "id",       "name",  "workflow_id", "workflow_name", "workflow_namespace",
    "exchange", "topic", "event",       "type",          "source",
    "subject",  "scope", "project_id",  "created_at",    "updated_at"};

}  // namespace

class EventsApi::Impl {
 public:
  explicit Impl(ApiContext& ctx) : ctx_(ctx) {}
  std::atomic<bool> topic_ready_{false};

  TimestampUs Now() const { return ctx_.Now(); }

  events::ParseLimits Limits() const {
    events::ParseLimits limits;
    limits.max_events = ctx_.limits.max_events_per_batch;
    return limits;
  }

  HttpResponse Accept(const std::vector<events::CloudEvent>& list) {
    if (!list.empty()) {
      // The topic is checked (a metadata round trip on Kafka) until it was found once.
      Status published = events::PublishIngestEvents(
          ctx_.bus, ctx_.topic_prefix, list, ctx_.partitions > 0 ? ctx_.partitions : 1,
          std::chrono::seconds(10), !topic_ready_.load());
      if (published.ok()) topic_ready_ = true;
      if (!published.ok()) {
        BORA_LOG_ERROR("events: could not publish {} event(s) to {}: {}", list.size(),
                       events::IngestTopic(ctx_.topic_prefix), published.ToString());
        return Fault(503, "Events could not be stored: " + published.message());
      }
    }
    for (size_t i = 0; i < list.size(); ++i) metrics::EventReceived();
    JsonArray ids;
    for (const auto& e : list) ids.emplace_back(e.id);
    JsonObject reply;
    reply["accepted"] = list.size();
    reply["ids"] = std::move(ids);
    return JsonReply(202, reply);
  }

  // ------------------------------------------------------------------------------------ /v2/events
  HttpResponse PostEvents(const HttpRequest& request) {
    auto list = events::ParseHttpEvents(request.headers, request.body, Limits());
    if (!list.ok()) {
      metrics::EventRejected();
      return ErrorReply(list.status());
    }
    return Accept(*list);
  }

  // ------------------------------------------------------------------------------
  // /v2/webhooks/{name}
  Result<std::optional<events::WebhookConfig>> LoadWebhook(const std::string& name) {
    BORA_ASSIGN_OR_RETURN(auto record, ctx_.resources->Get(events::kWebhookKind, name));
    if (!record) return std::optional<events::WebhookConfig>();
    BORA_ASSIGN_OR_RETURN(auto config, events::WebhookConfigFromJson(*record));
    return std::optional<events::WebhookConfig>(std::move(config));
  }

  HttpResponse PostWebhook(const HttpRequest& request, const std::string& name) {
    HttpResponse reply = DeliverWebhook(request, name);
    const char* result = reply.status < 300   ? "accepted"
                         : reply.status == 401 ? "unauthorized"
                         : reply.status == 404 ? "unknown_webhook"
                         : reply.status < 500  ? "bad_request"
                                               : "error";
    metrics::WebhookRequest(result);
    if (reply.status >= 400 && reply.status < 500 && reply.status != 404) metrics::EventRejected();
    return reply;
  }

  HttpResponse DeliverWebhook(const HttpRequest& request, const std::string& name) {
    auto config = LoadWebhook(name);
    if (!config.ok()) return ErrorReply(config.status());
    if (!*config) return Fault(404, "Webhook not found [name=" + name + "]");
    auto list = events::WebhookToEvents(**config, request.headers, request.body, Now(), Limits());
    if (!list.ok()) {
      if (list.status().code() == StatusCode::kPermissionDenied) {
        BORA_LOG_WARN("webhook {}: signature refused from {}: {}", name, request.remote,
                      list.status().message());
        HttpResponse r = Fault(401, "Invalid webhook signature: " + list.status().message());
        return r;
      }
      return ErrorReply(list.status());
    }
    return Accept(*list);
  }

  // -----------------------------------------------------------------------------
  // /v2/webhook_configs
  HttpResponse ListWebhookConfigs(const HttpRequest&) {
    auto records = ctx_.resources->List(events::kWebhookKind);
    if (!records.ok()) return ErrorReply(records.status());
    JsonArray out;
    for (const auto& [key, record] : *records) {
      auto c = events::WebhookConfigFromJson(record);
      if (c.ok()) out.push_back(events::WebhookConfigToJson(*c, false));
    }
    return JsonReply(200, JsonObject{{"webhook_configs", std::move(out)}});
  }

  HttpResponse GetWebhookConfig(const HttpRequest&, const std::string& name) {
    auto config = LoadWebhook(name);
    if (!config.ok()) return ErrorReply(config.status());
    if (!*config) return Fault(404, "Webhook not found [name=" + name + "]");
    return JsonReply(200, events::WebhookConfigToJson(**config, false));
  }

  HttpResponse CreateWebhookConfig(const HttpRequest& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ErrorReply(body.status());
    Json value(std::move(*body));
    value.as_object().erase("created_at");
    value.as_object().erase("has_secret");
    auto config = events::WebhookConfigFromJson(value);
    if (!config.ok()) return ErrorReply(config.status());
    config->created_at = Now();
    auto created = ctx_.resources->Create(events::kWebhookKind, config->name,
                                          events::WebhookConfigToJson(*config, true));
    if (!created.ok()) return ErrorReply(created.status());
    if (!*created) return Fault(409, "Webhook already exists [name=" + config->name + "]");
    return JsonReply(201, events::WebhookConfigToJson(*config, false));
  }

  HttpResponse DeleteWebhookConfig(const HttpRequest&, const std::string& name) {
    auto deleted = ctx_.resources->Delete(events::kWebhookKind, name);
    if (!deleted.ok()) return ErrorReply(deleted.status());
    if (!*deleted) return Fault(404, "Webhook not found [name=" + name + "]");
    HttpResponse r;
    r.status = 204;
    return r;
  }

  // ------------------------------------------------------------------------------
  // /v2/event_triggers
  Result<std::optional<events::EventTrigger>> LoadTrigger(const std::string& id) {
    BORA_ASSIGN_OR_RETURN(auto record, ctx_.resources->Get(events::kEventTriggerKind, id));
    if (!record) return std::optional<events::EventTrigger>();
    BORA_ASSIGN_OR_RETURN(auto t, events::EventTriggerFromRecord(*record));
    return std::optional<events::EventTrigger>(std::move(t));
  }

  // Resolves workflow_id (a name or an id) to the workflow's id, full name and namespace.
  Status ResolveWorkflow(events::EventTrigger& t, const Caller& caller) {
    auto not_found = [&] {
      return NotFound("Workflow not found [workflow_identifier=" + t.workflow_id +
                      (t.workflow_namespace.empty() ? "" : ", namespace=" + t.workflow_namespace) +
                      "]");
    };
    if (ctx_.catalog != nullptr) {
      BORA_ASSIGN_OR_RETURN(auto record,
                            ctx_.catalog->GetWorkflow(t.workflow_id, t.workflow_namespace, caller));
      // The trigger starts the workflow in its own project (ingest_processor.cc): another
      // project's public workflow is not found there.
      if (!record || !record->is_object() || ProjectOf(*record) != caller.project_id)
        return not_found();
      const auto& o = record->as_object();
      auto str = [&](std::string_view f) {
        auto it = o.find(f);
        return it != o.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                        : std::string();
      };
      if (!str("id").empty()) t.workflow_id = str("id");
      t.workflow_name = str("name");
      t.workflow_namespace = str("namespace");
      return Status::Ok();
    }
    if (ctx_.engine != nullptr) {
      auto spec = ctx_.engine->ResolveWorkflow(t.workflow_id, "", t.workflow_namespace);
      if (!spec) return not_found();
      t.workflow_name = spec->full_name;
      return Status::Ok();
    }
    t.workflow_name = t.workflow_id;
    return Status::Ok();
  }

  HttpResponse ListEventTriggers(const HttpRequest& original) {
    auto records = ctx_.resources->List(events::kEventTriggerKind);
    if (!records.ok()) return ErrorReply(records.status());
    std::vector<Json> rest;
    for (const auto& [key, record] : *records) {
      auto t = events::EventTriggerFromRecord(record);
      if (t.ok()) rest.push_back(events::EventTriggerToRest(*t));
    }
    HttpRequest request = original;
    auto scoped = ProjectScoped(CallerOf(original, ctx_.project_id), &request, std::move(rest));
    if (!scoped.ok()) return ErrorReply(scoped.status());
    rest = std::move(*scoped);
    auto q = ParseListQuery(request, kTriggerFilters, ctx_.limits.max_limit);
    if (!q.ok()) return ErrorReply(q.status());
    auto reply = TryApplyListQuery(std::move(rest), *q, "event_triggers", request);
    if (!reply.ok()) return ErrorReply(reply.status());
    return JsonReply(200, *reply);
  }

  HttpResponse GetEventTrigger(const HttpRequest& request, const std::string& id) {
    auto t = LoadTrigger(id);
    if (!t.ok()) return ErrorReply(t.status());
    if (!*t || !CanRead(CallerOf(request, ctx_.project_id), events::EventTriggerToRest(**t)))
      return Fault(404, "Event trigger not found [id=" + id + "]");
    return JsonReply(200, events::EventTriggerToRest(**t));
  }

  HttpResponse CreateEventTrigger(const HttpRequest& request) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ErrorReply(body.status());
    auto t = events::EventTriggerFromRequest(Json(std::move(*body)));
    if (!t.ok()) return ErrorReply(t.status());
    const Caller caller = CallerOf(request, ctx_.project_id);
    Status resolved = ResolveWorkflow(*t, caller);
    if (!resolved.ok()) return ErrorReply(resolved);
    auto existing = ctx_.resources->List(events::kEventTriggerKind);
    if (!existing.ok()) return ErrorReply(existing.status());
    for (const auto& [key, record] : *existing) {
      auto other = events::EventTriggerFromRecord(record);
      if (other.ok() && other->project_id == caller.project_id && other->type == t->type &&
          other->source == t->source && other->subject == t->subject &&
          other->exchange == t->exchange && other->topic == t->topic &&
          other->workflow_id == t->workflow_id)
        return Fault(409, "Duplicate entry for EventTrigger: the workflow " + t->workflow_id +
                              " already has a trigger for these events [id=" + other->id + "]");
    }
    t->id = NewUuid();
    t->project_id = caller.project_id;
    t->created_at = Now();
    auto created =
        ctx_.resources->Create(events::kEventTriggerKind, t->id, events::EventTriggerToRecord(*t));
    if (!created.ok()) return ErrorReply(created.status());
    if (!*created) return Fault(409, "Duplicate entry for EventTrigger [id=" + t->id + "]");
    return JsonReply(201, events::EventTriggerToRest(*t));
  }

  HttpResponse UpdateEventTrigger(const HttpRequest& request, const std::string& id) {
    auto body = ParseJsonBody(request);
    if (!body.ok()) return ErrorReply(body.status());
    Json value(std::move(*body));
    if (auto it = value.as_object().find("id");
        it != value.as_object().end() &&
        !(it->value().is_string() && it->value().as_string() == id))
      return Fault(400, "The id in the body does not match the id in the URL");
    // Compare-and-swap so that concurrent updates do not lose each other's fields.
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto record = ctx_.resources->Get(events::kEventTriggerKind, id);
      if (!record.ok()) return ErrorReply(record.status());
      if (!*record) return Fault(404, "Event trigger not found [id=" + id + "]");
      auto t = events::EventTriggerFromRecord(**record);
      if (!t.ok()) return ErrorReply(t.status());
      const Caller caller = CallerOf(request, ctx_.project_id);
      const Json rest = events::EventTriggerToRest(*t);
      if (!CanRead(caller, rest)) return Fault(404, "Event trigger not found [id=" + id + "]");
      if (Status s = CheckChange(caller, rest, "EventTrigger"); !s.ok()) return ErrorReply(s);
      Status applied = events::ApplyEventTriggerUpdate(*t, value);
      if (!applied.ok()) return ErrorReply(applied);
      t->updated_at = Now();
      auto swapped = ctx_.resources->CompareAndSwap(events::kEventTriggerKind, id, **record,
                                                    events::EventTriggerToRecord(*t));
      if (!swapped.ok()) return ErrorReply(swapped.status());
      if (*swapped) return JsonReply(200, events::EventTriggerToRest(*t));
    }
    return Fault(409, "Event trigger " + id + " was changed concurrently; retry");
  }

  HttpResponse DeleteEventTrigger(const HttpRequest& request, const std::string& id) {
    auto t = LoadTrigger(id);
    if (!t.ok()) return ErrorReply(t.status());
    const Caller caller = CallerOf(request, ctx_.project_id);
    if (!*t || !CanRead(caller, events::EventTriggerToRest(**t)))
      return Fault(404, "Event trigger not found [id=" + id + "]");
    if (Status s = CheckChange(caller, events::EventTriggerToRest(**t), "EventTrigger"); !s.ok())
      return ErrorReply(s);
    auto deleted = ctx_.resources->Delete(events::kEventTriggerKind, id);
    if (!deleted.ok()) return ErrorReply(deleted.status());
    if (!*deleted) return Fault(404, "Event trigger not found [id=" + id + "]");
    HttpResponse r;
    r.status = 204;
    return r;
  }

 private:
  ApiContext& ctx_;
};

EventsApi::EventsApi(ApiContext& context) : impl_(std::make_shared<Impl>(context)) {}

HttpResponse EventsApi::PostEvents(const HttpRequest& r) { return impl_->PostEvents(r); }
HttpResponse EventsApi::PostWebhook(const HttpRequest& r, const std::string& name) {
  return impl_->PostWebhook(r, name);
}
HttpResponse EventsApi::ListWebhookConfigs(const HttpRequest& r) {
  return impl_->ListWebhookConfigs(r);
}
HttpResponse EventsApi::GetWebhookConfig(const HttpRequest& r, const std::string& name) {
  return impl_->GetWebhookConfig(r, name);
}
HttpResponse EventsApi::CreateWebhookConfig(const HttpRequest& r) {
  return impl_->CreateWebhookConfig(r);
}
HttpResponse EventsApi::DeleteWebhookConfig(const HttpRequest& r, const std::string& name) {
  return impl_->DeleteWebhookConfig(r, name);
}
HttpResponse EventsApi::ListEventTriggers(const HttpRequest& r) {
  return impl_->ListEventTriggers(r);
}
HttpResponse EventsApi::GetEventTrigger(const HttpRequest& r, const std::string& id) {
  return impl_->GetEventTrigger(r, id);
}
HttpResponse EventsApi::CreateEventTrigger(const HttpRequest& r) {
  return impl_->CreateEventTrigger(r);
}
HttpResponse EventsApi::UpdateEventTrigger(const HttpRequest& r, const std::string& id) {
  return impl_->UpdateEventTrigger(r, id);
}
HttpResponse EventsApi::DeleteEventTrigger(const HttpRequest& r, const std::string& id) {
  return impl_->DeleteEventTrigger(r, id);
}

void RegisterEventsRoutes(http::Router& router, ApiContext& context) {
  auto api = std::make_shared<EventsApi>(context);
  using http::PathParams;
  router.Add("POST", "/v2/events",
             [api](const HttpRequest& r, const PathParams&) { return api->PostEvents(r); });
  router.Add("POST", "/v2/webhooks/{name}", [api](const HttpRequest& r, const PathParams& p) {
    return api->PostWebhook(r, p.at("name"));
  });
  router.Add("GET", "/v2/webhook_configs",
             [api](const HttpRequest& r, const PathParams&) { return api->ListWebhookConfigs(r); });
  router.Add("POST", "/v2/webhook_configs", [api](const HttpRequest& r, const PathParams&) {
    return api->CreateWebhookConfig(r);
  });
  router.Add("GET", "/v2/webhook_configs/{name}", [api](const HttpRequest& r, const PathParams& p) {
    return api->GetWebhookConfig(r, p.at("name"));
  });
  router.Add("DELETE", "/v2/webhook_configs/{name}",
             [api](const HttpRequest& r, const PathParams& p) {
               return api->DeleteWebhookConfig(r, p.at("name"));
             });
  router.Add("GET", "/v2/event_triggers",
             [api](const HttpRequest& r, const PathParams&) { return api->ListEventTriggers(r); });
  router.Add("POST", "/v2/event_triggers",
             [api](const HttpRequest& r, const PathParams&) { return api->CreateEventTrigger(r); });
  router.Add("GET", "/v2/event_triggers/{id}", [api](const HttpRequest& r, const PathParams& p) {
    return api->GetEventTrigger(r, p.at("id"));
  });
  router.Add("PUT", "/v2/event_triggers/{id}", [api](const HttpRequest& r, const PathParams& p) {
    return api->UpdateEventTrigger(r, p.at("id"));
  });
  router.Add("DELETE", "/v2/event_triggers/{id}", [api](const HttpRequest& r, const PathParams& p) {
    return api->DeleteEventTrigger(r, p.at("id"));
  });
}

}  // namespace bora::api
