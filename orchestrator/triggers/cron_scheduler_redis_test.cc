// CronScheduler in distributed mode: triggers in RedisResourceStore on the real redis-server from
// scripts/services.sh ($BORA_REDIS; these tests fail without it). Each scheduler has its own Redis
// connection, standing for one process; they race on the same ticks and the Redis CAS (a Lua
// script) lets one of them advance each tick. Executions go to one deterministic EmbeddedRuntime,
// whose engine refuses a duplicate start of the same execution id.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <set>
#include <thread>

#include "common/ids.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/store/redis_resource_store.h"
#include "orchestrator/triggers/cron.h"
#include "orchestrator/triggers/cron_scheduler.h"

namespace bora::triggers {
namespace {

constexpr char kWorkflows[] = R"(
version: '2.0'
wf:
  tasks:
    t:
      action: std.noop
)";

TimestampUs At(const char* minute_time) { return ParseMinuteTime(minute_time).value_or(0); }

class CronSchedulerRedisTest : public ::testing::Test {
 protected:
  static runtime::EmbeddedOptions Options() {
    runtime::EmbeddedOptions o;
    o.deterministic = true;
    o.partitions = 4;
    return o;
  }
  CronSchedulerRedisTest() : runtime_(Options()) {}

  void SetUp() override {
    const char* url = std::getenv("BORA_REDIS");
    ASSERT_TRUE(url != nullptr && *url != 0)
        << "BORA_REDIS is not set: run eval \"$(scripts/services.sh start)\"";
    ASSERT_TRUE(runtime_.LoadYaml(kWorkflows, "wf.yaml").ok());
    runtime_.manual_clock()->Set(At("2026-01-01 10:00"));
    const std::string prefix = "test-cron-" + NewUuid().substr(0, 8) + ":";
    for (int i = 0; i < 3; ++i) {
      auto store = store::RedisResourceStore::Connect(url, prefix);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      stores_.push_back(std::move(*store));
      schedulers_.push_back(std::make_unique<CronScheduler>(
          stores_.back().get(), &runtime_.client(), runtime_.clock(), runtime_.partitions()));
    }
  }

  void TearDown() override {
    if (!stores_.empty()) {
      auto all = stores_[0]->List(kCronTriggerKind);
      if (all.ok()) {
        for (const auto& [key, record] : *all) (void)stores_[0]->Delete(kCronTriggerKind, key);
      }
    }
  }

  // Stores a trigger through Mistral's rules via the first connection.
  CronTrigger AddTrigger(const std::string& name, const std::string& pattern,
                         std::optional<int64_t> remaining = std::nullopt) {
    CronTriggerRequest r;
    r.name = name;
    r.workflow_name = "wf";
    r.pattern = pattern;
    r.remaining_executions = remaining;
    auto t = NewCronTrigger(
        r, runtime_.clock()->NowUs(),
        [](const std::string& n, const std::string& ns, const Json&) -> Result<ResolvedWorkflow> {
          return ResolvedWorkflow{"wf-id", n, ns};
        });
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    auto created = stores_[0]->Create(kCronTriggerKind, t->name, t->ToRecord());
    EXPECT_TRUE(created.ok() && *created);
    return *t;
  }

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

  // All schedulers run RunDue at once (each on its own thread); returns the sum of their counts.
  size_t RaceAll() {
    std::atomic<size_t> fired{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (auto& s : schedulers_) {
      threads.emplace_back([&, sp = s.get()] {
        auto n = sp->RunDue({PartitionId(0), PartitionId(1), PartitionId(2), PartitionId(3)});
        if (n.ok()) {
          fired += *n;
        } else {
          ++errors;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    return fired.load();
  }

  runtime::EmbeddedRuntime runtime_;
  std::vector<std::unique_ptr<store::RedisResourceStore>> stores_;
  std::vector<std::unique_ptr<CronScheduler>> schedulers_;
};

TEST_F(CronSchedulerRedisTest, ThreeProcessesFireEachTickOnce) {
  CronTrigger every_minute = AddTrigger("every-minute", "* * * * *");
  CronTrigger limited = AddTrigger("limited", "*/2 * * * *", 2);
  std::set<std::string> expected;
  for (int minute = 1; minute <= 6; ++minute) {
    const TimestampUs tick = At("2026-01-01 10:00") + minute * 60'000'000LL;
    runtime_.manual_clock()->Set(tick);
    size_t want = 1;
    expected.insert(CronExecutionId(every_minute.id, tick));
    if (minute == 2 || minute == 4) {
      expected.insert(CronExecutionId(limited.id, tick));
      ++want;
    }
    EXPECT_EQ(RaceAll(), want) << "minute " << minute;
    ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  }
  EXPECT_EQ(Executions(), expected);
  auto gone = stores_[1]->Get(kCronTriggerKind, "limited");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());  // deleted after its second run
  auto stored = stores_[2]->Get(kCronTriggerKind, "every-minute");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ(FormatMistralTime(CronTrigger::FromRecord(**stored)->next_execution_time),
            "2026-01-01 10:07:00");
}

TEST_F(CronSchedulerRedisTest, EachProcessFiresOnlyItsPartitions) {
  CronTrigger t = AddTrigger("owned", "* * * * *");
  const PartitionId partition = schedulers_[0]->PartitionOf(t.id);
  const PartitionId other((partition.value() + 1) % runtime_.partitions());
  runtime_.manual_clock()->Set(At("2026-01-01 10:01"));
  auto not_owner = schedulers_[1]->RunDue({other});
  ASSERT_TRUE(not_owner.ok()) << not_owner.status().ToString();
  EXPECT_EQ(*not_owner, 0u);
  auto owner = schedulers_[2]->RunDue({partition});
  ASSERT_TRUE(owner.ok()) << owner.status().ToString();
  EXPECT_EQ(*owner, 1u);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  EXPECT_EQ(Executions(), std::set<std::string>{CronExecutionId(t.id, At("2026-01-01 10:01"))});
}

}  // namespace
}  // namespace bora::triggers
