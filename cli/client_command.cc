#include "cli/client_command.h"

#include <curl/curl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/json.h"

namespace bora::cli {
namespace {

constexpr const char* kDefaultUrl = "http://127.0.0.1:8989";

struct Connection {
  std::string url;
  std::string token;
  bool json = false;
};

// -----------------------------------------------------------------------------------------------
// Tables in python-mistralclient's (cliff's) style.

struct Column {
  std::string header;
  std::string key;
  bool cut =
      false;  // lists shorten long free-text fields to 25 characters + "..." like mistralclient
};

std::string Cell(const JsonObject& o, const Column& c, bool list) {
  auto it = o.find(c.key);
  if (it == o.end() || it->value().is_null()) return "<none>";
  const Json& v = it->value();
  std::string s;
  if (v.is_string()) {
    s = std::string(v.as_string());
  } else if (v.is_array()) {
    for (const Json& item : v.as_array()) s += (s.empty() ? "" : ", ") + PythonStr(item);
  } else {
    s = PythonStr(v);
  }
  if (list && c.cut && s.size() > 25) s = s.substr(0, 25) + "...";
  return s;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  if (out.empty()) out.emplace_back();
  return out;
}

void PrintTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < width.size(); ++i)
      for (const std::string& line : Lines(row[i])) width[i] = std::max(width[i], line.size());
  auto rule = [&] {
    out << '+';
    for (size_t w : width) out << std::string(w + 2, '-') << '+';
    out << '\n';
  };
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> lines;
    size_t height = 1;
    for (const std::string& c : cells) {
      lines.push_back(Lines(c));
      height = std::max(height, lines.back().size());
    }
    for (size_t l = 0; l < height; ++l) {
      out << '|';
      for (size_t i = 0; i < width.size(); ++i) {
        std::string text = i < lines.size() && l < lines[i].size() ? lines[i][l] : "";
        out << ' ' << text << std::string(width[i] - text.size(), ' ') << " |";
      }
      out << '\n';
    }
  };
  rule();
  print_row(headers);
  rule();
  for (const auto& row : rows) print_row(row);
  rule();
}

void PrintList(std::ostream& out, const std::vector<Column>& columns, const JsonArray& items) {
  std::vector<std::string> headers;
  for (const Column& c : columns) headers.push_back(c.header);
  std::vector<std::vector<std::string>> rows;
  for (const Json& item : items) {
    if (!item.is_object()) continue;
    std::vector<std::string> row;
    for (const Column& c : columns) row.push_back(Cell(item.as_object(), c, true));
    rows.push_back(std::move(row));
  }
  PrintTable(out, headers, rows);
}

void PrintObject(std::ostream& out, const std::vector<Column>& columns, const JsonObject& o) {
  std::vector<std::vector<std::string>> rows;
  for (const Column& c : columns) rows.push_back({c.header, Cell(o, c, false)});
  PrintTable(out, {"Field", "Value"}, rows);
}

// Every field of an object whose shape we do not know in advance (event publish replies).
void PrintAnyObject(std::ostream& out, const JsonObject& o) {
  std::vector<Column> columns;
  for (const auto& kv : o) columns.push_back({std::string(kv.key()), std::string(kv.key())});
  PrintObject(out, columns, o);
}

const std::vector<Column> kWorkflowColumns = {{"ID", "id"},
                                              {"Name", "name"},
                                              {"Namespace", "namespace"},
                                              {"Project ID", "project_id"},
                                              {"Tags", "tags"},
                                              {"Input", "input", true},
                                              {"Scope", "scope"},
                                              {"Created at", "created_at"},
                                              {"Updated at", "updated_at"}};
const std::vector<Column> kExecutionColumns = {{"ID", "id"},
                                               {"Workflow ID", "workflow_id"},
                                               {"Workflow name", "workflow_name"},
                                               {"Workflow namespace", "workflow_namespace"},
                                               {"Description", "description", true},
                                               {"Task Execution ID", "task_execution_id"},
                                               {"Root Execution ID", "root_execution_id"},
                                               {"State", "state"},
                                               {"State info", "state_info", true},
                                               {"Created at", "created_at"},
                                               {"Updated at", "updated_at"}};
