#include "orchestrator/partition/orchestrator.h"

#include <algorithm>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/check.h"
#include "common/log.h"
#include "common/metrics/metrics.h"
#include "orchestrator/partition/lifecycle_log.h"
#include "sdk/protocol/protocol.h"

namespace bora::partition {

namespace {

// Label-free series bumped on the hot path (looked up once).
struct HotMetrics {
  prometheus::Counter& applied = metrics::Get().events_applied.Add({});
  prometheus::Counter& commits = metrics::Get().commits.Add({});
  prometheus::Counter& timers = metrics::Get().timers_fired.Add({});
};
HotMetrics& Hot() {
  static HotMetrics* m = new HotMetrics();
  return *m;
}

// The task execution `event` may complete, as known before it is applied (a view into `event` or, for a
// timer, a copy in `scratch`, because applying removes the timer).
std::string_view TaskOfEvent(const engine::ExecutionState& state, const engine::Event& event,
                             std::string& scratch) {
  if (auto* e = std::get_if<engine::ActionCompleted>(&event)) return e->task_execution_id;
  if (auto* e = std::get_if<engine::SubWorkflowCompleted>(&event)) return e->task_execution_id;
  if (auto* e = std::get_if<engine::SkipTask>(&event)) return e->task_execution_id;
  if (auto* e = std::get_if<engine::TimerFired>(&event)) {
    auto it = state.timers.find(e->timer_id);
    if (it == state.timers.end()) return {};
    scratch = it->second.task_execution_id;
    return scratch;
  }
  return {};
}

// What a batch observed; bumped and logged only once the batch is committed, so a refused commit
// counts and logs nothing (the batch applied again after it does, once).
struct BatchObservations {
  struct Finished {
    std::string workflow, task;  // task empty: an execution
    engine::State state;
    double seconds;
  };
  std::vector<std::string> started;  // workflow names
  std::vector<Finished> finished;
  std::vector<std::string> refused;  // reasons
  std::vector<LifecycleLine> lifecycle;  // executions started and finished, in order
  size_t applied = 0;
  size_t purged = 0;
  void Publish() {
    if (purged > 0) metrics::Get().executions_purged.Add({}).Increment(static_cast<double>(purged));
    for (const auto& wf : started) metrics::ExecutionStarted(wf);
    for (const auto& f : finished) {
      if (f.task.empty()) {
        metrics::ExecutionFinished(f.workflow, engine::StateName(f.state), f.seconds);
      } else {
        metrics::TaskFinished(f.workflow, f.task, engine::StateName(f.state), f.seconds);
      }
    }
    for (const auto& r : refused) metrics::Get().events_refused.Add({{"reason", r}}).Increment();
    if (applied > 0) Hot().applied.Increment(static_cast<double>(applied));
    for (const auto& line : lifecycle) LogLifecycle(line);
  }
};

}  // namespace

struct Orchestrator::PartitionBatch {
  int partition = 0;
  Owned* owned = nullptr;
  std::vector<const BusMessage*> msgs;
  // DecodeBatch: one decoded event (or the decoding error) per message at or above the stored offset.
  struct Item {
    const BusMessage* msg;
    Result<engine::Event> event;
  };
  std::vector<Item> items;
  size_t skipped = 0;  // replays below the stored offset
  // Executions neither touched nor cached: read from the store before ApplyBatch (null = none stored).
  std::vector<std::string> to_load;
  std::unordered_map<std::string, std::shared_ptr<engine::ExecutionState>> loaded;
  // ApplyBatch: the states it changed, the events applied (for the observer), what to commit.
  std::unordered_map<std::string, std::shared_ptr<engine::ExecutionState>> touched;
  // Executions deleted by this batch (DeleteExecution) and not started again after.
  std::unordered_set<std::string> purged;
  std::vector<std::pair<std::shared_ptr<engine::ExecutionState>, engine::Event>> applied;
  store::CommitBatch commit;
  BatchObservations observed;
  std::unique_lock<std::mutex> writer_lock;  // from ApplyBatch to FinishBatch
};

struct Orchestrator::Pending {
  std::vector<BusMessage> messages;
  std::vector<PartitionBatch> batches;
  std::vector<store::PartitionCommit> commits;
  std::unique_ptr<store::PartitionStore::SentCommits> sent;
};

Orchestrator::Orchestrator(OrchestratorOptions options, Bus* bus, store::PartitionStore* store,
                           const engine::Engine* engine, const Clock* clock,
                           ExecutionObserver* observer)
    : options_(std::move(options)),
      bus_(bus),
      store_(store),
      engine_(engine),
      clock_(clock),
      observer_(observer) {
  BORA_CHECK(bus_ != nullptr && store_ != nullptr && engine_ != nullptr && clock_ != nullptr)
      << "Orchestrator needs a bus, a store, an engine and a clock";
}

Orchestrator::~Orchestrator() {
  AbandonPending();
  metrics::AddPartitionsOwned(-static_cast<int64_t>(reported_owned_));
}

// bora_partitions_owned is the process's sum over its orchestrators: each adds its own change.
void Orchestrator::ReportOwned() {
  metrics::AddPartitionsOwned(static_cast<int64_t>(owned_.size()) -
                              static_cast<int64_t>(reported_owned_));
  reported_owned_ = owned_.size();
}

Status Orchestrator::Start() {
  ConsumerOptions co;
  co.group = options_.group;
  co.topics = {protocol::EventsTopic(options_.topic_prefix)};
  co.listener = this;
  BORA_ASSIGN_OR_RETURN(auto consumer, bus_->Subscribe(co));
  MutexLock lock(consumer_mu_);
  consumer_ = std::move(consumer);
  return Status::Ok();
}

void Orchestrator::Release() {
  std::string partitions;
  for (const auto& [p, _] : owned_)
    partitions += (partitions.empty() ? "" : ",") + std::to_string(p);
  BORA_LOG_WARN(
      "the state store has failed every claim for {} s: leaving the consumer group so that another "
      "orchestrator takes partitions [{}]; joining again once the store answers",
      (clock_->NowUs() - *store_failing_since_) / 1'000'000, partitions);
  AbandonPending();
  std::unique_ptr<Consumer> leaving;
  {
    MutexLock lock(consumer_mu_);
    leaving = std::move(consumer_);
  }
  // Closing it leaves the group (a rebalance callback may still run: owned_ is cleared after).
  leaving.reset();
  owned_.clear();
  ReportOwned();
  released_ = true;
  ++stats_.released;
}

Result<size_t> Orchestrator::PollReleased(std::chrono::milliseconds timeout) {
  // Any read tells whether the store answers again.
  auto probe = store_->NextTimer(PartitionId(0));
  if (!probe.ok()) {
    if (timeout.count() > 0) {
      Mutex mu;
      CondVar cv;  // never notified: a bounded pause before asking again
      MutexLock lock(mu);
      cv.WaitFor(mu, std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(100)));
    }
    return size_t{0};
  }
  BORA_RETURN_IF_ERROR(Start());
  released_ = false;
  store_failing_since_.reset();
  BORA_LOG_INFO("the state store answers again: joined the consumer group");
  return size_t{0};
}

