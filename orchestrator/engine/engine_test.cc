// Unit tests of the workflow state machine: data-driven scenarios (testdata/*.yaml +
// *.expect.json), the conformance corpus through the test driver, and targeted tests of operations
// and error paths.
#include "orchestrator/engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "orchestrator/engine/test_driver.h"

namespace bora::engine {
namespace {

namespace fs = std::filesystem;
using testing::ListCaseStems;
using testing::RunCase;
using testing::TestDriver;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path ConformanceDir() {
  if (const char* env = std::getenv("BORA_CONFORMANCE_DIR")) return env;
  return fs::path("../shared/conformance");
}

fs::path ScenarioDir() {
#ifdef BORA_ENGINE_TESTDATA_DIR
  return BORA_ENGINE_TESTDATA_DIR;
#else
  return fs::path("orchestrator/engine/testdata");
#endif
}

std::vector<std::string> ListCases(const fs::path& dir) {
  std::vector<std::string> out = ListCaseStems(dir.string());
  if (out.empty()) out.push_back("absent");
  return out;
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) {
  std::string s = info.param;
  for (char& c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return "c" + s;
}

void RunCaseFile(const fs::path& dir, const std::string& stem, bool round_trip = false) {
  if (stem == "absent")
    GTEST_SKIP() << "no cases found in " << dir << " (set BORA_CONFORMANCE_DIR)";
  std::string yaml = ReadFile(dir / (stem + ".yaml"));
  auto expect = ParseJson(ReadFile(dir / (stem + ".expect.json")));
  ASSERT_TRUE(expect.ok()) << expect.status().ToString();
  std::vector<std::string> failures = RunCase(yaml, *expect, round_trip);
  std::string all;
  for (const auto& f : failures) all += "\n  " + f;
  EXPECT_TRUE(failures.empty()) << stem << ":" << all;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};
TEST_P(ScenarioTest, Passes) { RunCaseFile(ScenarioDir(), GetParam()); }
// Same, with every state serialised and parsed back after each event (as the Redis store will do).
TEST_P(ScenarioTest, PassesWithStateRoundTrip) { RunCaseFile(ScenarioDir(), GetParam(), true); }
INSTANTIATE_TEST_SUITE_P(Engine, ScenarioTest, ::testing::ValuesIn(ListCases(ScenarioDir())),
                         ParamName);

class ConformanceTest : public ::testing::TestWithParam<std::string> {};
TEST_P(ConformanceTest, Passes) { RunCaseFile(ConformanceDir(), GetParam()); }
TEST_P(ConformanceTest, PassesWithStateRoundTrip) {
  RunCaseFile(ConformanceDir(), GetParam(), true);
}
INSTANTIATE_TEST_SUITE_P(Engine, ConformanceTest, ::testing::ValuesIn(ListCases(ConformanceDir())),
                         ParamName);

// ------------------------------------------------------------------------------------ targeted
// tests

constexpr char kLinear[] = R"(
version: '2.0'
wf:
  input:
    - x
    - y: 2
  tasks:
    t1:
      action: std.echo output=<% $.x %>
      publish:
        a: <% task().result %>
      on-success: t2
    t2:
      action: std.async_noop
      on-success: t3
    t3:
      action: std.echo output=<% $.a + $.y %>
      publish:
        b: <% task().result %>
)";

TEST(EngineTest, StateRoundTripsThroughJson) {
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kLinear).ok());
  auto id = d.Start("wf", JsonObject{{"x", 1}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const ExecutionState& st = *d.Find(*id);
  EXPECT_EQ(st.state, State::kRunning);
  Json j = st.ToJson();
  auto back = ExecutionState::FromJson(j);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DumpJson(back->ToJson()), DumpJson(j));
  EXPECT_EQ(back->index.incomplete_tasks, st.index.incomplete_tasks);
  EXPECT_EQ(back->index.action_by_id.size(), st.index.action_by_id.size());
  EXPECT_FALSE(ExecutionState::FromJson(Json("x")).ok());
  EXPECT_FALSE(ExecutionState::FromJson(JsonObject{{"id", "a"}, {"state", "BOGUS"}}).ok());
}

TEST(EngineTest, CorruptedStateJsonIsRejected) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  tasks:
    t1:
      with-items: i in [1, 2]
      action: std.async_noop
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("wf");
  ASSERT_TRUE(id.ok());
  const Json good = d.Find(*id)->ToJson();
  ASSERT_TRUE(ExecutionState::FromJson(good).ok());
  using Mutate = void (*)(JsonObject&);
  const std::pair<const char*, Mutate> cases[] = {
      {"params not an object", [](JsonObject& o) { o["params"] = "x"; }},
      {"input not an object", [](JsonObject& o) { o["input"] = JsonArray{1}; }},
      {"missing id", [](JsonObject& o) { o.erase("id"); }},
      {"bad task state",
       [](JsonObject& o) { o["tasks"].as_array()[0].as_object()["state"] = "NOPE"; }},
      {"published not an object",
       [](JsonObject& o) { o["tasks"].as_array()[0].as_object()["published"] = 1; }},
      {"task not an object", [](JsonObject& o) { o["tasks"].as_array()[0] = 7; }},
      {"with-items array too short",
       [](JsonObject& o) {
         o["tasks"].as_array()[0].as_object()["with_items"].as_object()["items"] =
             JsonObject{{"i", JsonArray{1}}};
       }},
      {"pending index out of range",
       [](JsonObject& o) {
         o["tasks"].as_array()[0].as_object()["with_items"].as_object()["pending"] = JsonArray{5};
       }},
      {"bad action",
       [](JsonObject& o) { o["tasks"].as_array()[0].as_object()["actions"].as_array()[0] = "x"; }},
  };
  for (const auto& [what, mutate] : cases) {
    Json bad = good;
    mutate(bad.as_object());
    EXPECT_FALSE(ExecutionState::FromJson(bad).ok()) << what;
  }
}

