#include "ingest/api/api_test_support.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <string_view>

namespace bora::api {

namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; with `plus_as_space` (query strings) '+' is a space. A '%' not followed by
// two hex digits stays as is.
std::string Decode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && HexDigit(in[i + 1]) >= 0 &&
        HexDigit(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(in[i + 1]) * 16 + HexDigit(in[i + 2])));
      i += 2;
    } else if (plus_as_space && in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

}  // namespace

runtime::EmbeddedOptions ApiTestBackend::DefaultRuntimeOptions() {
  runtime::EmbeddedOptions o;
  o.deterministic = true;
  return o;
}

ApiServiceOptions ApiTestBackend::DefaultServiceOptions() {
  ApiServiceOptions o;
  o.serve_http = false;
  o.cron = false;
  o.ingest = false;
  return o;
}

ApiTestBackend::ApiTestBackend(const ApiServiceOptions& service,
                               const runtime::EmbeddedOptions& runtime)
    : runtime_(std::make_unique<runtime::EmbeddedRuntime>(runtime)) {
  auto created = ApiService::ForEmbedded(runtime_.get(), service);
  // ForEmbedded cannot fail today (it only allocates); a failure here is a broken test setup.
  if (!created.ok()) {
    std::cerr << "ApiService::ForEmbedded: " << created.status().ToString() << std::endl;
    std::abort();
  }
  service_ = std::move(*created);
}

ApiTestBackend::~ApiTestBackend() = default;

http::HttpRequest MakeRequest(const std::string& method, const std::string& target,
                              const std::string& body, const std::string& content_type,
                              const std::map<std::string, std::string>& headers) {
  http::HttpRequest r;
  r.method = method;
  r.target = target;
  size_t q = target.find('?');
  r.path = Decode(std::string_view(target).substr(0, q), false);
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    size_t start = 0;
    while (start < rest.size()) {
      size_t amp = rest.find('&', start);
      if (amp == std::string_view::npos) amp = rest.size();
      std::string_view kv = rest.substr(start, amp - start);
      if (!kv.empty()) {
        size_t eq = kv.find('=');
        r.query.emplace_back(Decode(kv.substr(0, eq), true),
                             eq == std::string_view::npos ? "" : Decode(kv.substr(eq + 1), true));
      }
      start = amp + 1;
    }
  }
  r.headers = headers;
  if (!r.headers.contains("host")) r.headers["host"] = "localhost:8989";
  r.base_url = "http://localhost:8989";  // as HttpServer sets it
  if (!body.empty() && !r.headers.contains("content-type"))
    r.headers["content-type"] = content_type.empty() ? "application/json" : content_type;
  r.body = body;
  return r;
}

JsonObject BodyObject(const http::HttpResponse& response) {
  auto j = ParseJson(response.body);
  EXPECT_TRUE(j.ok() && j->is_object()) << response.body;
  return j.ok() && j->is_object() ? j->as_object() : JsonObject();
}

std::string Field(const JsonObject& object, const char* key) {
  const Json* v = object.if_contains(key);
  if (v == nullptr) return "<missing>";
  return v->is_string() ? std::string(v->as_string()) : DumpJson(*v);
}

}  // namespace bora::api
