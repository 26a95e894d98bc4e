#pragma once
// Orchestrator: the consume → apply → commit (fenced) → produce loop over the partitions of
// `bora.events` that this process owns. The same code runs in embedded mode (MemoryBus over memory
// or its disk journal + MemoryStateStore or RocksDbStateStore) and distributed mode (KafkaBus +
// RedisStateStore); it uses only the owner's face of the store (store::PartitionStore).
//
// Per owned partition: on assignment it claims the partition in the store (bumping the epoch, which
// fences any previous owner), seeks the bus to the stored next offset and re-sends the
// unacknowledged outbox. For each batch of events it loads each execution, applies the events with
// the pure engine, commits the changed states together with the next offset, the outgoing messages
// (outbox) and timer changes in one PartitionStore::Commit, then produces the outbox and
// acknowledges it. Events below the stored offset are skipped (replays are no-ops). Due timers are
// published as TimerFired events, so the log stays the single ordered input.
//
// Threading: PollOnce() is called by one thread at a time (the orchestrator's loop thread);
// Wakeup() from any. Observer callbacks run on that thread while it holds the partition's writer
// lock: keep them short.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bus/bus.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/store/state_store.h"

namespace bora::partition {

// Told about what the orchestrator did. Called on the orchestrator thread.
class ExecutionObserver {
 public:
  virtual ~ExecutionObserver() = default;
  // After `event` was applied to `state` and committed.
  virtual void OnApplied(const engine::ExecutionState& state, const engine::Event& event) {}
  // An event that changed nothing: undecodable, for an unknown execution, or refused by the engine.
  virtual void OnRejected(const std::string& execution_id, const Status& why) {}
};

struct OrchestratorOptions {
  std::string group = "bora-orchestrator";
  std::string topic_prefix;    // see protocol::EventsTopic
  size_t max_batch = 512;      // events per poll
  size_t max_timers = 512;     // timers fired per poll and partition
  // With a store that pipelines commits: apply the next poll while the last commit is written (PollOnce).
  bool overlap_commits = true;
  // When the store has failed every claim for this long (by the injected clock), the orchestrator
  // leaves the consumer group so that the group's other members take its partitions (a process cut
  // off from Redis but not from Kafka would otherwise keep them, and their executions, waiting). It
  // asks the store every poll and joins the group again once the store answers. 0: never leaves.
  std::chrono::milliseconds release_after_store_outage{0};
};

struct OrchestratorStats {
  uint64_t events_applied = 0;
  uint64_t events_skipped = 0;   // replays below the stored offset
  uint64_t events_rejected = 0;
  uint64_t commits = 0;
  uint64_t messages_produced = 0;
  uint64_t timers_fired = 0;
  uint64_t fenced = 0;           // commits refused because another owner took the partition
  uint64_t released = 0;         // times the group was left because the store was out of reach
};

class Orchestrator final : public RebalanceListener {
 public:
  // None of the pointers is owned; all must outlive the Orchestrator. `observer` may be null. The
  // clock gives the timers' `now` and the produce time on RunAction messages (kScheduledAtHeader).
  Orchestrator(OrchestratorOptions options, Bus* bus, store::PartitionStore* store,
               const engine::Engine* engine, const Clock* clock, ExecutionObserver* observer);
  ~Orchestrator() override;

  // Subscribes to bora.events (which must exist).
  Status Start();

  // One round: polls up to max_batch events (waiting at most `timeout` when none is ready), applies
  // and commits them, produces the outbox, then publishes due timers. Returns the number of events
  // applied or skipped plus timers fired (0 = nothing happened).
  //
  // With a store that pipelines commits (PartitionStore::PipelinesCommits, Redis), a round sends
  // its commit and returns without waiting for it: the next round polls and applies its events
  // while the store writes, then awaits that commit before sending its own, and only then produces
  // the awaited commit's outbox. Nothing leaves before it is durable, and the next batch is applied
  // to the states the sent commit writes (kept in the cache until it is awaited); if that commit
  // fails, the next batch of its partition is dropped and the partition claimed again, as after any
  // failed commit. A round with a commit outstanding does not block in the poll: with nothing new
  // it awaits the commit at once.
  Result<size_t> PollOnce(std::chrono::milliseconds timeout);

  // Completes the commit the last PollOnce sent and did not await (see PollOnce), producing its outbox.
  // Call before stopping; PollOnce does it whenever it has nothing else to do.
  Status Flush();

  // The earliest pending timer of the owned partitions.
  std::optional<TimestampUs> NextTimer();
  // Makes a blocked PollOnce return early. Thread-safe.
  void Wakeup();

  const OrchestratorStats& stats() const { return stats_; }
  // (partition, next offset) of each owned partition: every event below it is applied and committed.
  // Same thread as PollOnce.
  std::vector<std::pair<int, int64_t>> AppliedOffsets() const;
  std::vector<PartitionId> OwnedPartitions() const;

  // RebalanceListener (called inside PollOnce).
  void OnAssigned(const std::vector<TopicPartition>& partitions) override;
  void OnRevoked(const std::vector<TopicPartition>& partitions) override;

