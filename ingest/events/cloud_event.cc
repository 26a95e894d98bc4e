#include "ingest/events/cloud_event.h"

#include <cctype>

namespace bora::events {
namespace {

Status CheckSpecVersion(const std::string& v) {
  if (v != "1.0") return InvalidArgument("unsupported specversion '" + v + "' (expected \"1.0\")");
  return Status::Ok();
}

Status CheckTime(const std::string& v) {
  if (!IsRfc3339(v))
    return InvalidArgument("attribute 'time' is not an RFC 3339 timestamp: '" + v + "'");
  return Status::Ok();
}

// The context attributes, in the order the structured form writes them. A required one is always
// written and, when it has no `check`, is an error when empty; `check` validates the value (every
// value of a required attribute, a non-empty one of an optional attribute). Everything else in an
// event is `data`/`data_base64` or an extension.
struct ContextAttribute {
  std::string_view name;
  std::string CloudEvent::*member;
  bool required;
  Status (*check)(const std::string&);
};
constexpr ContextAttribute kContextAttributes[] = {
    {"specversion", &CloudEvent::specversion, true, CheckSpecVersion},
    {"id", &CloudEvent::id, true, nullptr},
    {"source", &CloudEvent::source, true, nullptr},
    {"type", &CloudEvent::type, true, nullptr},
    {"subject", &CloudEvent::subject, false, nullptr},
    {"time", &CloudEvent::time, false, CheckTime},
    {"datacontenttype", &CloudEvent::datacontenttype, false, nullptr},
    {"dataschema", &CloudEvent::dataschema, false, nullptr},
};

const ContextAttribute* FindContextAttribute(std::string_view name) {
  for (const auto& a : kContextAttributes)
    if (a.name == name) return &a;
  return nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The media type without parameters, lower-cased: "application/json; charset=utf-8" ->
// "application/json".
std::string MediaType(std::string_view content_type) {
  auto semi = content_type.find(';');
  std::string_view t = content_type.substr(0, semi);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
  return Lower(t);
}

bool IsJsonMediaType(const std::string& media) {
  return media == "application/json" || media == "text/json" ||
         (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
}

bool ValidExtensionName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c))))
      return false;
  return true;
}

Status CheckRequired(const CloudEvent& e) {
  for (const auto& a : kContextAttributes) {
    const std::string& value = e.*a.member;
    if (a.check != nullptr) {
      if (a.required || !value.empty()) BORA_RETURN_IF_ERROR(a.check(value));
    } else if (a.required && value.empty()) {
      return InvalidArgument("missing required attribute '" + std::string(a.name) + "'");
    }
  }
  return Status::Ok();
}

Status CheckExtensionName(const std::string& name) {
  if (!ValidExtensionName(name))
    return InvalidArgument("invalid extension attribute name '" + name +
                           "' (lower-case letters and digits only)");
  return Status::Ok();
}

// Sets a context attribute or an extension from a string value (binary modes).
Status SetAttribute(CloudEvent& e, const std::string& name, std::string value) {
  if (const ContextAttribute* a = FindContextAttribute(name)) {
    e.*a->member = std::move(value);
    return Status::Ok();
  }
  BORA_RETURN_IF_ERROR(CheckExtensionName(name));
  e.extensions[name] = Json(value);
  return Status::Ok();
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

// Fills data from a binary-mode body according to its content type.
Status SetBinaryData(CloudEvent& e, std::string_view body, const ParseLimits& limits) {
  if (body.empty()) return Status::Ok();
  std::string media = MediaType(e.datacontenttype);
  if (media.empty() || IsJsonMediaType(media)) {
    auto parsed = ParseJson(body, limits.max_depth);
    if (!parsed.ok())
      return InvalidArgument("data is not valid JSON: " + parsed.status().message());
    e.data = std::move(*parsed);
    if (e.datacontenttype.empty()) e.datacontenttype = "application/json";
  } else if (media.rfind("text/", 0) == 0) {
    e.data = Json(std::string(body));
  } else {
    e.data_base64 = std::string(body);
  }
  return Status::Ok();
}

}  // namespace

