// Orchestrator behaviour over MemoryBus + MemoryStateStore: bad input never stops the loop, replays change
// nothing, a fenced owner cannot write, the outbox survives a failed produce, and with a store that
// overlaps commits (as Redis does) nothing leaves before it is durable and a failed or fenced commit takes
// the batch applied on top of it down with it.
#include "orchestrator/partition/orchestrator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/bus/memory_bus.h"
#include "common/log_capture.h"
#include "common/metrics/metrics.h"
#include "orchestrator/store/memory_state_store.h"
#include "sdk/protocol/protocol.h"
#include "workers/action_worker.h"
#include "workers/std_actions.h"

namespace bora::partition {
namespace {

using namespace std::chrono_literals;

constexpr int kPartitions = 2;

// A bus that can refuse publishes to one topic (a broker or network failure between commit and produce).
class FlakyBus final : public Bus {
 public:
  explicit FlakyBus(Bus* inner) : inner_(inner) {}
  Status CreateTopic(std::string_view t, int p) override { return inner_->CreateTopic(t, p); }
  Result<int> PartitionCount(std::string_view t) override { return inner_->PartitionCount(t); }
  Status Publish(std::string_view t, std::string_view k, std::string v) override {
    if (t == fail_topic) return Unavailable("injected failure for " + std::string(t));
    return inner_->Publish(t, k, std::move(v));
  }
  Status Flush(std::chrono::milliseconds t) override { return inner_->Flush(t); }
  Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerOptions& o) override {
    return inner_->Subscribe(o);
  }
  std::string fail_topic;

 private:
  Bus* inner_;
};

// A bus whose tracked publishes are acknowledged only when the test says so (as Kafka's delivery reports
// come later), or fail.
class DeferredAckBus final : public Bus {
 public:
  explicit DeferredAckBus(Bus* inner) : inner_(inner) {}
  Status CreateTopic(std::string_view t, int p) override { return inner_->CreateTopic(t, p); }
  Result<int> PartitionCount(std::string_view t) override { return inner_->PartitionCount(t); }
  Status Publish(std::string_view t, std::string_view k, std::string v) override {
    return inner_->Publish(t, k, std::move(v));
  }
  Status PublishTracked(std::string_view t, std::string_view k, std::string v, const BusHeaders& h,
                        const std::shared_ptr<DeliveryTracker>& tracker) override {
    BORA_RETURN_IF_ERROR(inner_->PublishWithHeaders(t, k, std::move(v), h));
    std::lock_guard lock(tracker->mu);
    ++tracker->pending;
    unacked_.push_back(tracker);
    return Status::Ok();
  }
  void ServeDeliveries() override {
    if (!deliver) return;
    for (auto& t : unacked_) {
      std::lock_guard lock(t->mu);
      if (fail && t->error.empty()) t->error = "injected: delivery failed";
      t->pending = 0;
    }
    unacked_.clear();
  }
  Status Flush(std::chrono::milliseconds t) override { return inner_->Flush(t); }
  Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerOptions& o) override {
    return inner_->Subscribe(o);
  }
  bool deliver = false;  // ServeDeliveries confirms what was published
  bool fail = false;     // ...as failed deliveries

 private:
  Bus* inner_;
  std::vector<std::shared_ptr<DeliveryTracker>> unacked_;
};

// A store that hands every call to another one: the test stores below override what they change.
class ForwardingStore : public store::StateStore {
 public:
  explicit ForwardingStore(store::StateStore* inner) : inner_(inner) {}
  Result<store::PartitionClaim> ClaimPartition(PartitionId p) override {
    return inner_->ClaimPartition(p);
  }
  Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(PartitionId p,
                                                                const ExecutionId& id) override {
    return inner_->LoadExecution(p, id);
  }
  Status Commit(PartitionId p, Epoch epoch, store::CommitBatch* batch) override {
    return inner_->Commit(p, epoch, batch);
  }
  Status AckOutbox(PartitionId p, Epoch epoch, uint64_t seq) override {
    return inner_->AckOutbox(p, epoch, seq);
  }
  Result<std::vector<store::TimerEntry>> DueTimers(PartitionId p, TimestampUs now,
                                                   size_t max) override {
    return inner_->DueTimers(p, now, max);
  }
  Status RemoveTimer(PartitionId p, Epoch epoch, const store::TimerEntry& t) override {
    return inner_->RemoveTimer(p, epoch, t);
  }
  Result<std::optional<TimestampUs>> NextTimer(PartitionId p) override {
    return inner_->NextTimer(p);
  }
  Result<std::optional<engine::ExecutionState>> ReadExecution(PartitionId p,
                                                              const ExecutionId& id) override {
    return inner_->ReadExecution(p, id);
  }
  Result<std::optional<store::ExecutionKey>> FindExecutionOf(const std::string& id) override {
    return inner_->FindExecutionOf(id);
  }
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeads(PartitionId p) override {
    return inner_->ReadExecutionHeads(p);
  }
  Result<std::vector<ExecutionId>> ListExecutionIds(PartitionId p) override {
    return inner_->ListExecutionIds(p);
  }
  Result<std::vector<engine::ExecutionState>> ReadExecutionHeadsPage(const std::optional<store::ListCursor>& after,
                                                                     size_t limit) override {
    return inner_->ReadExecutionHeadsPage(after, limit);
  }

