#pragma once
// CloudEvents 1.0 (https://github.com/cloudevents/spec): the event value Bora ingests, and its
// decoders for the HTTP binding (structured, binary and batch modes) and the Kafka binding
// (structured and binary modes). Every decoder returns a Result whose error names the attribute
// and, in a batch, the event index ("event [2]: missing required attribute 'source'").
// Required attributes: specversion ("1.0"), id, source, type.
//
// Thread-safety: values and pure functions.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::events {

// Header names lower-cased (as http::HttpRequest::headers).
using Headers = std::map<std::string, std::string>;
// Kafka message headers in order (a name may repeat; the last one wins).
using KafkaHeaders = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kStructuredContentType = "application/cloudevents+json";
inline constexpr std::string_view kBatchContentType = "application/cloudevents-batch+json";
// Extension attribute that carries a deduplication key other than source+id (Alertmanager groups).
inline constexpr std::string_view kDedupeExtension = "boradedupe";

struct CloudEvent {
  std::string specversion = "1.0";
  std::string id;
  std::string source;  // URI-reference
  std::string type;
  std::string subject;                     // optional ("" = absent)
  std::string time;                        // RFC 3339, optional
  std::string datacontenttype;             // optional
  std::string dataschema;                  // optional URI
  std::optional<Json> data;                // JSON (or text, as a string) data
  std::optional<std::string> data_base64;  // binary data (the decoded bytes)
  std::map<std::string, Json> extensions;  // string, boolean or integer values
};

struct ParseLimits {
  size_t max_events = 1000;  // batch mode: more is kResourceExhausted
  int max_depth = 64;        // JSON nesting of a body
};

// The structured-mode JSON object of `event` (data_base64 re-encoded). What goes on the
// `bora.ingest` topic and what trigger expressions see as `$`.
Json CloudEventToJson(const CloudEvent& event);
// The deduplication key: the `boradedupe` extension when set, else source + "\x1f" + id.
std::string DedupeKey(const CloudEvent& event);

// Structured mode: one JSON object. kInvalidArgument naming the attribute.
Result<CloudEvent> CloudEventFromJson(const Json& value);
Result<CloudEvent> ParseStructured(std::string_view body, const ParseLimits& limits = {});
// Batch mode: a JSON array of structured objects, at most limits.max_events (kResourceExhausted).
Result<std::vector<CloudEvent>> ParseBatch(std::string_view body, const ParseLimits& limits = {});
// HTTP binary mode: `ce-*` headers (values percent-decoded) + body; `content-type` is
// datacontenttype. JSON content types (application/json, */*+json) are parsed, text/* kept as a
// string, others kept as bytes.
Result<CloudEvent> ParseHttpBinary(const Headers& headers, std::string_view body,
                                   const ParseLimits& limits = {});
// Any HTTP mode, chosen by the content-type header: batch, structured, else binary (ce-specversion
// present). A request without ce-* headers and a non-CloudEvents content type is kInvalidArgument.
Result<std::vector<CloudEvent>> ParseHttpEvents(const Headers& headers, std::string_view body,
                                                const ParseLimits& limits = {});
// Kafka binding, a pure function over the message headers and value: structured when the
// content-type header starts with application/cloudevents, or when there is no `ce_specversion`
// header (Bora's bus carries no headers, so its messages are structured); binary otherwise (`ce_*`
// headers, values as is).
Result<CloudEvent> DecodeKafkaMessage(const KafkaHeaders& headers, std::string_view value,
                                      const ParseLimits& limits = {});

// RFC 3339 date-time shape check ("2026-01-01T10:00:00Z", fractions and offsets allowed).
bool IsRfc3339(std::string_view s);

// Base64 (standard alphabet, padded). Decode accepts missing padding; nullopt on bad input.
std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace bora::events