Status Orchestrator::Claim(int partition, Owned& owned) {
  auto claimed = store_->ClaimPartition(PartitionId(partition));
  if (!claimed.ok()) {
    if (!store_failing_since_) store_failing_since_ = clock_->NowUs();
    return claimed.status();
  }
  store_failing_since_.reset();
  store::PartitionClaim claim = std::move(claimed).value();
  owned.epoch = claim.epoch;
  owned.next_offset = claim.next_offset;
  owned.unsent = std::move(claim.outbox);
  owned.pending_ack = 0;
  owned.batches_since_ack = 0;
  owned.in_flight.clear();  // the stored outbox (just taken) holds whatever they carried
  owned.cache.clear();
  BORA_ASSIGN_OR_RETURN(owned.next_timer, store_->NextTimer(PartitionId(partition)));
  BORA_RETURN_IF_ERROR(
      consumer_->Seek({protocol::EventsTopic(options_.topic_prefix), partition}, owned.next_offset));
  owned.needs_claim = false;
  metrics::PartitionClaimed(partition, owned.epoch.value());
  BORA_LOG_DEBUG("partition {} claimed: epoch {}, offset {}, {} outbox entries to re-send", partition,
                 owned.epoch, owned.next_offset, owned.unsent.size());
  return Status::Ok();
}

void Orchestrator::OnAssigned(const std::vector<TopicPartition>& partitions) {
  metrics::SetOrchestratorAssigned(true);
  if (Status s = Flush(); !s.ok() && callback_error_.ok()) callback_error_ = s;
  for (const auto& tp : partitions) {
    ScopedLogFields log_fields({{}, {}, tp.partition});
    Owned& owned = owned_[tp.partition];
    owned = Owned();
    Status s = Claim(tp.partition, owned);
    if (s.ok()) {
      // `--log-level debug` shows ownership changes.
      BORA_LOG_DEBUG("partition {} assigned: epoch {}, next offset {}", tp.partition, owned.epoch,
                     owned.next_offset);
    } else {
      // Keep the partition, marked: PollOnce claims it again before reading it, so nothing is skipped.
      owned.needs_claim = true;
      BORA_LOG_ERROR("cannot claim partition {} yet: {}", tp.partition, s.ToString());
    }
  }
  ReportOwned();
}

