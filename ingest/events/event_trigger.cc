#include "ingest/events/event_trigger.h"

#include <set>

#include "common/fields.h"
#include "ingest/events/signature.h"

namespace bora::events {

// The stored record's members, in the order they are written. Every record holds them all; a
// missing member reads as the struct's default. EventTriggerToRest writes the same list in
// Mistral's REST shape, and it names the fields a create request may carry.
template <typename S, typename V>
void VisitFields(S& t, V& v) requires std::same_as<std::remove_const_t<S>, EventTrigger> {
  using fields::kObject;
  v.Str("id", t.id, fields::kRequired);
  v.Str("name", t.name);
  v.Str("workflow_id", t.workflow_id);
  v.Str("workflow_name", t.workflow_name);
  v.Str("workflow_namespace", t.workflow_namespace);
  v.Value("workflow_input", t.workflow_input, kObject);
  v.Value("workflow_params", t.workflow_params, kObject);
  v.Str("exchange", t.exchange);
  v.Str("topic", t.topic);
  v.Str("type", t.type);
  v.Str("source", t.source);
  v.Str("subject", t.subject);
  v.Value("input_mapping", t.input_mapping, fields::kAny);
  v.Str("scope", t.scope);
  v.Str("project_id", t.project_id);
  v.Int("created_at", t.created_at);
  v.Int("updated_at", t.updated_at);
}

namespace {

Result<std::string> OptString(const JsonObject& o, std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_string())
    return InvalidArgument("event trigger: field '" + std::string(field) + "' must be a string");
  return std::string(it->value().as_string());
}

// An object field given as an object or as a JSON string holding one (python-mistralclient
// pre-dumps them).
Result<Json> ObjectField(const JsonObject& o, std::string_view field) {
  auto it = o.find(field);
  if (it == o.end() || it->value().is_null()) return Json(JsonObject());
  Json v = it->value();
  if (v.is_string()) {
    auto parsed = ParseJson(v.as_string());
    if (!parsed.ok())
      return InvalidArgument("event trigger: field '" + std::string(field) +
                             "' is not valid JSON: " + parsed.status().message());
    v = std::move(*parsed);
  }
  if (!v.is_object())
    return InvalidArgument("event trigger: field '" + std::string(field) +
                           "' must be a dict, not " + std::string(PythonTypeName(v)));
  return v;
}

// input_mapping: an expression string, or a value holding expressions; a JSON string that decodes
// to an object/array is taken as that value.
Result<Json> MappingField(const JsonObject& o, const expr::Limits& limits) {
  auto it = o.find("input_mapping");
  if (it == o.end() || it->value().is_null()) return Json();
  Json v = it->value();
  if (v.is_string() && !expr::ContainsExpression(v.as_string())) {
    auto parsed = ParseJson(v.as_string());
    if (parsed.ok() && (parsed->is_object() || parsed->is_array())) v = std::move(*parsed);
  }
  auto compiled = expr::Template::Compile(v, limits);
  if (!compiled.ok()) return compiled.status().WithContext("event trigger: input_mapping");
  return v;
}

Json TimeOrNull(TimestampUs t) { return t == 0 ? Json(nullptr) : Json(FormatMistralTime(t)); }

// Writes a field list in Mistral's REST shape: JSON values other than null and strings as
// Python-dumped strings, times as "YYYY-MM-DD HH:MM:SS" (null when 0), and `type` also as Mistral's
// `event`, just before it.
class RestWriter {
 public:
  static constexpr bool kWrites = true;
  explicit RestWriter(JsonObject& out) : out_(out) {}

  void Str(std::string_view key, std::string_view v, fields::Opt = fields::kOptional) {
    if (key == "type") out_["event"] = v;
    out_[key] = v;
  }
  void Int(std::string_view key, TimestampUs t, fields::Opt = fields::kOptional) {
    out_[key] = TimeOrNull(t);
  }
  void Value(std::string_view key, const Json& v, fields::JsonOpt) {
    out_[key] = v.is_null() || v.is_string() ? v : Json(PythonJsonDumps(v));
  }

