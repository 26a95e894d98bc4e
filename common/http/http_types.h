#pragma once
// Plain HTTP request/response values shared by the server (common/http/http_server.h), the router
// and every REST handler. They carry no Beast types so handlers and their tests need no networking.
//
// Thread-safety: values; a handler gets its own request and returns its own response.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bora::http {

// Who sent a request, as the identity service said (Keystone's token body): set on
// HttpRequest::identity by an Authenticator that knows one (common/http/authenticator.h).
struct Identity {
  std::string user_id;
  std::string user_name;
  std::string user_domain;  // the user's domain name
  std::string project_id;   // the token's project scope ("" for an unscoped or domain token)
  std::string project_name;
  std::string project_domain;
  std::vector<std::string> roles;  // role names on the project
  bool is_admin = false;           // has the role "admin"
  int64_t expires_at_us = 0;       // when the token expires (µs since the epoch, UTC)
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ... (upper case)
  std::string target;  // as received: "/v2/executions?limit=10"
  std::string path;    // percent-decoded path without the query: "/v2/executions"
  // Query parameters in order, percent-decoded ("+" is a space). A key may repeat.
  std::vector<std::pair<std::string, std::string>> query;
  std::map<std::string, std::string> headers;  // names lower-cased; repeated headers joined with ", "
  std::string body;
  std::string remote;  // "ip:port" of the peer
  // "scheme://host[:port][/prefix]" without a trailing '/': where clients reach this server, set by
  // the server from its configuration (never from the Host header). Links in replies start with it.
  std::string base_url;
  // Set by the server before the handler when the Authenticator named one (Keystone); nullopt
  // with no auth or the static token.
  std::optional<Identity> identity;

  // The first value of a query parameter, or `fallback`.
  std::string Query(const std::string& key, const std::string& fallback = "") const {
    for (const auto& [k, v] : query)
      if (k == key) return v;
    return fallback;
  }
  bool HasQuery(const std::string& key) const {
    for (const auto& [k, v] : query)
      if (k == key) return true;
    return false;
  }
  // A header by lower-case name, or "".
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A response body produced over time, as Server-Sent Events (HttpResponse::stream): what a live
// view (the web console's execution page) subscribes to. The server sends the status line and
// headers, then asks the stream for text until it ends, the client goes away or the server stops,
// each stream on a thread of its own (HttpServerOptions::max_streams bounds them).
class EventStream {
 public:
  virtual ~EventStream() = default;
  // Waits at most `wait` for what to send next: text in the text/event-stream format ("event: x\n"
  // "data: {...}\n\n"); "" when nothing happened (the server sends a keep-alive comment every
  // HttpServerOptions::stream_keepalive); nullopt when the stream is over (the server closes the
  // connection). Called from one thread at a time.
  virtual std::optional<std::string> Next(std::chrono::milliseconds wait) = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // When set (with status 200), the body is this stream, sent as text/event-stream until it ends;
  // `body` and `content_type` are not used.
  std::shared_ptr<EventStream> stream;
  // When set, the response is what this returns, computed on a thread of its own (a long poll that
  // waits for work holds no I/O thread), then sent as any response; the other fields are not used.
  // It must return within a bounded time, and at once once whatever it waits on is shut down
  // (HttpServer::Stop() waits for it).
  std::function<HttpResponse()> deferred;
};

// Path parameters captured by the router: pattern "/v2/executions/{id}" + "/v2/executions/abc" -> {id: abc}.
using PathParams = std::map<std::string, std::string>;
using RouteHandler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

}  // namespace bora::http