void Orchestrator::OnRevoked(const std::vector<TopicPartition>& partitions) {
  // The outstanding commit's batches point at the partitions' state: finish them first.
  if (Status s = Flush(); !s.ok() && callback_error_.ok()) callback_error_ = s;
  for (const auto& tp : partitions) owned_.erase(tp.partition);
  ReportOwned();
}

std::vector<PartitionId> Orchestrator::OwnedPartitions() const {
  std::vector<PartitionId> out;
  for (const auto& [p, _] : owned_) out.emplace_back(p);
  return out;
}

std::vector<std::pair<int, int64_t>> Orchestrator::AppliedOffsets() const {
  std::vector<std::pair<int, int64_t>> out;
  out.reserve(owned_.size());
  for (const auto& [p, owned] : owned_) out.emplace_back(p, owned.next_offset);
  return out;
}

void Orchestrator::Wakeup() {
  MutexLock lock(consumer_mu_);
  if (consumer_) consumer_->Wakeup();
}

std::optional<TimestampUs> Orchestrator::NextTimer() {
  std::optional<TimestampUs> best;
  for (const auto& [p, owned] : owned_) {
    if (owned.next_timer && (!best || *owned.next_timer < *best)) best = owned.next_timer;
  }
  return best;
}

Result<size_t> Orchestrator::PollOnce(std::chrono::milliseconds timeout) {
  if (released_) return PollReleased(timeout);
  auto r = PollOnceImpl(timeout);
  if (!r.ok() && store_failing_since_ && options_.release_after_store_outage.count() > 0 &&
      clock_->NowUs() - *store_failing_since_ >=
          std::chrono::duration_cast<std::chrono::microseconds>(options_.release_after_store_outage)
              .count()) {
    Release();
    return r;
  }
  if (!r.ok()) {
    // A store or bus failure may mean a restart that lost recent writes (Redis with appendfsync everysec
    // loses up to a second). Claim every partition again before going on: each one resumes from what the
    // store really holds and replays the rest of the log deterministically, so nothing is skipped. An
    // outstanding commit is awaited and forgotten (the claim re-sends whatever outbox it stored).
    AbandonPending();
    for (auto& [p, owned] : owned_) owned.needs_claim = true;
  }
  return r;
}

Status Orchestrator::Flush() {
  size_t done = 0;
  return CompletePending(nullptr, &done);
}

void Orchestrator::AbandonPending() {
  if (!pending_) return;
  (void)pending_->sent->Await();
  pending_.reset();
}

void Orchestrator::MarkSent(PartitionBatch& b) {
  Owned& owned = *b.owned;
  owned.next_offset = b.commit.next_offset;
  // Keep live executions cached; finished ones rarely get another event (a miss just reads the store), and
  // are evicted once the commit is awaited: until then the cache must hold every state it writes, since a
  // load may not see them yet.
  constexpr size_t kMaxCached = 100'000;
  if (owned.cache.size() > kMaxCached) owned.cache.clear();
  for (auto& [id, st] : b.touched) owned.cache[id] = st;
  // Deleted ones are cached as absent until the commit is awaited (a load might still find them).
  for (const auto& id : b.purged) owned.cache[id] = nullptr;
  for (const auto& t : b.commit.timers_set) {
    if (!owned.next_timer || t.fire_at < *owned.next_timer) owned.next_timer = t.fire_at;
  }
}

Status Orchestrator::CompletePending(std::vector<PartitionBatch>* next, size_t* done) {
  if (!pending_) return Status::Ok();
  std::unique_ptr<Pending> pending = std::move(pending_);
  std::vector<Status> committed = pending->sent->Await();
  BORA_CHECK(committed.size() == pending->batches.size())
      << "SentCommits::Await answered " << committed.size() << " of " << pending->batches.size()
      << " commits";
  Status first_error = Status::Ok();
  std::vector<int> lost;
  for (size_t i = 0; i < pending->batches.size(); ++i) {
    PartitionBatch& b = pending->batches[i];
    const int p = b.partition;
    Status s = committed[i];
    if (s.ok()) {
      s = FinishBatch(b);
    } else {
      b.writer_lock = {};
    }
    if (s.code() == StatusCode::kAborted) {
      ++stats_.fenced;
      BORA_LOG_WARN("partition {} lost: {}", p, s.message());
      metrics::PartitionFenced(p);
      lost.push_back(p);
      continue;
    }
    if (!s.ok()) {
      // The batch is not committed (or not produced): claim again and re-read from the stored offset.
      b.owned->needs_claim = true;
      if (first_error.ok()) first_error = s;
      continue;
    }
    *done += b.msgs.size();
  }
  if (next != nullptr) {
    if (!first_error.ok()) {
      next->clear();  // applied on top of a commit that failed; PollOnce claims every partition again
    } else if (!lost.empty()) {
      next->erase(std::remove_if(next->begin(), next->end(),
                                 [&](const PartitionBatch& b) {
                                   return std::find(lost.begin(), lost.end(), b.partition) != lost.end();
                                 }),
                  next->end());
    }
  }
  pending.reset();  // the batches point at the partitions erased below
  for (int p : lost) owned_.erase(p);
  if (!lost.empty()) ReportOwned();
  return first_error;
}

