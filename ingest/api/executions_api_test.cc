#include <gtest/gtest.h>

#include "ingest/api/executions_api_test_fixture.h"

namespace bora::api {
namespace {

std::vector<std::string> Keys(const Json& o) {
  std::vector<std::string> keys;
  for (const auto& kv : o.as_object()) keys.emplace_back(kv.key());
  return keys;
}

TEST_F(ExecutionsApiTest, CreateThenGetExecutionInMistralShape) {
  Reply created = Call("POST", "/v2/executions",
                       R"({"workflow_name": "wf", "input": "{\"num1\": 3}", "description": "d1"})");
  ASSERT_EQ(created.status, 201) << DumpJson(created.body);
  EXPECT_EQ(created.Str("state"), "RUNNING");  // not applied yet (no wait in tests)
  std::string id = created.Str("id");
  ASSERT_FALSE(id.empty());
  Run();

  Reply got = Call("GET", "/v2/executions/" + id);
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Keys(got.body),
            (std::vector<std::string>{"id", "workflow_id", "workflow_name", "workflow_namespace",
                                      "description", "tags", "params", "task_execution_id",
                                      "root_execution_id", "source_execution_id", "state", "state_info",
                                      "input", "output", "created_at", "updated_at", "project_id",
                                      "published_global"}));
  EXPECT_EQ(got.Str("workflow_id"), workflow_ids_["wf"]);
  EXPECT_EQ(got.Str("workflow_name"), "wf");
  EXPECT_EQ(got.Str("workflow_namespace"), "");
  EXPECT_EQ(got.Str("description"), "d1");
  EXPECT_TRUE(got.body.at("tags").as_array().empty());
  EXPECT_EQ(got.Str("params"), R"({"namespace": "", "env": {}})");
  EXPECT_TRUE(got.body.at("task_execution_id").is_null());
  EXPECT_TRUE(got.body.at("root_execution_id").is_null());
  EXPECT_EQ(got.Str("state"), "SUCCESS");
  EXPECT_TRUE(got.body.at("state_info").is_null());
  EXPECT_EQ(got.Str("input"), R"({"num1": 3, "num2": 1})");
  EXPECT_EQ(got.Str("output"), R"({"result": 4})");
  EXPECT_EQ(got.Str("created_at"), "2026-01-01 00:00:00");
  EXPECT_EQ(got.Str("project_id"), "<default-project>");
  EXPECT_EQ(got.Str("published_global"), "{}");
}

TEST_F(ExecutionsApiTest, CreateByWorkflowIdAndIdempotentId) {
  const std::string id = "0b3f7c8e-4a8e-4f7e-9d43-8f5a1c2b9e10";
  std::string body = R"({"workflow_id": ")" + workflow_ids_["wf"] + R"(", "id": ")" + id +
                     R"(", "input": {"num1": 1}})";
  Reply first = Call("POST", "/v2/executions", body);
  ASSERT_EQ(first.status, 201) << DumpJson(first.body);
  EXPECT_EQ(first.Str("id"), id);
  Run();
  Reply again = Call("POST", "/v2/executions",
                     R"({"workflow_name": "wf", "id": ")" + id + R"(", "input": {"num1": 100}})");
  ASSERT_EQ(again.status, 201);
  EXPECT_EQ(again.Str("state"), "SUCCESS");
  EXPECT_EQ(again.Str("output"), R"({"result": 2})");  // the first run's, not a new one
  Run();
  Reply list = Call("GET", "/v2/executions");
  EXPECT_EQ(Ids(list, "executions"), std::vector<std::string>{id});
}

TEST_F(ExecutionsApiTest, CreateErrors) {
  struct Case {
    std::string body;
    int status;
    std::string fault;
  };
  const Case cases[] = {
      {R"({"input": {}})", 400, "Workflow ID or workflow name must be provided"},
      {R"({"workflow_name": "nope"})", 404, "Workflow not found"},
      {R"({"workflow_id": "6f1c5d2e-9a0b-4c1d-8e2f-3a4b5c6d7e8f"})", 404, "Workflow not found"},
      {R"({"workflow_name": "wf", "input": {"num1": 1, "bogus": 2}})", 400, "nvalid input"},
      {R"({"workflow_name": "wf", "input": {}})", 400, "nvalid input"},
      {R"({"workflow_name": "wf", "input": "[1, 2]"})", 400, "expected a dict"},
      {R"({"workflow_name": "wf", "input": {"num1": 1}, "params": {"env": "nope"}})", 400,
       "Environment is not found: nope"},
      {R"({"workflow_name": "wf", "input": {"num1": 1}, "params": {"env": 5}})", 400,
       "Unexpected value type for environment"},
      {R"({"workflow_name": 5})", 400, "workflow_name"},
      {R"({"workflow_name": "wf",)", 400, "Invalid JSON body"},
      {"", 400, "Invalid JSON body"},
      {R"({"workflow_name": "wf", "source_execution_id": "missing"})", 404,
       "WorkflowExecution not found [id=missing]"},
  };
  for (const auto& c : cases) {
    Reply r = Call("POST", "/v2/executions", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " " << DumpJson(r.body);
    EXPECT_NE(r.Fault().find(c.fault), std::string::npos) << c.body << " -> " << r.Fault();
    EXPECT_EQ(r.Str("faultcode"), "Client");
  }
  Run();
  EXPECT_TRUE(Call("GET", "/v2/executions").body.at("executions").as_array().empty());
}

// JSON numbers are finite: a number beyond a double in an execution's input or env is refused
// with a 400 naming the field (it was accepted as infinity: 201 after 5 s, and the execution never
// existed). A finite integer beyond uint64 is a float, as in Python's json.
TEST_F(ExecutionsApiTest, NumbersBeyondADoubleAreRefusedNamingTheField) {
  const std::string digits400(400, '9');
  struct Case {
    std::string body;
    std::string field;
  };
  const Case cases[] = {
      {R"({"workflow_name": "wf", "input": {"num1": 1e309}})", "'input.num1'"},
      {R"({"workflow_name": "wf", "input": {"num1": [1, -1e999]}})", "'input.num1[1]'"},
      {R"({"workflow_name": "wf", "input": {"num1": )" + digits400 + "}}", "'input.num1'"},
      {R"({"workflow_name": "wf", "input": "{\"num1\": 1e309}"})", "'num1'"},
      {R"({"workflow_name": "wf_env", "params": {"env": {"greeting": 1e309}}})",
       "'params.env.greeting'"},
      {R"({"workflow_name": "wf_env", "params": "{\"env\": {\"greeting\": 1e309}}"})",
       "'env.greeting'"},
  };
  for (const auto& c : cases) {
    Reply r = Call("POST", "/v2/executions", c.body);
    EXPECT_EQ(r.status, 400) << c.body << " " << DumpJson(r.body);
    EXPECT_NE(r.Fault().find("number out of range at " + c.field), std::string::npos)
        << c.body << " -> " << r.Fault();
  }
  Run();
  EXPECT_TRUE(Call("GET", "/v2/executions").body.at("executions").as_array().empty());
  std::string id =
      StartAndRun(R"({"workflow_name": "wf", "input": {"num1": 123456789012345678901234567890}})");
  EXPECT_EQ(Call("GET", "/v2/executions/" + id).Str("state"), "SUCCESS");
}