TEST(EngineTest, ReplayIsDeterministic) {
  auto run = [] {
    TestDriver d;
    EXPECT_TRUE(d.LoadYaml(kLinear).ok());
    auto id = d.Start("wf", JsonObject{{"x", 1}});
    EXPECT_TRUE(id.ok());
    return DumpJson(d.Find(*id)->ToJson());
  };
  EXPECT_EQ(run(), run());
}

TEST(EngineTest, AsyncActionCompletesThroughApi) {
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kLinear).ok());
  auto id = d.Start("wf", JsonObject{{"x", 1}});
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(d.pending_async().size(), 1u);
  RunAction pending = d.pending_async()[0];
  EXPECT_EQ(pending.task_name, "t2");
  EXPECT_TRUE(pending.is_async);
  ASSERT_TRUE(d.Send(ActionCompleted{*id, pending.task_execution_id, pending.action_execution_id,
                                     ActionCompleted::Kind::kSuccess, nullptr})
                  .ok());
  const ExecutionState& st = *d.Find(*id);
  EXPECT_EQ(st.state, State::kSuccess);
  EXPECT_TRUE(JsonEquals(st.FindLatestTask("t3")->published, JsonObject{{"b", 3}}));
  // A duplicate delivery is accepted and ignored.
  EXPECT_TRUE(d.Send(ActionCompleted{*id, pending.task_execution_id, pending.action_execution_id,
                                     ActionCompleted::Kind::kError, "late"})
                  .ok());
  EXPECT_EQ(d.Find(*id)->state, State::kSuccess);
  EXPECT_TRUE(d.errors().empty());
}

TEST(EngineTest, InvalidInputIsRejectedWithoutExecution) {
  MemoryDefinitions defs;
  ASSERT_TRUE(defs.AddYaml(kLinear).ok());
  workers::ActionRegistry reg;
  Engine engine(&defs, &reg);
  struct Case {
    Json input;
    std::string want;
  } cases[] = {
      {JsonObject(), "missing=['x']"},
      {JsonObject{{"x", 1}, {"zz", 2}}, "unexpected=['zz']"},
      {Json("str"), "Invalid input"},
  };
  for (const auto& c : cases) {
    ExecutionState st;
    std::vector<Command> out;
    StartExecution start;
    start.execution_id = "e1";
    start.workflow_name = "wf";
    start.input = c.input;
    Status s = engine.Apply(st, start, 0, &out);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(c.want), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("Invalid input"), std::string::npos) << s.message();
    EXPECT_TRUE(st.id.empty());
    EXPECT_TRUE(out.empty());
  }
}

