#pragma once
// How the `bora` REST client's command groups (client_definitions.cc, client_executions.cc,
// client_triggers.cc) add their subcommands: a ClientRegistry gives every leaf command the
// connection flags (--url, --token, --output/-o, --json), list commands the list flags, and keeps
// which function runs for which leaf. The parsed arguments live in one ClientArgs (one leaf runs
// per process, so leaves share its fields).
//
// Ownership and threads: the registry and the args outlive the CLI::App's parse and Run; one
// thread (main).
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "cli/client_http.h"

namespace CLI {
class App;
}

namespace bora::cli {

struct ClientArgs {
  std::string file, name, id, workflow, input, params, description, pattern, first_time, execution;
  std::string namespace_, scope, type, source, subject, data, event_id, state, state_info, env;
  std::string output, format, secret, signature, input_mapping, event, exchange, topic, task;
  std::string created_after, created_before, search, fields, marker, sort_keys, sort_dirs;
  std::vector<std::string> filters;  // FIELD=[OP:]VALUE
  int count = -1;
  int offset = 0;
  int limit = 0;
  int max_depth = -1;
  double timeout_s = 0;  // --wait's bound; 0: none
  bool reset = false;
  bool force = false;
  bool wait = false;
  bool save_result = false;
  bool run_sync = false;
  bool include_output = false;
  bool errors_only = false;
};

using ClientRun = std::function<int(Client&)>;

class ClientRegistry {
 public:
  ClientRegistry();

  ClientArgs& args() { return args_; }
  // The connection of the parsed command (the --json alias applied).
  Connection connection() const;

  // A leaf command `name` under `group`, with the connection flags, running `run`.
  CLI::App* Leaf(CLI::App* group, const std::string& name, const std::string& help, ClientRun run);
  // The list flags the API takes on every collection: --limit, --marker, --sort-keys,
  // --sort-dirs, --fields and --filter FIELD=[OP:]VALUE (repeatable).
  void AddListFlags(CLI::App* cmd);
  // The query of those flags (plus `extra`, first) for the collection at `path`; false (after
  // printing why to `err`) when a --filter is malformed.
  // Without `paging` only the filters (for /v2/executions/counts).
  bool ListPath(const std::string& path, std::vector<std::pair<std::string, std::string>> extra,
                std::ostream& err, std::string* out, bool paging = true) const;
  // --wait and --timeout on `cmd`.
  void AddWaitFlags(CLI::App* cmd, const std::string& what);

  const std::vector<std::pair<CLI::App*, ClientRun>>& leaves() const { return leaves_; }

 private:
  ClientArgs args_;
  Connection conn_;
  std::string output_ = "table";
  bool json_ = false;
  std::vector<std::pair<CLI::App*, ClientRun>> leaves_;
};

// Each command group adds its subcommands to `app`.
void AddDefinitionCommands(CLI::App& app,
                           ClientRegistry& registry);                // workbook workflow action env
void AddExecutionCommands(CLI::App& app, ClientRegistry& registry);  // execution task action-exec
void AddTriggerCommands(CLI::App& app,
                        ClientRegistry& registry);  // cron event event-trigger webhook

// The columns of an action execution (action run, action-execution get).
extern const std::vector<Column> kActionExecutionColumns;

// `subject` as errors name it: "workbook 'my_wb'".
inline std::string Named(const std::string& kind, const std::string& name) {
  return kind + " '" + name + "'";
}

}  // namespace bora::cli
