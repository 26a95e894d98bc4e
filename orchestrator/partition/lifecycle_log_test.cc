// The execution lifecycle lines (orchestrator/partition/lifecycle_log.h): which task and reason a
// failure names, the cut of long reasons, and the lines in both formats.
#include "orchestrator/partition/lifecycle_log.h"

#include <gtest/gtest.h>

#include "common/json.h"
#include "common/log_capture.h"

namespace bora::partition {
namespace {

engine::TaskExecution Task(std::string name, engine::State state, TimestampUs finished_at,
                           std::optional<std::string> info = std::nullopt) {
  engine::TaskExecution t;
  t.name = std::move(name);
  t.state = state;
  t.finished_at = finished_at;
  t.state_info = std::move(info);
  return t;
}

engine::ExecutionState Execution(engine::State state) {
  engine::ExecutionState s;
  s.id = "e-1";
  s.workflow_name = "wf";
  s.state = state;
  s.created_at = 1'000'000;
  return s;
}

TEST(LifecycleLineTest, FailureNamesTheTaskThatFailedLastAndItsReason) {
  engine::ExecutionState s = Execution(engine::State::kError);
  s.state_info = "Failure caused by error in tasks: boom";
  s.tasks.push_back(Task("ok", engine::State::kSuccess, 5'000'000));
  s.tasks.push_back(Task("first", engine::State::kError, 2'000'000, "first reason"));
  s.tasks.push_back(Task("boom", engine::State::kError, 3'000'000, "boom reason"));
  LifecycleLine line = FinishedLine(s, 3'500'000);
  EXPECT_EQ(line.kind, LifecycleLine::Kind::kFinished);
  EXPECT_EQ(line.task, "boom");
  EXPECT_EQ(line.reason, "boom reason");
  EXPECT_DOUBLE_EQ(line.duration_ms, 2500.0);
}

TEST(LifecycleLineTest, FailureWithoutAFailedTaskGivesTheExecutionsReason) {
  engine::ExecutionState s = Execution(engine::State::kError);
  s.state_info = "Invalid input";
  LifecycleLine line = FinishedLine(s, 1'000'000);
  EXPECT_EQ(line.task, "");
  EXPECT_EQ(line.reason, "Invalid input");
}

TEST(LifecycleLineTest, SuccessNamesNoTask) {
  engine::ExecutionState s = Execution(engine::State::kSuccess);
  s.tasks.push_back(Task("t", engine::State::kError, 2'000'000, "handled"));  // on-error handled
  LifecycleLine line = FinishedLine(s, 1'000'000);
  EXPECT_EQ(line.task, "");
  EXPECT_EQ(line.reason, "");
}

TEST(LifecycleLineTest, LongReasonsAreCutBetweenCharacters) {
  EXPECT_EQ(CutReason("short"), "short");
  std::string e_acute = "\xc3\xa9";
  std::string text = std::string(499, 'x') + e_acute + "tail";  // é straddles byte 500
  EXPECT_EQ(CutReason(text), std::string(499, 'x') + "...");
  EXPECT_EQ(CutReason(std::string(600, 'y')).size(), kMaxReasonBytes + 3);
}

TEST(LifecycleLogTest, TextLines) {
  LogCapture log("info", LogFormat::kText);
  engine::ExecutionState s = Execution(engine::State::kRunning);
  LogLifecycle(StartedLine(s));
  s.state = engine::State::kSuccess;
  LogLifecycle(FinishedLine(s, 1'012'345));
  s.state = engine::State::kError;
  s.parent_execution_id = "p-1";
  s.tasks.push_back(Task("t1", engine::State::kError, 2'000'000, "Failed to run \"x\""));
  LogLifecycle(FinishedLine(s, 2'000'000));
  auto lines = log.WaitFor("execution ", 3);
  ASSERT_EQ(lines.size(), 3u) << log.All();
  EXPECT_NE(lines[0].find(" info execution started id=e-1 workflow=wf\n"), std::string::npos)
      << lines[0];
  EXPECT_NE(lines[1].find(" info execution finished id=e-1 workflow=wf state=SUCCESS "
                          "duration_ms=12.345\n"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(
      lines[2].find(" info execution failed id=e-1 workflow=wf state=ERROR duration_ms=1000.000 "
                    "task=t1 reason=\"Failed to run \\\"x\\\"\" parent_id=p-1\n"),
      std::string::npos)
      << lines[2];
}

TEST(LifecycleLogTest, JsonLinesAndWarnLevelHidesThem) {
  {
    LogCapture log("warn", LogFormat::kJson);
    LogLifecycle(StartedLine(Execution(engine::State::kRunning)));
    EXPECT_TRUE(log.Lines("execution").empty()) << log.All();
  }
  LogCapture log("info", LogFormat::kJson);
  engine::ExecutionState s = Execution(engine::State::kError);
  s.tasks.push_back(Task("t1", engine::State::kError, 2'000'000, "bad\nthing"));
  LogLifecycle(FinishedLine(s, 2'000'000));
  auto lines = log.WaitFor("execution failed");
  ASSERT_EQ(lines.size(), 1u) << log.All();
  auto json = ParseJson(lines[0]);
  ASSERT_TRUE(json.ok()) << lines[0];
  const auto& o = json->as_object();
  EXPECT_EQ(o.at("msg"), Json("execution failed"));
  EXPECT_EQ(o.at("id"), Json("e-1"));
  EXPECT_EQ(o.at("workflow"), Json("wf"));
  EXPECT_EQ(o.at("state"), Json("ERROR"));
  EXPECT_EQ(o.at("task"), Json("t1"));
  EXPECT_EQ(o.at("reason"), Json("bad\nthing"));
  EXPECT_DOUBLE_EQ(o.at("duration_ms").as_double(), 1000.0);
  EXPECT_FALSE(o.contains("parent_id"));
}

}  // namespace
}  // namespace bora::partition
