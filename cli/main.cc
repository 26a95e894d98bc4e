// The `bora` command. Thin: parses the command line and calls the subcommand implementations in cli/.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/client_command.h"
#include "cli/cluster_command.h"
#include "cli/help_export.h"
#include "cli/option_sources.h"
#include "cli/run_command.h"
#include "cli/serve_command.h"
#include "cli/validate_command.h"
#include "cli/version.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics/metrics.h"

int main(int argc, char** argv) {
  CLI::App app{"bora: an event-driven workflow orchestrator for Mistral workflows", "bora"};
  app.require_subcommand(1);
  // Every option's default shows in --help and in `bora config show` (set before any option).
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", bora::cli::VersionLine());
  // One config file for every command: a section per command (cli/option_sources.h). --config
  // may follow the command's name (fallthrough hands it to the root).
  app.set_config("--config", "",
                 "TOML file of options: a [serve|orchestrator|worker|api|run] section per command, "
                 "keys the long option names (precedence: flag > BORA_<NAME> environment > file > "
                 "default; `bora config show` prints the result)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.fallthrough();

  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand("validate", "Check workflow files; prints OK or the errors");
  validate->add_option("files", validate_files, "YAML files")->required();
  bora::cli::ValidateArgs validate_args;
  validate->add_option(
      "--url", validate_args.url,
      "Also know the actions of this Bora API (external actions its workers declared)");
  validate->add_option("--token", validate_args.token, "Bearer token for --url (else $BORA_TOKEN)");
  validate
      ->add_option("--action-catalog", validate_args.action_catalogs,
                   std::string("Also know the actions of this catalog (JSON, as sdk/openstack's "
                               "actions.json; repeatable); default: ") +
                       bora::cli::kDefaultActionCatalog + " when installed")
      ->allow_extra_args(false)  // one file per --action-catalog: the files to validate follow
      ->type_name("FILE");

  bora::cli::RunArgs run_args;
  CLI::App* run = app.add_subcommand("run", "Run a workflow in embedded mode and print the result");
  run->add_option("file", run_args.file, "Workflow Language v2 YAML file")->required();
  run->add_option("--workflow,-w", run_args.workflow, "Workflow to start (default: the first one)");
  run->add_option("--input,-i", run_args.input, "Input as a JSON object, or @file");
  run->add_option("--env,-e", run_args.env, "Environment (env()) as a JSON object, or @file");
  run->add_option("--param,-p", run_args.params, "Execution parameter key=value (repeatable)");
  run->add_flag("--json", run_args.json, "Print one JSON object instead of the summary");
  run->add_option("--timeout", run_args.timeout_seconds, "Give up after this many seconds");
  run->add_option("--partitions", run_args.partitions, "Event partitions");
  run->add_option("--workers", run_args.workers, "Worker threads for actions");
  run->add_flag("--allow-shell", run_args.allow_shell, "Allow the std.shell action");
  run->add_flag("--allow-loopback-http", run_args.allow_loopback_http,
                "Allow std.http to reach loopback addresses");
  // Bounds on one execution (engine::EngineLimits; ARCHITECTURE.md "Limits").
  auto add_limit_flags = [](CLI::App* cmd, bora::engine::EngineLimits& limits) {
    cmd->add_option("--max-tasks-per-execution", limits.max_tasks_per_execution,
                    "Task executions one execution may create; past it the execution fails")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 40))
        ->capture_default_str();
    cmd->add_option("--max-subworkflow-depth", limits.max_subworkflow_depth,
                    "Nesting of sub-workflows below a top-level execution; deeper fails the task")
        ->check(CLI::Range(0, 1 << 20))
        ->capture_default_str();
  };
  add_limit_flags(run, run_args.engine_limits);
  // Servers: a task whose action no worker has declared yet waits for one (issue 19).
  auto add_undeclared_flag = [](CLI::App* cmd, bora::engine::EngineLimits& limits) {
    limits.undeclared_action_wait_s = 600;
    cmd->add_option("--undeclared-action-wait", limits.undeclared_action_wait_s,
                    "Seconds a task waits for a worker to declare its unknown action before it "
                    "fails (0: fails at once)")
        ->check(CLI::Range(int64_t{0}, int64_t{30} * 24 * 3600))
        ->capture_default_str();
  };

  // Distributed roles. Each needs the Kafka and Redis addresses (flags or BORA_KAFKA / BORA_REDIS).
  bora::cli::ClusterArgs cluster;
  std::string log_level = "info";
  std::string log_format = "text";
  auto add_cluster_flags = [&](CLI::App* cmd) {
    cmd->add_option("--kafka", cluster.options.kafka, "Kafka brokers host:port (default: $BORA_KAFKA)");
    cmd->add_option("--redis", cluster.options.redis,
                    "Redis URL redis://host:port, or redis+cluster://host:port[,host:port...] "
                    "(default: $BORA_REDIS)");
    cmd->add_option("--prefix", cluster.options.prefix, "Topic and Redis key prefix (isolates clusters)");
    cmd->add_option("--partitions", cluster.options.partitions, "Partitions of bora.events");
    cmd->add_option("--session-timeout-ms", cluster.options.session_timeout_ms,
                    "Kafka group session timeout: how fast a dead process is detected");
    cmd->add_option(
        "--store-outage-release-ms", cluster.options.store_outage_release_ms,
        "An orchestrator that cannot reach the state store (Redis) for this long leaves "
        "the Kafka group so that others take its partitions, and joins again once the "
        "store answers (0: never)");
    cmd->add_option("--replication-factor", cluster.options.replication_factor,
                    "Replication factor of the Kafka topics Bora creates when missing: auto "
                    "(min(3, brokers); min.insync.replicas=2 from 3 on) or a number")
        ->transform(CLI::Transformer(std::map<std::string, std::string>{{"auto", "0"}}))
        ->default_str("auto");
    cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error");
    cmd->add_option("--log-format", log_format,
                    "text, or json (JSON lines with execution_id, task_id, partition)")
        ->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("--metrics-port", cluster.metrics_port,
                    "Serve /metrics, /health/live and /health/ready on this port (0: any free port)");
    cmd->add_option("--metrics-address", cluster.metrics_address, "Listen address of --metrics-port");
  };
  auto add_external_flag = [&](CLI::App* cmd) {
    cmd->add_option("--external-action", cluster.options.external_actions,
                    "Accept this custom action, run by an external (SDK) worker (repeatable)")
        ->take_all()
        ->allow_extra_args(false);
  };
  auto add_worker_flags = [&](CLI::App* cmd) {
    cmd->add_option("--pool", cluster.options.pool, "Action pool (a task's `target`)");
    cmd->add_option("--concurrency", cluster.options.worker_threads, "Actions run at once");
    cmd->add_flag("--allow-shell", cluster.options.std_actions.allow_shell, "Allow the std.shell action");
    cmd->add_flag("--allow-loopback-http", cluster.options.std_actions.allow_loopback_http,
                  "Allow std.http to reach loopback addresses");
  };
  CLI::App* orch = app.add_subcommand("orchestrator", "Run the orchestrator role on Kafka and Redis");
  add_cluster_flags(orch);
  auto add_loops_flag = [&](CLI::App* cmd) {
    cmd->add_option("--orchestrator-loops", cluster.options.orchestrator_loops,
                    "Orchestrator threads, each owning some of the partitions with its own Kafka consumer "
                    "and Redis connection (1 to --partitions; distributed mode)");
    cmd->add_flag("!--no-overlap-commits", cluster.options.overlap_commits,
                  "Await each poll's Redis commit before the next poll (by default the next poll is "
                  "applied while Redis writes; nothing is produced before it is durable either way)");
  };
  add_loops_flag(orch);
  bora::cli::RetentionArgs retention;
  auto add_retention_flags = [&](CLI::App* cmd) {
    cmd->add_option("--expiration-evaluation-interval", retention.evaluation_interval_min,
                    "Execution expiration policy (Mistral's): evaluate every N minutes (0: off)");
    cmd->add_option("--expiration-older-than", retention.older_than_min,
                    "Purge completed top-level executions (with their sub-workflows) not updated for N minutes");
    cmd->add_option("--expiration-max-finished", retention.max_finished_executions,
                    "Keep only the newest N completed top-level executions (0: no limit)");
    cmd->add_option("--expiration-batch-size", retention.batch_size,
                    "At most N purges per evaluation (0: no limit); the rest at the next one");
    cmd->add_option("--expiration-ignored-state", retention.ignored_states,
                    "Never purge executions in this state: SUCCESS, ERROR or CANCELLED (repeatable)")
        ->take_all()
        ->allow_extra_args(false);
  };
  add_retention_flags(orch);
  add_limit_flags(orch, cluster.options.engine_limits);
  add_undeclared_flag(orch, cluster.options.engine_limits);
  orch->add_option("--load", cluster.load, "Store these definition files in Redis first");
  add_external_flag(orch);
  CLI::App* worker = app.add_subcommand("worker", "Run a worker pool on Kafka");
  add_cluster_flags(worker);
  add_worker_flags(worker);
  // The REST API (Mistral v2) of `serve` and `api`.
  bora::cli::ApiArgs api_args;
  // Keystone: token validation (--auth keystone) and the cron triggers' trusts.
  auto add_keystone_flags = [](CLI::App* cmd, bora::cli::ApiArgs& a) {
    cmd->add_option("--keystone-url", a.keystone_url,
                    "Keystone's auth URL (http://keystone:5000) for --auth keystone");
    cmd->add_option("--keystone-service-user", a.keystone_service_user,
                    "The user Bora validates tokens as (needs Keystone's service or admin role)");
    cmd->add_option("--keystone-service-password", a.keystone_service_password,
                    "Its password; better from BORA_KEYSTONE_SERVICE_PASSWORD or "
                    "--keystone-service-password-file than on the command line");
    cmd->add_option("--keystone-service-password-file", a.keystone_service_password_file,
                    "A file holding the service user's password");
    cmd->add_option("--keystone-service-project", a.keystone_service_project,
                    "The project the service user's token is scoped to");
    cmd->add_option("--keystone-domain", a.keystone_domain,
                    "Domain name of the service user and its project")
        ->capture_default_str();
    cmd->add_option("--keystone-cache-seconds", a.keystone_cache_seconds,
                    "How long a valid token is trusted before Keystone is asked again (at most "
                    "until it expires)")
        ->capture_default_str();
    cmd->add_option("--keystone-timeout-ms", a.keystone_timeout_ms,
                    "Timeout of each call to Keystone (then 503)")
        ->capture_default_str();
  };
  // `bora orchestrator` fires cron triggers: with --keystone-url, their runs get tokens of their
  // trusts.
  bora::cli::ApiArgs orch_keystone;
  add_keystone_flags(orch, orch_keystone);
  auto add_api_flags = [&](CLI::App* cmd) {
    cmd->add_option("--port", api_args.port, "REST API port (0: any free port)");
    cmd->add_option("--address", api_args.address, "REST API listen address");
    cmd->add_option("--port-file", api_args.port_file,
                    "Write the bound REST API port to this file");
    cmd->add_option("--auth-token-file", api_args.auth_token_file,
                    "Require this bearer token (file content) on every endpoint but /health/*");
    cmd->add_option("--auth", api_args.auth,
                    "Who may call the API: none, token (--auth-token-file) or keystone "
                    "(X-Auth-Token validated by Keystone); default: token with --auth-token-file, "
                    "else none")
        ->check(CLI::IsMember({"none", "token", "keystone"}));
    add_keystone_flags(cmd, api_args);
    cmd->add_option("--api-threads", api_args.threads, "HTTP threads");
    cmd->add_option("--max-body-bytes", api_args.max_body_bytes, "Largest request body (413 above)");
    cmd->add_option(
        "--public-url", api_args.public_url,
        "URL clients reach the API at (https://bora.example.com): links in replies start "
        "with it (default: http://<address>:<port>; the Host header is never used)");
    cmd->add_option(
           "--allowed-origin", api_args.allowed_origins,
           "Browser origin (https://ui.example.com) allowed to send POST/PUT/PATCH/DELETE; "
           "other Origin headers get 403 (repeatable)")
        ->take_all()
        ->allow_extra_args(false);
  };
  CLI::App* serve = app.add_subcommand(
      "serve", "Run every role and the REST API in one process: embedded, or on Kafka and Redis");
  add_cluster_flags(serve);
  add_worker_flags(serve);
  add_loops_flag(serve);
  add_retention_flags(serve);
  add_limit_flags(serve, cluster.options.engine_limits);
  add_undeclared_flag(serve, cluster.options.engine_limits);
  add_api_flags(serve);
  serve->add_option("--load", cluster.load, "Store these definition files first");
  add_external_flag(serve);
  // The embedded server's durability (without --kafka/--redis).
  std::string data_dir = "./bora-data";
  bool in_memory = false;
  std::string fsync = "interval";
  int fsync_interval_ms = 10;
  serve
      ->add_option("--data-dir", data_dir,
                   "Keep workflows, executions, triggers and the event log in this directory "
                   "(created if missing; one process at a time)")
      ->capture_default_str();
  serve->add_flag("--in-memory", in_memory,
                  "Keep nothing on disk: everything is lost when the process stops");
  serve
      ->add_option("--fsync", fsync,
                   "When writes reach the disk: always (every commit), interval (every "
                   "--fsync-interval-ms, and before the API acknowledges), never (the OS decides)")
      ->capture_default_str();
  serve->add_option("--fsync-interval-ms", fsync_interval_ms, "Period of --fsync interval")
      ->capture_default_str();
  CLI::App* api = app.add_subcommand("api", "Run the REST API alone on Kafka and Redis");
  add_cluster_flags(api);
  add_api_flags(api);

  // REST API client: workflow, execution, task, cron, event (cli/client_command.h).
  bora::cli::ClientCommands client(app);

  CLI::App* config = app.add_subcommand(
      "config",
      "Configuration: `bora config show [COMMAND] [options]` prints the effective options");
  config
      ->add_subcommand("show",
                       "Print the options COMMAND (default serve) would run with, as a config "
                       "file, each with where it came from: flag, env, file or default")
      ->allow_extras();

  std::string shell;
  CLI::App* completion =
      app.add_subcommand("completion", "Print a shell completion script: bora completion bash|zsh");
  completion->add_option("shell", shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  CLI::App* man =
      app.add_subcommand("man", "Print the bora(1) man page (roff): bora man | man -l -");

  std::vector<std::string> args(argv + 1, argv + argc);
  // `bora config show ROLE ...` parses `ROLE ...` as if it were run, then prints instead of
  // running.
  bool show_config = false;
  if (args.size() >= 2 && args[0] == "config" && args[1] == "show") {
    show_config = true;
    std::string role = args.size() > 2 && !args[2].starts_with("-") ? args[2] : "serve";
    std::vector<std::string> rest(args.begin() + (args.size() > 2 && args[2] == role ? 3 : 2),
                                  args.end());
    args = {role};
    args.insert(args.end(), rest.begin(), rest.end());
  }
  bora::cli::OptionSources sources(app);
  auto with_env =
      sources.Apply(std::move(args), [](const char* name) { return std::getenv(name); });
  if (!with_env.ok()) {
    std::cerr << "bora: " << with_env.status().message() << "\n";
    return 2;
  }
  if (bora::Status file = sources.CheckConfigFile(*with_env); !file.ok()) {
    std::cerr << "bora: " << file.message() << "\n";
    return 2;
  }
  try {
    std::vector<std::string> reversed(with_env->rbegin(), with_env->rend());  // CLI11 wants it so
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (show_config) {
    for (CLI::App* sub : app.get_subcommands()) {
      std::cout << sources.Show(*sub);
      return 0;
    }
    return 2;
  }
  if (completion->parsed()) {
    std::cout << (shell == "zsh" ? bora::cli::ZshCompletion(app) : bora::cli::BashCompletion(app));
    return 0;
  }
  if (man->parsed()) {
    std::cout << bora::cli::ManPage(app, bora::cli::VersionLine());
    return 0;
  }
  if (config->parsed()) {
    std::cout << config->help();
    return 0;
  }
  if (validate->parsed()) return bora::cli::RunValidate(validate_files, validate_args);
  if (run->parsed()) return bora::cli::RunRun(run_args);
  if (client.parsed()) return client.Run(std::cout, std::cerr);
  auto retention_policy = bora::cli::ToRetentionPolicy(retention);
  if (!retention_policy.ok()) {
    std::cerr << "bora: " << retention_policy.status().message() << "\n";
    return 2;
  }
  if (retention.evaluation_interval_min > 0 && !retention_policy->enabled()) {
    std::cerr << "bora: warning: the execution expiration policy is off: --expiration-evaluation-interval "
                 "needs --expiration-older-than or --expiration-max-finished\n";
  }
  cluster.options.retention = *retention_policy;
  bora::metrics::MarkProcessStart(*bora::SystemClock::Get());  // the processes below serve /metrics
  if (serve->parsed() && cluster.options.kafka.empty() && cluster.options.redis.empty()) {
    // No --kafka/--redis flags: embedded (BORA_KAFKA/BORA_REDIS in the environment do not switch modes).
    bora::InitLogging(log_level,
                      log_format == "json" ? bora::LogFormat::kJson : bora::LogFormat::kText);
    if (!cluster.options.external_actions.empty()) {
      std::cerr << "bora serve: --external-action is for Kafka workers of a distributed deployment; "
                   "embedded, a worker declares its actions itself through the worker API "
                   "(POST /v2/workers/poll, e.g. the Python SDK's Worker.http)\n";
      return 2;
    }
    bora::cli::EmbeddedServeArgs serve_args;
    serve_args.api = api_args;
    serve_args.load = cluster.load;
    serve_args.workers = cluster.options.worker_threads;
    serve_args.partitions = cluster.options.partitions;
    serve_args.allow_shell = cluster.options.std_actions.allow_shell;
    serve_args.allow_loopback_http = cluster.options.std_actions.allow_loopback_http;
    serve_args.retention = *retention_policy;
    serve_args.engine_limits = cluster.options.engine_limits;
    serve_args.data_dir = in_memory ? "" : data_dir;
    auto policy = bora::disk::ParseFsyncPolicy(fsync);
    if (!policy.ok()) {
      std::cerr << "bora: " << policy.status().message() << "\n";
      return 2;
    }
    if (fsync_interval_ms < 1 || fsync_interval_ms > 60'000) {
      std::cerr << "bora: --fsync-interval-ms takes 1 to 60000\n";
      return 2;
    }
    serve_args.fsync = *policy;
    serve_args.fsync_interval = std::chrono::milliseconds(fsync_interval_ms);
    return bora::cli::RunEmbeddedServe(serve_args);
  }
  if (orch->parsed() || worker->parsed() || serve->parsed() || api->parsed()) {
    bora::InitLogging(log_level,
                      log_format == "json" ? bora::LogFormat::kJson : bora::LogFormat::kText);
    // A flag wins over the environment.
    if (cluster.options.kafka.empty() && std::getenv("BORA_KAFKA")) cluster.options.kafka = std::getenv("BORA_KAFKA");
    if (cluster.options.redis.empty() && std::getenv("BORA_REDIS")) cluster.options.redis = std::getenv("BORA_REDIS");
    if (cluster.options.kafka.empty() || cluster.options.redis.empty()) {
      std::cerr << "bora: --kafka and --redis (or BORA_KAFKA and BORA_REDIS) are required\n";
      return 2;
    }
    cluster.options.orchestrator = orch->parsed() || serve->parsed();
    cluster.options.worker = worker->parsed() || serve->parsed();
    if (serve->parsed() || api->parsed()) cluster.api = api_args;
    if (orch->parsed() && !orch_keystone.keystone_url.empty()) cluster.keystone = orch_keystone;
    return bora::cli::RunCluster(cluster);
  }
  return 2;
}
