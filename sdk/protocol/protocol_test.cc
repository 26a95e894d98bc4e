#include "sdk/protocol/protocol.h"

#include <gtest/gtest.h>

#include <cmath>

namespace bora::protocol {
namespace {

using engine::Event;

std::vector<Event> SampleEvents() {
  engine::StartExecution start;
  start.execution_id = "e1";
  start.workflow_name = "wb.wf";
  start.input = *ParseJson(R"({"a": [1, 2.5, "x"]})");
  start.params = *ParseJson(R"({"env": {"k": "v"}, "task_name": "t"})");
  start.parent_execution_id = "p1";
  start.parent_task_execution_id = "pt1";
  start.root_execution_id = "r1";
  start.parent_item_index = 3;
  start.depth = 2;  // re-encoding the decoded event must give the same text
  start.report_tasks = true;
  engine::ActionCompleted done{"e1", "t1", "a1", engine::ActionCompleted::Kind::kError, Json("boom")};
  engine::SubWorkflowCompleted sub{"e1", "t1", "s1", engine::State::kError, JsonObject(), "bad",
                                   *ParseJson(R"([{"task": {"name": "c1"}, "sub_states": []}])")};
  engine::ResumeExecution resume{"e1", *ParseJson(R"({"x": 1})")};
  engine::StopExecution stop{"e1", engine::State::kSuccess, std::string("done")};
  engine::RerunTask rerun{"e1", "t1", false, std::nullopt};
  return {start,
          done,
          sub,
          engine::TimerFired{"e1", "tm1"},
          engine::PauseExecution{"e1"},
          resume,
          engine::CancelExecution{"e1", std::nullopt},
          stop,
          rerun,
          engine::SkipTask{"e1", "t1"},
          engine::PurgeExecution{"e1"},
          engine::SubWorkflowUpdated{"e1", "t1", "s1", engine::State::kPaused}};
}

TEST(ProtocolTest, EveryEventRoundTrips) {
  for (const Event& e : SampleEvents()) {
    std::string text = *EncodeEvent(e);
    auto back = DecodeEvent(text);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << " for " << text;
    EXPECT_EQ(back->index(), e.index());
    EXPECT_EQ(*EncodeEvent(*back), text);
  }
}

// Both decoders walk the same field list: the one-pass fast path (flat messages of plain strings)
// and the general Boost.JSON reader give the same event for every type, defaults included.
TEST(ProtocolTest, FastAndGeneralDecodersAgree) {
  for (const Event& e : SampleEvents()) {
    std::string text = *EncodeEvent(e);
    auto fast = DecodeEvent(text);
    auto general = EventFromJson(*ParseJson(text));
    ASSERT_TRUE(fast.ok() && general.ok()) << text;
    EXPECT_EQ(*EncodeEvent(*fast), *EncodeEvent(*general)) << text;
    // An escaped character is not flat: the general path decodes it, to the same event.
    std::string escaped = text;
    escaped.replace(escaped.find("\"e1\""), 4, "\"\\u0065\x31\"");
    auto slow = DecodeEvent(escaped);
    ASSERT_TRUE(slow.ok()) << escaped << ": " << slow.status().ToString();
    EXPECT_EQ(*EncodeEvent(*slow), text);
  }
  // Members left out take their defaults on both paths (RerunTask.reset is true when missing).
  const std::string minimal =
      R"({"schema_version":1,"type":"RerunTask","execution_id":"e","task_execution_id":"t"})";
  for (const auto& decoded : {DecodeEvent(minimal), EventFromJson(*ParseJson(minimal))}) {
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(std::get<engine::RerunTask>(*decoded).reset);
    EXPECT_FALSE(std::get<engine::RerunTask>(*decoded).env.has_value());
  }
  // A nested member no field list reads must still be valid JSON, as the general path requires.
  auto bad =
      DecodeEvent(R"({"schema_version":1,"type":"PauseExecution","execution_id":"e","x":{"a":}})");
  EXPECT_FALSE(bad.ok());
}

TEST(ProtocolTest, RunActionRoundTrips) {
  engine::RunAction run;
  run.execution_id = "e1";
  run.task_execution_id = "t1";
  run.action_execution_id = "a1";
  run.action_name = "std.echo";
  run.input = *ParseJson(R"({"output": "hi"})");
  run.target = "gpu";
  run.timeout_s = 5;
  run.attempt = 2;
  auto back = DecodeRunAction(*EncodeRunAction(run));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->action_name, "std.echo");
  EXPECT_EQ(back->target, "gpu");
  EXPECT_EQ(back->attempt, 2);
  EXPECT_EQ(DumpJson(back->input), R"({"output":"hi"})");
  EXPECT_TRUE(back->security.is_null());  // none: the field is left out
  EXPECT_EQ(EncodeRunAction(run)->find("security"), std::string::npos);
  run.security = JsonObject{{"project_id", "p"}, {"auth_token", "t"}};
  auto secured = DecodeRunAction(*EncodeRunAction(run));
  ASSERT_TRUE(secured.ok()) << secured.status().ToString();
  EXPECT_EQ(DumpJson(secured->security), R"({"project_id":"p","auth_token":"t"})");
  EXPECT_EQ(ActionsTopic(""), "bora.actions.default");
  EXPECT_EQ(ActionsTopic("gpu"), "bora.actions.gpu");
  EXPECT_EQ(ActionsTopic("", "t1."), "t1.bora.actions.default");
  EXPECT_EQ(EventsTopic("t1."), "t1.bora.events");
}

TEST(ProtocolTest, BadMessagesSayWhatIsWrong) {
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {"not json", "bad event message: invalid JSON"},
      {"[1]", "not a JSON object"},
      {R"({"type":"PauseExecution","execution_id":"e"})", "schema_version"},
      {R"({"schema_version":2,"type":"PauseExecution","execution_id":"e"})", "unsupported schema_version 2"},
      {R"({"schema_version":1,"type":"Explode","execution_id":"e"})", "unknown type 'Explode'"},
      {R"({"schema_version":1,"type":"PauseExecution"})", "missing field 'execution_id'"},
      {R"({"schema_version":1,"type":"TimerFired","execution_id":5,"timer_id":"t"})",
       "field 'execution_id' must be a string"},
      {R"({"schema_version":1,"type":"ActionCompleted","execution_id":"e","task_execution_id":"t",
          "action_execution_id":"a","result":"maybe"})",
       "field 'result' must be success, error or cancelled"},
      {R"({"schema_version":1,"type":"StopExecution","execution_id":"e","state":"DONE"})",
       "is not a state: 'DONE'"},
      {R"({"schema_version":1,"type":"StartExecution","execution_id":"e","workflow_name":"w",
          "input":[1]})",
       "field 'input' must be an object"},
  };
  for (const auto& c : cases) {
    auto r = DecodeEvent(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos)
        << "message: " << r.status().message() << "\nexpected: " << c.expect;
  }
  EXPECT_FALSE(DecodeEvent(std::string(kMaxMessageBytes + 1, ' ')).ok());
  EXPECT_FALSE(DecodeRunAction(R"({"schema_version":1,"type":"RunAction"})").ok());
}

