// ExecutionRetention: which executions Mistral's expiration policy purges (unit tests over stored
// heads, the PurgeExecution events read back from the bus), and end to end in the embedded runtime
// with a manual clock: the purged executions and their sub-workflow executions are gone from the
// store, the others stay.
#include "orchestrator/runtime/retention.h"

#include <gtest/gtest.h>

#include <set>

#include "common/bus/memory_bus.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/store/memory_state_store.h"
#include "sdk/protocol/protocol.h"

namespace bora::runtime {
namespace {

using namespace std::chrono_literals;

constexpr int kPartitions = 2;
constexpr TimestampUs kMinute = 60'000'000;

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(bus_.CreateTopic(protocol::EventsTopic(), kPartitions).ok());
    engine_ = std::make_unique<engine::Engine>(&definitions_, &registry_);
    client_ = std::make_unique<ExecutionClient>(&bus_, &store_, engine_.get(), &definitions_,
                                                kPartitions);
    for (int p = 0; p < kPartitions; ++p) epochs_[p] = store_.ClaimPartition(PartitionId(p))->epoch;
    clock_.Set(1000 * kMinute);
  }

  // Stores an execution last updated `minutes_ago`.
  void Put(const std::string& id, engine::State state, int minutes_ago,
           const std::string& parent = "") {
    auto st = std::make_shared<engine::ExecutionState>();
    st->id = id;
    st->workflow_name = "wf";
    st->state = state;
    st->parent_execution_id = parent;
    st->root_execution_id = parent;
    st->updated_at = clock_.NowUs() - minutes_ago * kMinute;
    store::CommitBatch batch;
    batch.states.push_back(st);
    const int p = PartitionForKey(id, kPartitions);
    ASSERT_TRUE(store_.Commit(PartitionId(p), epochs_[p], &batch).ok());
  }

  // The executions ExecutionRetention asked to purge since the last call.
  std::set<std::string> Purged() {
    if (reader_ == nullptr)
      reader_ = std::move(bus_.Subscribe({"reader", {protocol::EventsTopic()}, nullptr}).value());
    std::set<std::string> out;
    for (;;) {
      auto msgs = reader_->Poll(1000, 0ms);
      EXPECT_TRUE(msgs.ok());
      if (!msgs.ok() || msgs->empty()) return out;
      for (const auto& m : *msgs) {
        auto event = protocol::DecodeEvent(m.value);
        EXPECT_TRUE(event.ok());
        const auto* purge = std::get_if<engine::PurgeExecution>(&*event);
        EXPECT_NE(purge, nullptr) << engine::EventName(*event);
        if (purge != nullptr) out.insert(purge->execution_id);
      }
    }
  }

  MemoryBus bus_;
  store::MemoryStateStore store_{kPartitions};
  engine::MemoryDefinitions definitions_;
  workers::ActionRegistry registry_;
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<ExecutionClient> client_;
  ManualClock clock_;
  std::map<int, Epoch> epochs_;
  std::unique_ptr<Consumer> reader_;
};

TEST_F(RetentionTest, OffUnlessAnIntervalAndALimitAreSet) {
  RetentionPolicy p;
  EXPECT_FALSE(p.enabled());
  p.older_than = 60s;
  EXPECT_FALSE(p.enabled());
  p.evaluation_interval = 60s;
  EXPECT_TRUE(p.enabled());
  p.older_than = 0s;
  p.max_finished_executions = 3;
  EXPECT_TRUE(p.enabled());
  EXPECT_TRUE(p.Validate().ok());
  p.ignored_states = {engine::State::kRunning};
  EXPECT_EQ(p.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.Validate().message().find("RUNNING is not a completed state"), std::string::npos);

  Put("old", engine::State::kSuccess, 500);
  ExecutionRetention off(RetentionPolicy{}, &store_, client_.get(), &clock_, kPartitions);
  EXPECT_EQ(*off.RunOwned({PartitionId(0), PartitionId(1)}), 0u);
  EXPECT_TRUE(Purged().empty());
}

TEST_F(RetentionTest, PurgesCompletedTopLevelExecutionsOlderThanTheLimit) {
  Put("old-success", engine::State::kSuccess, 31);
  Put("old-error", engine::State::kError, 45);
  Put("old-cancelled", engine::State::kCancelled, 60);
  Put("old-running", engine::State::kRunning, 90);
  Put("old-paused", engine::State::kPaused, 90);
  Put("young", engine::State::kSuccess, 20);
  Put("old-child", engine::State::kSuccess, 40,
      "old-success");                                       // goes with its root, not on its own
  Put("orphan", engine::State::kSuccess, 40, "gone-root");  // its root is gone
  Put("young-orphan", engine::State::kSuccess, 10, "gone-root");
  RetentionPolicy policy;
  policy.evaluation_interval = 60s;
  policy.older_than = 30min;
  policy.ignored_states = {engine::State::kCancelled};
  ExecutionRetention retention(policy, &store_, client_.get(), &clock_, kPartitions);
  auto n = retention.RunOwned({PartitionId(0), PartitionId(1)});
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(Purged(), (std::set<std::string>{"old-success", "old-error", "orphan"}));
  // Not due again before the interval has passed.
  EXPECT_EQ(*retention.RunOwned({PartitionId(0), PartitionId(1)}), 0u);
  clock_.AdvanceUs(59'000'000);
  EXPECT_EQ(*retention.RunOwned({PartitionId(0), PartitionId(1)}), 0u);
  clock_.AdvanceUs(1'000'000);
  EXPECT_EQ(*retention.RunOwned({PartitionId(0), PartitionId(1)}), 3u)
      << "the events were not applied: asked again";
  Purged();
  // Only the partitions a loop owns.
  const int p_old = PartitionForKey("old-success", kPartitions);
  clock_.AdvanceUs(60'000'000);
  EXPECT_EQ(*retention.RunOwned({PartitionId(p_old)}),
            1 + static_cast<size_t>(PartitionForKey("old-error", kPartitions) == p_old) +
                static_cast<size_t>(PartitionForKey("orphan", kPartitions) == p_old));
  EXPECT_TRUE(Purged().count("old-success"));
  EXPECT_EQ(retention.stats().evaluations, 3u);
}