TEST(EngineTest, ErrorPathsOfApply) {
  MemoryDefinitions defs;
  ASSERT_TRUE(defs.AddYaml(kLinear).ok());
  workers::ActionRegistry reg;
  Engine engine(&defs, &reg);
  std::vector<Command> out;
  ExecutionState st;
  // Unknown workflow.
  StartExecution start;
  start.execution_id = "e1";
  start.workflow_name = "nope";
  EXPECT_EQ(engine.Apply(st, start, 0, &out).code(), StatusCode::kNotFound);
  // Events before start.
  EXPECT_EQ(engine.Apply(st, PauseExecution{"e1"}, 0, &out).code(),
            StatusCode::kFailedPrecondition);
  // Null output.
  EXPECT_EQ(engine.Apply(st, PauseExecution{"e1"}, 0, nullptr).code(),
            StatusCode::kInvalidArgument);
  // Empty id.
  start.workflow_name = "wf";
  start.execution_id = "";
  EXPECT_EQ(engine.Apply(st, start, 0, &out).code(), StatusCode::kInvalidArgument);
}

// The definition deleted while an execution runs: the next event records the action's result and
// fails the execution naming the definition (before, every event was refused: the execution hung).
TEST(EngineTest, AnExecutionWhoseDefinitionIsDeletedFailsAtItsNextEvent) {
  MemoryDefinitions defs;
  ASSERT_TRUE(defs.AddYaml(R"(
version: '2.0'
gone:
  tasks:
    a:
      action: std.async_noop
      on-success: b
    b:
      action: std.noop
)")
                  .ok());
  workers::ActionRegistry reg;
  reg.Register({"std.async_noop", {}, false, true, "", ""}, nullptr);
  reg.Register({"std.noop", {}, false, false, "", ""}, nullptr);
  Engine engine(&defs, &reg);
  ExecutionState st;
  std::vector<Command> out;
  StartExecution start;
  start.execution_id = "e1";
  start.workflow_name = "gone";
  ASSERT_TRUE(engine.Apply(st, start, 1, &out).ok());
  const RunAction* run = nullptr;
  for (const auto& c : out) {
    if (const auto* r = std::get_if<RunAction>(&c)) run = r;
  }
  ASSERT_NE(run, nullptr);
  const RunAction pending = *run;
  ASSERT_TRUE(defs.RemoveWorkflow("gone"));
  out.clear();
  ActionCompleted done{"e1", pending.task_execution_id, pending.action_execution_id,
                       ActionCompleted::Kind::kSuccess, "r"};
  ASSERT_TRUE(engine.Apply(st, done, 2, &out).ok());
  EXPECT_EQ(st.state, State::kError);
  ASSERT_TRUE(st.state_info.has_value());
  EXPECT_NE(st.state_info->find("Workflow definition 'gone' was deleted while the execution ran"),
            std::string::npos)
      << *st.state_info;
  ASSERT_EQ(st.tasks.size(), 1u);
  EXPECT_EQ(st.tasks[0].state, State::kError);
  EXPECT_EQ(st.tasks[0].actions[0].state, State::kSuccess);
  EXPECT_TRUE(JsonEquals(st.tasks[0].actions[0].output, JsonObject{{"result", "r"}}));
  bool finished = false;
  for (const auto& c : out) {
    if (const auto* f = std::get_if<ExecutionFinished>(&c)) finished = f->state == State::kError;
  }
  EXPECT_TRUE(finished);
  // Nothing more to do: a later event is refused and changes nothing.
  out.clear();
  ExecutionState before = st;
  EXPECT_EQ(engine.Apply(st, done, 3, &out).code(), StatusCode::kNotFound);
  EXPECT_EQ(st.updated_at, before.updated_at);
  EXPECT_TRUE(out.empty());
}

