// The StateStore contract: every implementation (MemoryStateStore, RedisStateStore against the real
// redis-server that scripts/services.sh starts, its address from $BORA_REDIS, and RocksDbStateStore
// on a temporary directory). Each Redis test uses its own key prefix, so the server is shared; each
// disk test its own directory, removed after it.
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <tuple>

#include "common/disk/disk_db.h"
#include "common/ids.h"
#include "orchestrator/store/memory_state_store.h"
#include "orchestrator/store/redis_state_store.h"
#include "orchestrator/store/rocksdb_state_store.h"
#include "tests/contract/state_store_test_support.h"
#ifdef BORA_REDIS_CLUSTER_DIR
#include "tests/redis_cluster/redis_cluster_support.h"
#endif

namespace bora::store {
namespace {

struct StoreFactory {
  std::string name;
  std::function<std::unique_ptr<StateStore>(int partitions)> make;
  std::function<void()> cleanup = nullptr;  // after the test's store is gone
};

// The directories of the disk stores the contract tests made (removed by RemoveDiskDirs after each
// test).
std::vector<std::unique_ptr<TempDir>>& DiskDirs() {
  static std::vector<std::unique_ptr<TempDir>> dirs;
  return dirs;
}
[[maybe_unused]] std::unique_ptr<StateStore> MakeDisk(int partitions) {
  DiskDirs().push_back(std::make_unique<TempDir>());
  RocksDbStoreOptions options;
  options.path = DiskDirs().back()->Sub("state");
  options.partitions = partitions;
  auto store = RocksDbStateStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::unique_ptr<StateStore>(std::move(*store)) : nullptr;
}
[[maybe_unused]] void RemoveDiskDirs() { DiskDirs().clear(); }

class StateStoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    store_ = GetParam().make(4);
    ASSERT_NE(store_, nullptr) << "no store: for Redis run scripts/services.sh start and export BORA_REDIS";
  }
  void TearDown() override {
    store_.reset();
    if (GetParam().cleanup) GetParam().cleanup();
  }
  std::unique_ptr<StateStore> store_;
};

TEST_P(StateStoreContractTest, ClaimBumpsEpochAndFencesTheOldOwner) {
  auto first = store_->ClaimPartition(PartitionId(1));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->next_offset, 0);
  CommitBatch batch;
  batch.next_offset = 5;
  batch.states.push_back(MakeState("e1", engine::State::kRunning));
  ASSERT_TRUE(store_->Commit(PartitionId(1), first->epoch, &batch).ok());

  auto second = store_->ClaimPartition(PartitionId(1));
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->epoch, first->epoch);
  EXPECT_EQ(second->next_offset, 5);

  CommitBatch zombie;
  zombie.next_offset = 9;
  zombie.states.push_back(MakeState("e1", engine::State::kError));
  Status s = store_->Commit(PartitionId(1), first->epoch, &zombie);
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  auto read = store_->ReadExecution(PartitionId(1), ExecutionId("e1"));
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->state, engine::State::kRunning);
  EXPECT_EQ(store_->ClaimPartition(PartitionId(1))->next_offset, 5);
}

TEST_P(StateStoreContractTest, OutboxIsResentUntilAcknowledged) {
  auto claim = *store_->ClaimPartition(PartitionId(0));
  CommitBatch batch;
  batch.next_offset = 1;
  batch.outbox.push_back({0, "bora.actions.default", "e1", "run-1"});
  batch.outbox.push_back({0, "bora.events", "e2", "start-2"});
  ASSERT_TRUE(store_->Commit(PartitionId(0), claim.epoch, &batch).ok());
  EXPECT_LT(batch.outbox[0].seq, batch.outbox[1].seq);

  auto reclaim = *store_->ClaimPartition(PartitionId(0));
  ASSERT_EQ(reclaim.outbox.size(), 2u);
  EXPECT_EQ(reclaim.outbox[0].value, "run-1");
  EXPECT_EQ(store_->AckOutbox(PartitionId(0), claim.epoch, batch.outbox[0].seq).code(),
            StatusCode::kAborted);
  ASSERT_TRUE(store_->AckOutbox(PartitionId(0), reclaim.epoch, batch.outbox[0].seq).ok());
  auto third = *store_->ClaimPartition(PartitionId(0));
  ASSERT_EQ(third.outbox.size(), 1u);
  EXPECT_EQ(third.outbox[0].topic, "bora.events");
}

