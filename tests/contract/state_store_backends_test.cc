// The state stores' own behaviour beyond the contract (state_store_contract_test.cc):
// RedisStateStore against the real redis-server that scripts/services.sh starts (its address from
// $BORA_REDIS; each test its own key prefix) and RocksDbStateStore on temporary directories (kill
// -9, reopening, formats).
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

namespace bora::store {
namespace {

std::unique_ptr<RedisStateStore> ConnectRedis(const std::string& prefix) {
  const char* url = std::getenv("BORA_REDIS");
  if (url == nullptr || *url == 0) return nullptr;
  RedisStoreOptions options;
  options.url = url;
  options.key_prefix = prefix;
  options.partitions = 1;
  auto store = RedisStateStore::Connect(options);
  return store.ok() ? std::move(*store) : nullptr;
}

// A store that verifies revisions and change lists (BORA_VERIFY_REVISIONS=1 when it connects).
std::unique_ptr<RedisStateStore> ConnectVerifying(const std::string& prefix) {
  if (setenv("BORA_VERIFY_REVISIONS", "1", 1) != 0) return nullptr;
  auto store = ConnectRedis(prefix);
  unsetenv("BORA_VERIFY_REVISIONS");
  return store;
}

// Redis only: a store that lost its partition and claims it again must not trust what it wrote
// before: the other owner may have changed a task back and forth.
TEST(RedisStateStoreTest, AnotherOwnersWritesAreNotMasked) {
  const std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
  auto a = ConnectRedis(prefix);
  auto b = ConnectRedis(prefix);
  ASSERT_TRUE(a && b) << "run scripts/services.sh start and export BORA_REDIS";
  auto s = MakeState("moved", engine::State::kRunning);
  s->tasks.push_back(MakeTask(0, engine::State::kRunning));
  s->tasks[0].state_info = "by a";
  auto commit = [](RedisStateStore& store, Epoch epoch,
                   std::shared_ptr<engine::ExecutionState> st) {
    CommitBatch batch;
    batch.states.push_back(std::move(st));
    return store.Commit(PartitionId(0), epoch, &batch);
  };
  auto claim_a = a->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim_a.ok());
  ASSERT_TRUE(commit(*a, claim_a->epoch, s).ok());
  // b takes the partition and changes the task.
  auto claim_b = b->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim_b.ok());
  auto at_b = *b->LoadExecution(PartitionId(0), ExecutionId("moved"));
  ASSERT_NE(at_b, nullptr);
  at_b->tasks[0].state_info = "by b";
  ASSERT_TRUE(commit(*b, claim_b->epoch, at_b).ok());
  // a is fenced (checked on another execution: a failed commit also forgets what it wrote, which
  // would hide whether the claim below does).
  EXPECT_EQ(commit(*a, claim_a->epoch, MakeState("other", engine::State::kRunning)).code(),
            StatusCode::kAborted);
  // a takes it back and sets the text it wrote first: only a claim that forgets what a wrote before
  // writes it again.
  auto again = a->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(commit(*a, again->epoch, s).ok());
  auto back = *b->ReadExecution(PartitionId(0), ExecutionId("moved"));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->tasks[0].state_info.value_or(""), "by a");
}

