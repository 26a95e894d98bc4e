// The StateStore contract: every implementation (memory now; Redis joins the parameter list when it lands).
#include <gtest/gtest.h>

#include <functional>

#include "orchestrator/store/memory_state_store.h"

namespace bora::store {
namespace {

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<StateStore>(int partitions)> make;
};

std::shared_ptr<engine::ExecutionState> MakeState(const std::string& id, engine::State st) {
  auto s = std::make_shared<engine::ExecutionState>();
  s->id = id;
  s->workflow_name = "wf";
  s->state = st;
  return s;
}

class StateStoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(4); }
  std::unique_ptr<StateStore> store_;
};

TEST_P(StateStoreContractTest, ClaimBumpsEpochAndFencesTheOldOwner) {
  auto first = store_->ClaimPartition(1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->next_offset, 0);
  CommitBatch batch;
  batch.next_offset = 5;
  batch.states.push_back(MakeState("e1", engine::State::kRunning));
  ASSERT_TRUE(store_->Commit(1, first->epoch, &batch).ok());

  auto second = store_->ClaimPartition(1);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->epoch, first->epoch);
  EXPECT_EQ(second->next_offset, 5);

  CommitBatch zombie;
  zombie.next_offset = 9;
  zombie.states.push_back(MakeState("e1", engine::State::kError));
  Status s = store_->Commit(1, first->epoch, &zombie);
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  auto read = store_->ReadExecution(1, "e1");
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->state, engine::State::kRunning);
  EXPECT_EQ(store_->ClaimPartition(1)->next_offset, 5);
}

TEST_P(StateStoreContractTest, OutboxIsResentUntilAcknowledged) {
  auto claim = *store_->ClaimPartition(0);
  CommitBatch batch;
  batch.next_offset = 1;
  batch.outbox.push_back({0, "bora.actions.default", "e1", "run-1"});
  batch.outbox.push_back({0, "bora.events", "e2", "start-2"});
  ASSERT_TRUE(store_->Commit(0, claim.epoch, &batch).ok());
  EXPECT_LT(batch.outbox[0].seq, batch.outbox[1].seq);

  auto reclaim = *store_->ClaimPartition(0);
  ASSERT_EQ(reclaim.outbox.size(), 2u);
  EXPECT_EQ(reclaim.outbox[0].value, "run-1");
  EXPECT_EQ(store_->AckOutbox(0, claim.epoch, batch.outbox[0].seq).code(), StatusCode::kAborted);
  ASSERT_TRUE(store_->AckOutbox(0, reclaim.epoch, batch.outbox[0].seq).ok());
  auto third = *store_->ClaimPartition(0);
  ASSERT_EQ(third.outbox.size(), 1u);
  EXPECT_EQ(third.outbox[0].topic, "bora.events");
}

TEST_P(StateStoreContractTest, TimersFireInOrderAndCanBeCancelled) {
  auto claim = *store_->ClaimPartition(2);
  CommitBatch batch;
  batch.timers_set = {{"e1", "t-late", 300}, {"e1", "t-early", 100}, {"e2", "t-mid", 200}};
  ASSERT_TRUE(store_->Commit(2, claim.epoch, &batch).ok());
  EXPECT_EQ(**store_->NextTimer(2), 100);
  auto due = *store_->DueTimers(2, 250, 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].timer_id, "t-early");
  EXPECT_EQ(due[1].timer_id, "t-mid");

  CommitBatch cancel;
  cancel.timers_cancelled = {{"e2", "t-mid", 0}};
  ASSERT_TRUE(store_->Commit(2, claim.epoch, &cancel).ok());
  ASSERT_TRUE(store_->RemoveTimer(2, claim.epoch, due[0]).ok());
  due = *store_->DueTimers(2, 1000, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].timer_id, "t-late");
  EXPECT_FALSE(store_->NextTimer(3)->has_value());
}

TEST_P(StateStoreContractTest, ReadsAndListsExecutions) {
  auto claim = *store_->ClaimPartition(3);
  EXPECT_EQ(*store_->LoadExecution(3, "nope"), nullptr);
  EXPECT_FALSE(store_->ReadExecution(3, "nope")->has_value());
  CommitBatch batch;
  batch.states = {MakeState("a", engine::State::kSuccess), MakeState("b", engine::State::kError)};
  ASSERT_TRUE(store_->Commit(3, claim.epoch, &batch).ok());
  auto loaded = *store_->LoadExecution(3, "b");
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->state, engine::State::kError);
  auto ids = *store_->ListExecutionIds(3);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(store_->ClaimPartition(99).ok());
}

INSTANTIATE_TEST_SUITE_P(AllStores, StateStoreContractTest,
                         ::testing::Values(StoreFactory{"memory",
                                                        [](int n) {
                                                          return std::unique_ptr<StateStore>(
                                                              std::make_unique<MemoryStateStore>(n));
                                                        }}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace bora::store
