// The `bora` command. Thin: parses the command line and calls the subcommand implementations in cli/.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/cluster_command.h"
#include "cli/run_command.h"
#include "common/log.h"
#include "cli/validate_command.h"

int main(int argc, char** argv) {
  CLI::App app{"bora: an event-driven workflow orchestrator for Mistral workflows"};
  app.require_subcommand(1);

  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand("validate", "Check workflow files; prints OK or the errors");
  validate->add_option("files", validate_files, "YAML files")->required();

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

  // Distributed roles. Each needs the Kafka and Redis addresses (flags or BORA_KAFKA / BORA_REDIS).
  bora::cli::ClusterArgs cluster;
  std::string log_level = "info";
  auto add_cluster_flags = [&](CLI::App* cmd) {
    cmd->add_option("--kafka", cluster.options.kafka, "Kafka brokers host:port (default: $BORA_KAFKA)");
    cmd->add_option("--redis", cluster.options.redis, "Redis URL redis://host:port (default: $BORA_REDIS)");
    cmd->add_option("--prefix", cluster.options.prefix, "Topic and Redis key prefix (isolates clusters)");
    cmd->add_option("--partitions", cluster.options.partitions, "Partitions of bora.events");
    cmd->add_option("--session-timeout-ms", cluster.options.session_timeout_ms,
                    "Kafka group session timeout: how fast a dead process is detected");
    cmd->add_option("--log-level", log_level, "trace, debug, info, warn, error");
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
  orch->add_option("--load", cluster.load, "Store these definition files in Redis first");
  add_external_flag(orch);
  CLI::App* worker = app.add_subcommand("worker", "Run a worker pool on Kafka");
  add_cluster_flags(worker);
  add_worker_flags(worker);
  CLI::App* serve = app.add_subcommand("serve", "Run every role in one process on Kafka and Redis");
  add_cluster_flags(serve);
  add_worker_flags(serve);
  serve->add_option("--load", cluster.load, "Store these definition files in Redis first");
  add_external_flag(serve);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (validate->parsed()) return bora::cli::RunValidate(validate_files);
  if (run->parsed()) return bora::cli::RunRun(run_args);
  if (orch->parsed() || worker->parsed() || serve->parsed()) {
    bora::InitLogging(log_level);
    // A flag wins over the environment.
    if (cluster.options.kafka.empty() && std::getenv("BORA_KAFKA")) cluster.options.kafka = std::getenv("BORA_KAFKA");
    if (cluster.options.redis.empty() && std::getenv("BORA_REDIS")) cluster.options.redis = std::getenv("BORA_REDIS");
    if (cluster.options.kafka.empty() || cluster.options.redis.empty()) {
      std::cerr << "bora: --kafka and --redis (or BORA_KAFKA and BORA_REDIS) are required\n";
      return 2;
    }
    cluster.options.orchestrator = !worker->parsed();
    cluster.options.worker = !orch->parsed();
    return bora::cli::RunCluster(cluster);
  }
  return 2;
}
