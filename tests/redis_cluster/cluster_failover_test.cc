// kill -9 of a Redis Cluster master while executions run: a `bora orchestrator` and a `bora worker`
// process on the cluster of scripts/redis_cluster.sh (BORA_REDIS=redis+cluster://...) and the Kafka
// broker of scripts/services.sh ($BORA_KAFKA). The master holding one of the partitions is killed
// mid-run; its replica is promoted after the node timeout, the router follows it, and every
// execution must end SUCCESS with exactly its tasks, each with one action execution (nothing
// applied twice, nothing lost).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "common/redis/redis_client.h"
#include "common/redis/redis_cluster.h"
#include "tests/integration/cluster_harness.h"
#include "tests/redis_cluster/redis_cluster_support.h"

namespace bora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kSteps = 4;

// A chain of kSteps steps of 20 ms each (on 32 worker threads): the run lasts seconds, so the kill
// lands in it.
std::string PacedChain() {
  std::string y = "version: '2.0'\nchain:\n  tasks:\n";
  for (int i = 1; i <= kSteps; ++i) {
    y += "    s" + std::to_string(i) + ":\n      action: std.echo output=x delay=0.02\n";
    if (i < kSteps) y += "      on-success: s" + std::to_string(i + 1) + "\n";
  }
  return y;
}

// How many of `ids` have finished, and whether each finished one is intact.
struct Tally {
  size_t finished = 0;
  size_t broken = 0;
  std::string first_broken;
};
Tally Count(Cluster& c, const std::vector<std::string>& ids) {
  Tally t;
  for (const auto& id : ids) {
    auto got = c.client().Get(ExecutionId(id));
    if (!got.ok() || !got->has_value() || !engine::IsCompleted((**got).state)) continue;
    ++t.finished;
    const auto& s = **got;
    bool intact = s.state == engine::State::kSuccess && s.tasks.size() == kSteps;
    for (const auto& task : s.tasks) intact = intact && task.actions.size() == 1;
    if (!intact && t.broken++ == 0) t.first_broken = DumpJson(s.ToJson()).substr(0, 1500);
  }
  return t;
}

TEST(RedisClusterFailoverTest, KillingAMasterMidRunLosesNoExecution) {
  const char* kafka = std::getenv("BORA_KAFKA");
  ASSERT_TRUE(kafka != nullptr && *kafka)
      << "needs the Kafka broker: eval \"$(scripts/services.sh start)\"";
  std::optional<ServiceAddresses> services = ServiceAddresses{kafka, RedisClusterUrl()};
  ASSERT_FALSE(services->redis.empty()) << "scripts/redis_cluster.sh start failed";
  ASSERT_TRUE(RunRedisClusterScript("wait-ok").has_value());
  auto cluster = Cluster::Create("rc-failover", *services, 4);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  Cluster& c = **cluster;
  ASSERT_TRUE(c.Load(PacedChain()).ok());
  c.StartOrchestrator();
  c.StartWorker({"--concurrency", "32"});
  auto ids = c.StartMany("chain", 400);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();

  // The master of partition 0's keys.
  auto router = RedisClient::Connect(services->redis);
  ASSERT_TRUE(router.ok()) << router.status().ToString();
  const std::string master =
      (*router)->cluster()->MasterOf(RedisKeySlot("{" + c.prefix() + "p0}:meta"));
  const std::string port = master.substr(master.rfind(':') + 1);

  // Kill it once some executions finished and most have not.
  const auto deadline = Clock::now() + 60s;
  Tally before;
  while ((before = Count(c, *ids)).finished < ids->size() / 10) {
    ASSERT_LT(Clock::now(), deadline) << "no progress";
    Status alive = c.CheckProcesses();
    ASSERT_TRUE(alive.ok()) << alive.ToString();
    std::this_thread::sleep_for(
        10ms);  // a poll interval (the fault tests' own), not a wait for an event
  }
  ASSERT_LT(before.finished, ids->size()) << "the run ended before the kill: it would test nothing";
  const auto killed_at = Clock::now();
  ASSERT_TRUE(RunRedisClusterScript("kill " + port).has_value());
  struct Revive {  // the node comes back as a replica of the promoted one, for the tests after this
                   // one
    std::string port;
    ~Revive() {
      EXPECT_TRUE(RunRedisClusterScript("revive " + port).has_value());
      EXPECT_TRUE(RunRedisClusterScript("wait-ok").has_value());
    }
  } revive{port};

  const size_t done = c.WaitTerminal(*ids, 180s);
  const Tally after = Count(c, *ids);
  std::printf(
      "[fault] kill -9 of Redis Cluster master %s with %zu of %zu executions finished: all %zu "
      "finished "
      "%.1f s later\n",
      master.c_str(), before.finished, ids->size(), done,
      std::chrono::duration<double>(Clock::now() - killed_at).count());
  ASSERT_EQ(done, ids->size());
  EXPECT_EQ(after.broken, 0u) << "first: " << after.first_broken;
  Status alive = c.CheckProcesses();
  EXPECT_TRUE(alive.ok()) << alive.ToString();
}

}  // namespace
}  // namespace bora::testing
