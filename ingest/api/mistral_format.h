#pragma once
// Mistral REST v2 conventions shared by every resource handler (../shared/mistral-spec.md §5):
// errors {"faultstring", "faultcode", "debuginfo"}; times "YYYY-MM-DD HH:MM:SS" UTC; json-typed fields sent as
// JSON-encoded strings in responses while requests may send strings or objects; JSON bodies with limits.
//
// Thread-safety: pure functions.
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/http/http_types.h"
#include "common/json.h"
#include "common/status.h"

namespace bora::api {

// {"faultstring": message, "faultcode": "Client"|"Server", "debuginfo": null} with `status`.
http::HttpResponse Fault(int status, std::string_view message);
// The Mistral status code for a Status: kInvalidArgument 400, kNotFound 404, kAlreadyExists 409,
// kPermissionDenied 403, kResourceExhausted 413, kFailedPrecondition 400, others 500.
int HttpStatusFor(const Status& status);
http::HttpResponse FaultFrom(const Status& status);
// `value` serialised, status `status`, application/json.
http::HttpResponse JsonReply(int status, const Json& value);

// "2026-01-01 10:00:03" (UTC), or null for 0.
Json MistralTime(TimestampUs t);
// A json-typed field as Mistral sends it: the Python json.dumps text of `value` (null stays null).
Json JsonString(const Json& value);
// A json-typed field as a request may send it: an object/array/number as is, or a string holding JSON
// (parsed; a string that is not JSON stays a string). `field` names it in errors.
Result<Json> JsonFromField(const Json& value, std::string_view field);

// Parses the request body as a JSON object. kInvalidArgument "Invalid JSON body: ... (line L, column C)"
// or "... must be a JSON object".
Result<JsonObject> ParseJsonBody(const http::HttpRequest& request);

}  // namespace bora::api
