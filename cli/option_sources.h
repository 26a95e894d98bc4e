#pragma once
// Where a `bora` option's value comes from, beside the command line (issue 20): a flag wins over
// the environment, which wins over the config file, which wins over the default.
//
// - Environment: every long option `--foo-bar` of the subcommand being run is read from
//   `BORA_FOO_BAR` when the command line does not set it (a flag: 1/true/yes/on or 0/false/no/off;
//   an option of several values: a comma-separated list). Exceptions: `bora serve` does not read
//   BORA_KAFKA / BORA_REDIS (they would switch it to distributed mode; tests and shells set them
//   for the other commands), and the client commands read only BORA_URL / BORA_TOKEN (theirs
//   already). `BORA_CONFIG` names the config file when `--config` is not given.
// - Config file (`--config FILE`, CLI11's TOML): one section per command, keys are the long option
//   names without the dashes:
//       [serve]
//       port = 8989
//       data-dir = "/var/lib/bora"
//   A key or section that names no option is an error with the file and line.
//
// The environment is applied by rewriting the arguments before CLI11 parses them (CLI11 alone
// lets a config file win over the environment), so CLI11 sees: flags, then environment values as
// flags, then the file for what is still unset.
//
// Threading: main thread only, before and after App::parse.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace bora::cli {

// BORA_FOO_BAR for --foo-bar.
std::string EnvironmentName(const std::string& long_name);

class OptionSources {
 public:
  // `app` has every subcommand and option added (and `--config` set with App::set_config).
  explicit OptionSources(CLI::App& app) : app_(app) {}

  // The arguments (argv[1..]) with the environment's values added as options of the subcommand they
  // select; `getenv` reads a variable (nullptr: unset). Remembers which options the command line
  // and the environment set. Errors: an environment value a flag cannot take.
  Result<std::vector<std::string>> Apply(std::vector<std::string> args,
                                         const std::function<const char*(const char*)>& getenv);

  // Checks the config file named by the (rewritten) arguments: every section names a command and
  // every key one of its options. Errors say "FILE:LINE: ...". No file: OK.
  Status CheckConfigFile(const std::vector<std::string>& args) const;

  // After App::parse: the effective options of `command` as a config file, each line with where
  // its value came from ("# flag", "# env BORA_PORT", "# file F", "# default").
  std::string Show(const CLI::App& command) const;

 private:
  std::string ConfigFile(const std::vector<std::string>& args) const;

  CLI::App& app_;
  std::string command_;                          // the selected subcommand, "" for none
  std::map<std::string, std::string> from_env_;  // long name -> variable
  std::vector<std::string> from_flags_;          // long names set on the command line
  std::string config_file_;                      // as given (flag or BORA_CONFIG)
};

}  // namespace bora::cli