 private:
  JsonObject& out_;
};

// Collects the keys of a field list.
struct KeyCollector {
  static constexpr bool kWrites = true;
  std::set<std::string, std::less<>> keys;
  void Str(std::string_view key, std::string_view, fields::Opt = fields::kOptional) {
    keys.emplace(key);
  }
  void Int(std::string_view key, TimestampUs, fields::Opt = fields::kOptional) {
    keys.emplace(key);
  }
  void Value(std::string_view key, const Json&, fields::JsonOpt) { keys.emplace(key); }
};

// What a create request may carry: the record's members and Mistral's `event` (= type).
std::set<std::string, std::less<>> RequestFields() {
  const EventTrigger none;
  KeyCollector c;
  VisitFields(none, c);
  c.keys.emplace("event");
  return c.keys;
}

}  // namespace

bool MatchesPattern(std::string_view pattern, std::string_view value) {
  if (pattern.empty()) return true;
  if (pattern.back() == '*') {
    pattern.remove_suffix(1);
    return value.substr(0, pattern.size()) == pattern;
  }
  return pattern == value;
}

bool TriggerMatches(const EventTrigger& t, const CloudEvent& e) {
  return MatchesPattern(t.type, e.type) && MatchesPattern(t.source, e.source) &&
         MatchesPattern(t.subject, e.subject);
}

Result<EventTrigger> EventTriggerFromRequest(const Json& body, const expr::Limits& limits) {
  if (!body.is_object()) return InvalidArgument("event trigger: the body must be a JSON object");
  const auto& o = body.as_object();
  static const std::set<std::string, std::less<>> kAllowed = RequestFields();
  for (const auto& [k, v] : o)
    if (!kAllowed.contains(std::string_view(k)))
      return InvalidArgument("event trigger: unknown field '" + std::string(k) + "'");
  EventTrigger t;
  BORA_ASSIGN_OR_RETURN(t.name, OptString(o, "name"));
  if (t.name.empty()) return InvalidArgument("event trigger: field 'name' is required");
  BORA_ASSIGN_OR_RETURN(t.workflow_id, OptString(o, "workflow_id"));
  BORA_ASSIGN_OR_RETURN(std::string workflow_name, OptString(o, "workflow_name"));
  if (t.workflow_id.empty()) t.workflow_id = workflow_name;
  if (t.workflow_id.empty())
    return InvalidArgument("event trigger: field 'workflow_id' is required");
  BORA_ASSIGN_OR_RETURN(t.workflow_namespace, OptString(o, "workflow_namespace"));
  BORA_ASSIGN_OR_RETURN(t.workflow_input, ObjectField(o, "workflow_input"));
  BORA_ASSIGN_OR_RETURN(t.workflow_params, ObjectField(o, "workflow_params"));
  BORA_ASSIGN_OR_RETURN(t.exchange, OptString(o, "exchange"));
  BORA_ASSIGN_OR_RETURN(t.topic, OptString(o, "topic"));
  BORA_ASSIGN_OR_RETURN(std::string event, OptString(o, "event"));
  BORA_ASSIGN_OR_RETURN(t.type, OptString(o, "type"));
  if (!event.empty() && !t.type.empty() && event != t.type)
    return InvalidArgument("event trigger: 'event' and 'type' differ ('" + event + "' vs '" +
                           t.type + "'); they are the same field");
  if (t.type.empty()) t.type = event;
  BORA_ASSIGN_OR_RETURN(t.source, OptString(o, "source"));
  BORA_ASSIGN_OR_RETURN(t.subject, OptString(o, "subject"));
  if (t.type.empty() && t.source.empty() && t.subject.empty())
    return InvalidArgument(
        "event trigger: at least one of 'event' (or 'type'), 'source', 'subject' is required");
  BORA_ASSIGN_OR_RETURN(t.input_mapping, MappingField(o, limits));
  BORA_ASSIGN_OR_RETURN(t.scope, OptString(o, "scope"));
  if (t.scope.empty()) t.scope = "private";
  if (t.scope != "private" && t.scope != "public")
    return InvalidArgument("event trigger: scope must be 'private' or 'public', not '" + t.scope +
                           "'");
  return t;
}

