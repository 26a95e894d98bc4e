// Bora on three Kafka brokers (scripts/kafka_cluster.sh: KRaft, three voters, replication factor 3,
// min.insync.replicas=2; the CTest fixture kafka_cluster starts them once) and one redis-server of
// the test's own: the topics Bora creates are replicated as configured, and kill -9 of the broker
// that leads bora.events partition 0, in the middle of a run, then its restart, loses no execution
// and runs nothing twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/ids.h"
#include "sdk/protocol/protocol.h"
#include "tests/integration/chain_checks.h"
#include "tests/integration/cluster_harness.h"
#include "tests/integration/kafka_cluster_service.h"

namespace bora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class KafkaClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto brokers = KafkaClusterBrokers();
    ASSERT_TRUE(brokers.ok()) << brokers.status().ToString();
    auto redis = PrivateServices::Start("redis");
    ASSERT_TRUE(redis.ok()) << redis.status().ToString();
    redis_ = std::move(*redis);
    services_ = {*brokers, redis_->addresses().redis};
    ASSERT_FALSE(services_.redis.empty()) << "scripts/services.sh printed no BORA_REDIS";
  }

  // Waits (at most 60 s) until every partition of `topic` has all its replicas in sync again.
  void WaitInSync(const std::string& topic) {
    auto deadline = Clock::now() + 60s;
    while (true) {
      auto info = DescribeKafkaPartitions(services_.kafka, topic);
      bool in_sync = info.ok();
      for (size_t p = 0; in_sync && p < info->replicas.size(); ++p) {
        in_sync = info->in_sync[p] == info->replicas[p];
      }
      if (in_sync) return;
      ASSERT_LT(Clock::now(), deadline) << topic << " has replicas out of sync after 60 s";
      std::this_thread::sleep_for(200ms);  // followers catching up on real brokers
    }
  }

  ServiceAddresses services_;
  std::unique_ptr<PrivateServices> redis_;
};

// Every partition of `topic` has `replicas` replicas, all in sync, and min.insync.replicas is
// `min_insync` on the topic itself (empty: not set on the topic, the broker's default applies).
void ExpectReplication(const std::string& brokers, const std::string& topic, int partitions,
                       int replicas, const std::string& min_insync) {
  auto info = DescribeKafkaTopic(brokers, topic);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_EQ(info->replicas.size(), static_cast<size_t>(partitions)) << topic;
  for (size_t p = 0; p < info->replicas.size(); ++p) {
    EXPECT_EQ(info->replicas[p], replicas) << topic << " partition " << p;
    EXPECT_EQ(info->in_sync[p], replicas) << topic << " partition " << p;
  }
  if (min_insync.empty()) {
    EXPECT_FALSE(info->min_insync_on_topic)
        << topic << " has min.insync.replicas " << info->min_insync_replicas;
  } else {
    EXPECT_TRUE(info->min_insync_on_topic)
        << topic << ": min.insync.replicas is the broker's default";
    EXPECT_EQ(info->min_insync_replicas, min_insync) << topic;
  }
}

TEST_F(KafkaClusterTest, TopicsBoraCreatesHaveReplicationFactorThreeAndMinInsyncTwo) {
  auto cluster =
      Cluster::Create("kafka3-topics", services_, 4);  // creates bora.events and the action topic
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  const std::string prefix = (*cluster)->prefix();
  ExpectReplication(services_.kafka, protocol::EventsTopic(prefix), 4, 3, "2");
  ExpectReplication(services_.kafka, protocol::ActionsTopic("default", prefix), 4, 3, "2");
}

TEST_F(KafkaClusterTest, AnExplicitReplicationFactorIsKept) {
  runtime::ClusterOptions o;
  o.kafka = services_.kafka;
  o.redis = services_.redis;
  o.prefix = "kafka3-rf2-" + NewUuid().substr(0, 8) + ".";
  o.partitions = 2;
  o.action_partitions = 1;
  o.orchestrator = false;
  o.worker = false;
  o.replication_factor = 2;
  auto node = runtime::ClusterNode::Create(o);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  // Below 3 replicas Bora sets no min.insync.replicas: 2 of 2 would stop producers when one broker
  // is down.
  ExpectReplication(services_.kafka, protocol::EventsTopic(o.prefix), 2, 2, "");
}