// Redis only: a task or an action whose revision did not move is taken for unchanged and not even
// serialised (the engine gives every change a new revision); with BORA_VERIFY_REVISIONS=1 (set in
// the integration tests) such a change is caught and the commit refused, naming the task.
TEST(RedisStateStoreTest, UnchangedRevisionsAreSkippedAndVerifiedOnRequest) {
  const std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
  auto plain = ConnectRedis(prefix);
  ASSERT_NE(plain, nullptr) << "run scripts/services.sh start and export BORA_REDIS";
  auto claim = plain->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok());
  auto s = MakeState("revs", engine::State::kRunning);
  for (int i = 0; i < 2; ++i) s->tasks.push_back(MakeTask(i, engine::State::kRunning));
  s->tasks[1].actions.push_back(MakeAction("revs-action"));
  s->RebuildIndex();
  auto commit = [&](RedisStateStore& store, Epoch epoch) {
    CommitBatch batch;
    batch.states.push_back(s);
    return store.Commit(PartitionId(0), epoch, &batch);
  };
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  // Changed behind the revisions' back: not written.
  s->tasks[0].state_info = "no revision";
  s->tasks[1].actions[0].state_info = "no revision either";
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  auto back = plain->ReadExecution(PartitionId(0), ExecutionId("revs"));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_FALSE((*back)->tasks[0].state_info.has_value());
  EXPECT_FALSE((*back)->tasks[1].actions[0].state_info.has_value());
  // With new revisions: written.
  Changed(s->tasks[0]);
  Changed(*s, 1, 0);
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  back = plain->ReadExecution(PartitionId(0), ExecutionId("revs"));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->ToJsonText(), s->ToJsonText());

  auto verifying = ConnectVerifying(prefix);
  ASSERT_NE(verifying, nullptr);
  auto claim2 = verifying->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim2.ok());
  ASSERT_TRUE(commit(*verifying, claim2->epoch).ok());
  s->tasks[0].state_info = "sneaky";
  Status refused = commit(*verifying, claim2->epoch);
  EXPECT_EQ(refused.code(), StatusCode::kInternal) << refused.ToString();
  EXPECT_NE(refused.message().find("changed without a new revision"), std::string::npos)
      << refused.ToString();
  Changed(s->tasks[0]);
  ASSERT_TRUE(commit(*verifying, claim2->epoch).ok());
  s->tasks[1].actions[0].output = *ParseJson(R"({"result": "sneaky"})");
  refused = commit(*verifying, claim2->epoch);
  EXPECT_NE(refused.message().find("action revs-action changed without a new revision"),
            std::string::npos)
      << refused.ToString();
}

// Redis only: once the store knows a task, it looks only at the actions the engine listed as
// changed (TaskExecution::changed_actions, emptied by the runtime after each commit is sent) and at
// new ones; an action changed without being listed is not written, and a verifying store refuses
// the commit.
TEST(RedisStateStoreTest, OnlyListedAndNewActionsAreLookedAt) {
  const std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
  auto plain = ConnectRedis(prefix);
  ASSERT_NE(plain, nullptr) << "run scripts/services.sh start and export BORA_REDIS";
  auto claim = plain->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok());
  auto s = MakeState("listed", engine::State::kRunning);
  s->tasks.push_back(MakeTask(0, engine::State::kRunning));
  for (int a = 0; a < 50; ++a)
    s->tasks[0].actions.push_back(MakeAction("listed-" + std::to_string(a)));
  s->RebuildIndex();
  auto commit = [&](RedisStateStore& store, Epoch epoch) {
    CommitBatch batch;
    batch.states.push_back(s);
    Status st = store.Commit(PartitionId(0), epoch, &batch);
    s->ClearChangeLists();  // as the orchestrator does once a commit is sent
    return st;
  };
  auto read = [&]() {
    auto back = plain->ReadExecution(PartitionId(0), ExecutionId("listed"));
    EXPECT_TRUE(back.ok() && back->has_value());
    return back.ok() && back->has_value() ? **back : engine::ExecutionState();
  };
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  Changed(*s, 0, 5).state = engine::State::kSuccess;
  Changed(*s, 0, 5).output = *ParseJson(R"({"result": 5})");  // listed twice: written once
  s->tasks[0].actions.push_back(MakeAction("listed-50"));     // new: written without a listing
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  EXPECT_EQ(read().ToJsonText(), s->ToJsonText());
  // A new revision the engine did not list (a bug): not looked at, so not written.
  s->tasks[0].actions[7].revision = engine::NextRevision();
  s->tasks[0].actions[7].state_info = "unlisted";
  Changed(s->tasks[0]);
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  EXPECT_FALSE(read().tasks[0].actions[7].state_info.has_value());
  // All of them marked (a retry, a rerun): every action is looked at again.
  for (auto& a : s->tasks[0].actions) a.revision = engine::NextRevision();
  s->ListAllActionsChanged(0);
  ASSERT_TRUE(commit(*plain, claim->epoch).ok());
  EXPECT_EQ(read().ToJsonText(), s->ToJsonText());

  auto verifying = ConnectVerifying(prefix);
  ASSERT_NE(verifying, nullptr);
  auto claim2 = verifying->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim2.ok());
  ASSERT_TRUE(commit(*verifying, claim2->epoch).ok());
  Changed(*s, 0, 3).state_info = "listed";
  ASSERT_TRUE(commit(*verifying, claim2->epoch).ok());
  s->tasks[0].actions[9].revision = engine::NextRevision();
  s->tasks[0].actions[9].state_info = "unlisted";
  Status refused = commit(*verifying, claim2->epoch);
  EXPECT_EQ(refused.code(), StatusCode::kInternal) << refused.ToString();
  EXPECT_NE(refused.message().find("action listed-9 changed without being listed as changed"),
            std::string::npos)
      << refused.ToString();
}

