#include "orchestrator/triggers/cron_trigger.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "orchestrator/triggers/cron.h"

namespace bora::triggers {
namespace {

TimestampUs At(const char* minute_time) {
  auto t = ParseMinuteTime(minute_time);
  EXPECT_TRUE(t.ok());
  return t.value_or(0);
}

// A resolver that knows one workflow "wf" (id "wf-id") with a required input "x".
Result<ResolvedWorkflow> FakeResolve(const std::string& name_or_id, const std::string& ns,
                                     const Json& input) {
  if (name_or_id != "wf" && name_or_id != "wf-id") {
    return NotFound("Workflow not found [workflow_identifier=" + name_or_id + "]");
  }
  if (!input.as_object().contains("x")) {
    return InvalidArgument("Invalid input [name=wf, class=WorkflowSpec, missing=['x']]");
  }
  return ResolvedWorkflow{"wf-id", "wf", ns};
}

CronTriggerRequest Request() {
  CronTriggerRequest r;
  r.name = "t1";
  r.workflow_name = "wf";
  r.workflow_input = JsonObject{{"x", 1}};
  r.pattern = "*/5 * * * *";
  return r;
}

const TimestampUs kNow = At("2026-01-01 10:02");

TEST(NewCronTriggerTest, PatternOnly) {
  auto t = NewCronTrigger(Request(), kNow, FakeResolve);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->name, "t1");
  EXPECT_EQ(t->workflow_id, "wf-id");
  EXPECT_EQ(t->workflow_name, "wf");
  EXPECT_EQ(FormatMistralTime(t->next_execution_time), "2026-01-01 10:05:00");
  EXPECT_FALSE(t->first_execution_time.has_value());
  EXPECT_FALSE(t->remaining_executions.has_value());
  EXPECT_EQ(t->scope, "private");
  EXPECT_EQ(t->created_at, kNow);
  EXPECT_EQ(t->id.size(), 36u);
}

TEST(NewCronTriggerTest, FirstTimeOnlyDefaultsToOneExecution) {
  CronTriggerRequest r = Request();
  r.pattern = "";
  r.first_execution_time = "2026-01-01 10:30";
  auto t = NewCronTrigger(r, kNow, FakeResolve);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(FormatMistralTime(t->next_execution_time), "2026-01-01 10:30:00");
  EXPECT_EQ(t->first_execution_time, At("2026-01-01 10:30"));
  EXPECT_EQ(t->remaining_executions, 1);
}

TEST(NewCronTriggerTest, FirstTimeWithPatternStartsAtFirstTime) {
  CronTriggerRequest r = Request();
  r.first_execution_time = "2026-01-01 10:31";  // not on the pattern: Mistral starts there anyway
  r.remaining_executions = 3;
  auto t = NewCronTrigger(r, kNow, FakeResolve);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(FormatMistralTime(t->next_execution_time), "2026-01-01 10:31:00");
  EXPECT_EQ(t->remaining_executions, 3);
}

TEST(NewCronTriggerTest, ExactlySixtySecondsAheadIsAccepted) {
  CronTriggerRequest r = Request();
  r.first_execution_time = "2026-01-01 10:03";
  EXPECT_TRUE(NewCronTrigger(r, kNow, FakeResolve).ok());
}

struct ErrorCase {
  const char* what;
  std::function<void(CronTriggerRequest&)> change;
  StatusCode code;
  const char* message;
};

TEST(NewCronTriggerTest, RefusesWithMistralMessages) {
  const ErrorCase cases[] = {
      {"neither", [](auto& r) { r.pattern = ""; }, StatusCode::kInvalidArgument,
       "Pattern or first_execution_time must be specified."},
      {"too soon", [](auto& r) { r.first_execution_time = "2026-01-01 10:02"; },
       StatusCode::kInvalidArgument,
       "first_execution_time must be at least 1 minute in the future."},
      {"in the past", [](auto& r) { r.first_execution_time = "2025-01-01 10:02"; },
       StatusCode::kInvalidArgument,
       "first_execution_time must be at least 1 minute in the future."},
      {"count without pattern",
       [](auto& r) {
         r.pattern = "";
         r.first_execution_time = "2026-01-01 11:00";
         r.remaining_executions = 2;
       },
       StatusCode::kInvalidArgument, "Pattern must be provided if count is superior to 1."},
      {"bad pattern", [](auto& r) { r.pattern = "0 0 32 * *"; }, StatusCode::kInvalidArgument,
       "The specified pattern is not valid: cron pattern '0 0 32 * *': field 3 (day of month): 32 "
       "is out of range 1-31"},
      {"impossible pattern", [](auto& r) { r.pattern = "0 0 30 2 *"; },
       StatusCode::kInvalidArgument,
       "The specified pattern is not valid: cron pattern '0 0 30 2 *' never matches (no date "
       "within "
       "400 years)"},
      {"bad time", [](auto& r) { r.first_execution_time = "tomorrow"; },
       StatusCode::kInvalidArgument, "time data 'tomorrow' does not match format '%Y-%m-%d %H:%M'"},
      {"no name", [](auto& r) { r.name = ""; }, StatusCode::kInvalidArgument,
       "Mandatory field missing: name"},
      {"no workflow", [](auto& r) { r.workflow_name = ""; }, StatusCode::kInvalidArgument,
       "Mandatory field missing: workflow_name or workflow_id"},
      {"unknown workflow", [](auto& r) { r.workflow_name = "nope"; }, StatusCode::kNotFound,
       "Workflow not found [workflow_identifier=nope]"},
      {"bad input", [](auto& r) { r.workflow_input = JsonObject(); }, StatusCode::kInvalidArgument,
       "Invalid input [name=wf, class=WorkflowSpec, missing=['x']]"},
      {"input not a dict", [](auto& r) { r.workflow_input = JsonArray(); },
       StatusCode::kInvalidArgument, "Invalid input: workflow_input must be a dict, not list"},
      {"params not a dict", [](auto& r) { r.workflow_params = "x"; }, StatusCode::kInvalidArgument,
       "Invalid params: workflow_params must be a dict, not str"},
      {"zero count", [](auto& r) { r.remaining_executions = 0; }, StatusCode::kInvalidArgument,
       "Invalid input for field/attribute remaining_executions. Value: '0'. Value should be "
       "greater "
       "or equal to 1"},
      {"bad scope", [](auto& r) { r.scope = "shared"; }, StatusCode::kInvalidArgument,
       "Invalid input for field/attribute scope. Value: 'shared'. Value should be one of: private, "
       "public"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.what);
    CronTriggerRequest r = Request();
    c.change(r);
    auto t = NewCronTrigger(r, kNow, FakeResolve);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), c.code);
    EXPECT_EQ(t.status().message(), c.message);
  }
}