bool IsRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n) {
    if (pos + n > s.size()) return false;
    for (size_t i = pos; i < pos + n; ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
  };
  if (!digits(0, 4) || s.size() < 20 || s[4] != '-' || !digits(5, 2) || s[7] != '-' ||
      !digits(8, 2))
    return false;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return false;
  if (!digits(11, 2) || s[13] != ':' || !digits(14, 2) || s[16] != ':' || !digits(17, 2))
    return false;
  size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return false;
  }
  if (i >= s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  return digits(i + 1, 2) && i + 3 < s.size() && s[i + 3] == ':' && digits(i + 4, 2) &&
         i + 6 == s.size();
}

std::string Base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

Json CloudEventToJson(const CloudEvent& e) {
  JsonObject o;
  for (const auto& a : kContextAttributes) {
    const std::string& value = e.*a.member;
    if (a.required || !value.empty()) o[a.name] = value;
  }
  for (const auto& [k, v] : e.extensions) o[k] = v;
  if (e.data) o["data"] = *e.data;
  if (e.data_base64) o["data_base64"] = Base64Encode(*e.data_base64);
  return o;
}

std::string DedupeKey(const CloudEvent& e) {
  auto it = e.extensions.find(std::string(kDedupeExtension));
  if (it != e.extensions.end() && it->second.is_string() && !it->second.as_string().empty())
    return std::string(it->second.as_string());
  return e.source + "\x1f" + e.id;
}

Result<CloudEvent> CloudEventFromJson(const Json& value) {
  if (!value.is_object()) return InvalidArgument("a CloudEvent must be a JSON object");
  CloudEvent e;
  e.specversion.clear();
  for (const auto& [key, v] : value.as_object()) {
    std::string name(key);
    if (name == "data") {
      e.data = v;
      continue;
    }
    if (name == "data_base64") {
      if (!v.is_string()) return InvalidArgument("attribute 'data_base64' must be a string");
      auto bytes = Base64Decode(v.as_string());
      if (!bytes) return InvalidArgument("attribute 'data_base64' is not valid base64");
      e.data_base64 = std::move(*bytes);
      continue;
    }
    if (const ContextAttribute* a = FindContextAttribute(name)) {
      if (!v.is_string())
        return InvalidArgument("attribute '" + name + "' must be a string, not " +
                               std::string(PythonTypeName(v)));
      e.*a->member = std::string(v.as_string());
      continue;
    }
    BORA_RETURN_IF_ERROR(CheckExtensionName(name));
    if (!(v.is_string() || v.is_bool() || v.is_int64() || v.is_uint64()))
      return InvalidArgument("extension attribute '" + name +
                             "' must be a string, boolean or integer");
    e.extensions[name] = v;
  }
  if (e.specversion.empty()) return InvalidArgument("missing required attribute 'specversion'");
  if (e.data && e.data_base64)
    return InvalidArgument("attributes 'data' and 'data_base64' are mutually exclusive");
  BORA_RETURN_IF_ERROR(CheckRequired(e));
  return e;
}

Result<CloudEvent> ParseStructured(std::string_view body, const ParseLimits& limits) {
  auto parsed = ParseJson(body, limits.max_depth);
  if (!parsed.ok()) return InvalidArgument("invalid CloudEvent JSON: " + parsed.status().message());
  return CloudEventFromJson(*parsed);
}

Result<std::vector<CloudEvent>> ParseBatch(std::string_view body, const ParseLimits& limits) {
  auto parsed = ParseJson(body, limits.max_depth + 1);
  if (!parsed.ok())
    return InvalidArgument("invalid CloudEvents batch JSON: " + parsed.status().message());
  if (!parsed->is_array()) return InvalidArgument("a CloudEvents batch must be a JSON array");
  const auto& array = parsed->as_array();
  if (array.size() > limits.max_events)
    return ResourceExhausted("a CloudEvents batch holds at most " +
                             std::to_string(limits.max_events) + " events, got " +
                             std::to_string(array.size()));
  std::vector<CloudEvent> out;
  out.reserve(array.size());
  for (size_t i = 0; i < array.size(); ++i) {
    auto e = CloudEventFromJson(array[i]);
    if (!e.ok()) return e.status().WithContext("event [" + std::to_string(i) + "]");
    out.push_back(std::move(*e));
  }
  return out;
}