 protected:
  store::StateStore* inner_;
};

// A store whose next `fail_commits` commits fail as if Redis were down.
class FlakyStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Status Commit(PartitionId p, Epoch epoch, store::CommitBatch* batch) override {
    if (p.value() == fail_partition && fail_partition_commits > 0) {
      --fail_partition_commits;
      return Unavailable("injected: partition " + std::to_string(p.value()) + " failed to commit");
    }
    return inner_->Commit(p, epoch, batch);
  }
  // A failed round fails every commit of that round (the orchestrator commits all partitions at once).
  std::vector<Status> CommitMany(const std::vector<store::PartitionCommit>& commits) override {
    if (fail_commits > 0) {
      --fail_commits;
      return std::vector<Status>(commits.size(), Unavailable("injected: redis is down"));
    }
    return StateStore::CommitMany(commits);
  }
  int fail_commits = 0;            // commit rounds (CommitMany calls) to fail
  int fail_partition = -1;         // this partition's commits fail...
  int fail_partition_commits = 0;  // ...this many times, while the others' commits go through
};

// A store that is out of reach while `down` (as Redis behind a network cut): every call fails.
class CutStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<store::PartitionClaim> ClaimPartition(PartitionId p) override {
    if (down) return Unavailable("injected: cut off from redis");
    return inner_->ClaimPartition(p);
  }
  Result<std::shared_ptr<engine::ExecutionState>> LoadExecution(PartitionId p,
                                                                const ExecutionId& id) override {
    if (down) return Unavailable("injected: cut off from redis");
    return inner_->LoadExecution(p, id);
  }
  Status Commit(PartitionId p, Epoch epoch, store::CommitBatch* batch) override {
    if (down) return Unavailable("injected: cut off from redis");
    return inner_->Commit(p, epoch, batch);
  }
  Result<std::optional<TimestampUs>> NextTimer(PartitionId p) override {
    if (down) return Unavailable("injected: cut off from redis");
    return inner_->NextTimer(p);
  }
  bool down = false;
};

// A store that overlaps commits as RedisStateStore does: SendCommits takes a copy of the batches (as Redis
// would serialise them) and writes them only when awaited, or when any later call other than a load or a
// read comes (the order one Redis connection keeps); loads meanwhile see what was written before.
// `fail_partition`'s next `fail_partition_commits` sent commits fail when awaited, without writing.
class PipeliningStore final : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  bool PipelinesCommits() const override { return true; }
  std::unique_ptr<SentCommits> SendCommits(const std::vector<store::PartitionCommit>& commits) override {
    auto sent = std::make_shared<Sent>();
    for (const auto& c : commits) {
      Sent::One one{c.partition, c.epoch, c.batch, *c.batch};
      one.copy.states.clear();
      for (const auto& st : c.batch->states) one.copy.states.push_back(std::make_shared<engine::ExecutionState>(*st));
      sent->commits.push_back(std::move(one));
    }
    outstanding_.push_back(sent);
    ++sends;
    class Handle final : public SentCommits {
     public:
      Handle(PipeliningStore* store, std::shared_ptr<Sent> sent) : store_(store), sent_(std::move(sent)) {}
      std::vector<Status> Await() override {
        store_->WriteOutstanding();
        return std::move(sent_->statuses);
      }

     private:
      PipeliningStore* store_;
      std::shared_ptr<Sent> sent_;
    };
    return std::make_unique<Handle>(this, std::move(sent));
  }
  Status Commit(PartitionId p, Epoch epoch, store::CommitBatch* batch) override {
    WriteOutstanding();
    return inner_->Commit(p, epoch, batch);
  }
  Result<store::PartitionClaim> ClaimPartition(PartitionId p) override {
    WriteOutstanding();
    return inner_->ClaimPartition(p);
  }
  Status AckOutbox(PartitionId p, Epoch epoch, uint64_t seq) override {
    WriteOutstanding();
    return inner_->AckOutbox(p, epoch, seq);
  }
  Result<std::vector<store::TimerEntry>> DueTimers(PartitionId p, TimestampUs now,
                                                   size_t max) override {
    WriteOutstanding();
    return inner_->DueTimers(p, now, max);
  }
  Status RemoveTimer(PartitionId p, Epoch epoch, const store::TimerEntry& t) override {
    WriteOutstanding();
    return inner_->RemoveTimer(p, epoch, t);
  }
  Result<std::optional<TimestampUs>> NextTimer(PartitionId p) override {
    WriteOutstanding();
    return inner_->NextTimer(p);
  }
  int fail_partition = -1;
  int fail_partition_commits = 0;
  int sends = 0;
  size_t outstanding() const { return outstanding_.size(); }

 private:
  struct Sent {
    struct One {
      PartitionId partition;
      Epoch epoch;
      store::CommitBatch* batch;  // the caller's: gets the outbox sequence numbers
      store::CommitBatch copy;
    };
    std::vector<One> commits;
    std::vector<Status> statuses;
  };
  void WriteOutstanding() {
    for (auto& sent : outstanding_) {
      for (auto& one : sent->commits) {
        if (one.partition.value() == fail_partition && fail_partition_commits > 0) {
          --fail_partition_commits;
          sent->statuses.push_back(Unavailable("injected: the sent commit of partition " +
                                               std::to_string(one.partition.value()) + " failed"));
          continue;
        }
        Status s = inner_->Commit(one.partition, one.epoch, &one.copy);
        for (size_t i = 0; s.ok() && i < one.copy.outbox.size(); ++i) {
          one.batch->outbox[i].seq = one.copy.outbox[i].seq;
        }
        sent->statuses.push_back(s);
      }
    }
    outstanding_.clear();
  }
  std::vector<std::shared_ptr<Sent>> outstanding_;
};

