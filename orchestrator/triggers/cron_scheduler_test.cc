#include "orchestrator/triggers/cron_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "common/bus/bus.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/store/memory_resource_store.h"
#include "orchestrator/triggers/cron.h"

namespace bora::triggers {
namespace {

constexpr char kWorkflows[] = R"(
version: '2.0'
wf:
  input:
    - x
    - y: 2
  tasks:
    t:
      action: std.noop
)";

TimestampUs At(const char* minute_time) {
  auto t = ParseMinuteTime(minute_time);
  EXPECT_TRUE(t.ok());
  return t.value_or(0);
}

// Records every start the orchestrator refused.
class Rejections : public partition::ExecutionObserver {
 public:
  void OnRejected(const std::string& execution_id, const Status& why) override {
    std::lock_guard lock(mu_);
    rejected.emplace_back(execution_id, why);
  }
  std::mutex mu_;
  std::vector<std::pair<std::string, Status>> rejected;
};

// A ResourceStore decorator whose CompareAndSwap can be intercepted (to stage races and crashes).
class HookedStore : public store::ResourceStore {
 public:
  explicit HookedStore(store::ResourceStore* inner) : inner_(inner) {}
  Result<std::optional<Json>> Get(std::string_view kind, std::string_view key) override {
    return inner_->Get(kind, key);
  }
  Status Put(std::string_view kind, std::string_view key, const Json& record) override {
    return inner_->Put(kind, key, record);
  }
  Result<bool> Create(std::string_view kind, std::string_view key, const Json& record) override {
    return inner_->Create(kind, key, record);
  }
  Result<bool> Delete(std::string_view kind, std::string_view key) override {
    return inner_->Delete(kind, key);
  }
  Result<std::vector<std::pair<std::string, Json>>> List(std::string_view kind) override {
    return inner_->List(kind);
  }
  Result<bool> CompareAndSwap(std::string_view kind, std::string_view key, const Json& expected,
                              const std::optional<Json>& replacement) override {
    if (before_cas) {
      auto hook = std::move(before_cas);
      before_cas = nullptr;
      if (auto s = hook(); !s.ok()) return s;
    }
    return inner_->CompareAndSwap(kind, key, expected, replacement);
  }
  Result<bool> Remember(std::string_view key, std::chrono::milliseconds ttl) override {
    return inner_->Remember(key, ttl);
  }
  // Runs once, before the next CompareAndSwap; an error status fails that CAS (a crash after the
  // start).
  std::function<Status()> before_cas;

 private:
  store::ResourceStore* inner_;
};

class CronSchedulerTest : public ::testing::Test {
 protected:
  CronSchedulerTest() : runtime_(Options()), resources_(runtime_.clock()), store_(&resources_) {
    runtime_.AddObserver(&rejections_);
    EXPECT_TRUE(runtime_.LoadYaml(kWorkflows, "wf.yaml").ok());
    clock()->Set(At("2026-01-01 10:00"));
  }
  static runtime::EmbeddedOptions Options() {
    runtime::EmbeddedOptions o;
    o.deterministic = true;
    o.partitions = 4;
    return o;
  }
  ManualClock* clock() { return runtime_.manual_clock(); }
  std::vector<PartitionId> AllPartitions() const {
    return {PartitionId(0), PartitionId(1), PartitionId(2), PartitionId(3)};
  }

  CronScheduler NewScheduler() {
    return CronScheduler(&store_, &runtime_.client(), runtime_.clock(), runtime_.partitions());
  }

  // Creates a trigger through Mistral's rules and stores it. `id` overrides the random id.
  CronTrigger AddTrigger(CronTriggerRequest r, const std::string& id = "") {
    if (r.name.empty()) r.name = "t";
    r.workflow_name = "wf";
    if (r.workflow_input.as_object().empty()) r.workflow_input = JsonObject{{"x", 1}};
    auto resolve = [this](const std::string& name, const std::string& ns,
                          const Json& input) -> Result<ResolvedWorkflow> {
      auto spec = runtime_.engine().ResolveWorkflow(name, "", ns);
      if (!spec) return NotFound("Workflow not found [workflow_identifier=" + name + "]");
      BORA_ASSIGN_OR_RETURN(Json validated, runtime_.engine().ValidateWorkflowInput(*spec, input));
      (void)validated;
      return ResolvedWorkflow{"wf-id", spec->full_name, ns};
    };
    auto t = NewCronTrigger(r, clock()->NowUs(), resolve);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    if (!id.empty()) t->id = id;
    auto created = resources_.Create(kCronTriggerKind, t->name, t->ToRecord());
    EXPECT_TRUE(created.ok() && *created);
    return *t;
  }