const std::vector<Column> kTaskColumns = {{"ID", "id"},
                                          {"Name", "name"},
                                          {"Workflow name", "workflow_name"},
                                          {"Workflow namespace", "workflow_namespace"},
                                          {"Workflow Execution ID", "workflow_execution_id"},
                                          {"State", "state"},
                                          {"State info", "state_info", true},
                                          {"Created at", "created_at"},
                                          {"Updated at", "updated_at"}};
const std::vector<Column> kCronColumns = {{"Name", "name"},
                                          {"ID", "id"},
                                          {"Workflow", "workflow_name"},
                                          {"Params", "workflow_params"},
                                          {"Pattern", "pattern"},
                                          {"Next execution time", "next_execution_time"},
                                          {"Remaining executions", "remaining_executions"},
                                          {"Created at", "created_at"},
                                          {"Updated at", "updated_at"}};

// -----------------------------------------------------------------------------------------------
// HTTP over libcurl.

struct Reply {
  long status = 0;
  std::string body;
};

size_t WriteCallback(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::string Escape(const std::string& segment) {
  std::string out;
  for (unsigned char c : segment) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* kHex = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

class Client {
 public:
  Client(Connection conn, std::ostream& out, std::ostream& err)
      : conn_(std::move(conn)), out_(out), err_(err) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (conn_.url.empty()) {
      const char* env = std::getenv("BORA_URL");
      conn_.url = env && *env ? env : kDefaultUrl;
    }
    if (conn_.token.empty()) {
      const char* env = std::getenv("BORA_TOKEN");
      if (env) conn_.token = env;
    }
    while (!conn_.url.empty() && conn_.url.back() == '/') conn_.url.pop_back();
    // python-mistralclient URLs end in /v2; our paths carry it.
    if (conn_.url.size() >= 3 && conn_.url.compare(conn_.url.size() - 3, 3, "/v2") == 0)
      conn_.url.resize(conn_.url.size() - 3);
  }

  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  bool json() const { return conn_.json; }

  // Performs one request. On a transport failure prints a message and returns nullopt (exit code
  // 3).
  std::optional<Reply> Call(const std::string& method, const std::string& path,
                            const std::string& body = "",
                            const std::string& content_type = "application/json") {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) {
      err_ << "bora: cannot initialise libcurl\n";
      return std::nullopt;
    }
    std::string url = conn_.url + path;
    Reply reply;
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
    if (!body.empty() || method == "POST" || method == "PUT")
      headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    if (!conn_.token.empty())
      headers = curl_slist_append(headers, ("Authorization: Bearer " + conn_.token).c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "POST" || method == "PUT" || !body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCallback);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "bora-client");
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (rc == CURLE_COULDNT_CONNECT) {
      err_ << "bora: cannot connect to the Bora API at " << conn_.url
           << " (connection refused). Is `bora serve` running? Set --url or BORA_URL.\n";
      return std::nullopt;
    }
    if (rc != CURLE_OK) {
      err_ << "bora: request to " << url << " failed: " << curl_easy_strerror(rc) << "\n";
      return std::nullopt;
    }
    return reply;
  }

  // Prints the error of a failed reply (status >= 400) and returns 1; 0 otherwise.
  int CheckError(const Reply& r) {
    if (r.status < 400) return 0;
    auto parsed = ParseJson(r.body);
    if (parsed.ok() && parsed->is_object() && parsed->as_object().contains("faultstring")) {
      const Json& f = parsed->as_object().at("faultstring");
      err_ << "ERROR: " << (f.is_string() ? std::string(f.as_string()) : PythonStr(f)) << "\n";
    } else {
      err_ << "ERROR: HTTP " << r.status << (r.body.empty() ? "" : ": " + r.body) << "\n";
    }
    return 1;
  }

  // The usual ending: error -> 1; --json -> the body; else `render(parsed body)`.
  int Finish(const std::optional<Reply>& r, const std::function<void(const Json&)>& render) {
    if (!r) return 3;
    if (int code = CheckError(*r)) return code;
    if (conn_.json) {
      if (!r->body.empty()) out_ << r->body << (r->body.back() == '\n' ? "" : "\n");
      return 0;
    }
    Json body = nullptr;
    if (!r->body.empty()) {
      auto parsed = ParseJson(r->body);
      if (!parsed.ok()) {
        err_ << "ERROR: the server sent a reply that is not JSON: " << parsed.status().message()
             << "\n";
        return 1;
      }
      body = std::move(*parsed);
    }
    render(body);
    return 0;
  }

  int List(const std::string& path, const std::string& collection,
           const std::vector<Column>& columns) {
    return Finish(Call("GET", path), [&](const Json& body) {
      static const JsonArray kEmpty;
      const JsonArray* items = &kEmpty;
      if (body.is_object() && body.as_object().contains(collection) &&
          body.as_object().at(collection).is_array())
        items = &body.as_object().at(collection).as_array();
      PrintList(out_, columns, *items);
    });
  }

  int Show(const std::optional<Reply>& r, const std::vector<Column>& columns) {
    return Finish(r, [&](const Json& body) {
      if (body.is_object()) PrintObject(out_, columns, body.as_object());
    });
  }

  int Delete(const std::string& path, const std::string& what) {
    return Finish(Call("DELETE", path), [&](const Json&) {
      out_ << "Request to delete " << what << " has been accepted.\n";
    });
  }

 private:
  Connection conn_;
  std::ostream& out_;
  std::ostream& err_;
};

