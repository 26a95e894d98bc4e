#include "ingest/events/webhooks.h"

#include <algorithm>
#include <cctype>

#include "common/ids.h"

namespace bora::events {
namespace {

std::string Source(const std::string& name) { return "/v2/webhooks/" + name; }

std::string HeaderOf(const Headers& headers, std::string_view name) {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

Result<std::string> StringField(const JsonObject& o, std::string_view field, bool required,
                                std::string_view what) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) {
    if (required)
      return InvalidArgument(std::string(what) + ": missing field '" + std::string(field) + "'");
    return std::string();
  }
  if (!it->value().is_string())
    return InvalidArgument(std::string(what) + ": field '" + std::string(field) +
                           "' must be a string");
  return std::string(it->value().as_string());
}

bool ValidWebhookName(std::string_view name) {
  if (name.empty() || name.size() > 80) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return true;
}

}  // namespace

std::string_view WebhookFormatName(WebhookFormat format) {
  switch (format) {
    case WebhookFormat::kAodh:
      return "aodh";
    case WebhookFormat::kAlertmanager:
      return "alertmanager";
    case WebhookFormat::kJson:
      return "json";
  }
  return "json";
}

std::string_view SignatureStyleName(SignatureStyle style) {
  return style == SignatureStyle::kGitHub ? "github" : "standard";
}

Result<WebhookConfig> WebhookConfigFromJson(const Json& value) {
  if (!value.is_object()) return InvalidArgument("a webhook config must be a JSON object");
  const auto& o = value.as_object();
  for (const auto& [k, v] : o) {
    if (k != "name" && k != "format" && k != "secret" && k != "signature" && k != "description" &&
        k != "created_at" && k != "has_secret")
      return InvalidArgument("webhook config: unknown field '" + std::string(k) + "'");
  }
  WebhookConfig c;
  BORA_ASSIGN_OR_RETURN(c.name, StringField(o, "name", true, "webhook config"));
  if (!ValidWebhookName(c.name))
    return InvalidArgument("webhook config: invalid name '" + c.name +
                           "' (1-80 letters, digits, '-', '_' or '.')");
  BORA_ASSIGN_OR_RETURN(std::string format, StringField(o, "format", false, "webhook config"));
  if (format.empty() || format == "json")
    c.format = WebhookFormat::kJson;
  else if (format == "aodh")
    c.format = WebhookFormat::kAodh;
  else if (format == "alertmanager")
    c.format = WebhookFormat::kAlertmanager;
  else
    return InvalidArgument("webhook config: unknown format '" + format +
                           "' (expected aodh, alertmanager or json)");
  BORA_ASSIGN_OR_RETURN(c.secret, StringField(o, "secret", false, "webhook config"));
  BORA_ASSIGN_OR_RETURN(std::string signature,
                        StringField(o, "signature", false, "webhook config"));
  if (signature.empty() || signature == "standard")
    c.signature = SignatureStyle::kStandard;
  else if (signature == "github")
    c.signature = SignatureStyle::kGitHub;
  else
    return InvalidArgument("webhook config: unknown signature style '" + signature +
                           "' (expected standard or github)");
  BORA_ASSIGN_OR_RETURN(c.description, StringField(o, "description", false, "webhook config"));
  if (auto it = o.find("created_at"); it != o.end() && it->value().is_int64())
    c.created_at = it->value().as_int64();
  return c;
}

Json WebhookConfigToJson(const WebhookConfig& c, bool include_secret) {
  JsonObject o;
  o["name"] = c.name;
  o["format"] = WebhookFormatName(c.format);
  o["signature"] = SignatureStyleName(c.signature);
  o["description"] = c.description;
  if (include_secret) {
    o["secret"] = c.secret;
    o["created_at"] = c.created_at;
  } else {
    o["has_secret"] = !c.secret.empty();
    o["url_path"] = Source(c.name);
  }
  return o;
}

Result<CloudEvent> AodhToEvent(const std::string& name, const Headers& headers, const Json& payload,
                               TimestampUs now) {
  if (!payload.is_object())
    return InvalidArgument("Aodh notification: the body must be a JSON object");
  const auto& o = payload.as_object();
  constexpr std::string_view kWhat = "Aodh notification";
  BORA_ASSIGN_OR_RETURN(std::string alarm_id, StringField(o, "alarm_id", true, kWhat));
  BORA_ASSIGN_OR_RETURN(std::string current, StringField(o, "current", true, kWhat));
  BORA_ASSIGN_OR_RETURN(std::string alarm_name, StringField(o, "alarm_name", false, kWhat));
  BORA_ASSIGN_OR_RETURN(std::string previous, StringField(o, "previous", false, kWhat));
  if (current.empty()) return InvalidArgument("Aodh notification: field 'current' is empty");
  std::string state;
  for (char c : current)
    state += c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CloudEvent e;
  e.source = Source(name);
  e.type = "aodh.alarm." + state;
  e.subject = alarm_id;
  std::string request_id = HeaderOf(headers, "x-openstack-request-id");
  e.id = request_id.empty() ? NameBasedUuid("aodh\x1f" + DumpJson(payload)) : request_id;
  e.time = FormatIsoTime(now);
  e.datacontenttype = "application/json";
  e.data = payload;
  return e;
}