// A message over the bus's 8 MiB limit is never sent: an action's result, an action's input or a
// sub-workflow's output that does not fit fails its task naming the limit (the receiver refused
// the message, and the task stayed RUNNING forever).
TEST_F(ExecutionsApiTest, MessagesOverTheBusLimitFailTheTask) {
  for (const char* wf : {"wf_big_result", "wf_big_input", "wf_big_parent"}) {
    std::string id = StartAndRun(std::string(R"({"workflow_name": ")") + wf + "\"}");
    Reply r = Call("GET", "/v2/executions/" + id);
    EXPECT_EQ(r.Str("state"), "ERROR") << wf;
    EXPECT_NE(r.Str("state_info").find("more than the bus message limit of 8388608 bytes (8 MiB)"),
              std::string::npos)
        << wf << ": " << r.Str("state_info").substr(0, 300);
  }
}

// A result holding a number JSON cannot carry fails its task with a clear error, whether the
// worker is this one (it sends an error result instead) or any other (the orchestrator reads the
// ids of the message it cannot decode).
TEST_F(ExecutionsApiTest, NonFiniteActionResultFailsTheTask) {
  std::string id = StartAndRun(R"({"workflow_name": "wf_infinity"})");
  Reply r = Call("GET", "/v2/executions/" + id);
  EXPECT_EQ(r.Str("state"), "ERROR");
  EXPECT_NE(r.Str("state_info").find("number out of range at 'data.x'"), std::string::npos)
      << r.Str("state_info");

  std::string id2 = StartAndRun(R"({"workflow_name": "wf_async"})");
  Reply tasks = Call("GET", "/v2/executions/" + id2 + "/tasks");
  std::string tid(tasks.body.at("tasks").as_array()[0].at("id").as_string());
  std::string aid(Call("GET", "/v2/tasks/" + tid + "/action_executions")
                      .body.at("action_executions")
                      .as_array()[0]
                      .at("id")
                      .as_string());
  std::string text = R"({"schema_version":1,"type":"ActionCompleted","execution_id":")" + id2 +
                     R"(","task_execution_id":")" + tid + R"(","action_execution_id":")" + aid +
                     R"(","result":"success","data":{"x":1e999}})";
  ASSERT_TRUE(rt_->bus().Publish(protocol::EventsTopic(), id2, text).ok());
  Run();
  Reply r2 = Call("GET", "/v2/executions/" + id2);
  EXPECT_EQ(r2.Str("state"), "ERROR");
  EXPECT_NE(r2.Str("state_info").find("number out of range at 'data.x'"), std::string::npos)
      << r2.Str("state_info");
}

TEST_F(ExecutionsApiTest, EnvironmentByNameAndByDict) {
  std::string by_name = StartAndRun(R"({"workflow_name": "wf_env", "params": {"env": "myenv"}})");
  Reply r = Call("GET", "/v2/executions/" + by_name);
  EXPECT_EQ(r.Str("output"), R"({"greeting": "hello from env"})");
  EXPECT_NE(r.Str("params").find("hello from env"), std::string::npos);
  std::string by_dict =
      StartAndRun(R"({"workflow_name": "wf_env", "params": "{\"env\": {\"greeting\": \"hi\"}}"})");
  EXPECT_EQ(Call("GET", "/v2/executions/" + by_dict).Str("output"), R"({"greeting": "hi"})");
}

