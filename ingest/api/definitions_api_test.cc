// The definitions routes (root, workbooks, workflows, actions, environments) through
// Router::Dispatch with plain HttpRequest values, over an ApiTestBackend (api_test_support.h): an
// EmbeddedRuntime in deterministic mode, a MemoryResourceStore and a Catalog feeding the runtime's
// MemoryDefinitions.
#include "ingest/api/definitions_api.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "common/ids.h"
#include "ingest/api/api_test_support.h"
#include "ingest/api/catalog.h"
#include "orchestrator/runtime/embedded_runtime.h"

namespace bora::api {
namespace {

constexpr const char* kTwoWorkflows = R"(version: '2.0'

wf1:
  input:
    - a
    - b: "2"
  output:
    sum: <% $.a %>
  tasks:
    t1:
      action: std.echo output=<% $.a %>
      publish:
        got: <% task().result %>

# the second one
wf2:
  tasks:
    only:
      action: std.noop
)";

constexpr const char* kWorkbook = R"(version: '2.0'
name: wb
tags: [book]
workflows:
  main:
    tasks:
      t1:
        action: local_echo text=hi
  other:
    tasks:
      t1:
        action: std.noop
actions:
  local_echo:
    base: std.echo output=<% $.text %>
    input:
      - text
)";

constexpr const char* kActions = R"(version: '2.0'
greet:
  description: says hello
  base: std.echo output="hello <% $.who %>"
  input:
    - who
)";

class DefinitionsApiTest : public ::testing::Test {
 protected:
  DefinitionsApiTest() { RegisterDefinitionsRoutes(router_, ctx_); }

  // "GET", "/v2/workflows?namespace=x&limit=1"; definitions are sent as text/plain.
  http::HttpResponse Call(const std::string& method, const std::string& target,
                          const std::string& body = "",
                          const std::string& content_type = "text/plain") {
    return router_.Dispatch(
        MakeRequest(method, target, body, content_type, {{"host", "evil.example:1"}}));
  }
  static std::vector<std::string> Names(const JsonObject& list, const char* collection) {
    std::vector<std::string> out;
    for (const auto& r : list.at(collection).as_array())
      out.push_back(Field(r.as_object(), "name"));
    return out;
  }

  ApiTestBackend backend_;
  runtime::EmbeddedRuntime& runtime_ = backend_.runtime();
  store::ResourceStore& resources_ = backend_.resources();
  Catalog& catalog_ = backend_.catalog();
  ApiContext& ctx_ = backend_.context();
  http::Router router_;
};

TEST_F(DefinitionsApiTest, RootAndVersionDocuments) {
  auto root = Call("GET", "/");
  ASSERT_EQ(root.status, 200) << root.body;
  EXPECT_EQ(
      root.body,
      R"([{"id":"v2.0","status":"CURRENT","link":{"href":"http://localhost:8989/v2","target":"v2"}}])");
  // Links start with the server's base URL (MakeRequest: http://localhost:8989), not the Host
  // header (evil.example:1 here).
  auto v2 = Call("GET", "/v2");
  ASSERT_EQ(v2.status, 200);
  EXPECT_EQ(v2.body, R"({"uri":"http://localhost:8989/v2"})");
  auto info = Call("GET", "/info");
  ASSERT_EQ(info.status, 200);
  EXPECT_EQ(Field(BodyObject(info), "name"), "bora");
}

TEST_F(DefinitionsApiTest, CreateWorkflowsGivesOneRecordEachInMistralShape) {
  auto r = Call("POST", "/v2/workflows", kTwoWorkflows);
  ASSERT_EQ(r.status, 201) << r.body;
  auto wfs = BodyObject(r).at("workflows").as_array();
  ASSERT_EQ(wfs.size(), 2u);
  const JsonObject& wf1 = wfs[0].as_object();
  EXPECT_TRUE(IsUuidLike(Field(wf1, "id")));
  EXPECT_EQ(Field(wf1, "name"), "wf1");
  EXPECT_EQ(Field(wf1, "namespace"), "");
  EXPECT_EQ(Field(wf1, "input"), R"(a, b="2")");
  EXPECT_EQ(Field(wf1, "tags"), "[]");
  EXPECT_EQ(Field(wf1, "scope"), "private");
  EXPECT_EQ(Field(wf1, "project_id"), "<default-project>");
  EXPECT_EQ(Field(wf1, "created_at"), "2026-01-01 00:00:00");
  EXPECT_EQ(Field(wf1, "updated_at"), "null");
  EXPECT_EQ(Field(wf1, "interface"), R"({"input":["a",{"b":"2"}],"output":["sum"]})");
  EXPECT_EQ(Field(wf1, "checksum").size(), 32u);
  // Each workflow keeps its own definition text (a standalone document).
  std::string def1 = Field(wf1, "definition");
  EXPECT_NE(def1.find("wf1:"), std::string::npos);
  EXPECT_EQ(def1.find("wf2:"), std::string::npos);
  std::string def2 = Field(wfs[1].as_object(), "definition");
  EXPECT_EQ(def2, "version: '2.0'\n\nwf2:\n  tasks:\n    only:\n      action: std.noop\n");
  EXPECT_EQ(Field(wfs[1].as_object(), "checksum"), "1bd480bd6dca8a51e5d0f730a6572279")
      << "md5 of def2";
  // GET by name and by id return the same record.
  auto by_name = Call("GET", "/v2/workflows/wf1");
  ASSERT_EQ(by_name.status, 200);
  auto by_id = Call("GET", "/v2/workflows/" + Field(wf1, "id"));
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(by_name.body, by_id.body);
  EXPECT_EQ(BodyObject(by_name), wf1);
}

TEST_F(DefinitionsApiTest, WorkflowCreatedThroughTheApiIsStartable) {
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  runtime::StartRequest start;
  start.workflow_name = "wf1";
  start.input = JsonObject{{"a", 5}};
  auto id = runtime_.client().Start(start);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  int p = PartitionForKey(id->value(), runtime_.partitions());
  auto state = runtime_.store().ReadExecution(PartitionId(p), *id);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->state, engine::State::kSuccess);
  EXPECT_EQ(DumpJson((*state)->output), R"({"sum":5})");
}

TEST_F(DefinitionsApiTest, WorkflowErrors) {
  // Invalid YAML: 400 with the parser's location.
  auto bad = Call("POST", "/v2/workflows", "version: '2.0'\nwf:\n  tasks: [\n");
  EXPECT_EQ(bad.status, 400) << bad.body;
  EXPECT_EQ(
      Field(BodyObject(bad), "faultstring").rfind("Invalid DSL: <input>:4:1: invalid YAML", 0), 0u)
      << bad.body;
  EXPECT_EQ(Field(BodyObject(bad), "faultcode"), "Client");
  // Invalid DSL: unknown key.
  auto dsl = Call("POST", "/v2/workflows", "version: '2.0'\nwf:\n  taskz: {}\n");
  EXPECT_EQ(dsl.status, 400) << dsl.body;
  // Duplicate: 409, and nothing of the document is created.
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  auto dup = Call("POST", "/v2/workflows", kTwoWorkflows);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Field(BodyObject(dup), "faultstring"),
            "Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']: wf1, , "
            "<default-project>");
  auto partial = Call("POST", "/v2/workflows",
                      "version: '2.0'\nfresh:\n  tasks:\n    t: {action: std.noop}\n"
                      "wf2:\n  tasks:\n    t: {action: std.noop}\n");
  EXPECT_EQ(partial.status, 409);
  EXPECT_EQ(Call("GET", "/v2/workflows/fresh").status, 404);
  // Unknown.
  auto missing = Call("GET", "/v2/workflows/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Field(BodyObject(missing), "faultstring"),
            "WorkflowDefinition not found [identifier=nope, namespace=]");
  EXPECT_EQ(Call("DELETE", "/v2/workflows/nope").status, 404);
  EXPECT_EQ(
      Call("PUT", "/v2/workflows", "version: '2.0'\nnope:\n  tasks:\n    t: {action: std.noop}\n")
          .status,
      404);
  // Bad scope.
  EXPECT_EQ(Call("POST", "/v2/workflows?scope=galaxy", kTwoWorkflows).status, 400);
}

