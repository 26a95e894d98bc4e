#pragma once
// Plain HTTP request/response values shared by the server (common/http/http_server.h), the router
// and every REST handler. They carry no Beast types so handlers and their tests need no networking.
//
// Thread-safety: values; a handler gets its own request and returns its own response.
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace bora::http {

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

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// Path parameters captured by the router: pattern "/v2/executions/{id}" + "/v2/executions/abc" -> {id: abc}.
using PathParams = std::map<std::string, std::string>;
using RouteHandler = std::function<HttpResponse(const HttpRequest&, const PathParams&)>;

}  // namespace bora::http