TEST_P(StateStoreContractTest, AckInTheMiddleOfABatchKeepsOnlyTheRest) {
  auto claim = *store_->ClaimPartition(PartitionId(1));
  CommitBatch first, second;
  for (const char* v : {"a", "b", "c"}) first.outbox.push_back({0, "bora.events", "k", v});
  second.outbox.push_back({0, "bora.events", "k", "d"});
  ASSERT_TRUE(store_->Commit(PartitionId(1), claim.epoch, &first).ok());
  ASSERT_TRUE(store_->Commit(PartitionId(1), claim.epoch, &second).ok());
  EXPECT_EQ(first.outbox[1].seq, first.outbox[0].seq + 1);
  EXPECT_EQ(first.outbox[2].seq, first.outbox[1].seq + 1);
  EXPECT_GT(second.outbox[0].seq, first.outbox[2].seq);
  ASSERT_TRUE(store_->AckOutbox(PartitionId(1), claim.epoch, first.outbox[1].seq).ok());  // a and b
  auto again = *store_->ClaimPartition(PartitionId(1));
  ASSERT_EQ(again.outbox.size(), 2u);
  EXPECT_EQ(again.outbox[0].value, "c");
  EXPECT_EQ(again.outbox[0].seq, first.outbox[2].seq);
  EXPECT_EQ(again.outbox[1].value, "d");
  ASSERT_TRUE(store_->AckOutbox(PartitionId(1), again.epoch, second.outbox[0].seq).ok());
  EXPECT_TRUE(store_->ClaimPartition(PartitionId(1))->outbox.empty());
}

TEST_P(StateStoreContractTest, TimersFireInOrderAndCanBeCancelled) {
  auto claim = *store_->ClaimPartition(PartitionId(2));
  CommitBatch batch;
  batch.timers_set = {{"e1", "t-late", 300}, {"e1", "t-early", 100}, {"e2", "t-mid", 200}};
  ASSERT_TRUE(store_->Commit(PartitionId(2), claim.epoch, &batch).ok());
  EXPECT_EQ(**store_->NextTimer(PartitionId(2)), 100);
  auto due = *store_->DueTimers(PartitionId(2), 250, 10);
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].timer_id, "t-early");
  EXPECT_EQ(due[1].timer_id, "t-mid");

  CommitBatch cancel;
  cancel.timers_cancelled = {{"e2", "t-mid", 0}};
  ASSERT_TRUE(store_->Commit(PartitionId(2), claim.epoch, &cancel).ok());
  ASSERT_TRUE(store_->RemoveTimer(PartitionId(2), claim.epoch, due[0]).ok());
  due = *store_->DueTimers(PartitionId(2), 1000, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].timer_id, "t-late");
  EXPECT_FALSE(store_->NextTimer(PartitionId(3))->has_value());
}

TEST_P(StateStoreContractTest, ReadsAndListsExecutions) {
  auto claim = *store_->ClaimPartition(PartitionId(3));
  EXPECT_EQ(*store_->LoadExecution(PartitionId(3), ExecutionId("nope")), nullptr);
  EXPECT_FALSE(store_->ReadExecution(PartitionId(3), ExecutionId("nope"))->has_value());
  CommitBatch batch;
  batch.states = {MakeState("a", engine::State::kSuccess), MakeState("b", engine::State::kError)};
  ASSERT_TRUE(store_->Commit(PartitionId(3), claim.epoch, &batch).ok());
  auto loaded = *store_->LoadExecution(PartitionId(3), ExecutionId("b"));
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->state, engine::State::kError);
  auto ids = *store_->ListExecutionIds(PartitionId(3));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<ExecutionId>{ExecutionId("a"), ExecutionId("b")}));
  EXPECT_FALSE(store_->ClaimPartition(PartitionId(99)).ok());
}