// A name that is not valid UTF-8 is refused with its location, so it is never stored (it would
// break every listing's JSON).
TEST_F(DefinitionsApiTest, InvalidUtf8NamesAreRefusedAndListingsStillWork) {
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  const std::string bad_workflow = "version: '2.0'\nwf\xff:\n  tasks:\n    t: {action: std.noop}\n";
  const std::string bad_task = "version: '2.0'\nwf3:\n  tasks:\n    t\xc3(: {action: std.noop}\n";
  const std::string bad_action = "version: '2.0'\nact\xe2\x82:\n  base: std.noop\n";
  const std::string bad_workbook =
      "version: '2.0'\nname: wb\xff\nworkflows:\n  w:\n    tasks:\n      t: {}\n";
  struct Case {
    std::string target, body, location;
  };
  for (const Case& c : {Case{"/v2/workflows", bad_workflow, "<input>:2:3"},
                        Case{"/v2/workflows", bad_task, "<input>:4:6"},
                        Case{"/v2/actions", bad_action, "<input>:2:4"},
                        Case{"/v2/workbooks", bad_workbook, "<input>:2:9"}}) {
    SCOPED_TRACE(c.target + " " + c.location);
    auto r = Call("POST", c.target, c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Field(BodyObject(r), "faultstring"),
              "Invalid DSL: " + c.location + ": YAML text is not valid UTF-8 (byte 0x" +
                  (c.body.find('\xff') != std::string::npos   ? "ff"
                   : c.body.find('\xc3') != std::string::npos ? "c3"
                                                              : "e2") +
                  ")");
  }
  for (const char* collection : {"workflows", "actions", "workbooks"}) {
    auto list = Call("GET", std::string("/v2/") + collection);
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_TRUE(ParseJson(list.body).ok()) << collection;
  }
  // Both were created within the same second: the listing's order between them is not defined.
  std::vector<std::string> names = Names(BodyObject(Call("GET", "/v2/workflows")), "workflows");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"wf1", "wf2"}));
}

TEST_F(DefinitionsApiTest, DefinitionOverTheLimitIs413) {
  ctx_.limits.max_definition_bytes = 64;
  for (const char* path :
       {"/v2/workflows", "/v2/workbooks", "/v2/actions", "/v2/workflows/validate"}) {
    SCOPED_TRACE(path);
    auto r = Call("POST", path, kTwoWorkflows);
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(Field(BodyObject(r), "faultstring").find("too large"), std::string::npos);
  }
  EXPECT_EQ(Call("PUT", "/v2/workflows", kTwoWorkflows).status, 413);
}

