// std.shell: runs a local command from an argv list (no shell is involved unless argv itself is
// ["sh", "-c", ...]) in its own process group, with a clean environment (PATH plus the `env`
// given), an optional working directory and stdin text, a timeout and an output cap; on timeout,
// cancellation or too much output the whole process group is killed. Refused unless the worker
// allows it (StdActionOptions::allow_shell). Each run owns its child and descriptors: thread-safe.
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "workers/std_actions_internal.h"

namespace bora::workers::internal {
namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const Json& Param(const Json& input, std::string_view name) {
  static const Json kNull;
  if (!input.is_object()) return kNull;
  auto it = input.get_object().find(name);
  return it == input.get_object().end() ? kNull : it->value();
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

// Finds `file` on `path` (like execvp, but with the child's PATH).
std::string FindExecutable(const std::string& file, const std::string& path) {
  if (file.find('/') != std::string::npos) return file;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + file;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return "";
}

class ShellAction final : public Action {
 public:
  explicit ShellAction(const StdActionOptions& options)
      : allowed_(options.allow_shell),
        max_output_(options.max_shell_output_bytes),
        default_timeout_(options.default_shell_timeout_seconds) {}

  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    if (!allowed_) {
      return ActionResult::Error(
          "std.shell is disabled: start bora (run, serve or worker) with --allow-shell to run "
          "local commands");
    }
    const Json& in = request.input;
    const Json& argv_v = Param(in, "argv");
    if (!argv_v.is_array() || argv_v.get_array().empty()) {
      return ActionResult::Error("std.shell: 'argv' must be a non-empty list of strings");
    }
    std::vector<std::string> argv;
    for (const Json& a : argv_v.get_array()) {
      if (!a.is_string() && !a.is_number()) {
        return ActionResult::Error("std.shell: 'argv' must be a non-empty list of strings");
      }
      argv.push_back(ToText(a));
      if (argv.back().find('\0') != std::string::npos) {
        return ActionResult::Error("std.shell: 'argv' items must not contain NUL");
      }
    }
    std::map<std::string, std::string> env{{"PATH", kDefaultPath}};
    const Json& env_v = Param(in, "env");
    if (env_v.is_object()) {
      for (const auto& kv : env_v.get_object()) {
        std::string k(kv.key());
        if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
          return ActionResult::Error("std.shell: invalid environment variable name '" + k + "'");
        }
        env[k] = kv.value().is_null() ? "" : ToText(kv.value());
      }
    } else if (!env_v.is_null()) {
      return ActionResult::Error("std.shell: 'env' must be a dict");
    }
    const Json& cwd_v = Param(in, "cwd");
    if (!cwd_v.is_null() && !cwd_v.is_string())
      return ActionResult::Error("std.shell: 'cwd' must be a string");
    std::string cwd = cwd_v.is_string() ? std::string(cwd_v.get_string()) : "";
    const Json& stdin_v = Param(in, "stdin");
    std::string stdin_text = stdin_v.is_null() ? "" : ToText(stdin_v);
    double timeout = EffectiveTimeoutSeconds(Param(in, "timeout"), request, default_timeout_);

    std::string exe = FindExecutable(argv[0], env["PATH"]);
    if (exe.empty()) {
      return ActionResult::Error("std.shell: command not found: '" + argv[0] + "'");
    }

    // Everything the child needs is prepared before fork(): after it only async-signal-safe calls.
    std::vector<char*> c_argv;
    for (std::string& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> c_env;
    for (std::string& e : env_strings) c_env.push_back(e.data());
    c_env.push_back(nullptr);

    int out_pipe[2], err_pipe[2], exec_pipe[2], in_pair[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Errno("pipe");
    Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Errno("pipe");
    Fd err_r(err_pipe[0]), err_w(err_pipe[1]);
    if (::pipe2(exec_pipe, O_CLOEXEC) != 0) return Errno("pipe");
    Fd exec_r(exec_pipe[0]), exec_w(exec_pipe[1]);
    // stdin is a socket pair so that writes can use MSG_NOSIGNAL (no SIGPIPE if the child quits
    // early).
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)
      return Errno("socketpair");
    Fd in_w(in_pair[0]), in_r(in_pair[1]);
    ::shutdown(in_r.fd, SHUT_WR);

    pid_t pid = ::fork();
    if (pid < 0) return Errno("fork");
    if (pid == 0) {
      ::setpgid(0, 0);
      ::dup2(in_r.fd, 0);
      ::dup2(out_w.fd, 1);
      ::dup2(err_w.fd, 2);
      ::close_range(3, ~0U,
                    CLOSE_RANGE_CLOEXEC);  // no other descriptor of the worker leaks into it
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      int err = 0;
      if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
        err = errno;
      } else {
        ::execve(exe.c_str(), c_argv.data(), c_env.data());
        err = errno;
      }
      ssize_t ignored = ::write(exec_w.fd, &err, sizeof(err));
      (void)ignored;
      ::_exit(127);
    }
    ::setpgid(pid, pid);  // also in the parent, so the group exists before we might kill it
    out_w.Close();
    err_w.Close();
    exec_w.Close();
    in_r.Close();

    int child_errno = 0;
    ssize_t n = ::read(exec_r.fd, &child_errno, sizeof(child_errno));
    if (n == sizeof(child_errno)) {
      int status = 0;
      ::waitpid(pid, &status, 0);
      std::string what =
          cwd.empty() ? "cannot run '" + exe + "'" : "cannot run '" + exe + "' in '" + cwd + "'";
      return ActionResult::Error("std.shell: " + what + ": " + std::strerror(child_errno));
    }

    if (stdin_text.empty()) in_w.Close();
    ::fcntl(in_w.fd, F_SETFL, O_NONBLOCK);
    size_t stdin_pos = 0;
    std::string out, err;
    enum class Stop { kNone, kTimeout, kCancel, kTooBig } stop = Stop::kNone;
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000));
    bool exited = false;
    while (true) {
      if (!exited) {
        siginfo_t si{};
        if (::waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
          exited = true;
      }
      if (out_r.fd < 0 && err_r.fd < 0) {
        if (exited) break;
      } else if (exited) {
        // The command is done but something it started still holds the pipes: end the group.
        ::kill(-pid, SIGKILL);
      }
      if (cancel.cancelled.load()) {
        stop = Stop::kCancel;
        break;
      }
      if (timeout > 0 && std::chrono::steady_clock::now() >= deadline) {
        stop = Stop::kTimeout;
        break;
      }
      pollfd fds[3];
      int nfds = 0;
      if (out_r.fd >= 0) fds[nfds++] = {out_r.fd, POLLIN, 0};
      if (err_r.fd >= 0) fds[nfds++] = {err_r.fd, POLLIN, 0};
      if (in_w.fd >= 0) fds[nfds++] = {in_w.fd, POLLOUT, 0};
      ::poll(fds, nfds, 20);
      char buf[8192];
      for (int i = 0; i < nfds; ++i) {
        if (fds[i].revents == 0) continue;
        if (fds[i].fd == in_w.fd) {
          ssize_t w = ::send(in_w.fd, stdin_text.data() + stdin_pos, stdin_text.size() - stdin_pos,
                             MSG_NOSIGNAL);
          if (w > 0) stdin_pos += static_cast<size_t>(w);
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_pos >= stdin_text.size())
            in_w.Close();
          continue;
        }
        Fd& src = fds[i].fd == out_r.fd ? out_r : err_r;
        std::string& dst = fds[i].fd == out_r.fd ? out : err;
        ssize_t r = ::read(src.fd, buf, sizeof(buf));
        if (r > 0) {
          dst.append(buf, static_cast<size_t>(r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          src.Close();
        }
      }
      if (static_cast<int64_t>(out.size() + err.size()) > max_output_) {
        stop = Stop::kTooBig;
        break;
      }
    }
    if (stop != Stop::kNone) ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    switch (stop) {
      case Stop::kCancel:
        return ActionResult::Cancelled();
      case Stop::kTimeout:
        return ActionResult::Error("std.shell: the command timed out after " +
                                   PythonFloatRepr(timeout) + " s and was killed");
      case Stop::kTooBig:
        return ActionResult::Error("std.shell: the command wrote more than " +
                                   std::to_string(max_output_) + " bytes of output and was killed");
      case Stop::kNone:
        break;
    }
    int exit_code = WIFEXITED(status)     ? WEXITSTATUS(status)
                    : WIFSIGNALED(status) ? -WTERMSIG(status)
                                          : -1;
    JsonObject result;
    result["stdout"] = ToUtf8(out, false);
    result["stderr"] = ToUtf8(err, false);
    result["exit_code"] = exit_code;
    if (exit_code != 0) return ActionResult::Error(std::move(result));
    return ActionResult::Success(std::move(result));
  }

 private:
  static ActionResult Errno(const char* what) {
    return ActionResult::Error(std::string("std.shell: ") + what +
                               " failed: " + std::strerror(errno));
  }

  bool allowed_;
  int64_t max_output_;
  double default_timeout_;
};

}  // namespace

std::shared_ptr<Action> MakeShellAction(const StdActionOptions& options) {
  return std::make_shared<ShellAction>(options);
}

}  // namespace bora::workers::internal
