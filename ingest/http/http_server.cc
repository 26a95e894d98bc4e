#include "ingest/http/http_server.h"

#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <optional>
#include <thread>
#include <vector>

#include "common/log.h"
#include "ingest/http/fault.h"

namespace bora::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; with `plus_as_space` (query strings) '+' becomes ' '. False on a bad
// escape.
bool PercentDecode(std::string_view in, bool plus_as_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

// Fills path and query of `req` from req.target. False when the target is not origin-form (or
// absolute-form) or has a bad escape.
bool ParseTarget(HttpRequest& req) {
  std::string_view t = req.target;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (t.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), t.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      t.remove_prefix(scheme.size());
      size_t slash = t.find_first_of("/?");
      t = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
      break;
    }
  }
  if (t.empty() || t.front() != '/') return false;
  size_t hash = t.find('#');
  if (hash != std::string_view::npos) t = t.substr(0, hash);
  size_t q = t.find('?');
  std::string_view raw_path = t.substr(0, q);
  if (!PercentDecode(raw_path, false, req.path)) return false;
  if (req.path.find('\0') != std::string::npos) return false;
  req.query.clear();
  if (q == std::string_view::npos) return true;
  std::string_view qs = t.substr(q + 1);
  size_t i = 0;
  while (i <= qs.size()) {
    size_t amp = qs.find('&', i);
    if (amp == std::string_view::npos) amp = qs.size();
    std::string_view item = qs.substr(i, amp - i);
    if (!item.empty()) {
      size_t eq = item.find('=');
      std::string key, value;
      if (!PercentDecode(item.substr(0, eq), true, key)) return false;
      if (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), true, value))
        return false;
      req.query.emplace_back(std::move(key), std::move(value));
    }
    i = amp + 1;
  }
  return true;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  // Runs over the longer length whatever the content, so timing reveals only the lengths.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string TrimSlash(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

}  // namespace

struct HttpServer::Impl {
  const HttpServerOptions& options;
  const HttpHandler& handler;
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  int port = 0;
  std::string address;

  Impl(const HttpServerOptions& o, const HttpHandler& h) : options(o), handler(h) {}

  bool Authorized(const HttpRequest& req) const {
    if (options.auth_token.empty()) return true;
    if (options.unauthenticated_paths.count(TrimSlash(req.path)) ||
        options.unauthenticated_paths.count(req.path))
      return true;
    std::string auth = req.Header("authorization");
    bool ok = false;
    if (auth.size() > 7 && ToLower(std::string_view(auth).substr(0, 7)) == "bearer ") {
      std::string_view token = std::string_view(auth).substr(7);
      while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
      ok |= ConstantTimeEquals(token, options.auth_token);
    }
    std::string x = req.Header("x-auth-token");
    if (!x.empty()) ok |= ConstantTimeEquals(x, options.auth_token);
    return ok;
  }

  HttpResponse Handle(const HttpRequest& req) const {
    if (!Authorized(req)) {
      HttpResponse r = MistralFault(401, "Authentication required: missing or invalid token");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    try {
      return handler(req);
    } catch (const std::exception& e) {
      return MistralFault(500, std::string("Internal error: ") + e.what());
    } catch (...) {
      return MistralFault(500, "Internal error: unknown exception");
    }
  }

  void Accept();
};

namespace {

// One connection. Lives as long as an asynchronous operation holds a shared_ptr to it; all its work
// runs on its strand (the socket's executor).
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      std::string ip = ep.address().to_string();
      remote_ = (ep.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(ep.port());
    }
  }

  void Start() { ReadHeader(); }

