// std.ssh on libssh: runs `cmd` on one host or on each host of a list (list ⇒ list result), with
// password, private key text or a key file under ~/.ssh (like Mistral's ssh_utils). Host keys are
// not verified (Mistral uses paramiko's AutoAddPolicy). One libssh session per host and run:
// thread-safe.
#include <libssh/libssh.h>

#include <cstdlib>
#include <memory>
#include <mutex>

#include "workers/std_actions_internal.h"

namespace bora::workers::internal {
namespace {

const Json& Param(const Json& input, std::string_view name) {
  static const Json kNull;
  if (!input.is_object()) return kNull;
  auto it = input.get_object().find(name);
  return it == input.get_object().end() ? kNull : it->value();
}

struct SessionDeleter {
  void operator()(ssh_session s) const {
    if (ssh_is_connected(s)) ssh_disconnect(s);
    ssh_free(s);
  }
};
struct ChannelDeleter {
  void operator()(ssh_channel c) const {
    ssh_channel_close(c);
    ssh_channel_free(c);
  }
};
struct KeyDeleter {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};

struct CommandOutput {
  int exit_code = -1;
  std::string stdout_text;
  std::string stderr_text;
};

class SshAction final : public Action {
 public:
  explicit SshAction(const StdActionOptions& options)
      : connect_timeout_(options.ssh_connect_timeout_seconds),
        max_output_(options.max_shell_output_bytes) {
    static std::once_flag once;
    std::call_once(once, [] { ssh_init(); });
  }

  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    const Json& in = request.input;
    const Json& cmd_v = Param(in, "cmd");
    const Json& host_v = Param(in, "host");
    const Json& user_v = Param(in, "username");
    if (!cmd_v.is_string()) return ActionResult::Error("std.ssh: 'cmd' must be a string");
    if (!user_v.is_string()) return ActionResult::Error("std.ssh: 'username' must be a string");
    std::vector<std::string> hosts;
    if (host_v.is_string()) {
      hosts.emplace_back(host_v.get_string());
    } else if (host_v.is_array()) {
      for (const Json& h : host_v.get_array()) {
        if (!h.is_string())
          return ActionResult::Error("std.ssh: 'host' must be a string or a list of strings");
        hosts.emplace_back(h.get_string());
      }
    } else {
      return ActionResult::Error("std.ssh: 'host' must be a string or a list of strings");
    }
    std::string cmd(cmd_v.get_string());
    bool return_on_error = IsTruthy(Param(in, "return_result_on_error"));
    JsonArray results;
    for (const std::string& host : hosts) {
      if (cancel.cancelled.load()) return ActionResult::Cancelled();
      Result<CommandOutput> out =
          RunOnHost(request, host, cmd, std::string(user_v.get_string()), cancel);
      if (cancel.cancelled.load()) return ActionResult::Cancelled();
      std::string prefix = "Failed to execute ssh cmd '" + cmd + "' on " + ToText(host_v);
      if (!out.ok()) return ActionResult::Error(prefix + ": " + out.status().message());
      if (out->exit_code != 0) {
        if (return_on_error) {
          JsonObject err;
          err["host"] = host;
          err["exit_code"] = out->exit_code;
          err["stdout"] = ToUtf8(out->stdout_text, false);
          err["stderr"] = ToUtf8(out->stderr_text, false);
          return ActionResult::Error(std::move(err));
        }
        return ActionResult::Error(prefix + ": exit status " + std::to_string(out->exit_code) +
                                   " on " + host);
      }
      results.emplace_back(ToUtf8(out->stdout_text, false));
    }
    if (host_v.is_array()) return ActionResult::Success(std::move(results));
    return ActionResult::Success(std::move(results.at(0)));
  }

 private:
  Result<CommandOutput> RunOnHost(const ActionRequest& request, const std::string& host_port,
                                  const std::string& cmd, const std::string& user,
                                  const CancelToken& cancel) const {
    // "host", "host:port", "[v6]" or "[v6]:port".
    std::string host = host_port;
    unsigned int port = 22;
    if (!host.empty() && host.front() == '[') {
      size_t close = host.find(']');
      if (close == std::string::npos) return InvalidArgument("invalid host '" + host_port + "'");
      std::string rest = host.substr(close + 1);
      host = host.substr(1, close - 1);
      if (rest.size() > 1 && rest[0] == ':')
        port = static_cast<unsigned>(std::atoi(rest.c_str() + 1));
    } else if (size_t colon = host.find(':');
               colon != std::string::npos && host.find(':', colon + 1) == std::string::npos) {
      port = static_cast<unsigned>(std::atoi(host.c_str() + colon + 1));
      host = host.substr(0, colon);
    }
    if (host.empty() || port == 0 || port > 65535) {
      return InvalidArgument("invalid host '" + host_port + "'");
    }

    std::unique_ptr<ssh_session_struct, SessionDeleter> session(ssh_new());
    if (!session) return Internal("cannot create an SSH session");
    ssh_session s = session.get();
    long timeout = static_cast<long>(std::max(1.0, connect_timeout_));
    int process_config = 0;
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &process_config);
    ssh_options_set(s, SSH_OPTIONS_HOST, host.c_str());
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
    ssh_options_set(s, SSH_OPTIONS_USER, user.c_str());
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    if (ssh_connect(s) != SSH_OK) return Unavailable(ssh_get_error(s));

