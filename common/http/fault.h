#pragma once
// The Mistral error body the HTTP layer itself answers with (404/405 from the router,
// 400/401/413/431/500 from the server): {"faultstring": message, "faultcode": "Client"|"Server",
// "debuginfo": null}. Resource handlers use api::Fault (ingest/api/mistral_format.h), which
// produces the same shape.
//
// Thread-safety: pure function.
#include <string_view>

#include "common/http/http_types.h"

namespace bora::http {

// faultcode is "Server" for status >= 500, else "Client".
HttpResponse MistralFault(int status, std::string_view message);

}  // namespace bora::http