 private:
  void ReadHeader() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_header_bytes));
    // The body limit is applied once the header is in, so a too-long Content-Length gets its own
    // message.
    parser_->body_limit(boost::none);
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec, /*header=*/true);
    auto& req = parser_->get();
    if (auto length = parser_->content_length();
        length && *length > server_.options.max_body_bytes) {
      return SendFault(413,
                       "Request body too large (" + std::to_string(*length) + " bytes; limit " +
                           std::to_string(server_.options.max_body_bytes) + ")",
                       /*close=*/true);
    }
    parser_->body_limit(server_.options.max_body_bytes);
    auto expect = req.find(bhttp::field::expect);
    if (expect != req.end() && ToLower(expect->value()) == "100-continue") {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec, /*header=*/false);
                        self->OnRequest();
                      });
  }

  void OnReadError(beast::error_code ec, bool header) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == bhttp::error::partial_message) {
      return Close();
    }
    if (ec == bhttp::error::header_limit) {
      return SendFault(431,
                       "Request header fields too large (limit " +
                           std::to_string(server_.options.max_header_bytes) + " bytes)",
                       true);
    }
    if (ec == bhttp::error::body_limit) {
      return SendFault(413,
                       "Request body too large (more than " +
                           std::to_string(server_.options.max_body_bytes) + " bytes; limit " +
                           std::to_string(server_.options.max_body_bytes) + ")",
                       true);
    }
    if (ec.category() == beast::error_code(bhttp::error::bad_method).category()) {
      return SendFault(400, "Malformed HTTP request: " + ec.message(), true);
    }
    Close();
  }

  void OnRequest() {
    auto& breq = parser_->get();
    HttpRequest req;
    req.method = std::string(breq.method_string());
    req.target = std::string(breq.target());
    req.remote = remote_;
    for (const auto& field : breq) {
      std::string name = ToLower(field.name_string());
      auto [it, inserted] = req.headers.emplace(name, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    req.body = std::move(breq.body());
    keep_alive_ = breq.keep_alive() && server_.options.keep_alive;
    version_ = breq.version();
    if (!ParseTarget(req)) {
      return SendFault(400, "Malformed request target: " + req.target, true);
    }
    // Handler may block: it runs here, on this connection's strand, on one of the I/O threads.
    Send(server_.Handle(req));
  }

  void SendFault(int status, const std::string& message, bool close) {
    if (close) keep_alive_ = false;
    if (version_ == 0) version_ = 11;
    Send(MistralFault(status, message));
  }

  void Send(HttpResponse r) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(version_ == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::server, server_.options.server_name);
    if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
    for (auto& [name, value] : r.headers) res->insert(name, value);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res](beast::error_code ec, size_t) {
                         if (ec || !self->keep_alive_) return self->Close();
                         self->version_ = 0;
                         self->ReadHeader();
                       });
  }

  // Half-closes, then reads and discards whatever the client still sends (a body we refused) until
  // it closes or a short timeout, so the client sees our response rather than a reset.
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return stream_.close();
    stream_.expires_after(
        std::min<std::chrono::milliseconds>(server_.options.read_timeout, std::chrono::seconds(2)));
    Drain();
  }

  void Drain() {
    stream_.async_read_some(asio::buffer(drain_, sizeof(drain_)),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec) return self->stream_.close();
                              self->Drain();
                            });
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::string remote_;
  bool keep_alive_ = false;
  unsigned version_ = 0;
  char drain_[4096];
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor->async_accept(asio::make_strand(*ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(std::move(socket), *this)->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  if (impl_) return FailedPrecondition("HttpServer already started");
  if (options_.threads < 1) return InvalidArgument("HttpServer threads must be >= 1");
  if (options_.port < 0 || options_.port > 65535)
    return InvalidArgument("HttpServer port out of range: " + std::to_string(options_.port));
  auto impl = std::make_unique<Impl>(options_, handler_);
  impl->ioc = std::make_unique<asio::io_context>(options_.threads);
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.address, ec);
  if (ec)
    return InvalidArgument("Invalid listen address '" + options_.address + "': " + ec.message());
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  impl->acceptor = std::make_unique<tcp::acceptor>(*impl->ioc);
  auto fail = [&](const char* what) {
    return Unavailable(std::string("Cannot ") + what + " " + options_.address + ":" +
                       std::to_string(options_.port) + ": " + ec.message());
  };
  impl->acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open socket for");
  impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  impl->acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen on");
  impl->port = impl->acceptor->local_endpoint(ec).port();
  impl->address = options_.address;
  impl->Accept();
  for (int i = 0; i < options_.threads; ++i) {
    impl->threads.emplace_back([ioc = impl->ioc.get()] {
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          // A handler threw past every catch (should not happen); keep serving.
          BORA_LOG_ERROR("http server thread: {}", e.what());
        }
      }
    });
  }
  impl_ = std::move(impl);
  return Status::Ok();
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->ioc->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  beast::error_code ec;
  impl_->acceptor->close(ec);
  impl_->acceptor.reset();
  // Destroying the io_context destroys pending handlers and with them every Session (closing its
  // socket).
  impl_->ioc.reset();
  impl_.reset();
}

int HttpServer::port() const { return impl_ ? impl_->port : 0; }

std::string HttpServer::endpoint() const { return options_.address + ":" + std::to_string(port()); }

}  // namespace bora::http
