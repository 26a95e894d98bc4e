#include "ingest/console/console_routes.h"

#include <map>
#include <memory>
#include <string>

#include "common/http/fault.h"

namespace bora::console {
namespace {

http::HttpResponse FileResponse(const ConsoleFile& file, bool immutable) {
  http::HttpResponse r;
  r.status = 200;
  r.content_type = std::string(file.content_type);
  r.body = std::string(file.data);
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  // Built assets carry a content hash in their names; index.html names the current ones.
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

}  // namespace

void RegisterConsoleRoutes(http::Router& router, std::span<const ConsoleFile> files) {
  auto by_path = std::make_shared<std::map<std::string, const ConsoleFile*, std::less<>>>();
  for (const ConsoleFile& f : files) (*by_path)[std::string(f.path)] = &f;
  auto handler = [by_path](const http::HttpRequest&, const http::PathParams& params) {
    auto p = params.find("path");
    const std::string path = p == params.end() ? std::string() : p->second;
    if (auto it = by_path->find(path); it != by_path->end() && path != "index.html") {
      return FileResponse(*it->second, path.starts_with("assets/"));
    }
    if (path.starts_with("assets/") || path == "assets") {
      return http::MistralFault(404, "Console file not found: /ui/" + path);
    }
    auto index = by_path->find("index.html");
    if (index == by_path->end()) return http::MistralFault(404, "The console was not built");
    return FileResponse(*index->second, false);
  };
  router.Add("GET", "/ui/{path*}", handler);
}

}  // namespace bora::console
