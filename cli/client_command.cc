#include "cli/client_command.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <ostream>
#include <sstream>

#include "cli/client_http.h"
#include "cli/client_registry.h"

namespace bora::cli {

std::optional<std::string> FetchFromApi(const std::string& url, const std::string& token,
                                        const std::string& path, std::ostream& err) {
  std::ostringstream unused;
  Client client(Connection{url, token, OutputFormat::kJson}, unused, err);
  auto reply = client.Call("GET", path);
  if (!reply || client.CheckError(*reply) != 0) return std::nullopt;
  return reply->body;
}

struct ClientCommands::State {
  ClientRegistry registry;
};

namespace {

// `bora admin backup DIR` and `bora service list|workers`: the server process itself.
void AddServerCommands(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* admin = app.add_subcommand("admin", "Operations on a server's own data");
  admin->require_subcommand(1);
  r.Leaf(
       admin, "backup",
       "Copy the data directory of a running `bora serve --data-dir` into DIRECTORY, "
       "consistently and without stopping it (on the server's host; DIRECTORY must not exist); "
       "`bora serve --data-dir DIRECTORY` starts from the copy",
       [&a](Client& c) {
         std::error_code ec;
         const std::string dir = std::filesystem::absolute(a.file, ec).lexically_normal().string();
         JsonObject body;
         body["directory"] = ec ? a.file : dir;
         auto r = c.Call("POST", "/v2/admin/backup", DumpJson(body), "application/json");
         return c.Finish(r, [&](const Json& reply) {
           const auto* bytes = reply.is_object() ? reply.as_object().if_contains("bytes") : nullptr;
           c.out() << "Backup written to " << std::string(body["directory"].as_string());
           if (bytes != nullptr && bytes->is_number()) {
             c.out() << " (" << DumpJson(*bytes) << " bytes)";
           }
           c.out() << ". Start from it with: bora serve --data-dir "
                   << std::string(body["directory"].as_string()) << "\n";
         });
       })
      ->add_option("directory", a.file, "A directory that does not exist yet")
      ->required();
  CLI::App* service = app.add_subcommand(
      "service", "The API server's services (REST /v2/services) and workers (/v2/workers)");
  service->require_subcommand(1);
  r.Leaf(service, "list", "List the service groups of the process that answers", [](Client& c) {
    return c.List("/v2/services", "services", {{"Name", "name"}, {"Type", "type"}});
  });
  r.Leaf(service, "workers",
         "The HTTP workers the answering process has seen, and its pools' queues (GET /v2/workers)",
         [](Client& c) {
           return c.Finish(c.Call("GET", "/v2/workers"), [&](const Json& body) {
             PrintList(c.out(),
                       {{"Worker", "worker"},
                        {"Pool", "pool"},
                        {"Actions", "actions"},
                        {"Last seen", "last_seen"}},
                       ArrayAt(body, "workers"));
             PrintList(c.out(), {{"Pool", "pool"}, {"Queued", "queued"}, {"Leased", "leased"}},
                       ArrayAt(body, "pools"));
           });
         });
}

}  // namespace

ClientCommands::ClientCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  ClientRegistry& r = state_->registry;
  AddDefinitionCommands(app, r);
  AddExecutionCommands(app, r);
  AddTriggerCommands(app, r);
  AddServerCommands(app, r);
}

ClientCommands::~ClientCommands() = default;

bool ClientCommands::parsed() const {
  for (const auto& [cmd, run] : state_->registry.leaves())
    if (cmd->parsed()) return true;
  return false;
}

int ClientCommands::Run(std::ostream& out, std::ostream& err) const {
  for (const auto& [cmd, run] : state_->registry.leaves()) {
    if (!cmd->parsed()) continue;
    Client client(state_->registry.connection(), out, err);
    return run(client);
  }
  err << "bora: no client command selected\n";
  return 2;
}

}  // namespace bora::cli
