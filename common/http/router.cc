#include "common/http/router.h"

#include <exception>
#include <set>
#include <string_view>

#include "common/http/fault.h"

namespace bora::http {
namespace {

// Splits "/a/b/" into {"a", "b"}: empty segments are dropped, so a trailing slash (or "//") is
// tolerated.
std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool IsCapture(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

// `{name*}`, last in a pattern: the rest of the path (zero or more segments).
bool IsRest(const std::string& segment) {
  return IsCapture(segment) && segment.size() >= 3 && segment[segment.size() - 2] == '*';
}

bool Matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path) {
  const bool rest = !pattern.empty() && IsRest(pattern.back());
  const size_t fixed = rest ? pattern.size() - 1 : pattern.size();
  if (rest ? path.size() < fixed : path.size() != fixed) return false;
  for (size_t i = 0; i < fixed; ++i)
    if (!IsCapture(pattern[i]) && pattern[i] != path[i]) return false;
  return true;
}

// True when `a` is more specific than `b`: at the first position where one has a literal and the
// other a capture, the literal wins.
// A rest capture is the least specific of all.
bool MoreSpecific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bool ra = IsRest(a[i]);
    bool rb = IsRest(b[i]);
    if (ra != rb) return !ra;
    bool ca = IsCapture(a[i]);
    bool cb = IsCapture(b[i]);
    if (ca != cb) return !ca;
  }
  return a.size() > b.size() && !b.empty() && IsRest(b.back());
}

}  // namespace

void Router::Add(std::string method, std::string pattern, RouteHandler handler) {
  if (wrapper_) handler = wrapper_(pattern, std::move(handler));
  routes_.push_back(Route{std::move(method), SplitPath(pattern), std::move(handler)});
}

HttpResponse Router::Dispatch(const HttpRequest& request) const {
  std::vector<std::string> path = SplitPath(request.path);
  const Route* best = nullptr;
  std::set<std::string> allowed;
  for (const Route& route : routes_) {
    if (!Matches(route.segments, path)) continue;
    allowed.insert(route.method);
    if (route.method != request.method) continue;
    if (best == nullptr || MoreSpecific(route.segments, best->segments)) best = &route;
  }
  if (best == nullptr) {
    if (allowed.empty()) return MistralFault(404, "Resource not found: " + request.path);
    std::string allow;
    for (const std::string& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    HttpResponse r =
        MistralFault(405, "Method " + request.method + " not allowed for " + request.path);
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  PathParams params;
  for (size_t i = 0; i < best->segments.size(); ++i) {
    const std::string& seg = best->segments[i];
    if (IsRest(seg)) {
      std::string rest;
      for (size_t j = i; j < path.size(); ++j) rest += (j > i ? "/" : "") + path[j];
      params[seg.substr(1, seg.size() - 3)] = std::move(rest);
    } else if (IsCapture(seg)) {
      params[seg.substr(1, seg.size() - 2)] = path[i];
    }
  }
  try {
    return best->handler(request, params);
  } catch (const std::exception& e) {
    return MistralFault(500, std::string("Internal error: ") + e.what());
  } catch (...) {
    return MistralFault(500, "Internal error: unknown exception");
  }
}

}  // namespace bora::http
