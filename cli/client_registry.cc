#include "cli/client_registry.h"

#include <CLI/CLI.hpp>
#include <ostream>

namespace bora::cli {

ClientRegistry::ClientRegistry() = default;

Connection ClientRegistry::connection() const {
  Connection c = conn_;
  if (json_ || output_ == "json") {
    c.format = OutputFormat::kJson;
  } else if (output_ == "yaml") {
    c.format = OutputFormat::kYaml;
  } else {
    c.format = OutputFormat::kTable;
  }
  return c;
}

CLI::App* ClientRegistry::Leaf(CLI::App* group, const std::string& name, const std::string& help,
                               ClientRun run) {
  CLI::App* cmd = group->add_subcommand(name, help);
  cmd->add_option("--url", conn_.url, "API URL (default: $BORA_URL or http://127.0.0.1:8989)");
  cmd->add_option("--token", conn_.token, "Bearer token (default: $BORA_TOKEN)");
  cmd->add_option("--output,-o", output_, "Output format")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  cmd->add_flag("--json", json_, "Same as --output json (the server's JSON as sent)");
  leaves_.emplace_back(cmd, std::move(run));
  return cmd;
}

void ClientRegistry::AddListFlags(CLI::App* cmd) {
  ClientArgs& a = args_;
  cmd->add_option("--limit", a.limit, "At most this many items (0: the server's page size)")
      ->capture_default_str();
  cmd->add_option("--marker", a.marker, "Start after the item with this ID (paging)");
  cmd->add_option("--sort-keys", a.sort_keys, "Sort by these fields, comma-separated (created_at)");
  cmd->add_option("--sort-dirs", a.sort_dirs, "asc or desc per sort key, comma-separated");
  cmd->add_option("--fields", a.fields, "Only these fields, comma-separated (id always)");
  cmd->add_option("--filter", a.filters,
                  "FIELD=[OP:]VALUE, OP one of eq neq gt gte lt lte in nin has (repeatable)");
}

bool ClientRegistry::ListPath(const std::string& path,
                              std::vector<std::pair<std::string, std::string>> extra,
                              std::ostream& err, std::string* out, bool paging) const {
  const ClientArgs& a = args_;
  auto query = std::move(extra);
  for (const std::string& f : a.filters) {
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "bora: --filter '" << f << "' is not FIELD=[OP:]VALUE\n";
      return false;
    }
    query.emplace_back(f.substr(0, eq), f.substr(eq + 1));
  }
  if (!paging) {
    *out = WithQuery(path, query);
    return true;
  }
  query.emplace_back("limit", a.limit > 0 ? std::to_string(a.limit) : "");
  query.emplace_back("marker", a.marker);
  query.emplace_back("sort_keys", a.sort_keys);
  query.emplace_back("sort_dirs", a.sort_dirs);
  query.emplace_back("fields", a.fields);
  *out = WithQuery(path, query);
  return true;
}

void ClientRegistry::AddWaitFlags(CLI::App* cmd, const std::string& what) {
  cmd->add_flag("--wait", args_.wait,
                "Wait until " + what +
                    " finishes, then print it; exit 0 on SUCCESS, 1 on ERROR or CANCELLED, 4 "
                    "when --timeout passes first, 130 on Ctrl-C (the execution goes on)");
  cmd->add_option("--timeout", args_.timeout_s, "With --wait: give up after SECONDS (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

}  // namespace bora::cli