TEST(EngineTest, OperationPreconditions) {
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kLinear).ok());
  auto id = d.Start("wf", JsonObject{{"x", 1}});
  ASSERT_TRUE(id.ok());
  const ExecutionState& st = *d.Find(*id);
  std::string t1 = st.FindLatestTask("t1")->id;
  // Rerun / skip of a SUCCESS task are refused.
  EXPECT_EQ(d.Send(RerunTask{*id, t1, true, std::nullopt}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(d.Send(SkipTask{*id, t1}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(d.Send(RerunTask{*id, "nope", true, std::nullopt}).code(), StatusCode::kNotFound);
  // Resume of a running execution is refused; pause twice is fine.
  EXPECT_EQ(d.Send(ResumeExecution{*id, std::nullopt}).code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(d.Send(PauseExecution{*id}).ok());
  EXPECT_TRUE(d.Send(PauseExecution{*id}).ok());
  EXPECT_EQ(d.Find(*id)->state, State::kPaused);
  // Unknown action execution.
  EXPECT_EQ(d.Send(ActionCompleted{*id, "x", "y", ActionCompleted::Kind::kSuccess, nullptr}).code(),
            StatusCode::kNotFound);
  // Event addressed to another execution.
  ExecutionState copy = *d.Find(*id);
  std::vector<Command> out;
  EXPECT_EQ(d.engine().Apply(copy, PauseExecution{"other"}, 0, &out).code(),
            StatusCode::kInvalidArgument);
  // Stop with a non-terminal state is refused, then stop works, then a second stop is refused.
  EXPECT_EQ(d.Send(StopExecution{*id, State::kRunning, std::nullopt}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(d.Send(StopExecution{*id, State::kError, "stopped by test"}).ok());
  EXPECT_EQ(d.Find(*id)->state, State::kError);
  EXPECT_EQ(d.Find(*id)->state_info.value_or(""), "stopped by test");
  EXPECT_EQ(d.Send(CancelExecution{*id, std::nullopt}).code(), StatusCode::kFailedPrecondition);
}

TEST(EngineTest, RefusedEventsChangeNothing) {
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kLinear).ok());
  auto id = d.Start("wf", JsonObject{{"x", 1}});
  ASSERT_TRUE(id.ok());
  const ExecutionState& st = *d.Find(*id);
  std::string t1 = st.FindLatestTask("t1")->id;
  std::string t2 = st.FindLatestTask("t2")->id;
  const std::pair<const char*, Event> refused[] = {
      {"rerun success task", RerunTask{*id, t1, true, JsonObject{{"a", 1}}}},
      {"rerun running task", RerunTask{*id, t2, false, std::nullopt}},
      {"skip success task", SkipTask{*id, t1}},
      {"resume running", ResumeExecution{*id, JsonObject{{"a", 1}}}},
      {"unknown action",
       ActionCompleted{*id, t2, "nope", ActionCompleted::Kind::kSuccess, nullptr}},
      {"unknown sub", SubWorkflowCompleted{*id, t2, "nope", State::kSuccess, JsonObject(), {}, {}}},
      {"bad stop state", StopExecution{*id, State::kPaused, std::nullopt}},
      {"restart",
       [&] {
         StartExecution again;
         again.execution_id = *id;
         again.workflow_name = "wf";
         again.input = JsonObject{{"x", 1}};
         return Event(again);
       }()},
  };
  for (const auto& [what, ev] : refused) {
    ExecutionState copy = *d.Find(*id);
    std::string before = DumpJson(copy.ToJson());
    std::vector<Command> out;
    Status s = d.engine().Apply(copy, ev, d.now() + 1000000, &out);
    EXPECT_FALSE(s.ok()) << what;
    EXPECT_EQ(DumpJson(copy.ToJson()), before) << what;
    EXPECT_TRUE(out.empty()) << what;
  }
}

TEST(EngineTest, IdsAreUuidShapedAndDistinct) {
  std::set<std::string> ids;
  for (uint64_t i = 0; i < 1000; ++i) {
    std::string id = DeriveId("exec", i);
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
  EXPECT_NE(DeriveId("a", 1), DeriveId("b", 1));
  EXPECT_EQ(DeriveId("a", 1), DeriveId("a", 1));
}

TEST(EngineTest, StateNamesRoundTrip) {
  for (State s : {State::kIdle, State::kWaiting, State::kRunning, State::kDelayed, State::kPaused,
                  State::kSuccess, State::kError, State::kCancelled, State::kSkipped}) {
    EXPECT_EQ(StateFromName(StateName(s)), s);
  }
  EXPECT_EQ(StateFromName("RUNNING_DELAYED"), State::kDelayed);
  EXPECT_FALSE(StateFromName("bogus").has_value());
}

TEST(EngineTest, WithItemsManyItemsIsLinear) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  input: [n]
  tasks:
    t1:
      with-items: i in <% range($.n) %>
      concurrency: 50
      action: std.echo output=<% $.i %>
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("wf", JsonObject{{"n", 5000}});
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  const ExecutionState& st = *d.Find(*id);
  ASSERT_EQ(st.state, State::kSuccess) << st.state_info.value_or("");
  Json r = st.FindLatestTask("t1")->Result();
  ASSERT_TRUE(r.is_array());
  ASSERT_EQ(r.get_array().size(), 5000u);
  EXPECT_TRUE(JsonEquals(r.get_array()[4999], Json(4999)));
  // Concurrency was honoured: never more than 50 RunAction in flight.
  int64_t in_flight = 0, max_in_flight = 0;
  for (const auto& c : d.commands()) {
    if (std::holds_alternative<RunAction>(c)) max_in_flight = std::max(max_in_flight, ++in_flight);
  }
  EXPECT_GT(max_in_flight, 0);
}

// The runtime empties the change lists after each commit; that must reach every task the engine
// listed (and cost the listed tasks only: tasks_with_change_lists).
TEST(EngineTest, ClearChangeListsEmptiesEveryListedTask) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  tasks:
    fan:
      with-items: i in [1, 2, 3]
      action: std.async_noop
      retry:
        count: 1
        delay: 0
    other:
      action: std.async_noop
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("wf");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ExecutionState& st = *d.Find(*id);
  st.ClearChangeLists();
  const RunAction first = d.pending_async().front();
  ASSERT_TRUE(d.Send(ActionCompleted{*id, first.task_execution_id, first.action_execution_id,
                                     ActionCompleted::Kind::kSuccess, Json(1)})
                  .ok());
  const TaskExecution& fan = *st.FindLatestTask("fan");
  EXPECT_FALSE(fan.changed_actions.empty());
  EXPECT_EQ(st.tasks_with_change_lists.size(), 1u);
  st.ClearChangeLists();
  for (const auto& t : st.tasks) {
    EXPECT_TRUE(t.changed_actions.empty()) << t.name;
    EXPECT_FALSE(t.all_actions_changed) << t.name;
  }
  EXPECT_TRUE(st.tasks_with_change_lists.empty());
}

TEST(EngineTest, SubWorkflowInheritsEnvAndRootId) {
  constexpr char kYaml[] = R"(
version: '2.0'
parent:
  tasks:
    t1:
      workflow: child
      input:
        v: 5
      publish:
        got: <% task().result %>
child:
  input: [v]
  output:
    env_from: <% env().k %>
    v: <% $.v %>
  tasks:
    c1:
      action: std.noop
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("parent", JsonObject(), JsonObject{{"env", JsonObject{{"k", "ek"}}}});
  ASSERT_TRUE(id.ok());
  const ExecutionState& st = *d.Find(*id);
  ASSERT_EQ(st.state, State::kSuccess) << st.state_info.value_or("");
  auto children = d.Children(*id);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0]->root_execution_id, *id);
  EXPECT_EQ(children[0]->parent_task_execution_id, st.FindLatestTask("t1")->id);
  EXPECT_TRUE(JsonEquals(st.FindLatestTask("t1")->published,
                         JsonObject{{"got", JsonObject{{"env_from", "ek"}, {"v", 5}}}}));
}

// A sub-execution reports its tasks to its parent only when an ancestor reads tasks(...,
// recursive): other workflows keep no copies of their children's tasks.
TEST(EngineTest, SubExecutionsReportTasksOnlyWhenReadRecursively) {
  constexpr char kYaml[] = R"(
version: '2.0'
plain:
  tasks:
    t1:
      workflow: child
      publish:
        own: <% tasks(execution().id).len() %>
reader:
  tasks:
    t1:
      workflow: child
      publish:
        all: "{{ tasks(execution().id, recursive=true) | map(attribute='name') | list }}"
child:
  tasks:
    c1:
      action: std.noop
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  for (const char* wf : {"plain", "reader"}) {
    auto id = d.Start(wf);
    ASSERT_TRUE(id.ok());
    const ExecutionState& st = *d.Find(*id);
    ASSERT_EQ(st.state, State::kSuccess) << wf << ": " << st.state_info.value_or("");
    const bool reads = std::string(wf) == "reader";
    const ActionExecution& call = st.FindLatestTask("t1")->actions.at(0);
    EXPECT_EQ(call.sub_tasks.is_null(), !reads) << wf << ": " << DumpJson(call.sub_tasks);
    EXPECT_EQ(d.Children(*id).at(0)->report_tasks, reads) << wf;
    if (reads) {
      EXPECT_TRUE(JsonEquals(st.FindLatestTask("t1")->published,
                             JsonObject{{"all", JsonArray{"t1", "c1"}}}))
          << DumpJson(st.FindLatestTask("t1")->published);
    }
  }
}

TEST(EngineTest, RunActionCarriesPolicyFields) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=x
      target: <% 'pool-' + 'a' %>
      timeout: 30
      safe-rerun: true
    t2:
      action: std.async_noop
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("wf");
  ASSERT_TRUE(id.ok());
  std::map<std::string, RunAction> by_task;
  for (const auto& c : d.commands()) {
    if (const auto* r = std::get_if<RunAction>(&c)) by_task[r->task_name] = *r;
  }
  ASSERT_EQ(by_task.size(), 2u);
  const RunAction& t1 = by_task["t1"];
  EXPECT_EQ(t1.action_name, "std.echo");
  EXPECT_EQ(t1.target, "pool-a");
  EXPECT_EQ(t1.timeout_s, 30);
  EXPECT_TRUE(t1.safe_rerun);
  EXPECT_FALSE(t1.is_async);
  EXPECT_EQ(t1.workflow_name, "wf");
  // Defaults of the signature are filled in.
  EXPECT_TRUE(JsonEquals(t1.input, JsonObject{{"output", "x"}, {"delay", 0}}));
  const RunAction& t2 = by_task["t2"];
  EXPECT_TRUE(t2.is_async);
  EXPECT_FALSE(t2.safe_rerun);
  EXPECT_EQ(t2.timeout_s, 0);
  // The timeout timer of t1 was cancelled when t1 completed.
  bool set = false, cancelled = false;
  for (const auto& c : d.commands()) {
    set = set || std::holds_alternative<SetTimer>(c);
    cancelled = cancelled || std::holds_alternative<CancelTimer>(c);
  }
  EXPECT_TRUE(set);
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(d.Find(*id)->timers.empty());
}

