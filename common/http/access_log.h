#pragma once
// The HTTP server's access log and request ids. One line per request, written when its response
// ended (a deferred response once it was computed and sent, an event stream when it closed), at
// info level on the process's logger (common/log_line.h):
//   text: access method=GET path=/v2/executions status=200 bytes=1234 duration_ms=1.234
//         request_id=... remote=127.0.0.1:51234 [project=<keystone project id>]
//   JSON: {"msg":"access","method":"GET","path":"/v2/executions","status":200,...}
// `path` is the request target (path and query) with the values of secret-looking query parameters
// replaced by "***", cut to kMaxLoggedTarget bytes; headers are never logged.
//
// Thread-safety: functions of values, callable from any thread.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace bora::http {

inline constexpr char kRequestIdHeader[] = "X-Request-Id";
inline constexpr size_t kMaxRequestIdBytes = 128;
inline constexpr size_t kMaxLoggedTarget = 1024;

// The id of a request: the client's X-Request-Id when it is 1..128 visible ASCII characters (no
// space), else a new UUID.
std::string RequestIdFor(std::string_view client_value);

// The target as logged: values of query parameters whose name contains "token", "secret",
// "password", "signature", "api_key", "apikey" or "access_key" (any case) become "***"; cut to
// kMaxLoggedTarget ("..." added).
std::string LoggedTarget(std::string_view target);

struct AccessRecord {
  std::string_view method;  // "-" when the request line was not read
  std::string_view target;  // raw; LogAccess passes it through LoggedTarget
  int status = 0;
  size_t bytes = 0;  // body bytes sent (an event stream: every byte of it)
  std::chrono::steady_clock::duration duration{};
  std::string_view request_id;
  std::string_view remote;
  std::string_view project_id;  // the caller's Keystone project; logged as `project` when known
};

// Writes the access line (info).
void LogAccess(const AccessRecord& record);

}  // namespace bora::http