// Redis only: a with-items task's items are a field of their own ("<task>.items"), written when
// they are set (their own revision), not with every change of the task; its not-yet-launched items
// are written as a range. A head whose items are missing is refused.
TEST(RedisStateStoreTest, WithItemsItemsAreAFieldOfTheirOwn) {
  const std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
  auto store = ConnectRedis(prefix);
  ASSERT_NE(store, nullptr) << "run scripts/services.sh start and export BORA_REDIS";
  auto raw = RedisClient::Connect(std::getenv("BORA_REDIS"));
  ASSERT_TRUE(raw.ok());
  auto claim = store->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok());
  auto s = MakeState("fan", engine::State::kRunning);
  s->tasks.push_back(MakeTask(0, engine::State::kRunning));
  engine::WithItemsState& w = s->tasks[0].with_items;
  w.enabled = true;
  JsonArray values;
  for (int i = 0; i < 1000; ++i) values.push_back(i);
  w.items = JsonObject{{"i", std::move(values)}};
  w.items_revision = engine::NextRevision();
  w.count = 1000;
  w.concurrency = 10;
  for (int i = 0; i < 1000; ++i) w.pending.push_back(i);
  w.pending_pos = 10;
  w.running = 10;
  for (int a = 0; a < 10; ++a)
    s->tasks[0].actions.push_back(MakeAction("fan-action-" + std::to_string(a)));
  s->RebuildIndex();
  auto commit = [&] {
    CommitBatch batch;
    batch.states.push_back(s);
    return store->Commit(PartitionId(0), claim->epoch, &batch);
  };
  ASSERT_TRUE(commit().ok());
  const std::string tasks_key = "{" + prefix + "p0}:tasks:fan";
  auto head = (*raw)->Command({"HGET", tasks_key, "0"});
  ASSERT_TRUE(head.ok());
  EXPECT_EQ((*head)->Str().find("\"items\":"), std::string::npos) << (*head)->Str();
  EXPECT_NE((*head)->Str().find("\"pending_range\":[10,1000]"), std::string::npos)
      << (*head)->Str();
  auto items = (*raw)->Command({"HGET", tasks_key, "0.items"});
  ASSERT_TRUE(items.ok());
  EXPECT_EQ((*items)->Str().substr(0, 12), "{\"i\":[0,1,2,");
  auto back = store->ReadExecution(PartitionId(0), ExecutionId("fan"));
  ASSERT_TRUE(back.ok() && back->has_value()) << back.status().ToString();
  EXPECT_EQ((*back)->ToJsonText(), s->ToJsonText());

  // The task changes, its items do not: the items field is not written again (a marker text stays).
  std::string same_items = (*items)->Str();
  same_items.insert(1, " ");  // the same JSON, written differently
  ASSERT_TRUE((*raw)->Command({"HSET", tasks_key, "0.items", same_items}).ok());
  Changed(*s, 0, 3).state = engine::State::kSuccess;
  w.pending_pos = 11;
  ASSERT_TRUE(commit().ok());
  items = (*raw)->Command({"HGET", tasks_key, "0.items"});
  ASSERT_TRUE(items.ok());
  EXPECT_EQ((*items)->Str(), same_items) << "unchanged items were written again";
  back = store->ReadExecution(PartitionId(0), ExecutionId("fan"));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->ToJsonText(), s->ToJsonText());

  // New items (a new revision) are written.
  w.items.get_object()["i"].get_array()[0] = 42;
  w.items_revision = engine::NextRevision();
  Changed(s->tasks[0]);
  ASSERT_TRUE(commit().ok());
  back = store->ReadExecution(PartitionId(0), ExecutionId("fan"));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->ToJsonText(), s->ToJsonText());

  ASSERT_TRUE((*raw)->Command({"HDEL", tasks_key, "0.items"}).ok());
  auto missing = store->ReadExecution(PartitionId(0), ExecutionId("fan"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("items are missing"), std::string::npos)
      << missing.status().ToString();
}