// The default listing reads pages from the store's index; it must list what the full path lists (which
// sorts every execution), in the same order, across pages, with many executions created in one second.
TEST_F(ExecutionsApiTest, PagesFromTheStoreMatchTheFullListing) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) {
    Reply r = Call("POST", "/v2/executions", i % 2 == 1 ? R"({"workflow_name": "wf_async"})"
                                                       : R"({"workflow_name": "wf", "input": {"num1": 1}})");
    ASSERT_EQ(r.status, 201);
    ids.push_back(r.Str("id"));
    if (i % 3 == 2) rt_->manual_clock()->AdvanceSeconds(1);
  }
  Run();
  ASSERT_EQ(Call("DELETE", "/v2/executions/" + ids[4]).status, 204);  // tombstoned: skipped by both
  auto follow = [&](std::string target) {
    std::vector<std::string> seen;
    for (int i = 0; i < 20 && !target.empty(); ++i) {
      Reply r = Call("GET", target);
      EXPECT_EQ(r.status, 200) << target;
      if (r.status != 200) break;
      for (auto& id : Ids(r, "executions")) seen.push_back(id);
      const Json* next = r.body.as_object().if_contains("next");
      target = next ? std::string(next->as_string()).substr(std::string("http://localhost:8989").size()) : "";
    }
    return seen;
  };
  // "created_at,id" is the same order, but not the store's shortcut: every execution is read and sorted.
  const std::vector<std::string> full = follow("/v2/executions?sort_keys=created_at,id&limit=1000");
  ASSERT_EQ(full.size(), 6u);
  for (int limit : {1, 2, 4, 6, 7}) {
    EXPECT_EQ(follow("/v2/executions?limit=" + std::to_string(limit)), full) << "limit " << limit;
  }
  EXPECT_EQ(follow("/v2/executions"), full);
  EXPECT_EQ(follow("/v2/executions?limit=2&marker=" + full[1]),
            std::vector<std::string>(full.begin() + 2, full.end()));
  // With filters: read in order until the page is full, the same as filtering everything.
  for (const std::string filter : {"state=RUNNING", "state=SUCCESS", "workflow_name=wf", "state=ERROR"}) {
    const auto all = follow("/v2/executions?sort_keys=created_at,id&limit=1000&" + filter);
    for (int limit : {1, 2, 5}) {
      EXPECT_EQ(follow("/v2/executions?limit=" + std::to_string(limit) + "&" + filter), all)
          << filter << " limit " << limit;
    }
  }
  const auto after_first = follow("/v2/executions?sort_keys=created_at,id&state=RUNNING&marker=" + full[0]);
  EXPECT_FALSE(after_first.empty());
  EXPECT_EQ(follow("/v2/executions?state=RUNNING&limit=1&marker=" + full[0]), after_first);
}

TEST_F(ExecutionsApiTest, SourceExecutionReusesWorkflowAndInput) {
  std::string src = StartAndRun(R"({"workflow_name": "wf", "input": {"num1": 5}, "description": "x"})");
  std::string copy = StartAndRun(R"({"source_execution_id": ")" + src + R"("})");
  Reply r = Call("GET", "/v2/executions/" + copy);
  EXPECT_EQ(r.Str("workflow_name"), "wf");
  EXPECT_EQ(r.Str("output"), R"({"result": 6})");
  EXPECT_EQ(r.Str("description"), "Based on the execution '" + src + "'");
  EXPECT_EQ(r.Str("source_execution_id"), src);
}

TEST_F(ExecutionsApiTest, ListFiltersPaginationAndOutput) {
  std::string a = StartAndRun(R"({"workflow_name": "wf", "input": {"num1": 1}})");
  std::string b = StartAndRun(R"({"workflow_name": "wf_fail"})");
  std::string c = StartAndRun(R"({"workflow_name": "wf_async", "description": "waiting"})");

  struct Case {
    std::string query;
    std::vector<std::string> ids;
  };
  const Case cases[] = {
      {"", {a, b, c}},
      {"?state=SUCCESS", {a}},
      {"?state=in:ERROR,RUNNING", {b, c}},
      {"?state=neq:SUCCESS&workflow_name=wf_async", {c}},
      {"?workflow_name=has:wf_", {b, c}},
      {"?workflow_id=" + workflow_ids_["wf_fail"], {b}},
      {"?description=waiting", {c}},
      {"?created_at=gte:2026-01-01 00:00:02", {b, c}},
      {"?sort_keys=created_at&sort_dirs=desc", {c, b, a}},
      {"?root_execution_id=" + a, {}},
      {"?task_execution_id=null", {a, b, c}},
  };
  for (const auto& cs : cases) {
    Reply r = Call("GET", "/v2/executions" + cs.query);
    ASSERT_EQ(r.status, 200) << cs.query << DumpJson(r.body);
    EXPECT_EQ(Ids(r, "executions"), cs.ids) << cs.query;
  }

  // Pages of one, following `next`.
  std::vector<std::string> seen;
  std::string target = "/v2/executions?limit=1";
  for (int i = 0; i < 5 && !target.empty(); ++i) {
    Reply r = Call("GET", target);
    ASSERT_EQ(r.status, 200);
    for (auto& id : Ids(r, "executions")) seen.push_back(id);
    const Json* next = r.body.as_object().if_contains("next");
    target = next ? std::string(next->as_string()).substr(std::string("http://localhost:8989").size())
                  : "";
  }
  EXPECT_EQ(seen, (std::vector<std::string>{a, b, c}));

  // output is deferred in lists unless include_output=true; fields projects (id kept).
  Reply plain = Call("GET", "/v2/executions");
  EXPECT_FALSE(plain.body.at("executions").as_array()[0].as_object().contains("output"));
  Reply with = Call("GET", "/v2/executions?include_output=true");
  EXPECT_EQ(with.body.at("executions").as_array()[0].at("output"), R"({"result": 2})");
  Reply fields = Call("GET", "/v2/executions?fields=state");
  EXPECT_EQ(Keys(fields.body.at("executions").as_array()[0]), (std::vector<std::string>{"id", "state"}));

  struct Bad {
    std::string query;
    int status;
    std::string fault;
  };
  const Bad bad[] = {
      {"?limit=0", 400, "Limit must be positive."},
      {"?bogus=1", 400, "Unknown argument"},
      {"?marker=nope", 404, "nope"},
      {"?sort_dirs=sideways", 400, "Unknown sort direction"},
      {"?fields=nonexistent", 400, "Field(s) nonexistent are invalid."},
      {"?include_output=maybe", 400, "include_output"},
  };
  for (const auto& bq : bad) {
    Reply r = Call("GET", "/v2/executions" + bq.query);
    EXPECT_EQ(r.status, bq.status) << bq.query;
    EXPECT_NE(r.Fault().find(bq.fault), std::string::npos) << bq.query << " -> " << r.Fault();
  }
}

