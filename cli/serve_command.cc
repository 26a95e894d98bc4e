#include "cli/serve_command.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "common/auth/keystone_authenticator.h"
#include "common/auth/keystone_http_client.h"
#include "common/auth/keystone_trusts.h"
#include "common/log.h"
#include "orchestrator/runtime/embedded_runtime.h"

namespace bora::cli {

namespace {

// A file's content without trailing newlines and spaces; kInvalidArgument when it cannot be read
// or is empty.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + flag + " " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' ')) {
    value.pop_back();
  }
  if (value.empty()) return InvalidArgument(flag + " " + path + " is empty");
  return value;
}

Result<auth::KeystoneOptions> KeystoneOptionsFrom(const ApiArgs& args) {
  if (args.keystone_url.rfind("http://", 0) != 0 && args.keystone_url.rfind("https://", 0) != 0) {
    return InvalidArgument(
        "--auth keystone needs --keystone-url http(s)://... (Keystone's auth URL)");
  }
  if (args.keystone_service_user.empty() || args.keystone_service_project.empty()) {
    return InvalidArgument(
        "--auth keystone needs --keystone-service-user and --keystone-service-project");
  }
  if (args.keystone_cache_seconds < 0 || args.keystone_timeout_ms <= 0) {
    return InvalidArgument("--keystone-cache-seconds must be >= 0 and --keystone-timeout-ms > 0");
  }
  auth::KeystoneOptions o;
  o.auth_url = args.keystone_url;
  o.service.user = args.keystone_service_user;
  o.service.project = args.keystone_service_project;
  o.service.user_domain = args.keystone_domain;
  o.service.project_domain = args.keystone_domain;
  o.service.password = args.keystone_service_password;
  if (!args.keystone_service_password_file.empty()) {
    if (!o.service.password.empty()) {
      return InvalidArgument(
          "give --keystone-service-password or --keystone-service-password-file, not both");
    }
    Result<std::string> password =
        ReadSecretFile(args.keystone_service_password_file, "--keystone-service-password-file");
    if (!password.ok()) return password.status();
    o.service.password = *password;
  }
  if (o.service.password.empty()) {
    return InvalidArgument(
        "--auth keystone needs the service user's password: --keystone-service-password-file, "
        "or BORA_KEYSTONE_SERVICE_PASSWORD");
  }
  o.token_cache_time = std::chrono::seconds(args.keystone_cache_seconds);
  return o;
}

}  // namespace

Result<std::shared_ptr<auth::KeystoneTrusts>> KeystoneTrustsFrom(const ApiArgs& args) {
  Result<auth::KeystoneOptions> keystone = KeystoneOptionsFrom(args);
  if (!keystone.ok()) return keystone.status();
  auto client = std::make_shared<auth::KeystoneHttpClient>(
      keystone->auth_url, std::chrono::milliseconds(args.keystone_timeout_ms));
  return std::make_shared<auth::KeystoneTrusts>(keystone->service, std::move(client),
                                                SystemClock::Get());
}

Status ApplyApiArgs(const ApiArgs& args, api::ApiServiceOptions* options) {
  options->http.address = args.address;
  options->http.port = args.port;
  options->http.threads = std::max(1, args.threads);
  options->http.max_body_bytes = args.max_body_bytes;
  options->limits.max_body_bytes = args.max_body_bytes;
  options->limits.max_definition_bytes = args.max_body_bytes;
  if (!args.public_url.empty() && args.public_url.rfind("http://", 0) != 0 &&
      args.public_url.rfind("https://", 0) != 0) {
    return InvalidArgument("--public-url must start with http:// or https://: " + args.public_url);
  }
  options->http.public_url = args.public_url;
  options->http.allowed_origins = args.allowed_origins;
  std::string mode =
      args.auth.empty() ? (args.auth_token_file.empty() ? "none" : "token") : args.auth;
  if (mode != "none" && mode != "token" && mode != "keystone") {
    return InvalidArgument("--auth takes none, token or keystone, not '" + args.auth + "'");
  }
  if (mode == "token" && args.auth_token_file.empty()) {
    return InvalidArgument("--auth token needs --auth-token-file");
  }
  if (mode != "token" && !args.auth_token_file.empty()) {
    return InvalidArgument("--auth-token-file is only used with --auth token (it is --auth " +
                           mode + ")");
  }
  if (mode == "token") {
    Result<std::string> token = ReadSecretFile(args.auth_token_file, "--auth-token-file");
    if (!token.ok()) return token.status();
    options->http.auth_token = *token;
  }
  if (mode == "keystone") {
    Result<auth::KeystoneOptions> keystone = KeystoneOptionsFrom(args);
    if (!keystone.ok()) return keystone.status();
    auto client = std::make_shared<auth::KeystoneHttpClient>(
        keystone->auth_url, std::chrono::milliseconds(args.keystone_timeout_ms));
    // Cron triggers' trusts: the same service user is the trustee (Mistral's).
    options->trusts =
        std::make_shared<auth::KeystoneTrusts>(keystone->service, client, SystemClock::Get());
    options->http.authenticator = std::make_shared<auth::KeystoneAuthenticator>(
        *std::move(keystone), std::move(client), SystemClock::Get());
  }
  return Status::Ok();
}