Result<size_t> Orchestrator::PollOnceImpl(std::chrono::milliseconds timeout) {
  if (!consumer_) return FailedPrecondition("Orchestrator::Start was not called");
  size_t done = 0;
  // Claim again what the store failed us on (nothing is read from such a partition until this succeeds),
  // then re-send what an earlier round committed but did not produce. A claim resets the partition's
  // cache and offset: an outstanding commit is finished first.
  for (auto& [p, owned] : owned_) {
    if (owned.needs_claim && pending_) BORA_RETURN_IF_ERROR(CompletePending(nullptr, &done));
  }
  for (auto& [p, owned] : owned_) {
    if (owned.needs_claim) BORA_RETURN_IF_ERROR(Claim(p, owned));
    if (!owned.unsent.empty()) BORA_RETURN_IF_ERROR(Produce(p, owned));
  }
  BORA_RETURN_IF_ERROR(ServeAndReap());
  // Don't block when a timer is already due, nor while a commit is outstanding (its outbox waits).
  auto next_timer = NextTimer();
  if (next_timer && *next_timer <= clock_->NowUs()) timeout = std::chrono::milliseconds(0);
  if (pending_) timeout = std::chrono::milliseconds(0);
  // Phase timings (bora_orchestrator_loop_phase_seconds): each Mark observes the time since the last one.
  metrics::LoopPhases& phases = metrics::OrchestratorLoopPhases();
  auto phase_start = std::chrono::steady_clock::now();
  auto mark = [&phase_start](prometheus::Histogram& h) {
    auto now = std::chrono::steady_clock::now();
    h.Observe(std::chrono::duration<double>(now - phase_start).count());
    phase_start = now;
  };
  BORA_ASSIGN_OR_RETURN(std::vector<BusMessage> messages, consumer_->Poll(options_.max_batch, timeout));
  mark(phases.wait);
  BORA_RETURN_IF_ERROR(std::exchange(callback_error_, Status::Ok()));
  if (messages.empty() && pending_) {
    BORA_RETURN_IF_ERROR(CompletePending(nullptr, &done));
    mark(phases.await);
  }
  // A partition assigned during this poll brings its previous owner's unacknowledged outbox: send it first,
  // before anything new for the partition.
  for (auto& [p, owned] : owned_) {
    if (owned.needs_claim) BORA_RETURN_IF_ERROR(Claim(p, owned));
    if (owned.unsent.empty()) continue;
    done += owned.unsent.size();
    BORA_RETURN_IF_ERROR(Produce(p, owned));
  }
  BORA_RETURN_IF_ERROR(ServeAndReap());

  const bool idle = messages.empty();
  std::map<int, std::vector<const BusMessage*>> by_partition;
  for (const auto& m : messages) by_partition[m.partition].push_back(&m);
  std::vector<PartitionBatch> batches;
  batches.reserve(by_partition.size());
  for (auto& [p, msgs] : by_partition) {
    auto it = owned_.find(p);
    if (it == owned_.end()) continue;  // revoked meanwhile; the new owner replays them
    if (it->second.needs_claim) continue;  // re-read after the claim (Claim seeks back)
    PartitionBatch& b = batches.emplace_back();
    b.partition = p;
    b.owned = &it->second;
    b.msgs = std::move(msgs);
    DecodeBatch(b);
  }
  // Every execution the poll needs and no cache holds, in one store round trip.
  std::vector<store::ExecutionKey> keys;
  for (auto& b : batches) {
    for (auto& id : b.to_load) {
      keys.push_back({PartitionId(b.partition), ExecutionId(std::move(id))});
    }
  }
  if (!keys.empty()) {
    auto states = store_->LoadExecutions(keys);
    BORA_CHECK(states.size() == keys.size())
        << "LoadExecutions answered " << states.size() << " of " << keys.size() << " keys";
    size_t k = 0;
    for (auto& b : batches) {
      for (size_t i = 0; i < b.to_load.size(); ++i, ++k) {
        if (!states[k].ok()) {
          b.owned->needs_claim = true;
          return states[k].status();
        }
        b.loaded[keys[k].execution_id.value()] = std::move(*states[k]);
      }
    }
    mark(phases.load);
  }
  for (auto& b : batches) {
    if (Status s = ApplyBatch(b); !s.ok()) {
      b.owned->needs_claim = true;
      return s;
    }
  }
  if (!batches.empty()) mark(phases.apply);
  // The previous poll's commit (which these batches were applied on top of), then this one's.
  Status first_error = Status::Ok();
  if (pending_) {
    first_error = CompletePending(&batches, &done);
    mark(phases.await);
  }
  const bool had_batches = !batches.empty();
  if (had_batches) {
    auto pending = std::make_unique<Pending>();
    pending->commits.reserve(batches.size());
    for (auto& b : batches) {
      MarkSent(b);
      pending->commits.push_back({PartitionId(b.partition), b.owned->epoch, &b.commit});
    }
    pending->messages = std::move(messages);  // the batches point into it (moving keeps the elements)
    pending->batches = std::move(batches);
    pending->sent = store_->SendCommits(pending->commits);
    // The store has taken the changes (TaskExecution::changed_actions): the next ones start afresh.
    for (auto& b : pending->batches) {
      for (auto& st : b.commit.states) st->ClearChangeLists();
    }
    pending_ = std::move(pending);
    mark(phases.commit);
    // An observer is told about each state as its commit left it: no overlap with one.
    if (!options_.overlap_commits || !store_->PipelinesCommits() || observer_ != nullptr) {
      Status s = CompletePending(nullptr, &done);
      if (first_error.ok()) first_error = s;
      mark(phases.await);
    }
  }
  // Everything produced this round goes on the wire now, in one go.
  Status reaped = ServeAndReap();
  if (had_batches) mark(phases.produce);
  BORA_RETURN_IF_ERROR(first_error);
  BORA_RETURN_IF_ERROR(reaped);
  size_t fired_total = 0;
  for (auto& [p, owned] : owned_) {
    if (owned.needs_claim) continue;
    BORA_ASSIGN_OR_RETURN(size_t fired, FireTimers(p, owned));
    fired_total += fired;
    // Nothing new came in: a good moment to acknowledge what was produced (and confirmed).
    if (idle) BORA_RETURN_IF_ERROR(Ack(p, owned));
  }
  if (fired_total > 0) mark(phases.timers);
  done += fired_total;
  return done;
}