TEST_P(StateStoreContractTest, CommitManyCommitsEachPartitionOnItsOwn) {
  // Partition 1 was taken over by another owner; partitions 0 and 2 are still ours.
  auto p0 = *store_->ClaimPartition(PartitionId(0));
  auto p1 = *store_->ClaimPartition(PartitionId(1));
  auto p2 = *store_->ClaimPartition(PartitionId(2));
  ASSERT_TRUE(store_->ClaimPartition(PartitionId(1)).ok());
  CommitBatch b0, b1, b2;
  b0.next_offset = 3;
  b0.states.push_back(MakeState("m0", engine::State::kRunning));
  b0.outbox.push_back({0, "bora.actions.default", "m0", "run-m0"});
  b1.next_offset = 4;
  b1.states.push_back(MakeState("m1", engine::State::kRunning));
  b2.next_offset = 5;
  b2.states.push_back(MakeState("m2", engine::State::kSuccess));
  b2.outbox.push_back({0, "bora.events", "m2", "a"});
  b2.outbox.push_back({0, "bora.events", "m2", "b"});
  b2.timers_set.push_back({"m2", "t", 50});
  std::vector<Status> out = store_->CommitMany({{PartitionId(0), p0.epoch, &b0},
                                                {PartitionId(1), p1.epoch, &b1},
                                                {PartitionId(2), p2.epoch, &b2}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0].ok()) << out[0].ToString();
  EXPECT_EQ(out[1].code(), StatusCode::kAborted) << out[1].ToString();
  EXPECT_TRUE(out[2].ok()) << out[2].ToString();
  EXPECT_GT(b0.outbox[0].seq, 0u);
  EXPECT_LT(b2.outbox[0].seq, b2.outbox[1].seq);
  EXPECT_TRUE(store_->ReadExecution(PartitionId(0), ExecutionId("m0"))->has_value());
  EXPECT_FALSE(store_->ReadExecution(PartitionId(1), ExecutionId("m1"))->has_value())
      << "a fenced commit wrote its state";
  EXPECT_EQ((*store_->ReadExecution(PartitionId(2), ExecutionId("m2")))->state,
            engine::State::kSuccess);
  EXPECT_EQ(**store_->NextTimer(PartitionId(2)), 50);
  EXPECT_EQ(store_->ClaimPartition(PartitionId(0))->next_offset, 3);
  EXPECT_EQ(store_->ClaimPartition(PartitionId(1))->next_offset, 0);
  auto reclaim2 = *store_->ClaimPartition(PartitionId(2));
  EXPECT_EQ(reclaim2.next_offset, 5);
  EXPECT_EQ(reclaim2.outbox.size(), 2u);
  // A partition the store does not have fails alone.
  CommitBatch b9;
  auto bad = store_->CommitMany({{PartitionId(99), Epoch(1), &b9}});
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_FALSE(bad[0].ok());
  EXPECT_TRUE(store_->CommitMany({}).empty());
}

