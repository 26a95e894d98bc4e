// Tests for the REST client commands against an HttpServer with canned Mistral-shaped handlers: the
// request each command sends, the table and --json output, errors and exit codes.
#include "cli/client_command.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "cli/client_output.h"
#include "cli/client_test_support.h"
#include "common/http/http_server.h"
#include "common/http/router.h"
#include "common/ids.h"
#include "common/json.h"

namespace bora::cli {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;

const char* kExecution =
    R"({"id":"e1","workflow_id":"w1","workflow_name":"wf","workflow_namespace":"",
"description":"","tags":[],"params":"{\"namespace\": \"\"}","task_execution_id":null,
"root_execution_id":null,"state":"RUNNING","state_info":null,"input":"{\"a\": 1}","output":"{}",
"created_at":"2026-01-01 10:00:00",
"updated_at":"2026-01-01 10:00:03","project_id":"<default-project>","published_global":"{}"})";
const char* kWorkflow = R"({"id":"w1","name":"wf","namespace":"","project_id":"<default-project>",
"tags":["a","b"],"input":"x, y=\"a long default value here\"","scope":"private",
"created_at":"2026-01-01 10:00:00","updated_at":null,"definition":"..."})";
const char* kTask =
    R"({"id":"t1","name":"task1","type":"ACTION","workflow_name":"wf","workflow_namespace":"",