Status Orchestrator::ServeAndReap() {
  bool any = false;
  for (auto& [p, owned] : owned_) any = any || !owned.in_flight.empty();
  if (!any) return Status::Ok();
  bus_->ServeDeliveries();
  Status first_error = Status::Ok();
  for (auto& [p, owned] : owned_) {
    Status s = ReapDeliveries(p, owned);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  return first_error;
}

void Orchestrator::DecodeBatch(PartitionBatch& b) {
  Owned& owned = *b.owned;
  b.items.reserve(b.msgs.size());
  std::unordered_map<std::string_view, bool> seen;  // ids already asked for
  for (const BusMessage* m : b.msgs) {
    if (m->offset < owned.next_offset) {
      ++b.skipped;
      continue;
    }
    auto& item = b.items.emplace_back(PartitionBatch::Item{m, protocol::DecodeEvent(m->value)});
    if (!item.event.ok()) continue;
    const std::string& id = engine::EventExecutionId(*item.event);
    if (owned.cache.count(id) || !seen.emplace(id, true).second) continue;
    b.to_load.push_back(id);
  }
}

Status Orchestrator::ApplyBatch(PartitionBatch& b) {
  const int partition = b.partition;
  Owned& owned = *b.owned;
  ScopedLogFields log_partition({{}, {}, partition});
  b.writer_lock = store_->WriterLock(PartitionId(partition));
  const TimestampUs now = clock_->NowUs();
  BatchObservations& observed = b.observed;
  const bool log_lifecycle = spdlog::should_log(spdlog::level::info);
  std::string timer_task_scratch;
  store::CommitBatch& batch = b.commit;
  batch.next_offset = owned.next_offset;
  auto& touched = b.touched;
  auto& applied = b.applied;
  auto& commands = scratch_commands_;
  stats_.events_skipped += b.skipped;
  batch.outbox.reserve(b.items.size());
  const std::string events_topic = protocol::EventsTopic(options_.topic_prefix);
  std::string actions_topic_pool;  // ActionsTopic() of the last RunAction target (usually the only one)
  std::string actions_topic;

  auto reject = [&](const std::string& id, const Status& why) {
    ++stats_.events_rejected;
    observed.refused.emplace_back(StatusCodeName(why.code()));
    BORA_LOG_DEBUG("event for {} rejected: {}", id, why.ToString());
    if (observer_) observer_->OnRejected(id, why);
  };
  auto put = [&](std::string topic, std::string key, std::string value) {
    batch.outbox.push_back({0, std::move(topic), std::move(key), std::move(value)});
  };

  for (auto& item : b.items) {
    const BusMessage* m = item.msg;
    batch.next_offset = m->offset + 1;
    if (!item.event.ok()) {
      // A message no decoder accepts is never normal (unlike a duplicate start): say so loudly.
      BORA_LOG_WARN("partition {} offset {}: undecodable message for {} refused: {}", partition,
                    m->offset, m->key, item.event.status().message());
      reject(m->key, item.event.status().WithContext("partition " + std::to_string(partition) +
                                                     " offset " + std::to_string(m->offset)));
      continue;
    }
    engine::Event& event = *item.event;
    const std::string& id = engine::EventExecutionId(event);
    const bool is_start = std::holds_alternative<engine::StartExecution>(event);
    ScopedLogFields log_execution({id, {}, -1});

    std::shared_ptr<engine::ExecutionState> state;
    if (b.purged.count(id)) {
      // Deleted earlier in this batch: later events find no execution (a start makes a new one).
    } else if (auto t = touched.find(id); t != touched.end()) {
      state = t->second;
    } else if (auto c = owned.cache.find(id); c != owned.cache.end()) {
      state = c->second;
    } else if (auto l = b.loaded.find(id); l != b.loaded.end()) {
      state = l->second;
    } else {
      BORA_ASSIGN_OR_RETURN(state, store_->LoadExecution(PartitionId(partition), ExecutionId(id)));
    }
    if (state && is_start) {
      reject(id, AlreadyExists("execution " + id + " already exists; the start request is ignored"));
      continue;
    }
    if (!state && !is_start) {
      reject(id, NotFound(std::string(engine::EventName(event)) + " for unknown execution " + id));
      continue;
    }
    bool fresh = !state;
    if (fresh) state = std::make_shared<engine::ExecutionState>();
    // A task this event may complete, and whether it was already complete (observed on transition).
    std::string_view task_id =
        fresh ? std::string_view() : TaskOfEvent(*state, event, timer_task_scratch);
    bool task_was_done = false;
    if (!task_id.empty()) {
      const engine::TaskExecution* t = state->FindTaskById(task_id);
      task_was_done = t == nullptr || engine::IsCompleted(t->state);
    }
    commands.clear();
    Status s = engine_->Apply(*state, event, now, &commands);
    if (!s.ok()) {
      reject(id, s);
      continue;
    }
    ++stats_.events_applied;
    ++observed.applied;
    if (is_start) {
      observed.started.push_back(state->workflow_name);
      if (log_lifecycle) observed.lifecycle.push_back(StartedLine(*state));
    }
    if (!task_id.empty() && !task_was_done) {
      const engine::TaskExecution* t = state->FindTaskById(task_id);
      if (t != nullptr && engine::IsCompleted(t->state)) {
        TimestampUs from = t->started_at != 0 ? t->started_at : t->created_at;
        TimestampUs to = t->finished_at != 0 ? t->finished_at : now;
        observed.finished.push_back(
            {state->workflow_name, t->name, t->state, static_cast<double>(to - from) / 1e6});
      }
    }
    touched.try_emplace(id, state);
    if (fresh) b.purged.erase(id);
    applied.emplace_back(state, std::move(event));

    for (auto& cmd : commands) {
      std::visit(
          [&](auto& c) {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, engine::RunAction>) {
              if (actions_topic.empty() || c.target != actions_topic_pool) {
                actions_topic_pool = c.target;
                actions_topic = protocol::ActionsTopic(c.target, options_.topic_prefix);
              }
              // A command the bus cannot carry (a non-finite number, more than 8 MiB) is not
              // sent: the failure its receiver would have reported is sent instead.
              Result<std::string> text = protocol::EncodeRunAction(c);
              if (std::string why = protocol::WhyNotSendable(text, "the action's input");
                  !why.empty()) {
                engine::ActionCompleted failed{c.execution_id, c.task_execution_id,
                                               c.action_execution_id,
                                               engine::ActionCompleted::Kind::kError, Json(why)};
                put(events_topic, c.execution_id, *protocol::EncodeEvent(engine::Event(failed)));
              } else {
                put(actions_topic, c.execution_id, std::move(*text));
              }
            } else if constexpr (std::is_same_v<T, engine::StartSubWorkflow>) {
              Result<std::string> text = protocol::EncodeEvent(engine::Event(c.start));
              if (std::string why = protocol::WhyNotSendable(text, "the sub-workflow's start");
                  !why.empty()) {
                engine::SubWorkflowCompleted failed;
                failed.execution_id = c.start.parent_execution_id;
                failed.task_execution_id = c.start.parent_task_execution_id;
                failed.sub_execution_id = c.sub_execution_id;
                failed.state = engine::State::kError;
                failed.output = JsonObject();
                failed.state_info = why;
                put(events_topic, failed.execution_id,
                    *protocol::EncodeEvent(engine::Event(failed)));
              } else {
                put(events_topic, c.sub_execution_id, std::move(*text));
              }
            } else if constexpr (std::is_same_v<T, engine::SetTimer>) {
              batch.timers_set.push_back({c.execution_id, c.timer_id, c.fire_at});
            } else if constexpr (std::is_same_v<T, engine::CancelTimer>) {
              auto& set = batch.timers_set;
              set.erase(std::remove_if(set.begin(), set.end(),
                                       [&](const store::TimerEntry& t) {
                                         return t.execution_id == c.execution_id &&
                                                t.timer_id == c.timer_id;
                                       }),
                        set.end());
              batch.timers_cancelled.push_back({c.execution_id, c.timer_id, 0});
            } else if constexpr (std::is_same_v<T, engine::ExecutionFinished>) {
              observed.finished.push_back({c.workflow_name, std::string(), c.state,
                                           static_cast<double>(now - state->created_at) / 1e6});
              if (log_lifecycle) observed.lifecycle.push_back(FinishedLine(*state, now));
              if (!c.parent_execution_id.empty()) {
                engine::SubWorkflowCompleted done;
                done.execution_id = c.parent_execution_id;
                done.task_execution_id = c.parent_task_execution_id;
                done.sub_execution_id = c.execution_id;
                done.state = c.state;
                done.output = c.output;
                done.state_info = c.state_info;
                done.tasks = c.tasks;
                Result<std::string> text = protocol::EncodeEvent(engine::Event(done));
                if (!done.tasks.is_null() &&
                    !protocol::WhyNotSendable(text, "the sub-workflow's tasks").empty()) {
                  // Too large with its tasks: the output goes on, tasks(recursive) will miss them.
                  BORA_LOG_WARN(
                      "sub-workflow {}: its tasks for the parent's tasks(recursive) exceed "
                      "the message limit and are not reported",
                      c.execution_id);
                  done.tasks = Json();
                  text = protocol::EncodeEvent(engine::Event(done));
                }
                if (std::string why = protocol::WhyNotSendable(text, "the sub-workflow's output");
                    !why.empty()) {
                  done.state = engine::State::kError;
                  done.output = JsonObject();
                  done.state_info = why;
                  text = protocol::EncodeEvent(engine::Event(done));
                }
                put(events_topic, c.parent_execution_id, std::move(*text));
              }
            } else if constexpr (std::is_same_v<T, engine::ControlSubExecution>) {
              engine::Event control;
              switch (c.op) {
                case engine::ControlSubExecution::Op::kPause:
                  control = engine::PauseExecution{c.sub_execution_id};
                  break;
                case engine::ControlSubExecution::Op::kResume:
                  control = engine::ResumeExecution{c.sub_execution_id, std::nullopt};
                  break;
                case engine::ControlSubExecution::Op::kCancel:
                  control = engine::CancelExecution{c.sub_execution_id, std::nullopt};
                  break;
                case engine::ControlSubExecution::Op::kPurge:
                  control = engine::PurgeExecution{c.sub_execution_id};
                  break;
              }
              put(events_topic, c.sub_execution_id, *protocol::EncodeEvent(control));
            } else if constexpr (std::is_same_v<T, engine::NotifyParent>) {
              put(events_topic, c.parent_execution_id,
                  *protocol::EncodeEvent(engine::Event(
                      engine::SubWorkflowUpdated{c.parent_execution_id, c.parent_task_execution_id,
                                                 c.execution_id, c.state})));
            } else if constexpr (std::is_same_v<T, engine::DeleteExecution>) {
              // The state goes in this commit, with its ids in the store's index and its live timers.
              store::DeletedExecution& d = batch.deleted.emplace_back();
              d.execution_id = c.execution_id;
              for (const auto& t : state->tasks) {
                d.indexed_ids.push_back(t.id);
                for (const auto& a : t.actions) d.indexed_ids.push_back(a.id);
              }
              for (const auto& [timer_id, timer] : state->timers) {
                batch.timers_cancelled.push_back({c.execution_id, timer_id, 0});
              }
              touched.erase(c.execution_id);
              b.purged.insert(c.execution_id);
              ++observed.purged;
            }
          },
          cmd);
    }
  }

  batch.states.reserve(touched.size());
  for (auto& [id, st] : touched) batch.states.push_back(st);
  return Status::Ok();
}