 private:
  struct Owned {
    Epoch epoch;
    int64_t next_offset = 0;
    std::vector<store::OutboxEntry> unsent;  // committed, not yet produced
    // The store failed us (down, or restarted and possibly behind): claim again and re-seek to the stored
    // offset before touching the partition, so no event is skipped and none is applied on stale state.
    bool needs_claim = true;
    // States of this partition as last committed by this owner (the only writer while the epoch holds), so
    // hot executions are not read back from the store for every event. Cleared on every claim.
    std::unordered_map<std::string, std::shared_ptr<engine::ExecutionState>> cache;
    // The earliest timer of the partition as far as this owner knows (read at claim, lowered by the timers it
    // sets, re-read after firing); the store is asked for due timers only when it has come.
    std::optional<TimestampUs> next_timer;
    // Produced batches whose Kafka acknowledgements have not all come back yet (oldest first), each with its
    // last outbox sequence number. The orchestrator does not wait for them: it goes on with the next batch,
    // and a batch's entries become acknowledgeable in the store once its deliveries are confirmed. A failed
    // delivery makes the owner claim the partition again (which re-sends the stored outbox).
    std::deque<std::pair<std::shared_ptr<Bus::DeliveryTracker>, uint64_t>> in_flight;
    // Outbox entries up to this sequence number were produced and acknowledged by the bus but not yet
    // acknowledged in the store: store acknowledgements are batched (every kAckEvery batches, and whenever a
    // poll finds nothing new), so a busy partition pays one store round trip per batch. A new owner re-sends
    // what was not acknowledged; duplicates are harmless (commands carry deterministic ids).
    uint64_t pending_ack = 0;
    int batches_since_ack = 0;
  };
  static constexpr int kAckEvery = 32;

  // Acknowledges `owned.pending_ack` in the store.
  Status Ack(int partition, Owned& owned);

  // Claims `partition` in the store, seeks the consumer to its stored offset and takes its outbox.
  Status Claim(int partition, Owned& owned);
  // Leaves the consumer group (the store has been out of reach for release_after_store_outage).
  void Release();
  // While released: asks the store (a read) and subscribes again once it answers.
  Result<size_t> PollReleased(std::chrono::milliseconds timeout);

  // One partition's share of a poll, from decoding to the commit (defined in orchestrator.cc).
  struct PartitionBatch;

  Result<size_t> PollOnceImpl(std::chrono::milliseconds timeout);
  // A poll's commit, sent and not awaited yet: its messages (the batches point into them), its batches and
  // the store's handle.
  struct Pending;
  // Awaits pending_ and finishes its batches (FinishBatch). Partitions whose commit failed are claimed again
  // (or, when fenced, given up) and their batches in `next` (the poll being built, applied on top of the
  // pending commit) are dropped; on any failure other than fencing every batch of `next` is dropped and the
  // error returned. Adds the events committed to `*done`.
  Status CompletePending(std::vector<PartitionBatch>* next, size_t* done);
  // Awaits pending_ and forgets it (the caller claims every partition again).
  void AbandonPending();
  // After a batch's commit was sent: its states stay cached (the next batch is applied to them), its
  // offset counts as applied and its timers are known.
  void MarkSent(PartitionBatch& b);
  // The phases of a poll, each run for every partition before the next: decode the events and note which
  // executions are neither cached nor loaded; read those from the store (one LoadExecutions call for the
  // whole poll); apply the events to the states and collect the outgoing messages; commit every partition
  // at once (CommitMany); then, per partition, publish what the commit made durable.
  void DecodeBatch(PartitionBatch& b);
  Status ApplyBatch(PartitionBatch& b);
  Status FinishBatch(PartitionBatch& b);
  // Hands `owned.unsent` to the bus (not waiting for acknowledgements) and moves it to `in_flight`.
  Status Produce(int partition, Owned& owned);
  // Moves batches whose deliveries were all confirmed from `in_flight` to `pending_ack` (and acknowledges
  // them in the store every kAckEvery batches). kUnavailable if a delivery failed.
  Status ReapDeliveries(int partition, Owned& owned);
  // Sends what the bus holds and serves its delivery reports (once), then ReapDeliveries for every owned
  // partition; the first error, after all were reaped.
  Status ServeAndReap();
  Result<size_t> FireTimers(int partition, Owned& owned);

  OrchestratorOptions options_;
  Bus* bus_;
  store::PartitionStore* store_;
  const engine::Engine* engine_;
  const Clock* clock_;
  ExecutionObserver* observer_;
  // Replaced on the loop thread only (Start, Release), under consumer_mu_, which Wakeup (any
  // thread) holds to use it; the loop thread reads it without the lock.
  Mutex consumer_mu_;
  std::unique_ptr<Consumer> consumer_;
  // Since when every claim has failed (the injected clock; unset once one succeeds), and whether
  // the group was left for it.
  std::optional<TimestampUs> store_failing_since_;
  bool released_ = false;
  std::map<int, Owned> owned_;
  size_t reported_owned_ = 0;  // owned_.size() as last added to bora_partitions_owned
  void ReportOwned();
  OrchestratorStats stats_;
  std::vector<engine::Command> scratch_commands_;  // ApplyBatch scratch (capacity kept between events)
  std::unique_ptr<Pending> pending_;
  Status callback_error_ = Status::Ok();  // of a CompletePending in a rebalance callback
};

}  // namespace bora::partition