"workflow_execution_id":"e1","state":"ERROR","state_info":"boom","created_at":"2026-01-01 10:00:00",
"updated_at":"2026-01-01 10:00:01"})";
const char* kCron = R"({"name":"nightly","id":"c1","workflow_name":"wf","workflow_params":"{}",
"pattern":"0 2 * * *","next_execution_time":"2026-01-02 02:00:00","remaining_executions":3,
"created_at":"2026-01-01 10:00:00","updated_at":null})";

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(""); }

  void StartServer(const std::string& token) {
    server_.reset();
    router_ = std::make_shared<http::Router>();
    auto canned = [this](int status, std::string body) {
      return [this, status, body](const HttpRequest& req, const PathParams&) {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
        HttpResponse r;
        r.status = status;
        r.body = body;
        return r;
      };
    };
    auto list = [](const std::string& coll, const char* item) {
      return "{\"" + coll + "\": [" + item + "], \"next\": null}";
    };
    http::Router& r = *router_;
    r.Add("POST", "/v2/workflows", canned(201, list("workflows", kWorkflow)));
    r.Add("GET", "/v2/workflows/{name}", canned(200, kWorkflow));
    r.Add("GET", "/v2/workflows/missing", [this](const HttpRequest& req, const PathParams&) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      HttpResponse resp;
      resp.status = 404;
      resp.body = R"({"faultstring": "Workflow not found [name=missing]", "faultcode": "Client",
                      "debuginfo": null})";
      return resp;
    });
    r.Add("GET", "/v2/workflows", [this](const HttpRequest& req, const PathParams&) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      HttpResponse resp;
      if (req.target.find("x=1") != std::string::npos) {
        resp.status = 400;
        resp.body = R"({"faultstring": "Unknown argument: \"x\"", "faultcode": "Client"})";
      } else {
        resp.body = "{\"workflows\": [" + std::string(kWorkflow) + "], \"next\": null}";
      }
      return resp;
    });
    r.Add("DELETE", "/v2/workflows/{name}", canned(204, ""));
    // An execution whose record stays RUNNING but whose stream ends SUCCESS: --wait must take the
    // stream's `end` (comments and CRLF line ends as SSE allows).
    r.Add("PUT", "/v2/executions/streamed",
          canned(200, R"({"id": "streamed", "state": "RUNNING"})"));
    r.Add("GET", "/v2/executions/streamed",
          canned(200, R"({"id": "streamed", "state": "RUNNING"})"));
    r.Add("GET", "/v2/executions/streamed/stream",
          [this](const HttpRequest& req, const PathParams&) {
            std::lock_guard<std::mutex> lock(mu_);
            requests_.push_back(req);
            HttpResponse resp;
            resp.content_type = "text/event-stream";
            resp.body =
                ": hello\r\nevent: execution\r\ndata: {\"id\": \"streamed\", \"state\": "
                "\"RUNNING\"}\r\n\r\n"
                "event: tasks\ndata: {\"tasks\": []}\n\nevent: end\ndata: {\"state\": "
                "\"SUCCESS\"}\n\n";
            return resp;
          });
    r.Add("PUT", "/v2/executions/deleted", canned(200, R"({"id": "deleted", "state": "RUNNING"})"));
    r.Add("GET", "/v2/executions/deleted", canned(200, R"({"id": "deleted", "state": "RUNNING"})"));
    r.Add("GET", "/v2/executions/deleted/stream",
          canned(200, "event: gone\ndata: {\"faultstring\": \"not found\"}\n\n"));
    // An execution whose server has no stream route: --wait polls it (RUNNING twice, then
    // SUCCESS).
    r.Add("PUT", "/v2/executions/poll1", canned(200, R"({"id": "poll1", "state": "RUNNING"})"));
    r.Add("GET", "/v2/executions/poll1", [this](const HttpRequest& req, const PathParams&) {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
      HttpResponse resp;
      resp.body = std::string(R"({"id": "poll1", "state": ")") +
                  (++poll_reads_ > 2 ? "SUCCESS" : "RUNNING") + "\"}";
      return resp;
    });
    r.Add("DELETE", "/v2/executions/{id}", canned(204, ""));
    r.Add("POST", "/v2/executions", canned(201, kExecution));
    r.Add("GET", "/v2/executions", canned(200, list("executions", kExecution)));
    r.Add("GET", "/v2/executions/{id}", canned(200, kExecution));
    r.Add("PUT", "/v2/executions/{id}", canned(200, kExecution));
    r.Add("GET", "/v2/executions/{id}/tasks", canned(200, list("tasks", kTask)));
    r.Add("GET", "/v2/tasks", canned(200, list("tasks", kTask)));
    r.Add("PUT", "/v2/tasks/{id}", canned(200, kTask));
    r.Add("POST", "/v2/cron_triggers", canned(201, kCron));
    r.Add("GET", "/v2/cron_triggers", canned(200, list("cron_triggers", kCron)));
    r.Add("DELETE", "/v2/cron_triggers/{name}", canned(204, ""));
    r.Add("POST", "/v2/events", canned(202, R"({"accepted": 1, "ids": ["ev1"]})"));
    http::HttpServerOptions options;
    options.auth_token = token;
    auto router = router_;
    server_ = std::make_unique<http::HttpServer>(
        options, [router](const HttpRequest& req) { return router->Dispatch(req); });
    ASSERT_TRUE(server_->Start().ok());
    url_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }

  CliResult Run(std::vector<std::string> args, bool add_url = true) {
    if (add_url) {
      args.push_back("--url");
      args.push_back(url_);
    }
    return RunClient(args);
  }

  std::vector<HttpRequest> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string WriteTemp(const std::string& content) {
    auto path = std::filesystem::temp_directory_path() / ("bora-client-" + NewUuid() + ".yaml");
    std::ofstream(path) << content;
    temp_files_.push_back(path);
    return path.string();
  }
  void TearDown() override {
    for (const auto& p : temp_files_) std::filesystem::remove(p);
  }

  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::HttpServer> server_;
  std::string url_;
  std::mutex mu_;
  std::vector<HttpRequest> requests_;
  int poll_reads_ = 0;
  std::vector<std::filesystem::path> temp_files_;
};

