#pragma once
// The event path after intake. REST handlers (and any Kafka producer) put CloudEvents (structured
// JSON) on `<prefix>bora.ingest`, keyed by source+id; the IngestProcessor consumes that topic with
// its own consumer group and, for each event: deduplicates (ResourceStore::Remember of
// DedupeKey(), within a window), matches the event triggers (ResourceStore kind "event_trigger"),
// maps the input and starts each matching workflow through the ExecutionClient with a
// deterministic execution id (TriggerExecutionId), so a redelivered event starts nothing twice.
// A duplicate whose execution does not exist in the StateStore (the first delivery's start was
// lost: a crash between Remember and publishing) has its start re-issued under the same id.
// Offsets are committed after the starts of the polled batch were published and flushed. A
// malformed message is logged and skipped; a failed start (unknown workflow, bad input) is logged
// and does not stop the batch; an unavailable bus/store stops the batch without committing the
// rest (re-polled on the next PollOnce).
//
// Ownership: borrows everything. Thread-safety: PollOnce from one thread at a time; Wakeup and
// stats from any thread.
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/bus/bus.h"
#include "common/bus/memory_bus.h"
#include "common/clock.h"
#include "common/status.h"
#include "ingest/events/cloud_event.h"
#include "ingest/events/event_trigger.h"
#include "orchestrator/expressions/expressions.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/store/resource_store.h"

namespace bora::events {

// "<prefix>bora.ingest".
std::string IngestTopic(std::string_view prefix = "");
// Creates the topic with `partitions` if it does not exist yet (an existing topic is kept as it
// is).
Status EnsureIngestTopic(Bus* bus, std::string_view prefix, int partitions = 1);
// Ensures the topic (partitions >= 1; skipped when !ensure_topic), publishes every event (structured JSON,
// key source+id) and waits for their acknowledgements (Bus::PublishAndWait), so the events are durable
// when it returns OK.
Status PublishIngestEvents(Bus* bus, std::string_view prefix, const std::vector<CloudEvent>& events,
                           int partitions = 1,
                           std::chrono::milliseconds flush_timeout = std::chrono::seconds(10),
                           bool ensure_topic = true);

struct IngestOptions {
  std::string topic_prefix;
  std::string group = "bora-ingest";
  int partitions = 1;  // of bora.ingest, when this processor creates it
  std::chrono::milliseconds dedupe_window = std::chrono::minutes(10);
  size_t max_messages_per_poll = 256;
  int max_depth = 64;
  expr::Limits expression_limits;
  std::chrono::milliseconds flush_timeout = std::chrono::seconds(10);
  // On a MemoryBus (embedded mode), free committed messages (TrimBefore). Turn off when another
  // consumer group also reads bora.ingest from the same MemoryBus.
  bool trim_memory_bus = true;
};

struct IngestStats {
  uint64_t events = 0;        // decoded events
  uint64_t malformed = 0;     // messages that were not CloudEvents (skipped)
  uint64_t duplicates = 0;    // events seen within the window
  uint64_t unmatched = 0;     // events no trigger matched
  uint64_t started = 0;       // starts published
  uint64_t start_errors = 0;  // starts refused (unknown workflow, bad input, mapping errors)
  uint64_t reissued = 0;      // duplicates whose execution did not exist: start re-issued (same id)
};

// What processing one event did.
struct EventOutcome {
  bool duplicate = false;             // seen within the dedupe window
  std::vector<std::string> started;   // execution ids
  std::vector<std::string> reissued;  // duplicate whose execution did not exist: start re-issued
  std::vector<std::string> errors;    // "trigger <id>: <message>"
};

class IngestProcessor {
 public:
  IngestProcessor(IngestOptions options, Bus* bus, store::ResourceStore* resources,
                  runtime::ExecutionClient* executions);
  ~IngestProcessor();

  // Polls up to max_messages_per_poll messages (waiting at most `timeout`), processes them and
  // commits. Returns the number of messages handled (malformed ones included).
  Result<size_t> PollOnce(std::chrono::milliseconds timeout);
  // Processes one event (dedupe, match, start) without the bus. Not-OK only for transient failures
  // (kUnavailable from the store or the bus).
  Result<EventOutcome> ProcessEvent(const CloudEvent& event);
  // Wakes a blocked PollOnce.
  void Wakeup();
  IngestStats stats() const;

 private:
  Status EnsureConsumer();
  Result<std::vector<EventTrigger>> LoadTriggers();
  Result<EventOutcome> ProcessWith(const std::vector<EventTrigger>& triggers,
                                   const CloudEvent& event);

  IngestOptions options_;
  Bus* bus_;
  store::ResourceStore* resources_;
  runtime::ExecutionClient* executions_;
  std::unique_ptr<Consumer> consumer_;                   // created by the first PollOnce
  std::atomic<Consumer*> consumer_for_wakeup_{nullptr};  // the same, for Wakeup from other threads
  MemoryBus* memory_bus_ = nullptr;  // when the bus is a MemoryBus: committed messages are trimmed
  mutable std::atomic<uint64_t> stats_[7] = {};
};

}  // namespace bora::events
