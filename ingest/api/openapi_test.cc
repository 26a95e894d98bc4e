// openapi_test: the OpenAPI document (ingest/api/openapi.json) against the code.
//  (a) the document parses, every $ref resolves, every operation has responses, and its schemas
//  only use
//      the JSON Schema subset SchemaValidator implements;
//  (b) route coverage: the (method, pattern) pairs registered by the sources' `router.Add(` calls
//  equal the
//      documented operations, and every documented operation reaches a handler of RegisterRestApi;
//  (c) a scenario drives every endpoint over a deterministic EmbeddedRuntime and validates EVERY
//  response
//      (status documented, body valid against the schema of that path, method and status).
// Tests run with the repository root as working directory (bora_test).
#include "ingest/api/openapi.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common/http/router.h"
#include "common/json.h"
#include "common/metrics/http_routes.h"
#include "ingest/api/admin_api.h"
#include "ingest/api/api_service.h"
#include "ingest/api/api_test_support.h"
#include "ingest/api/cron_triggers_api.h"
#include "ingest/api/definitions_api.h"
#include "ingest/api/events_api.h"
#include "ingest/api/executions_api.h"
#include "ingest/api/openapi_check.h"
#include "ingest/api/services_api.h"
#include "orchestrator/runtime/embedded_runtime.h"

namespace bora::api {
namespace {

using namespace openapi_check;  // the checker of the document, shared by every test below

// ------------------------------------------------------------------------------------ (a) document

void CollectRefs(const Json& v, std::vector<std::string>* refs) {
  if (v.is_object()) {
    for (const auto& [k, child] : v.as_object()) {
      if (k == "$ref" && child.is_string()) refs->emplace_back(child.as_string());
      CollectRefs(child, refs);
    }
  } else if (v.is_array()) {
    for (const auto& child : v.as_array()) CollectRefs(child, refs);
  }
}

// Keywords of every schema reachable under `schema` that the validator does not implement.
void UnsupportedKeywords(const Json& schema, const std::string& where,
                         std::vector<std::string>* out) {
  if (!schema.is_object()) {
    out->push_back(where + ": schema is not an object");
    return;
  }
  for (const auto& [k, v] : schema.as_object()) {
    std::string key(k);
    if (!SchemaValidator::Keywords().contains(key)) out->push_back(where + ": keyword " + key);
    if (key == "properties") {
      for (const auto& [name, sub] : v.as_object())
        UnsupportedKeywords(sub, where + ".properties." + std::string(name), out);
    } else if (key == "items" || (key == "additionalProperties" && v.is_object())) {
      UnsupportedKeywords(v, where + "." + key, out);
    } else if (key == "oneOf") {
      for (const auto& sub : v.as_array()) UnsupportedKeywords(sub, where + ".oneOf", out);
    } else if (key == "type") {
      static const std::set<std::string> types = {"string",  "integer", "number",
                                                  "boolean", "object",  "array"};
      if (!v.is_string() || !types.contains(std::string(v.as_string())))
        out->push_back(where + ": type " + DumpJson(v));
    }
  }
}

TEST(OpenApiDocumentTest, ParsesRefsResolveAndEveryOperationHasResponses) {
  Json doc = LoadDocument();
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.at("openapi"), Json("3.0.3"));
  ASSERT_TRUE(doc.as_object().contains("paths"));
  SchemaValidator validator(doc);

  std::vector<std::string> refs;
  CollectRefs(doc, &refs);
  EXPECT_GT(refs.size(), 50u);
  for (const auto& ref : refs) EXPECT_NE(validator.Resolve(ref), nullptr) << "unresolved " << ref;

  std::vector<std::string> problems;
  int operations = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    std::set<std::string> captures;
    for (const auto& seg : Segments(std::string(path)))
      if (IsCapture(seg)) captures.insert(seg.substr(1, seg.size() - 2));
    for (const auto& [method, op] : item.as_object()) {
      std::string where = Upper(std::string(method)) + " " + std::string(path);
      ++operations;
      const Json* responses = op.as_object().if_contains("responses");
      if (responses == nullptr || responses->as_object().empty()) {
        problems.push_back(where + ": no responses");
        continue;
      }
      if (!op.as_object().contains("summary")) problems.push_back(where + ": no summary");
      std::set<std::string> declared;
      if (const Json* params = op.as_object().if_contains("parameters")) {
        for (const auto& p : params->as_array()) {
          if (p.at("in") == Json("path")) declared.insert(std::string(p.at("name").as_string()));
          UnsupportedKeywords(p.at("schema"), where + " parameter", &problems);
        }
      }
      if (declared != captures)
        problems.push_back(where + ": path parameters do not match the template");
      for (const auto& [status, resp] : responses->as_object()) {
        const Json* r = &resp;
        if (const Json* ref = resp.as_object().if_contains("$ref"))
          r = validator.Resolve(std::string(ref->as_string()));
        if (r == nullptr || !r->as_object().contains("description"))
          problems.push_back(where + " " + std::string(status) + ": no description");
        if (r == nullptr) continue;
        if (const Json* content = r->as_object().if_contains("content")) {
          for (const auto& [media, entry] : content->as_object())
            UnsupportedKeywords(entry.at("schema"), where + " " + std::string(status), &problems);
        }
      }
    }
  }
  for (const auto& [name, schema] : doc.at("components").at("schemas").as_object())
    UnsupportedKeywords(schema, "#/components/schemas/" + std::string(name), &problems);
  EXPECT_TRUE(problems.empty()) << Join(problems);
  EXPECT_GE(operations, 60);
}

TEST(OpenApiDocumentTest, ServedAtV2OpenApiJson) {
  http::Router router;
  RegisterOpenApiRoutes(router);
  http::HttpRequest request;
  request.method = "GET";
  request.path = request.target = "/v2/openapi.json";
  http::HttpResponse r = router.Dispatch(request);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body, OpenApiDocument());
  // The embedded text is the file in the tree (the build embeds it; a stale build would differ).
  std::ifstream in("ingest/api/openapi.json", std::ios::binary);
  ASSERT_TRUE(in) << "run from the repository root";
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), OpenApiDocument());
}

// ------------------------------------------------------------------------------------- validator
// unit

// A hand-made Execution body in the shape the handlers produce.
Json GoodExecution() {
  return *ParseJson(
      R"({"id": "e1", "workflow_id": null, "workflow_name": "wf", "workflow_namespace": "",
    "description": "", "tags": [], "params": "{}", "task_execution_id": null,
    "root_execution_id": null,
    "source_execution_id": null, "state": "SUCCESS", "state_info": null, "input": "{\"a\": 1}",
    "output": "{}", "created_at": "2026-01-01 10:00:00", "updated_at": null,
    "project_id": "<default-project>", "published_global": "{}"})");
}