TEST_P(StateStoreContractTest, LoadExecutionsReadsManyAtOnce) {
  auto p0 = *store_->ClaimPartition(PartitionId(0));
  auto p3 = *store_->ClaimPartition(PartitionId(3));
  CommitBatch b0, b3;
  b0.states.push_back(MakeState("x0", engine::State::kRunning));
  b3.states.push_back(MakeState("x3", engine::State::kError));
  ASSERT_TRUE(store_->Commit(PartitionId(0), p0.epoch, &b0).ok());
  ASSERT_TRUE(store_->Commit(PartitionId(3), p3.epoch, &b3).ok());
  auto got = store_->LoadExecutions({{PartitionId(3), ExecutionId("x3")},
                                     {PartitionId(0), ExecutionId("absent")},
                                     {PartitionId(0), ExecutionId("x0")},
                                     {PartitionId(42), ExecutionId("x0")}});
  ASSERT_EQ(got.size(), 4u);
  ASSERT_TRUE(got[0].ok());
  ASSERT_NE(*got[0], nullptr);
  EXPECT_EQ((*got[0])->id, "x3");
  EXPECT_EQ((*got[0])->state, engine::State::kError);
  ASSERT_TRUE(got[1].ok());
  EXPECT_EQ(*got[1], nullptr);
  ASSERT_TRUE(got[2].ok());
  ASSERT_NE(*got[2], nullptr);
  EXPECT_EQ((*got[2])->state, engine::State::kRunning);
  EXPECT_FALSE(got[3].ok()) << "partition 42 does not exist";
  EXPECT_TRUE(store_->LoadExecutions({}).empty());
}

