#pragma once
// A `bora serve` process of a test's own (the real binary, real signals): started on a data
// directory with --port 0, its port read from its log (no port file polling), its stderr kept for
// diagnostics; plus a few REST calls on it.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::testing {

class ServeProcess {
 public:
  // Starts `bora serve <args>` (add --data-dir or --in-memory) and waits until its REST API
  // listens. When the process exits first (a refused directory...), the error carries its output.
  // `wrapper`: a command that runs bora with its arguments (e.g. `unshare ... sh -c '... exec "$0"
  // "$@"'`); it must exec bora in the same process.
  static Result<std::unique_ptr<ServeProcess>> Start(const std::vector<std::string>& args,
                                                     const std::vector<std::string>& wrapper = {});
  ~ServeProcess();  // SIGKILL if still running

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // SIGKILL, reaped.
  void Kill9();
  // SIGTERM and wait; the exit code (or 128 + signal).
  int Stop();
  // Everything the process wrote to stderr so far.
  std::string Output();

  // A REST call; the body parsed as JSON (null when empty). kUnavailable on a transport error,
  // kInternal naming the status for a non-2xx answer.
  Result<Json> Call(const std::string& method, const std::string& target,
                    const std::string& body = "",
                    const std::string& content_type = "application/json");
  // The HTTP status and body of a call, whatever the status.
  Result<std::pair<int, std::string>> Raw(const std::string& method, const std::string& target,
                                          const std::string& body = "",
                                          const std::string& content_type = "application/json");
  // A Prometheus counter's value (summed over its labels); 0 when absent.
  Result<double> Metric(const std::string& name);

 private:
  ServeProcess() = default;
  void Drain();

  pid_t pid_ = -1;
  int port_ = 0;
  int stderr_fd_ = -1;
  std::thread drainer_;
  std::mutex mu_;
  std::string output_;  // guarded by mu_
};

// Runs the `bora` binary with `args` to completion; its exit code and combined output.
std::pair<int, std::string> RunBora(const std::vector<std::string>& args);

// A temporary directory removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace bora::testing