class Recorder final : public ExecutionObserver {
 public:
  void OnApplied(const engine::ExecutionState& s, const engine::Event&) override { ++applied; }
  void OnRejected(const std::string& id, const Status& why) override { rejections.push_back(why.message()); }
  int applied = 0;
  std::vector<std::string> rejections;
};

class OrchestratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(bus_.CreateTopic(protocol::EventsTopic(), kPartitions).ok());
    ASSERT_TRUE(bus_.CreateTopic(protocol::ActionsTopic("default"), 1).ok());
    ASSERT_TRUE(definitions_
                    .AddYaml("version: '2.0'\n"
                             "two:\n"
                             "  tasks:\n"
                             "    a:\n"
                             "      action: std.echo output=1\n"
                             "      on-success: b\n"
                             "    b:\n"
                             "      action: std.echo output=2\n")
                    .ok());
    workers::RegisterStdActions(registry_);
    engine_ = std::make_unique<engine::Engine>(&definitions_, &registry_);
  }

  std::unique_ptr<Orchestrator> NewOrchestrator(Bus* bus) {
    auto o = std::make_unique<Orchestrator>(OrchestratorOptions{}, bus, &store_, engine_.get(), &clock_,
                                            &recorder_);
    EXPECT_TRUE(o->Start().ok());
    return o;
  }

  void StartExecution(const std::string& id) {
    engine::StartExecution start;
    start.execution_id = id;
    start.workflow_name = "two";
    ASSERT_TRUE(bus_.Publish(protocol::EventsTopic(), id, *protocol::EncodeEvent(start)).ok());
  }

  // Runs the orchestrator and an inline worker until neither has anything to do (and `piped`, when
  // given, holds no commit that was sent and not awaited).
  void Drain(Orchestrator& o, workers::ActionWorker& w, const PipeliningStore* piped = nullptr) {
    for (int i = 0; i < 1000; ++i) {
      auto a = o.PollOnce(0ms);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
      auto b = w.PollOnce(0ms);
      ASSERT_TRUE(b.ok());
      if (*a + *b == 0 && (piped == nullptr || piped->outstanding() == 0)) return;
    }
    FAIL() << "did not drain";
  }

  // Each execution SUCCESS with exactly its two tasks, each with one action execution: nothing was
  // lost or applied twice; and its lifecycle logged once (batches applied again after a failed
  // commit do not log twice).
  void ExpectEachRanOnce(const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      EXPECT_EQ(log_.Lines("execution started id=" + id + " workflow=two").size(), 1u) << id;
      EXPECT_EQ(log_.Lines("execution finished id=" + id + " workflow=two state=SUCCESS ").size(),
                1u)
          << id << "\n"
          << log_.All();
      auto s = Read(id);
      ASSERT_TRUE(s.has_value()) << "the start of " << id << " was lost";
      EXPECT_EQ(s->state, engine::State::kSuccess) << id;
      ASSERT_EQ(s->tasks.size(), 2u) << id;
      for (const auto& t : s->tasks) EXPECT_EQ(t.actions.size(), 1u) << id << " " << t.name;
    }
  }

  std::optional<engine::ExecutionState> Read(const std::string& id) {
    return *store_.ReadExecution(PartitionId(PartitionForKey(id, kPartitions)), ExecutionId(id));
  }

  LogCapture log_{"info", LogFormat::kText};
  MemoryBus bus_;
  store::MemoryStateStore store_{kPartitions};
  ManualClock clock_;
  engine::MemoryDefinitions definitions_;
  workers::ActionRegistry registry_;
  std::unique_ptr<engine::Engine> engine_;
  Recorder recorder_;
};