TEST_F(ExecutionsApiTest, PauseResumeCancel) {
  std::string id = StartAndRun(R"({"workflow_name": "wf_async"})");
  const std::string path = "/v2/executions/" + id;
  EXPECT_EQ(Call("GET", path).Str("state"), "RUNNING");

  Reply paused = Call("PUT", path, R"({"state": "PAUSED"})");
  ASSERT_EQ(paused.status, 200) << DumpJson(paused.body);
  EXPECT_EQ(paused.Str("state"), "PAUSED");
  Run();
  EXPECT_EQ(Call("GET", path).Str("state"), "PAUSED");
  EXPECT_EQ(Call("PUT", path, R"({"state": "PAUSED"})").status, 200);  // same state: allowed

  Reply resumed = Call("PUT", path, R"({"state": "RUNNING", "params": {"env": {"k": "v"}}})");
  ASSERT_EQ(resumed.status, 200) << DumpJson(resumed.body);
  EXPECT_EQ(resumed.Str("state"), "RUNNING");
  Run();
  Reply running = Call("GET", path);
  EXPECT_EQ(running.Str("state"), "RUNNING");
  EXPECT_NE(running.Str("params").find(R"("k": "v")"), std::string::npos);

  Reply cancelled = Call("PUT", path, R"({"state": "CANCELLED", "state_info": "enough"})");
  ASSERT_EQ(cancelled.status, 200);
  EXPECT_EQ(cancelled.Str("state"), "CANCELLED");
  Run();
  Reply after = Call("GET", path);
  EXPECT_EQ(after.Str("state"), "CANCELLED");
  EXPECT_EQ(after.Str("state_info"), "enough");

  struct Bad {
    std::string body;
    std::string fault;
  };
  const Bad bad[] = {
      {R"({"state": "PAUSED"})", "Can't change workflow execution state from CANCELLED to PAUSED"},
      {R"({"state": "SUCCESS"})", "Can't change workflow execution state from CANCELLED to SUCCESS"},
      {R"({"state": "BOGUS"})", "Invalid input for field/attribute state"},
      {R"({"state": "IDLE"})", "Cannot change state to IDLE"},
      {R"({})", "The property state, description, or env is not provided for update."},
      {R"({"state": "ERROR", "description": "x"})", "must be updated separately from state"},
      {R"({"state": "ERROR", "params": {"env": {"a": 1}}})", "The property env can only be updated"},
      {R"({"params": {"env": {"a": 1}}})", "not supported"},
  };
  for (const auto& b : bad) {
    Reply r = Call("PUT", path, b.body);
    EXPECT_EQ(r.status, 400) << b.body;
    EXPECT_NE(r.Fault().find(b.fault), std::string::npos) << b.body << " -> " << r.Fault();
  }
  // RUNNING on a finished execution: Mistral's resume leaves it unchanged.
  Reply noop = Call("PUT", path, R"({"state": "RUNNING"})");
  EXPECT_EQ(noop.status, 200);
  EXPECT_EQ(noop.Str("state"), "CANCELLED");
  EXPECT_EQ(Call("PUT", "/v2/executions/missing", R"({"state": "PAUSED"})").status, 404);
}

TEST_F(ExecutionsApiTest, StopWithErrorAndSuccessAndDescriptionUpdate) {
  std::string a = StartAndRun(R"({"workflow_name": "wf_async"})");
  Reply stopped = Call("PUT", "/v2/executions/" + a, R"({"state": "ERROR", "state_info": "stopped"})");
  ASSERT_EQ(stopped.status, 200);
  EXPECT_EQ(stopped.Str("state"), "ERROR");
  Run();
  EXPECT_EQ(Call("GET", "/v2/executions/" + a).Str("state_info"), "stopped");

  std::string b = StartAndRun(R"({"workflow_name": "wf_async"})");
  ASSERT_EQ(Call("PUT", "/v2/executions/" + b, R"({"state": "SUCCESS"})").status, 200);
  Run();
  EXPECT_EQ(Call("GET", "/v2/executions/" + b).Str("state"), "SUCCESS");

  Reply described = Call("PUT", "/v2/executions/" + b, R"({"description": "renamed"})");
  ASSERT_EQ(described.status, 200);
  EXPECT_EQ(described.Str("description"), "renamed");
  EXPECT_EQ(Call("GET", "/v2/executions/" + b).Str("description"), "renamed");
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?description=renamed"), "executions"),
            std::vector<std::string>{b});
}

