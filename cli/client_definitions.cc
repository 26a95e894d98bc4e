// `bora workbook|workflow|action|environment ...`: the definition resources of the REST API
// (/v2/workbooks, /v2/workflows, /v2/actions, /v2/environments), with python-mistralclient's verbs.
#include <CLI/CLI.hpp>
#include <chrono>
#include <ostream>
#include <thread>

#include "cli/client_registry.h"
#include "cli/client_wait.h"

namespace bora::cli {
namespace {

const std::vector<Column> kWorkbookColumns = {{"ID", "id"},
                                              {"Name", "name"},
                                              {"Namespace", "namespace"},
                                              {"Tags", "tags"},
                                              {"Scope", "scope"},
                                              {"Created at", "created_at"},
                                              {"Updated at", "updated_at"}};
const std::vector<Column> kWorkflowColumns = {{"ID", "id"},
                                              {"Name", "name"},
                                              {"Namespace", "namespace"},
                                              {"Project ID", "project_id"},
                                              {"Tags", "tags"},
                                              {"Input", "input", true},
                                              {"Scope", "scope"},
                                              {"Created at", "created_at"},
                                              {"Updated at", "updated_at"}};
const std::vector<Column> kActionColumns = {{"ID", "id"},
                                            {"Name", "name"},
                                            {"Namespace", "namespace"},
                                            {"Is system", "is_system"},
                                            {"Input", "input", true},
                                            {"Description", "description", true},
                                            {"Tags", "tags"},
                                            {"Created at", "created_at"},
                                            {"Updated at", "updated_at"}};
const std::vector<Column> kEnvironmentColumns = {{"ID", "id"},
                                                 {"Name", "name"},
                                                 {"Description", "description", true},
                                                 {"Variables", "variables", true},
                                                 {"Scope", "scope"},
                                                 {"Created at", "created_at"},
                                                 {"Updated at", "updated_at"}};

// A definition resource stored from YAML text: workbooks, workflows, actions.
struct DefinitionKind {
  std::string group;       // "workbook"
  std::string path;        // "/v2/workbooks"
  std::string collection;  // what POST/PUT answer in ("" = the record itself)
  const std::vector<Column>* columns;
};

// Prints a create/update reply: the record, or the list of records it created.
void PrintStored(Client& c, const DefinitionKind& k, const Json& body) {
  if (k.collection.empty()) {
    if (body.is_object()) PrintObject(c.out(), *k.columns, body.as_object());
    return;
  }
  PrintList(c.out(), *k.columns, ArrayAt(body, k.collection));
}

void AddDefinitionVerbs(CLI::App& app, ClientRegistry& r, const DefinitionKind& k,
                        const std::string& help) {
  ClientArgs& a = r.args();
  CLI::App* group = app.add_subcommand(k.group, help);
  group->require_subcommand(1);
  auto store = [&a, k](const std::string& method) {
    return [&a, k, method](Client& c) {
      auto yaml = ReadTextFile(a.file, k.group + " definition", c.err());
      if (!yaml) return 2;
      auto reply =
          c.Call(method, WithQuery(k.path, {{"namespace", a.namespace_}, {"scope", a.scope}}),
                 *yaml, "text/plain");
      return c.Finish(reply, [&](const Json& body) { PrintStored(c, k, body); });
    };
  };
  for (const char* verb : {"create", "update"}) {
    const bool create = std::string(verb) == "create";
    auto* cmd =
        r.Leaf(group, verb,
               create ? "Store the " + k.group + " definitions of a YAML file"
                      : "Replace stored " + k.group + " definitions by those of a YAML file",
               store(create ? "POST" : "PUT"));
    cmd->add_option("file", a.file, "Workflow Language v2 YAML file")->required();
    cmd->add_option("--namespace", a.namespace_, "Namespace");
    cmd->add_option("--scope", a.scope, "private or public (default: private)")
        ->check(CLI::IsMember({"private", "public"}));
  }
  auto* list = r.Leaf(group, "list", "List " + k.group + "s", [&a, &r, k](Client& c) {
    std::string path;
    if (!r.ListPath(k.path, {{"namespace", a.namespace_}}, c.err(), &path)) return 2;
    return c.List(path, k.path.substr(4), *k.columns);
  });
  r.AddListFlags(list);
  list->add_option("--namespace", a.namespace_, "Only this namespace");
  auto record_path = [&a, k] {
    return WithQuery(k.path + "/" + Escape(a.name), {{"namespace", a.namespace_}});
  };
  auto* get = r.Leaf(group, "get", "Show a " + k.group, [&a, k, record_path](Client& c) {
    return c.Show(c.Call("GET", record_path()), *k.columns, Named(k.group, a.name));
  });
  auto* definition = r.Leaf(
      group, "get-definition", "Print a " + k.group + "'s YAML definition",
      [&a, k, record_path](Client& c) {
        Json body;
        if (int code = c.GetJson(record_path(), Named(k.group, a.name), &body)) return code;
        const Json* d = body.is_object() ? body.as_object().if_contains("definition") : nullptr;
        if (d == nullptr || !d->is_string()) {
          c.err() << "ERROR: " << Named(k.group, a.name)
                  << " has no definition (a system action)\n";
          return 1;
        }
        std::string text(d->as_string());
        c.out() << text << (text.empty() || text.back() != '\n' ? "\n" : "");
        return 0;
      });
  auto* del = r.Leaf(group, "delete", "Delete a " + k.group, [&a, k, record_path](Client& c) {
    return c.Delete(record_path(), Named(k.group, a.name));
  });
  for (CLI::App* cmd : {get, definition, del}) {
    cmd->add_option("name", a.name, k.group + " name or ID")->required();
    cmd->add_option("--namespace", a.namespace_, "Namespace");
  }
  auto* validate = r.Leaf(
      group, "validate", "Validate a YAML file against the server (exit 1 when it is not valid)",
      [&a, k](Client& c) {
        auto yaml = ReadTextFile(a.file, k.group + " definition", c.err());
        if (!yaml) return 2;
        auto reply = c.Call("POST", k.path + "/validate", *yaml, "text/plain");
        bool valid = false;
        int code = c.Finish(reply, [&](const Json& body) {
          if (body.is_object())
            PrintObject(c.out(), {{"Valid", "valid"}, {"Error", "error"}}, body.as_object());
        });
        if (code != 0) return code;
        auto parsed = ParseJson(reply->body);
        if (parsed.ok() && parsed->is_object()) {
          const Json* v = parsed->as_object().if_contains("valid");
          valid = v != nullptr && v->is_bool() && v->as_bool();
        }
        return valid ? 0 : 1;
      });
  validate->add_option("file", a.file, "Workflow Language v2 YAML file")->required();
}

// `bora action run NAME`: POST /v2/action_executions; --wait follows a RUNNING one.
int RunAction(Client& c, ClientArgs& a) {
  auto input = ReadJsonArg(a.input.empty() ? "{}" : a.input, "--input", c.err());
  if (!input) return 2;
  JsonObject params;
  if (a.save_result) params["save_result"] = true;
  if (a.run_sync) params["run_sync"] = true;
  JsonObject body{{"name", a.name}, {"input", *input}, {"params", params}};
  if (!a.namespace_.empty()) body["workflow_namespace"] = a.namespace_;
  if (!a.description.empty()) body["description"] = a.description;
  auto reply = c.Call("POST", "/v2/action_executions", DumpJson(body));
  if (!reply) return 3;
  if (int code = c.CheckError(*reply, Named("action", a.name))) return code;
  auto parsed = ParseJson(reply->body);
  Json record = parsed.ok() ? *parsed : Json(nullptr);
  auto state_of = [](const Json& r) {
    const Json* s = r.is_object() ? r.as_object().if_contains("state") : nullptr;
    return s != nullptr && s->is_string() ? std::string(s->as_string()) : std::string();
  };
  if (a.wait && state_of(record) == "RUNNING") {
    const Json* id = record.as_object().if_contains("id");
    if (!a.save_result || id == nullptr || !id->is_string()) {
      c.err()
          << "bora: --wait on an asynchronous action needs --save-result (so the result is kept)\n";
      return 2;
    }
    // Action executions have no stream: poll their record.
    InterruptGuard guard;
    const auto start = std::chrono::steady_clock::now();
    const std::string action_id(id->as_string());
    while (state_of(record) == "RUNNING") {
      if (guard.flag().load()) {
        c.err() << "stopped waiting; action execution " << action_id << " is still RUNNING\n";
        return kExitInterrupted;
      }
      if (a.timeout_s > 0 &&
          std::chrono::steady_clock::now() - start > std::chrono::duration<double>(a.timeout_s)) {
        c.err() << "bora: timed out after " << a.timeout_s << " s waiting for action execution "
                << action_id << " (still RUNNING)\n";
        return kExitTimeout;
      }
      // A poll interval of the client, not a test waiting.
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (int code = c.GetJson("/v2/action_executions/" + Escape(action_id),
                               Named("action execution", action_id), &record))
        return code;
    }
    reply->body = DumpJson(record);
  }
  int code = c.Show(reply, kActionExecutionColumns);
  if (code != 0 || !a.wait) return code;
  return state_of(record) == "SUCCESS" ? 0 : 1;
}

}  // namespace

void AddDefinitionCommands(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  AddDefinitionVerbs(app, r, {"workbook", "/v2/workbooks", "", &kWorkbookColumns},
                     "Workbooks (REST /v2/workbooks)");
  AddDefinitionVerbs(app, r, {"workflow", "/v2/workflows", "workflows", &kWorkflowColumns},
                     "Workflow definitions (REST /v2/workflows)");
  AddDefinitionVerbs(app, r, {"action", "/v2/actions", "actions", &kActionColumns},
                     "Actions: ad-hoc and system (REST /v2/actions, /v2/action_executions)");

  auto* graph = r.Leaf(
      app.get_subcommand("workflow"), "graph", "Print a workflow's tasks and transitions",
      [&a](Client& c) {
        auto reply = c.Call("GET", WithQuery("/v2/workflows/" + Escape(a.name) + "/graph",
                                             {{"namespace", a.namespace_}}));
        return c.Finish(
            reply,
            [&](const Json& body) {
              PrintList(c.out(),
                        {{"ID", "id"},
                         {"Kind", "kind"},
                         {"Task", "task"},
                         {"Action", "action"},
                         {"Workflow", "workflow"},
                         {"Line", "line"}},
                        ArrayAt(body, "nodes"));
              PrintList(
                  c.out(),
                  {{"From", "from"}, {"To", "to"}, {"Kind", "kind"}, {"Condition", "condition"}},
                  ArrayAt(body, "edges"));
            },
            Named("workflow", a.name));
      });
  graph->add_option("name", a.name, "Workflow name or ID")->required();
  graph->add_option("--namespace", a.namespace_, "Namespace");

  CLI::App* action = app.get_subcommand("action");
  auto* run = r.Leaf(action, "run", "Run an action directly (POST /v2/action_executions)",
                     [&a](Client& c) { return RunAction(c, a); });
  run->add_option("name", a.name, "Action name")->required();
  run->add_option("--input,-i", a.input, "Input as a JSON object, or @file");
  run->add_flag("--save-result,-s", a.save_result,
                "Store the action execution (action-execution get)");
  run->add_flag("--run-sync", a.run_sync,
                "Wait for an asynchronous action's result in the request");
  run->add_option("--namespace", a.namespace_, "Namespace of an ad-hoc action");
  run->add_option("--description,-d", a.description, "Description");
  r.AddWaitFlags(run, "the action execution (with --save-result)");

  // environment
  CLI::App* env = app.add_subcommand("environment", "Environments (REST /v2/environments)");
  env->require_subcommand(1);
  auto* env_list = r.Leaf(env, "list", "List environments", [&a, &r](Client& c) {
    std::string path;
    if (!r.ListPath("/v2/environments", {}, c.err(), &path)) return 2;
    return c.List(path, "environments", kEnvironmentColumns);
  });
  r.AddListFlags(env_list);
  auto* env_get = r.Leaf(env, "get", "Show an environment", [&a](Client& c) {
    return c.Show(c.Call("GET", "/v2/environments/" + Escape(a.name)), kEnvironmentColumns,
                  Named("environment", a.name));
  });
  env_get->add_option("name", a.name, "Environment name")->required();
  auto store = [&a](const std::string& method) {
    return [&a, method](Client& c) {
      auto text = ReadTextFile(a.file, "environment", c.err());
      if (!text) return 2;
      // JSON or YAML, as python-mistralclient reads it: {name, description, variables, scope}.
      auto parsed = YamlToJson(*text);
      if (!parsed.ok() || !parsed->is_object()) {
        c.err() << "bora: environment file " << a.file << " is not a YAML or JSON object"
                << (parsed.ok() ? std::string() : ": " + parsed.status().message()) << "\n";
        return 2;
      }
      std::string name;
      if (const Json* n = parsed->as_object().if_contains("name"); n && n->is_string())
        name = std::string(n->as_string());
      return c.Show(c.Call(method, "/v2/environments", DumpJson(*parsed)), kEnvironmentColumns,
                    Named("environment", name));
    };
  };
  r.Leaf(env, "create", "Create an environment from a JSON or YAML file", store("POST"))
      ->add_option("file", a.file, "File with name, description, variables, scope")
      ->required();
  r.Leaf(env, "update", "Replace an environment by a JSON or YAML file", store("PUT"))
      ->add_option("file", a.file, "File with name, description, variables, scope")
      ->required();
  r.Leaf(env, "delete", "Delete an environment",
         [&a](Client& c) {
           return c.Delete("/v2/environments/" + Escape(a.name), Named("environment", a.name));
         })
      ->add_option("name", a.name, "Environment name")
      ->required();
}

}  // namespace bora::cli
