// Every `bora` client command group against a real REST API: an ApiService serving HTTP on a free
// port over a threaded EmbeddedRuntime (the same parts `bora serve --in-memory` runs), so
// requests, replies, --wait over the execution stream, filters and output formats meet the real
// handlers.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "cli/client_command.h"
#include "cli/client_output.h"
#include "cli/client_test_support.h"
#include "cli/client_wait.h"
#include "common/ids.h"
#include "common/json.h"
#include "ingest/api/api_test_support.h"

namespace bora::cli {
namespace {

const char* kWorkflows = R"(version: '2.0'
ok_wf:
  input:
    - name: world
  output:
    greeting: <% $.greeting %>
  tasks:
    hello:
      action: std.echo output="hello <% $.name %>"
      publish:
        greeting: <% task().result %>
fail_wf:
  tasks:
    boom:
      action: std.fail
async_wf:
  tasks:
    hang:
      action: std.async_noop
)";

const char* kWorkbook = R"(version: '2.0'
name: my_wb
workflows:
  inner:
    tasks:
      t:
        action: std.noop
)";

class ClientE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    api::ApiServiceOptions options = api::ApiTestBackend::DefaultServiceOptions();
    options.serve_http = true;
    options.http.port = 0;
    runtime::EmbeddedOptions rt;  // threaded, as `bora serve`
    rt.partitions = 2;
    rt.worker_threads = 2;
    backend_ = std::make_unique<api::ApiTestBackend>(options, rt);
    ASSERT_TRUE(backend_->runtime().Start().ok());
    ASSERT_TRUE(backend_->service().Start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(backend_->service().port());
    ASSERT_EQ(Run({"workflow", "create", WriteTemp(kWorkflows)}).code, 0);
  }
  void TearDown() override {
    backend_->service().Stop();
    backend_->runtime().Stop();
    for (const auto& p : temp_files_) std::filesystem::remove(p);
  }

  CliResult Run(std::vector<std::string> args) {
    args.push_back("--url");
    args.push_back(url_);
    return RunClient(args);
  }

  std::string WriteTemp(const std::string& content) {
    auto path = std::filesystem::temp_directory_path() / ("bora-client-e2e-" + NewUuid());
    std::ofstream(path) << content;
    temp_files_.push_back(path);
    return path.string();
  }

  // The id of the execution a `-o json` command printed.
  static std::string IdOf(const CliResult& r) {
    auto parsed = ParseJson(r.out);
    if (!parsed.ok() || !parsed->is_object()) return "";
    return std::string(parsed->as_object().at("id").as_string());
  }

  std::unique_ptr<api::ApiTestBackend> backend_;
  std::string url_;
  std::vector<std::filesystem::path> temp_files_;
};