  std::optional<CronTrigger> Stored(const std::string& name) {
    auto r = resources_.Get(kCronTriggerKind, name);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || !r->has_value()) return std::nullopt;
    auto t = CronTrigger::FromRecord(**r);
    EXPECT_TRUE(t.ok());
    return *t;
  }

  // Every execution in the state store, by id.
  std::set<std::string> Executions() {
    std::set<std::string> ids;
    for (int p = 0; p < runtime_.partitions(); ++p) {
      auto list = runtime_.store().ListExecutionIds(PartitionId(p));
      EXPECT_TRUE(list.ok());
      if (list.ok()) {
        for (const auto& id : *list) ids.insert(id.value());
      }
    }
    return ids;
  }

  // Applies what was published without moving the clock (the workflow has no timers).
  void Settle() { ASSERT_TRUE(runtime_.RunUntilIdle().ok()); }

  size_t Run(CronScheduler& s, const std::vector<PartitionId>& owned) {
    auto r = s.RunDue(owned);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.value_or(0);
  }

  std::vector<std::string> DuplicateRejections() {
    std::lock_guard lock(rejections_.mu_);
    std::vector<std::string> ids;
    for (const auto& [id, why] : rejections_.rejected) {
      EXPECT_EQ(why.code(), StatusCode::kAlreadyExists) << why.ToString();
      ids.push_back(id);
    }
    return ids;
  }

  Rejections rejections_;
  runtime::EmbeddedRuntime runtime_;
  store::MemoryResourceStore resources_{SystemClock::Get()};
  HookedStore store_;
};

TEST_F(CronSchedulerTest, FiresWhenDueWithDeterministicIdDescriptionAndParams) {
  CronTriggerRequest r;
  r.name = "every5";
  r.pattern = "*/5 * * * *";
  r.workflow_input = JsonObject{{"x", 7}};
  r.workflow_params = JsonObject{{"env", JsonObject{{"region", "eu"}}}};
  CronTrigger t = AddTrigger(r);
  CronScheduler s = NewScheduler();

  auto due = s.NextDue(AllPartitions());
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(*due, At("2026-01-01 10:00") + CronScheduler::kRefreshIntervalUs);  // refresh bound
  EXPECT_FALSE(s.NextDue({}).has_value());
  EXPECT_EQ(s.NextFireTime(AllPartitions()), At("2026-01-01 10:05") - 2'000'000);
  EXPECT_FALSE(s.NextFireTime({}).has_value());

  clock()->Set(At("2026-01-01 10:04") + 57'000'000);  // 3 s early: not yet
  EXPECT_EQ(Run(s, AllPartitions()), 0u);
  EXPECT_EQ(*s.NextDue(AllPartitions()), At("2026-01-01 10:05") - 2'000'000);
  clock()->Set(At("2026-01-01 10:04") + 58'000'000);  // 2 s early: due (Mistral's window)
  EXPECT_EQ(Run(s, AllPartitions()), 1u);
  EXPECT_EQ(Run(s, AllPartitions()), 0u);  // once per tick
  Settle();

  const std::string id = CronExecutionId(t.id, At("2026-01-01 10:05"));
  EXPECT_EQ(Executions(), std::set<std::string>{id});
  auto state = runtime_.client().Get(ExecutionId(id));
  ASSERT_TRUE(state.ok() && state->has_value());
  const engine::ExecutionState& e = **state;
  EXPECT_EQ(e.workflow_name, "wf");
  EXPECT_EQ(e.state, engine::State::kSuccess);
  EXPECT_EQ(DumpJson(e.input), R"({"x":7,"y":2})");
  EXPECT_EQ(DumpJson(e.params.as_object().at("env")), R"({"region":"eu"})");
  EXPECT_EQ(e.description, "{\"description\": \"Workflow execution created by cron trigger '(" +
                               t.id +
                               ")'.\", \"triggered_by\": {\"type\": \"cron_trigger\", \"id\": \"" +
                               t.id + "\", \"name\": \"every5\"}}");
  auto stored = Stored("every5");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(FormatMistralTime(stored->next_execution_time), "2026-01-01 10:10:00");
}