TEST_F(OrchestratorTest, RunsAnExecutionToTheEnd) {
  auto o = NewOrchestrator(&bus_);
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  StartExecution("exec-1");
  Drain(*o, w);
  auto s = Read("exec-1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->state, engine::State::kSuccess) << s->state_info.value_or("");
  EXPECT_EQ(s->tasks.size(), 2u);
  EXPECT_EQ(o->OwnedPartitions().size(), static_cast<size_t>(kPartitions));
}

TEST_F(OrchestratorTest, BadMessagesAreRejectedAndTheLoopGoesOn) {
  auto o = NewOrchestrator(&bus_);
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(bus_.Publish(protocol::EventsTopic(), "x", "{not json").ok());
  ASSERT_TRUE(bus_.Publish(protocol::EventsTopic(), "ghost",
                           *protocol::EncodeEvent(engine::PauseExecution{"ghost"}))
                  .ok());
  StartExecution("exec-2");
  StartExecution("exec-2");  // a duplicate start
  Drain(*o, w);
  ASSERT_EQ(recorder_.rejections.size(), 3u);
  std::string all;
  for (const auto& r : recorder_.rejections) all += r + "\n";
  EXPECT_NE(all.find("bad event message: invalid JSON"), std::string::npos) << all;
  EXPECT_NE(all.find("PauseExecution for unknown execution ghost"), std::string::npos) << all;
  EXPECT_NE(all.find("already exists"), std::string::npos) << all;
  EXPECT_EQ(o->stats().events_rejected, 3u);
  EXPECT_EQ(Read("exec-2")->state, engine::State::kSuccess);
}

TEST_F(OrchestratorTest, ANewOwnerDoesNotReapplyCommittedEvents) {
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  {
    auto o = NewOrchestrator(&bus_);
    StartExecution("exec-3");
    Drain(*o, w);
  }
  int applied_before = recorder_.applied;
  auto before = Read("exec-3");
  auto o2 = NewOrchestrator(&bus_);
  Drain(*o2, w);
  EXPECT_EQ(recorder_.applied, applied_before) << "events were applied twice";
  EXPECT_EQ(o2->stats().events_applied, 0u);
  auto after = Read("exec-3");
  EXPECT_EQ(after->tasks.size(), before->tasks.size());
  EXPECT_EQ(DumpJson(after->ToJson()), DumpJson(before->ToJson()));
}

// bora_partitions_owned is the process's sum over its orchestrators (several loops in one process),
// and an orchestrator that goes away takes its count with it.
TEST_F(OrchestratorTest, PartitionsOwnedIsTheSumOverOrchestrators) {
  auto owned = [] {
    const std::string text = metrics::Serialize();
    const std::string name = "\nbora_partitions_owned ";
    const size_t at = text.find(name);
    return at == std::string::npos ? 0.0 : std::stod(text.substr(at + name.size()));
  };
  const double before = owned();
  MemoryBus other_bus;  // a second loop of the process, with a consumer of its own
  ASSERT_TRUE(other_bus.CreateTopic(protocol::EventsTopic(), kPartitions).ok());
  auto a = NewOrchestrator(&bus_);
  ASSERT_TRUE(a->PollOnce(0ms).ok());
  {
    auto b = NewOrchestrator(&other_bus);
    ASSERT_TRUE(b->PollOnce(0ms).ok());
    ASSERT_EQ(a->OwnedPartitions().size() + b->OwnedPartitions().size(), 2u * kPartitions);
    EXPECT_EQ(owned() - before, 2 * kPartitions);
  }
  EXPECT_EQ(owned() - before, kPartitions);
  // A partition lost to another owner counts no more.
  ASSERT_TRUE(store_.ClaimPartition(PartitionId(0)).ok());
  StartExecution("exec-owned");
  ASSERT_TRUE(a->PollOnce(0ms).ok());
  EXPECT_EQ(owned() - before, static_cast<double>(a->OwnedPartitions().size()));
  a.reset();
  EXPECT_EQ(owned(), before);
}

TEST_F(OrchestratorTest, AFencedOwnerCannotWrite) {
  auto o = NewOrchestrator(&bus_);
  ASSERT_TRUE(o->PollOnce(0ms).ok());  // takes the assignment
  ASSERT_EQ(o->OwnedPartitions().size(), static_cast<size_t>(kPartitions));
  // Another process claims every partition (as after a rebalance while this one was stopped).
  for (int p = 0; p < kPartitions; ++p) ASSERT_TRUE(store_.ClaimPartition(PartitionId(p)).ok());
  StartExecution("exec-4");
  ASSERT_TRUE(o->PollOnce(0ms).ok());
  EXPECT_EQ(o->stats().fenced, 1u);
  EXPECT_FALSE(Read("exec-4").has_value()) << "a zombie's write landed";
  EXPECT_EQ(o->OwnedPartitions().size(), static_cast<size_t>(kPartitions - 1));
}

TEST_F(OrchestratorTest, AFailedCommitSkipsNoEvent) {
  // Events consumed in a batch whose commit failed must be read again, not skipped: the orchestrator claims
  // its partitions again and seeks back to the stored offset.
  FlakyStore flaky(&store_);
  Orchestrator o(OrchestratorOptions{}, &bus_, &flaky, engine_.get(), &clock_, &recorder_);
  ASSERT_TRUE(o.Start().ok());
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  for (int i = 0; i < 6; ++i) StartExecution("exec-f" + std::to_string(i));
  flaky.fail_commits = 2;
  EXPECT_EQ(o.PollOnce(0ms).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(o.PollOnce(0ms).status().code(), StatusCode::kUnavailable);
  for (int i = 0; i < 1000; ++i) {
    auto a = o.PollOnce(0ms);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto b = w.PollOnce(0ms);
    ASSERT_TRUE(b.ok());
    if (*a + *b == 0) break;
  }
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back("exec-f" + std::to_string(i));
  ExpectEachRanOnce(ids);
}

TEST_F(OrchestratorTest, OnePartitionFailingToCommitLosesAndDuplicatesNothing) {
  // All partitions of a poll commit together; when one of them fails, the others' commits stand and the
  // failed one is claimed again and re-read from its stored offset.
  FlakyStore flaky(&store_);
  Orchestrator o(OrchestratorOptions{}, &bus_, &flaky, engine_.get(), &clock_, &recorder_);
  ASSERT_TRUE(o.Start().ok());
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back("exec-p" + std::to_string(i));
  std::set<int> partitions;
  for (const auto& id : ids) {
    partitions.insert(PartitionForKey(id, kPartitions));
    StartExecution(id);
  }
  ASSERT_GE(partitions.size(), 2u) << "the test needs executions on two partitions";
  flaky.fail_partition = PartitionForKey(ids[0], kPartitions);
  flaky.fail_partition_commits = 3;
  int failed_polls = 0;
  for (int i = 0; i < 1000; ++i) {
    auto a = o.PollOnce(0ms);
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), StatusCode::kUnavailable) << a.status().ToString();
      ++failed_polls;
      continue;
    }
    auto b = w.PollOnce(0ms);
    ASSERT_TRUE(b.ok());
    if (*a + *b == 0) break;
  }
  EXPECT_EQ(failed_polls, 3);
  EXPECT_EQ(flaky.fail_partition_commits, 0);
  ExpectEachRanOnce(ids);
}