TEST(EngineTest, SubExecutionStartProblemsFinishWithError) {
  constexpr char kYaml[] = R"(
version: '2.0'
child:
  input: [needed]
  tasks:
    c1:
      action: std.noop
rev:
  type: reverse
  tasks:
    r1:
      action: std.noop
)";
  MemoryDefinitions defs;
  ASSERT_TRUE(defs.AddYaml(kYaml).ok());
  workers::ActionRegistry reg;
  Engine engine(&defs, &reg);
  struct Case {
    const char* workflow;
    Json input;
    Json params;
    const char* want;
  } cases[] = {
      {"missing_wf", JsonObject(), JsonObject(), "Workflow not found"},
      {"child", JsonObject(), JsonObject(), "missing=['needed']"},
      {"rev", JsonObject(), JsonObject(), "task_name"},
      {"rev", JsonObject(), JsonObject{{"task_name", "zz"}}, "task_name"},
  };
  for (const auto& c : cases) {
    ExecutionState st;
    std::vector<Command> out;
    StartExecution start;
    start.execution_id = "sub1";
    start.workflow_name = c.workflow;
    start.input = c.input;
    start.params = c.params;
    start.parent_execution_id = "parent";
    start.parent_task_execution_id = "ptask";
    start.root_execution_id = "parent";
    ASSERT_TRUE(engine.Apply(st, start, 5, &out).ok()) << c.workflow;
    EXPECT_EQ(st.state, State::kError) << c.workflow;
    ASSERT_FALSE(out.empty());
    const auto* fin = std::get_if<ExecutionFinished>(&out.back());
    ASSERT_NE(fin, nullptr) << c.workflow;
    EXPECT_EQ(fin->state, State::kError);
    EXPECT_EQ(fin->parent_execution_id, "parent");
    EXPECT_EQ(fin->parent_task_execution_id, "ptask");
    ASSERT_TRUE(fin->state_info.has_value());
    EXPECT_NE(fin->state_info->find(c.want), std::string::npos) << *fin->state_info;
    // A second start on the same state is refused.
    EXPECT_EQ(engine.Apply(st, start, 6, &out).code(), StatusCode::kFailedPrecondition);
  }
}