TEST_F(CronSchedulerTest, ExecutionIdIsANameBasedUuid) {
  std::string a = CronExecutionId("trigger-1", 100);
  EXPECT_TRUE(IsUuidLike(a));
  EXPECT_EQ(a[14], '5');  // version 5
  EXPECT_EQ(a, CronExecutionId("trigger-1", 100));
  EXPECT_NE(a, CronExecutionId("trigger-1", 101));
  EXPECT_NE(a, CronExecutionId("trigger-2", 100));
}

TEST_F(CronSchedulerTest, TwoSchedulersRacingOnOneTickStartOneExecution) {
  CronTriggerRequest r;
  r.pattern = "* * * * *";
  CronTrigger t = AddTrigger(r);
  CronScheduler a = NewScheduler();
  CronScheduler b = NewScheduler();
  clock()->Set(At("2026-01-01 10:01"));
  // `a` starts the tick; before its CAS, `b` reads the same record, starts the same id and advances
  // it.
  size_t b_fired = 0;
  store_.before_cas = [&]() -> Status {
    b_fired = Run(b, AllPartitions());
    return Status::Ok();
  };
  EXPECT_EQ(Run(a, AllPartitions()), 0u);  // lost the CAS
  EXPECT_EQ(b_fired, 1u);
  Settle();
  const std::string id = CronExecutionId(t.id, At("2026-01-01 10:01"));
  EXPECT_EQ(Executions(), std::set<std::string>{id});
  EXPECT_EQ(DuplicateRejections(), std::vector<std::string>{id});
  EXPECT_EQ(FormatMistralTime(Stored("t")->next_execution_time), "2026-01-01 10:02:00");
}

