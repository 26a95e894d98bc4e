// Fault tests on the real services: processes are killed with SIGKILL, stopped with SIGSTOP, and Redis and
// the Kafka broker are killed and restarted mid-run. Each test asserts that every execution reaches its
// expected final state, that no event was applied twice (each chain has exactly its tasks, each task exactly
// one action execution) and that no action result was lost (everything finishes), and prints its recovery
// time.
#include <signal.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/chain_checks.h"
#include "tests/integration/cluster_harness.h"

namespace bora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto services = ServiceAddresses::FromEnv();
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = *services;
  }
  ServiceAddresses services_;
};

// Two orchestrator processes with `loops` orchestrator loops each (--orchestrator-loops); one is killed.
void KillOneOfTwoOrchestrators(const ServiceAddresses& services, int loops) {
  auto cluster = Cluster::Create("fault-orch", services, 8);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  Cluster& c = **cluster;
  ASSERT_TRUE(c.Load(Chain("chain", kPacedAction)).ok());
  const std::vector<std::string> flags = {"--orchestrator-loops", std::to_string(loops)};
  pid_t a = c.StartOrchestrator(flags);
  c.StartOrchestrator(flags);
  c.StartWorker(kPacedWorker);
  auto ids = c.StartMany("chain", 1000);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  size_t before = 0;
  ASSERT_NO_FATAL_FAILURE(WaitProgress(c, *ids, 0.1, &before));
  auto killed_at = Clock::now();
  c.Signal(a, SIGKILL);
  size_t done = c.WaitTerminal(*ids, 180s);
  double recovery = Seconds(Clock::now() - killed_at);
  std::printf("[fault] kill -9 of 1 of 2 orchestrators (%d loop(s) each) with %zu of %zu tasks done: all %zu "
              "executions finished %.1f s later\n",
              loops, before, ids->size() * kChainLength, done, recovery);
  ASSERT_EQ(done, ids->size());
  ExpectIntact(c, *ids);
}

TEST_F(FaultTest, KillOneOfTwoOrchestratorsMidRun) { KillOneOfTwoOrchestrators(services_, 1); }

// The same with three loops per process: six members of the orchestrators' group in two processes.
TEST_F(FaultTest, KillOneOfTwoMultiLoopOrchestratorsMidRun) { KillOneOfTwoOrchestrators(services_, 3); }

TEST_F(FaultTest, KillAWorkerMidAction) {
  auto cluster = Cluster::Create("fault-worker", services_, 4);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  Cluster& c = **cluster;
  ASSERT_TRUE(c.Load(Chain("slow", "std.echo output=x delay=0.5")).ok());
  c.StartOrchestrator();
  pid_t w1 = c.StartWorker({"--concurrency", "8"});
  c.StartWorker({"--concurrency", "8"});
  auto ids = c.StartMany("slow", 40);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_NO_FATAL_FAILURE(WaitProgress(c, *ids, 0.0));
  std::this_thread::sleep_for(1500ms);  // let both workers take actions that are still running
  auto killed_at = Clock::now();
  c.Signal(w1, SIGKILL);
  size_t done = c.WaitTerminal(*ids, 180s);
  std::printf("[fault] kill -9 of a worker mid-action: all %zu executions finished %.1f s later\n", done,
              Seconds(Clock::now() - killed_at));
  ASSERT_EQ(done, ids->size());
  ExpectIntact(c, *ids);
}

TEST_F(FaultTest, ZombieOrchestratorCannotWrite) {
  auto cluster = Cluster::Create("fault-zombie", services_, 8);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  Cluster& c = **cluster;
  ASSERT_TRUE(c.Load(Chain("chain", kPacedAction)).ok());
  std::string log = "/tmp/" + c.prefix() + "zombie.log";
  pid_t zombie = c.StartOrchestrator({}, log);
  c.StartOrchestrator();
  c.StartWorker(kPacedWorker);
  auto ids = c.StartMany("chain", 600);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_NO_FATAL_FAILURE(WaitProgress(c, *ids, 0.1));
  auto stopped_at = Clock::now();
  c.Signal(zombie, SIGSTOP);
  // Its session (6 s) expires and the other orchestrator takes its partitions, bumping their epochs.
  std::this_thread::sleep_for(10s);
  c.Signal(zombie, SIGCONT);
  size_t done = c.WaitTerminal(*ids, 180s);
  std::printf("[fault] SIGSTOP of an orchestrator for 10 s, then SIGCONT: all %zu finished %.1f s after the "
              "stop\n",
              done, Seconds(Clock::now() - stopped_at));
  ASSERT_EQ(done, ids->size());
  ExpectIntact(c, *ids);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  // Either its writes were refused (fenced) or it learned of the revocation before writing; never a
  // successful stale write, which ExpectIntact would have caught as a duplicated or lost step.
  std::printf("[fault] zombie log: %s\n", text.str().find("fenced") != std::string::npos
                                              ? "a commit was refused as fenced"
                                              : "partitions were revoked before any write");
}

// Kills `service` ("redis" or "kafka", a private instance) with SIGKILL mid-run, restarts it on the same port
// with the same data after an outage, and checks that the run finishes intact.
void KillAndRestartService(const ServiceAddresses& shared, const std::string& service) {
  auto own = PrivateServices::Start(service);
  ASSERT_TRUE(own.ok()) << own.status().ToString();
  ServiceAddresses services = shared;
  if (service == "redis") services.redis = (*own)->addresses().redis;
  if (service == "kafka") services.kafka = (*own)->addresses().kafka;
  auto cluster = Cluster::Create("fault-" + service, services, 4);
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  Cluster& c = **cluster;
  ASSERT_TRUE(c.Load(Chain("chain", kPacedAction)).ok());
  c.StartOrchestrator();
  c.StartWorker(kPacedWorker);
  auto ids = c.StartMany("chain", 500);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_NO_FATAL_FAILURE(WaitProgress(c, *ids, 0.1));
  auto killed_at = Clock::now();
  ASSERT_TRUE((*own)->Kill(service).ok());
  std::this_thread::sleep_for(2s);  // an outage, not a blip
  ASSERT_TRUE((*own)->Revive(service).ok());
  size_t done = c.WaitTerminal(*ids, 240s);
  std::printf("[fault] %s kill -9 + restart after 2 s: all %zu finished %.1f s after the kill\n",
              service == "redis" ? "redis-server (AOF, appendfsync everysec)" : "Kafka broker", done,
              Seconds(Clock::now() - killed_at));
  ASSERT_EQ(done, ids->size());
  ExpectIntact(c, *ids);
}

TEST_F(FaultTest, RedisKilledAndRestartedMidRun) { KillAndRestartService(services_, "redis"); }

TEST_F(FaultTest, KafkaBrokerKilledAndRestartedMidRun) { KillAndRestartService(services_, "kafka"); }

}  // namespace
}  // namespace bora::testing