TEST(SchemaValidatorTest, RejectsBodiesThatDoNotMatch) {
  Json doc = LoadDocument();
  SchemaValidator validator(doc);
  Json execution = *ParseJson(R"({"$ref": "#/components/schemas/Execution"})");
  Json list = *ParseJson(R"({"$ref": "#/components/schemas/ExecutionList"})");
  ASSERT_TRUE(validator.Validate(execution, GoodExecution()).empty())
      << Join(validator.Validate(execution, GoodExecution()));

  struct Case {
    std::string name;
    std::function<void(JsonObject&)> mutate;
    std::string expect;  // substring of an error
  };
  std::vector<Case> cases = {
      {"json-typed field sent as an object",
       [](JsonObject& o) {
         o["input"] = JsonObject{{"a", 1}};
       },
       "$.input: expected string, got object"},
      {"number instead of string", [](JsonObject& o) { o["workflow_name"] = 3; },
       "$.workflow_name: expected string, got integer"},
      {"null where not nullable", [](JsonObject& o) { o["state"] = nullptr; },
       "$.state: null is not allowed"},
      {"state outside the enum", [](JsonObject& o) { o["state"] = "DONE"; }, "is not one of"},
      {"missing required field", [](JsonObject& o) { o.erase("project_id"); },
       "missing required property 'project_id'"},
      {"field not in the schema", [](JsonObject& o) { o["_internal"] = 1; },
       "$._internal: property not allowed"},
      {"array items of the wrong type", [](JsonObject& o) { o["tags"] = JsonArray{1}; },
       "$.tags[0]: expected string"},
      {"bool instead of nullable string", [](JsonObject& o) { o["state_info"] = true; },
       "$.state_info: expected string, got boolean"},
  };
  for (const auto& c : cases) {
    Json body = GoodExecution();
    c.mutate(body.as_object());
    auto errors = validator.Validate(execution, body);
    ASSERT_FALSE(errors.empty()) << c.name;
    EXPECT_NE(Join(errors).find(c.expect), std::string::npos) << c.name << ": " << Join(errors);
    // Also inside a list envelope ($ref -> items -> $ref).
    Json wrapped = JsonObject{{"executions", JsonArray{GoodExecution(), body}}};
    auto list_errors = validator.Validate(list, wrapped);
    ASSERT_FALSE(list_errors.empty()) << c.name;
    EXPECT_NE(Join(list_errors).find("$.executions[1]"), std::string::npos) << Join(list_errors);
  }
  // `next` must be a string; the collection is required.
  EXPECT_FALSE(validator.Validate(list, *ParseJson(R"({"executions": [], "next": 1})")).empty());
  EXPECT_FALSE(validator.Validate(list, *ParseJson(R"({"next": "x"})")).empty());
  EXPECT_TRUE(validator.Validate(list, *ParseJson(R"({"executions": [], "next": "x"})")).empty());

  // A `fields` projection: list items may lack fields, but present fields keep their types.
  Json partial = *ParseJson(R"({"executions": [{"id": "e1", "state": "SUCCESS"}]})");
  EXPECT_FALSE(validator.Validate(list, partial).empty());
  EXPECT_TRUE(validator.Validate(list, partial, "$", true).empty());
  partial.at("executions").as_array()[0].as_object()["input"] = JsonObject();
  EXPECT_FALSE(validator.Validate(list, partial, "$", true).empty());
  EXPECT_FALSE(validator.Validate(list, *ParseJson(R"({"next": "x"})"), "$", true).empty());

  // oneOf: exactly one alternative must match.
  Json one = *ParseJson(R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})");
  EXPECT_TRUE(validator.Validate(one, Json("x")).empty());
  EXPECT_FALSE(validator.Validate(one, Json(true)).empty());
  Json both = *ParseJson(R"({"oneOf": [{"type": "number"}, {"type": "integer"}]})");
  EXPECT_FALSE(validator.Validate(both, Json(1)).empty());
  // An unresolved $ref is an error, not a pass.
  EXPECT_FALSE(
      validator.Validate(*ParseJson(R"({"$ref": "#/components/schemas/Nope"})"), Json(1)).empty());
}

TEST(SchemaValidatorTest, ResponseCheckRejectsUndocumentedStatusAndChangedTypes) {
  Json doc = LoadDocument();
  SchemaValidator validator(doc);
  http::HttpResponse ok;
  ok.status = 200;
  ok.body = DumpJson(GoodExecution());
  EXPECT_TRUE(CheckResponse(doc, validator, "GET", "/v2/executions/e1", ok).empty())
      << Join(CheckResponse(doc, validator, "GET", "/v2/executions/e1", ok));
  http::HttpResponse teapot = ok;
  teapot.status = 418;
  EXPECT_FALSE(CheckResponse(doc, validator, "GET", "/v2/executions/e1", teapot).empty());
  Json changed = GoodExecution();
  changed.as_object()["params"] = JsonObject();  // a handler that stops JSON-encoding params
  http::HttpResponse bad = ok;
  bad.body = DumpJson(changed);
  auto errors = CheckResponse(doc, validator, "GET", "/v2/executions/e1", bad);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(Join(errors).find("$.params: expected string"), std::string::npos) << Join(errors);
  http::HttpResponse no_content;
  no_content.status = 204;
  EXPECT_TRUE(CheckResponse(doc, validator, "DELETE", "/v2/executions/e1", no_content).empty());
  no_content.body = "{}";
  EXPECT_FALSE(CheckResponse(doc, validator, "DELETE", "/v2/executions/e1", no_content).empty());
  EXPECT_FALSE(CheckResponse(doc, validator, "GET", "/v2/nowhere", ok).empty());

  // Requests: a documented media type and a body valid against the requestBody schema.
  http::HttpRequest env;
  env.method = "POST";
  env.path = "/v2/environments";
  env.headers["content-type"] = "application/json";
  env.body = R"({"name": "e", "variables": {"a": 1}})";
  EXPECT_TRUE(CheckRequest(doc, validator, env).empty()) << Join(CheckRequest(doc, validator, env));
  env.body = R"({"name": "e", "variables": 5})";
  EXPECT_FALSE(CheckRequest(doc, validator, env).empty());
  env.body = R"({"variables": {}})";
  EXPECT_FALSE(CheckRequest(doc, validator, env).empty());
  env.headers["content-type"] = "text/plain";
  EXPECT_FALSE(CheckRequest(doc, validator, env).empty());
  http::HttpRequest yaml = env;
  yaml.path = "/v2/workflows";
  yaml.body = "version: '2.0'";
  EXPECT_TRUE(CheckRequest(doc, validator, yaml).empty());
  yaml.method = "GET";
  EXPECT_FALSE(CheckRequest(doc, validator, yaml).empty());  // no requestBody documented
  EXPECT_FALSE(CheckResponse(doc, validator, "PATCH", "/v2/executions/e1", ok).empty());
}

// ---------------------------------------------------------------------------------- (b) coverage

// "METHOD /pattern" of every `router.Add("METHOD", "/pattern"` in the sources RegisterRestApi uses.
std::set<std::string> RoutesInSources(std::vector<std::string>* scanned) {
  std::vector<std::filesystem::path> files = {"common/metrics/http_routes.h"};
  for (const auto& entry : std::filesystem::directory_iterator("ingest/api")) {
    std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".cc" && name.find("_test") == std::string::npos)
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::regex add(R"re(\.Add\(\s*"([A-Z]+)"\s*,\s*"([^"]+)")re");
  std::set<std::string> out;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) continue;
    std::stringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    scanned->push_back(f.string());
    for (std::sregex_iterator it(s.begin(), s.end(), add), end; it != end; ++it)
      out.insert((*it)[1].str() + " " + (*it)[2].str());
  }
  return out;
}

TEST(OpenApiCoverageTest, SourceRoutesEqualDocumentedOperations) {
  ASSERT_TRUE(std::filesystem::exists("ingest/api/api_service.cc"))
      << "run from the repository root";
  std::vector<std::string> scanned;
  std::set<std::string> routes = RoutesInSources(&scanned);
  EXPECT_GE(scanned.size(), 6u);
  std::set<std::string> documented = DocumentedOperations(LoadDocument());
  std::vector<std::string> undocumented, unrouted;
  for (const auto& r : routes)
    if (!documented.contains(r)) undocumented.push_back(r);
  for (const auto& d : documented)
    if (!routes.contains(d)) unrouted.push_back(d);
  EXPECT_TRUE(undocumented.empty()) << "registered but not documented:\n  " << Join(undocumented);
  EXPECT_TRUE(unrouted.empty()) << "documented but not registered:\n  " << Join(unrouted);
  EXPECT_GE(routes.size(), 60u);
}

// Every documented operation reaches a handler of RegisterRestApi (+ RegisterOpenApiRoutes):
// dispatching it never gets the Router's own 404 ("Resource not found") or 405. The replies are
// checked too.
TEST(OpenApiCoverageTest, EveryDocumentedOperationReachesAHandler) {
  ApiServiceOptions options;  // cron and ingest on, as `bora serve` runs
  options.serve_http = false;
  ApiTestBackend backend(options);
  http::Router router;
  RegisterRestApi(router, backend.context(), [] { return Status::Ok(); });
  // Until RegisterRestApi adds it itself.
  if (router.Dispatch(MakeRequest("GET", "/v2/openapi.json", "")).status == 404)
    RegisterOpenApiRoutes(router);
  Json doc = LoadDocument();
  SchemaValidator validator(doc);
  std::vector<std::string> problems;
  for (const auto& op : DocumentedOperations(doc)) {
    std::string method = op.substr(0, op.find(' '));
    std::string path = op.substr(op.find(' ') + 1);
    std::string concrete;
    for (const auto& seg : Segments(path)) concrete += "/" + (IsCapture(seg) ? "probe-1" : seg);
    if (concrete.empty()) concrete = "/";
    http::HttpResponse r = router.Dispatch(MakeRequest(method, concrete, ""));
    if (r.status == 405 || r.body.find("Resource not found") != std::string::npos) {
      problems.push_back(op + ": not routed (" + std::to_string(r.status) + ")");
      continue;
    }
    for (auto& e : CheckResponse(doc, validator, method, concrete, r)) problems.push_back(e);
  }
  EXPECT_TRUE(problems.empty()) << Join(problems);
}

// ---------------------------------------------------------------------------------- (c) scenario

constexpr const char* kWorkflows = R"(version: '2.0'
wf:
  input:
    - num1
    - num2: 1
  tasks:
    task1:
      action: std.echo output=<% $.num1 + $.num2 %>
      publish:
        result: <% task().result %>
  output:
    result: <% $.result %>

wf_fail:
  tasks:
    t1:
      action: std.fail

wf_async:
  tasks:
    wait:
      action: std.async_noop

wf_parent:
  tasks:
    call:
      workflow: wf
      input:
        num1: 10
)";

constexpr const char* kOneWorkflow = R"(version: '2.0'
wf:
  description: replaced
  input:
    - num1
    - num2: 2
  tasks:
    task1:
      action: std.echo output=<% $.num1 + $.num2 %>
      publish:
        result: <% task().result %>
  output:
    result: <% $.result %>
)";

constexpr const char* kWorkbook = R"(version: '2.0'
name: wb
tags: [book]
workflows:
  main:
    tasks:
      t1:
        action: local_echo text=hi
actions:
  local_echo:
    base: std.echo output=<% $.text %>
    input:
      - text
)";

constexpr const char* kActions = R"(version: '2.0'
greet:
  description: says hello
  base: std.echo output="hello <% $.name %>"
  input:
    - name
)";