// JSON text, or @path to read it from a file. The value must be an object. Prints the error (exit
// code 2).
std::optional<Json> ReadJsonArg(const std::string& text, const std::string& what, std::ostream& err,
                                bool object_only = true) {
  std::string content = text;
  if (!text.empty() && text.front() == '@') {
    std::ifstream in(text.substr(1));
    if (!in) {
      err << "bora: cannot read " << what << " file " << text.substr(1) << "\n";
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    content = ss.str();
  }
  auto parsed = ParseJson(content);
  if (!parsed.ok()) {
    err << "bora: " << what << " is not valid JSON: " << parsed.status().message() << "\n";
    return std::nullopt;
  }
  if (object_only && !parsed->is_object()) {
    err << "bora: " << what << " must be a JSON object\n";
    return std::nullopt;
  }
  return *parsed;
}

std::string WithQuery(std::string path,
                      const std::vector<std::pair<std::string, std::string>>& query) {
  char sep = '?';
  for (const auto& [k, v] : query) {
    if (v.empty()) continue;
    path += sep + Escape(k) + "=" + Escape(v);
    sep = '&';
  }
  return path;
}

}  // namespace

std::optional<std::string> FetchFromApi(const std::string& url, const std::string& token,
                                        const std::string& path, std::ostream& err) {
  std::ostringstream unused;
  Client client(Connection{url, token, false}, unused, err);
  auto reply = client.Call("GET", path);
  if (!reply || client.CheckError(*reply) != 0) return std::nullopt;
  return reply->body;
}

struct ClientCommands::State {
  Connection conn;
  // Arguments; one leaf command runs per process, so they share storage.
  std::string file, name, id, workflow, input, params, description, pattern, first_time, execution;
  std::string namespace_, type, source, subject, data, event_id;
  int count = -1;
  int limit = 0;
  bool reset = false;
  bool force = false;
  std::vector<std::pair<CLI::App*, std::function<int(Client&)>>> leaves;
};

