#include "workers/testing/fake_servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace bora::workers::testing {
namespace {

int ListenLoopback(int* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *port = ntohs(addr.sin_port);
  return fd;
}

// Waits for the listening socket or the stop pipe; returns an accepted fd, or -1 when asked to
// stop.
int AcceptOrStop(int listen_fd, int stop_fd) {
  while (true) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents) return -1;
    if (fds[0].revents) {
      int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) return fd;
    }
  }
}

// Reads one CRLF-terminated line (without CRLF) from `fd` using `buf` as carry-over; false on EOF.
bool ReadLine(int fd, std::string& buf, std::string* line) {
  while (true) {
    size_t pos = buf.find("\r\n");
    if (pos != std::string::npos) {
      *line = buf.substr(0, pos);
      buf.erase(0, pos + 2);
      return true;
    }
    char tmp[4096];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

void SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

int UnusedLoopbackPort() {
  int port = 0;
  int fd = ListenLoopback(&port);
  ::close(fd);
  return port;
}

TestHttpServer::TestHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ListenLoopback(&port_);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  thread_ = std::thread([this] { Serve(); });
}

TestHttpServer::~TestHttpServer() {
  char c = 'x';
  ssize_t ignored = ::write(stop_pipe_[1], &c, 1);
  (void)ignored;
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

std::string TestHttpServer::Url(const std::string& path_and_query) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path_and_query;
}

std::vector<TestHttpServer::Request> TestHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void TestHttpServer::Serve() {
  while (true) {
    int fd = AcceptOrStop(listen_fd_, stop_pipe_[0]);
    if (fd < 0) return;
    HandleConnection(fd);
    ::close(fd);
  }
}

void TestHttpServer::HandleConnection(int fd) {
  std::string buf;
  std::string line;
  Request req;
  if (!ReadLine(fd, buf, &line)) return;
  size_t sp1 = line.find(' ');
  size_t sp2 = line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) return;
  req.method = line.substr(0, sp1);
  req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  req.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  while (ReadLine(fd, buf, &line) && !line.empty()) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    req.headers[Lower(line.substr(0, colon))] = value;
  }
  size_t content_length = 0;
  if (auto it = req.headers.find("content-length"); it != req.headers.end()) {
    content_length = std::stoul(it->second);
  }
  while (buf.size() < content_length) {
    char tmp[4096];
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
  }
  req.body = buf.substr(0, content_length);
  {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(req);
  }
  Response resp = handler_(req);
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + resp.reason + "\r\n";
  for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(resp.body.size()) + "\r\nConnection: close\r\n\r\n";
  if (req.method != "HEAD") out += resp.body;
  SendAll(fd, out);
}

FakeSmtpServer::FakeSmtpServer() {
  listen_fd_ = ListenLoopback(&port_);
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  thread_ = std::thread([this] { Serve(); });
}

FakeSmtpServer::~FakeSmtpServer() {
  char c = 'x';
  ssize_t ignored = ::write(stop_pipe_[1], &c, 1);
  (void)ignored;
  thread_.join();
  ::close(listen_fd_);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

bool FakeSmtpServer::WaitForMessage(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return got_message_; });
}

std::string FakeSmtpServer::mail_from() const {
  std::lock_guard<std::mutex> lock(mu_);
  return mail_from_;
}
std::vector<std::string> FakeSmtpServer::rcpt_to() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rcpt_to_;
}
std::string FakeSmtpServer::data() const {
  std::lock_guard<std::mutex> lock(mu_);
  return data_;
}
std::vector<std::string> FakeSmtpServer::commands() const {
  std::lock_guard<std::mutex> lock(mu_);
  return commands_;
}

void FakeSmtpServer::Serve() {
  while (true) {
    int fd = AcceptOrStop(listen_fd_, stop_pipe_[0]);
    if (fd < 0) return;
    std::string buf;
    std::string line;
    SendAll(fd, "220 fake.smtp ESMTP ready\r\n");
    while (ReadLine(fd, buf, &line)) {
      std::string upper = line;
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      {
        std::lock_guard<std::mutex> lock(mu_);
        commands_.push_back(line);
      }
      auto arg = [&line] {
        size_t lt = line.find('<'), gt = line.find('>');
        return lt == std::string::npos || gt == std::string::npos
                   ? std::string()
                   : line.substr(lt + 1, gt - lt - 1);
      };
      if (upper.rfind("EHLO", 0) == 0) {
        SendAll(fd, "250-fake.smtp\r\n250 8BITMIME\r\n");
      } else if (upper.rfind("HELO", 0) == 0) {
        SendAll(fd, "250 fake.smtp\r\n");
      } else if (upper.rfind("MAIL FROM:", 0) == 0) {
        std::lock_guard<std::mutex> lock(mu_);
        mail_from_ = arg();
        SendAll(fd, "250 OK\r\n");
      } else if (upper.rfind("RCPT TO:", 0) == 0) {
        std::lock_guard<std::mutex> lock(mu_);
        rcpt_to_.push_back(arg());
        SendAll(fd, "250 OK\r\n");
      } else if (upper == "DATA") {
        SendAll(fd, "354 End data with <CR><LF>.<CR><LF>\r\n");
        std::string data;
        while (ReadLine(fd, buf, &line) && line != ".") {
          if (line.rfind("..", 0) == 0) line.erase(0, 1);  // dot-unstuffing
          data += line + "\r\n";
        }
        {
          std::lock_guard<std::mutex> lock(mu_);
          data_ = data;
          got_message_ = true;
        }
        cv_.notify_all();
        SendAll(fd, "250 OK queued\r\n");
      } else if (upper == "QUIT") {
        SendAll(fd, "221 Bye\r\n");
        break;
      } else {
        SendAll(fd, "502 Command not implemented\r\n");
      }
    }
    ::close(fd);
  }
}

std::string Base64Decode(const std::string& text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0;
  uint32_t acc = 0;
  for (char c : text) {
    int v = val(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace bora::workers::testing