constexpr const char* kAodhPayload = R"({
  "alarm_name": "cpu_high", "alarm_id": "b5e3c6a1-4c1f-4d1e-9a4b-2f6c1d7e8a90",
  "severity": "critical",
  "previous": "ok", "current": "alarm", "reason": "threshold"})";

class OpenApiScenarioTest : public ::testing::Test {
 protected:
  // The ingest processor runs (a poll loop of the runtime); cron does not: the API is under test,
  // not the scheduler (RunUntilIdle stays finite).
  static ApiServiceOptions ServiceOptions() {
    ApiServiceOptions options = ApiTestBackend::DefaultServiceOptions();
    options.ingest = true;
    options.limits.max_events_per_batch = 3;
    options.limits.max_definition_bytes = 16 * 1024;
    return options;
  }

  void SetUp() override {
    // RegisterRestApi's routes, with the executions API not waiting for the (deterministic) engine.
    ApiContext& ctx = backend_.context();
    RegisterDefinitionsRoutes(router_, ctx);
    ExecutionsApiOptions eo;
    eo.change_wait = std::chrono::milliseconds(0);
    RegisterExecutionsRoutes(router_, ctx, eo);
    RegisterCronTriggersRoutes(router_, ctx);
    RegisterEventsRoutes(router_, ctx);
    RegisterAdminRoutes(router_, ctx);
    RegisterServicesRoutes(router_, ctx);
    workers_ = std::make_shared<WorkersApi>(ctx);
    workers_->Register(router_);
    metrics::AddRoutes(router_, [this]() -> Status {
      return ready_ ? Status::Ok() : Unavailable("store down (test)");
    });
    RegisterOpenApiRoutes(router_);
    doc_ = LoadDocument();
    validator_ = std::make_unique<SchemaValidator>(doc_);
  }

