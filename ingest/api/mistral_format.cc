#include "ingest/api/mistral_format.h"

#include <string>

#include "common/http/fault.h"

namespace bora::api {

http::HttpResponse Fault(int status, std::string_view message) {
  JsonObject o;
  o["faultstring"] = http::ValidUtf8(message);  // often quotes the request: keep the JSON UTF-8
  o["faultcode"] = status >= 500 ? "Server" : "Client";
  o["debuginfo"] = nullptr;
  return JsonReply(status, o);
}

int HttpStatusFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kFailedPrecondition: return 400;
    case StatusCode::kUnavailable:
      return 503;  // disk full, a store or broker away: retry later
    default: return 500;
  }
}

http::HttpResponse FaultFrom(const Status& status) {
  return Fault(HttpStatusFor(status), status.message());
}

http::HttpResponse JsonReply(int status, const Json& value) {
  http::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = DumpJson(value);
  return r;
}

Json MistralTime(TimestampUs t) {
  if (t == 0) return nullptr;
  return Json(FormatMistralTime(t));
}

Json JsonString(const Json& value) {
  if (value.is_null()) return nullptr;
  return Json(PythonJsonDumps(value));
}

Result<Json> JsonFromField(const Json& value, std::string_view field) {
  if (!value.is_string()) return value;
  const auto& s = value.get_string();
  auto parsed = ParseJson(std::string_view(s.data(), s.size()));
  if (parsed.ok()) return std::move(parsed).value();
  // Nesting beyond the parser's depth limit and numbers beyond a double are refused rather than
  // kept as text: the caller asked for JSON.
  if (parsed.status().message().find("too deep") != std::string::npos ||
      IsNonFiniteNumberError(parsed.status())) {
    return InvalidArgument("Invalid value of '" + std::string(field) + "': " + parsed.status().message());
  }
  return value;
}

Result<JsonObject> ParseJsonBody(const http::HttpRequest& request) {
  size_t first = request.body.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return InvalidArgument("Invalid JSON body: the request body is empty (line 1, column 1)");
  }
  auto parsed = ParseJson(request.body);
  if (!parsed.ok()) {
    // ParseJson says "invalid JSON at line L, column C: reason"; Mistral-style wording with the location.
    const std::string& m = parsed.status().message();
    std::string where, reason = m;
    size_t at = m.find("line ");
    size_t colon = m.find(": ", at == std::string::npos ? 0 : at);
    if (at != std::string::npos && colon != std::string::npos) {
      where = m.substr(at, colon - at);
      reason = m.substr(colon + 2);
    }
    return InvalidArgument("Invalid JSON body: " + reason + (where.empty() ? "" : " (" + where + ")"));
  }
  if (!parsed->is_object()) {
    return InvalidArgument("Invalid JSON body: the request body must be a JSON object, not " +
                           std::string(PythonTypeName(*parsed)));
  }
  return std::move(parsed->as_object());
}

}  // namespace bora::api
