// libFuzzer target for the HTTP request path of HttpServer (built with -DBORA_FUZZ=ON and clang;
// see README.md): the bytes are one connection's input, read request after request (keep-alive)
// through RequestReader (the server's parser limits, read-buffer bounds for chunk lines and
// trailers, error mapping, target parsing) from a Beast test stream, then through RequestGate
// (token, Origin) and Router::Dispatch. The first byte picks how many bytes one read returns (1 to
// 256), so requests are also split at every position.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/http/read.hpp>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/request_reader.h"
#include "common/http/router.h"

namespace {

using bora::http::HttpRequest;
using bora::http::HttpResponse;
using bora::http::PathParams;

const bora::http::Router& FuzzRouter() {
  static const bora::http::Router* router = [] {
    auto* r = new bora::http::Router();
    auto echo = [](const HttpRequest& req, const PathParams& params) {
      HttpResponse out;
      out.body = req.base_url + req.path + req.body;
      for (const auto& [k, v] : params) out.body += k + v;
      for (const auto& [k, v] : req.query) out.body += k + v;
      return out;
    };
    for (const char* pattern :
         {"/", "/v2", "/v2/executions", "/v2/executions/{id}", "/v2/executions/{id}/tasks",
          "/v2/webhooks/{name}", "/v2/{kind}/{name}/members", "/health/live"}) {
      for (const char* method : {"GET", "POST", "PUT", "DELETE"}) r->Add(method, pattern, echo);
    }
    return r;
  }();
  return *router;
}

const bora::http::HttpServerOptions& FuzzOptions() {
  static const bora::http::HttpServerOptions* options = [] {
    auto* o = new bora::http::HttpServerOptions();
    o->auth_token = "fuzz-token";
    o->allowed_origins = {"https://ui.example.com"};
    return o;
  }();
  return *options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  namespace beast = boost::beast;
  namespace bhttp = boost::beast::http;
  using Kind = bora::http::internal::RequestReader::ErrorOutcome::Kind;
  const auto& options = FuzzOptions();
  static const bora::http::internal::RequestGate gate(options, {"http://127.0.0.1:8989"});

  boost::asio::io_context ioc;
  beast::test::stream stream(ioc,
                             std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  stream.read_size(1 + data[0]);
  stream.close_remote();  // end of input = the peer closed

  bora::http::internal::RequestReader reader(options);
  for (int requests = 0; requests < 64; ++requests) {
    reader.Begin();
    beast::error_code ec;
    bhttp::read_header(stream, reader.buffer(), reader.parser(), ec);
    if (ec) return 0;                 // every outcome closes the connection
    if (reader.OnHeader()) return 0;  // 413, connection closed
    for (;;) {
      bhttp::read(stream, reader.buffer(), reader.parser(), ec);
      if (!ec) break;
      if (reader.OnError(ec, /*in_body=*/true).kind != Kind::kContinue) return 0;
    }
    HttpRequest request;
    HttpResponse fault;
    if (!reader.TakeRequest("127.0.0.1:1", &request, &fault)) return 0;
    request.base_url = "http://127.0.0.1:8989";
    HttpResponse response;
    bool needs_blocking = false;
    if (auto refused = gate.Check(request, /*may_block=*/true, &needs_blocking)) {
      response = *refused;
    } else {
      response = FuzzRouter().Dispatch(request);
    }
    if (response.status < 100 || response.status > 599) __builtin_trap();
    if (!reader.keep_alive()) return 0;
  }
  return 0;
}