Status ApplyEventTriggerUpdate(EventTrigger& t, const Json& body, const expr::Limits& limits) {
  if (!body.is_object()) return InvalidArgument("event trigger: the body must be a JSON object");
  const auto& o = body.as_object();
  static const std::set<std::string, std::less<>> kUpdatable = {
      "name", "workflow_input", "workflow_params", "input_mapping", "scope"};
  std::string refused;
  for (const auto& [k, v] : o) {
    if (k == "id") continue;
    if (!kUpdatable.contains(std::string_view(k)))
      refused += (refused.empty() ? "" : ", ") + std::string(k);
  }
  if (!refused.empty())
    return InvalidArgument("Can not update fields " + refused + " of event trigger.");
  EventTrigger updated = t;
  if (o.contains("name")) {
    BORA_ASSIGN_OR_RETURN(updated.name, OptString(o, "name"));
    if (updated.name.empty())
      return InvalidArgument("event trigger: field 'name' must not be empty");
  }
  if (o.contains("workflow_input")) {
    BORA_ASSIGN_OR_RETURN(updated.workflow_input, ObjectField(o, "workflow_input"));
  }
  if (o.contains("workflow_params")) {
    BORA_ASSIGN_OR_RETURN(updated.workflow_params, ObjectField(o, "workflow_params"));
  }
  if (o.contains("input_mapping")) {
    BORA_ASSIGN_OR_RETURN(updated.input_mapping, MappingField(o, limits));
  }
  if (o.contains("scope")) {
    BORA_ASSIGN_OR_RETURN(updated.scope, OptString(o, "scope"));
    if (updated.scope != "private" && updated.scope != "public")
      return InvalidArgument("event trigger: scope must be 'private' or 'public'");
  }
  t = std::move(updated);
  return Status::Ok();
}

Json EventTriggerToRecord(const EventTrigger& t) { return fields::ToJson(t); }

Result<EventTrigger> EventTriggerFromRecord(const Json& record) {
  EventTrigger t;
  Status read = fields::FromJson(record, t, "event trigger record");
  if (!read.ok()) return Internal(read.message());
  if (t.id.empty()) return Internal("event trigger record without an id");
  return t;
}

Json EventTriggerToRest(const EventTrigger& t) {
  JsonObject o;
  RestWriter w(o);
  VisitFields(t, w);
  return o;
}

Result<Json> MapWorkflowInput(const EventTrigger& t, const Json& event_json,
                              const expr::Limits& limits) {
  Json input = t.workflow_input.is_object() ? t.workflow_input : Json(JsonObject());
  if (t.input_mapping.is_null()) return input;
  auto compiled = expr::Template::Compile(t.input_mapping, limits);
  if (!compiled.ok()) return compiled.status().WithContext("input_mapping");
  expr::EvalContext ctx;
  ctx.data = &event_json;
  ctx.limits = limits;
  auto mapped = compiled->Evaluate(ctx);
  if (!mapped.ok()) return mapped.status().WithContext("input_mapping");
  if (!mapped->is_object())
    return InvalidArgument("input_mapping must give a dict, not " +
                           std::string(PythonTypeName(*mapped)));
  DeepMerge(input, *mapped);
  return input;
}

Json TriggerParams(const EventTrigger& t, const Json& event_json) {
  Json params = t.workflow_params.is_object() ? t.workflow_params : Json(JsonObject());
  params.as_object()["event_params"] = event_json;
  return params;
}

std::string TriggerExecutionId(const std::string& trigger_id, const std::string& dedupe_key) {
  return NameBasedUuid("event_trigger\x1f" + trigger_id + "\x1f" + dedupe_key);
}

}  // namespace bora::events