// A task whose action no worker has declared waits (RUNNING_DELAYED, saying why), runs once a
// worker declares it, and fails when none does in time.
TEST(EngineTest, UndeclaredActionWaitsForADeclaration) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: my.reverse text=abc
)";
  MemoryDefinitions defs;
  ASSERT_TRUE(defs.AddYaml(kYaml).ok());
  workers::ActionRegistry reg;
  EngineLimits limits;
  limits.undeclared_action_wait_s = 10;
  Engine engine(&defs, &reg, limits);
  constexpr TimestampUs kSecond = 1'000'000;

  auto start = [&](ExecutionState& st, std::vector<Command>& out) {
    StartExecution ev;
    ev.execution_id = "e1";
    ev.workflow_name = "wf";
    ev.input = JsonObject();
    ASSERT_TRUE(engine.Apply(st, ev, 100 * kSecond, &out).ok());
  };
  auto last_timer = [](const std::vector<Command>& out) -> std::optional<SetTimer> {
    std::optional<SetTimer> t;
    for (const auto& c : out)
      if (const auto* s = std::get_if<SetTimer>(&c)) t = *s;
    return t;
  };

  {  // Never declared: it waits, looked up again every 1..5 s, then fails after 10 s.
    ExecutionState st;
    std::vector<Command> out;
    start(st, out);
    ASSERT_EQ(st.tasks.size(), 1u);
    EXPECT_EQ(st.state, State::kRunning);
    EXPECT_EQ(st.tasks[0].state, State::kDelayed);
    ASSERT_TRUE(st.tasks[0].state_info.has_value());
    EXPECT_NE(st.tasks[0].state_info->find("Waiting for a worker to declare action 'my.reverse'"),
              std::string::npos)
        << *st.tasks[0].state_info;
    // The wait survives a round trip through the stored form.
    auto copy = ExecutionState::FromJson(st.ToJson());
    ASSERT_TRUE(copy.ok());
    EXPECT_EQ(copy->tasks[0].awaiting_action_since, 100 * kSecond);
    int timers = 0;
    while (!IsCompleted(st.state)) {
      auto t = last_timer(out);
      ASSERT_TRUE(t.has_value());
      ASSERT_LE(t->fire_at - 100 * kSecond, 10 * kSecond);
      out.clear();
      ASSERT_TRUE(engine.Apply(st, TimerFired{"e1", t->timer_id}, t->fire_at, &out).ok());
      ASSERT_LT(++timers, 20);
    }
    EXPECT_GE(timers, 3);
    EXPECT_EQ(st.state, State::kError);
    EXPECT_EQ(st.tasks[0].state, State::kError);
    ASSERT_TRUE(st.tasks[0].state_info.has_value());
    EXPECT_NE(st.tasks[0].state_info->find("Failed to find action [action_name=my.reverse"),
              std::string::npos);
    EXPECT_NE(st.tasks[0].state_info->find("no worker declared it within 10 s"), std::string::npos)
        << *st.tasks[0].state_info;
  }
  {  // Declared while it waits: the next look-up sends it to the declared pool.
    ExecutionState st;
    std::vector<Command> out;
    start(st, out);
    auto t = last_timer(out);
    ASSERT_TRUE(t.has_value());
    workers::ActionSignature sig;
    sig.name = "my.reverse";
    sig.pool = "py";
    sig.params = {{"text", true, nullptr}};
    ASSERT_TRUE(reg.DeclareExternal(sig));
    out.clear();
    ASSERT_TRUE(engine.Apply(st, TimerFired{"e1", t->timer_id}, t->fire_at, &out).ok());
    EXPECT_EQ(st.tasks[0].state, State::kRunning);
    EXPECT_FALSE(st.tasks[0].state_info.has_value());
    EXPECT_EQ(st.tasks[0].awaiting_action_since, 0);
    const RunAction* run = nullptr;
    for (const auto& c : out)
      if (const auto* r = std::get_if<RunAction>(&c)) run = r;
    ASSERT_NE(run, nullptr);
    EXPECT_EQ(run->action_name, "my.reverse");
    EXPECT_EQ(run->target, "py");
  }
}