// An orchestrator cut off from the store but not from the bus keeps its partitions until its claims
// have failed for release_after_store_outage (the injected clock), then leaves the group: the other
// orchestrator takes them and runs their executions, once each. When the store answers again it
// joins the group again and gets partitions back.
TEST_F(OrchestratorTest, AnOrchestratorCutOffFromTheStoreLeavesTheGroupAndComesBack) {
  CutStore cut(&store_);
  OrchestratorOptions options;
  options.release_after_store_outage = 5s;
  Orchestrator a(options, &bus_, &cut, engine_.get(), &clock_, &recorder_);
  ASSERT_TRUE(a.Start().ok());
  ASSERT_TRUE(a.PollOnce(0ms).ok());
  auto b = NewOrchestrator(&bus_);
  ASSERT_TRUE(a.PollOnce(0ms).ok());
  ASSERT_TRUE(b->PollOnce(0ms).ok());
  ASSERT_GT(a.OwnedPartitions().size(), 0u);
  ASSERT_GT(b->OwnedPartitions().size(), 0u);
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());

  cut.down = true;
  std::vector<std::string> ids;
  std::set<int> partitions;
  for (int i = 0; i < 16; ++i) {
    ids.push_back("exec-cut" + std::to_string(i));
    partitions.insert(PartitionForKey(ids.back(), kPartitions));
    StartExecution(ids.back());
  }
  bool on_a = false;
  for (const auto& p : a.OwnedPartitions()) on_a = on_a || partitions.count(p.value()) > 0;
  ASSERT_TRUE(on_a) << "the test needs an execution on a partition of the cut orchestrator";
  // Before the outage lasted long enough, the cut one keeps its partitions (its polls fail).
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(a.PollOnce(0ms).ok());
  clock_.AdvanceSeconds(4);
  EXPECT_FALSE(a.PollOnce(0ms).ok());
  EXPECT_GT(a.OwnedPartitions().size(), 0u);
  EXPECT_EQ(a.stats().released, 0u);
  clock_.AdvanceSeconds(1.5);
  EXPECT_FALSE(a.PollOnce(0ms).ok());
  EXPECT_EQ(a.stats().released, 1u);
  EXPECT_TRUE(a.OwnedPartitions().empty());
  EXPECT_EQ(log_.Lines("leaving the consumer group so that another orchestrator takes").size(), 1u)
      << log_.All();
  // Still cut: it only asks the store.
  auto r = a.PollOnce(0ms);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(a.OwnedPartitions().empty());
  // The other one takes every partition and runs every execution once.
  Drain(*b, w);
  EXPECT_EQ(b->OwnedPartitions().size(), static_cast<size_t>(kPartitions));
  ExpectEachRanOnce(ids);

  // The store answers again: the cut one joins and gets partitions back.
  cut.down = false;
  ASSERT_TRUE(a.PollOnce(0ms).ok());
  EXPECT_EQ(log_.Lines("the state store answers again").size(), 1u);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(a.PollOnce(0ms).ok());
    ASSERT_TRUE(b->PollOnce(0ms).ok());
  }
  EXPECT_GT(a.OwnedPartitions().size(), 0u);
  EXPECT_EQ(a.OwnedPartitions().size() + b->OwnedPartitions().size(),
            static_cast<size_t>(kPartitions));
  StartExecution("exec-after-cut");
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(a.PollOnce(0ms).ok());
    ASSERT_TRUE(b->PollOnce(0ms).ok());
    ASSERT_TRUE(w.PollOnce(0ms).ok());
  }
  ExpectEachRanOnce({"exec-after-cut"});
}