  // Dispatches, checks the status and validates the reply against the document.
  Json Call(const std::string& method, const std::string& target, int expected_status,
            const std::string& body = "", const std::map<std::string, std::string>& headers = {}) {
    std::map<std::string, std::string> h = headers;
    size_t first = body.find_first_not_of(" \t\r\n");
    if (!body.empty() && !h.contains("content-type") && first != std::string::npos &&
        body[first] != '{' && body[first] != '[')
      h["content-type"] = "text/plain";  // definitions (YAML), as python-mistralclient sends them
    http::HttpRequest request = MakeRequest(method, target, body, "", h);
    request.remote = "127.0.0.1:1";
    request.identity = identity_;
    http::HttpResponse r = router_.Dispatch(request);
    if (r.deferred)
      r = r.deferred();  // a long poll: what the server computes on a thread of its own
    if (!body.empty() && r.status < 300) {
      for (const auto& e : CheckRequest(doc_, *validator_, request)) ADD_FAILURE() << e;
    }
    std::string where = method + " " + target;
    EXPECT_EQ(r.status, expected_status) << where << ": " << r.body;
    for (const auto& e :
         CheckResponse(doc_, *validator_, method, request.path, r, request.HasQuery("fields"))) {
      ADD_FAILURE() << e;
    }
    std::string tmpl = MatchTemplate(doc_, request.path);
    exercised_.insert(method + " " + tmpl);
    statuses_[method + " " + tmpl].insert(r.status);
    ++checked_;
    if (r.body.empty() || r.content_type.rfind("application/json", 0) != 0) return Json(nullptr);
    auto parsed = ParseJson(r.body);
    return parsed.ok() ? *parsed : Json(nullptr);
  }

  static std::string Str(const Json& v, const char* key) {
    const Json* p = v.is_object() ? v.as_object().if_contains(key) : nullptr;
    return p != nullptr && p->is_string() ? std::string(p->as_string()) : "";
  }