TEST_F(ExecutionsApiTest, DeleteExecutions) {
  std::string running = StartAndRun(R"({"workflow_name": "wf_async"})");
  std::string done = StartAndRun(R"({"workflow_name": "wf", "input": {"num1": 1}})");
  Reply refused = Call("DELETE", "/v2/executions/" + running);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.Fault(), "Only completed executions can be deleted. Execution " + running +
                                 " is in RUNNING state");
  EXPECT_EQ(Call("DELETE", "/v2/executions/" + done).status, 204);
  EXPECT_EQ(Call("DELETE", "/v2/executions/" + running + "?force=true").status, 204);
  Run();
  EXPECT_EQ(Call("GET", "/v2/executions/" + done).status, 404);
  EXPECT_EQ(Call("GET", "/v2/executions/" + running).status, 404);
  EXPECT_TRUE(Call("GET", "/v2/executions").body.at("executions").as_array().empty());
  EXPECT_TRUE(Call("GET", "/v2/tasks").body.at("tasks").as_array().empty());
  EXPECT_EQ(Call("DELETE", "/v2/executions/" + done).status, 404);
  // Not only hidden: the stored states are gone (purged by their partitions' owner).
  for (const auto& id : {done, running}) {
    auto stored = rt_->store().ReadExecution(PartitionId(PartitionForKey(id, rt_->partitions())),
                                             ExecutionId(id));
    ASSERT_TRUE(stored.ok());
    EXPECT_FALSE(stored->has_value()) << id;
  }
  // A deleted id cannot be started again.
  EXPECT_EQ(Call("POST", "/v2/executions", R"({"workflow_name": "wf", "id": ")" + done + R"("})").status,
            409);
}

TEST_F(ExecutionsApiTest, TasksAndTheirActionExecutions) {
  std::string id = StartAndRun(R"({"workflow_name": "wf", "input": {"num1": 3}})");
  // Both tasks have the same created_at (manual clock), so the default order falls back to ids.
  Reply tasks = Call("GET", "/v2/executions/" + id + "/tasks?sort_keys=name");
  ASSERT_EQ(tasks.status, 200);
  const auto& list = tasks.body.at("tasks").as_array();
  ASSERT_EQ(list.size(), 2u);
  const Json& t1 = list[0];
  EXPECT_EQ(Keys(t1), (std::vector<std::string>{
                          "id", "name", "type", "workflow_name", "workflow_namespace", "workflow_id",
                          "workflow_execution_id", "tags", "state", "state_info", "project_id",
                          "runtime_context", "result", "published", "published_global", "processed",
                          "created_at", "updated_at", "started_at", "finished_at"}));
  EXPECT_EQ(t1.at("name"), "task1");
  EXPECT_EQ(t1.at("type"), "ACTION");
  EXPECT_EQ(t1.at("workflow_execution_id"), Json(id.c_str()));
  EXPECT_EQ(t1.at("workflow_id"), Json(workflow_ids_["wf"].c_str()));
  EXPECT_EQ(t1.at("state"), "SUCCESS");
  EXPECT_EQ(t1.at("result"), "4");
  EXPECT_EQ(t1.at("published"), R"({"result": 4})");
  EXPECT_EQ(t1.at("processed"), true);
  std::string task1_id(t1.at("id").as_string());
  std::string task2_id(list[1].at("id").as_string());
  EXPECT_NE(std::string(list[1].at("runtime_context").as_string()).find(task1_id), std::string::npos);

  Reply one = Call("GET", "/v2/tasks/" + task1_id);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body, t1);
  EXPECT_EQ(Call("GET", "/v2/tasks/nope").status, 404);
  EXPECT_EQ(Call("GET", "/v2/tasks/nope").Fault(), "TaskExecution not found [id=nope]");
  EXPECT_EQ(Ids(Call("GET", "/v2/tasks?name=task2"), "tasks"), std::vector<std::string>{task2_id});
  EXPECT_EQ(Ids(Call("GET", "/v2/tasks?workflow_execution_id=" + id + "&sort_keys=name&sort_dirs=desc"),
                "tasks"),
            (std::vector<std::string>{task2_id, task1_id}));
  EXPECT_EQ(Ids(Call("GET", "/v2/executions/" + id + "/tasks?name=task1"), "tasks"),
            std::vector<std::string>{task1_id});
  EXPECT_TRUE(Call("GET", "/v2/executions/unknown/tasks").body.at("tasks").as_array().empty());

  Reply actions = Call("GET", "/v2/tasks/" + task1_id + "/action_executions");
  ASSERT_EQ(actions.status, 200);
  ASSERT_EQ(actions.body.at("action_executions").as_array().size(), 1u);
  const Json& a = actions.body.at("action_executions").as_array()[0];
  EXPECT_EQ(Keys(a), (std::vector<std::string>{"id", "workflow_name", "workflow_namespace", "task_name",
                                               "task_execution_id", "state", "state_info", "tags",
                                               "name", "description", "project_id", "accepted",
                                               "input", "output", "created_at", "updated_at",
                                               "params"}));
  EXPECT_EQ(a.at("name"), "std.echo");
  EXPECT_EQ(a.at("task_name"), "task1");
  EXPECT_EQ(a.at("accepted"), true);
  EXPECT_NE(std::string(a.at("input").as_string()).find(R"("output": 4)"), std::string::npos);
  EXPECT_EQ(a.at("output"), R"({"result": 4})");
  std::string aid(a.at("id").as_string());
  EXPECT_EQ(Call("GET", "/v2/action_executions/" + aid).body, a);
  EXPECT_EQ(Call("GET", "/v2/tasks/" + task1_id + "/action_executions/" + aid).body, a);
  EXPECT_EQ(Call("GET", "/v2/tasks/" + task1_id + "/action_executions/nope").status, 404);
  EXPECT_EQ(Ids(Call("GET", "/v2/action_executions?name=std.noop"), "action_executions").size(), 1u);
  // python-mistralclient sends include_output to action execution lists too.
  EXPECT_EQ(Call("GET", "/v2/tasks/" + task1_id + "/action_executions?include_output=true").status, 200);
  EXPECT_EQ(Call("GET", "/v2/action_executions?include_output=true&all_projects=false").status, 200);
  EXPECT_EQ(Ids(Call("GET", "/v2/action_executions"), "action_executions").size(), 2u);
}

