#pragma once
// Webhooks: named intake endpoints (`POST /v2/webhooks/{name}`) that turn a third-party payload
// into CloudEvents. A WebhookConfig is a record (ResourceStore kind "webhook", key = name) managed
// through /v2/webhook_configs. Formats:
//  - aodh: an Aodh REST alarm notification {alarm_name, alarm_id, severity, previous, current,
//    reason, reason_data}. type "aodh.alarm.<current>" (spaces as '_': aodh.alarm.alarm,
//    aodh.alarm.ok, aodh.alarm.insufficient_data), subject = alarm_id, id = the
//    x-openstack-request-id header (or a hash of the body), data = the payload.
//  - alertmanager: a Prometheus Alertmanager webhook (version "4": receiver, status, alerts[],
//    groupLabels, commonLabels, commonAnnotations, externalURL, groupKey, truncatedAlerts). One
//    event per notification: type "alertmanager.alert.<status>", subject =
//    commonLabels.alertname (or the groupKey), data = the payload; dedupe key (extension
//    `boradedupe`) = groupKey + status + sorted fingerprints, id = a UUID of it.
//  - json: any JSON body; type "bora.webhook.<name>", id = webhook-id / x-github-delivery /
//    x-request-id / ce-id header or a new UUID.
// Every event's source is "/v2/webhooks/<name>" and time the intake time.
//
// Thread-safety: values and pure functions.
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "ingest/events/cloud_event.h"
#include "ingest/events/signature.h"

namespace bora::events {

inline constexpr std::string_view kWebhookKind = "webhook";

enum class WebhookFormat { kAodh, kAlertmanager, kJson };
std::string_view WebhookFormatName(WebhookFormat format);
std::string_view SignatureStyleName(SignatureStyle style);

struct WebhookConfig {
  std::string name;
  WebhookFormat format = WebhookFormat::kJson;
  std::string secret;  // empty: no signature check
  SignatureStyle signature = SignatureStyle::kStandard;
  std::string description;
  TimestampUs created_at = 0;
};

// From a request body or a stored record: {name, format, secret?, signature?, description?}.
// Unknown fields, a bad name (letters, digits, '-', '_', '.'; 1-80 chars), format or signature
// style: kInvalidArgument.
Result<WebhookConfig> WebhookConfigFromJson(const Json& value);
// The stored record (with the secret) or the REST shape (`has_secret` instead of the secret).
Json WebhookConfigToJson(const WebhookConfig& config, bool include_secret);

// Checks the signature when the config has a secret (kPermissionDenied on failure), then converts
// the body. Parse problems are kInvalidArgument.
Result<std::vector<CloudEvent>> WebhookToEvents(const WebhookConfig& config, const Headers& headers,
                                                std::string_view body, TimestampUs now,
                                                const ParseLimits& limits = {});

// The converters, without the signature check.
Result<CloudEvent> AodhToEvent(const std::string& webhook_name, const Headers& headers,
                               const Json& payload, TimestampUs now);
Result<CloudEvent> AlertmanagerToEvent(const std::string& webhook_name, const Json& payload,
                                       TimestampUs now);
CloudEvent JsonWebhookToEvent(const std::string& webhook_name, const Headers& headers, Json payload,
                              TimestampUs now);

}  // namespace bora::events
