#pragma once
// Router: maps (method, path pattern) to a handler. Patterns are literal segments and `{name}`
// captures
// ("/v2/executions/{id}/tasks"), and last a rest capture `{name*}` matching the remaining segments,
// zero or more, joined by '/' ("/ui/{path*}"); a literal segment wins over a capture at the same
// position, and a capture over a rest capture. Unknown paths answer 404 and known paths with
// another method 405, both with Mistral's error body
// {"faultstring": ..., "faultcode": "Client", "debuginfo": null}. A handler that throws gets a 500
// with the message (handlers should return errors as responses; this is the last line of defence).
//
// Thread-safety: Add() before serving; Dispatch() from any thread.
#include <functional>
#include <string>
#include <vector>

#include "common/http/http_types.h"

namespace bora::http {

class Router {
 public:
  // Wraps every handler added from now on: wrapper(pattern, handler) returns the handler to register (used
  // to count and time requests per route pattern). Before the Add calls it should apply to.
  using Wrapper = std::function<RouteHandler(const std::string& pattern, RouteHandler handler)>;
  void SetWrapper(Wrapper wrapper) { wrapper_ = std::move(wrapper); }

  void Add(std::string method, std::string pattern, RouteHandler handler);
  HttpResponse Dispatch(const HttpRequest& request) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{x}" for captures
    RouteHandler handler;
  };
  std::vector<Route> routes_;
  Wrapper wrapper_;
};

}  // namespace bora::http
