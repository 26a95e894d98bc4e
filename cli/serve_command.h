#pragma once
// The REST API in the `bora` command: `bora serve` without Kafka and Redis runs everything embedded (the
// runtime, the API on --port, cron and event triggers); RunCluster (cluster_command.h) runs the API in the
// distributed roles (`bora serve|api --kafka --redis`).
#include <memory>
#include <string>
#include <vector>

#include "common/disk/disk_db.h"
#include "ingest/api/api_service.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/runtime/retention.h"

namespace bora::cli {

struct ApiArgs {
  std::string address = "127.0.0.1";
  int port = 8989;             // 0: any free port (see port_file)
  std::string port_file;       // when set, the bound port is written there once the API listens
  std::string auth_token_file; // when set, every request but /health/* needs this bearer token
  int threads = 16;            // HTTP threads (handlers block while a change is applied)
  size_t max_body_bytes = 1 << 20;
  std::string public_url;  // links (`uri`, `next`) start with it; "" = the listener
  std::vector<std::string> allowed_origins;  // browser origins allowed to POST/PUT/PATCH/DELETE
  // Who may call: "none", "token" (auth_token_file) or "keystone"; "" = token when
  // auth_token_file is set, else none.
  std::string auth;
  std::string keystone_url;  // Keystone's auth URL ("http://keystone:5000" or ".../v3")
  std::string keystone_service_user;
  std::string keystone_service_password;       // or from keystone_service_password_file
  std::string keystone_service_password_file;  // its content (trailing newline dropped)
  std::string keystone_service_project;
  std::string keystone_domain = "Default";  // of the service user and its project
  int keystone_cache_seconds = 300;         // how long a valid token is trusted without asking
  int keystone_timeout_ms = 5000;           // each call to Keystone
};

// Mistral's [execution_expiration_policy] as flags (--expiration-*), durations in minutes as there
// (fractions allowed).
struct RetentionArgs {
  double evaluation_interval_min = 0;
  double older_than_min = 0;
  size_t max_finished_executions = 0;
  size_t batch_size = 0;
  std::vector<std::string> ignored_states;  // SUCCESS, ERROR, CANCELLED
};
// kInvalidArgument for a negative duration or an unknown or not completed state.
Result<runtime::RetentionPolicy> ToRetentionPolicy(const RetentionArgs& args);

struct EmbeddedServeArgs {
  ApiArgs api;
  std::vector<std::string> load;  // definition files stored through the catalog before serving
  int partitions = 4;
  int workers = 4;
  bool allow_shell = false;
  bool allow_loopback_http = false;
  runtime::RetentionPolicy retention;
  engine::EngineLimits engine_limits;
  std::string data_dir;  // "" = in memory
  disk::FsyncPolicy fsync = disk::FsyncPolicy::kInterval;
  std::chrono::milliseconds fsync_interval{10};
};

// Fills the HTTP and limit options of `options` from `args` (with --auth keystone, a
// KeystoneAuthenticator: no call to Keystone is made here); kInvalidArgument when the token or
// password file cannot be read or is empty, or the --auth/--keystone-* options do not fit.
Status ApplyApiArgs(const ApiArgs& args, api::ApiServiceOptions* options);

// The cron triggers' Keystone trusts of the --keystone-* options (`bora orchestrator` without the
// API; ApplyApiArgs makes them for --auth keystone); no call to Keystone is made here.
// kInvalidArgument as ApplyApiArgs for the keystone options.
Result<std::shared_ptr<auth::KeystoneTrusts>> KeystoneTrustsFrom(const ApiArgs& args);
// Writes the bound port to args.port_file (write to a temporary file, then rename: readers never see half).
Status WritePortFile(const ApiArgs& args, int port);

// Runs until SIGINT or SIGTERM. Exit code 0 on a clean stop, 2 on bad arguments or definitions, 1
// when the port cannot be bound or the data directory cannot be opened (in use by another process,
// another format).
int RunEmbeddedServe(const EmbeddedServeArgs& args);

}  // namespace bora::cli