std::unique_ptr<StateStore> MakeRedisAt(const std::string& url, int partitions) {
  if (url.empty()) return nullptr;
  RedisStoreOptions options;
  options.url = url;
  options.key_prefix = "test-" + NewUuid().substr(0, 8) + ":";
  options.partitions = partitions;
  auto store = RedisStateStore::Connect(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::unique_ptr<StateStore>(std::move(*store)) : nullptr;
}
[[maybe_unused]] std::unique_ptr<StateStore> MakeRedis(int partitions) {
  const char* url = std::getenv("BORA_REDIS");
  return MakeRedisAt(url == nullptr ? "" : url, partitions);
}

TEST_P(StateStoreContractTest, StatesRoundTripWithTasks) {
  auto claim = *store_->ClaimPartition(PartitionId(0));
  auto s = MakeState("rt", engine::State::kRunning);
  s->input = *ParseJson(R"({"n": 1, "l": [1.5, "x"]})");
  engine::TaskExecution t;
  t.id = "task-1";
  t.name = "t1";
  t.state = engine::State::kSuccess;
  t.published = *ParseJson(R"({"out": {"k": true}})");
  s->tasks.push_back(t);
  s->RebuildIndex();
  CommitBatch batch;
  batch.states.push_back(s);
  ASSERT_TRUE(store_->Commit(PartitionId(0), claim.epoch, &batch).ok());
  auto back = *store_->ReadExecution(PartitionId(0), ExecutionId("rt"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(DumpJson(back->ToJson()), DumpJson(s->ToJson()));
  ASSERT_NE(back->FindTaskById("task-1"), nullptr);
}

// Commits a state step by step as the engine changes it (some tasks change, tasks are added, only the head
// changes) and reads it back whole after each step. RedisStateStore writes only the tasks that changed.
TEST_P(StateStoreContractTest, StatesChangedStepByStepReadBackWhole) {
  auto claim = *store_->ClaimPartition(PartitionId(2));
  auto s = MakeState("steps", engine::State::kRunning);
  for (int i = 0; i < 3; ++i) s->tasks.push_back(MakeTask(i, engine::State::kRunning));
  std::vector<std::function<void()>> steps = {
      [] {},
      [&] { Changed(s->tasks[1]).state = engine::State::kSuccess; },
      [&] {
        Changed(s->tasks[2]).published = *ParseJson(R"({"v": [1, 2]})");
        for (int i = 3; i < 6; ++i) s->tasks.push_back(MakeTask(i, engine::State::kRunning));
        for (int a = 0; a < 3; ++a) {
          engine::ActionExecution ax;
          ax.id = "act-" + std::to_string(a);
          ax.name = "std.noop";
          s->tasks[4].actions.push_back(ax);
        }
      },
      [&] { Changed(*s, 4, 1).state = engine::State::kSuccess; },  // one action of a task
      [&] {  // a with-items-like task: many actions (written in chunks), then a few change
        for (int a = 3; a < 250; ++a) {
          engine::ActionExecution ax;
          ax.id = "act-" + std::to_string(a);
          ax.name = "std.noop";
          ax.index = a;
          Changed(s->tasks[4]).actions.push_back(ax);
        }
      },
      [&] {
        Changed(*s, 4, 7).output = *ParseJson(R"({"result": 7})");
        Changed(*s, 4, 249).state = engine::State::kError;
      },
      [&] { s->global_context = *ParseJson(R"({"only": "the head"})"); },
      [&] {  // many tasks at once (the commit script writes them in chunks)
        for (int i = 6; i < 260; ++i) s->tasks.push_back(MakeTask(i, engine::State::kWaiting));
        Changed(s->tasks[0]).state_info = "changed";
      },
      [&] {
        for (auto& t : s->tasks) Changed(t).state = engine::State::kSuccess;
        s->state = engine::State::kSuccess;
      },
  };
  for (size_t step = 0; step < steps.size(); ++step) {
    steps[step]();
    s->RebuildIndex();
    CommitBatch batch;
    batch.next_offset = static_cast<int64_t>(step + 1);
    batch.states.push_back(s);
    ASSERT_TRUE(store_->Commit(PartitionId(2), claim.epoch, &batch).ok()) << "step " << step;
    // ReadExecution (unlike LoadExecution) leaves the store's memory of what it wrote alone: the next
    // step writes only what changed.
    auto back = store_->ReadExecution(PartitionId(2), ExecutionId("steps"));
    ASSERT_TRUE(back.ok() && back->has_value()) << "step " << step;
    ASSERT_EQ((*back)->ToJsonText(), s->ToJsonText()) << "step " << step;
  }
  auto loaded = store_->LoadExecution(PartitionId(2), ExecutionId("steps"));
  ASSERT_TRUE(loaded.ok() && *loaded != nullptr);
  EXPECT_EQ((*loaded)->ToJsonText(), s->ToJsonText());
}

// Listings: every execution's head (no tasks) per partition, and many full states at once.
TEST_P(StateStoreContractTest, ReadsHeadsAndManyExecutions) {
  auto claim = *store_->ClaimPartition(PartitionId(3));
  CommitBatch batch;
  std::vector<ExecutionKey> keys;
  for (int i = 0; i < 620; ++i) {  // more than one read chunk
    auto s = MakeState("h" + std::to_string(i), i % 2 ? engine::State::kSuccess : engine::State::kRunning);
    s->input = *ParseJson(R"({"i": )" + std::to_string(i) + "}");
    for (int t = 0; t < i % 3; ++t) s->tasks.push_back(MakeTask(t, engine::State::kSuccess));
    s->RebuildIndex();
    batch.states.push_back(s);
    keys.push_back({PartitionId(3), ExecutionId(s->id)});
  }
  keys.push_back({PartitionId(3), ExecutionId("unknown")});
  ASSERT_TRUE(store_->Commit(PartitionId(3), claim.epoch, &batch).ok());
  auto heads = store_->ReadExecutionHeads(PartitionId(3));
  ASSERT_TRUE(heads.ok()) << heads.status().ToString();
  ASSERT_EQ(heads->size(), 620u);
  std::map<std::string, const engine::ExecutionState*> by_id;
  for (const auto& h : *heads) by_id[h.id] = &h;
  ASSERT_EQ(by_id.size(), 620u);
  const engine::ExecutionState& h5 = *by_id.at("h5");
  EXPECT_EQ(h5.state, engine::State::kSuccess);
  EXPECT_EQ(DumpJson(h5.input), R"({"i":5})");
  EXPECT_EQ(h5.workflow_name, "wf");
  EXPECT_TRUE(h5.tasks.empty());
  EXPECT_TRUE(store_->ReadExecutionHeads(PartitionId(1))->empty());
  auto one = store_->ReadExecutionHead(PartitionId(3), ExecutionId("h5"));
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->state, engine::State::kSuccess);
  EXPECT_EQ(DumpJson((*one)->input), R"({"i":5})");
  EXPECT_TRUE((*one)->tasks.empty());
  auto missing = store_->ReadExecutionHead(PartitionId(3), ExecutionId("unknown"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());

  auto full = store_->ReadExecutions(keys);
  ASSERT_EQ(full.size(), keys.size());
  for (size_t i = 0; i < 620; ++i) {
    ASSERT_TRUE(full[i].ok() && full[i]->has_value()) << i;
    EXPECT_EQ((*full[i])->ToJsonText(), batch.states[i]->ToJsonText()) << i;
  }
  ASSERT_TRUE(full.back().ok());
  EXPECT_FALSE(full.back()->has_value());
}

// Lookups by task or action execution id find the execution (and its partition), also for tasks and
// actions added by later commits; an unknown id finds nothing.
TEST_P(StateStoreContractTest, FindsTheExecutionOfATaskOrActionId) {
  auto c1 = *store_->ClaimPartition(PartitionId(1));
  auto c2 = *store_->ClaimPartition(PartitionId(2));
  auto a = MakeState("exec-a", engine::State::kRunning);
  a->tasks.push_back(MakeTask(0, engine::State::kRunning));
  a->tasks[0].id = "a-task-0";
  a->tasks[0].actions.push_back(MakeAction("a-action-0"));
  a->RebuildIndex();
  auto b = MakeState("exec-b", engine::State::kRunning);
  b->tasks.push_back(MakeTask(0, engine::State::kRunning));
  b->tasks[0].id = "b-task-0";
  b->RebuildIndex();
  auto commit = [&](int p, Epoch epoch, std::shared_ptr<engine::ExecutionState> st) {
    CommitBatch batch;
    batch.states.push_back(std::move(st));
    return store_->Commit(PartitionId(p), epoch, &batch);
  };
  ASSERT_TRUE(commit(1, c1.epoch, a).ok());
  ASSERT_TRUE(commit(2, c2.epoch, b).ok());
  // Later commits: a retry adds an action to a's task, b gets a second task with an action.
  a->tasks[0].actions.push_back(MakeAction("a-action-1"));
  a->RebuildIndex();
  ASSERT_TRUE(commit(1, c1.epoch, a).ok());
  b->tasks.push_back(MakeTask(1, engine::State::kRunning));
  b->tasks[1].id = "b-task-1";
  b->tasks[1].actions.push_back(MakeAction("b-action-1"));
  b->RebuildIndex();
  ASSERT_TRUE(commit(2, c2.epoch, b).ok());
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {"a-task-0", 1, "exec-a"},   {"a-action-0", 1, "exec-a"}, {"a-action-1", 1, "exec-a"},
      {"b-task-0", 2, "exec-b"},   {"b-task-1", 2, "exec-b"},   {"b-action-1", 2, "exec-b"},
  };
  for (const auto& [id, partition, exec] : cases) {
    auto found = store_->FindExecutionOf(id);
    ASSERT_TRUE(found.ok()) << id << ": " << found.status().ToString();
    ASSERT_TRUE(found->has_value()) << id;
    EXPECT_EQ((*found)->partition, PartitionId(partition)) << id;
    EXPECT_EQ((*found)->execution_id, ExecutionId(exec)) << id;
  }
  auto none = store_->FindExecutionOf("no-such-id");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

// A commit that deletes an execution (a purge) removes its state, its tasks and its ids from the index,
// fenced like any commit; the others stay; a later commit may create an execution of the same id anew.
TEST_P(StateStoreContractTest, DeletedExecutionsAreGoneWithTheirIds) {
  auto c1 = *store_->ClaimPartition(PartitionId(1));
  auto make = [](const std::string& id) {
    auto st = MakeState(id, engine::State::kSuccess);
    for (int t = 0; t < 2; ++t) {
      st->tasks.push_back(MakeTask(t, engine::State::kSuccess));
      st->tasks[t].id = id + "-task-" + std::to_string(t);
      st->tasks[t].actions.push_back(MakeAction(id + "-action-" + std::to_string(t)));
    }
    st->RebuildIndex();
    return st;
  };
  auto gone = make("gone");
  auto kept = make("kept");
  {
    CommitBatch batch;
    batch.next_offset = 1;
    batch.states = {gone, kept};
    batch.timers_set.push_back({"gone", "tm", 100});
    ASSERT_TRUE(store_->Commit(PartitionId(1), c1.epoch, &batch).ok());
  }
  CommitBatch purge;
  purge.next_offset = 2;
  purge.deleted.push_back({"gone", {"gone-task-0", "gone-action-0", "gone-task-1", "gone-action-1"}});
  purge.timers_cancelled.push_back({"gone", "tm", 0});
  // A stale owner cannot delete.
  auto c1b = *store_->ClaimPartition(PartitionId(1));
  EXPECT_EQ(store_->Commit(PartitionId(1), c1.epoch, &purge).code(), StatusCode::kAborted);
  ASSERT_TRUE(store_->ReadExecution(PartitionId(1), ExecutionId("gone"))->has_value());
  ASSERT_TRUE(store_->Commit(PartitionId(1), c1b.epoch, &purge).ok());

  EXPECT_FALSE(store_->ReadExecution(PartitionId(1), ExecutionId("gone"))->has_value());
  EXPECT_FALSE(store_->ReadExecutionHead(PartitionId(1), ExecutionId("gone"))->has_value());
  EXPECT_EQ(*store_->LoadExecution(PartitionId(1), ExecutionId("gone")), nullptr);
  EXPECT_EQ(*store_->ListExecutionIds(PartitionId(1)),
            std::vector<ExecutionId>{ExecutionId("kept")});
  ASSERT_EQ(store_->ReadExecutionHeads(PartitionId(1))->size(), 1u);
  for (const char* id : {"gone-task-0", "gone-action-0", "gone-task-1", "gone-action-1"}) {
    EXPECT_FALSE(store_->FindExecutionOf(id)->has_value()) << id;
  }
  EXPECT_TRUE(store_->FindExecutionOf("kept-action-1")->has_value());
  EXPECT_FALSE(store_->NextTimer(PartitionId(1))->has_value());
  auto kept_back = store_->ReadExecution(PartitionId(1), ExecutionId("kept"));
  ASSERT_TRUE(kept_back.ok() && kept_back->has_value());
  EXPECT_EQ((*kept_back)->tasks.size(), 2u);

  // Deleted and created again in one commit: the new one stays, with only its own tasks.
  auto again = MakeState("kept", engine::State::kRunning);
  again->tasks.push_back(MakeTask(0, engine::State::kRunning));
  again->tasks[0].id = "kept-new-task";
  again->RebuildIndex();
  CommitBatch renew;
  renew.next_offset = 3;
  renew.deleted.push_back({"kept", {"kept-task-0", "kept-action-0", "kept-task-1", "kept-action-1"}});
  renew.states.push_back(again);
  ASSERT_TRUE(store_->Commit(PartitionId(1), c1b.epoch, &renew).ok());
  auto renewed = store_->ReadExecution(PartitionId(1), ExecutionId("kept"));
  ASSERT_TRUE(renewed.ok() && renewed->has_value());
  EXPECT_EQ((*renewed)->state, engine::State::kRunning);
  ASSERT_EQ((*renewed)->tasks.size(), 1u);
  EXPECT_EQ((*renewed)->tasks[0].id, "kept-new-task");
  EXPECT_EQ(store_->ClaimPartition(PartitionId(1))->next_offset, 3);
}

// Listing pages: every partition's executions in (created second, id) order, page after page from a cursor,
// ties within a second included once; deleted executions are not listed.
TEST_P(StateStoreContractTest, PagesThroughExecutionsInListingOrder) {
  std::map<int, Epoch> epochs;
  for (int p = 0; p < 4; ++p) epochs[p] = store_->ClaimPartition(PartitionId(p))->epoch;
  std::vector<std::pair<int64_t, std::string>> expected;
  auto put = [&](const std::string& id, TimestampUs created) {
    auto st = MakeState(id, engine::State::kSuccess);
    st->created_at = created;
    CommitBatch batch;
    batch.states.push_back(st);
    const int p = static_cast<int>(std::hash<std::string>{}(id) % 4);
    ASSERT_TRUE(store_->Commit(PartitionId(p), epochs[p], &batch).ok());
    expected.emplace_back(ListSecond(created), id);
  };
  const TimestampUs base = 1'700'000'000'000'000;
  for (int i = 0; i < 12; ++i) put("same-second-" + std::to_string(i), base + 5'000'000 + i * 1000);
  for (int i = 0; i < 9; ++i) put("later-" + std::to_string(i), base + (10 + i) * 1'000'000);
  put("first", base);
  // Written again: listed once.
  {
    auto again = MakeState("later-3", engine::State::kSuccess);
    again->created_at = base + 13 * 1'000'000;
    CommitBatch batch;
    batch.states.push_back(again);
    const int p = static_cast<int>(std::hash<std::string>{}("later-3") % 4);
    ASSERT_TRUE(store_->Commit(PartitionId(p), epochs[p], &batch).ok());
  }
  // Deleted: not listed.
  {
    CommitBatch batch;
    batch.deleted.push_back({"later-5", {}});
    const int p = static_cast<int>(std::hash<std::string>{}("later-5") % 4);
    ASSERT_TRUE(store_->Commit(PartitionId(p), epochs[p], &batch).ok());
    expected.erase(std::find(expected.begin(), expected.end(), std::make_pair(ListSecond(base + 15'000'000), std::string("later-5"))));
  }
  std::sort(expected.begin(), expected.end());
  for (size_t limit : {1, 3, 5, 100}) {
    std::vector<std::string> listed;
    std::optional<ListCursor> after;
    for (int page = 0; page < 100; ++page) {
      auto heads = store_->ReadExecutionHeadsPage(after, limit);
      ASSERT_TRUE(heads.ok()) << heads.status().ToString();
      ASSERT_LE(heads->size(), limit);
      for (const auto& h : *heads) {
        EXPECT_TRUE(h.tasks.empty());
        listed.push_back(h.id);
      }
      if (heads->size() < limit) break;
      after = ListCursor{ListSecond(heads->back().created_at), heads->back().id};
    }
    std::vector<std::string> want;
    for (const auto& [sec, id] : expected) want.push_back(id);
    EXPECT_EQ(listed, want) << "limit " << limit;
  }
}

#ifdef BORA_REDIS_CLUSTER_DIR
// The same suite on a Redis Cluster (tests/redis_cluster/CMakeLists.txt builds this file a second
// time).
INSTANTIATE_TEST_SUITE_P(
    Cluster, StateStoreContractTest,
    ::testing::Values(StoreFactory{
        "redis_cluster", [](int n) { return MakeRedisAt(bora::testing::RedisClusterUrl(), n); }}),
    [](const auto& info) { return info.param.name; });
#else
INSTANTIATE_TEST_SUITE_P(AllStores, StateStoreContractTest,
                         ::testing::Values(StoreFactory{"memory",
                                                        [](int n) {
                                                          return std::unique_ptr<StateStore>(
                                                              std::make_unique<MemoryStateStore>(n));
                                                        }},
                                           StoreFactory{"redis", MakeRedis},
                                           StoreFactory{"rocksdb", MakeDisk, RemoveDiskDirs}),
                         [](const auto& info) { return info.param.name; });
#endif

}  // namespace
}  // namespace bora::store