  void Run() {
    Status s = rt_->RunUntilIdle();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::string Start(const std::string& body) {
    rt_->manual_clock()->AdvanceSeconds(1);
    Json e = Call("POST", "/v2/executions", 201, body);
    Run();
    return Str(e, "id");
  }

  // The id of task `name` of execution `execution_id`.
  std::string TaskId(const std::string& execution_id, const std::string& name) {
    Json tasks = Call("GET", "/v2/executions/" + execution_id + "/tasks", 200);
    for (const auto& t : tasks.at("tasks").as_array())
      if (Str(t, "name") == name) return Str(t, "id");
    ADD_FAILURE() << "no task " << name << " in " << execution_id;
    return "";
  }

  std::string FirstActionId(const std::string& task_id) {
    Json a = Call("GET", "/v2/tasks/" + task_id + "/action_executions", 200);
    if (a.at("action_executions").as_array().empty()) {
      ADD_FAILURE() << "task " << task_id << " has no action executions";
      return "";
    }
    return Str(a.at("action_executions").as_array()[0], "id");
  }

  ApiTestBackend backend_{ServiceOptions()};
  runtime::EmbeddedRuntime* rt_ = &backend_.runtime();
  http::Router router_;
  Json doc_;
  std::unique_ptr<SchemaValidator> validator_;
  std::shared_ptr<WorkersApi> workers_;  // declared after backend_: shut down before it
  bool ready_ = true;
  std::optional<http::Identity> identity_;  // the Keystone identity of the requests (none: no auth)
  std::set<std::string> exercised_;
  std::map<std::string, std::set<int>> statuses_;
  int checked_ = 0;
};

TEST_F(OpenApiScenarioTest, EveryResponseOfEveryEndpointMatchesTheDocument) {
  // Root, document, observability.
  Call("GET", "/", 200);
  Call("GET", "/v2", 200);
  Call("GET", "/info", 200);
  Call("GET", "/v2/openapi.json", 200);
  Call("GET", "/health/live", 200);
  Call("GET", "/health/ready", 200);
  ready_ = false;
  Call("GET", "/health/ready", 503);
  ready_ = true;

  // Workflows.
  Json created = Call("POST", "/v2/workflows", 201, kWorkflows, {{"content-type", "text/plain"}});
  std::string wf_id;
  for (const auto& w : created.at("workflows").as_array())
    if (Str(w, "name") == "wf") wf_id = Str(w, "id");
  ASSERT_FALSE(wf_id.empty());
  Call("POST", "/v2/workflows", 409, kWorkflows);
  Call("POST", "/v2/workflows", 400, "version: '2.0'\nwf: [unclosed");
  Call("POST", "/v2/workflows", 413, "version: '2.0'\n#" + std::string(20 * 1024, 'x') + "\n");
  Call("POST", "/v2/workflows?scope=galaxy", 400, kOneWorkflow);
  Call("GET", "/v2/workflows", 200);
  Json page = Call("GET", "/v2/workflows?limit=1&sort_keys=name", 200);
  EXPECT_TRUE(page.as_object().contains("next")) << DumpJson(page);
  Call("GET", "/v2/workflows?name=wf&fields=name,input", 200);
  Call("GET", "/v2/workflows?bogus=1", 400);
  Call("GET", "/v2/workflows/wf", 200);
  Call("GET", "/v2/workflows/" + wf_id, 200);
  Call("GET", "/v2/workflows/nope", 404);
  Call("GET", "/v2/workflows/wf/graph", 200);
  Call("GET", "/v2/workflows/" + wf_id + "/graph", 200);
  Call("GET", "/v2/workflows/nope/graph", 404);
  Call("PUT", "/v2/workflows", 200, kOneWorkflow);
  Call("PUT", "/v2/workflows", 404,
       "version: '2.0'\nunknown_wf:\n  tasks:\n    t:\n      action: std.noop\n");
  Call("PUT", "/v2/workflows/" + wf_id, 200, kOneWorkflow);
  Call("POST", "/v2/workflows/validate", 200, kWorkflows);
  Call("POST", "/v2/workflows/validate", 200, "version: '2.0'\nwf: {tasks: 3}");

  // Members (resource sharing): without an identity 400; alpha shares, beta accepts.
  const std::string members = "/v2/workflows/" + wf_id + "/members";
  Call("GET", members, 400);
  auto project = [](const std::string& name) {
    http::Identity id;
    id.project_id = name + "-id";
    id.project_name = name;
    id.user_id = id.user_name = name + "-user";
    id.roles = {"member"};
    return id;
  };
  identity_ = project("alpha");
  Json shared = Call("POST", "/v2/workflows", 201,
                     "version: '2.0'\nshared:\n  tasks:\n    t:\n      action: std.noop\n");
  const std::string shared_members =
      "/v2/workflows/" + Str(shared.at("workflows").as_array()[0], "id") + "/members";
  Call("POST", shared_members, 201, R"({"member_id": "beta-id"})");
  Call("POST", shared_members, 409, R"({"member_id": "beta-id"})");
  Call("POST", "/v2/workflows/shared/members", 400, R"({"member_id": "beta-id"})");
  Call("POST", members, 404, R"({"member_id": "beta-id"})");  // the default project's
  Call("GET", shared_members, 200);
  Call("GET", shared_members + "/beta-id", 200);
  Call("GET", shared_members + "/gamma-id", 404);
  identity_ = project("beta");
  Call("POST", shared_members, 404, R"({"member_id": "gamma-id"})");  // invisible: pending
  Call("PUT", shared_members + "/beta-id", 200, R"({"status": "accepted"})");
  Call("POST", shared_members, 403, R"({"member_id": "gamma-id"})");  // visible, not beta's
  Call("PUT", shared_members + "/beta-id", 400, R"({"status": "maybe"})");
  Call("PUT", shared_members + "/alpha-id", 404, R"({"status": "accepted"})");
  Call("DELETE", shared_members + "/beta-id", 404);
  identity_ = project("alpha");
  Call("DELETE", shared_members + "/beta-id", 204);
  Call("DELETE", "/v2/workflows/shared", 204);
  identity_.reset();

  // Workbooks.
  Call("POST", "/v2/workbooks", 201, kWorkbook);
  Call("POST", "/v2/workbooks", 409, kWorkbook);
  Call("GET", "/v2/workbooks", 200);
  Call("GET", "/v2/workbooks/wb", 200);
  Call("GET", "/v2/workbooks/nope", 404);
  Call("PUT", "/v2/workbooks", 200, kWorkbook);
  Call("POST", "/v2/workbooks/validate", 200, kWorkbook);
  Call("GET", "/v2/workflows/wb.main", 200);
  Call("GET", "/v2/workflows/wb.main/graph", 200);
  Call("DELETE", "/v2/workflows/wb.main", 400);

  // Actions (ad-hoc and system).
  Json greet = Call("POST", "/v2/actions", 201, kActions);
  std::string greet_id = Str(greet.at("actions").as_array().at(0), "id");
  Call("POST", "/v2/actions", 409, kActions);
  Call("GET", "/v2/actions", 200);
  Call("GET", "/v2/actions?is_system=false", 200);
  Call("GET", "/v2/actions/greet", 200);
  Call("GET", "/v2/actions/std.echo", 200);
  Call("GET", "/v2/actions/wb.local_echo", 200);
  Call("GET", "/v2/actions/nope", 404);
  Call("PUT", "/v2/actions", 200, kActions);
  Call("PUT", "/v2/actions/" + greet_id, 200, kActions);
  Call("PUT", "/v2/actions/greet", 200, kActions);  // an id or a name, as Mistral
  Call("PUT", "/v2/actions/nope", 404, kActions);
  Call("POST", "/v2/actions/validate", 200, kActions);
  Call("DELETE", "/v2/actions/std.echo", 400);
  Call("DELETE", "/v2/actions/greet", 204);
  Call("DELETE", "/v2/actions/greet", 404);

  // Environments.
  Call("POST", "/v2/environments", 201,
       R"({"name": "env1", "description": "d", "variables": {"greeting": "hi"}})");
  Call("POST", "/v2/environments", 201,
       R"({"name": "env2", "description": null, "variables": "{\"a\": 1}"})");
  Call("POST", "/v2/environments", 409, R"({"name": "env1"})");
  Call("POST", "/v2/environments", 400, R"({"variables": {}})");
  Call("POST", "/v2/environments", 400, "not json");
  Call("GET", "/v2/environments", 200);
  Call("GET", "/v2/environments/env1", 200);
  Call("GET", "/v2/environments/nope", 404);
  Call("PUT", "/v2/environments", 200, R"({"name": "env1", "variables": {"greeting": "hello"}})");
  Call("PUT", "/v2/environments", 404, R"({"name": "nope", "variables": {}})");
  Call("DELETE", "/v2/environments/env2", 204);
  Call("DELETE", "/v2/environments/env2", 404);

  // Executions.
  std::string e1 = Start(R"({"workflow_name": "wf", "input": {"num1": 1}, "description": "first",
                             "params": {"env": "env1"}})");
  ASSERT_FALSE(e1.empty());
  Call("POST", "/v2/executions", 201,
       R"({"id": ")" + e1 + R"(", "workflow_name": "wf", "input": {"num1": 1}})");
  Call("POST", "/v2/executions", 400, R"({"input": {}})");
  Call("POST", "/v2/executions", 400, "[1]");
  Call("POST", "/v2/executions", 404, R"({"workflow_name": "nope"})");
  Call("POST", "/v2/executions", 400, R"({"workflow_name": "wf", "input": {"bogus": 1}})");
  Call("GET", "/v2/executions", 200);
  Call("GET", "/v2/executions?include_output=true", 200);
  Call("GET", "/v2/executions?limit=1", 200);
  Call("GET", "/v2/executions?marker=00000000-0000-4000-8000-000000000000", 404);
  Call("GET", "/v2/executions?state=eq:SUCCESS&sort_keys=created_at&sort_dirs=desc", 200);
  Call("GET", "/v2/executions?nope=1", 400);
  Call("GET", "/v2/executions/" + e1, 200);
  Call("GET", "/v2/executions/nope", 404);
  Call("GET", "/v2/executions/" + e1 + "/tasks", 200);
  Call("GET", "/v2/executions/nope/tasks", 200);  // a filter: empty, as Mistral
  Call("GET", "/v2/executions/" + e1 + "/executions", 200);
  Call("GET", "/v2/executions/nope/executions", 404);
  Call("GET", "/v2/executions/" + e1 + "/report", 200);
  Call("GET", "/v2/executions/" + e1 + "/report?max_depth=0", 200);
  Call("GET", "/v2/executions/nope/report", 404);
  Call("GET", "/v2/executions/" + e1 + "/stream", 200);  // the stream itself: executions_api_test
  Call("GET", "/v2/executions/nope/stream", 404);
  Call("GET", "/v2/executions/counts", 200);
  Call("GET", "/v2/executions/counts?workflow_name=wf&search=fir", 200);
  Call("GET", "/v2/executions/counts?nope=1", 400);
  Call("GET", "/v2/executions?search=first&limit=1", 200);
  Call("GET",
       "/v2/executions?created_at=gte:2000-01-01 00:00:00&created_before=2999-01-01 00:00:00", 200);
  Call("PUT", "/v2/executions/" + e1, 200, R"({"description": "renamed"})");
  Call("PUT", "/v2/executions/" + e1, 400, R"({})");
  Call("PUT", "/v2/executions/" + e1, 400, R"({"state": "BOGUS"})");
  Call("PUT", "/v2/executions/" + e1, 400, R"({"state": "PAUSED"})");
  Call("PUT", "/v2/executions/nope", 404, R"({"state": "PAUSED"})");