ClientCommands::ClientCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  State& s = *state_;
  auto leaf = [&](CLI::App* group, const std::string& name, const std::string& help,
                  std::function<int(Client&)> run) {
    CLI::App* cmd = group->add_subcommand(name, help);
    cmd->add_option("--url", s.conn.url, "API URL (default: $BORA_URL or http://127.0.0.1:8989)");
    cmd->add_option("--token", s.conn.token, "Bearer token (default: $BORA_TOKEN)");
    cmd->add_flag("--json", s.conn.json, "Print the server's JSON instead of a table");
    s.leaves.emplace_back(cmd, std::move(run));
    return cmd;
  };
  auto limit = [&](CLI::App* cmd) {
    cmd->add_option("--limit", s.limit, "At most this many items");
  };
  auto limit_query = [&s] { return s.limit > 0 ? std::to_string(s.limit) : std::string(); };

  // workflow
  CLI::App* wf = app.add_subcommand("workflow", "Workflow definitions (REST /v2/workflows)");
  wf->require_subcommand(1);
  auto* wf_create = leaf(wf, "create", "Store the workflows of a YAML file", [&s](Client& c) {
    std::ifstream in(s.file);
    if (!in) {
      c.err() << "bora: cannot read " << s.file << "\n";
      return 2;
    }
    std::stringstream yaml;
    yaml << in.rdbuf();
    auto r = c.Call("POST", WithQuery("/v2/workflows", {{"namespace", s.namespace_}}), yaml.str(),
                    "text/plain");
    return c.Finish(r, [&](const Json& body) {
      JsonArray items;
      if (body.is_object() && body.as_object().contains("workflows") &&
          body.as_object().at("workflows").is_array())
        items = body.as_object().at("workflows").as_array();
      PrintList(c.out(), kWorkflowColumns, items);
    });
  });
  wf_create->add_option("file", s.file, "Workflow Language v2 YAML file")->required();
  wf_create->add_option("--namespace", s.namespace_, "Namespace");
  auto* wf_list = leaf(wf, "list", "List workflows", [&s, limit_query](Client& c) {
    return c.List(
        WithQuery("/v2/workflows", {{"limit", limit_query()}, {"namespace", s.namespace_}}),
        "workflows", kWorkflowColumns);
  });
  limit(wf_list);
  wf_list->add_option("--namespace", s.namespace_, "Only this namespace");
  auto* wf_get = leaf(wf, "get", "Show a workflow", [&s](Client& c) {
    return c.Show(
        c.Call("GET", WithQuery("/v2/workflows/" + Escape(s.name), {{"namespace", s.namespace_}})),
        kWorkflowColumns);
  });
  wf_get->add_option("name", s.name, "Workflow name or ID")->required();
  wf_get->add_option("--namespace", s.namespace_, "Namespace");
  auto* wf_delete = leaf(wf, "delete", "Delete a workflow", [&s](Client& c) {
    return c.Delete(WithQuery("/v2/workflows/" + Escape(s.name), {{"namespace", s.namespace_}}),
                    "workflow " + s.name);
  });
  wf_delete->add_option("name", s.name, "Workflow name or ID")->required();
  wf_delete->add_option("--namespace", s.namespace_, "Namespace");

  // execution
  CLI::App* ex = app.add_subcommand("execution", "Workflow executions (REST /v2/executions)");
  ex->require_subcommand(1);
  auto* ex_start = leaf(ex, "start", "Start a workflow", [&s](Client& c) {
    JsonObject body;
    // Like python-mistralclient: a UUID names the workflow by id.
    body[IsUuidLike(s.workflow) ? "workflow_id" : "workflow_name"] = s.workflow;
    auto input = ReadJsonArg(s.input.empty() ? "{}" : s.input, "--input", c.err());
    if (!input) return 2;
    auto params = ReadJsonArg(s.params.empty() ? "{}" : s.params, "--params", c.err());
    if (!params) return 2;
    if (!s.namespace_.empty()) body["workflow_namespace"] = s.namespace_;
    // Like python-mistralclient: json-typed fields are sent as JSON-encoded strings.
    body["input"] = PythonJsonDumps(*input);
    body["params"] = PythonJsonDumps(*params);
    if (!s.description.empty()) body["description"] = s.description;
    return c.Show(c.Call("POST", "/v2/executions", DumpJson(body)), kExecutionColumns);
  });
  ex_start->add_option("workflow", s.workflow, "Workflow name or ID")->required();
  ex_start->add_option("--input,-i", s.input, "Input as a JSON object, or @file");
  ex_start->add_option("--params,-p", s.params,
                       "Parameters as a JSON object (env, task_name, ...), or @file");
  ex_start->add_option("--description,-d", s.description, "Description");
  ex_start->add_option("--namespace", s.namespace_, "Workflow namespace");
  auto* ex_get = leaf(ex, "get", "Show an execution", [&s](Client& c) {
    return c.Show(c.Call("GET", "/v2/executions/" + Escape(s.id)), kExecutionColumns);
  });
  ex_get->add_option("id", s.id, "Execution ID")->required();
  auto* ex_list = leaf(ex, "list", "List executions", [limit_query](Client& c) {
    return c.List(WithQuery("/v2/executions", {{"limit", limit_query()}}), "executions",
                  kExecutionColumns);
  });
  limit(ex_list);
  auto state_change = [&s](const std::string& state) {
    return [&s, state](Client& c) {
      JsonObject body{{"state", state}};
      return c.Show(c.Call("PUT", "/v2/executions/" + Escape(s.id), DumpJson(body)),
                    kExecutionColumns);
    };
  };
  leaf(ex, "pause", "Pause a running execution", state_change("PAUSED"))
      ->add_option("id", s.id, "Execution ID")
      ->required();
  leaf(ex, "resume", "Resume a paused execution", state_change("RUNNING"))
      ->add_option("id", s.id, "Execution ID")
      ->required();
  leaf(ex, "cancel", "Cancel an execution", state_change("CANCELLED"))
      ->add_option("id", s.id, "Execution ID")
      ->required();
  auto* ex_delete = leaf(ex, "delete", "Delete a completed execution (and its sub-workflow executions)",
                         [&s](Client& c) {
                           return c.Delete(WithQuery("/v2/executions/" + Escape(s.id),
                                                     {{"force", s.force ? "true" : ""}}),
                                           "execution " + s.id);
                         });
  ex_delete->add_option("id", s.id, "Execution ID")->required();
  ex_delete->add_flag("--force", s.force, "Also a live execution (it is cancelled first)");

  // task
  CLI::App* task = app.add_subcommand("task", "Task executions (REST /v2/tasks)");
  task->require_subcommand(1);
  auto* task_list = leaf(task, "list", "List task executions", [&s, limit_query](Client& c) {
    std::string path =
        s.execution.empty() ? "/v2/tasks" : "/v2/executions/" + Escape(s.execution) + "/tasks";
    return c.List(WithQuery(path, {{"limit", limit_query()}}), "tasks", kTaskColumns);
  });
  task_list->add_option("--execution,-e", s.execution, "Only the tasks of this workflow execution");
  limit(task_list);
  auto* task_rerun = leaf(task, "rerun", "Rerun a failed task", [&s](Client& c) {
    JsonObject body{{"id", s.id}, {"state", "RUNNING"}, {"reset", s.reset}};
    return c.Show(c.Call("PUT", "/v2/tasks/" + Escape(s.id), DumpJson(body)), kTaskColumns);
  });
  task_rerun->add_option("id", s.id, "Task execution ID")->required();
  task_rerun->add_flag("--reset", s.reset,
                       "Discard the task's completed action executions (with-items)");

  // cron
  CLI::App* cron = app.add_subcommand("cron", "Cron triggers (REST /v2/cron_triggers)");
  cron->require_subcommand(1);
  auto* cron_create = leaf(cron, "create", "Create a cron trigger", [&s](Client& c) {
    auto input = ReadJsonArg(s.input.empty() ? "{}" : s.input, "--input", c.err());
    if (!input) return 2;
    JsonObject body;
    body["name"] = s.name;
    body[IsUuidLike(s.workflow) ? "workflow_id" : "workflow_name"] = s.workflow;
    body["workflow_input"] = PythonJsonDumps(*input);
    if (!s.params.empty()) {
      auto params = ReadJsonArg(s.params, "--params", c.err());
      if (!params) return 2;
      body["workflow_params"] = PythonJsonDumps(*params);
    }
    body["pattern"] = s.pattern.empty() ? Json(nullptr) : Json(s.pattern);
    body["first_execution_time"] = s.first_time.empty() ? Json(nullptr) : Json(s.first_time);
    body["remaining_executions"] = s.count < 0 ? Json(nullptr) : Json(s.count);
    return c.Show(c.Call("POST", "/v2/cron_triggers", DumpJson(body)), kCronColumns);
  });
  cron_create->add_option("name", s.name, "Trigger name")->required();
  cron_create->add_option("workflow", s.workflow, "Workflow name or ID")->required();
  cron_create->add_option("--pattern", s.pattern, "Cron pattern, UTC (\"*/5 * * * *\")");
  cron_create->add_option("--input,-i", s.input, "Workflow input as a JSON object, or @file");
  cron_create->add_option("--params,-p", s.params,
                          "Workflow parameters as a JSON object, or @file");
  cron_create->add_option("--first-time", s.first_time, "First run, \"YYYY-MM-DD HH:MM\" UTC");
  cron_create->add_option("--count", s.count, "Number of runs (remaining_executions)");
  auto* cron_list = leaf(cron, "list", "List cron triggers", [limit_query](Client& c) {
    return c.List(WithQuery("/v2/cron_triggers", {{"limit", limit_query()}}), "cron_triggers",
                  kCronColumns);
  });
  limit(cron_list);
  leaf(cron, "get", "Show a cron trigger",
       [&s](Client& c) {
         return c.Show(c.Call("GET", "/v2/cron_triggers/" + Escape(s.name)), kCronColumns);
       })
      ->add_option("name", s.name, "Trigger name or ID")
      ->required();
  leaf(cron, "delete", "Delete a cron trigger",
       [&s](Client& c) {
         return c.Delete("/v2/cron_triggers/" + Escape(s.name), "cron trigger " + s.name);
       })
      ->add_option("name", s.name, "Trigger name or ID")
      ->required();

  // event
  CLI::App* event = app.add_subcommand("event", "CloudEvents (REST /v2/events)");
  event->require_subcommand(1);
  auto* publish = leaf(event, "publish", "Publish a CloudEvent (structured mode)", [&s](Client& c) {
    JsonObject ce;
    ce["specversion"] = "1.0";
    ce["id"] = s.event_id.empty() ? NewUuid() : s.event_id;
    ce["source"] = s.source;
    ce["type"] = s.type;
    if (!s.subject.empty()) ce["subject"] = s.subject;
    ce["time"] = FormatIsoTime(SystemClock::Get()->NowUs());
    if (!s.data.empty()) {
      auto data = ReadJsonArg(s.data, "--data", c.err(), /*object_only=*/false);
      if (!data) return 2;
      ce["datacontenttype"] = "application/json";
      ce["data"] = *data;
    }
    auto r = c.Call("POST", "/v2/events", DumpJson(ce), "application/cloudevents+json");
    return c.Finish(r, [&](const Json& body) {
      if (body.is_object() && !body.as_object().empty()) {
        PrintAnyObject(c.out(), body.as_object());
      } else {
        c.out() << "Event " << std::string(ce["id"].as_string()) << " accepted.\n";
      }
    });
  });
  publish->add_option("--type", s.type, "CloudEvents type")->required();
  publish->add_option("--source", s.source, "CloudEvents source (URI reference)")->required();
  publish->add_option("--subject", s.subject, "CloudEvents subject");
  publish->add_option("--data", s.data, "Event data as JSON, or @file");
  publish->add_option("--id", s.event_id,
                      "Event id (default: a new UUID); the server dedupes on it");

  // admin
  CLI::App* admin = app.add_subcommand("admin", "Operations on a server's own data");
  admin->require_subcommand(1);
  leaf(admin, "backup",
       "Copy the data directory of a running `bora serve --data-dir` into DIRECTORY, consistently "
       "and without stopping it (on the server's host; DIRECTORY must not exist); `bora serve "
       "--data-dir DIRECTORY` starts from the copy",
       [&s](Client& c) {
         std::error_code ec;
         const std::string dir = std::filesystem::absolute(s.file, ec).lexically_normal().string();
         JsonObject body;
         body["directory"] = ec ? s.file : dir;
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
      ->add_option("directory", s.file, "A directory that does not exist yet")
      ->required();
}

ClientCommands::~ClientCommands() = default;

bool ClientCommands::parsed() const {
  for (const auto& [cmd, run] : state_->leaves)
    if (cmd->parsed()) return true;
  return false;
}

int ClientCommands::Run(std::ostream& out, std::ostream& err) const {
  for (const auto& [cmd, run] : state_->leaves) {
    if (!cmd->parsed()) continue;
    Client client(state_->conn, out, err);
    return run(client);
  }
  err << "bora: no client command selected\n";
  return 2;
}

}  // namespace bora::cli
