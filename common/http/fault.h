#pragma once
// The Mistral error body the HTTP layer itself answers with (404/405 from the router,
// 400/401/413/431/500 from the server): {"faultstring": message, "faultcode": "Client"|"Server",
// "debuginfo": null}. Resource handlers use api::Fault (ingest/api/mistral_format.h), which
// produces the same shape. A message is made valid UTF-8 first (ValidUtf8): it often quotes what
// the client sent (a percent-decoded path, a cut snippet of a body), and a JSON text must be UTF-8.
//
// Thread-safety: pure function.
#include <string>
#include <string_view>

#include "common/http/http_types.h"

namespace bora::http {

// faultcode is "Server" for status >= 500, else "Client".
HttpResponse MistralFault(int status, std::string_view message);

// `text` with every byte that does not belong to a well-formed UTF-8 sequence (a stray continuation
// byte, a sequence cut short, an overlong form, a surrogate, a code point above U+10FFFF) replaced
// by U+FFFD; valid text comes back unchanged.
std::string ValidUtf8(std::string_view text);

}  // namespace bora::http