Status Orchestrator::FinishBatch(PartitionBatch& b) {
  Owned& owned = *b.owned;
  ++stats_.commits;
  Hot().commits.Increment();
  b.observed.Publish();
  // Finished executions leave the cache (MarkSent kept them while the commit was outstanding).
  for (auto& [id, st] : b.touched) {
    if (st->state == engine::State::kSuccess || st->state == engine::State::kError ||
        st->state == engine::State::kCancelled) {
      owned.cache.erase(id);
    }
  }
  for (const auto& id : b.purged) owned.cache.erase(id);
  if (observer_) {
    for (const auto& [st, ev] : b.applied) observer_->OnApplied(*st, ev);
  }
  b.writer_lock = {};
  for (auto& entry : b.commit.outbox) owned.unsent.push_back(std::move(entry));
  return Produce(b.partition, owned);
}

Status Orchestrator::Produce(int partition, Owned& owned) {
  if (owned.unsent.empty()) return Status::Ok();
  uint64_t last_seq = 0;
  size_t sent = 0;
  Status result = Status::Ok();
  const std::string events_topic = protocol::EventsTopic(options_.topic_prefix);
  const BusHeaders scheduled_at = {{metrics::kScheduledAtHeader, std::to_string(clock_->NowUs())}};
  auto tracker = std::make_shared<Bus::DeliveryTracker>();
  // Everything else on the outbox is a RunAction: it carries the produce time (workers' metrics).
  std::vector<Bus::TrackedRecord> records;
  records.reserve(owned.unsent.size());
  for (const auto& entry : owned.unsent) {
    records.push_back({entry.topic, entry.key, entry.value,
                       entry.topic == events_topic ? nullptr : &scheduled_at});
  }
  Status s = bus_->PublishManyTracked(records, tracker, &sent);
  if (sent > 0) last_seq = owned.unsent[sent - 1].seq;
  if (!s.ok()) result = s.WithContext("produce");
  if (sent > 0) {
    stats_.messages_produced += sent;
    owned.unsent.erase(owned.unsent.begin(), owned.unsent.begin() + static_cast<long>(sent));
    // Not awaited: the next batch goes on while Kafka acknowledges this one (ServeAndReap).
    owned.in_flight.emplace_back(std::move(tracker), last_seq);
  }
  return result;
}

