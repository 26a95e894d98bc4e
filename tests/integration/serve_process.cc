#include "tests/integration/serve_process.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "common/http/test_client.h"

namespace bora::testing {

namespace {
const char* Binary() {
  const char* binary = std::getenv("BORA_BINARY");
  return binary != nullptr && *binary != 0 ? binary : BORA_BINARY;
}
}  // namespace

Result<std::unique_ptr<ServeProcess>> ServeProcess::Start(const std::vector<std::string>& args,
                                                          const std::vector<std::string>& wrapper) {
  int fds[2];
  if (pipe(fds) != 0) return Internal("pipe failed");
  std::vector<std::string> argv_s = wrapper;
  for (const char* a : {Binary(), "serve", "--port", "0", "--log-level", "info"})
    argv_s.push_back(a);
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::unique_ptr<ServeProcess> p(new ServeProcess());
  p->pid_ = pid;
  p->stderr_fd_ = fds[0];
  // Read the log until the line that names the REST API's port (or the end: it exited).
  std::string text;
  char buf[4096];
  const std::string marker = "REST API on http://";
  while (true) {
    ssize_t n = read(p->stderr_fd_, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    auto at = text.find("bora serve (embedded");
    if (at == std::string::npos) continue;
    auto line_end = text.find('\n', at);
    if (line_end == std::string::npos) continue;
    auto url = text.find(marker, at);
    if (url == std::string::npos || url > line_end) continue;
    auto colon = text.find(':', url + marker.size());
    p->port_ = std::atoi(text.c_str() + colon + 1);
    break;
  }
  {
    std::lock_guard lock(p->mu_);
    p->output_ = text;
  }
  if (p->port_ == 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    p->pid_ = -1;
    return FailedPrecondition("bora serve exited (status " + std::to_string(WEXITSTATUS(status)) +
                              ") before serving:\n" + text);
  }
  p->drainer_ = std::thread([raw = p.get()] { raw->Drain(); });
  return p;
}

void ServeProcess::Drain() {
  char buf[4096];
  while (true) {
    ssize_t n = read(stderr_fd_, buf, sizeof(buf));
    if (n <= 0) return;
    std::lock_guard lock(mu_);
    output_.append(buf, static_cast<size_t>(n));
  }
}

std::string ServeProcess::Output() {
  std::lock_guard lock(mu_);
  return output_;
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) Kill9();
  if (drainer_.joinable()) drainer_.join();
  if (stderr_fd_ >= 0) close(stderr_fd_);
}

void ServeProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int ServeProcess::Stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<std::pair<int, std::string>> ServeProcess::Raw(const std::string& method,
                                                      const std::string& target,
                                                      const std::string& body,
                                                      const std::string& content_type) {
  std::map<std::string, std::string> headers;
  if (!body.empty()) headers["Content-Type"] = content_type;
  BORA_ASSIGN_OR_RETURN(auto r, http::HttpCall("127.0.0.1", port_, method, target, body, headers));
  return std::make_pair(r.status, r.body);
}

Result<Json> ServeProcess::Call(const std::string& method, const std::string& target,
                                const std::string& body, const std::string& content_type) {
  BORA_ASSIGN_OR_RETURN(auto r, Raw(method, target, body, content_type));
  if (r.first < 200 || r.first > 299) {
    return Internal(method + " " + target + ": HTTP " + std::to_string(r.first) + ": " +
                    r.second.substr(0, 500));
  }
  if (r.second.empty()) return Json();
  return ParseJson(r.second);
}

Result<double> ServeProcess::Metric(const std::string& name) {
  BORA_ASSIGN_OR_RETURN(auto r, Raw("GET", "/metrics"));
  std::istringstream in(r.second);
  std::string line;
  double sum = 0;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : 0;
    if (next != ' ' && next != '{') continue;
    sum += std::atof(line.c_str() + line.rfind(' ') + 1);
  }
  return sum;
}

std::pair<int, std::string> RunBora(const std::vector<std::string>& args) {
  std::string cmd = std::string(Binary());
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "bora-node-XXXXXX").string();
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace bora::testing