Result<CloudEvent> AlertmanagerToEvent(const std::string& name, const Json& payload,
                                       TimestampUs now) {
  if (!payload.is_object())
    return InvalidArgument("Alertmanager notification: the body must be a JSON object");
  const auto& o = payload.as_object();
  constexpr std::string_view kWhat = "Alertmanager notification";
  BORA_ASSIGN_OR_RETURN(std::string version, StringField(o, "version", true, kWhat));
  if (version != "4")
    return InvalidArgument("Alertmanager notification: unsupported version '" + version +
                           "' (expected \"4\")");
  BORA_ASSIGN_OR_RETURN(std::string group_key, StringField(o, "groupKey", true, kWhat));
  BORA_ASSIGN_OR_RETURN(std::string status, StringField(o, "status", true, kWhat));
  if (status.empty()) return InvalidArgument("Alertmanager notification: field 'status' is empty");
  auto alerts_it = o.find("alerts");
  if (alerts_it == o.end() || !alerts_it->value().is_array())
    return InvalidArgument("Alertmanager notification: field 'alerts' must be an array");
  std::vector<std::string> fingerprints;
  const auto& alerts = alerts_it->value().as_array();
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (!alerts[i].is_object())
      return InvalidArgument("Alertmanager notification: alerts[" + std::to_string(i) +
                             "] must be an object");
    const auto& alert = alerts[i].as_object();
    auto fp = alert.find("fingerprint");
    if (fp != alert.end() && fp->value().is_string()) {
      fingerprints.emplace_back(fp->value().as_string());
    } else {
      // Older senders: identify the alert by its labels and start time.
      auto labels = alert.find("labels");
      auto starts = alert.find("startsAt");
      fingerprints.push_back(
          NameBasedUuid(DumpJson(labels == alert.end() ? Json() : labels->value()) + "\x1f" +
                        DumpJson(starts == alert.end() ? Json() : starts->value())));
    }
  }
  std::sort(fingerprints.begin(), fingerprints.end());
  std::string key = "alertmanager\x1f" + group_key + "\x1f" + status + "\x1f";
  for (size_t i = 0; i < fingerprints.size(); ++i) key += (i ? "," : "") + fingerprints[i];

  CloudEvent e;
  e.source = Source(name);
  e.type = "alertmanager.alert." + status;
  e.subject = group_key;
  if (auto cl = o.find("commonLabels"); cl != o.end() && cl->value().is_object()) {
    auto an = cl->value().as_object().find("alertname");
    if (an != cl->value().as_object().end() && an->value().is_string())
      e.subject = std::string(an->value().as_string());
  }
  e.id = NameBasedUuid(key);
  e.time = FormatIsoTime(now);
  e.datacontenttype = "application/json";
  e.data = payload;
  e.extensions[std::string(kDedupeExtension)] = Json(key);
  return e;
}

CloudEvent JsonWebhookToEvent(const std::string& name, const Headers& headers, Json payload,
                              TimestampUs now) {
  CloudEvent e;
  e.source = Source(name);
  e.type = "bora.webhook." + name;
  for (std::string_view h : {"webhook-id", "x-github-delivery", "x-request-id", "ce-id"}) {
    e.id = HeaderOf(headers, h);
    if (!e.id.empty()) break;
  }
  if (e.id.empty()) e.id = NewUuid();
  e.time = FormatIsoTime(now);
  e.datacontenttype = "application/json";
  e.data = std::move(payload);
  return e;
}

Result<std::vector<CloudEvent>> WebhookToEvents(const WebhookConfig& config, const Headers& headers,
                                                std::string_view body, TimestampUs now,
                                                const ParseLimits& limits) {
  if (!config.secret.empty())
    BORA_RETURN_IF_ERROR(VerifySignature(config.signature, config.secret, headers, body, now));
  auto parsed = ParseJson(body, limits.max_depth);
  if (!parsed.ok()) return InvalidArgument("Invalid JSON body: " + parsed.status().message());
  std::vector<CloudEvent> out;
  switch (config.format) {
    case WebhookFormat::kAodh: {
      BORA_ASSIGN_OR_RETURN(CloudEvent e, AodhToEvent(config.name, headers, *parsed, now));
      out.push_back(std::move(e));
      break;
    }
    case WebhookFormat::kAlertmanager: {
      BORA_ASSIGN_OR_RETURN(CloudEvent e, AlertmanagerToEvent(config.name, *parsed, now));
      out.push_back(std::move(e));
      break;
    }
    case WebhookFormat::kJson:
      out.push_back(JsonWebhookToEvent(config.name, headers, std::move(*parsed), now));
      break;
  }
  return out;
}

}  // namespace bora::events
