#pragma once
// `bora workbook|workflow|action|environment|execution|task|action-execution|cron|event|
// event-trigger|webhook|admin|service ...`: a client of Bora's (Mistral-compatible) REST API v2
// covering every resource, talking to --url or $BORA_URL (default http://127.0.0.1:8989) with
// libcurl, optionally with a bearer token (--token or $BORA_TOKEN). Prints a table like
// python-mistralclient, the server's JSON (--output json, --json) or YAML (--output yaml).
// The command groups live in client_definitions.cc, client_executions.cc and client_triggers.cc;
// HTTP and output in client_http.h, client_output.h; --wait in client_wait.h.
//
// Exit codes: 0 ok; 1 the server refused (its faultstring, or "<kind> '<name>' not found", is
// printed), or a waited-for execution ended ERROR or CANCELLED; 2 bad local input (file, JSON,
// flags); 3 the server cannot be reached; 4 --wait's --timeout passed; 130 Ctrl-C during --wait.
//
// Ownership and threads: ClientCommands registers its subcommands on a CLI::App the caller owns and
// must outlive it; use from one thread (main). Run() performs blocking HTTP requests.
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace bora::cli {

// GET `path` from the API at `url` (empty: $BORA_URL, else http://127.0.0.1:8989) with `token`
// (empty: $BORA_TOKEN): the body of a 2xx answer; otherwise the problem is printed to `err` and
// nullopt comes back (the server refused, or cannot be reached).
std::optional<std::string> FetchFromApi(const std::string& url, const std::string& token,
                                        const std::string& path, std::ostream& err);

class ClientCommands {
 public:
  // Adds the client's subcommands (above) to `app`.
  explicit ClientCommands(CLI::App& app);
  ~ClientCommands();
  ClientCommands(const ClientCommands&) = delete;
  ClientCommands& operator=(const ClientCommands&) = delete;

  // True when the parsed command line selected one of the client commands.
  bool parsed() const;
  // Runs the selected command; output to `out`, errors to `err`. Returns the exit code.
  int Run(std::ostream& out, std::ostream& err) const;

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace bora::cli