  // Sub-workflows and tasks.
  std::string parent = Start(R"({"workflow_name": "wf_parent"})");
  Call("GET", "/v2/executions/" + parent + "/executions", 200);
  Call("GET", "/v2/executions/" + parent + "/executions?include_output=true&max_depth=1", 200);
  Call("GET", "/v2/executions/" + parent + "/report", 200);
  Call("GET", "/v2/executions?include_output=true", 200);
  std::string call_task = TaskId(parent, "call");
  Call("GET", "/v2/tasks", 200);
  Call("GET", "/v2/tasks?limit=1", 200);
  Call("GET", "/v2/tasks?name=call&fields=name,state", 200);
  Call("GET", "/v2/tasks?wrong=1", 400);
  Call("GET", "/v2/tasks/" + call_task, 200);
  Call("GET", "/v2/tasks/nope", 404);
  Call("GET", "/v2/tasks/" + call_task + "/executions", 200);
  Call("GET", "/v2/tasks/" + call_task + "/workflow_executions", 200);
  Call("GET", "/v2/tasks/nope/executions", 404);
  Call("GET", "/v2/tasks/nope/workflow_executions", 404);
  Call("GET", "/v2/tasks/" + call_task + "/action_executions", 200);
  Call("GET", "/v2/tasks/nope/action_executions", 200);  // a filter: empty
  Call("GET", "/v2/tasks/" + call_task + "/items", 200);
  Call("GET", "/v2/tasks/" + call_task + "/items?offset=0&limit=10&state=SUCCESS", 200);
  Call("GET", "/v2/tasks/" + call_task + "/items?limit=0", 400);
  Call("GET", "/v2/tasks/nope/items", 404);
  std::string task1 = TaskId(e1, "task1");
  std::string action1 = FirstActionId(task1);
  Call("GET", "/v2/tasks/" + task1 + "/action_executions/" + action1, 200);
  Call("GET", "/v2/tasks/" + task1 + "/action_executions/nope", 404);
  Call("GET", "/v2/action_executions", 200);
  Call("GET", "/v2/action_executions?limit=1&include_output=true", 200);
  Call("GET", "/v2/action_executions/" + action1, 200);
  Call("GET", "/v2/action_executions/nope", 404);

  // Rerun and skip a failed task.
  std::string failed = Start(R"({"workflow_name": "wf_fail"})");
  std::string t1 = TaskId(failed, "t1");
  Call("PUT", "/v2/tasks/" + t1, 400, R"({"state": "PAUSED"})");
  Call("PUT", "/v2/tasks/" + t1, 400, R"({"state": "RUNNING"})");
  Call("PUT", "/v2/tasks/" + t1, 200, R"({"state": "RUNNING", "reset": true})");
  Run();
  Call("PUT", "/v2/tasks/" + t1, 200, R"({"state": "SKIPPED"})");
  Run();
  Call("PUT", "/v2/tasks/nope", 404, R"({"state": "SKIPPED"})");