    const Json& in = request.input;
    const Json& password_v = Param(in, "password");
    const Json& key_v = Param(in, "private_key");
    const Json& key_file_v = Param(in, "private_key_filename");
    std::string password = password_v.is_string() ? std::string(password_v.get_string()) : "";
    int rc = SSH_AUTH_DENIED;
    if (IsTruthy(key_v) || IsTruthy(key_file_v)) {
      ssh_key raw_key = nullptr;
      const char* passphrase = password.empty() ? nullptr : password.c_str();
      if (IsTruthy(key_v)) {
        std::string key_text = ToText(key_v);
        if (ssh_pki_import_privkey_base64(key_text.c_str(), passphrase, nullptr, nullptr,
                                          &raw_key) != SSH_OK) {
          return InvalidArgument("cannot read the private key");
        }
      } else {
        std::string name = ToText(key_file_v);
        if (name.find("..") != std::string::npos) {
          return InvalidArgument("private_key_filename must not contain '..'");
        }
        const char* home = std::getenv("HOME");
        std::string path = std::string(home ? home : "") + "/.ssh/" + name;
        if (ssh_pki_import_privkey_file(path.c_str(), passphrase, nullptr, nullptr, &raw_key) !=
            SSH_OK) {
          return InvalidArgument("cannot read the private key file ~/.ssh/" + name);
        }
      }
      std::unique_ptr<ssh_key_struct, KeyDeleter> key(raw_key);
      rc = ssh_userauth_publickey(s, nullptr, key.get());
    } else {
      rc = ssh_userauth_password(s, nullptr, password.c_str());
    }
    if (rc != SSH_AUTH_SUCCESS) {
      return PermissionDenied(std::string("authentication failed: ") + ssh_get_error(s));
    }

    std::unique_ptr<ssh_channel_struct, ChannelDeleter> channel(ssh_channel_new(s));
    if (!channel) return Internal(ssh_get_error(s));
    if (ssh_channel_open_session(channel.get()) != SSH_OK) return Unavailable(ssh_get_error(s));
    if (ssh_channel_request_exec(channel.get(), cmd.c_str()) != SSH_OK)
      return Unavailable(ssh_get_error(s));

    CommandOutput out;
    double limit = EffectiveTimeoutSeconds(nullptr, request, 0);
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(static_cast<int64_t>(limit * 1000));
    char buf[4096];
    while (true) {
      if (cancel.cancelled.load()) return Aborted("cancelled");
      if (limit > 0 && std::chrono::steady_clock::now() > deadline) {
        return DeadlineExceeded("timed out after " + PythonFloatRepr(limit) + " s");
      }
      bool eof = ssh_channel_is_eof(channel.get()) != 0;
      int got_any = 0;
      for (int is_stderr = 0; is_stderr < 2; ++is_stderr) {
        int n = ssh_channel_read_timeout(channel.get(), buf, sizeof(buf), is_stderr, 100);
        if (n == SSH_ERROR) return Unavailable(ssh_get_error(s));
        if (n > 0) {
          got_any += n;
          std::string& dst = is_stderr ? out.stderr_text : out.stdout_text;
          dst.append(buf, n);
          if (static_cast<int64_t>(out.stdout_text.size() + out.stderr_text.size()) > max_output_) {
            return ResourceExhausted("the output is larger than " + std::to_string(max_output_) +
                                     " bytes");
          }
        }
      }
      if (eof && got_any == 0) break;
    }
    ssh_channel_send_eof(channel.get());
    out.exit_code = ssh_channel_get_exit_status(channel.get());
    return out;
  }

  double connect_timeout_;
  int64_t max_output_;
};

}  // namespace

std::shared_ptr<Action> MakeSshAction(const StdActionOptions& options) {
  return std::make_shared<SshAction>(options);
}

}  // namespace bora::workers::internal