// Redis only: a state stored whole (before states were split into a head and tasks) is read, and
// its next commit writes every task, the next ones only the tasks that changed; a head whose tasks
// are missing is refused with an error naming the task.
TEST(RedisStateStoreTest, ReadsStatesStoredWholeAndRefusesMissingTasks) {
  const std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
  auto store = ConnectRedis(prefix);
  ASSERT_TRUE(store) << "run scripts/services.sh start and export BORA_REDIS";
  auto raw = RedisClient::Connect(std::getenv("BORA_REDIS"));
  ASSERT_TRUE(raw.ok());
  const std::string states = "{" + prefix + "p0}:states";
  auto s = MakeState("whole", engine::State::kRunning);
  for (int i = 0; i < 3; ++i) s->tasks.push_back(MakeTask(i, engine::State::kSuccess));
  s->RebuildIndex();
  ASSERT_TRUE((*raw)->Command({"HSET", states, "whole", s->ToJsonText()}).ok());
  auto claim = store->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok());
  auto loaded = store->LoadExecution(PartitionId(0), ExecutionId("whole"));
  ASSERT_TRUE(loaded.ok() && *loaded != nullptr) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->ToJsonText(), s->ToJsonText());
  (*loaded)->description = "written split";
  CommitBatch batch;
  batch.states.push_back(*loaded);
  ASSERT_TRUE(store->Commit(PartitionId(0), claim->epoch, &batch).ok());
  auto back = store->ReadExecution(PartitionId(0), ExecutionId("whole"));
  ASSERT_TRUE(back.ok() && back->has_value());
  EXPECT_EQ((*back)->ToJsonText(), (*loaded)->ToJsonText());
  EXPECT_EQ((*back)->tasks.size(), 3u);

  // Only the tasks that changed are written: a task removed behind the store's back stays missing.
  ASSERT_TRUE((*raw)->Command({"HDEL", "{" + prefix + "p0}:tasks:whole", "1"}).ok());
  Changed((*loaded)->tasks[2]).actions.push_back(engine::ActionExecution{});
  (*loaded)->tasks[2].actions.back().id = "act";
  (*loaded)->tasks[2].actions.back().name = "std.noop";
  (*loaded)->tasks[2].state_info = "changed";
  CommitBatch next;
  next.states.push_back(*loaded);
  ASSERT_TRUE(store->Commit(PartitionId(0), claim->epoch, &next).ok());
  auto broken = store->ReadExecution(PartitionId(0), ExecutionId("whole"));
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("task 1 is missing"), std::string::npos)
      << broken.status().ToString();
  // So does an action execution.
  ASSERT_TRUE(
      (*raw)
          ->Command(
              {"HSET", "{" + prefix + "p0}:tasks:whole", "1",
               (*raw)->Command({"HGET", "{" + prefix + "p0}:tasks:whole", "0"}).value()->Str()})
          .ok());
  ASSERT_TRUE((*raw)->Command({"HDEL", "{" + prefix + "p0}:tasks:whole", "2.0"}).ok());
  auto no_action = store->ReadExecution(PartitionId(0), ExecutionId("whole"));
  ASSERT_FALSE(no_action.ok());
  EXPECT_NE(no_action.status().message().find("task 2 action 0 is missing"), std::string::npos)
      << no_action.status().ToString();
}

// Redis only: outbox entries stored one per field (before batches were stored whole) are still
// re-sent by a claim and dropped by an acknowledgement.
TEST(RedisStateStoreTest, ReadsOutboxEntriesStoredOneByOne) {
  const char* url = std::getenv("BORA_REDIS");
  ASSERT_TRUE(url != nullptr && *url != 0) << "run scripts/services.sh start and export BORA_REDIS";
  RedisStoreOptions options;
  options.url = url;
  options.key_prefix = "test-" + NewUuid().substr(0, 8) + ":";
  options.partitions = 1;
  auto store = RedisStateStore::Connect(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto raw = RedisClient::Connect(url);
  ASSERT_TRUE(raw.ok());
  const std::string outbox = "{" + options.key_prefix + "p0}:outbox";
  const std::string meta = "{" + options.key_prefix + "p0}:meta";
  ASSERT_TRUE((*raw)
                  ->Command({"HSET", outbox, "1", R"(["bora.events","k","old-1"])", "2",
                             R"(["bora.events","k","old-2"])"})
                  .ok());
  ASSERT_TRUE((*raw)->Command({"HSET", meta, "next_seq", "2"}).ok());
  auto claim = (*store)->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok()) << claim.status().ToString();
  ASSERT_EQ(claim->outbox.size(), 2u);
  EXPECT_EQ(claim->outbox[0].seq, 1u);
  EXPECT_EQ(claim->outbox[1].value, "old-2");
  CommitBatch batch;
  batch.outbox.push_back({0, "bora.events", "k", "new"});
  ASSERT_TRUE((*store)->Commit(PartitionId(0), claim->epoch, &batch).ok());
  EXPECT_EQ(batch.outbox[0].seq, 3u);
  ASSERT_TRUE((*store)->AckOutbox(PartitionId(0), claim->epoch, 2).ok());
  auto again = (*store)->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->outbox.size(), 1u);
  EXPECT_EQ(again->outbox[0].value, "new");
}