TEST_F(OrchestratorTest, OutboxIsResentByTheNextOwnerAfterAFailedProduce) {
  FlakyBus flaky(&bus_);
  flaky.fail_topic = protocol::ActionsTopic("default");
  {
    auto o = NewOrchestrator(&flaky);
    StartExecution("exec-5");
    auto r = o->PollOnce(0ms);  // takes the assignment, applies the start; producing RunAction fails
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
    auto s = Read("exec-5");
    ASSERT_TRUE(s.has_value()) << "the state must be committed before producing";
  }
  EXPECT_EQ(bus_.EndOffset({protocol::ActionsTopic("default"), 0}), 0);
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  auto o2 = NewOrchestrator(&bus_);
  Drain(*o2, w);
  EXPECT_EQ(Read("exec-5")->state, engine::State::kSuccess);
}

// A worker whose results the bus refuses (disk full, broker away) keeps them and sends them again:
// no result is lost, the request is not committed past meanwhile, and nothing new is taken.
TEST_F(OrchestratorTest, AWorkerKeepsTheResultsTheBusRefusedAndSendsThemAgain) {
  FlakyBus flaky(&bus_);
  auto o = NewOrchestrator(&bus_);
  workers::ActionWorker w({}, &flaky, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  StartExecution("exec-r");
  ASSERT_TRUE(o->PollOnce(0ms).ok());  // RunAction of the first task
  flaky.fail_topic = protocol::EventsTopic();
  auto r = w.PollOnce(0ms);  // runs it; publishing its result fails
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 1u);
  const TopicPartition actions{protocol::ActionsTopic("default"), 0};
  for (const auto& [tp, position] : w.CommittedPositions()) {
    if (tp == actions) {
      EXPECT_EQ(position, 0) << "committed past a request whose result is not out";
    }
  }
  r = w.PollOnce(0ms);  // still refused: nothing new is taken
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0u);
  flaky.fail_topic.clear();
  Drain(*o, w);
  ExpectEachRanOnce({"exec-r"});
}