Status WritePortFile(const ApiArgs& args, int port) {
  if (args.port_file.empty()) return Status::Ok();
  std::string tmp = args.port_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return InvalidArgument("cannot write --port-file " + args.port_file);
    out << port << "\n";
  }
  if (std::rename(tmp.c_str(), args.port_file.c_str()) != 0) {
    return InvalidArgument("cannot write --port-file " + args.port_file);
  }
  return Status::Ok();
}

Result<runtime::RetentionPolicy> ToRetentionPolicy(const RetentionArgs& args) {
  constexpr double kMaxMinutes = 100.0 * 366 * 24 * 60;  // a century
  for (double m : {args.evaluation_interval_min, args.older_than_min}) {
    if (!(m >= 0 && m <= kMaxMinutes)) {  // also NaN
      return InvalidArgument(
          "--expiration-evaluation-interval and --expiration-older-than take minutes from 0 to " +
          std::to_string(static_cast<int64_t>(kMaxMinutes)));
    }
  }
  // Whole seconds, at least one for a positive value (0 would mean "off" / "no age limit").
  auto seconds = [](double minutes) {
    auto s = std::chrono::seconds(static_cast<int64_t>(minutes * 60 + 0.5));
    return minutes > 0 && s.count() == 0 ? std::chrono::seconds(1) : s;
  };
  runtime::RetentionPolicy p;
  p.evaluation_interval = seconds(args.evaluation_interval_min);
  p.older_than = seconds(args.older_than_min);
  p.max_finished_executions = args.max_finished_executions;
  p.batch_size = args.batch_size;
  for (const auto& name : args.ignored_states) {
    auto st = engine::StateFromName(name);
    if (!st) return InvalidArgument("--expiration-ignored-state: unknown state '" + name + "'");
    p.ignored_states.insert(*st);
  }
  BORA_RETURN_IF_ERROR(p.Validate());
  return p;
}

int RunEmbeddedServe(const EmbeddedServeArgs& args) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  runtime::EmbeddedOptions eo;
  eo.partitions = std::max(1, args.partitions);
  eo.worker_threads = std::max(1, args.workers);
  eo.std_actions.allow_shell = args.allow_shell;
  eo.std_actions.allow_loopback_http = args.allow_loopback_http;
  eo.retention = args.retention;
  eo.engine_limits = args.engine_limits;
  eo.data_dir = args.data_dir;
  eo.fsync = args.fsync;
  eo.fsync_interval = args.fsync_interval;
  auto opened = runtime::EmbeddedRuntime::Open(eo);
  if (!opened.ok()) {
    std::cerr << "bora: " << opened.status().message() << "\n";
    return 1;
  }
  runtime::EmbeddedRuntime& runtime = **opened;
  if (args.data_dir.empty()) {
    BORA_LOG_WARN("--in-memory: nothing is kept when this process stops");
  } else {
    std::error_code ec;
    auto where = std::filesystem::absolute(args.data_dir, ec);
    BORA_LOG_INFO("data directory {} (fsync {}{})", ec ? args.data_dir : where.string(),
                  disk::FsyncPolicyName(args.fsync),
                  args.fsync == disk::FsyncPolicy::kInterval
                      ? " every " + std::to_string(args.fsync_interval.count()) + " ms"
                      : "");
  }

  api::ApiServiceOptions options;
  if (Status s = ApplyApiArgs(args.api, &options); !s.ok()) {
    std::cerr << "bora: " << s.message() << "\n";
    return 2;
  }
  auto service = api::ApiService::ForEmbedded(&runtime, options);
  if (!service.ok()) {
    std::cerr << "bora: " << service.status().ToString() << "\n";
    return 2;
  }
  for (const auto& file : args.load) {
    if (Status s = (*service)->LoadFile(file); !s.ok()) {
      std::cerr << "bora: " << s.message() << "\n";
      return 2;
    }
  }
  if (Status s = runtime.Start(); !s.ok()) {
    std::cerr << "bora: " << s.ToString() << "\n";
    return 1;
  }
  if (Status s = (*service)->Start(); !s.ok()) {
    std::cerr << "bora: " << s.ToString() << "\n";
    return 1;
  }
  if (Status s = WritePortFile(args.api, (*service)->port()); !s.ok()) {
    std::cerr << "bora: " << s.message() << "\n";
    return 2;
  }
  BORA_LOG_INFO("bora serve (embedded{}): REST API on http://{}:{}/v2",
                args.data_dir.empty() ? ", in memory" : ", on disk", args.api.address,
                (*service)->port());
  int sig = 0;
  sigwait(&stop_signals, &sig);
  BORA_LOG_INFO("signal {}: stopping", sig);
  (*service)->Stop();
  runtime.Stop();
  return 0;
}

}  // namespace bora::cli
