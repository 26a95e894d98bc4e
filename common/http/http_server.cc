#include "common/http/http_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <exception>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/http/access_log.h"
#include "common/http/fault.h"
#include "common/http/request_reader.h"
#include "common/log.h"
#include "common/thread_annotations.h"

namespace bora::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// "https://host:8443/prefix" -> "https://host:8443".
std::string OriginOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
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
  std::string base_url;  // links start with it (HttpRequest::base_url)
  std::optional<internal::RequestGate> gate;

  // Event streams (HttpResponse::stream): each runs on a detached thread of its own. A stream holds
  // a slot (max_streams) until its connection is closed, and counts as running until its thread
  // let go of the session; Stop() sets `stopping`, shuts their sockets down (a blocked write
  // returns) and waits for none to run.
  std::atomic<bool> stopping{false};
  Mutex streams_mu;
  CondVar streams_cv;
  int stream_slots GUARDED_BY(streams_mu) = 0;
  int streams_running GUARDED_BY(streams_mu) = 0;
  std::set<int> stream_fds GUARDED_BY(streams_mu);  // the native sockets of streams holding a slot
  int deferred_running GUARDED_BY(streams_mu) = 0;  // HttpResponse::deferred being computed

  Impl(const HttpServerOptions& o, const HttpHandler& h) : options(o), handler(h) {}

  // Takes a slot for a stream on socket `fd`; false when max_streams are taken or the server stops.
  bool AdmitStream(int fd) {
    MutexLock lock(streams_mu);
    if (stopping.load() || stream_slots >= options.max_streams) return false;
    ++stream_slots;
    ++streams_running;
    stream_fds.insert(fd);
    return true;
  }
  // Before the stream's connection is closed: a client that saw it close can open another.
  void ReleaseStreamSlot(int fd) {
    MutexLock lock(streams_mu);
    --stream_slots;
    stream_fds.erase(fd);
  }
  // Once nothing of the stream (session, socket) is left.
  void StreamDone() {
    MutexLock lock(streams_mu);
    --streams_running;
    streams_cv.NotifyAll();
  }
  bool AdmitDeferred() {
    MutexLock lock(streams_mu);
    if (stopping.load() || deferred_running >= options.max_deferred) return false;
    ++deferred_running;
    return true;
  }
  void DeferredDone() {
    MutexLock lock(streams_mu);
    --deferred_running;
    streams_cv.NotifyAll();
  }
  // Ends every stream and waits for their threads, and for the deferred responses being computed
  // (their owners end what they wait on first).
  void StopStreams() {
    stopping.store(true);
    MutexLock lock(streams_mu);
    for (int fd : stream_fds) ::shutdown(fd, SHUT_RDWR);
    streams_cv.Wait(streams_mu, [this] {
      streams_mu.AssertHeld();
      return streams_running == 0 && deferred_running == 0;
    });
  }

  // The response to `req`; `project` gets the caller's project id when the authenticator named
  // one (for the access line). When authentication would block (a Keystone cache miss), the
  // check and the handler run as a deferred response: on a thread of their own, not on the I/O
  // thread, so other connections are not held up by the identity service's round trip.
  HttpResponse Handle(HttpRequest& req, std::shared_ptr<std::string> project) const {
    req.base_url = base_url;
    bool needs_blocking = false;
    if (auto refused = gate->Check(req, /*may_block=*/false, &needs_blocking)) return *refused;
    if (!needs_blocking) {
      if (req.identity) *project = req.identity->project_id;
      return CallHandler(req);
    }
    HttpResponse r;
    r.deferred = [this, req = std::move(req), project]() mutable {
      bool unused = false;
      if (auto refused = gate->Check(req, /*may_block=*/true, &unused)) return *refused;
      if (req.identity) *project = req.identity->project_id;
      HttpResponse out = CallHandler(req);
      // A handler's own deferred response (a long poll) is computed here, on this thread.
      if (out.deferred) out = std::exchange(out.deferred, nullptr)();
      return out;
    };
    return r;
  }

  HttpResponse CallHandler(const HttpRequest& req) const {
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
    method_.clear();
    target_.clear();
    request_id_.clear();
    project_ = std::make_shared<std::string>();
    started_ = {};
    reader_.Begin();
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_read_header(
        stream_, reader_.buffer(), reader_.parser(),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec, /*in_body=*/false);
    {
      started_ = std::chrono::steady_clock::now();
      const auto& head = reader_.parser().get();
      method_ = std::string(head.method_string());
      target_ = std::string(head.target());
      auto id = head.find(kRequestIdHeader);
      request_id_ =
          RequestIdFor(id == head.end() ? std::string_view()
                                        : std::string_view(id->value().data(), id->value().size()));
    }
    if (auto refused = reader_.OnHeader()) {
      keep_alive_ = false;
      return Send(std::move(*refused));
    }
    auto& req = reader_.parser().get();
    auto expect = req.find(bhttp::field::expect);
    if (expect != req.end() && beast::iequals(expect->value(), "100-continue")) {
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
    bhttp::async_read(stream_, reader_.buffer(), reader_.parser(),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec, /*in_body=*/true);
                        self->OnRequest();
                      });
  }

  void OnReadError(beast::error_code ec, bool in_body) {
    auto outcome = reader_.OnError(ec, in_body);
    switch (outcome.kind) {
      case internal::RequestReader::ErrorOutcome::Kind::kContinue:
        return ReadBody();
      case internal::RequestReader::ErrorOutcome::Kind::kRespond:
        keep_alive_ = false;
        return Send(std::move(outcome.response));
      case internal::RequestReader::ErrorOutcome::Kind::kClose:
        return Close();
    }
  }

  void OnRequest() {
    HttpRequest req;
    HttpResponse fault;
    bool parsed = reader_.TakeRequest(remote_, &req, &fault);
    keep_alive_ = parsed && reader_.keep_alive();
    // Handler may block: it runs here, on this connection's strand, on one of the I/O threads.
    Send(parsed ? server_.Handle(req, project_) : std::move(fault));
  }

  void Send(HttpResponse r) {
    if (r.deferred) return SendDeferred(std::move(r.deferred));
    // A response to what was not read as a request (a malformed or oversized header) gets an id and
    // a start here.
    if (request_id_.empty()) request_id_ = RequestIdFor({});
    if (started_ == std::chrono::steady_clock::time_point()) {
      started_ = std::chrono::steady_clock::now();
    }
    r.headers.emplace_back(kRequestIdHeader, request_id_);
    if (r.stream && r.status == 200) return SendStream(std::move(r));
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(reader_.version() == 10 ? 10 : 11);
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
                         self->LogDone(static_cast<int>(res->result_int()), res->body().size());
                         if (ec || !self->keep_alive_) return self->Close();
                         self->ReadHeader();
                       });
  }

  // An event stream: the status line and headers (no length: the body ends when the connection
  // closes), then the stream's text, written from a thread of its own (StreamLoop) so that a stream
  // waiting for events holds no I/O thread.
  void SendStream(HttpResponse r) {
    const int fd = stream_.socket().native_handle();
    if (!server_.AdmitStream(fd)) {
      keep_alive_ = false;
      return Send(MistralFault(503, "Too many event streams are open (the limit is " +
                                        std::to_string(server_.options.max_streams) + ")"));
    }
    auto head =
        std::make_shared<std::string>("HTTP/1.1 200 OK\r\nServer: " + server_.options.server_name +
                                      "\r\nContent-Type: text/event-stream\r\n"
                                      "Cache-Control: no-cache\r\nConnection: close\r\n"
                                      "X-Accel-Buffering: no\r\n");
    for (const auto& [name, value] : r.headers) *head += name + ": " + value + "\r\n";
    *head += "\r\n";
    stream_.expires_after(server_.options.read_timeout);
    asio::async_write(stream_, asio::buffer(*head),
                      [self = shared_from_this(), head, fd, stream = std::move(r.stream)](
                          beast::error_code ec, size_t) mutable {
                        if (ec) {
                          self->LogDone(200, 0);
                          self->server_.ReleaseStreamSlot(fd);
                          self->stream_.close();
                          self->server_.StreamDone();
                          return;
                        }
                        self->stream_.expires_never();
                        std::thread([self, fd, stream = std::move(stream)]() mutable {
                          self->StreamLoop(*stream, fd);
                          // The session and the stream go first: once none runs, Stop() may
                          // destroy the io_context the session's socket is on.
                          HttpServer::Impl& server = self->server_;
                          stream.reset();
                          self.reset();
                          server.StreamDone();
                        }).detach();
                      });
  }

  // A deferred response: computed on a thread of its own, then sent from this connection's strand
  // (the connection stays open meanwhile, reading nothing).
  void SendDeferred(std::function<HttpResponse()> compute) {
    if (!server_.AdmitDeferred()) {
      return Send(MistralFault(503, "Too many waiting requests (the limit is " +
                                        std::to_string(server_.options.max_deferred) + ")"));
    }
    stream_.expires_never();
    std::thread([self = shared_from_this(), compute = std::move(compute)]() mutable {
      HttpResponse r;
      try {
        r = compute();
      } catch (const std::exception& e) {
        r = MistralFault(500, std::string("Internal error: ") + e.what());
      }
      r.deferred = nullptr;
      HttpServer::Impl& server = self->server_;
      asio::post(self->stream_.get_executor(),
                 [self, r = std::move(r)]() mutable { self->Send(std::move(r)); });
      self.reset();
      server.DeferredDone();
    }).detach();
  }

  // Runs on the stream's own thread; no other operation uses the socket meanwhile.
  void StreamLoop(EventStream& stream, int fd) {
    using Clock = std::chrono::steady_clock;
    const auto keepalive = server_.options.stream_keepalive;
    const auto step =
        std::min<std::chrono::milliseconds>(keepalive, std::chrono::milliseconds(500));
    auto last_write = Clock::now();
    tcp::socket& socket = stream_.socket();
    beast::error_code ec;
    size_t sent = 0;
    while (!server_.stopping.load()) {
      std::optional<std::string> text;
      try {
        text = stream.Next(step);
      } catch (const std::exception& e) {
        BORA_LOG_ERROR("event stream to {}: {}", remote_, e.what());
        break;
      }
      if (!text) break;
      if (text->empty()) {
        if (Clock::now() - last_write < keepalive) continue;
        *text = ":\n\n";  // a comment: keeps proxies from timing out, finds a client gone
      }
      sent += asio::write(socket, asio::buffer(*text), ec);
      if (ec) break;
      last_write = Clock::now();
    }
    LogDone(200, sent);
    server_.ReleaseStreamSlot(fd);
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  // The access line of the request being answered.
  void LogDone(int status, size_t bytes) const {
    LogAccess({method_, target_, status, bytes, std::chrono::steady_clock::now() - started_,
               request_id_, remote_, *project_});
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
  internal::RequestReader reader_{server_.options};
  std::string remote_;
  bool keep_alive_ = false;
  // The request being answered, for its access line (reset when the next one is read).
  std::string method_;
  std::string target_;
  std::string request_id_;  // also sent back as X-Request-Id
  // The caller's project id ("" when unknown), filled by Handle (or the deferred authentication,
  // whose result reaches this strand through a post) before the response is sent.
  std::shared_ptr<std::string> project_ = std::make_shared<std::string>();
  std::chrono::steady_clock::time_point started_;
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
  std::set<std::string> own_origins;
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  if (address.is_unspecified()) {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') host = name;
  }
  std::string listener = "http://" + host + ":" + std::to_string(impl->port);
  impl->base_url = options_.public_url.empty() ? listener : options_.public_url;
  while (!impl->base_url.empty() && impl->base_url.back() == '/') impl->base_url.pop_back();
  own_origins.insert(listener);
  own_origins.insert(OriginOf(impl->base_url));
  if (address.is_loopback() || address.is_unspecified()) {
    for (const char* name : {"localhost", "127.0.0.1", "[::1]"})
      own_origins.insert("http://" + std::string(name) + ":" + std::to_string(impl->port));
  }
  impl->gate.emplace(options_, own_origins);
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
  impl_->StopStreams();
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
