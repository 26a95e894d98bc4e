#pragma once
// Test-only servers on 127.0.0.1 and a kernel-chosen free port: a tiny HTTP/1.1 server (one
// connection at a time, "Connection: close") and a scripted SMTP server that records what it
// received. Each owns one thread, started by the constructor and joined by the destructor.
// Accessors are thread-safe.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace bora::workers::testing {

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
int UnusedLoopbackPort();

class TestHttpServer {
 public:
  struct Request {
    std::string method;
    std::string target;  // path?query as sent
    std::string path;
    std::string query;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };
  struct Response {
    int status = 200;
    std::string reason = "OK";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  using Handler = std::function<Response(const Request&)>;

  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string Url(const std::string& path_and_query) const;
  std::vector<Request> requests() const;

 private:
  void Serve();
  void HandleConnection(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

class FakeSmtpServer {
 public:
  FakeSmtpServer();
  ~FakeSmtpServer();
  FakeSmtpServer(const FakeSmtpServer&) = delete;
  FakeSmtpServer& operator=(const FakeSmtpServer&) = delete;

  int port() const { return port_; }
  // Blocks until one message has been received (or `timeout_ms` passes); returns whether it was.
  bool WaitForMessage(int timeout_ms);
  std::string mail_from() const;
  std::vector<std::string> rcpt_to() const;
  std::string data() const;  // the message as received, without the final "."
  std::vector<std::string> commands() const;

 private:
  void Serve();

  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool got_message_ = false;
  std::string mail_from_;
  std::vector<std::string> rcpt_to_;
  std::string data_;
  std::vector<std::string> commands_;
  std::thread thread_;
};

// Decodes standard base64 (whitespace ignored).
std::string Base64Decode(const std::string& text);

}  // namespace bora::workers::testing
