#include "ingest/console/console_routes.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

namespace bora::console {
namespace {

http::HttpRequest Get(std::string path) {
  http::HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.target = std::move(path);
  return r;
}

std::string Header(const http::HttpResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

const ConsoleFile kTestFiles[] = {
    {"index.html", "text/html; charset=utf-8", "<!doctype html><title>index</title>"},
    {"assets/app-1a2b.js", "text/javascript; charset=utf-8", "console.log(1)"},
    {"favicon.svg", "image/svg+xml", "<svg/>"},
};

TEST(ConsoleRoutesTest, FilesIndexForClientRoutesAndPolicyOnEveryResponse) {
  http::Router router;
  RegisterConsoleRoutes(router, kTestFiles);
  struct Case {
    std::string path;
    int status;
    std::string type;  // for 200
    std::string body;  // for 200
    std::string cache;
  };
  const std::vector<Case> cases = {
      {"/ui", 200, "text/html; charset=utf-8", "<!doctype html><title>index</title>", "no-cache"},
      {"/ui/", 200, "text/html; charset=utf-8", "<!doctype html><title>index</title>", "no-cache"},
      {"/ui/executions/e1", 200, "text/html; charset=utf-8", "<!doctype html><title>index</title>",
       "no-cache"},
      {"/ui/executions/e1/tasks/t1", 200, "text/html; charset=utf-8",
       "<!doctype html><title>index</title>", "no-cache"},
      {"/ui/index.html", 200, "text/html; charset=utf-8", "<!doctype html><title>index</title>",
       "no-cache"},
      {"/ui/assets/app-1a2b.js", 200, "text/javascript; charset=utf-8", "console.log(1)",
       "public, max-age=31536000, immutable"},
      {"/ui/favicon.svg", 200, "image/svg+xml", "<svg/>", "no-cache"},
      {"/ui/assets/missing.js", 404, "", "", ""},
      {"/ui/assets", 404, "", "", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path);
    http::HttpResponse r = router.Dispatch(Get(c.path));
    ASSERT_EQ(r.status, c.status) << r.body;
    if (c.status != 200) continue;
    EXPECT_EQ(r.content_type, c.type);
    EXPECT_EQ(r.body, c.body);
    EXPECT_EQ(Header(r, "Content-Security-Policy"), kContentSecurityPolicy);
    EXPECT_EQ(Header(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(Header(r, "Cache-Control"), c.cache);
  }
}

// The policy allows nothing but this server: no inline scripts, no other origins.
TEST(ConsoleRoutesTest, PolicyAllowsOnlySelf) {
  std::string policy = kContentSecurityPolicy;
  EXPECT_NE(policy.find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(policy.find("unsafe-eval"), std::string::npos);
  EXPECT_EQ(policy.find("http"), std::string::npos);
  EXPECT_EQ(policy.find('*'), std::string::npos);
}

// The real build: index.html loads only files that are in the binary, none from elsewhere, and
// holds no inline script (the policy would block it).
TEST(ConsoleRoutesTest, BuiltConsoleIsCompleteAndSelfContained) {
  auto files = BuiltConsoleFiles();
  const ConsoleFile* index = nullptr;
  std::map<std::string, const ConsoleFile*> by_path;
  for (const ConsoleFile& f : files) {
    by_path[std::string(f.path)] = &f;
    if (f.path == "index.html") index = &f;
  }
  ASSERT_NE(index, nullptr);
  const std::string html(index->data);
  std::regex ref(R"re((?:src|href)="([^"]*)")re");
  int refs = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator();
       ++it) {
    std::string url = (*it)[1];
    SCOPED_TRACE(url);
    ASSERT_TRUE(url.starts_with("/ui/")) << "index.html loads something from outside /ui";
    auto file = by_path.find(url.substr(4));
    ASSERT_NE(file, by_path.end()) << "index.html names a file the binary does not hold";
    if (url.ends_with(".js")) {
      EXPECT_EQ(file->second->content_type, "text/javascript; charset=utf-8");
    }
    ++refs;
  }
  EXPECT_GE(refs, 2) << "index.html should load the console's script and stylesheet";
  std::regex inline_script(R"re(<script(?![^>]*\bsrc=)[^>]*>)re");
  EXPECT_FALSE(std::regex_search(html, inline_script)) << "an inline script would be blocked";
  EXPECT_EQ(html.find("style="), std::string::npos) << "an inline style would be blocked";
}

}  // namespace
}  // namespace bora::console