TEST_F(OrchestratorTest, OutboxIsAcknowledgedOnlyAfterTheBusConfirmedDelivery) {
  DeferredAckBus bus(&bus_);
  {
    auto o = NewOrchestrator(&bus);
    StartExecution("exec-6");
    ASSERT_TRUE(o->PollOnce(0ms).ok());  // applies the start, produces RunAction (not yet acknowledged)
    ASSERT_TRUE(o->PollOnce(0ms).ok());  // idle: nothing confirmed, so nothing acknowledged in the store
  }
  int p = PartitionForKey("exec-6", kPartitions);
  auto claim = store_.ClaimPartition(PartitionId(p));
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(claim->outbox.size(), 1u) << "an unconfirmed RunAction must stay in the outbox";

  bus.deliver = true;
  auto o = NewOrchestrator(&bus);
  ASSERT_TRUE(o->PollOnce(0ms).ok());  // claims (re-sends the outbox), then confirms and acknowledges it
  ASSERT_TRUE(o->PollOnce(0ms).ok());
  o.reset();
  claim = store_.ClaimPartition(PartitionId(p));
  ASSERT_TRUE(claim.ok());
  EXPECT_TRUE(claim->outbox.empty());
}

TEST_F(OrchestratorTest, AFailedDeliveryClaimsAgainAndResendsTheOutbox) {
  DeferredAckBus bus(&bus_);
  bus.deliver = true;
  bus.fail = true;
  auto o = NewOrchestrator(&bus);
  StartExecution("exec-7");
  auto r = o->PollOnce(0ms);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  bus.fail = false;
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  Drain(*o, w);
  EXPECT_EQ(Read("exec-7")->state, engine::State::kSuccess);
  // The RunAction of task a went out twice (first delivery failed); the second result changed nothing.
  EXPECT_EQ(Read("exec-7")->tasks.size(), 2u);
}

// With a store that overlaps commits, a poll sends its commit and the next poll applies on top of it: the
// outbox leaves only once the commit was awaited, and everything still runs exactly once.
TEST_F(OrchestratorTest, OverlappedCommitsProduceOnlyWhatIsDurable) {
  PipeliningStore piped(&store_);
  Orchestrator o(OrchestratorOptions{}, &bus_, &piped, engine_.get(), &clock_, nullptr);
  ASSERT_TRUE(o.Start().ok());
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  StartExecution("exec-o0");
  auto first = o.PollOnce(0ms);  // applies the start and sends its commit, not awaited
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(piped.outstanding(), 1u);
  EXPECT_FALSE(Read("exec-o0").has_value()) << "the test store writes only when the commit is awaited";
  EXPECT_EQ(bus_.EndOffset({protocol::ActionsTopic("default"), 0}), 0) << "produced before it was durable";
  auto second = o.PollOnce(0ms);  // nothing new: awaits the commit, then produces its RunAction
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(piped.outstanding(), 0u);
  ASSERT_TRUE(Read("exec-o0").has_value());
  EXPECT_EQ(bus_.EndOffset({protocol::ActionsTopic("default"), 0}), 1);

  // Many executions at once: each poll applies on top of the commit still outstanding.
  std::vector<std::string> ids;
  for (int i = 1; i <= 20; ++i) ids.push_back("exec-o" + std::to_string(i));
  for (int round = 0; round < 1000; ++round) {
    if (round < static_cast<int>(ids.size())) StartExecution(ids[static_cast<size_t>(round)]);
    auto a = o.PollOnce(0ms);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auto b = w.PollOnce(0ms);
    ASSERT_TRUE(b.ok());
    if (round >= static_cast<int>(ids.size()) && *a + *b == 0 && piped.outstanding() == 0) break;
  }
  ids.push_back("exec-o0");
  ExpectEachRanOnce(ids);
  EXPECT_GT(piped.sends, 10);
}

// The sent commit of one partition fails after the next poll was applied on top of it: that partition's
// next batch is dropped and the partition claimed again; nothing is lost or applied twice.
TEST_F(OrchestratorTest, AFailedOverlappedCommitDropsTheBatchAppliedOnTopOfIt) {
  PipeliningStore piped(&store_);
  Orchestrator o(OrchestratorOptions{}, &bus_, &piped, engine_.get(), &clock_, nullptr);
  ASSERT_TRUE(o.Start().ok());
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) ids.push_back("exec-q" + std::to_string(i));
  std::set<int> partitions;
  for (const auto& id : ids) partitions.insert(PartitionForKey(id, kPartitions));
  ASSERT_GE(partitions.size(), 2u) << "the test needs executions on two partitions";
  for (size_t i = 0; i < 6; ++i) StartExecution(ids[i]);
  ASSERT_TRUE(o.PollOnce(0ms).ok());  // sends the first six starts
  piped.fail_partition = PartitionForKey(ids[0], kPartitions);
  piped.fail_partition_commits = 1;
  for (size_t i = 6; i < ids.size(); ++i) StartExecution(ids[i]);
  // Applies the next six on top, then awaits the first commit: one partition failed.
  auto failed = o.PollOnce(0ms);
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status().ToString();
  EXPECT_EQ(piped.fail_partition_commits, 0);
  Drain(o, w, &piped);
  ExpectEachRanOnce(ids);
}

