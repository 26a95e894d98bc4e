#pragma once
// A tiny blocking HTTP/1.1 client for tests (Boost.Beast sync API underneath, not in this header).
// Not for production use: no TLS, no redirects, no proxy.
//
// Thread-safety: HttpCall is thread-safe; one HttpTestConnection per thread.
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/http/http_types.h"
#include "common/status.h"

namespace bora::http {

// One request on a fresh connection. `headers` are sent as given (Content-Type defaults to
// application/json when a body is present and none is given). The response's headers land in
// HttpResponse::headers (names lower-cased) and its Content-Type in content_type. Transport errors
// -> kUnavailable.
Result<HttpResponse> HttpCall(const std::string& host, int port, const std::string& method,
                              const std::string& target, const std::string& body = "",
                              const std::map<std::string, std::string>& headers = {});

// A kept-alive connection: several requests on one socket (to test keep-alive).
class HttpTestConnection {
 public:
  HttpTestConnection();
  ~HttpTestConnection();
  Status Connect(const std::string& host, int port);
  Result<HttpResponse> Call(const std::string& method, const std::string& target,
                            const std::string& body = "",
                            const std::map<std::string, std::string>& headers = {});
  // Sends raw bytes (possibly a partial or malformed request).
  Status SendRaw(const std::string& bytes);
  // Reads until the peer closes the connection (or `timeout`); returns everything read.
  Result<std::string> ReadUntilClose(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bora::http
