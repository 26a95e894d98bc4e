// `bora execution|task|action-execution ...`: workflow executions, task executions and action
// executions of the REST API (/v2/executions, /v2/tasks, /v2/action_executions), with `--wait`.
#include <CLI/CLI.hpp>
#include <ostream>

#include "cli/client_registry.h"
#include "cli/client_wait.h"
#include "common/ids.h"

namespace bora::cli {
namespace {

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
}  // namespace

const std::vector<Column> kActionExecutionColumns = {{"ID", "id"},
                                                     {"Name", "name"},
                                                     {"Workflow name", "workflow_name"},
                                                     {"Task name", "task_name"},
                                                     {"Task ID", "task_execution_id"},
                                                     {"State", "state"},
                                                     {"State info", "state_info", true},
                                                     {"Accepted", "accepted"},
                                                     {"Created at", "created_at"},
                                                     {"Updated at", "updated_at"}};

namespace {

std::string StringOf(const Json& record, const char* key) {
  const Json* v = record.is_object() ? record.as_object().if_contains(key) : nullptr;
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// After a command that changed execution `id` (the reply `reply`): without --wait prints the
// reply; with it waits for the execution and prints its final record (exit 0 SUCCESS, 1 ERROR or
// CANCELLED, 4 timeout, 130 Ctrl-C).
int ShowOrWait(Client& c, const ClientArgs& a, const std::optional<Reply>& reply,
               const std::vector<Column>& columns, const std::string& subject,
               const std::string& execution_key) {
  if (!a.wait) return c.Show(reply, columns, subject);
  if (!reply) return 3;
  if (int code = c.CheckError(*reply, subject)) return code;
  auto parsed = ParseJson(reply->body);
  const std::string id = parsed.ok() ? StringOf(*parsed, execution_key.c_str()) : std::string();
  if (id.empty()) {
    c.err() << "ERROR: the server's reply names no execution to wait for\n";
    return 1;
  }
  WaitResult waited;
  {
    InterruptGuard guard;
    waited = WaitForExecution(c, id, a.timeout_s, guard.flag());
  }
  if (waited.code != 0 && waited.code != 1) return waited.code;
  if (waited.state.empty()) return waited.code;  // a request failed (printed)
  int shown = c.Show(c.Call("GET", "/v2/executions/" + Escape(id)), kExecutionColumns,
                     Named("execution", id));
  return shown != 0 ? shown : waited.code;
}

// Prints the JSON-typed field `key` of the record at `path` (input, output, result, published).
int PrintField(Client& c, const std::string& path, const std::string& subject, const char* key) {
  Json record;
  if (int code = c.GetJson(path, subject, &record)) return code;
  c.PrintValue(record.is_object() ? JsonField(record.as_object(), key) : Json(nullptr));
  return 0;
}

// The report as a tree, one line per workflow, task and action execution.
void PrintReportTree(std::ostream& out, const Json& wf, int depth) {
  if (!wf.is_object()) return;
  const std::string indent(depth * 4, ' ');
  auto line = [&](const std::string& pad, const char* kind, const Json& o) {
    out << pad << kind << " '" << StringOf(o, "name") << "' [" << StringOf(o, "state") << "] "
        << StringOf(o, "id");
    std::string info = StringOf(o, "state_info");
    if (!info.empty()) out << ": " << info;
    out << "\n";
  };
  line(indent, "workflow", wf);
  const Json* tasks = wf.as_object().if_contains("task_executions");
  if (tasks == nullptr || !tasks->is_array()) return;
  for (const Json& t : tasks->as_array()) {
    line(indent + "  ", "task", t);
    if (!t.is_object()) continue;
    if (const Json* actions = t.as_object().if_contains("action_executions");
        actions && actions->is_array())
      for (const Json& ae : actions->as_array()) line(indent + "    ", "action", ae);
    if (const Json* subs = t.as_object().if_contains("workflow_executions");
        subs && subs->is_array())
      for (const Json& sub : subs->as_array()) PrintReportTree(out, sub, depth + 1);
  }
}

void AddExecutionGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* ex = app.add_subcommand("execution", "Workflow executions (REST /v2/executions)");
  ex->require_subcommand(1);
  auto create = [&a](Client& c) {
    JsonObject body;
    // Like python-mistralclient: a UUID names the workflow by id.
    body[IsUuidLike(a.workflow) ? "workflow_id" : "workflow_name"] = a.workflow;
    if (!SetJsonArg(&body, "input", a.input, "--input", c.err(), "{}") ||
        !SetJsonArg(&body, "params", a.params, "--params", c.err(), "{}"))
      return 2;
    if (!a.namespace_.empty()) body["workflow_namespace"] = a.namespace_;
    if (!a.description.empty()) body["description"] = a.description;
    return ShowOrWait(c, a, c.Call("POST", "/v2/executions", DumpJson(body)), kExecutionColumns,
                      Named("workflow", a.workflow), "id");
  };
  for (const char* verb : {"create", "start"}) {
    auto* cmd = r.Leaf(
        ex, verb, std::string(verb) == "create" ? "Start a workflow" : "Same as create", create);
    cmd->add_option("workflow", a.workflow, "Workflow name or ID")->required();
    cmd->add_option("--input,-i", a.input, "Input as a JSON object, or @file");
    cmd->add_option("--params,-p", a.params,
                    "Parameters as a JSON object (env, task_name, ...), or @file");
    cmd->add_option("--description,-d", a.description, "Description");
    cmd->add_option("--namespace", a.namespace_, "Workflow namespace");
    r.AddWaitFlags(cmd, "the execution");
  }
  auto exec_path = [&a] { return "/v2/executions/" + Escape(a.id); };
  auto* get = r.Leaf(ex, "get", "Show an execution", [&a, exec_path](Client& c) {
    return c.Show(c.Call("GET", exec_path()), kExecutionColumns, Named("execution", a.id));
  });
  auto* list = r.Leaf(ex, "list", "List executions", [&a, &r](Client& c) {
    std::string path;
    std::string created_at = a.created_after.empty() ? "" : "gte:" + a.created_after;
    if (!r.ListPath("/v2/executions",
                    {{"state", a.state},
                     {"workflow_name", a.workflow},
                     {"task_execution_id", a.task},
                     {"created_at", created_at},
                     {"created_before", a.created_before},
                     {"search", a.search},
                     {"include_output", a.include_output ? "true" : ""}},
                    c.err(), &path))
      return 2;
    return c.List(path, "executions", kExecutionColumns);
  });
  r.AddListFlags(list);
  list->add_option("--state", a.state, "Only executions in this state (RUNNING, SUCCESS, ...)");
  list->add_option("--workflow", a.workflow, "Only executions of this workflow (name)");
  list->add_option("--task", a.task, "Only sub-workflow executions of this task execution");
  list->add_option("--created-after", a.created_after,
                   "Only executions created at or after \"YYYY-MM-DD HH:MM:SS\" (UTC)");
  list->add_option("--created-before", a.created_before, "Only executions created before this");
  list->add_option("--search", a.search,
                   "Part of the id, workflow name, description or state info");
  list->add_flag("--include-output", a.include_output, "Include each execution's output (JSON)");
  auto* update = r.Leaf(
      ex, "update", "Change an execution's state (pause, resume, cancel, stop) or description",
      [&a, exec_path](Client& c) {
        JsonObject body;
        if (!a.state.empty()) body["state"] = a.state;
        if (!a.state_info.empty()) body["state_info"] = a.state_info;
        if (!a.description.empty()) body["description"] = a.description;
        if (!SetJsonArg(&body, "env", a.env, "--env", c.err())) return 2;
        if (body.empty()) {
          c.err() << "bora: nothing to update: give --state, --description or --env\n";
          return 2;
        }
        return ShowOrWait(c, a, c.Call("PUT", exec_path(), DumpJson(body)), kExecutionColumns,
                          Named("execution", a.id), "id");
      });
  update->add_option("--state,-s", a.state, "New state")
      ->check(CLI::IsMember({"RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED"}));
  update->add_option("--state-info", a.state_info, "Why (with SUCCESS/ERROR/CANCELLED)");
  update->add_option("--description,-d", a.description, "New description");
  update->add_option("--env", a.env, "Environment changes (with --state RUNNING), JSON or @file");
  r.AddWaitFlags(update, "the execution");
  auto state_change = [&a, exec_path](const std::string& state) {
    return [&a, state, exec_path](Client& c) {
      JsonObject body{{"state", state}};
      return ShowOrWait(c, a, c.Call("PUT", exec_path(), DumpJson(body)), kExecutionColumns,
                        Named("execution", a.id), "id");
    };
  };
  auto* pause = r.Leaf(ex, "pause", "Pause a running execution", state_change("PAUSED"));
  auto* resume = r.Leaf(ex, "resume", "Resume a paused execution", state_change("RUNNING"));
  auto* cancel = r.Leaf(ex, "cancel", "Cancel an execution", state_change("CANCELLED"));
  r.AddWaitFlags(resume, "the execution");
  auto* del = r.Leaf(ex, "delete", "Delete a completed execution (and its sub-workflow executions)",
                     [&a](Client& c) {
                       return c.Delete(WithQuery("/v2/executions/" + Escape(a.id),
                                                 {{"force", a.force ? "true" : ""}}),
                                       Named("execution", a.id));
                     });
  del->add_flag("--force", a.force, "Also a live execution (it is cancelled first)");
  auto* input = r.Leaf(ex, "get-input", "Print an execution's input", [&a, exec_path](Client& c) {
    return PrintField(c, exec_path(), Named("execution", a.id), "input");
  });
  auto* output =
      r.Leaf(ex, "get-output", "Print an execution's output", [&a, exec_path](Client& c) {
        return PrintField(c, exec_path(), Named("execution", a.id), "output");
      });
  auto report = [&a, exec_path](Client& c) {
    auto reply = c.Call(
        "GET", WithQuery(exec_path() + "/report",
                         {{"errors_only", a.errors_only ? "true" : ""},
                          {"max_depth", a.max_depth >= 0 ? std::to_string(a.max_depth) : ""}}));
    return c.Finish(
        reply,
        [&](const Json& body) {
          if (!body.is_object()) return;
          if (const Json* root = body.as_object().if_contains("root_workflow_execution"))
            PrintReportTree(c.out(), *root, 0);
          if (const Json* stats = body.as_object().if_contains("statistics");
              stats && stats->is_object())
            PrintAnyObject(c.out(), stats->as_object());
        },
        Named("execution", a.id));
  };
  auto* subs = r.Leaf(
      ex, "sub-executions", "List an execution and its sub-workflow executions, depth first",
      [&a, exec_path](Client& c) {
        return c.List(WithQuery(exec_path() + "/executions",
                                {{"errors_only", a.errors_only ? "true" : ""},
                                 {"max_depth", a.max_depth >= 0 ? std::to_string(a.max_depth) : ""},
                                 {"include_output", a.include_output ? "true" : ""}}),
                      "executions", kExecutionColumns, Named("execution", a.id));
      });
  subs->add_flag("--errors-only", a.errors_only, "Only the failed branches");
  subs->add_option("--max-depth", a.max_depth, "Sub-workflow depth (-1: all)")
      ->capture_default_str();
  subs->add_flag("--include-output", a.include_output, "Include each execution's output");
  auto* counts = r.Leaf(ex, "counts", "Count executions per state", [&a, &r](Client& c) {
    std::string path;
    if (!r.ListPath("/v2/executions/counts",
                    {{"workflow_name", a.workflow},
                     {"search", a.search},
                     {"created_before", a.created_before}},
                    c.err(), &path, /*paging=*/false))
      return 2;
    return c.Finish(c.Call("GET", path), [&](const Json& body) {
      if (!body.is_object()) return;
      std::vector<std::vector<std::string>> rows;
      if (const Json* by_state = body.as_object().if_contains("counts");
          by_state && by_state->is_object())
        for (const auto& kv : by_state->as_object())
          rows.push_back({std::string(kv.key()), DumpJson(kv.value())});
      if (const Json* total = body.as_object().if_contains("total"))
        rows.push_back({"total", DumpJson(*total)});
      PrintTable(c.out(), {"State", "Count"}, rows);
    });
  });
  counts->add_option("--workflow", a.workflow, "Only executions of this workflow (name)");
  counts->add_option("--search", a.search,
                     "Part of the id, workflow name, description or state info");
  counts->add_option("--created-before", a.created_before, "Only executions created before this");
  counts->add_option("--filter", a.filters, "FIELD=[OP:]VALUE, as list's (repeatable)");
  std::vector<CLI::App*> by_id = {get, update, pause, resume, cancel, del, input, output, subs};
  for (const char* verb : {"report", "get-report"}) {
    auto* cmd =
        r.Leaf(ex, verb,
               std::string(verb) == "report" ? "Print an execution's report: its tree of workflow, "
                                               "task and action executions and task statistics"
                                             : "Same as report",
               report);
    cmd->add_flag("--errors-only", a.errors_only, "Only the failed branches");
    cmd->add_option("--max-depth", a.max_depth, "Sub-workflow depth (-1: all)")
        ->capture_default_str();
    by_id.push_back(cmd);
  }
  for (CLI::App* cmd : by_id) cmd->add_option("id", a.id, "Execution ID")->required();
}

void AddTaskGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* task = app.add_subcommand("task", "Task executions (REST /v2/tasks)");
  task->require_subcommand(1);
  auto task_path = [&a] { return "/v2/tasks/" + Escape(a.id); };
  auto* list = r.Leaf(task, "list", "List task executions", [&a, &r](Client& c) {
    std::string base =
        a.execution.empty() ? "/v2/tasks" : "/v2/executions/" + Escape(a.execution) + "/tasks";
    std::string path;
    if (!r.ListPath(base, {{"state", a.state}, {"workflow_name", a.workflow}, {"name", a.task}},
                    c.err(), &path))
      return 2;
    return c.List(path, "tasks", kTaskColumns);
  });
  list->add_option("--execution,-e", a.execution, "Only the tasks of this workflow execution");
  list->add_option("--state", a.state, "Only tasks in this state");
  list->add_option("--workflow", a.workflow, "Only tasks of this workflow (name)");
  list->add_option("--name", a.task, "Only tasks of this name");
  r.AddListFlags(list);
  auto* get = r.Leaf(task, "get", "Show a task execution", [&a, task_path](Client& c) {
    return c.Show(c.Call("GET", task_path()), kTaskColumns, Named("task execution", a.id));
  });
  auto* result = r.Leaf(task, "get-result", "Print a task's result", [&a, task_path](Client& c) {
    return PrintField(c, task_path(), Named("task execution", a.id), "result");
  });
  auto* published =
      r.Leaf(task, "get-published", "Print what a task published", [&a, task_path](Client& c) {
        return PrintField(c, task_path(), Named("task execution", a.id), "published");
      });
  auto* rerun = r.Leaf(task, "rerun", "Rerun a failed task", [&a, task_path](Client& c) {
    JsonObject body{{"id", a.id}, {"state", "RUNNING"}, {"reset", a.reset}};
    if (!SetJsonArg(&body, "env", a.env, "--env", c.err())) return 2;
    return ShowOrWait(c, a, c.Call("PUT", task_path(), DumpJson(body)), kTaskColumns,
                      Named("task execution", a.id), "workflow_execution_id");
  });
  rerun->add_flag("--reset", a.reset,
                  "Discard the task's completed action executions (with-items)");
  rerun->add_option("--env", a.env, "Environment changes, JSON or @file");
  r.AddWaitFlags(rerun, "the task's workflow execution");
  auto* skip =
      r.Leaf(task, "skip", "Skip a failed task (its workflow goes on)", [&a, task_path](Client& c) {
        JsonObject body{{"id", a.id}, {"state", "SKIPPED"}};
        return c.Show(c.Call("PUT", task_path(), DumpJson(body)), kTaskColumns,
                      Named("task execution", a.id));
      });
  auto* items =
      r.Leaf(task, "items", "List a task's action executions in with-items order",
             [&a, task_path](Client& c) {
               return c.List(WithQuery(task_path() + "/items",
                                       {{"offset", a.offset > 0 ? std::to_string(a.offset) : ""},
                                        {"limit", a.limit > 0 ? std::to_string(a.limit) : ""},
                                        {"state", a.state}}),
                             "items",
                             {{"Index", "index"},
                              {"Action execution ID", "action_execution_id"},
                              {"Name", "name"},
                              {"State", "state"},
                              {"State info", "state_info", true},
                              {"Attempt", "attempt"},
                              {"Updated at", "updated_at"}},
                             Named("task execution", a.id));
             });
  items->add_option("--offset", a.offset, "Skip this many items")->capture_default_str();
  items->add_option("--limit", a.limit, "At most this many items (0: the server's page)")
      ->capture_default_str();
  items->add_option("--state", a.state, "Only items in this state");
  auto* subs =
      r.Leaf(task, "sub-executions", "List the workflow executions a task started",
             [&a, task_path](Client& c) {
               return c.List(WithQuery(task_path() + "/executions",
                                       {{"include_output", a.include_output ? "true" : ""}}),
                             "executions", kExecutionColumns, Named("task execution", a.id));
             });
  subs->add_flag("--include-output", a.include_output, "Include each execution's output");
  for (CLI::App* cmd : {get, result, published, rerun, skip, items, subs})
    cmd->add_option("id", a.id, "Task execution ID")->required();
}

void AddActionExecutionGroup(CLI::App& app, ClientRegistry& r) {
  ClientArgs& a = r.args();
  CLI::App* ae =
      app.add_subcommand("action-execution", "Action executions (REST /v2/action_executions)");
  ae->require_subcommand(1);
  auto ae_path = [&a] { return "/v2/action_executions/" + Escape(a.id); };
  auto* list = r.Leaf(ae, "list", "List action executions", [&a, &r](Client& c) {
    std::string base = a.task.empty() ? "/v2/action_executions"
                                      : "/v2/tasks/" + Escape(a.task) + "/action_executions";
    std::string path;
    if (!r.ListPath(base, {{"state", a.state}}, c.err(), &path)) return 2;
    return c.List(path, "action_executions", kActionExecutionColumns);
  });
  list->add_option("--task,-t", a.task, "Only the action executions of this task execution");
  list->add_option("--state", a.state, "Only action executions in this state");
  r.AddListFlags(list);
  auto* get = r.Leaf(ae, "get", "Show an action execution", [&a, ae_path](Client& c) {
    return c.Show(c.Call("GET", ae_path()), kActionExecutionColumns,
                  Named("action execution", a.id));
  });
  auto* input =
      r.Leaf(ae, "get-input", "Print an action execution's input", [&a, ae_path](Client& c) {
        return PrintField(c, ae_path(), Named("action execution", a.id), "input");
      });
  auto* output =
      r.Leaf(ae, "get-output", "Print an action execution's output", [&a, ae_path](Client& c) {
        return PrintField(c, ae_path(), Named("action execution", a.id), "output");
      });
  auto* update =
      r.Leaf(ae, "update", "Complete an asynchronous action execution", [&a, ae_path](Client& c) {
        JsonObject body{{"state", a.state}};
        if (!SetJsonArg(&body, "output", a.data, "--output-value", c.err(), nullptr, false))
          return 2;
        return c.Show(c.Call("PUT", ae_path(), DumpJson(body)), kActionExecutionColumns,
                      Named("action execution", a.id));
      });
  update->add_option("--state,-s", a.state, "Final state")
      ->check(CLI::IsMember({"SUCCESS", "ERROR", "CANCELLED"}))
      ->required();
  update->add_option("--output-value", a.data, "The action's output as JSON, or @file");
  auto* del = r.Leaf(
      ae, "delete", "Delete an action execution (the server refuses, as Mistral's default)",
      [&a, ae_path](Client& c) { return c.Delete(ae_path(), Named("action execution", a.id)); });
  for (CLI::App* cmd : {get, input, output, update, del})
    cmd->add_option("id", a.id, "Action execution ID")->required();
}

}  // namespace

void AddExecutionCommands(CLI::App& app, ClientRegistry& r) {
  AddExecutionGroup(app, r);
  AddTaskGroup(app, r);
  AddActionExecutionGroup(app, r);
}

}  // namespace bora::cli