// Another owner claims the partitions while a commit is outstanding: the commit is fenced, the batch
// applied on top of it never reaches the store, and the partitions are given up.
TEST_F(OrchestratorTest, AnOverlappedCommitOfAZombieIsFencedWithTheBatchOnTopOfIt) {
  PipeliningStore piped(&store_);
  Orchestrator o(OrchestratorOptions{}, &bus_, &piped, engine_.get(), &clock_, nullptr);
  ASSERT_TRUE(o.Start().ok());
  ASSERT_TRUE(o.PollOnce(0ms).ok());  // takes the assignment
  ASSERT_EQ(o.OwnedPartitions().size(), static_cast<size_t>(kPartitions));
  StartExecution("exec-z1");
  ASSERT_TRUE(o.PollOnce(0ms).ok());  // sends the start's commit
  ASSERT_EQ(piped.outstanding(), 1u);
  for (int p = 0; p < kPartitions; ++p)
    ASSERT_TRUE(store_.ClaimPartition(PartitionId(p)).ok());  // another process
  StartExecution("exec-z2");
  const int z1 = PartitionForKey("exec-z1", kPartitions);
  auto r = o.PollOnce(0ms);  // applies z2 on top, then awaits: fenced
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(o.stats().fenced, 1u);
  EXPECT_FALSE(Read("exec-z1").has_value()) << "a zombie's write landed";
  EXPECT_FALSE(Read("exec-z2").has_value()) << "a zombie's write landed";
  auto owned = o.OwnedPartitions();
  EXPECT_EQ(std::count(owned.begin(), owned.end(), PartitionId(z1)), 0);
  EXPECT_TRUE(o.Flush().ok());
  EXPECT_FALSE(Read("exec-z2").has_value()) << "a zombie's write landed";
  EXPECT_EQ(bus_.EndOffset({protocol::ActionsTopic("default"), 0}), 0);
}

// A purge deletes the state in the commit; with the commit still outstanding the next poll already finds no
// execution (not the stored one a load would still return), and after it the store holds nothing of it.
TEST_F(OrchestratorTest, APurgedExecutionIsGoneEvenBeforeItsCommitIsAwaited) {
  PipeliningStore piped(&store_);
  Orchestrator o(OrchestratorOptions{}, &bus_, &piped, engine_.get(), &clock_, nullptr);
  ASSERT_TRUE(o.Start().ok());
  workers::ActionWorker w({}, &bus_, &registry_, &clock_);
  ASSERT_TRUE(w.Start().ok());
  StartExecution("exec-p");
  StartExecution("exec-q");
  Drain(o, w, &piped);
  ExpectEachRanOnce({"exec-p", "exec-q"});
  const std::string task_id = Read("exec-p")->tasks[0].id;
  ASSERT_TRUE(store_.FindExecutionOf(task_id)->has_value());

  auto publish = [&](const engine::Event& e) {
    ASSERT_TRUE(bus_.Publish(protocol::EventsTopic(), engine::EventExecutionId(e),
                             *protocol::EncodeEvent(e))
                    .ok());
  };
  const uint64_t applied = o.stats().events_applied;
  const uint64_t rejected = o.stats().events_rejected;
  publish(engine::PurgeExecution{"exec-p"});
  ASSERT_TRUE(o.PollOnce(0ms).ok());
  EXPECT_EQ(o.stats().events_applied, applied + 1);
  ASSERT_EQ(piped.outstanding(), 1u);
  EXPECT_TRUE(Read("exec-p").has_value()) << "the test store writes only when the commit is awaited";
  // Applied on top of the outstanding purge: no execution any more.
  publish(engine::PurgeExecution{"exec-p"});
  publish(engine::PauseExecution{"exec-p"});
  ASSERT_TRUE(o.PollOnce(0ms).ok());
  ASSERT_TRUE(o.Flush().ok());
  EXPECT_EQ(o.stats().events_applied, applied + 1);
  EXPECT_EQ(o.stats().events_rejected, rejected + 2);
  EXPECT_FALSE(Read("exec-p").has_value());
  EXPECT_FALSE(store_.FindExecutionOf(task_id)->has_value());
  ExpectEachRanOnce({"exec-q"});
  // A running execution is not purged.
  StartExecution("exec-r");
  publish(engine::PurgeExecution{"exec-r"});
  ASSERT_TRUE(o.PollOnce(0ms).ok());
  ASSERT_TRUE(o.Flush().ok());
  EXPECT_TRUE(Read("exec-r").has_value());
  EXPECT_EQ(o.stats().events_rejected, rejected + 3);
}

}  // namespace
}  // namespace bora::partition