TEST_F(CronSchedulerTest, ManySchedulersOnThreadsFireEachTickOnce) {
  CronTriggerRequest r;
  r.pattern = "* * * * *";
  CronTrigger t = AddTrigger(r);
  std::vector<std::unique_ptr<CronScheduler>> schedulers;
  for (int i = 0; i < 4; ++i)
    schedulers.push_back(std::make_unique<CronScheduler>(&store_, &runtime_.client(),
                                                         runtime_.clock(), runtime_.partitions()));
  std::set<std::string> expected;
  size_t total = 0;
  for (int minute = 1; minute <= 5; ++minute) {
    clock()->Set(At("2026-01-01 10:00") + minute * 60'000'000LL);
    expected.insert(CronExecutionId(t.id, clock()->NowUs()));
    std::atomic<size_t> fired{0};
    std::vector<std::thread> threads;
    for (auto& s : schedulers) {
      threads.emplace_back([&, sp = s.get()] {
        auto n = sp->RunDue(AllPartitions());
        if (n.ok()) fired += *n;
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(fired.load(), 1u) << "minute " << minute;
    total += fired;
    Settle();
  }
  EXPECT_EQ(total, 5u);
  EXPECT_EQ(Executions(), expected);
}

TEST_F(CronSchedulerTest, MissedRunsAreSkipped) {
  CronTriggerRequest r;
  r.pattern = "0 * * * *";
  CronTrigger t = AddTrigger(r);
  CronScheduler s = NewScheduler();
  clock()->Set(At("2026-01-01 15:30"));    // down since 10:00: ticks 11:00 .. 15:00 missed
  EXPECT_EQ(Run(s, AllPartitions()), 1u);  // one run for the overdue tick
  EXPECT_EQ(Run(s, AllPartitions()), 0u);
  Settle();
  EXPECT_EQ(Executions(), std::set<std::string>{CronExecutionId(t.id, At("2026-01-01 11:00"))});
  EXPECT_EQ(FormatMistralTime(Stored("t")->next_execution_time), "2026-01-01 16:00:00");
}

TEST_F(CronSchedulerTest, RemainingExecutionsCountDownThenTheTriggerIsDeleted) {
  CronTriggerRequest r;
  r.pattern = "*/10 * * * *";
  r.remaining_executions = 3;
  AddTrigger(r);
  CronScheduler s = NewScheduler();
  std::vector<std::optional<int64_t>> remaining;
  for (const char* tick : {"2026-01-01 10:10", "2026-01-01 10:20", "2026-01-01 10:30"}) {
    clock()->Set(At(tick));
    EXPECT_EQ(Run(s, AllPartitions()), 1u) << tick;
    auto stored = Stored("t");
    remaining.push_back(stored ? stored->remaining_executions : std::nullopt);
  }
  EXPECT_EQ(remaining, (std::vector<std::optional<int64_t>>{2, 1, std::nullopt}));
  EXPECT_FALSE(Stored("t").has_value());  // deleted after the last run
  clock()->Set(At("2026-01-01 10:40"));
  EXPECT_EQ(Run(s, AllPartitions()), 0u);
  Settle();
  EXPECT_EQ(Executions().size(), 3u);
}

TEST_F(CronSchedulerTest, FirstExecutionTimeOnlyFiresOnceAtThatTime) {
  CronTriggerRequest r;
  r.first_execution_time = "2026-01-01 12:00";
  CronTrigger t = AddTrigger(r);
  CronScheduler s = NewScheduler();
  clock()->Set(At("2026-01-01 11:59"));
  EXPECT_EQ(Run(s, AllPartitions()), 0u);
  clock()->Set(At("2026-01-01 12:00"));
  EXPECT_EQ(Run(s, AllPartitions()), 1u);
  EXPECT_FALSE(Stored("t").has_value());
  Settle();
  EXPECT_EQ(Executions(), std::set<std::string>{CronExecutionId(t.id, At("2026-01-01 12:00"))});
}

TEST_F(CronSchedulerTest, FirstExecutionTimeThenPattern) {
  CronTriggerRequest r;
  r.first_execution_time = "2026-01-01 12:03";
  r.pattern = "0 * * * *";
  AddTrigger(r);
  CronScheduler s = NewScheduler();
  clock()->Set(At("2026-01-01 12:03"));
  EXPECT_EQ(Run(s, AllPartitions()), 1u);
  EXPECT_EQ(FormatMistralTime(Stored("t")->next_execution_time), "2026-01-01 13:00:00");
}

TEST_F(CronSchedulerTest, ASchedulerFiresOnlyItsPartitionsTriggers) {
  // Two trigger ids that land in different partitions.
  std::string id_a = "trigger-a", id_b;
  const PartitionId part_a(PartitionForKey(id_a, 4));
  for (int i = 0; id_b.empty(); ++i) {
    std::string candidate = "trigger-b" + std::to_string(i);
    if (PartitionForKey(candidate, 4) != part_a.value()) id_b = candidate;
  }
  const PartitionId part_b(PartitionForKey(id_b, 4));
  CronTriggerRequest r;
  r.pattern = "* * * * *";
  r.name = "a";
  AddTrigger(r, id_a);
  r.name = "b";
  AddTrigger(r, id_b);
  CronScheduler owner_a = NewScheduler();
  CronScheduler owner_b = NewScheduler();
  EXPECT_EQ(owner_a.PartitionOf(id_a), part_a);
  EXPECT_EQ(*owner_a.NextDue({part_a}), At("2026-01-01 10:00") + CronScheduler::kRefreshIntervalUs);
  clock()->Set(At("2026-01-01 10:01"));
  EXPECT_EQ(*owner_a.NextDue({part_a}), At("2026-01-01 10:01") - 2'000'000);
  EXPECT_EQ(Run(owner_a, {part_a}), 1u);
  EXPECT_EQ(FormatMistralTime(Stored("a")->next_execution_time), "2026-01-01 10:02:00");
  EXPECT_EQ(FormatMistralTime(Stored("b")->next_execution_time), "2026-01-01 10:01:00");
  EXPECT_EQ(Run(owner_b, {part_b}), 1u);
  EXPECT_EQ(FormatMistralTime(Stored("b")->next_execution_time), "2026-01-01 10:02:00");
  Settle();
  EXPECT_EQ(Executions(), (std::set<std::string>{CronExecutionId(id_a, At("2026-01-01 10:01")),
                                                 CronExecutionId(id_b, At("2026-01-01 10:01"))}));
}

TEST_F(CronSchedulerTest, RestartBetweenStartAndCasStartsTheSameIdOnce) {
  CronTriggerRequest r;
  r.pattern = "* * * * *";
  CronTrigger t = AddTrigger(r);
  clock()->Set(At("2026-01-01 10:01"));
  {
    CronScheduler before_crash = NewScheduler();
    store_.before_cas = [] { return Unavailable("process killed before the CAS"); };
    auto fired = before_crash.RunDue(AllPartitions());
    ASSERT_FALSE(fired.ok());
    EXPECT_EQ(fired.status().code(), StatusCode::kUnavailable);
  }
  Settle();  // the first start ran
  const std::string id = CronExecutionId(t.id, At("2026-01-01 10:01"));
  EXPECT_EQ(Executions(), std::set<std::string>{id});
  auto first = runtime_.client().Get(ExecutionId(id));
  ASSERT_TRUE(first.ok() && first->has_value());

  clock()->AdvanceSeconds(5);  // the restarted process: same tick still due
  CronScheduler after_restart = NewScheduler();
  EXPECT_EQ(Run(after_restart, AllPartitions()), 1u);
  Settle();
  EXPECT_EQ(Executions(), std::set<std::string>{id});
  EXPECT_EQ(DuplicateRejections(),
            std::vector<std::string>{id});  // the engine refused the re-start
  auto second = runtime_.client().Get(ExecutionId(id));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->updated_at, (*first)->updated_at);  // untouched
  EXPECT_EQ(FormatMistralTime(Stored("t")->next_execution_time), "2026-01-01 10:02:00");
}

TEST_F(CronSchedulerTest, AFailedTriggerIsRetriedAfterASecondNotOnEveryCall) {
  CronTriggerRequest r;
  r.pattern = "* * * * *";
  CronTrigger t = AddTrigger(r);
  CronScheduler s = NewScheduler();
  clock()->Set(At("2026-01-01 10:01"));
  store_.before_cas = [] { return Unavailable("redis went away"); };
  EXPECT_FALSE(s.RunDue(AllPartitions()).ok());
  EXPECT_EQ(*s.NextDue(AllPartitions()),
            At("2026-01-01 10:01") + CronScheduler::kRefreshIntervalUs);
  EXPECT_EQ(Run(s, AllPartitions()), 0u);  // not retried yet
  clock()->AdvanceSeconds(1);
  EXPECT_EQ(Run(s, AllPartitions()), 1u);
  Settle();
  const std::string id = CronExecutionId(t.id, At("2026-01-01 10:01"));
  EXPECT_EQ(Executions(), std::set<std::string>{id});
  EXPECT_EQ(DuplicateRejections(), std::vector<std::string>{id});
}

TEST_F(CronSchedulerTest, AStartRefusedForGoodSkipsTheTick) {
  CronTriggerRequest r;
  r.pattern = "* * * * *";
  AddTrigger(r);
  ASSERT_TRUE(runtime_.definitions().RemoveWorkflow("wf"));  // deleted after the trigger was made
  CronScheduler s = NewScheduler();
  clock()->Set(At("2026-01-01 10:01"));
  EXPECT_EQ(Run(s, AllPartitions()), 0u);
  EXPECT_EQ(FormatMistralTime(Stored("t")->next_execution_time), "2026-01-01 10:02:00");
  Settle();
  EXPECT_TRUE(Executions().empty());
}

TEST_F(CronSchedulerTest, ParamsHookRewritesParamsOrSkipsTheTick) {
  CronTriggerRequest r;
  r.name = "named-env";
  r.pattern = "* * * * *";
  r.workflow_params = JsonObject{{"env", "prod"}};
  CronTrigger t = AddTrigger(r);
  CronScheduler s = NewScheduler();
  s.SetParamsHook([](const Json& params) -> Result<Json> {
    Json out = params;
    const Json& env = params.as_object().at("env");
    if (env != Json("prod")) return NotFound("Environment not found [name=" + PythonStr(env) + "]");
    out.as_object()["env"] = JsonObject{{"region", "eu"}};
    return out;
  });
  clock()->Set(At("2026-01-01 10:01"));
  EXPECT_EQ(Run(s, AllPartitions()), 1u);
  Settle();
  auto state = runtime_.client().Get(ExecutionId(CronExecutionId(t.id, At("2026-01-01 10:01"))));
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_EQ(DumpJson((*state)->params.as_object().at("env")), R"({"region":"eu"})");

  s.SetParamsHook([](const Json&) -> Result<Json> { return NotFound("Environment not found"); });
  clock()->Set(At("2026-01-01 10:02"));
  EXPECT_EQ(Run(s, AllPartitions()), 0u);  // skipped
  EXPECT_EQ(FormatMistralTime(Stored("named-env")->next_execution_time), "2026-01-01 10:03:00");
  Settle();
  EXPECT_EQ(Executions().size(), 1u);
}

TEST_F(CronSchedulerTest, SeesTriggersCreatedElsewhereWithinASecond) {
  CronScheduler s = NewScheduler();
  EXPECT_EQ(Run(s, AllPartitions()), 0u);  // reads the (empty) store
  CronTriggerRequest r;
  r.first_execution_time = "2026-01-01 10:02";
  AddTrigger(r);  // "by the API in another process"
  clock()->Set(At("2026-01-01 10:02"));
  EXPECT_EQ(Run(s, AllPartitions()), 1u);  // more than a second later: re-listed
}

}  // namespace
}  // namespace bora::triggers
