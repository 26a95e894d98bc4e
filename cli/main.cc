// The `bora` command. Thin: parses the command line and calls the subcommand implementations in cli/.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/run_command.h"
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (validate->parsed()) return bora::cli::RunValidate(validate_files);
  if (run->parsed()) return bora::cli::RunRun(run_args);
  return 2;
}
