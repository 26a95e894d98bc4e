#pragma once
// Router: maps (method, path pattern) to a handler. Patterns are literal segments and `{name}` captures
// ("/v2/executions/{id}/tasks"); a literal segment wins over a capture at the same position. Unknown paths
// answer 404 and known paths with another method 405, both with Mistral's error body
// {"faultstring": ..., "faultcode": "Client", "debuginfo": null}. A handler that throws gets a 500 with the
// message (handlers should return errors as responses; this is the last line of defence).
//
// Thread-safety: Add() before serving; Dispatch() from any thread.
#include <string>
#include <vector>

#include "ingest/http/http_types.h"

namespace bora::http {

class Router {
 public:
  void Add(std::string method, std::string pattern, RouteHandler handler);
  HttpResponse Dispatch(const HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{x}" for captures
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace bora::http
