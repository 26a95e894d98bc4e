#include "common/http/test_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <functional>
#include <optional>

namespace bora::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct HttpTestConnection::Impl {
  asio::io_context ioc;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;
  std::string host;
};

HttpTestConnection::HttpTestConnection() : impl_(std::make_unique<Impl>()) {}
HttpTestConnection::~HttpTestConnection() { Close(); }

Status HttpTestConnection::Connect(const std::string& host, int port) {
  try {
    tcp::resolver resolver(impl_->ioc);
    auto results = resolver.resolve(host, std::to_string(port));
    impl_->stream.emplace(impl_->ioc);
    impl_->stream->connect(results);
    impl_->host = host + ":" + std::to_string(port);
    return Status::Ok();
  } catch (const std::exception& e) {
    impl_->stream.reset();
    return Unavailable("connect " + host + ":" + std::to_string(port) + ": " + e.what());
  }
}

Result<HttpResponse> HttpTestConnection::Call(const std::string& method, const std::string& target,
                                              const std::string& body,
                                              const std::map<std::string, std::string>& headers) {
  if (!impl_->stream) return FailedPrecondition("not connected");
  try {
    bhttp::request<bhttp::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(bhttp::field::host, impl_->host);
    bool has_type = false;
    for (const auto& [name, value] : headers) {
      req.set(name, value);
      if (Lower(name) == "content-type") has_type = true;
    }
    if (!body.empty() && !has_type) req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    bhttp::write(*impl_->stream, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    if (method == "HEAD") parser.skip(true);
    bhttp::read(*impl_->stream, impl_->buffer, parser);
    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[bhttp::field::content_type]);
    for (const auto& field : res)
      out.headers.emplace_back(Lower(field.name_string()), field.value());
    out.body = std::move(res.body());
    return out;
  } catch (const std::exception& e) {
    return Unavailable(method + " " + target + ": " + e.what());
  }
}

Status HttpTestConnection::SendRaw(const std::string& bytes) {
  if (!impl_->stream) return FailedPrecondition("not connected");
  beast::error_code ec;
  asio::write(impl_->stream->socket(), asio::buffer(bytes), ec);
  if (ec) return Unavailable("send: " + ec.message());
  return Status::Ok();
}

Result<std::string> HttpTestConnection::ReadUntilClose(std::chrono::milliseconds timeout) {
  if (!impl_->stream) return FailedPrecondition("not connected");
  std::string out(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
  impl_->buffer.consume(impl_->buffer.size());
  // Async read with a deadline, driven on this thread.
  bool done = false;
  beast::error_code result;
  std::string chunk(4096, '\0');
  std::function<void()> read_more;
  read_more = [&] {
    impl_->stream->async_read_some(asio::buffer(chunk), [&](beast::error_code ec, size_t n) {
      out.append(chunk.data(), n);
      if (ec) {
        done = true;
        result = ec;
        return;
      }
      read_more();
    });
  };
  impl_->stream->expires_after(timeout);
  read_more();
  impl_->ioc.restart();
  impl_->ioc.run();
  if (result == beast::error::timeout) return DeadlineExceeded("peer did not close; read: " + out);
  (void)done;
  return out;
}

void HttpTestConnection::Close() {
  if (!impl_->stream) return;
  beast::error_code ec;
  impl_->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
  impl_->stream->close();
  impl_->stream.reset();
}

Result<HttpResponse> HttpCall(const std::string& host, int port, const std::string& method,
                              const std::string& target, const std::string& body,
                              const std::map<std::string, std::string>& headers) {
  HttpTestConnection conn;
  BORA_RETURN_IF_ERROR(conn.Connect(host, port));
  return conn.Call(method, target, body, headers);
}

}  // namespace bora::http