TEST_F(ClientE2eTest, WorkbookLifecycleAndErrorsNameIt) {
  const std::string file = WriteTemp(kWorkbook);
  CliResult created = Run({"workbook", "create", file});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_NE(created.out.find("my_wb"), std::string::npos) << created.out;
  EXPECT_NE(Run({"workbook", "list"}).out.find("my_wb"), std::string::npos);
  EXPECT_NE(Run({"workflow", "list"}).out.find("my_wb.inner"), std::string::npos);
  CliResult got = Run({"workbook", "get", "my_wb", "-o", "json"});
  ASSERT_EQ(got.code, 0) << got.err;
  EXPECT_EQ(ParseJson(got.out)->as_object().at("name"), Json("my_wb"));
  CliResult def = Run({"workbook", "get-definition", "my_wb"});
  EXPECT_EQ(def.out, kWorkbook);
  std::string updated =
      std::string(kWorkbook) + "  second:\n    tasks:\n      t:\n        action: std.noop\n";
  ASSERT_EQ(Run({"workbook", "update", WriteTemp(updated)}).code, 0);
  EXPECT_NE(Run({"workflow", "list"}).out.find("my_wb.second"), std::string::npos);
  EXPECT_EQ(Run({"workbook", "validate", file}).code, 0);
  CliResult invalid =
      Run({"workbook", "validate", WriteTemp("version: '2.0'\nname: x\nworkflows: 3\n")});
  EXPECT_EQ(invalid.code, 1);
  EXPECT_NE(invalid.out.find("False"), std::string::npos) << invalid.out;
  CliResult deleted = Run({"workbook", "delete", "my_wb"});
  ASSERT_EQ(deleted.code, 0) << deleted.err;
  EXPECT_EQ(deleted.out, "Request to delete workbook 'my_wb' has been accepted.\n");
  CliResult missing = Run({"workbook", "get", "my_wb"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err, "ERROR: workbook 'my_wb' not found\n");
  EXPECT_EQ(Run({"workflow", "get-definition", "nope"}).err, "ERROR: workflow 'nope' not found\n");
  CliResult no_file = Run({"workbook", "create", "/nonexistent/wb.yaml"});
  EXPECT_EQ(no_file.code, 2);
  EXPECT_NE(no_file.err.find("cannot read workbook definition file /nonexistent/wb.yaml"),
            std::string::npos)
      << no_file.err;
}

TEST_F(ClientE2eTest, WorkflowGetDefinitionUpdateValidate) {
  CliResult def = Run({"workflow", "get-definition", "ok_wf"});
  ASSERT_EQ(def.code, 0) << def.err;
  EXPECT_NE(def.out.find("ok_wf:"), std::string::npos) << def.out;
  EXPECT_EQ(Run({"workflow", "update", WriteTemp(kWorkflows)}).code, 0);
  EXPECT_EQ(Run({"workflow", "validate", WriteTemp(kWorkflows)}).code, 0);
  EXPECT_EQ(Run({"workflow", "validate", WriteTemp("version: '2.0'\nw:\n  tasks: 3\n")}).code, 1);
}

TEST_F(ClientE2eTest, EnvironmentLifecycle) {
  const std::string file =
      WriteTemp("name: env1\ndescription: first\nvariables:\n  host: example.org\n  port: 80\n");
  CliResult created = Run({"environment", "create", file});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_NE(created.out.find("env1"), std::string::npos);
  EXPECT_NE(Run({"environment", "list"}).out.find("env1"), std::string::npos);
  ASSERT_EQ(Run({"environment", "update",
                 WriteTemp(R"({"name": "env1", "variables": {"host": "other.org"}})")})
                .code,
            0);
  CliResult got = Run({"environment", "get", "env1", "-o", "json"});
  ASSERT_EQ(got.code, 0) << got.err;
  auto variables = ParseJson(ParseJson(got.out)->as_object().at("variables").as_string());
  EXPECT_EQ(DumpJson(*variables), R"({"host":"other.org"})");
  EXPECT_EQ(Run({"environment", "delete", "env1"}).code, 0);
  EXPECT_EQ(Run({"environment", "get", "env1"}).err, "ERROR: environment 'env1' not found\n");
}

TEST_F(ClientE2eTest, EventTriggerAndWebhookLifecycle) {
  CliResult created = Run({"event-trigger", "create", "on_order", "ok_wf", "--type",
                           "com.shop.order", "--input", R"({"name": "ev"})", "-o", "json"});
  ASSERT_EQ(created.code, 0) << created.err;
  const std::string id = IdOf(created);
  ASSERT_FALSE(id.empty());
  EXPECT_NE(Run({"event-trigger", "list"}).out.find("on_order"), std::string::npos);
  ASSERT_EQ(Run({"event-trigger", "update", id, "--name", "on_order2"}).code, 0);
  EXPECT_NE(Run({"event-trigger", "get", id}).out.find("on_order2"), std::string::npos);
  EXPECT_EQ(Run({"event-trigger", "delete", id}).code, 0);
  EXPECT_EQ(Run({"event-trigger", "get", id}).err, "ERROR: event trigger '" + id + "' not found\n");
  EXPECT_EQ(Run({"event-trigger", "create", "t", "no_such_wf", "--type", "x"}).err,
            "ERROR: workflow 'no_such_wf' not found\n");

  CliResult hook = Run({"webhook", "create", "alerts", "--format", "json", "-d", "pager"});
  ASSERT_EQ(hook.code, 0) << hook.err;
  EXPECT_NE(hook.out.find("/v2/webhooks/alerts"), std::string::npos) << hook.out;
  EXPECT_NE(Run({"webhook", "list"}).out.find("alerts"), std::string::npos);
  EXPECT_NE(Run({"webhook", "get", "alerts"}).out.find("pager"), std::string::npos);
  CliResult sent = Run({"webhook", "send", "alerts", "--data", R"({"alert": 1})"});
  EXPECT_EQ(sent.code, 0) << sent.err;
  EXPECT_NE(sent.out.find("accepted"), std::string::npos) << sent.out;
  EXPECT_EQ(Run({"webhook", "delete", "alerts"}).code, 0);
  EXPECT_EQ(Run({"webhook", "send", "alerts"}).err, "ERROR: webhook 'alerts' not found\n");
}

TEST_F(ClientE2eTest, ActionListGetRun) {
  EXPECT_NE(Run({"action", "list", "--limit", "1000"}).out.find("std.echo"), std::string::npos);
  EXPECT_NE(Run({"action", "get", "std.echo"}).out.find("output"), std::string::npos);
  CliResult ran = Run({"action", "run", "std.echo", "--input", R"({"output": "hi there"})",
                       "--save-result", "-o", "json"});
  ASSERT_EQ(ran.code, 0) << ran.err;
  auto record = ParseJson(ran.out);
  ASSERT_TRUE(record.ok()) << ran.out;
  EXPECT_EQ(record->as_object().at("state"), Json("SUCCESS"));
  const std::string id(record->as_object().at("id").as_string());
  CliResult output = Run({"action-execution", "get-output", id, "-o", "json"});
  EXPECT_EQ(output.out, "{\"result\":\"hi there\"}\n");
  EXPECT_NE(Run({"action-execution", "list"}).out.find(id), std::string::npos);
  CliResult failed = Run({"action", "run", "std.fail", "--wait"});
  EXPECT_EQ(failed.code, 1) << failed.out << failed.err;
  CliResult unknown = Run({"action", "run", "no.such.action"});
  EXPECT_EQ(unknown.code, 1);
}

TEST_F(ClientE2eTest, ExecutionCreateWaitExitCodesOutputReport) {
  CliResult ok = Run({"execution", "create", "ok_wf", "--input", R"({"name": "bora"})", "--wait",
                      "--timeout", "60", "-o", "json"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto record = ParseJson(ok.out);
  ASSERT_TRUE(record.ok()) << ok.out;
  EXPECT_EQ(record->as_object().at("state"), Json("SUCCESS"));
  const std::string id = IdOf(ok);
  CliResult output = Run({"execution", "get-output", id});
  EXPECT_EQ(output.out, "{\n    \"greeting\": \"hello bora\"\n}\n");
  CliResult input = Run({"execution", "get-input", id, "-o", "json"});
  EXPECT_EQ(input.out, "{\"name\":\"bora\"}\n");
  CliResult report = Run({"execution", "report", id});
  ASSERT_EQ(report.code, 0) << report.err;
  EXPECT_NE(report.out.find("workflow 'ok_wf' [SUCCESS] " + id), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("  task 'hello' [SUCCESS]"), std::string::npos) << report.out;
  EXPECT_NE(report.out.find("success_tasks_count"), std::string::npos) << report.out;
  CliResult tasks = Run({"task", "list", "--execution", id, "-o", "json"});
  auto task_list = ParseJson(tasks.out);
  ASSERT_TRUE(task_list.ok()) << tasks.out;
  const std::string task_id(
      task_list->as_object().at("tasks").as_array()[0].as_object().at("id").as_string());
  EXPECT_EQ(Run({"task", "get-result", task_id, "-o", "json"}).out, "\"hello bora\"\n");
  EXPECT_EQ(Run({"task", "get-published", task_id, "-o", "json"}).out,
            "{\"greeting\":\"hello bora\"}\n");

  CliResult failed = Run({"execution", "create", "fail_wf", "--wait"});
  EXPECT_EQ(failed.code, 1) << failed.err;
  EXPECT_NE(failed.out.find("ERROR"), std::string::npos) << failed.out;

  // Filters: only SUCCESS executions, and only those of fail_wf.
  CliResult success = Run({"execution", "list", "--state", "SUCCESS", "-o", "json"});
  auto items = ParseJson(success.out)->as_object().at("executions").as_array();
  ASSERT_EQ(items.size(), 1u) << success.out;
  EXPECT_EQ(items[0].as_object().at("id"), Json(id));
  CliResult of_fail = Run({"execution", "list", "--workflow", "fail_wf", "-o", "json"});
  items = ParseJson(of_fail.out)->as_object().at("executions").as_array();
  ASSERT_EQ(items.size(), 1u) << of_fail.out;
  EXPECT_EQ(items[0].as_object().at("state"), Json("ERROR"));
  CliResult by_filter = Run({"execution", "list", "--filter", "state=neq:SUCCESS", "--limit", "5",
                             "--sort-keys", "created_at", "--sort-dirs", "desc", "-o", "json"});
  ASSERT_EQ(by_filter.code, 0) << by_filter.err;
  EXPECT_EQ(ParseJson(by_filter.out)->as_object().at("executions").as_array().size(), 1u);
  EXPECT_EQ(Run({"execution", "list", "--filter", "nonsense"}).code, 2);

  // A failed task rerun with --wait fails again: exit 1.
  CliResult fail_tasks = Run({"task", "list", "--workflow", "fail_wf", "-o", "json"});
  const std::string fail_task(ParseJson(fail_tasks.out)
                                  ->as_object()
                                  .at("tasks")
                                  .as_array()[0]
                                  .as_object()
                                  .at("id")
                                  .as_string());
  EXPECT_EQ(Run({"task", "rerun", fail_task, "--wait", "--timeout", "60"}).code, 1);
}

TEST_F(ClientE2eTest, SubExecutionsCountsItemsGraphServices) {
  CliResult ok = Run({"execution", "create", "ok_wf", "--wait", "-o", "json"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  const std::string id = IdOf(ok);
  CliResult subs = Run({"execution", "sub-executions", id, "-o", "json"});
  ASSERT_EQ(subs.code, 0) << subs.err;
  EXPECT_EQ(ParseJson(subs.out)->as_object().at("executions").as_array().size(), 1u);
  EXPECT_EQ(Run({"execution", "sub-executions", "nope"}).err,
            "ERROR: execution 'nope' not found\n");
  CliResult counts = Run({"execution", "counts"});
  ASSERT_EQ(counts.code, 0) << counts.err;
  EXPECT_NE(counts.out.find("| SUCCESS   | 1     |"), std::string::npos) << counts.out;
  EXPECT_NE(counts.out.find("| total     | 1     |"), std::string::npos) << counts.out;
  CliResult tasks = Run({"task", "list", "--execution", id, "-o", "json"});
  const std::string task_id(
      ParseJson(tasks.out)->as_object().at("tasks").as_array()[0].as_object().at("id").as_string());
  CliResult items = Run({"task", "items", task_id, "-o", "json"});
  ASSERT_EQ(items.code, 0) << items.err;
  EXPECT_EQ(ParseJson(items.out)->as_object().at("total"), Json(1));
  CliResult task_subs = Run({"task", "sub-executions", task_id, "-o", "json"});
  ASSERT_EQ(task_subs.code, 0) << task_subs.err;
  EXPECT_TRUE(ParseJson(task_subs.out)->as_object().at("executions").as_array().empty());
  CliResult graph = Run({"workflow", "graph", "ok_wf"});
  ASSERT_EQ(graph.code, 0) << graph.err;
  EXPECT_NE(graph.out.find("hello"), std::string::npos) << graph.out;
  EXPECT_NE(Run({"service", "list"}).out.find("api_group"), std::string::npos);
  CliResult workers = Run({"service", "workers", "-o", "json"});
  ASSERT_EQ(workers.code, 0) << workers.err;
  EXPECT_TRUE(ParseJson(workers.out)->as_object().contains("pools"));
  CliResult del = Run({"action-execution", "delete", "any"});
  EXPECT_EQ(del.code, 1);  // Mistral's allow_action_execution_deletion=False
}

TEST_F(ClientE2eTest, YamlOutputReadsBackAsTheJsonOutput) {
  CliResult ok = Run({"execution", "create", "ok_wf", "--wait", "-o", "json"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  for (std::vector<std::string> args : {std::vector<std::string>{"execution", "get", IdOf(ok)},
                                        {"execution", "list"},
                                        {"workflow", "list"},
                                        {"action", "get", "std.echo"},
                                        {"execution", "report", IdOf(ok)}}) {
    std::vector<std::string> json_args = args, yaml_args = args;
    json_args.insert(json_args.end(), {"-o", "json"});
    yaml_args.insert(yaml_args.end(), {"-o", "yaml"});
    CliResult as_json = Run(json_args);
    CliResult as_yaml = Run(yaml_args);
    ASSERT_EQ(as_json.code, 0) << as_json.err;
    ASSERT_EQ(as_yaml.code, 0) << as_yaml.err;
    auto from_json = ParseJson(as_json.out);
    auto from_yaml = YamlToJson(as_yaml.out);
    ASSERT_TRUE(from_json.ok());
    ASSERT_TRUE(from_yaml.ok()) << from_yaml.status().ToString();
    EXPECT_EQ(DumpJson(*from_yaml), DumpJson(*from_json)) << args[0] << " " << args[1];
    // yaml-cpp's own reading agrees on the strings: "1" stays a string.
    YAML::Node node = YAML::Load(as_yaml.out);
    EXPECT_TRUE(node.IsMap());
  }
  // --json is -o json.
  EXPECT_EQ(Run({"workflow", "get", "ok_wf", "--json"}).out,
            Run({"workflow", "get", "ok_wf", "-o", "json"}).out);
}

TEST_F(ClientE2eTest, WaitTimeoutAndInterrupt) {
  CliResult timed_out = Run({"execution", "create", "async_wf", "--wait", "--timeout", "0.3"});
  EXPECT_EQ(timed_out.code, kExitTimeout);
  EXPECT_NE(timed_out.err.find("timed out after 0.3 s waiting for execution "), std::string::npos)
      << timed_out.err;
  EXPECT_NE(timed_out.err.find("(still RUNNING)"), std::string::npos) << timed_out.err;

  CliResult started = Run({"execution", "create", "async_wf", "-o", "json"});
  const std::string id = IdOf(started);
  std::ostringstream out, err;
  Client client(Connection{url_, "", OutputFormat::kTable}, out, err);
  std::atomic<bool> interrupted{true};
  WaitResult r = WaitForExecution(client, id, 0, interrupted);
  EXPECT_EQ(r.code, kExitInterrupted);
  EXPECT_EQ(err.str(), "stopped waiting; execution " + id + " is still RUNNING\n");

  // Cancelling it ends a wait on it: CANCELLED exits 1.
  CliResult cancelled = Run({"execution", "update", id, "--state", "CANCELLED", "--wait"});
  EXPECT_EQ(cancelled.code, 1) << cancelled.err;
  EXPECT_NE(cancelled.out.find("CANCELLED"), std::string::npos);
}

// A wait that starts while the execution runs ends when it finishes (the stream's `end` event):
// the async action is completed from another thread through `action-execution update`.
TEST_F(ClientE2eTest, WaitEndsWhenTheExecutionFinishes) {
  CliResult started = Run({"execution", "create", "async_wf", "-o", "json"});
  const std::string id = IdOf(started);
  CliResult tasks = Run({"task", "list", "--execution", id, "-o", "json"});
  const std::string task_id(
      ParseJson(tasks.out)->as_object().at("tasks").as_array()[0].as_object().at("id").as_string());
  CliResult actions = Run({"action-execution", "list", "--task", task_id, "-o", "json"});
  auto listed = ParseJson(actions.out);
  ASSERT_TRUE(listed.ok()) << actions.out << actions.err;
  const std::string action_id(
      listed->as_object().at("action_executions").as_array()[0].as_object().at("id").as_string());
  std::ostringstream out, err;
  Client client(Connection{url_, "", OutputFormat::kTable}, out, err);
  std::atomic<bool> interrupted{false};
  std::promise<WaitResult> waited;
  std::thread waiter([&] { waited.set_value(WaitForExecution(client, id, 60, interrupted)); });
  CliResult completed = Run({"action-execution", "update", action_id, "--state", "SUCCESS",
                             "--output-value", R"({"done": true})"});
  EXPECT_EQ(completed.code, 0) << completed.err;
  WaitResult r = waited.get_future().get();
  waiter.join();
  EXPECT_EQ(r.code, 0) << err.str();
  EXPECT_EQ(r.state, "SUCCESS");
  EXPECT_EQ(err.str(), "");
}

TEST_F(ClientE2eTest, BadInputNamesTheFlagAndPosition) {
  CliResult bad = Run({"execution", "create", "ok_wf", "--input", "{\"a\": }"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--input is not valid JSON: invalid JSON at line 1, column 7"),
            std::string::npos)
      << bad.err;
  const std::string file = WriteTemp("{\n  \"a\": 1,\n}");
  CliResult from_file = Run({"execution", "create", "ok_wf", "--input", "@" + file});
  EXPECT_NE(
      from_file.err.find("--input file " + file + " is not valid JSON: invalid JSON at line 3"),
      std::string::npos)
      << from_file.err;
  CliResult unknown = Run({"execution", "create", "no_such_wf"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "ERROR: workflow 'no_such_wf' not found\n");
  EXPECT_EQ(Run({"execution", "get", "nope"}).err, "ERROR: execution 'nope' not found\n");
}

TEST_F(ClientE2eTest, HelpShowsDefaults) {
  CLI::App app{"bora"};
  ClientCommands commands(app);
  std::string help = app.get_subcommand("execution")->get_subcommand("list")->help();
  EXPECT_NE(help.find("{table,json,yaml}=table"), std::string::npos) << help;
  EXPECT_NE(help.find("--limit INT=0"), std::string::npos) << help;
  help = app.get_subcommand("execution")->get_subcommand("create")->help();
  EXPECT_NE(help.find("exit 0 on SUCCESS, 1 on ERROR or CANCELLED, 4"), std::string::npos) << help;
}

}  // namespace
}  // namespace bora::cli