TEST_F(ClientTest, WaitPollsWhenTheServerHasNoStream) {
  CliResult r = Run({"execution", "update", "poll1", "--state", "RUNNING", "--wait", "-o", "json"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"id\": \"poll1\", \"state\": \"SUCCESS\"}\n");
  std::vector<std::string> targets;
  for (const HttpRequest& req : Requests()) targets.push_back(req.method + " " + req.target);
  // The PUT, the first GET (RUNNING), the stream (refused), GETs until SUCCESS, the final GET.
  EXPECT_EQ(targets,
            (std::vector<std::string>{"PUT /v2/executions/poll1", "GET /v2/executions/poll1",
                                      "GET /v2/executions/poll1", "GET /v2/executions/poll1",
                                      "GET /v2/executions/poll1"}));
}

TEST_F(ClientTest, WaitFollowsTheStreamToItsEnd) {
  CliResult r = Run({"execution", "resume", "streamed", "--wait", "--timeout", "30"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Requests().back().target, "/v2/executions/streamed");  // the final record, once
  EXPECT_EQ(Requests()[Requests().size() - 2].target, "/v2/executions/streamed/stream");
  CliResult gone = Run({"execution", "resume", "deleted", "--wait", "--timeout", "30"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_EQ(gone.err, "ERROR: execution deleted was deleted while waiting\n");
}

TEST_F(ClientTest, QueryValuesAreEscaped) {
  ASSERT_EQ(Run({"execution", "list", "--state", "SUCCESS", "--workflow", "a b&c", "--task", "t1",
                 "--created-after", "2026-01-01 00:00:00", "--limit", "3"})
                .code,
            0);
  EXPECT_EQ(
      Requests().back().target,
      "/v2/executions?state=SUCCESS&workflow_name=a%20b%26c&task_execution_id=t1&created_at=gte%3A"
      "2026-01-01%2000%3A00%3A00&limit=3");
}

TEST_F(ClientTest, SendsMistralRequests) {
  const std::string yaml = "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n";
  const std::string file = WriteTemp(yaml);
  struct Case {
    std::vector<std::string> args;
    std::string method, target, content_type;
    std::string body;  // JSON compared structurally when it parses, else as text
  };
  const std::vector<Case> cases = {
      {{"workflow", "create", file}, "POST", "/v2/workflows", "text/plain", yaml},
      {{"workflow", "create", file, "--namespace", "ns 1"},
       "POST",
       "/v2/workflows?namespace=ns%201",
       "text/plain",
       yaml},
      {{"workflow", "list"}, "GET", "/v2/workflows", "", ""},
      {{"workflow", "list", "--limit", "5"}, "GET", "/v2/workflows?limit=5", "", ""},
      {{"workflow", "get", "my wf"}, "GET", "/v2/workflows/my%20wf", "", ""},
      {{"workflow", "delete", "wf"}, "DELETE", "/v2/workflows/wf", "", ""},
      {{"execution", "start", "wf", "--input", R"({"a": 1, "b": [1, "x"]})", "--params",
        R"({"env": {"k": "v"}})"},
       "POST",
       "/v2/executions",
       "application/json",
       R"({"workflow_name":"wf","input":"{\"a\": 1, \"b\": [1, \"x\"]}",
           "params":"{\"env\": {\"k\": \"v\"}}"})"},
      {{"execution", "start", "wf"},
       "POST",
       "/v2/executions",
       "application/json",
       R"({"workflow_name":"wf","input":"{}","params":"{}"})"},
      {{"execution", "start", "6f1c5d2e-9a0b-4c1d-8e2f-3a4b5c6d7e8f", "-d", "nightly run"},
       "POST",
       "/v2/executions",
       "application/json",
       R"({"workflow_id":"6f1c5d2e-9a0b-4c1d-8e2f-3a4b5c6d7e8f","input":"{}","params":"{}",
           "description":"nightly run"})"},
      {{"execution", "get", "e1"}, "GET", "/v2/executions/e1", "", ""},
      {{"execution", "list"}, "GET", "/v2/executions", "", ""},
      {{"execution", "pause", "e1"},
       "PUT",
       "/v2/executions/e1",
       "application/json",
       R"({"state":"PAUSED"})"},
      {{"execution", "resume", "e1"},
       "PUT",
       "/v2/executions/e1",
       "application/json",
       R"({"state":"RUNNING"})"},
      {{"execution", "cancel", "e1"},
       "PUT",
       "/v2/executions/e1",
       "application/json",
       R"({"state":"CANCELLED"})"},
      {{"execution", "delete", "e1"}, "DELETE", "/v2/executions/e1", "", ""},
      {{"execution", "delete", "e1", "--force"}, "DELETE", "/v2/executions/e1?force=true", "", ""},
      {{"task", "list"}, "GET", "/v2/tasks", "", ""},
      {{"task", "list", "--execution", "e1"}, "GET", "/v2/executions/e1/tasks", "", ""},
      {{"task", "rerun", "t1"},
       "PUT",
       "/v2/tasks/t1",
       "application/json",
       R"({"id":"t1","state":"RUNNING","reset":false})"},
      {{"task", "rerun", "t1", "--reset"},
       "PUT",
       "/v2/tasks/t1",
       "application/json",
       R"({"id":"t1","state":"RUNNING","reset":true})"},
      {{"cron", "create", "nightly", "wf", "--pattern", "0 2 * * *", "--input", R"({"x":1})",
        "--first-time", "2027-01-01 10:00", "--count", "3"},
       "POST",
       "/v2/cron_triggers",
       "application/json",
       R"({"name":"nightly","workflow_name":"wf","workflow_input":"{\"x\": 1}",
           "pattern":"0 2 * * *",
           "first_execution_time":"2027-01-01 10:00","remaining_executions":3})"},
      {{"cron", "create", "once", "wf", "--first-time", "2027-01-01 10:00"},
       "POST",
       "/v2/cron_triggers",
       "application/json",
       R"({"name":"once","workflow_name":"wf","workflow_input":"{}","pattern":null,
           "first_execution_time":"2027-01-01 10:00","remaining_executions":null})"},
      {{"cron", "list"}, "GET", "/v2/cron_triggers", "", ""},
      {{"cron", "delete", "nightly"}, "DELETE", "/v2/cron_triggers/nightly", "", ""},
  };
  for (const Case& c : cases) {
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    SCOPED_TRACE(joined);
    size_t before = Requests().size();
    CliResult r = Run(c.args);
    EXPECT_EQ(r.code, 0) << r.err;
    auto requests = Requests();
    ASSERT_EQ(requests.size(), before + 1);
    const HttpRequest& req = requests.back();
    EXPECT_EQ(req.method, c.method);
    EXPECT_EQ(req.target, c.target);
    if (!c.content_type.empty()) {
      EXPECT_EQ(req.Header("content-type"), c.content_type);
    }
    EXPECT_EQ(req.Header("authorization"), "");
    auto want = ParseJson(c.body);
    if (!c.body.empty() && want.ok()) {
      auto got = ParseJson(req.body);
      ASSERT_TRUE(got.ok()) << req.body;
      EXPECT_EQ(DumpJson(*got), DumpJson(*want));
    } else {
      EXPECT_EQ(req.body, c.body);
    }
  }
}

TEST_F(ClientTest, EventPublishSendsStructuredCloudEvent) {
  CliResult r = Run({"event", "publish", "--type", "com.example.order", "--source", "/shop",
                     "--subject", "o-1", "--data", R"({"order": 7})", "--id", "ev1"});
  ASSERT_EQ(r.code, 0) << r.err;
  const HttpRequest req = Requests().back();
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.path, "/v2/events");
  EXPECT_EQ(req.Header("content-type"), "application/cloudevents+json");
  auto ce = ParseJson(req.body);
  ASSERT_TRUE(ce.ok());
  const JsonObject& o = ce->as_object();
  EXPECT_EQ(o.at("specversion"), Json("1.0"));
  EXPECT_EQ(o.at("id"), Json("ev1"));
  EXPECT_EQ(o.at("type"), Json("com.example.order"));
  EXPECT_EQ(o.at("source"), Json("/shop"));
  EXPECT_EQ(o.at("subject"), Json("o-1"));
  EXPECT_EQ(o.at("datacontenttype"), Json("application/json"));
  EXPECT_EQ(DumpJson(o.at("data")), R"({"order":7})");
  EXPECT_TRUE(o.at("time").is_string());
  EXPECT_EQ(
      r.out,
      "+----------+-------+\n| Field    | Value |\n+----------+-------+\n| accepted | 1     |\n"
      "| ids      | ev1   |\n+----------+-------+\n");
  // Without --id a fresh UUID is sent.
  ASSERT_EQ(Run({"event", "publish", "--type", "t", "--source", "s"}).code, 0);
  auto second = ParseJson(Requests().back().body);
  EXPECT_TRUE(IsUuidLike(std::string(second->as_object().at("id").as_string())));
  EXPECT_FALSE(second->as_object().contains("data"));
}

TEST_F(ClientTest, ListPrintsTable) {
  CliResult r = Run({"workflow", "list"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string want =
      "+----+------+-----------+-------------------+------+------------------------------+---------"
      "+"
      "---------------------+------------+\n"
      "| ID | Name | Namespace | Project ID        | Tags | Input                        | Scope   "
      "|"
      " Created at          | Updated at |\n"
      "+----+------+-----------+-------------------+------+------------------------------+---------"
      "+"
      "---------------------+------------+\n"
      "| w1 | wf   |           | <default-project> | a, b | x, y=\"a long default valu... | "
      "private |"
      " 2026-01-01 10:00:00 | <none>     |\n"
      "+----+------+-----------+-------------------+------+------------------------------+---------"
      "+"
      "---------------------+------------+\n";
  EXPECT_EQ(r.out, want);
  EXPECT_EQ(r.err, "");
}

TEST_F(ClientTest, GetPrintsFieldValueTable) {
  CliResult r = Run({"execution", "get", "e1"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string want =
      "+--------------------+---------------------+\n"
      "| Field              | Value               |\n"
      "+--------------------+---------------------+\n"
      "| ID                 | e1                  |\n"
      "| Workflow ID        | w1                  |\n"
      "| Workflow name      | wf                  |\n"
      "| Workflow namespace |                     |\n"
      "| Description        |                     |\n"
      "| Task Execution ID  | <none>              |\n"
      "| Root Execution ID  | <none>              |\n"
      "| State              | RUNNING             |\n"
      "| State info         | <none>              |\n"
      "| Created at         | 2026-01-01 10:00:00 |\n"
      "| Updated at         | 2026-01-01 10:00:03 |\n"
      "+--------------------+---------------------+\n";
  EXPECT_EQ(r.out, want);
}

TEST_F(ClientTest, JsonPrintsServerBody) {
  CliResult r = Run({"execution", "get", "e1", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, std::string(kExecution) + "\n");
  CliResult list = Run({"task", "list", "--json"});
  ASSERT_EQ(list.code, 0);
  auto parsed = ParseJson(list.out);
  ASSERT_TRUE(parsed.ok()) << list.out;
  EXPECT_EQ(parsed->as_object().at("tasks").as_array().size(), 1u);
}

TEST_F(ClientTest, DeletePrintsAcceptance) {
  CliResult r = Run({"workflow", "delete", "wf"});
  ASSERT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "Request to delete workflow 'wf' has been accepted.\n");
  CliResult c = Run({"cron", "delete", "nightly"});
  EXPECT_EQ(c.out, "Request to delete cron trigger 'nightly' has been accepted.\n");
}

TEST_F(ClientTest, ServerErrorPrintsFaultstringAndExits1) {
  // A 404 names what the user typed rather than the server's message.
  CliResult r = Run({"workflow", "get", "missing"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "ERROR: workflow 'missing' not found\n");
  EXPECT_EQ(r.out, "");
  // Other refusals print the faultstring.
  CliResult refused = Run({"workflow", "list", "--filter", "x=1"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_EQ(refused.err, "ERROR: Unknown argument: \"x\"\n");
  // A route the server does not have: the router's 405 fault.
  CliResult other = Run({"cron", "get", "nightly"});
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.err.rfind("ERROR: ", 0), 0u) << other.err;
}

TEST_F(ClientTest, BadLocalInputExits2WithoutRequest) {
  size_t before = Requests().size();
  CliResult r = Run({"execution", "start", "wf", "--input", "{not json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--input is not valid JSON"), std::string::npos) << r.err;
  CliResult arr = Run({"execution", "start", "wf", "--input", "[1]"});
  EXPECT_EQ(arr.code, 2);
  CliResult missing = Run({"workflow", "create", "/nonexistent/bora.yaml"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(Requests().size(), before);
}

TEST_F(ClientTest, InputFromFile) {
  std::string file = WriteTemp(R"({"n": 2})");
  ASSERT_EQ(Run({"execution", "start", "wf", "--input", "@" + file}).code, 0);
  auto body = ParseJson(Requests().back().body);
  EXPECT_EQ(body->as_object().at("input"), Json("{\"n\": 2}"));
}

TEST_F(ClientTest, LargeBodiesAreSentWhole) {
  std::string yaml = "version: '2.0'\n# " + std::string(200000, 'x') + "\n";
  ASSERT_EQ(Run({"workflow", "create", WriteTemp(yaml)}).code, 0);
  EXPECT_EQ(Requests().back().body, yaml);
}

TEST_F(ClientTest, ConnectionRefusedExits3) {
  std::string url = url_;
  server_.reset();  // the port is now closed
  CliResult r = Run({"workflow", "list", "--url", url}, /*add_url=*/false);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("cannot connect to the Bora API at " + url), std::string::npos) << r.err;
}

TEST_F(ClientTest, TokenFromFlagAndEnvironmentAndUrlFromEnvironment) {
  StartServer("tok");
  CliResult denied = Run({"workflow", "list"});
  EXPECT_EQ(denied.code, 1);
  EXPECT_NE(denied.err.find("Authentication required"), std::string::npos) << denied.err;
  CliResult flag = Run({"workflow", "list", "--token", "tok"});
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_EQ(Requests().back().Header("authorization"), "Bearer tok");
  setenv("BORA_TOKEN", "tok", 1);
  setenv("BORA_URL", (url_ + "/v2/").c_str(), 1);  // mistralclient-style URL with /v2 is accepted
  CliResult env = Run({"workflow", "list"}, /*add_url=*/false);
  unsetenv("BORA_TOKEN");
  unsetenv("BORA_URL");
  EXPECT_EQ(env.code, 0) << env.err;
  EXPECT_EQ(Requests().back().target, "/v2/workflows");
}

}  // namespace
}  // namespace bora::cli

namespace bora::cli {
namespace {

TEST(ClientOutputTest, YamlReadsBackAsTheSameJson) {
  const std::string text =
      R"({"a":"1","b":"true","c":"","d":null,"e":1.5,"f":[],"g":{},"h":"x: y","i":-3,"j":"no",
          "k":[{"l":"- item"},0.1,true],"m":"multi\nline","n":"~","o":"-1.5"})";
  auto v = ParseJson(text);
  ASSERT_TRUE(v.ok());
  const std::string yaml = JsonToYaml(*v);
  auto back = YamlToJson(yaml);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << yaml;
  EXPECT_EQ(DumpJson(*back), DumpJson(*v)) << yaml;
  EXPECT_NE(yaml.find("a: \"1\"\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("f: []\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("e: 1.5\n"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("d: ~\n"), std::string::npos) << yaml;
  EXPECT_FALSE(YamlToJson("a: [1").ok());
}

}  // namespace
}  // namespace bora::cli