// RocksDB only: what a store committed is all there when the directory is opened again (a restart),
// under either fsync policy: states with their tasks, the next offset, the epoch, the
// unacknowledged outbox, the timers and the indexes.
TEST(RocksDbStateStoreTest, ReopeningGivesBackEverythingCommitted) {
  for (bool sync : {true, false}) {
    SCOPED_TRACE(sync ? "sync" : "no sync");
    TempDir dir;
    RocksDbStoreOptions options;
    options.path = dir.Sub("state");
    options.partitions = 2;
    options.sync = sync;
    auto s = MakeState("exec-r", engine::State::kRunning);
    s->created_at = 5'000'000;
    s->input = *ParseJson(R"({"n": 1})");
    s->tasks.push_back(MakeTask(0, engine::State::kSuccess));
    s->tasks.push_back(MakeTask(1, engine::State::kRunning));
    s->tasks[1].actions.push_back(MakeAction("action-r"));
    s->RebuildIndex();
    Epoch epoch;
    std::vector<OutboxEntry> sent;
    {
      auto store = RocksDbStateStore::Open(options);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      epoch = (*store)->ClaimPartition(PartitionId(1))->epoch;
      CommitBatch batch;
      batch.next_offset = 7;
      batch.states.push_back(s);
      batch.outbox = {{0, "bora.actions.default", "exec-r", "run"},
                      {0, "bora.events", "exec-r", "e1"},
                      {0, "bora.events", "exec-r", "e2"}};
      batch.timers_set = {{"exec-r", "wait", 300}, {"exec-r", "timeout", 100}};
      ASSERT_TRUE((*store)->Commit(PartitionId(1), epoch, &batch).ok());
      ASSERT_TRUE((*store)->AckOutbox(PartitionId(1), epoch, batch.outbox[0].seq).ok());
      sent = batch.outbox;
    }
    auto store = RocksDbStateStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto back = (*store)->ReadExecution(PartitionId(1), ExecutionId("exec-r"));
    ASSERT_TRUE(back.ok() && back->has_value()) << back.status().ToString();
    EXPECT_EQ(DumpJson((*back)->ToJson()), DumpJson(s->ToJson()));
    auto head = (*store)->ReadExecutionHead(PartitionId(1), ExecutionId("exec-r"));
    ASSERT_TRUE(head.ok() && head->has_value());
    EXPECT_TRUE((*head)->tasks.empty());
    EXPECT_EQ((*head)->input, s->input);
    auto found = (*store)->FindExecutionOf("action-r");
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->partition, PartitionId(1));
    EXPECT_EQ((*found)->execution_id, ExecutionId("exec-r"));
    EXPECT_EQ(*(*store)->ListExecutionIds(PartitionId(1)),
              std::vector<ExecutionId>{ExecutionId("exec-r")});
    EXPECT_TRUE((*store)->ListExecutionIds(PartitionId(0))->empty());
    auto page = (*store)->ReadExecutionHeadsPage(std::nullopt, 10);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].id, "exec-r");
    EXPECT_EQ(**(*store)->NextTimer(PartitionId(1)), 100);
    auto due = (*store)->DueTimers(PartitionId(1), 1000, 10);
    ASSERT_TRUE(due.ok());
    ASSERT_EQ(due->size(), 2u);
    EXPECT_EQ((*due)[0].timer_id, "timeout");
    EXPECT_EQ((*due)[1].timer_id, "wait");
    EXPECT_EQ((*due)[1].fire_at, 300);
    auto claim = (*store)->ClaimPartition(PartitionId(1));
    ASSERT_TRUE(claim.ok());
    EXPECT_EQ(claim->epoch, Epoch(epoch.value() + 1));
    EXPECT_EQ(claim->next_offset, 7);
    ASSERT_EQ(claim->outbox.size(), 2u);
    EXPECT_EQ(claim->outbox[0].seq, sent[1].seq);
    EXPECT_EQ(claim->outbox[0].value, "e1");
    EXPECT_EQ(claim->outbox[1].topic, "bora.events");
    EXPECT_EQ(claim->outbox[1].key, "exec-r");
    EXPECT_EQ(claim->outbox[1].value, "e2");
    // The old epoch stays fenced across the restart, and sequence numbers go on from where they
    // were.
    CommitBatch zombie;
    EXPECT_EQ((*store)->Commit(PartitionId(1), epoch, &zombie).code(), StatusCode::kAborted);
    CommitBatch more;
    more.outbox = {{0, "bora.events", "exec-r", "e3"}};
    ASSERT_TRUE((*store)->Commit(PartitionId(1), claim->epoch, &more).ok());
    EXPECT_GT(more.outbox[0].seq, sent[2].seq);
  }
}