  // The worker API: declare an action, run a task of it through a lease.
  Call("POST", "/v2/workers/poll", 200,
       R"({"worker": "w1", "pool": "python", "actions": [{"name": "py.reverse", "input": "text",
           "description": "reverses"}], "wait": 0})");
  Call("POST", "/v2/workers/poll", 400, R"({"pool": "python", "actions": []})");
  Call("POST", "/v2/workers/poll", 400, R"({"pool": "default", "actions": ["py.x"]})");
  Call("POST", "/v2/workers/poll", 400, R"({"pool": "python", "actions": ["std.echo"]})");
  Call("POST", "/v2/workers/poll", 400, R"({"pool": "python", "actions": ["py.x"], "wait": 99})");
  Call("POST", "/v2/workflows", 201,
       "version: '2.0'\nwf_ext:\n  tasks:\n    r:\n      action: py.reverse text=abc\n");
  std::string ext = Start(R"({"workflow_name": "wf_ext"})");
  Json polled =
      Call("POST", "/v2/workers/poll", 200,
           R"({"worker": "w1", "pool": "python", "actions": ["py.reverse"], "wait": 10})");
  ASSERT_EQ(polled.at("leases").as_array().size(), 1u) << DumpJson(polled);
  std::string lease = Str(polled.at("leases").as_array()[0], "lease_id");
  Call("POST", "/v2/workers/leases/" + lease + "/heartbeat", 200, R"({"extend": 60})");
  Call("POST", "/v2/workers/leases/" + lease + "/heartbeat", 200);
  Call("POST", "/v2/workers/leases/nope/heartbeat", 404, R"({"extend": 60})");
  Call("POST", "/v2/workers/leases/" + lease + "/complete", 400, R"({"state": "DONE"})");
  Call("POST", "/v2/workers/leases/" + lease + "/complete", 200,
       R"({"state": "SUCCESS", "result": "cba"})");
  Call("POST", "/v2/workers/leases/" + lease + "/complete", 200,
       R"({"state": "SUCCESS", "result": "cba"})");
  Call("POST", "/v2/workers/leases/" + lease + "/complete", 409,
       R"({"state": "ERROR", "result": "no"})");
  Call("POST", "/v2/workers/leases/" + lease + "/release", 409);
  Call("POST", "/v2/workers/leases/nope/release", 404);
  Call("POST", "/v2/workers/leases/nope/complete", 404, R"({"state": "SUCCESS"})");
  Call("GET", "/v2/workers", 200);
  Call("GET", "/v2/actions/py.reverse", 200);
  Run();  // the completion went to the bus: the task and its workflow finish with the worker's
          // result
  Json finished = Call("GET", "/v2/executions/" + ext, 200);
  EXPECT_EQ(Str(finished, "state"), "SUCCESS") << DumpJson(finished);
  Json ext_tasks = Call("GET", "/v2/executions/" + ext + "/tasks", 200);
  EXPECT_EQ(Str(ext_tasks.at("tasks").as_array().at(0), "result"), "\"cba\"");
  Call("GET", "/v2/executions/" + failed + "/report?errors_only=true", 200);

  // Async action completion; pause, resume, cancel; delete.
  std::string async = Start(R"({"workflow_name": "wf_async"})");
  std::string wait_action = FirstActionId(TaskId(async, "wait"));
  Call("GET", "/v2/action_executions/" + wait_action, 200);
  Call("PUT", "/v2/action_executions/" + wait_action, 400, R"({"state": "PAUSED"})");
  Call("PUT", "/v2/action_executions/" + wait_action, 200,
       R"({"state": "SUCCESS", "output": {"x": 1}})");
  Run();
  Call("PUT", "/v2/action_executions/" + wait_action, 400, R"({"state": "ERROR"})");
  Call("PUT", "/v2/action_executions/nope", 404, R"({"state": "SUCCESS"})");
  std::string paused = Start(R"({"workflow_name": "wf_async"})");
  Call("PUT", "/v2/executions/" + paused, 200, R"({"state": "PAUSED"})");
  Run();
  Call("GET", "/v2/executions/" + paused, 200);
  Call("DELETE", "/v2/executions/" + paused, 403);
  Call("PUT", "/v2/executions/" + paused, 200, R"({"state": "RUNNING"})");
  Run();
  Call("PUT", "/v2/executions/" + paused, 200, R"({"state": "CANCELLED", "state_info": "enough"})");
  Run();
  Call("GET", "/v2/executions/" + paused, 200);
  Call("DELETE", "/v2/executions/" + paused, 204);
  Call("DELETE", "/v2/executions/" + paused, 404);
  Call("POST", "/v2/executions", 409,
       R"({"id": ")" + paused + R"(", "workflow_name": "wf_async"})");

  // Direct action executions.
  Call("POST", "/v2/action_executions", 201, R"({"name": "std.echo", "input": {"output": 7}})");
  Json saved =
      Call("POST", "/v2/action_executions", 201,
           R"({"name": "std.echo", "input": {"output": "x"}, "params": {"save_result": true},
                        "description": "kept"})");
  Call("GET", "/v2/action_executions/" + Str(saved, "id"), 200);
  Json running = Call("POST", "/v2/action_executions", 201,
                      R"({"name": "std.async_noop", "params": {"save_result": true}})");
  Call("PUT", "/v2/action_executions/" + Str(running, "id"), 200, R"({"state": "ERROR"})");
  Call("POST", "/v2/action_executions", 201, R"({"name": "std.fail"})");
  Call("POST", "/v2/action_executions", 400, R"({"name": "nope"})");
  Call("POST", "/v2/action_executions", 400, R"({})");
  Call("POST", "/v2/action_executions", 400,
       R"({"name": "std.async_noop", "params": {"run_sync": true}})");
  Call("DELETE", "/v2/action_executions/" + action1, 403);

  // Cron triggers.
  std::string later = FormatMistralTime(rt_->clock()->NowUs() + 3'600'000'000LL).substr(0, 16);
  Call("POST", "/v2/cron_triggers", 201,
       R"({"name": "every5", "workflow_name": "wf", "workflow_input": {"num1": 1},
           "pattern": "*/5 * * * *"})");
  Json once = Call("POST", "/v2/cron_triggers", 201,
                   R"({"name": "once", "workflow_id": ")" + wf_id +
                       R"(", "workflow_input": "{\"num1\": 2}", "first_execution_time": ")" +
                       later + R"("})");
  Call("POST", "/v2/cron_triggers", 201,
       R"({"name": "thrice", "workflow_name": "wf", "workflow_input": {"num1": 1},
           "pattern": "0 * * * *",
           "first_execution_time": ")" +
           later + R"(", "remaining_executions": 3, "scope": "public"})");
  Call("POST", "/v2/cron_triggers", 409,
       R"({"name": "every5", "workflow_name": "wf", "workflow_input": {"num1": 1},
           "pattern": "*/5 * * * *"})");
  Call("POST", "/v2/cron_triggers", 404,
       R"({"name": "x", "workflow_name": "nope", "pattern": "* * * * *"})");
  Call("POST", "/v2/cron_triggers", 400,
       R"({"name": "x", "workflow_name": "wf", "workflow_input": {"num1": 1}})");
  Call("POST", "/v2/cron_triggers", 400, R"({"name": 3})");
  Call("GET", "/v2/cron_triggers", 200);
  Call("GET", "/v2/cron_triggers?limit=1&all_projects=true", 200);
  Call("GET", "/v2/cron_triggers?x=1", 400);
  Call("GET", "/v2/cron_triggers/every5", 200);
  Call("GET", "/v2/cron_triggers/" + Str(once, "id"), 200);
  Call("GET", "/v2/cron_triggers/nope", 404);
  Call("DELETE", "/v2/cron_triggers/every5", 204);
  Call("DELETE", "/v2/cron_triggers/every5", 404);

  // Webhook configs, event triggers, events, webhooks.
  Call("POST", "/v2/webhook_configs", 201,
       R"({"name": "aodh", "format": "aodh", "description": "alarms"})");
  Call("POST", "/v2/webhook_configs", 201,
       R"({"name": "signed", "format": "json", "secret": "s3cret"})");
  Call("POST", "/v2/webhook_configs", 409, R"({"name": "aodh", "format": "aodh"})");
  Call("POST", "/v2/webhook_configs", 400, R"({"name": "bad", "format": "xml"})");
  Call("GET", "/v2/webhook_configs", 200);
  Call("GET", "/v2/webhook_configs/signed", 200);
  Call("GET", "/v2/webhook_configs/nope", 404);
  Json trigger = Call("POST", "/v2/event_triggers", 201,
                      R"({"name": "on-alarm", "workflow_id": "wf", "workflow_input": {"num1": 5},
                          "type": "aodh.alarm.alarm", "input_mapping": {"num2": "<% 1 %>"}})");
  std::string trigger_id = Str(trigger, "id");
  Call("POST", "/v2/event_triggers", 201,
       R"({"name": "orders", "workflow_id": ")" + wf_id + R"(", "workflow_input": {"num1": 1},
           "exchange": "openstack", "topic": "notifications",
           "event": "compute.instance.create.end"})");
  Call("POST", "/v2/event_triggers", 409,
       R"({"name": "again", "workflow_id": "wf", "type": "aodh.alarm.alarm"})");
  Call("POST", "/v2/event_triggers", 404, R"({"name": "x", "workflow_id": "nope", "event": "x"})");
  Call("POST", "/v2/event_triggers", 400, R"({"name": "x", "workflow_id": "wf"})");
  Call("GET", "/v2/event_triggers", 200);
  Call("GET", "/v2/event_triggers?limit=1&sort_keys=name", 200);
  Call("GET", "/v2/event_triggers?zzz=1", 400);
  Call("GET", "/v2/event_triggers/" + trigger_id, 200);
  Call("GET", "/v2/event_triggers/nope", 404);
  Call("PUT", "/v2/event_triggers/" + trigger_id, 200,
       R"({"name": "renamed", "workflow_input": {"num1": 6}})");
  Call("PUT", "/v2/event_triggers/" + trigger_id, 400, R"({"event": "other"})");
  Call("PUT", "/v2/event_triggers/nope", 404, R"({"name": "x"})");

  Call("POST", "/v2/webhooks/aodh", 202, kAodhPayload);
  Call("POST", "/v2/webhooks/aodh", 400, R"({"alarm_name": "x"})");
  Call("POST", "/v2/webhooks/signed", 401, R"({"a": 1})");
  Call("POST", "/v2/webhooks/nope", 404, R"({"a": 1})");
  Call("POST", "/v2/events", 202,
       R"({"specversion":"1.0","id":"o1","source":"/shop","type":"aodh.alarm.alarm",
           "subject":"h1"})",
       {{"content-type", "application/cloudevents+json"}});
  Call("POST", "/v2/events", 202,
       R"([{"specversion":"1.0","id":"o3","source":"/shop","type":"t"},
           {"specversion":"1.0","id":"o4","source":"/shop","type":"t"}])",
       {{"content-type", "application/cloudevents-batch+json"}});
  Call("POST", "/v2/events", 202, R"({"total": 10})",
       {{"ce-specversion", "1.0"},
        {"ce-id", "o2"},
        {"ce-source", "/shop"},
        {"ce-type", "t"},
        {"content-type", "application/json"}});
  Call("POST", "/v2/events", 413,
       R"([{"specversion":"1.0","id":"a","source":"/s","type":"t"},
           {"specversion":"1.0","id":"b","source":"/s","type":"t"},
           {"specversion":"1.0","id":"c","source":"/s","type":"t"},
           {"specversion":"1.0","id":"d","source":"/s","type":"t"}])",
       {{"content-type", "application/cloudevents-batch+json"}});
  Call("POST", "/v2/events", 400, R"({"a":1})");
  Run();  // the ingest processor starts the triggered workflows
  Json all = Call("GET", "/v2/executions?include_output=true&workflow_name=wf", 200);
  EXPECT_GE(all.at("executions").as_array().size(), 3u) << DumpJson(all);
  Call("GET", "/v2/tasks", 200);
  Call("GET", "/v2/action_executions", 200);
  Call("DELETE", "/v2/event_triggers/" + trigger_id, 204);
  Call("DELETE", "/v2/event_triggers/" + trigger_id, 404);
  Call("DELETE", "/v2/webhook_configs/aodh", 204);
  Call("DELETE", "/v2/webhook_configs/aodh", 404);

  // Definitions clean-up.
  Call("DELETE", "/v2/workbooks/wb", 204);
  Call("DELETE", "/v2/workbooks/wb", 404);
  Call("DELETE", "/v2/workflows/wf_fail", 204);
  Call("DELETE", "/v2/workflows/wf_fail", 404);
  Json services = Call("GET", "/v2/services", 200);
  EXPECT_TRUE(services.at("services").is_array()) << DumpJson(services);
  // In memory: nothing to back up (201 is tested on a real data directory, single_node_test).
  Call("POST", "/v2/admin/backup", 400, R"({"directory": "/tmp/bora-backup-never"})");
  Call("GET", "/metrics", 200);  // last: it has seen every route

  // Every documented operation was exercised.
  std::vector<std::string> missed;
  for (const auto& op : DocumentedOperations(doc_))
    if (!exercised_.contains(op)) missed.push_back(op);
  EXPECT_TRUE(missed.empty()) << "not exercised:\n  " << Join(missed);
  std::string seen;
  for (const auto& [op, codes] : statuses_) {
    seen += "\n  " + op + ":";
    for (int c : codes) seen += " " + std::to_string(c);
  }
  std::cout << checked_ << " responses checked; statuses seen:" << seen << "\n";
  EXPECT_GT(checked_, 150);
}