TEST(EngineTest, UndeclaredActionFailsAtOnceWithoutAWait) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: my.unknown
)";
  TestDriver d;  // EngineLimits' default: no wait, as in Mistral
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("wf");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(d.Find(*id)->state, State::kError);
  ASSERT_TRUE(d.Find(*id)->tasks[0].state_info.has_value());
  EXPECT_NE(d.Find(*id)->tasks[0].state_info->find("Failed to find action [action_name=my.unknown"),
            std::string::npos);
}

TEST(EngineTest, StaleAndUnknownTimersAreIgnored) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: std.async_noop
      timeout: 10
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("wf");
  ASSERT_TRUE(id.ok());
  // The driver fired the timeout: the task failed.
  EXPECT_EQ(d.Find(*id)->state, State::kError);
  std::string timer_id;
  for (const auto& c : d.commands()) {
    if (const auto* t = std::get_if<SetTimer>(&c)) timer_id = t->timer_id;
  }
  ASSERT_FALSE(timer_id.empty());
  std::string before = DumpJson(d.Find(*id)->ToJson());
  EXPECT_TRUE(d.Send(TimerFired{*id, timer_id}).ok());
  EXPECT_TRUE(d.Send(TimerFired{*id, "no-such-timer"}).ok());
  // Only updated_at may change.
  Json after = d.Find(*id)->ToJson();
  Json b = ParseJson(before).value();
  b.as_object()["updated_at"] = after.as_object()["updated_at"];
  EXPECT_EQ(DumpJson(b), DumpJson(after));
}

