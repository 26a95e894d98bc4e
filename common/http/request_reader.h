#pragma once
// RequestReader: how HttpServer reads one request, shared by its connections (http_server.cc) and
// the HTTP fuzzer (http_fuzz.cc) so both run the same rules: the Beast parser with the server's
// header and body limits, a read buffer whose size bounds what is held of a request line, a header,
// a chunk line (size and extensions) or a trailer, what a read error becomes (400/413/431 or a
// silent close), and the conversion of a parsed message into an HttpRequest. RequestGate then
// decides what a parsed request gets before the handler: 401 (token), 403 (Origin).
//
// Beast types are visible here: include it only from common/http. Thread-safety: one reader per
// connection, used from that connection's strand; a RequestGate is immutable and shared.
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/http/authenticator.h"
#include "common/http/http_server.h"
#include "common/http/http_types.h"

namespace bora::http::internal {

// Percent-decodes `in` into `out`; with `plus_as_space` (query strings) '+' becomes ' '. False on a
// bad escape.
bool PercentDecode(std::string_view in, bool plus_as_space, std::string& out);

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Read-buffer size while a body with a Content-Length (or none) is read: the parser moves body
// bytes out of the buffer as they come, so this only sets how much one read takes.
inline constexpr size_t kBodyReadBytes = 64 << 10;

class RequestReader {
 public:
  explicit RequestReader(const HttpServerOptions& options) : options_(options) {}

  // Starts the next request on the connection; bytes already buffered (pipelined) are kept.
  void Begin();
  RequestParser& parser() { return *parser_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // After the header was read: a 413 when the declared length is over the limit, else nullopt
  // (and the body limits are set).
  std::optional<HttpResponse> OnHeader();

  // What a read error means. kRespond: send `response` and close; kClose: close silently (the
  // peer went away, timed out, or sent an incomplete message); kContinue: read on (the buffer grew
  // to take a trailer).
  struct ErrorOutcome {
    enum class Kind { kClose, kRespond, kContinue } kind = Kind::kClose;
    HttpResponse response;
  };
  ErrorOutcome OnError(boost::beast::error_code ec, bool in_body);

  // The parsed request (call once the parser is done). False with `fault` set (400) when the
  // target is malformed.
  bool TakeRequest(const std::string& remote, HttpRequest* request, HttpResponse* fault);

  bool keep_alive() const { return keep_alive_; }
  unsigned version() const { return version_; }

 private:
  // When the buffered bytes are the last chunk's line followed by (part of) the trailer: where
  // the trailer starts in the buffer; else npos.
  size_t TrailerStart() const;

  const HttpServerOptions& options_;
  std::optional<RequestParser> parser_;
  boost::beast::flat_buffer buffer_;
  bool trailer_room_ = false;  // the buffer was grown to take a trailer
  bool keep_alive_ = false;
  unsigned version_ = 11;
};

// The checks every parsed request passes before the handler, in order: authentication (the
// options' Authenticator, else the static auth_token, else none: 401, or 503 when the identity
// service cannot be asked), then for POST, PUT, PATCH and DELETE the Origin header (403 when
// present and not allowed). Paths in unauthenticated_paths/_prefixes skip authentication.
class RequestGate {
 public:
  // `own_origins`: the origins of the server itself ("http://127.0.0.1:8989", the public URL's);
  // options.allowed_origins are added.
  RequestGate(const HttpServerOptions& options, const std::set<std::string>& own_origins);
  // nullopt: pass the request to the handler (with request.identity set when the authenticator
  // named one). Without `may_block`, an authenticator that would have to block (a Keystone cache
  // miss) sets *needs_blocking and returns nullopt: call again with `may_block` off the I/O thread.
  std::optional<HttpResponse> Check(HttpRequest& request, bool may_block,
                                    bool* needs_blocking) const;

 private:
  bool Exempt(const HttpRequest& request) const;
  const HttpServerOptions& options_;
  std::shared_ptr<Authenticator> authenticator_;
  std::set<std::string> origins_;  // normalised (lower case, no trailing '/')
};

// "HTTP://Host:80/" -> "http://host:80": the form origins are compared in.
std::string NormalizeOrigin(std::string_view origin);

}  // namespace bora::http::internal