// RocksDB only: without fsync (sync = false) every commit that returned survives kill -9 of the
// process (the WAL record is in the OS before Commit returns). A forked child commits, says so
// through a pipe once every commit returned, and is killed with SIGKILL; the parent reopens the
// directory.
TEST(RocksDbStateStoreTest, UnsyncedCommitsSurviveKill9) {
  TempDir dir;
  RocksDbStoreOptions options;
  options.path = dir.Sub("data/state");  // parents are created too
  options.partitions = 1;
  options.sync = false;
  constexpr int kCommits = 200;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    auto store = RocksDbStateStore::Open(options);
    if (!store.ok()) _exit(2);
    auto claim = (*store)->ClaimPartition(PartitionId(0));
    if (!claim.ok()) _exit(3);
    for (int i = 0; i < kCommits; ++i) {
      CommitBatch batch;
      batch.next_offset = i + 1;
      batch.states.push_back(MakeState("k" + std::to_string(i), engine::State::kRunning));
      batch.outbox.push_back({0, "bora.events", "k", std::to_string(i)});
      if (!(*store)->Commit(PartitionId(0), claim->epoch, &batch).ok()) _exit(4);
    }
    const char done = 'y';
    if (write(fds[1], &done, 1) != 1) _exit(5);
    for (;;) pause();  // killed here, the store still open
  }
  close(fds[1]);
  char done = 0;
  ASSERT_EQ(read(fds[0], &done, 1), 1) << "the child failed before committing";
  close(fds[0]);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  auto store = RocksDbStateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->ListExecutionIds(PartitionId(0))->size(), static_cast<size_t>(kCommits));
  auto claim = (*store)->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(claim->next_offset, kCommits);
  ASSERT_EQ(claim->outbox.size(), static_cast<size_t>(kCommits));
  EXPECT_EQ(claim->outbox.back().value, std::to_string(kCommits - 1));
}

// RocksDB only: the directory is locked while a store has it open (RocksDB's LOCK file), so a
// second bora on the same --data-dir fails at once with a clear error instead of corrupting it.
TEST(RocksDbStateStoreTest, ASecondOpenOfTheSameDirectoryFails) {
  TempDir dir;
  RocksDbStoreOptions options;
  options.path = dir.Sub("state");
  auto first = RocksDbStateStore::Open(options);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = RocksDbStateStore::Open(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find(options.path), std::string::npos)
      << second.status().ToString();
  first->reset();
  EXPECT_TRUE(RocksDbStateStore::Open(options).ok())
      << "the lock is released when the store closes";
}