TEST_F(DefinitionsApiTest, UpdateReplacesAndTheEngineSeesItAtOnce) {
  auto created =
      BodyObject(Call("POST", "/v2/workflows", kTwoWorkflows)).at("workflows").as_array();
  std::string id = Field(created[1].as_object(), "id");
  runtime_.manual_clock()->AdvanceSeconds(60);
  auto put = Call(
      "PUT", "/v2/workflows",
      "version: '2.0'\nwf2:\n  input: [x]\n  tasks:\n    t:\n      action: std.echo output=1\n");
  ASSERT_EQ(put.status, 200) << put.body;
  JsonObject put_body = BodyObject(put);
  const JsonObject& wf2 = put_body.at("workflows").as_array()[0].as_object();
  EXPECT_EQ(Field(wf2, "id"), id);
  EXPECT_EQ(Field(wf2, "input"), "x");
  EXPECT_EQ(Field(wf2, "created_at"), "2026-01-01 00:00:00");
  EXPECT_EQ(Field(wf2, "updated_at"), "2026-01-01 00:01:00");
  auto spec = runtime_.definitions().FindWorkflow("wf2", "");
  ASSERT_NE(spec, nullptr);
  ASSERT_EQ(spec->input.size(), 1u);
  // PUT /v2/workflows/{id}: one workflow, the record with that id (renamed here).
  auto by_id = Call("PUT", "/v2/workflows/" + id,
                    "version: '2.0'\nwf3:\n  tasks:\n    t: {action: std.noop}\n");
  ASSERT_EQ(by_id.status, 200) << by_id.body;
  EXPECT_EQ(Field(BodyObject(by_id), "name"), "wf3");
  EXPECT_EQ(Field(BodyObject(by_id), "id"), id);
  EXPECT_EQ(runtime_.definitions().FindWorkflow("wf2", ""), nullptr);
  EXPECT_NE(runtime_.definitions().FindWorkflow("wf3", ""), nullptr);
  EXPECT_EQ(Call("PUT", "/v2/workflows/" + id, kTwoWorkflows).status,
            400);  // two workflows with an id
}

TEST_F(DefinitionsApiTest, DeleteRemovesTheRecordAndTheEngineDefinition) {
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  ASSERT_NE(runtime_.definitions().FindWorkflow("wf1", ""), nullptr);
  auto del = Call("DELETE", "/v2/workflows/wf1");
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(Call("GET", "/v2/workflows/wf1").status, 404);
  EXPECT_EQ(runtime_.definitions().FindWorkflow("wf1", ""), nullptr);
  EXPECT_NE(runtime_.definitions().FindWorkflow("wf2", ""), nullptr);
  runtime::StartRequest start;
  start.workflow_name = "wf1";
  start.input = JsonObject{{"a", 1}};
  EXPECT_EQ(runtime_.client().Start(start).status().code(), StatusCode::kNotFound);
}

// As Mistral: a workflow a cron or event trigger starts is not deleted (400 naming the triggers);
// once they are gone it is.
TEST_F(DefinitionsApiTest, AWorkflowThatTriggersStartIsNotDeleted) {
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  std::string id(BodyObject(Call("GET", "/v2/workflows/wf2")).at("id").as_string());
  ASSERT_TRUE(resources_
                  .Create("cron_trigger", "nightly",
                          JsonObject{{"id", "cron-1"},
                                     {"name", "nightly"},
                                     {"workflow_name", "wf1"},
                                     {"workflow_namespace", ""}})
                  .ok());
  ASSERT_TRUE(resources_
                  .Create("event_trigger", "ev-1",
                          JsonObject{{"id", "ev-1"},
                                     {"workflow_id", id},
                                     {"workflow_name", "wf2"},
                                     {"workflow_namespace", ""}})
                  .ok());
  auto refused = Call("DELETE", "/v2/workflows/wf1");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Field(BodyObject(refused), "faultstring"),
            "Can't delete workflow that has cron triggers associated. "
            "[workflow_identifier=wf1], [cron_trigger_id(s)=cron-1]");
  auto by_id = Call("DELETE", "/v2/workflows/" + id);
  EXPECT_EQ(by_id.status, 400);
  EXPECT_EQ(Field(BodyObject(by_id), "faultstring"),
            "Can't delete workflow that has event triggers associated. [workflow_identifier=" + id +
                "], [event_trigger_id(s)=ev-1]");
  EXPECT_NE(runtime_.definitions().FindWorkflow("wf1", ""), nullptr);
  // The same name in another namespace is not what the trigger starts.
  ASSERT_EQ(Call("POST", "/v2/workflows?namespace=team", kTwoWorkflows).status, 201);
  EXPECT_EQ(Call("DELETE", "/v2/workflows/wf1?namespace=team").status, 204);
  ASSERT_TRUE(resources_.Delete("cron_trigger", "nightly").ok());
  EXPECT_EQ(Call("DELETE", "/v2/workflows/wf1").status, 204);
}

TEST_F(DefinitionsApiTest, NamespacesAreSeparateWithFallbackToDefault) {
  ASSERT_EQ(Call("POST", "/v2/workflows?namespace=team", kTwoWorkflows).status, 201);
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status,
            201);  // same names, default namespace
  auto team = Call("GET", "/v2/workflows/wf1?namespace=team");
  ASSERT_EQ(team.status, 200);
  EXPECT_EQ(Field(BodyObject(team), "namespace"), "team");
  // Lookup falls back to the default namespace.
  ASSERT_EQ(Call("DELETE", "/v2/workflows/wf2?namespace=team").status, 204);
  auto fallback = Call("GET", "/v2/workflows/wf2?namespace=team");
  ASSERT_EQ(fallback.status, 200);
  EXPECT_EQ(Field(BodyObject(fallback), "namespace"), "");
  EXPECT_NE(runtime_.definitions().FindWorkflow("wf1", "team"), nullptr);
  EXPECT_EQ(runtime_.definitions().FindWorkflow("wf2", "team"), nullptr);
  // List with a namespace filter.
  auto list = Call("GET", "/v2/workflows?namespace=team");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Names(BodyObject(list), "workflows"), (std::vector<std::string>{"wf1"}));
}