TEST(CronTriggerRecordTest, RoundTrips) {
  CronTriggerRequest r = Request();
  r.first_execution_time = "2026-01-01 11:00";
  r.remaining_executions = 5;
  r.workflow_params = JsonObject{{"env", JsonObject{{"k", "v"}}}};
  auto t = NewCronTrigger(r, kNow, FakeResolve);
  ASSERT_TRUE(t.ok());
  auto back = CronTrigger::FromRecord(t->ToRecord());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToRecord(), t->ToRecord());
  EXPECT_EQ(back->remaining_executions, 5);
  EXPECT_EQ(back->first_execution_time, At("2026-01-01 11:00"));

  EXPECT_FALSE(CronTrigger::FromRecord(Json(1)).ok());
  EXPECT_FALSE(CronTrigger::FromRecord(JsonObject{{"id", "x"}}).ok());
}

TEST(CronTriggerRecordTest, OptionalMembersAbsentOrPresent) {
  auto t = NewCronTrigger(Request(), kNow, FakeResolve);
  ASSERT_TRUE(t.ok());
  ASSERT_FALSE(t->first_execution_time.has_value());
  ASSERT_FALSE(t->remaining_executions.has_value());
  // Absent optionals are written as null and read back absent.
  Json record = t->ToRecord();
  EXPECT_TRUE(record.as_object().at("first_execution_time").is_null());
  EXPECT_TRUE(record.as_object().at("remaining_executions").is_null());
  auto back = CronTrigger::FromRecord(record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->first_execution_time.has_value());
  EXPECT_FALSE(back->remaining_executions.has_value());
  EXPECT_EQ(back->ToRecord(), record);
  // Left out altogether: absent too. Present (0 included): the value.
  record.as_object().erase("remaining_executions");
  record.as_object()["first_execution_time"] = 0;
  back = CronTrigger::FromRecord(record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_FALSE(back->remaining_executions.has_value());
  EXPECT_EQ(back->first_execution_time, 0);
}

TEST(CronTriggerRecordTest, ReadsRecordsOfTheOldCodec) {
  // Written by the hand-written codec this field list replaced: still read, and written the same.
  const std::string old =
      R"({"id":"0b7d6a4e-1f0e-4d7c-9a53-2f4c1e0b9d11","name":"t1","pattern":"*/5 * * * *",)"
      R"("workflow_name":"wf","workflow_id":"wf-id","workflow_namespace":"",)"
      R"("workflow_input":{"x":1},"workflow_params":{},"first_execution_time":null,)"
      R"("next_execution_time":1767261900000000,"remaining_executions":3,"scope":"private",)"
      R"("project_id":"<default-project>","created_at":1767261720000000,)"
      R"("updated_at":1767261720000000})";
  auto t = CronTrigger::FromRecord(*ParseJson(old));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->name, "t1");
  EXPECT_EQ(FormatMistralTime(t->next_execution_time), "2026-01-01 10:05:00");
  EXPECT_EQ(t->remaining_executions, 3);
  EXPECT_FALSE(t->first_execution_time.has_value());
  EXPECT_EQ(t->workflow_input, Json(JsonObject{{"x", 1}}));
  EXPECT_EQ(DumpJson(t->ToRecord()), old);
}