Result<CloudEvent> ParseHttpBinary(const Headers& headers, std::string_view body,
                                   const ParseLimits& limits) {
  CloudEvent e;
  e.specversion.clear();
  for (const auto& [raw_name, raw_value] : headers) {
    std::string name = Lower(raw_name);
    if (name.rfind("ce-", 0) != 0) continue;
    std::string attribute = name.substr(3);
    if (attribute == "datacontenttype")
      return InvalidArgument(
          "header 'ce-datacontenttype' is not allowed in binary mode (use content-type)");
    auto value = PercentDecode(raw_value);
    if (!value) return InvalidArgument("header '" + name + "' has a bad percent-encoding");
    BORA_RETURN_IF_ERROR(SetAttribute(e, attribute, std::move(*value)));
  }
  if (e.specversion.empty()) return InvalidArgument("missing required header 'ce-specversion'");
  for (const auto& [name, value] : headers)
    if (Lower(name) == "content-type") e.datacontenttype = value;
  BORA_RETURN_IF_ERROR(CheckRequired(e));
  BORA_RETURN_IF_ERROR(SetBinaryData(e, body, limits));
  return e;
}

Result<std::vector<CloudEvent>> ParseHttpEvents(const Headers& headers, std::string_view body,
                                                const ParseLimits& limits) {
  std::string media;
  bool has_ce_headers = false;
  for (const auto& [name, value] : headers) {
    std::string lower = Lower(name);
    if (lower == "content-type") media = MediaType(value);
    if (lower == "ce-specversion") has_ce_headers = true;
  }
  if (media == kBatchContentType) return ParseBatch(body, limits);
  if (media == kStructuredContentType) {
    BORA_ASSIGN_OR_RETURN(CloudEvent e, ParseStructured(body, limits));
    return std::vector<CloudEvent>{std::move(e)};
  }
  if (has_ce_headers) {
    BORA_ASSIGN_OR_RETURN(CloudEvent e, ParseHttpBinary(headers, body, limits));
    return std::vector<CloudEvent>{std::move(e)};
  }
  return InvalidArgument(
      "not a CloudEvent: use content-type application/cloudevents+json (structured mode), "
      "application/cloudevents-batch+json (batch mode), or ce-* headers (binary mode)");
}

Result<CloudEvent> DecodeKafkaMessage(const KafkaHeaders& headers, std::string_view value,
                                      const ParseLimits& limits) {
  std::string content_type;
  bool has_ce = false;
  for (const auto& [name, v] : headers) {
    std::string lower = Lower(name);
    if (lower == "content-type") content_type = v;
    if (lower == "ce_specversion") has_ce = true;
  }
  std::string media = MediaType(content_type);
  if (media.rfind("application/cloudevents", 0) == 0 || !has_ce) {
    if (media == kBatchContentType) return InvalidArgument("the Kafka binding has no batch mode");
    return ParseStructured(value, limits);
  }
  CloudEvent e;
  e.specversion.clear();
  for (const auto& [name, v] : headers) {
    std::string lower = Lower(name);
    if (lower.rfind("ce_", 0) != 0) continue;
    std::string attribute = lower.substr(3);
    if (attribute == "datacontenttype")
      return InvalidArgument(
          "header 'ce_datacontenttype' is not allowed in binary mode (use content-type)");
    BORA_RETURN_IF_ERROR(SetAttribute(e, attribute, v));
  }
  e.datacontenttype = content_type;
  BORA_RETURN_IF_ERROR(CheckRequired(e));
  BORA_RETURN_IF_ERROR(SetBinaryData(e, value, limits));
  return e;
}

}  // namespace bora::events