TEST_F(DefinitionsApiTest, ListParamsSortLimitFieldsAndErrors) {
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  runtime_.manual_clock()->AdvanceSeconds(1);
  ASSERT_EQ(
      Call("POST", "/v2/workflows", "version: '2.0'\nwf0:\n  tasks:\n    t: {action: std.noop}\n")
          .status,
      201);
  auto all = Call("GET", "/v2/workflows?sort_keys=name&sort_dirs=desc");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Names(BodyObject(all), "workflows"), (std::vector<std::string>{"wf2", "wf1", "wf0"}));
  auto page = Call("GET", "/v2/workflows?sort_keys=name&limit=2&fields=name");
  ASSERT_EQ(page.status, 200) << page.body;
  JsonObject p = BodyObject(page);
  EXPECT_EQ(Names(p, "workflows"), (std::vector<std::string>{"wf0", "wf1"}));
  EXPECT_TRUE(p.contains("next")) << page.body;
  EXPECT_FALSE(p.at("workflows").as_array()[0].as_object().contains("definition"));
  // Found by tests/fuzz (schemathesis): an unknown `fields` name came back as a null member,
  // outside the documented shape; Mistral answers 400 for it (workbooks and environments alike;
  // checked, as Mistral does, only when the list has records).
  for (const char* list : {"workflows", "actions"}) {
    auto unknown = Call("GET", std::string("/v2/") + list + "?fields=name,bogus");
    EXPECT_EQ(unknown.status, 400) << list << ": " << unknown.body;
    // And, with it, an unknown marker is a 404 (Mistral's; openapi.json documents it).
    EXPECT_EQ(Call("GET", std::string("/v2/") + list + "?marker=nope").status, 404) << list;
  }
  auto filtered = Call("GET", "/v2/workflows?name=in:wf0,wf2");
  ASSERT_EQ(filtered.status, 200) << filtered.body;
  EXPECT_EQ(Names(BodyObject(filtered), "workflows").size(), 2u);
  EXPECT_EQ(Call("GET", "/v2/workflows?bogus=1").status, 400);
  EXPECT_EQ(Call("GET", "/v2/workflows?limit=0").status, 400);
}

TEST_F(DefinitionsApiTest, ValidateEndpoints) {
  struct Case {
    const char* path;
    const char* body;
    bool valid;
  };
  const Case cases[] = {
      {"/v2/workflows/validate", kTwoWorkflows, true},
      {"/v2/workflows/validate", "version: '2.0'\nwf:\n  tasks: [\n", false},
      {"/v2/workbooks/validate", kWorkbook, true},
      {"/v2/workbooks/validate", kTwoWorkflows, false},
      {"/v2/actions/validate", kActions, true},
      {"/v2/actions/validate", "version: '2.0'\na:\n  bass: std.echo\n", false},
      // Found by tests/fuzz (schemathesis): the error quoted the text cut inside a 4-byte
      // character, and the reply was no JSON a client could decode (BodyObject checks it is).
      {"/v2/actions/validate", "𝕋𝕙𝕖 𝕢𝕦𝕚𝕔𝕜 𝕓𝕣𝕠𝕨𝕟 𝕗𝕠𝕩 𝕛𝕦𝕞𝕡𝕤 𝕠𝕧𝕖𝕣 𝕥𝕙𝕖 𝕝𝕒𝕫𝕪 𝕕𝕠𝕘", false},
      {"/v2/workflows/validate", "𝕋𝕙𝕖 𝕢𝕦𝕚𝕔𝕜 𝕓𝕣𝕠𝕨𝕟 𝕗𝕠𝕩 𝕛𝕦𝕞𝕡𝕤 𝕠𝕧𝕖𝕣 𝕥𝕙𝕖 𝕝𝕒𝕫𝕪 𝕕𝕠𝕘", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.path) + " " + c.body);
    auto r = Call("POST", c.path, c.body);
    ASSERT_EQ(r.status, 200) << r.body;
    JsonObject o = BodyObject(r);
    EXPECT_EQ(o.at("valid").as_bool(), c.valid);
    if (c.valid) {
      EXPECT_TRUE(o.at("error").is_null());
    } else {
      EXPECT_FALSE(Field(o, "error").empty());
    }
  }
  EXPECT_EQ(Call("GET", "/v2/workflows").body, R"({"workflows":[]})");  // validate stores nothing
}

// Each problem of an invalid definition also comes with its line, column, workflow and task.
TEST_F(DefinitionsApiTest, ValidateLocatesEachProblem) {
  auto r =
      Call("POST", "/v2/workflows/validate",
           "version: '2.0'\nwf:\n  tasks:\n    a:\n      action: std.echo output=1\n"
           "      on-success: missing\n    b:\n      action: std.noop\n      retry: {count: x}\n");
  ASSERT_EQ(r.status, 200) << r.body;
  JsonObject o = BodyObject(r);
  EXPECT_FALSE(o.at("valid").as_bool());
  const JsonArray& errors = o.at("errors").as_array();
  ASSERT_EQ(errors.size(), 2u) << r.body;
  std::map<int64_t, JsonObject> by_line;
  for (const auto& e : errors) by_line[e.at("line").as_int64()] = e.as_object();
  ASSERT_TRUE(by_line.contains(6) && by_line.contains(9)) << r.body;
  EXPECT_EQ(by_line[6].at("column").as_int64(), 19);
  EXPECT_EQ(by_line[6].at("workflow").as_string(), "wf");
  EXPECT_EQ(by_line[6].at("task").as_string(), "a");
  EXPECT_NE(std::string(by_line[6].at("message").as_string()).find("no such task"),
            std::string::npos);
  EXPECT_EQ(by_line[9].at("task").as_string(), "b");
  // A YAML syntax error is located too.
  auto syntax = Call("POST", "/v2/workflows/validate", "version: '2.0'\nwf:\n  tasks: [\n");
  JsonObject s = BodyObject(syntax);
  ASSERT_FALSE(s.at("errors").as_array().empty()) << syntax.body;
  EXPECT_GT(s.at("errors").as_array()[0].at("line").as_int64(), 0) << syntax.body;
}