TEST_F(ExecutionsApiTest, RerunAndSkipFailedTask) {
  std::string id = StartAndRun(R"({"workflow_name": "wf_fail"})");
  EXPECT_EQ(Call("GET", "/v2/executions/" + id).Str("state"), "ERROR");
  Reply tasks = Call("GET", "/v2/executions/" + id + "/tasks");
  std::string tid(tasks.body.at("tasks").as_array()[0].at("id").as_string());
  const std::string path = "/v2/tasks/" + tid;

  struct Bad {
    std::string body;
    std::string fault;
  };
  const Bad bad[] = {
      {R"({"state": "RUNNING"})", "Mandatory field missing: reset"},
      {R"({"state": "RUNNING", "reset": false})", "Only with-items task has the option to not reset."},
      {R"({"state": "PAUSED"})", "Invalid task state"},
      {R"({"state": "RUNNING", "reset": true, "name": "other"})", "Task name does not match."},
      {R"({"state": "RUNNING", "reset": true, "workflow_name": "x"})", "Workflow name does not match."},
  };
  for (const auto& b : bad) {
    Reply r = Call("PUT", path, b.body);
    EXPECT_EQ(r.status, 400) << b.body;
    EXPECT_NE(r.Fault().find(b.fault), std::string::npos) << b.body << " -> " << r.Fault();
  }

  Reply rerun = Call("PUT", path, R"({"state": "RUNNING", "reset": true, "env": "{\"x\": 1}"})");
  ASSERT_EQ(rerun.status, 200) << DumpJson(rerun.body);
  EXPECT_EQ(rerun.Str("state"), "RUNNING");
  Run();
  Reply actions = Call("GET", path + "/action_executions");
  const auto& list = actions.body.at("action_executions").as_array();
  ASSERT_EQ(list.size(), 2u);  // the first run (no longer accepted) and the rerun
  EXPECT_NE(list[0].at("accepted"), list[1].at("accepted"));
  EXPECT_EQ(Ids(Call("GET", "/v2/action_executions?accepted=false"), "action_executions").size(), 1u);
  EXPECT_EQ(Call("GET", path).Str("state"), "ERROR");
  EXPECT_NE(Call("GET", "/v2/executions/" + id).Str("params").find(R"("x": 1)"), std::string::npos);

  Reply skipped = Call("PUT", path, R"({"state": "SKIPPED"})");
  ASSERT_EQ(skipped.status, 200);
  EXPECT_EQ(skipped.Str("state"), "SKIPPED");
  Run();
  EXPECT_EQ(Call("GET", path).Str("state"), "SKIPPED");
  EXPECT_EQ(Call("GET", "/v2/executions/" + id).Str("state"), "SUCCESS");
  Reply again = Call("PUT", path, R"({"state": "SKIPPED"})");
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.Fault(), "The current task execution must be in ERROR for skip.");
  Reply rerun_done = Call("PUT", path, R"({"state": "RUNNING", "reset": true})");
  EXPECT_EQ(rerun_done.status, 400);
  EXPECT_NE(rerun_done.Fault().find("must be in ERROR for rerun"), std::string::npos);
  EXPECT_EQ(Call("PUT", "/v2/tasks/nope", R"({"state": "SKIPPED"})").status, 404);
}

