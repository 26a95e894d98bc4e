#pragma once
// HttpServer: the HTTP/1.1 server in front of the REST API (Boost.Beast + Asio, kept out of this
// header). One handler (usually Router::Dispatch) answers every request; the server enforces the
// limits below, the optional bearer token, the Origin of state-changing requests, and turns
// malformed input into 400/413/431 with a Mistral fault body. See common/http/README.md for the
// limits table.
//
// Ownership and threads: the owner calls Start() and Stop() (or lets the destructor stop) from one
// thread. The handler is called on the server's `threads` I/O threads, concurrently for different
// connections; it may block (it holds one I/O thread while it does). An event stream a handler
// returns runs on a thread of its own, not on an I/O thread. Stop() closes the listener and every
// connection without waiting for responses in flight, then joins the threads; a handler still
// running is waited for, and so is each event stream's current Next().
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/http/authenticator.h"
#include "common/http/http_types.h"
#include "common/status.h"

namespace bora::http {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";  // listen address (IPv4 or IPv6 literal)
  int port = 0;                       // 0 = ephemeral; HttpServer::port() gives the bound one
  int threads = 2;                    // I/O threads (handlers run on them)
  size_t max_body_bytes = 1 << 20;    // larger bodies -> 413
  size_t max_header_bytes =
      8 << 10;  // request line + headers, and a chunked body's trailer; -> 431
  // A chunk's line in a chunked body: its size and extensions (without CRLF); longer -> 400. The
  // server holds at most this much of a chunk line.
  size_t max_chunk_line_bytes = 1024;
  // Time allowed to receive one whole request (headers and body) and, between requests on a
  // kept-alive connection, the idle time. A slow or silent client is disconnected after it
  // (slowloris-safe).
  std::chrono::milliseconds read_timeout{30000};
  bool keep_alive = true;  // false: "Connection: close" after every response
  // When not empty every request needs "Authorization: Bearer <token>" or "X-Auth-Token: <token>"
  // (else 401), except the paths in `unauthenticated_paths` (exact match on the decoded path,
  // trailing '/' ignored).
  std::string auth_token;
  // When set, decides instead of auth_token who may call (a KeystoneAuthenticator,
  // common/auth); shared by every connection. A blocking check runs off the I/O threads.
  std::shared_ptr<Authenticator> authenticator;
  std::set<std::string> unauthenticated_paths = {"/health/live", "/health/ready"};
  // Paths under these prefixes need no token either: `/ui` exempts `/ui` and `/ui/...` (the web
  // console's static files, which hold no data; the console sends the token on its API calls).
  std::set<std::string> unauthenticated_prefixes;
  std::string server_name = "bora";  // the Server header
  // Where clients reach the server ("https://bora.example.com"): HttpRequest::base_url, which
  // handlers build links from (`uri`, `next`), and an allowed Origin. Empty: the listener,
  // "http://<address>:<port>" (the host name for a wildcard address). The Host header is not used.
  std::string public_url;
  // Origins ("https://ui.example.com") whose pages may send POST, PUT, PATCH and DELETE besides the
  // server's own (the listener's, the public URL's; for a loopback or wildcard address also
  // localhost, 127.0.0.1 and [::1] on the port). Such a request with any other Origin header is
  // refused with 403 (cross-site request forgery); requests without Origin (CLIs, SDKs) pass.
  std::vector<std::string> allowed_origins;
  // Event streams (HttpResponse::stream) open at once, each holding a thread; one more is answered
  // 503. A stream sends a comment line when it had nothing to send for `stream_keepalive`, so
  // proxies keep the connection and a client that went away is noticed.
  int max_streams = 64;
  // Deferred responses (HttpResponse::deferred: long polls) computed at once, each on a thread of
  // its own; beyond, 503.
  int max_deferred = 256;
  std::chrono::milliseconds stream_keepalive{15000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Bind/listen errors (address in use, bad address)
  // come back as kUnavailable / kInvalidArgument. Calling Start() twice is kFailedPrecondition.
  Status Start();
  // Idempotent. Closes the listener and all connections, joins the threads.
  void Stop();

  // The bound port (valid after a successful Start()).
  int port() const;
  // "127.0.0.1:PORT".
  std::string endpoint() const;
  const HttpServerOptions& options() const { return options_; }

  struct Impl;  // opaque (defined in http_server.cc)

 private:
  HttpServerOptions options_;
  HttpHandler handler_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bora::http