// JSON cannot carry Infinity or NaN: an encoder meeting one fails, naming the field, instead of
// writing text every decoder refuses.
TEST(ProtocolTest, NonFiniteNumbersFailTheEncoders) {
  engine::ActionCompleted done{"e1", "t1", "a1", engine::ActionCompleted::Kind::kSuccess,
                               JsonObject{{"x", JsonArray{1, HUGE_VAL}}}};
  auto text = EncodeEvent(done);
  ASSERT_FALSE(text.ok()) << *text;
  EXPECT_NE(text.status().message().find("number out of range at 'data.x[1]'"), std::string::npos)
      << text.status().message();
  engine::RunAction run;
  run.execution_id = "e1";
  run.action_name = "std.echo";
  run.input = JsonObject{{"output", std::nan("")}};
  auto run_text = EncodeRunAction(run);
  ASSERT_FALSE(run_text.ok()) << *run_text;
  EXPECT_NE(run_text.status().message().find("'input.output'"), std::string::npos)
      << run_text.status().message();
}

// An ActionCompleted the orchestrator cannot decode, but whose ids it can read, fails its task
// with the reason (it used to be refused, and the task stayed RUNNING forever).
TEST(ProtocolTest, UndecodableActionResultBecomesAnErrorResult) {
  const std::string head =
      R"({"schema_version":1,"type":"ActionCompleted","execution_id":"e1",)"
      R"("task_execution_id":"t1","action_execution_id":"a1","result":"success","data":)";
  struct Case {
    std::string text;
    std::string expect;
  } cases[] = {
      {head + "{\"x\":1e999}}", "number out of range at 'data.x'"},
      {head + "\"" + std::string(kMaxMessageBytes, 'a') + "\"}",
       "more than the bus message limit of 8388608 bytes"},
  };
  for (const auto& c : cases) {
    auto r = DecodeEvent(c.text);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const auto* e = std::get_if<engine::ActionCompleted>(&*r);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->action_execution_id, "a1");
    EXPECT_EQ(e->kind, engine::ActionCompleted::Kind::kError);
    ASSERT_TRUE(e->data.is_string());
    EXPECT_NE(std::string(e->data.get_string()).find(c.expect), std::string::npos) << e->data;
  }
  // Other messages with such numbers stay refused, naming the field.
  auto start = DecodeEvent(
      R"({"schema_version":1,"type":"StartExecution","execution_id":"e","workflow_name":"w",)"
      R"("input":{"n":-1e400}})");
  ASSERT_FALSE(start.ok());
  EXPECT_NE(start.status().message().find("'input.n'"), std::string::npos)
      << start.status().message();
}

}  // namespace
}  // namespace bora::protocol