// A route that takes JSON refuses a body of another type (415) before its handler, so a web page's
// "simple" cross-site POST (text/plain, form) starts nothing; YAML definitions keep text/plain, as
// python-mistralclient sends them. List `next` links start with the server's base URL.
TEST(RestApiContentTypeTest, JsonRoutesRefuseOtherBodiesDefinitionsTakeYaml) {
  ApiServiceOptions options;
  options.serve_http = false;
  ApiTestBackend backend(options);
  http::Router router;
  RegisterRestApi(router, backend.context(), [] { return Status::Ok(); });
  auto call = [&](const std::string& method, const std::string& target, const std::string& body,
                  const std::string& type) {
    return router.Dispatch(MakeRequest(method, target, body, "", {{"content-type", type}}));
  };
  ASSERT_EQ(call("POST", "/v2/workflows", kWorkflows, "text/plain").status, 201);
  const std::string start = R"({"workflow_id": "wf", "input": {"num1": 1}})";
  for (std::string type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "", "application/jsonx"}) {
    SCOPED_TRACE(type);
    http::HttpResponse r = call("POST", "/v2/executions", start, type);
    EXPECT_EQ(r.status, 415) << r.body;
    EXPECT_NE(Field(BodyObject(r), "faultstring").find("takes a JSON body"), std::string::npos)
        << r.body;
    EXPECT_EQ(call("POST", "/v2/environments", R"({"name": "e", "variables": {}})", type).status,
              415);
  }
  auto listed = call("GET", "/v2/executions", "", "");
  ASSERT_EQ(listed.status, 200);
  EXPECT_TRUE(BodyObject(listed).at("executions").as_array().empty()) << listed.body;
  EXPECT_EQ(call("POST", "/v2/environments", R"({"name": "e1", "variables": {}})",
                 "application/json; charset=utf-8")
                .status,
            201);
  EXPECT_EQ(
      call("POST", "/v2/environments", R"({"name": "e2", "variables": {}})", "Application/JSON")
          .status,
      201);
  EXPECT_EQ(call("POST", "/v2/webhooks/none", "{}", "text/plain").status, 404);  // any type
  // `next` comes from the base URL, whatever the Host header says.
  http::HttpRequest page =
      MakeRequest("GET", "/v2/workflows?limit=1", "", "", {{"host", "evil.example"}});
  page.base_url = "https://bora.example.com";
  auto reply = router.Dispatch(page);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Field(BodyObject(reply), "next").rfind("https://bora.example.com/v2/workflows?", 0), 0u)
      << reply.body;
}

}  // namespace
}  // namespace bora::api