TEST_F(ExecutionsApiTest, CompleteAsyncActionThroughPut) {
  std::string id = StartAndRun(R"({"workflow_name": "wf_async"})");
  Reply running = Call("GET", "/v2/action_executions?state=RUNNING");
  ASSERT_EQ(running.body.at("action_executions").as_array().size(), 1u);
  std::string aid(running.body.at("action_executions").as_array()[0].at("id").as_string());
  const std::string path = "/v2/action_executions/" + aid;

  Reply bad = Call("PUT", path, R"({"state": "PAUSED"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.Fault().find("Expected one of"), std::string::npos);

  Reply done = Call("PUT", path, R"({"state": "SUCCESS", "output": "{\"x\": 1}"})");
  ASSERT_EQ(done.status, 200) << DumpJson(done.body);
  EXPECT_EQ(done.Str("state"), "SUCCESS");
  EXPECT_EQ(done.Str("output"), R"({"result": {"x": 1}})");
  Run();
  EXPECT_EQ(Call("GET", path).Str("output"), R"({"result": {"x": 1}})");
  EXPECT_EQ(Call("GET", "/v2/executions/" + id).Str("state"), "SUCCESS");
  Reply twice = Call("PUT", path, R"({"state": "ERROR"})");
  EXPECT_EQ(twice.status, 400);
  EXPECT_NE(twice.Fault().find("already completed"), std::string::npos);
  EXPECT_EQ(Call("PUT", "/v2/action_executions/nope", R"({"state": "SUCCESS"})").status, 404);
  EXPECT_EQ(Call("GET", "/v2/action_executions/nope").Fault(), "ActionExecution not found [id=nope]");

  // ERROR without output: Mistral's "Unknown error".
  std::string id2 = StartAndRun(R"({"workflow_name": "wf_async"})");
  Reply r2 = Call("GET", "/v2/executions/" + id2 + "/tasks");
  std::string tid(r2.body.at("tasks").as_array()[0].at("id").as_string());
  std::string aid2(Call("GET", "/v2/tasks/" + tid + "/action_executions")
                       .body.at("action_executions").as_array()[0].at("id").as_string());
  Reply failed = Call("PUT", "/v2/action_executions/" + aid2, R"({"state": "ERROR"})");
  EXPECT_EQ(failed.Str("output"), R"({"result": "Unknown error"})");
  Run();
  EXPECT_EQ(Call("GET", "/v2/executions/" + id2).Str("state"), "ERROR");
}

TEST_F(ExecutionsApiTest, SubWorkflowsAndReport) {
  std::string parent = StartAndRun(R"({"workflow_name": "wf_parent"})");
  ASSERT_EQ(Call("GET", "/v2/executions/" + parent).Str("state"), "SUCCESS");
  Reply subs = Call("GET", "/v2/executions/" + parent + "/executions");
  ASSERT_EQ(subs.status, 200);
  const auto& list = subs.body.at("executions").as_array();
  ASSERT_EQ(list.size(), 2u);  // Mistral lists the execution itself first
  EXPECT_EQ(list[0].at("id"), Json(parent.c_str()));
  const Json& child = list[1];
  std::string child_id(child.at("id").as_string());
  EXPECT_EQ(child.at("workflow_name"), "wf");
  EXPECT_EQ(child.at("root_execution_id"), Json(parent.c_str()));
  EXPECT_FALSE(child.as_object().contains("output"));
  Reply parent_tasks = Call("GET", "/v2/executions/" + parent + "/tasks");
  const Json& call_task = parent_tasks.body.at("tasks").as_array()[0];
  EXPECT_EQ(call_task.at("type"), "WORKFLOW");
  std::string call_id(call_task.at("id").as_string());
  EXPECT_EQ(child.at("task_execution_id"), Json(call_id.c_str()));

  EXPECT_EQ(Ids(Call("GET", "/v2/executions?root_execution_id=" + parent), "executions"),
            std::vector<std::string>{child_id});
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?task_execution_id=" + call_id), "executions"),
            std::vector<std::string>{child_id});
  EXPECT_EQ(Ids(Call("GET", "/v2/tasks/" + call_id + "/executions"), "executions"),
            std::vector<std::string>{child_id});
  EXPECT_EQ(Ids(Call("GET", "/v2/tasks/" + call_id + "/workflow_executions"), "executions"),
            std::vector<std::string>{child_id});
  EXPECT_EQ(Ids(Call("GET", "/v2/executions/" + parent + "/executions?max_depth=0"), "executions"),
            std::vector<std::string>{parent});
  EXPECT_EQ(Ids(Call("GET", "/v2/executions/" + parent + "/executions?errors_only=true"), "executions"),
            std::vector<std::string>{parent});
  EXPECT_TRUE(Call("GET", "/v2/tasks/" + call_id + "/action_executions")
                  .body.at("action_executions").as_array().empty());
  EXPECT_EQ(Call("GET", "/v2/executions/nope/executions").status, 404);
  EXPECT_EQ(Call("GET", "/v2/executions/" + parent + "/executions?max_depth=x").status, 400);

  Reply report = Call("GET", "/v2/executions/" + parent + "/report");
  ASSERT_EQ(report.status, 200);
  EXPECT_EQ(report.body.at("statistics"),
            ParseJson(R"({"total_tasks_count": 3, "running_tasks_count": 0, "success_tasks_count": 3,
                          "error_tasks_count": 0, "idle_tasks_count": 0, "paused_tasks_count": 0})")
                .value());
  const Json& root = report.body.at("root_workflow_execution");
  EXPECT_EQ(root.at("id"), Json(parent.c_str()));
  const Json& rt = root.at("task_executions").as_array()[0];
  EXPECT_EQ(rt.at("name"), "call");
  const Json& sub = rt.at("workflow_executions").as_array()[0];
  EXPECT_EQ(sub.at("id"), Json(child_id.c_str()));
  EXPECT_EQ(sub.at("task_executions").as_array().size(), 2u);
  EXPECT_EQ(sub.at("task_executions").as_array()[0].at("action_executions").as_array()[0].at("name"),
            "std.echo");

  Reply shallow = Call("GET", "/v2/executions/" + parent + "/report?max_depth=0");
  const Json& shallow_sub =
      shallow.body.at("root_workflow_execution").at("task_executions").as_array()[0].at(
          "workflow_executions").as_array()[0];
  EXPECT_FALSE(shallow_sub.as_object().contains("task_executions"));
  EXPECT_EQ(shallow.body.at("statistics").at("total_tasks_count"), 1);
  EXPECT_EQ(Call("GET", "/v2/executions/nope/report").status, 404);

  // Deleting the parent hides the child too, and both states are purged.
  EXPECT_EQ(Call("DELETE", "/v2/executions/" + parent).status, 204);
  EXPECT_EQ(Call("GET", "/v2/executions/" + child_id).status, 404);
  Run();
  for (const auto& id : {parent, child_id}) {
    auto stored = rt_->store().ReadExecution(PartitionId(PartitionForKey(id, rt_->partitions())),
                                             ExecutionId(id));
    ASSERT_TRUE(stored.ok());
    EXPECT_FALSE(stored->has_value()) << id;
  }
}