TEST(CronTriggerRecordTest, ABadRecordNamesTheMember) {
  Json good = *ParseJson(R"({"id":"i","name":"n","workflow_name":"wf","next_execution_time":1})");
  ASSERT_TRUE(CronTrigger::FromRecord(good).ok());
  for (const auto& [member, value] :
       std::vector<std::pair<std::string, Json>>{{"id", Json(nullptr)},
                                                 {"name", Json(3)},
                                                 {"next_execution_time", Json("soon")},
                                                 {"remaining_executions", Json("3")},
                                                 {"first_execution_time", Json(1.5)},
                                                 {"workflow_input", Json("x")},
                                                 {"scope", Json(true)}}) {
    Json bad = good;
    bad.as_object()[member] = value;
    auto t = CronTrigger::FromRecord(bad);
    ASSERT_FALSE(t.ok()) << member;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find("'" + member + "'"), std::string::npos)
        << t.status().message();
  }
}

TEST(AdvanceCronTriggerTest, DueWindowIsTwoSeconds) {
  CronTrigger t;
  t.next_execution_time = At("2026-01-01 10:05");
  EXPECT_FALSE(IsDue(t, t.next_execution_time - 2'000'001));
  EXPECT_TRUE(IsDue(t, t.next_execution_time - 2'000'000));
  EXPECT_TRUE(IsDue(t, t.next_execution_time + 3600'000'000LL));
}

TEST(AdvanceCronTriggerTest, NextFromTheLaterOfNowAndNextSkippingMissedRuns) {
  CronTrigger t;
  t.pattern = "*/5 * * * *";
  t.next_execution_time = At("2026-01-01 10:05");
  // On time (even 1 s early): the following tick.
  auto a = AdvanceCronTrigger(t, t.next_execution_time - 1'000'000);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(FormatMistralTime((*a)->next_execution_time), "2026-01-01 10:10:00");
  // Late by an hour: the ticks in between are skipped.
  auto b = AdvanceCronTrigger(t, At("2026-01-01 11:07"));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->has_value());
  EXPECT_EQ(FormatMistralTime((*b)->next_execution_time), "2026-01-01 11:10:00");
  EXPECT_FALSE((*b)->remaining_executions.has_value());
}

TEST(AdvanceCronTriggerTest, CountsDownAndEnds) {
  CronTrigger t;
  t.pattern = "0 * * * *";
  t.next_execution_time = At("2026-01-01 10:00");
  t.remaining_executions = 2;
  auto a = AdvanceCronTrigger(t, t.next_execution_time);
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->remaining_executions, 1);
  auto b = AdvanceCronTrigger(**a, (*a)->next_execution_time);
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());  // 0 left: delete

  CronTrigger once;  // first_execution_time only
  once.next_execution_time = At("2026-01-01 10:00");
  once.remaining_executions = 1;
  auto c = AdvanceCronTrigger(once, once.next_execution_time);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->has_value());
}

}  // namespace
}  // namespace bora::triggers