// RocksDB only: a directory written by a newer on-disk format (or another partition count) is
// refused, naming what it found, and left as it was.
// The disk store writes what changed: listed and new actions, task heads whose revision moved, and
// a with-items task's items when they are set. A change the engine did not list is not written
// (which is what shows the commit was a delta); everything reads back as committed, and a reopen
// (which knows nothing) writes everything again.
TEST(RocksDbStateStoreTest, CommitsWriteOnlyWhatChanged) {
  TempDir dir;
  RocksDbStoreOptions options;
  options.path = dir.Sub("state");
  auto store = RocksDbStateStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto claim = (*store)->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim.ok());
  auto s = MakeState("delta", engine::State::kRunning);
  s->tasks.push_back(MakeTask(0, engine::State::kRunning));
  s->tasks[0].with_items.items = JsonArray{1, 2, 3};
  s->tasks[0].with_items.items_revision = engine::NextRevision();
  for (int a = 0; a < 50; ++a)
    s->tasks[0].actions.push_back(MakeAction("delta-" + std::to_string(a)));
  s->tasks.push_back(MakeTask(1, engine::State::kRunning));
  s->RebuildIndex();
  auto commit = [&](RocksDbStateStore& st, Epoch epoch) {
    CommitBatch batch;
    batch.states.push_back(s);
    Status status = st.Commit(PartitionId(0), epoch, &batch);
    s->ClearChangeLists();  // as the orchestrator does once a commit is sent
    return status;
  };
  auto read = [&](RocksDbStateStore& st) {
    auto back = st.ReadExecution(PartitionId(0), ExecutionId("delta"));
    EXPECT_TRUE(back.ok() && back->has_value()) << back.status().ToString();
    return back.ok() && back->has_value() ? **back : engine::ExecutionState();
  };
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_EQ(read(**store).ToJsonText(), s->ToJsonText());
  Changed(*s, 0, 5).state = engine::State::kSuccess;
  Changed(*s, 0, 5).output = *ParseJson(R"({"result": 5})");
  s->tasks[0].actions.push_back(MakeAction("delta-50"));  // new: written without a listing
  s->tasks[1].state_info = "moved";
  Changed(s->tasks[1]);
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_EQ(read(**store).ToJsonText(), s->ToJsonText());
  EXPECT_EQ(read(**store).tasks[0].actions.size(), 51u);
  // Not listed: not written.
  s->tasks[0].actions[7].state_info = "unlisted";
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_FALSE(read(**store).tasks[0].actions[7].state_info.has_value());
  // All of them marked (a retry, a rerun): every action is written again.
  for (auto& a : s->tasks[0].actions) a.revision = engine::NextRevision();
  s->ListAllActionsChanged(0);
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_EQ(read(**store).ToJsonText(), s->ToJsonText());
  // Fewer actions than written (a rerun that restarts a task): the extra ones are not read back.
  s->tasks[0].actions.resize(3);
  s->ListAllActionsChanged(0);
  Changed(s->tasks[0]);
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_EQ(read(**store).ToJsonText(), s->ToJsonText());
  // A task of one action is one key: a listed change of its action is written; when it gains
  // actions it is split (its first action written again, as a key of its own).
  s->tasks[1].actions.push_back(MakeAction("single-0"));
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  Changed(*s, 1, 0).state_info = "listed in a whole task";
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_EQ(read(**store).ToJsonText(), s->ToJsonText());
  s->tasks[1].actions.push_back(MakeAction("single-1"));
  s->tasks[1].actions.push_back(MakeAction("single-2"));
  ASSERT_TRUE(commit(**store, claim->epoch).ok());
  EXPECT_EQ(read(**store).ToJsonText(), s->ToJsonText());
  EXPECT_EQ(read(**store).tasks[1].actions.size(), 3u);
  // A reopened store knows nothing: an unlisted change is written with the rest.
  store->reset();
  auto reopened = RocksDbStateStore::Open(options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto claim2 = (*reopened)->ClaimPartition(PartitionId(0));
  ASSERT_TRUE(claim2.ok());
  s->tasks[0].actions[1].state_info = "after reopen";
  ASSERT_TRUE(commit(**reopened, claim2->epoch).ok());
  EXPECT_EQ(read(**reopened).ToJsonText(), s->ToJsonText());
}

TEST(RocksDbStateStoreTest, RefusesANewerFormatOrAnotherPartitionCount) {
  TempDir dir;
  RocksDbStoreOptions options;
  options.path = dir.Sub("state");
  options.partitions = 4;
  ASSERT_TRUE(RocksDbStateStore::Open(options).ok());
  options.partitions = 8;
  auto other = RocksDbStateStore::Open(options);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("created with 4 partitions"), std::string::npos)
      << other.status().ToString();
  options.partitions = 4;
  {
    disk::DiskDbOptions o;
    o.path = options.path;
    auto db = disk::DiskDb::Open(o);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    const auto key = disk::DiskDb::kFormatKey;
    const std::string newer = std::to_string(disk::DiskDb::kFormatVersion + 1);
    ASSERT_TRUE((*db)
                    ->db()
                    ->Put(rocksdb::WriteOptions(), rocksdb::Slice(key.data(), key.size()), newer)
                    .ok());
  }
  auto refused = RocksDbStateStore::Open(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("format version '2'"), std::string::npos)
      << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("newer"), std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace bora::store