TEST_F(ExecutionsApiTest, RunActionsDirectly) {
  Reply echo = Call("POST", "/v2/action_executions",
                    R"({"name": "std.echo", "input": {"output": "hello"}, "description": "d"})");
  ASSERT_EQ(echo.status, 201) << DumpJson(echo.body);
  EXPECT_EQ(echo.Str("state"), "SUCCESS");
  EXPECT_EQ(echo.Str("output"), R"({"result": "hello"})");
  EXPECT_EQ(echo.Str("description"), "d");
  EXPECT_TRUE(echo.body.at("task_execution_id").is_null());
  EXPECT_EQ(Call("GET", "/v2/action_executions/" + echo.Str("id")).status, 404);  // not saved

  Reply saved = Call("POST", "/v2/action_executions",
                     R"({"name": "std.echo", "input": "{\"output\": 7}", "params": {"save_result": true}})");
  ASSERT_EQ(saved.status, 201);
  Reply got = Call("GET", "/v2/action_executions/" + saved.Str("id"));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, saved.body);
  EXPECT_EQ(Ids(Call("GET", "/v2/action_executions?name=std.echo"), "action_executions"),
            std::vector<std::string>{saved.Str("id")});

  Reply failed = Call("POST", "/v2/action_executions", R"({"name": "std.fail"})");
  EXPECT_EQ(failed.status, 201);
  EXPECT_EQ(failed.Str("state"), "ERROR");

  // An async action saved for later completion.
  Reply async = Call("POST", "/v2/action_executions",
                     R"({"name": "std.async_noop", "params": {"save_result": true}})");
  ASSERT_EQ(async.status, 201);
  EXPECT_EQ(async.Str("state"), "RUNNING");
  Reply completed = Call("PUT", "/v2/action_executions/" + async.Str("id"),
                         R"({"state": "SUCCESS", "output": {"done": true}})");
  ASSERT_EQ(completed.status, 200);
  EXPECT_EQ(completed.Str("output"), R"({"result": {"done": true}})");
  EXPECT_EQ(Call("GET", "/v2/action_executions/" + async.Str("id")).Str("state"), "SUCCESS");
  EXPECT_EQ(Call("PUT", "/v2/action_executions/" + async.Str("id"), R"({"state": "SUCCESS"})").status,
            400);

  struct Bad {
    std::string body;
    int status;
    std::string fault;
  };
  const Bad bad[] = {
      {R"({"input": {}})", 400, "Please provide at least action name to run action."},
      {R"({"name": "std.nope"})", 400, "Failed to find action [action_name=std.nope]"},
      {R"({"name": "std.echo", "input": {}})", 400, "output"},
      {R"({"name": "std.echo", "input": {"output": 1, "extra": 2}})", 400, "extra"},
      {R"({"name": "std.async_noop", "params": {"run_sync": true}})", 400,
       "Action does not support synchronous execution."},
  };
  for (const auto& b : bad) {
    Reply r = Call("POST", "/v2/action_executions", b.body);
    EXPECT_EQ(r.status, b.status) << b.body;
    EXPECT_NE(r.Fault().find(b.fault), std::string::npos) << b.body << " -> " << r.Fault();
  }
  Reply del = Call("DELETE", "/v2/action_executions/" + saved.Str("id"));
  EXPECT_EQ(del.status, 403);
  EXPECT_EQ(del.Fault(), "Action execution deletion is not allowed.");
}

TEST_F(ExecutionsApiTest, HandlersAreCallableWithoutTheRouter) {
  ExecutionsApiOptions opts;
  opts.change_wait = std::chrono::milliseconds(0);
  ExecutionsApi api(ctx_, opts);
  http::HttpResponse r = api.GetExecution(MakeRequest("GET", "/v2/executions/x", ""), "x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(ParseJson(r.body)->at("faultstring"), "WorkflowExecution not found [id=x]");
  r = api.CreateExecution(MakeRequest("POST", "/v2/executions", R"({"workflow_name": "wf_async"})"));
  EXPECT_EQ(r.status, 201);
  Run();
  r = api.ListExecutions(MakeRequest("GET", "/v2/executions", ""));
  EXPECT_EQ(ParseJson(r.body)->at("executions").as_array().size(), 1u);
}

TEST_F(ExecutionsApiTest, NoBackendIsAServerError) {
  ApiContext empty;
  http::Router router;
  RegisterExecutionsRoutes(router, empty, ExecutionsApiOptions{std::chrono::milliseconds(0)});
  http::HttpResponse r = router.Dispatch(MakeRequest("GET", "/v2/executions", ""));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(ParseJson(r.body)->at("faultcode"), "Server");
}

// Threaded runtime and the default (bounded) wait: a GET right after the POST finds the execution, and a
// PUT answers with the state the orchestrator applied.
TEST(ExecutionsApiThreadedTest, PostWaitsUntilTheExecutionIsVisible) {
  runtime::EmbeddedRuntime rt;
  ASSERT_TRUE(rt.LoadYaml(kWorkflows).ok());
  ASSERT_TRUE(rt.Start().ok());
  ApiContext ctx;
  ctx.executions = &rt.client();
  ctx.states = &rt.store();
  ctx.partitions = rt.partitions();
  ctx.actions = &rt.actions();
  ctx.clock = rt.clock();
  http::Router router;
  RegisterExecutionsRoutes(router, ctx);  // default options: waits up to 5 s

  http::HttpResponse created =
      router.Dispatch(MakeRequest("POST", "/v2/executions", R"({"workflow_name": "wf_async"})"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id(ParseJson(created.body)->at("id").as_string());
  http::HttpResponse got = router.Dispatch(MakeRequest("GET", "/v2/executions/" + id, ""));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_TRUE(ParseJson(got.body)->at("workflow_id").is_null());  // no catalog

  http::HttpResponse paused =
      router.Dispatch(MakeRequest("PUT", "/v2/executions/" + id, R"({"state": "PAUSED"})"));
  ASSERT_EQ(paused.status, 200) << paused.body;
  EXPECT_EQ(ParseJson(paused.body)->at("state"), "PAUSED");
  auto settled = rt.WaitUntilSettled(ExecutionId(id), std::chrono::seconds(10));
  ASSERT_TRUE(settled.ok()) << settled.status().ToString();
  EXPECT_EQ(settled->state, engine::State::kPaused);
  http::HttpResponse cancelled =
      router.Dispatch(MakeRequest("PUT", "/v2/executions/" + id, R"({"state": "CANCELLED"})"));
  EXPECT_EQ(ParseJson(cancelled.body)->at("state"), "CANCELLED");
  rt.Stop();
}

}  // namespace
}  // namespace bora::api