TEST_F(KafkaClusterTest, KillingTheLeaderOfEventsPartitionZeroMidRunLosesNothing) {
  auto cluster = Cluster::Create("kafka3-fault", services_, 4);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  Cluster& c = **cluster;
  const std::string events = protocol::EventsTopic(c.prefix());
  // 0.5 s a task on 256 slots: the 5,000 tasks take at least 9.8 s. With kPacedAction (0.02 s on 32
  // slots, 3.1 s) the run could end between the progress check (1,000 executions read one by one)
  // and the kill on a loaded machine.
  ASSERT_TRUE(c.Load(Chain("chain", "std.echo output=x delay=0.5")).ok());
  // The leader is looked up before the load, so the kill follows the progress check at once.
  auto before = DescribeKafkaPartitions(services_.kafka, events);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  const int leader = before->leaders[0];
  ASSERT_TRUE(leader >= 1 && leader <= 3) << "partition 0 of " << events << " has no leader";
  c.StartOrchestrator();
  c.StartWorker({"--concurrency", "256"});
  auto ids = c.StartMany("chain", 1000);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  size_t done_at_kill = 0;  // WaitProgress fails if the run ended before the kill
  ASSERT_NO_FATAL_FAILURE(WaitProgress(c, *ids, 0.1, &done_at_kill));
  const size_t total = ids->size() * kChainLength;
  const auto killed_at = Clock::now();
  ASSERT_TRUE(KillKafkaNode(leader).ok());
  // Revives the broker if an assertion ends the test first, so the tests after this one have three.
  struct ReviveOnExit {
    int node;
    bool revived = false;
    ~ReviveOnExit() {
      if (!revived) (void)ReviveKafkaNode(node);
    }
  } revive_on_exit{leader};
  auto since_kill = [&] { return std::chrono::duration<double>(Clock::now() - killed_at).count(); };

  // The controllers fence the killed broker (broker.session.timeout.ms, 4 s) and partition 0 gets a
  // new leader among its in-sync replicas.
  int new_leader = -1;
  auto deadline = Clock::now() + 60s;
  while (new_leader < 0 && Clock::now() < deadline) {
    auto now = DescribeKafkaPartitions(services_.kafka, events);
    if (now.ok() && now->leaders[0] >= 1 && now->leaders[0] != leader) new_leader = now->leaders[0];
    std::this_thread::sleep_for(100ms);  // leader election on real brokers
  }
  ASSERT_GT(new_leader, 0) << "partition 0 got no other leader within 60 s of the kill";
  const double failover = since_kill();
  // Two brokers are still min.insync.replicas: the run goes on without the killed one.
  const size_t done_at_failover = TasksDone(c, *ids);
  size_t done = done_at_failover;
  deadline = Clock::now() + 60s;
  while (Clock::now() < deadline && done < std::min(total, done_at_failover + total / 10)) {
    Status alive = c.CheckProcesses();
    ASSERT_TRUE(alive.ok()) << alive.ToString();
    std::this_thread::sleep_for(100ms);  // polling real processes
    done = TasksDone(c, *ids);
  }
  ASSERT_TRUE(done > done_at_failover || done == total)
      << "no task finished on two brokers in 60 s (" << done << " of " << total << " done)";
  const double outage = since_kill();
  revive_on_exit.revived = true;
  ASSERT_TRUE(ReviveKafkaNode(leader).ok());

  const size_t finished = c.WaitTerminal(*ids, 240s);
  std::printf(
      "[fault] kill -9 of broker %d, leader of %s/0, with %zu of %zu tasks done: broker %d led it "
      "%.1f s later; %zu tasks done since the kill when it was restarted %.1f s after the kill; "
      "all %zu "
      "executions finished %.1f s after the kill\n",
      leader, events.c_str(), done_at_kill, total, new_leader, failover, done - done_at_kill,
      outage, finished, since_kill());
  ASSERT_EQ(finished, ids->size());
  ExpectIntact(c, *ids);
  // The restarted broker catches up, so the tests after this one see three replicas in sync.
  WaitInSync(events);
}

}  // namespace
}  // namespace bora::testing