TEST(EngineTest, PurgeDeletesACompletedExecutionAndItsSubExecutions) {
  constexpr char kYaml[] = R"(
version: '2.0'
parent:
  tasks:
    t1:
      workflow: child
      on-success: t2
    t2:
      action: std.async_noop
child:
  tasks:
    c1:
      workflow: grandchild
grandchild:
  tasks:
    g1:
      action: std.noop
)";
  TestDriver d;
  ASSERT_TRUE(d.LoadYaml(kYaml).ok());
  auto id = d.Start("parent", JsonObject());
  ASSERT_TRUE(id.ok());
  ASSERT_EQ(d.executions().size(), 3u);
  // Still running (t2 waits): refused, nothing changes.
  EXPECT_EQ(d.Send(PurgeExecution{*id}).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(d.executions().size(), 3u);
  ASSERT_EQ(d.pending_async().size(), 1u);
  RunAction pending = d.pending_async()[0];
  ASSERT_TRUE(d.Send(ActionCompleted{*id, pending.task_execution_id, pending.action_execution_id,
                                     ActionCompleted::Kind::kSuccess, nullptr})
                  .ok());
  ASSERT_EQ(d.Find(*id)->state, State::kSuccess);
  const TimestampUs updated = d.Find(*id)->updated_at;

  // Applied directly: the state is unchanged and the commands name the child and the execution itself.
  ExecutionState copy = *d.Find(*id);
  std::vector<Command> out;
  ASSERT_TRUE(d.engine().Apply(copy, PurgeExecution{*id}, updated + 1000, &out).ok());
  EXPECT_EQ(copy.updated_at, updated);
  ASSERT_EQ(out.size(), 2u);
  const auto* child = std::get_if<ControlSubExecution>(&out[0]);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->op, ControlSubExecution::Op::kPurge);
  EXPECT_EQ(child->sub_execution_id, d.Children(*id)[0]->id);
  const auto* del = std::get_if<DeleteExecution>(&out[1]);
  ASSERT_NE(del, nullptr);
  EXPECT_EQ(del->execution_id, *id);

  // Through the driver: every level goes.
  ASSERT_TRUE(d.Send(PurgeExecution{*id}).ok());
  EXPECT_TRUE(d.executions().empty());
  EXPECT_TRUE(d.errors().empty()) << d.errors()[0];
}

}  // namespace
}  // namespace bora::engine