TEST_F(RetentionTest, KeepsTheNewestMaxFinishedExecutionsAcrossPartitions) {
  for (int i = 1; i <= 6; ++i) Put("done-" + std::to_string(i), engine::State::kSuccess, i);
  Put("failed-7", engine::State::kError, 7);
  Put("running-8", engine::State::kRunning, 8);
  Put("child-of-1", engine::State::kSuccess, 9, "done-1");  // not counted: not top-level
  RetentionPolicy policy;
  policy.evaluation_interval = 60s;
  policy.max_finished_executions = 3;
  policy.ignored_states = {engine::State::kError};
  {
    ExecutionRetention retention(policy, &store_, client_.get(), &clock_, kPartitions);
    ASSERT_TRUE(retention.RunOwned({PartitionId(0), PartitionId(1)}).ok());
    EXPECT_EQ(Purged(), (std::set<std::string>{"done-4", "done-5", "done-6"}));
  }
  // batch_size bounds one evaluation; the oldest go first.
  policy.batch_size = 2;
  ExecutionRetention bounded(policy, &store_, client_.get(), &clock_, kPartitions);
  auto n = bounded.RunOwned({PartitionId(0), PartitionId(1)});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(Purged(), (std::set<std::string>{"done-5", "done-6"}));
}

// End to end: the embedded runtime with the policy on purges the old execution with its
// sub-workflow execution (through the engine's cascade); the young one and the running one stay.
TEST(RetentionEmbeddedTest, PurgedExecutionsAndTheirSubWorkflowsLeaveTheStore) {
  EmbeddedOptions options;
  options.deterministic = true;
  options.partitions = 3;
  options.retention.evaluation_interval = 60s;
  options.retention.older_than = 30min;
  EmbeddedRuntime rt(options);
  ASSERT_TRUE(rt.LoadYaml(R"(
version: '2.0'
parent:
  tasks:
    t1:
      workflow: child
child:
  tasks:
    c1:
      action: std.noop
waits:
  tasks:
    w:
      action: std.async_noop
)")
                  .ok());
  ASSERT_TRUE(rt.Start().ok());
  auto start = [&](const std::string& wf, const std::string& id) {
    StartRequest r;
    r.workflow_name = wf;
    r.execution_id = ExecutionId(id);
    ASSERT_TRUE(rt.client().Start(r).ok());
  };
  start("parent", "old");
  start("waits", "running");
  ASSERT_TRUE(rt.RunUntilIdle().ok());
  rt.manual_clock()->AdvanceUs(20 * kMinute);
  start("parent", "young");
  ASSERT_TRUE(rt.RunUntilIdle().ok());
  auto read = [&](const std::string& id) {
    return *rt.store().ReadExecution(PartitionId(PartitionForKey(id, options.partitions)),
                                     ExecutionId(id));
  };
  ASSERT_TRUE(read("old").has_value());
  ASSERT_EQ(read("old")->state, engine::State::kSuccess);
  const std::string old_child = read("old")->tasks[0].actions[0].id;
  const std::string young_child = read("young")->tasks[0].actions[0].id;
  ASSERT_TRUE(read(old_child).has_value());

  rt.manual_clock()->AdvanceUs(15 * kMinute);  // old: 35 min, young: 15 min
  ASSERT_TRUE(rt.RunUntilIdle().ok());
  EXPECT_FALSE(read("old").has_value());
  EXPECT_FALSE(read(old_child).has_value()) << "the sub-workflow execution stays behind";
  EXPECT_TRUE(read("young").has_value());
  EXPECT_TRUE(read(young_child).has_value());
  EXPECT_TRUE(read("running").has_value());
  EXPECT_EQ(rt.orchestrator_stats().events_rejected, 0u);

  rt.manual_clock()->AdvanceUs(20 * kMinute);  // young: 35 min
  ASSERT_TRUE(rt.RunUntilIdle().ok());
  EXPECT_FALSE(read("young").has_value());
  EXPECT_FALSE(read(young_child).has_value());
  EXPECT_TRUE(read("running").has_value());
  std::vector<std::string> left;
  for (int p = 0; p < options.partitions; ++p) {
    auto ids = rt.store().ListExecutionIds(PartitionId(p));
    ASSERT_TRUE(ids.ok());
    for (const auto& id : *ids) left.push_back(id.value());
  }
  EXPECT_EQ(left, std::vector<std::string>{"running"});
}

}  // namespace
}  // namespace bora::runtime