TEST_F(DefinitionsApiTest, WorkbookLifecycle) {
  auto created = Call("POST", "/v2/workbooks?scope=public", kWorkbook);
  ASSERT_EQ(created.status, 201) << created.body;
  JsonObject wb = BodyObject(created);
  EXPECT_EQ(Field(wb, "name"), "wb");
  EXPECT_EQ(Field(wb, "definition"), kWorkbook);
  EXPECT_EQ(Field(wb, "tags"), R"(["book"])");
  EXPECT_EQ(Field(wb, "scope"), "public");
  EXPECT_EQ(Field(wb, "namespace"), "");
  EXPECT_TRUE(IsUuidLike(Field(wb, "id")));
  for (const char* hidden : {"_workflows", "_actions"}) EXPECT_FALSE(wb.contains(hidden));
  EXPECT_EQ(Call("POST", "/v2/workbooks", kWorkbook).status, 409);
  EXPECT_EQ(BodyObject(Call("GET", "/v2/workbooks/wb")), wb);
  EXPECT_EQ(Names(BodyObject(Call("GET", "/v2/workbooks")), "workbooks"),
            (std::vector<std::string>{"wb"}));
  // Its workflows and actions are registered as "<workbook>.<name>".
  auto wf = Call("GET", "/v2/workflows/wb.main");
  ASSERT_EQ(wf.status, 200);
  EXPECT_EQ(Field(BodyObject(wf), "definition").rfind("main:\n  tasks:", 0), 0u) << BodyObject(wf);
  EXPECT_EQ(Call("GET", "/v2/actions/wb.local_echo").status, 200);
  EXPECT_EQ(Call("DELETE", "/v2/workflows/wb.main").status, 400);  // belongs to the workbook
  runtime::StartRequest start;
  start.workflow_name = "wb.main";
  auto id = runtime_.client().Start(start);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  auto state = runtime_.store().ReadExecution(
      PartitionId(PartitionForKey(id->value(), runtime_.partitions())), *id);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ((*state)->state, engine::State::kSuccess) << (*state)->state_info.value_or("");
  // Update drops "other".
  std::string v2 = kWorkbook;
  v2 = v2.substr(0, v2.find("  other:")) + v2.substr(v2.find("actions:"));
  auto put = Call("PUT", "/v2/workbooks", v2);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Field(BodyObject(put), "id"), Field(wb, "id"));
  EXPECT_EQ(Call("GET", "/v2/workflows/wb.other").status, 404);
  EXPECT_EQ(runtime_.definitions().FindWorkflow("wb.other", ""), nullptr);
  EXPECT_NE(runtime_.definitions().FindWorkflow("wb.main", ""), nullptr);
  // Delete removes everything.
  EXPECT_EQ(Call("DELETE", "/v2/workbooks/wb").status, 204);
  EXPECT_EQ(Call("GET", "/v2/workbooks/wb").status, 404);
  EXPECT_EQ(Call("GET", "/v2/workflows/wb.main").status, 404);
  EXPECT_EQ(runtime_.definitions().FindWorkflow("wb.main", ""), nullptr);
  EXPECT_EQ(runtime_.definitions().FindAction("wb.local_echo", ""), nullptr);
  EXPECT_EQ(Call("DELETE", "/v2/workbooks/wb").status, 404);
  EXPECT_EQ(Call("PUT", "/v2/workbooks", kWorkbook).status, 404);
  EXPECT_EQ(Call("POST", "/v2/workbooks", kTwoWorkflows).status, 400);
}

