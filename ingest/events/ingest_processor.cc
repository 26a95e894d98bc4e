#include "ingest/events/ingest_processor.h"

#include <map>

#include "common/log.h"
#include "common/log_line.h"
#include "common/metrics/metrics.h"
#include "ingest/events/signature.h"

namespace bora::events {
namespace {

enum StatIndex { kEvents, kMalformed, kDuplicates, kUnmatched, kStarted, kStartErrors, kReissued };

bool IsTransient(const Status& s) {
  return s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDeadlineExceeded ||
         s.code() == StatusCode::kAborted;
}

std::string RememberKey(const CloudEvent& e) { return "ingest:" + NameBasedUuid(DedupeKey(e)); }

}  // namespace

std::string IngestTopic(std::string_view prefix) { return std::string(prefix) + "bora.ingest"; }

Status EnsureIngestTopic(Bus* bus, std::string_view prefix, int partitions) {
  std::string topic = IngestTopic(prefix);
  if (bus->PartitionCount(topic).ok()) return Status::Ok();
  Status created = bus->CreateTopic(topic, partitions < 1 ? 1 : partitions);
  // Another caller may have created it meanwhile (possibly with another partition count): fine.
  if (created.code() == StatusCode::kAlreadyExists) return Status::Ok();
  return created;
}

Status PublishIngestEvents(Bus* bus, std::string_view prefix, const std::vector<CloudEvent>& events,
                           int partitions, std::chrono::milliseconds flush_timeout, bool ensure_topic) {
  if (bus == nullptr) return FailedPrecondition("no bus to publish events to");
  std::string topic = IngestTopic(prefix);
  if (ensure_topic) BORA_RETURN_IF_ERROR(EnsureIngestTopic(bus, prefix, partitions));
  std::vector<Bus::Record> records;
  records.reserve(events.size());
  for (const auto& e : events) {
    records.push_back({e.source + "\x1f" + e.id, DumpJson(CloudEventToJson(e)), {}});
  }
  // Each accepted event is acknowledged (durable) before the caller answers 202.
  return bus->PublishAndWait(topic, std::move(records), flush_timeout);
}

IngestProcessor::IngestProcessor(IngestOptions options, Bus* bus, store::ResourceStore* resources,
                                 runtime::ExecutionClient* executions)
    : options_(std::move(options)), bus_(bus), resources_(resources), executions_(executions) {}

IngestProcessor::~IngestProcessor() = default;

void IngestProcessor::Wakeup() {
  if (Consumer* c = consumer_for_wakeup_.load(std::memory_order_acquire)) c->Wakeup();
}

IngestStats IngestProcessor::stats() const {
  IngestStats s;
  s.events = stats_[kEvents].load();
  s.malformed = stats_[kMalformed].load();
  s.duplicates = stats_[kDuplicates].load();
  s.unmatched = stats_[kUnmatched].load();
  s.started = stats_[kStarted].load();
  s.start_errors = stats_[kStartErrors].load();
  s.reissued = stats_[kReissued].load();
  return s;
}

Status IngestProcessor::EnsureConsumer() {
  if (consumer_) return Status::Ok();
  std::string topic = IngestTopic(options_.topic_prefix);
  BORA_RETURN_IF_ERROR(EnsureIngestTopic(bus_, options_.topic_prefix, options_.partitions));
  ConsumerOptions co;
  co.group = options_.group;
  co.topics = {topic};
  BORA_ASSIGN_OR_RETURN(consumer_, bus_->Subscribe(co));
  consumer_for_wakeup_.store(consumer_.get(), std::memory_order_release);
  if (options_.trim_memory_bus) memory_bus_ = dynamic_cast<MemoryBus*>(bus_);
  return Status::Ok();
}

Result<std::vector<EventTrigger>> IngestProcessor::LoadTriggers() {
  BORA_ASSIGN_OR_RETURN(auto records, resources_->List(kEventTriggerKind));
  std::vector<EventTrigger> out;
  out.reserve(records.size());
  for (const auto& [key, record] : records) {
    auto t = EventTriggerFromRecord(record);
    if (!t.ok()) {
      BORA_LOG_WARN("ingest: skipping event trigger record '{}': {}", key, t.status().message());
      continue;
    }
    out.push_back(std::move(*t));
  }
  return out;
}

Result<EventOutcome> IngestProcessor::ProcessEvent(const CloudEvent& event) {
  BORA_ASSIGN_OR_RETURN(auto triggers, LoadTriggers());
  return ProcessWith(triggers, event);
}

Result<EventOutcome> IngestProcessor::ProcessWith(const std::vector<EventTrigger>& triggers,
                                                  const CloudEvent& event) {
  EventOutcome outcome;
  std::vector<const EventTrigger*> matching;
  for (const auto& t : triggers)
    if (TriggerMatches(t, event)) matching.push_back(&t);
  if (matching.empty()) {
    // Nothing to start: no dedupe key is written either (no store round trip).
    stats_[kEvents]++;
    stats_[kUnmatched]++;
    metrics::EventUnmatched();
    LogLine(spdlog::level::debug, "event unmatched",
            {LogValue::Str("id", event.id), LogValue::Str("type", event.type),
             LogValue::Str("source", event.source)});
    return outcome;
  }
  BORA_ASSIGN_OR_RETURN(bool first,
                        resources_->Remember(RememberKey(event), options_.dedupe_window));
  stats_[kEvents]++;
  if (!first) {
    stats_[kDuplicates]++;
    metrics::EventDeduplicated();
    outcome.duplicate = true;
  }
  Json event_json = CloudEventToJson(event);
  std::string dedupe_key = DedupeKey(event);
  for (const EventTrigger* trigger : matching) {
    const EventTrigger& t = *trigger;
    std::string execution_id = TriggerExecutionId(t.id, dedupe_key);
    if (outcome.duplicate) {
      // The usual duplicate: its execution exists, nothing to do. If it does not, the first
      // delivery's start may have been lost (a crash or a bus failure after Remember): starting
      // again is safe because the id is deterministic (the engine refuses a second StartExecution
      // for an existing execution).
      auto existing = executions_->Get(ExecutionId(execution_id));
      if (!existing.ok()) {
        if (IsTransient(existing.status())) return existing.status();
        BORA_LOG_WARN("ingest: event {} (source {}): reading execution {}: {}", event.id,
                      event.source, execution_id, existing.status().message());
        continue;
      }
      if (existing->has_value()) continue;
    }
    auto input = MapWorkflowInput(t, event_json, options_.expression_limits);
    if (!input.ok()) {
      if (!outcome.duplicate) stats_[kStartErrors]++;
      outcome.errors.push_back("trigger " + t.id + ": " + input.status().message());
      BORA_LOG_WARN("ingest: event {} (source {}): trigger {}: {}", event.id, event.source, t.id,
                    input.status().message());
      continue;
    }
    runtime::StartRequest request;
    request.workflow_name = t.workflow_name.empty() ? t.workflow_id : t.workflow_name;
    // In the trigger's project (its creator's), whose definitions it names.
    request.workflow_namespace = engine::QualifiedNamespace(t.project_id, t.workflow_namespace);
    request.project_id = engine::IsDefaultProject(t.project_id) ? "" : t.project_id;
    request.input = std::move(*input);
    request.params = TriggerParams(t, event_json);
    JsonObject description;
    description["description"] = "Workflow execution created by event trigger '(" + t.id + ")'.";
    description["triggered_by"] =
        JsonObject{{"type", "event_trigger"}, {"id", t.id}, {"name", t.name}};
    request.description = PythonJsonDumps(description);
    request.execution_id = ExecutionId(execution_id);
    auto started = executions_->Start(request);
    if (!started.ok()) {
      if (IsTransient(started.status())) return started.status();
      if (!outcome.duplicate) stats_[kStartErrors]++;
      outcome.errors.push_back("trigger " + t.id + ": " + started.status().message());
      BORA_LOG_WARN("ingest: event {} (source {}): trigger {} could not start workflow '{}': {}",
                    event.id, event.source, t.id, request.workflow_name,
                    started.status().message());
      continue;
    }
    if (outcome.duplicate) {
      stats_[kReissued]++;
      outcome.reissued.push_back(started->value());
    } else {
      stats_[kStarted]++;
      outcome.started.push_back(started->value());
    }
  }
  return outcome;
}

Result<size_t> IngestProcessor::PollOnce(std::chrono::milliseconds timeout) {
  BORA_RETURN_IF_ERROR(EnsureConsumer());
  BORA_ASSIGN_OR_RETURN(auto messages, consumer_->Poll(options_.max_messages_per_poll, timeout));
  if (messages.empty()) return size_t{0};
  std::map<TopicPartition, int64_t> first;  // first offset per partition in this batch
  std::map<TopicPartition, int64_t> done;   // next offset per partition, processed
  for (const auto& m : messages) first.emplace(TopicPartition{m.topic, m.partition}, m.offset);
  Status failure;
  auto triggers = LoadTriggers();
  if (!triggers.ok()) {
    for (const auto& [tp, offset] : first) (void)consumer_->Seek(tp, offset);
    return triggers.status();
  }
  ParseLimits limits;
  limits.max_depth = options_.max_depth;
  for (const auto& m : messages) {
    TopicPartition tp{m.topic, m.partition};
    auto event = DecodeKafkaMessage(m.headers, m.value, limits);
    if (!event.ok()) {
      stats_[kMalformed]++;
      BORA_LOG_WARN("ingest: skipping malformed message {}[{}]@{}: {}", m.topic, m.partition,
                    m.offset, event.status().message());
      done[tp] = m.offset + 1;
      continue;
    }
    auto outcome = ProcessWith(*triggers, *event);
    if (!outcome.ok()) {
      if (!IsTransient(outcome.status())) {
        // A store answer that is not transient: log and skip rather than loop forever.
        BORA_LOG_ERROR("ingest: event {} (source {}) skipped: {}", event->id, event->source,
                       outcome.status().message());
        done[tp] = m.offset + 1;
        continue;
      }
      failure = outcome.status();
      break;
    }
    done[tp] = m.offset + 1;
  }
  Status flushed = bus_->Flush(options_.flush_timeout);
  if (!flushed.ok()) {
    // Nothing of this batch is known durable: redeliver it (the dedupe check then re-issues the
    // starts whose executions do not exist; their deterministic ids keep that idempotent).
    for (const auto& [tp, offset] : first) (void)consumer_->Seek(tp, offset);
    return flushed;
  }
  for (const auto& [tp, offset] : done) {
    BORA_RETURN_IF_ERROR(consumer_->Commit(tp, offset));
    // Embedded mode: nothing else reads bora.ingest, so committed messages can be freed.
    if (memory_bus_ != nullptr) memory_bus_->TrimBefore(tp, offset);
  }
  if (!failure.ok()) {
    for (const auto& [tp, offset] : first) {
      auto it = done.find(tp);
      (void)consumer_->Seek(tp, it == done.end() ? offset : it->second);
    }
    return failure;
  }
  return messages.size();
}

}  // namespace bora::events