Status Orchestrator::ReapDeliveries(int partition, Owned& owned) {
  if (owned.in_flight.empty()) return Status::Ok();
  while (!owned.in_flight.empty() && owned.in_flight.front().first->Done()) {
    std::string error = owned.in_flight.front().first->Error();
    if (!error.empty()) {
      // Claim again: the stored outbox (never acknowledged past this batch) is re-sent.
      owned.in_flight.clear();
      owned.needs_claim = true;
      return Unavailable("produce: " + error);
    }
    owned.pending_ack = owned.in_flight.front().second;
    owned.in_flight.pop_front();
    if (++owned.batches_since_ack >= kAckEvery) BORA_RETURN_IF_ERROR(Ack(partition, owned));
  }
  return Status::Ok();
}

Status Orchestrator::Ack(int partition, Owned& owned) {
  if (owned.pending_ack == 0) return Status::Ok();
  BORA_RETURN_IF_ERROR(store_->AckOutbox(PartitionId(partition), owned.epoch, owned.pending_ack));
  owned.pending_ack = 0;
  owned.batches_since_ack = 0;
  return Status::Ok();
}

Result<size_t> Orchestrator::FireTimers(int partition, Owned& owned) {
  const TimestampUs now = clock_->NowUs();
  if (!owned.next_timer || *owned.next_timer > now) return 0;
  BORA_ASSIGN_OR_RETURN(auto due,
                        store_->DueTimers(PartitionId(partition), now, options_.max_timers));
  const std::string events_topic = protocol::EventsTopic(options_.topic_prefix);
  if (due.empty()) {
    BORA_ASSIGN_OR_RETURN(owned.next_timer, store_->NextTimer(PartitionId(partition)));
    return 0;
  }
  // The TimerFired events must be durable before their timers leave the store: a crash in between would
  // otherwise lose the wake-up (a timer removed, its event only in the producer's memory).
  std::vector<Bus::Record> fired;
  fired.reserve(due.size());
  for (const auto& t : due) {
    fired.push_back(
        {t.execution_id,
         *protocol::EncodeEvent(engine::Event(engine::TimerFired{t.execution_id, t.timer_id})),
         {}});
  }
  BORA_RETURN_IF_ERROR(bus_->PublishAndWait(events_topic, std::move(fired), std::chrono::seconds(30)));
  for (const auto& t : due) {
    BORA_RETURN_IF_ERROR(store_->RemoveTimer(PartitionId(partition), owned.epoch, t));
    ++stats_.timers_fired;
    Hot().timers.Increment();
  }
  BORA_ASSIGN_OR_RETURN(owned.next_timer, store_->NextTimer(PartitionId(partition)));
  return due.size();
}

}  // namespace bora::partition