TEST_F(DefinitionsApiTest, AdhocAndSystemActions) {
  auto created = Call("POST", "/v2/actions", kActions);
  ASSERT_EQ(created.status, 201) << created.body;
  JsonObject created_body = BodyObject(created);
  const JsonObject& greet = created_body.at("actions").as_array()[0].as_object();
  EXPECT_EQ(Field(greet, "name"), "greet");
  EXPECT_EQ(Field(greet, "is_system"), "false");
  EXPECT_EQ(Field(greet, "input"), "who");
  EXPECT_EQ(Field(greet, "description"), "says hello");
  EXPECT_EQ(Field(greet, "definition"), kActions);
  EXPECT_EQ(Call("POST", "/v2/actions", kActions).status, 409);
  ASSERT_NE(runtime_.definitions().FindAction("greet", ""), nullptr);
  // System actions are listed and readable, not deletable.
  auto echo = Call("GET", "/v2/actions/std.echo");
  ASSERT_EQ(echo.status, 200) << echo.body;
  EXPECT_EQ(Field(BodyObject(echo), "is_system"), "true");
  EXPECT_NE(Field(BodyObject(echo), "input").find("output"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v2/actions/" + Field(BodyObject(echo), "id")).body, echo.body);
  auto del_system = Call("DELETE", "/v2/actions/std.echo");
  EXPECT_EQ(del_system.status, 400);
  EXPECT_EQ(Field(BodyObject(del_system), "faultstring"),
            "Attempt to delete a system action: std.echo");
  auto list = Call("GET", "/v2/actions?is_system=false");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(Names(BodyObject(list), "actions"), (std::vector<std::string>{"greet"}));
  auto all = BodyObject(Call("GET", "/v2/actions"));
  EXPECT_GT(all.at("actions").as_array().size(), 5u);
  // Update, then delete.
  auto put = Call("PUT", "/v2/actions",
                  "version: '2.0'\ngreet:\n  base: std.echo output=hi\n  input:\n    - who: x\n");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Field(BodyObject(put).at("actions").as_array()[0].as_object(), "input"), R"(who="x")");
  EXPECT_EQ(Call("DELETE", "/v2/actions/greet").status, 204);
  EXPECT_EQ(Call("GET", "/v2/actions/greet").status, 404);
  EXPECT_EQ(runtime_.definitions().FindAction("greet", ""), nullptr);
  EXPECT_EQ(Call("DELETE", "/v2/actions/greet").status, 404);
  EXPECT_EQ(Call("POST", "/v2/actions", "version: '2.0'\ngreet:\n  bass: x\n").status, 400);
}

TEST_F(DefinitionsApiTest, EnvironmentLifecycle) {
  // variables as a JSON string (python-mistralclient) or an object.
  auto created =
      Call("POST", "/v2/environments",
           R"({"name": "env1", "description": "d", "variables": "{\"k\": 1, \"s\": \"x\"}"})",
           "application/json");
  ASSERT_EQ(created.status, 201) << created.body;
  JsonObject env = BodyObject(created);
  EXPECT_EQ(Field(env, "name"), "env1");
  EXPECT_EQ(Field(env, "description"), "d");
  EXPECT_EQ(Field(env, "variables"),
            R"({"k": 1, "s": "x"})");  // JSON-encoded string, Python spacing
  EXPECT_EQ(Field(env, "scope"), "private");
  EXPECT_EQ(Field(env, "project_id"), "<default-project>");
  EXPECT_TRUE(IsUuidLike(Field(env, "id")));
  EXPECT_EQ(Call("POST", "/v2/environments", R"({"name": "env1"})").status, 409);
  EXPECT_EQ(BodyObject(Call("GET", "/v2/environments/env1")), env);
  // The Catalog lookup others use returns variables as an object.
  auto looked = catalog_.GetEnvironment("env1");
  ASSERT_TRUE(looked.ok() && looked->has_value());
  EXPECT_TRUE((**looked).as_object().at("variables").is_object());

  auto put = Call("PUT", "/v2/environments", R"({"name": "env1", "variables": {"k": 2}})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Field(BodyObject(put), "variables"), R"({"k": 2})");
  EXPECT_EQ(Field(BodyObject(put), "description"), "d");
  EXPECT_EQ(Field(BodyObject(put), "id"), Field(env, "id"));

  ASSERT_EQ(Call("POST", "/v2/environments", R"({"name": "env2", "variables": {}})").status, 201);
  auto list = Call("GET", "/v2/environments?sort_keys=name");
  ASSERT_EQ(list.status, 200) << list.body;
  JsonObject l = BodyObject(list);
  EXPECT_EQ(Names(l, "environments"), (std::vector<std::string>{"env1", "env2"}));
  EXPECT_TRUE(l.at("environments").as_array()[0].as_object().at("variables").is_string());

  EXPECT_EQ(Call("DELETE", "/v2/environments/env1").status, 204);
  EXPECT_EQ(Call("GET", "/v2/environments/env1").status, 404);
  EXPECT_EQ(Call("DELETE", "/v2/environments/env1").status, 404);
  EXPECT_EQ(Call("PUT", "/v2/environments", R"({"name": "env1"})").status, 404);
  // Bad bodies.
  struct Bad {
    const char* body;
    int status;
  };
  for (const Bad& b : {Bad{"not json", 400}, Bad{R"({"description": "no name"})", 400},
                       Bad{R"({"name": "e", "variables": [1]})", 400},
                       Bad{R"({"name": "e", "scope": "galaxy"})", 400},
                       Bad{R"({"name": "e", "bogus": 1})", 400}}) {
    SCOPED_TRACE(b.body);
    EXPECT_EQ(Call("POST", "/v2/environments", b.body).status, b.status);
  }
}

TEST_F(DefinitionsApiTest, ReloadRegistersStoredDefinitionsWithAFreshSink) {
  ASSERT_EQ(Call("POST", "/v2/workflows", kTwoWorkflows).status, 201);
  ASSERT_EQ(Call("POST", "/v2/workbooks", kWorkbook).status, 201);
  ASSERT_EQ(Call("POST", "/v2/actions", kActions).status, 201);
  engine::MemoryDefinitions fresh;
  MemoryDefinitionsSink sink(&fresh);
  Catalog again(&resources_, &sink, runtime_.clock(), &runtime_.actions());
  ASSERT_TRUE(again.Reload().ok());
  EXPECT_NE(fresh.FindWorkflow("wf1", ""), nullptr);
  EXPECT_NE(fresh.FindWorkflow("wf2", ""), nullptr);
  EXPECT_NE(fresh.FindWorkflow("wb.main", ""), nullptr);
  EXPECT_NE(fresh.FindAction("wb.local_echo", ""), nullptr);
  EXPECT_NE(fresh.FindAction("greet", ""), nullptr);
}

TEST_F(DefinitionsApiTest, MoreBadDocuments) {
  struct Case {
    const char* name;
    const char* path;
    const char* body;
  };
  const Case cases[] = {
      {"empty body", "/v2/workflows", ""},
      {"uuid-like workflow name", "/v2/workflows",
       "version: '2.0'\n12345678-1234-1234-1234-123456789abc:\n  tasks:\n    t: {action: "
       "std.noop}\n"},
      {"workbook without name", "/v2/workbooks",
       "version: '2.0'\nworkflows:\n  w:\n    tasks:\n      t: {action: std.noop}\n"},
      {"actions document with a workflow", "/v2/actions",
       "version: '2.0'\nw:\n  tasks:\n    t: {action: std.noop}\n"},
      {"not a mapping", "/v2/workflows", "- just\n- a list\n"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = Call("POST", c.path, c.body);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Field(BodyObject(r), "faultcode"), "Client");
  }
  EXPECT_EQ(Call("GET", "/v2/workflows").body, R"({"workflows":[]})");
}

TEST_F(DefinitionsApiTest, FlowStyleDocumentsKeepTheWholeTextPerWorkflow) {
  const std::string doc =
      "{version: '2.0', a: {tasks: {t: {action: std.noop}}}, "
      "b: {tasks: {t: {action: std.noop}}}}\n";
  auto r = Call("POST", "/v2/workflows", doc);
  ASSERT_EQ(r.status, 201) << r.body;
  auto wfs = BodyObject(r).at("workflows").as_array();
  ASSERT_EQ(wfs.size(), 2u);
  EXPECT_EQ(Field(wfs[0].as_object(), "definition"), doc);
  EXPECT_NE(runtime_.definitions().FindWorkflow("a", ""), nullptr);
  EXPECT_NE(runtime_.definitions().FindWorkflow("b", ""), nullptr);
}

TEST_F(DefinitionsApiTest, ConcurrentCreatesOfOneNameHaveOneWinner) {
  constexpr int kThreads = 4;
  std::atomic<int> created{0}, conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto r = catalog_.CreateWorkflows(kTwoWorkflows, {});
      if (r.ok()) {
        created++;
      } else if (r.status().code() == StatusCode::kAlreadyExists) {
        conflicts++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(conflicts.load(), kThreads - 1);
  EXPECT_EQ(catalog_.ListWorkflows()->size(), 2u);
}

TEST_F(DefinitionsApiTest, CatalogEnforcesItsOwnDefinitionLimit) {
  CatalogOptions options;
  options.max_definition_bytes = 32;
  MemoryDefinitionsSink sink(&runtime_.definitions());
  Catalog small(&resources_, &sink, runtime_.clock(), nullptr, options);
  EXPECT_EQ(small.CreateWorkflows(kTwoWorkflows, {}).status().code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(small.CreateWorkbook(kWorkbook, {}).status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(
      small.Validate(kTwoWorkflows, Catalog::DocumentKind::kWorkflows).at("valid").as_bool());
  EXPECT_TRUE(small.ListActions()->empty());  // no registry: no system actions
}

// A sink that refuses everything (an unreachable Redis).
class FailingSink final : public DefinitionsSink {
 public:
  Status Put(const std::string&, std::string_view, std::shared_ptr<const lang::Document>,
             const std::string&) override {
    return Unavailable("redis down");
  }
  Status Remove(const std::string&, const std::string&) override {
    return Unavailable("redis down");
  }
};

TEST_F(DefinitionsApiTest, ASinkFailureLeavesNoRecordBehind) {
  FailingSink failing;
  Catalog broken(&resources_, &failing, runtime_.clock(), nullptr);
  auto created = broken.CreateWorkflows(kTwoWorkflows, {});
  EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(broken.ListWorkflows()->empty());
  // Update: the previous record comes back.
  ASSERT_TRUE(catalog_.CreateWorkflows(kTwoWorkflows, {}).ok());
  auto before = *catalog_.GetWorkflow("wf2", "");
  EXPECT_FALSE(
      broken.UpdateWorkflows("version: '2.0'\nwf2:\n  tasks:\n    x: {action: std.noop}\n", {})
          .ok());
  EXPECT_EQ(*catalog_.GetWorkflow("wf2", ""), before);
  EXPECT_EQ(broken.DeleteWorkflow("wf2", "").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(catalog_.GetWorkflow("wf2", "")->has_value());
  EXPECT_EQ(broken.CreateWorkbook(kWorkbook, {}).status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(broken.ListWorkbooks()->empty());
  EXPECT_FALSE(broken.GetWorkflow("wb.main", "")->has_value());
  ASSERT_TRUE(catalog_.CreateWorkbook(kWorkbook, {}).ok());
  auto wb_before = *catalog_.GetWorkbook("wb", "");
  auto main_before = *catalog_.GetWorkflow("wb.main", "");
  std::string v2 = kWorkbook;
  v2 = v2.substr(0, v2.find("  other:")) + v2.substr(v2.find("actions:"));
  EXPECT_FALSE(broken.UpdateWorkbook(v2, {}).ok());
  EXPECT_EQ(*catalog_.GetWorkbook("wb", ""), wb_before);
  EXPECT_EQ(*catalog_.GetWorkflow("wb.main", ""), main_before);
  EXPECT_TRUE(catalog_.GetWorkflow("wb.other", "")->has_value());
  EXPECT_EQ(broken.DeleteWorkbook("wb", "").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(catalog_.GetWorkbook("wb", "")->has_value());
}

TEST_F(DefinitionsApiTest, PutActionById) {
  auto created = Call("POST", "/v2/actions", kActions);
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = Field(BodyObject(created).at("actions").as_array()[0].as_object(), "id");
  auto put =
      Call("PUT", "/v2/actions/" + id, "version: '2.0'\nhello:\n  base: std.echo output=hi\n");
  ASSERT_EQ(put.status, 200) << put.body;
  JsonObject body = BodyObject(put);
  EXPECT_EQ(Field(body.at("actions").as_array()[0].as_object(), "name"), "hello");
  EXPECT_EQ(Field(body.at("actions").as_array()[0].as_object(), "id"), id);
  EXPECT_EQ(runtime_.definitions().FindAction("greet", ""), nullptr);
  EXPECT_NE(runtime_.definitions().FindAction("hello", ""), nullptr);
  EXPECT_EQ(Call("PUT", "/v2/actions/00000000-0000-4000-8000-000000000000", kActions).status, 404);
  // Mistral's identifier is an id or a name.
  auto by_name =
      Call("PUT", "/v2/actions/hello", "version: '2.0'\nhello:\n  base: std.echo output=again\n");
  ASSERT_EQ(by_name.status, 200) << by_name.body;
  EXPECT_EQ(Field(BodyObject(by_name).at("actions").as_array()[0].as_object(), "id"), id);
  EXPECT_EQ(Call("PUT", "/v2/actions/nope", kActions).status, 404);
}

TEST_F(DefinitionsApiTest, UnknownRouteAndMethod) {
  EXPECT_EQ(Call("GET", "/v2/nothing").status, 404);
  EXPECT_EQ(Call("PATCH", "/v2/workflows").status, 405);
}

}  // namespace
}  // namespace bora::api

namespace bora::api {
namespace {

// GET /v2/workflows/{identifier}/graph: tasks and engine commands as nodes, transitions by kind.
TEST_F(DefinitionsApiTest, WorkflowGraphFromTheDefinition) {
  const char* kGraphs = R"(version: '2.0'
direct_wf:
  tasks:
    a:
      action: std.echo output=1
      on-success:
        - b: <% $.go %>
        - c
      on-error:
        - fail
    b:
      with-items: x in [1, 2]
      action: std.noop
      retry: {count: 2, delay: 1}
      on-complete: [d]
    c:
      workflow: sub_wf
      on-complete: [d]
    d:
      join: all
reverse_wf:
  type: reverse
  tasks:
    x:
      action: std.noop
    y:
      requires: [x]
)";
  ASSERT_EQ(Call("POST", "/v2/workflows", kGraphs).status, 201);
  http::HttpResponse r = Call("GET", "/v2/workflows/direct_wf/graph");
  ASSERT_EQ(r.status, 200) << r.body;
  auto graph = ParseJson(r.body);
  ASSERT_TRUE(graph.ok());
  const JsonObject& g = graph->as_object();
  EXPECT_EQ(g.at("workflow"), "direct_wf");
  EXPECT_EQ(g.at("type"), "direct");
  std::vector<std::string> nodes;
  for (const auto& n : g.at("nodes").as_array()) nodes.push_back(Field(n.as_object(), "id"));
  EXPECT_EQ(nodes, (std::vector<std::string>{"a", "b", "c", "d", "a>on-error>fail"}));
  const auto& n = g.at("nodes").as_array();
  EXPECT_EQ(DumpJson(n[0]),
            R"({"id":"a","kind":"task","task":"a","action":"std.echo","workflow":null,)"
            R"("join":null,"with_items":false,"retry":false,"line":5})");
  EXPECT_EQ(n[1].at("with_items"), true);
  EXPECT_EQ(n[1].at("retry"), true);
  EXPECT_TRUE(n[2].at("action").is_null());
  EXPECT_EQ(n[2].at("workflow"), "sub_wf");
  EXPECT_EQ(n[3].at("join"), "all");
  EXPECT_EQ(n[4].at("kind"), "fail");
  std::vector<std::string> edges;
  for (const auto& e : g.at("edges").as_array()) {
    const JsonObject& o = e.as_object();
    edges.push_back(Field(o, "from") + " " + Field(o, "kind") + " " + Field(o, "to") +
                    (o.at("condition").is_null() ? "" : " if " + Field(o, "condition")));
  }
  EXPECT_EQ(edges, (std::vector<std::string>{"a on-success b if <% $.go %>", "a on-success c",
                                             "a on-error a>on-error>fail", "b on-complete d",
                                             "c on-complete d"}));

  r = Call("GET", "/v2/workflows/reverse_wf/graph");
  ASSERT_EQ(r.status, 200) << r.body;
  graph = ParseJson(r.body);
  EXPECT_EQ(graph->at("type"), "reverse");
  EXPECT_EQ(DumpJson(graph->at("edges")),
            R"([{"from":"x","to":"y","kind":"requires","condition":null}])");

  EXPECT_EQ(Call("GET", "/v2/workflows/nope/graph").status, 404);
}

// A workbook's workflow: its record holds only its block; the graph comes from the workbook.
TEST_F(DefinitionsApiTest, WorkflowGraphOfAWorkbookWorkflow) {
  const char* kWorkbook = R"(version: '2.0'
name: wb
workflows:
  wf:
    tasks:
      one:
        action: greet
        on-success: [two]
      two:
        action: std.noop
actions:
  greet:
    base: std.echo output=hi
)";
  ASSERT_EQ(Call("POST", "/v2/workbooks", kWorkbook).status, 201);
  http::HttpResponse r = Call("GET", "/v2/workflows/wb.wf/graph");
  ASSERT_EQ(r.status, 200) << r.body;
  auto graph = ParseJson(r.body);
  EXPECT_EQ(graph->at("workflow"), "wb.wf");
  EXPECT_EQ(DumpJson(graph->at("edges")),
            R"([{"from":"one","to":"two","kind":"on-success","condition":null}])");
}

}  // namespace
}  // namespace bora::api
