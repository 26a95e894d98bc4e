#include "workers/action_worker.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <exception>
#include <thread>

#include "common/check.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/metrics/metrics.h"
#include "sdk/protocol/protocol.h"
#include "workers/worker_pool.h"

namespace bora::workers {

namespace {

// The orchestrator's produce time of a RunAction (metrics::kScheduledAtHeader), or 0.
int64_t ScheduledAtUs(const BusMessage& m) {
  for (const auto& [name, value] : m.headers) {
    if (name != metrics::kScheduledAtHeader) continue;
    int64_t us = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), us);
    return ec == std::errc() ? us : 0;
  }
  return 0;
}

}  // namespace

ActionWorker::ActionWorker(ActionWorkerOptions options, Bus* bus,
                           const workers::ActionRegistry* registry, const Clock* clock,
                           Executor executor)
    : options_(std::move(options)),
      bus_(bus),
      registry_(registry),
      clock_(clock),
      executor_(std::move(executor)) {
  BORA_CHECK(bus_ != nullptr && registry_ != nullptr && clock_ != nullptr)
      << "ActionWorker needs a bus, a registry and a clock";
}

Status ActionWorker::Start() {
  std::string topic = protocol::ActionsTopic(options_.pool, options_.topic_prefix);
  auto count = bus_->PartitionCount(topic);
  if (!count.ok()) BORA_RETURN_IF_ERROR(bus_->CreateTopic(topic, 1));
  ConsumerOptions co;
  co.group = options_.group + "." + options_.pool;
  co.topics = {topic};
  BORA_ASSIGN_OR_RETURN(consumer_, bus_->Subscribe(co));
  return Status::Ok();
}

void ActionWorker::Wakeup() {
  if (consumer_) consumer_->Wakeup();
}

workers::ActionResult ActionWorker::RunInline(const workers::ActionRegistry& registry,
                                              const workers::ActionRequest& request) {
  workers::Action* action = registry.FindAction(request.action_name);
  if (action == nullptr) {
    return workers::ActionResult::Error(
        Json("Failed to find action [action_name=" + request.action_name + "]"));
  }
  workers::CancelToken token;
  try {
    return action->Run(request, token);
  } catch (const std::exception& e) {
    return workers::ActionResult::Error(Json(std::string(e.what())));
  }
}

ActionWorker::Executor ActionWorker::PoolExecutor(workers::WorkerPool* pool) {
  return [pool](workers::ActionRequest request, Done done) {
    Status s = pool->Submit(
        std::move(request),
        [done](const workers::ActionRequest&, workers::ActionResult r) { done(std::move(r)); });
    if (s.code() == StatusCode::kAlreadyExists) {
      done(workers::ActionResult::Async());  // an async-kind result publishes nothing, only marks
                                             // it done
    } else if (!s.ok()) {
      done(workers::ActionResult::Error(Json("worker pool refused the run: " + s.message())));
    }
  };
}

std::optional<std::string> ActionWorker::EncodeResult(const workers::ActionIds& ids,
                                                      const workers::ActionResult& result) {
  std::optional<engine::ActionCompleted> completed = workers::ActionCompletedOf(ids, result);
  if (!completed) return std::nullopt;  // async: completes later, through the API
  engine::ActionCompleted& done = *completed;
  const std::string& action_execution_id = ids.action_execution_id;
  Result<std::string> text = protocol::EncodeEvent(engine::Event(done));
  // A result the bus cannot carry becomes an error result naming why: the task fails rather than
  // waits for a message the orchestrator would refuse.
  if (std::string why = protocol::WhyNotSendable(text, "the action's result"); !why.empty()) {
    BORA_LOG_WARN("action execution {}: {}", action_execution_id, why);
    done.kind = engine::ActionCompleted::Kind::kError;
    done.data = Json(why);
    text = protocol::EncodeEvent(engine::Event(done));
  }
  if (!text.ok()) {
    BORA_LOG_ERROR("cannot encode the result of action execution {}: {}", action_execution_id,
                   text.status().ToString());
    return std::nullopt;
  }
  return std::move(*text);
}

void ActionWorker::Publish(const workers::ActionIds& ids, const workers::ActionResult& result,
                           const TopicPartition& tp, int64_t offset) {
  const std::string& execution_id = ids.execution_id;
  std::optional<std::string> text = EncodeResult(ids, result);
  if (!text) {
    Finished(tp, offset);
    return;
  }
  std::string copy = *text;
  Status s =
      bus_->Publish(protocol::EventsTopic(options_.topic_prefix), execution_id, std::move(*text));
  if (!s.ok()) {
    BORA_LOG_WARN("cannot publish the result of action execution {} (kept, sent again): {}",
                  ids.action_execution_id, s.ToString());
    MutexLock lock(unpublished_mu_);
    unpublished_.push_back({tp, offset, execution_id, std::move(copy)});
    return;
  }
  Finished(tp, offset);
}

std::optional<size_t> ActionWorker::RetryUnpublished() {
  std::vector<Unpublished> pending;
  {
    MutexLock lock(unpublished_mu_);
    pending.swap(unpublished_);
  }
  if (pending.empty()) return 0;
  const std::string events_topic = protocol::EventsTopic(options_.topic_prefix);
  std::vector<Bus::TopicRecord> records;
  records.reserve(pending.size());
  for (auto& u : pending) records.push_back({events_topic, u.key, u.value});
  Status s = bus_->PublishMany(records);
  std::vector<Unpublished> left;
  for (size_t i = 0; i < pending.size(); ++i) {
    // PublishMany moves out the values it published; what is left was not.
    if (!s.ok() && !records[i].value.empty()) {
      left.push_back(std::move(pending[i]));
    } else {
      Finished(pending[i].tp, pending[i].offset);
    }
  }
  if (left.empty()) {
    if (publish_failing_) BORA_LOG_INFO("action results are published again");
    publish_failing_ = false;
    return pending.size();
  }
  if (!publish_failing_) {
    BORA_LOG_ERROR("{} action results wait to be published: {}", left.size(), s.ToString());
  }
  publish_failing_ = true;
  MutexLock lock(unpublished_mu_);
  unpublished_.insert(unpublished_.end(), std::make_move_iterator(left.begin()),
                      std::make_move_iterator(left.end()));
  return std::nullopt;
}

void ActionWorker::Finished(const TopicPartition& tp, int64_t offset) {
  MutexLock lock(progress_mu_);
  progress_[tp].in_flight.erase(offset);
}

std::vector<std::pair<TopicPartition, int64_t>> ActionWorker::CommittedPositions() {
  MutexLock lock(progress_mu_);
  std::vector<std::pair<TopicPartition, int64_t>> out;
  out.reserve(progress_.size());
  for (const auto& [tp, p] : progress_) out.emplace_back(tp, p.committed);
  return out;
}

Status ActionWorker::CommitProgress() {
  std::vector<std::pair<TopicPartition, int64_t>> to_commit;
  {
    MutexLock lock(progress_mu_);
    for (auto& [tp, p] : progress_) {
      int64_t position = p.in_flight.empty() ? p.next : *p.in_flight.begin();
      if (position > p.committed) to_commit.emplace_back(tp, position);
    }
  }
  if (to_commit.empty()) return Status::Ok();
  BORA_RETURN_IF_ERROR(bus_->Flush(std::chrono::seconds(30)));
  for (const auto& [tp, position] : to_commit) {
    BORA_RETURN_IF_ERROR(consumer_->Commit(tp, position));
    MutexLock lock(progress_mu_);
    progress_[tp].committed = position;
  }
  return Status::Ok();
}

Result<size_t> ActionWorker::PollOnce(std::chrono::milliseconds timeout) {
  if (!consumer_) return FailedPrecondition("ActionWorker::Start was not called");
  const std::optional<size_t> republished = RetryUnpublished();
  if (!republished) {
    // The bus refuses results: take no new requests (their results would pile up) until it takes
    // them again; retried every 100 ms at most.
    std::this_thread::sleep_for(
        std::min<std::chrono::milliseconds>(timeout, std::chrono::milliseconds(100)));
    return 0;
  }
  BORA_ASSIGN_OR_RETURN(auto messages, consumer_->Poll(options_.max_batch, timeout));
  // Requests run here (quick actions, bad messages) are done before the next one is looked at: they
  // only advance `next`. Requests handed to the executor are tracked in `in_flight` until their
  // result is out.
  auto done_inline = [this](const TopicPartition& tp, int64_t offset) {
    MutexLock lock(progress_mu_);
    Progress& p = progress_[tp];
    p.next = std::max(p.next, offset + 1);
  };
  // Results of the requests run here go out together after the loop (one PublishMany: on the
  // MemoryBus one lock and one wake-up of the orchestrator per poll instead of per result); their
  // requests count as done only then.
  std::vector<Bus::TopicRecord> inline_results;
  std::vector<std::pair<TopicPartition, int64_t>> published_inline;
  std::vector<std::pair<TopicPartition, int64_t>> inline_requests;  // of each inline_results[i]
  const std::string events_topic = protocol::EventsTopic(options_.topic_prefix);
  for (auto& m : messages) {
    TopicPartition tp{m.topic, m.partition};
    auto run = protocol::DecodeRunAction(m.value);
    if (!run.ok()) {
      BORA_LOG_WARN("dropping a bad action request at {}:{}@{}: {}", m.topic, m.partition, m.offset,
                    run.status().ToString());
      done_inline(tp, m.offset);
      continue;
    }
    // The key is the execution id (and m outlives the scope; `run` is moved into the request
    // below).
    ScopedLogFields log_fields({m.key, {}, -1});
    const int64_t scheduled_at_us = ScheduledAtUs(m);
    workers::ActionRequest request = workers::ActionRequest::FromRun(*std::move(run));
    workers::Action* impl = registry_->FindAction(request.action_name);
    if (!executor_ ||
        (!options_.executor_runs_all && (impl == nullptr || !impl->MayBlock(request)))) {
      // Quick actions (std.noop, std.echo without delay...) run here: a pool hop costs more than
      // they do.
      if (scheduled_at_us > 0) {
        metrics::ActionScheduledToStart(
            options_.pool, static_cast<double>(clock_->NowUs() - scheduled_at_us) / 1e6);
      }
      ScopedLogFields log_task({{}, request.task_execution_id, -1});
      auto started = std::chrono::steady_clock::now();
      workers::ActionResult result = RunInline(*registry_, request);
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      metrics::ActionFinished(options_.pool, request.action_name,
                              workers::ActionResultName(result.kind), took.count());
      if (auto text = EncodeResult(workers::ActionIds::Of(request), result)) {
        inline_results.push_back({events_topic, request.execution_id, std::move(*text)});
        inline_requests.emplace_back(tp, m.offset);
      }
      published_inline.emplace_back(std::move(tp), m.offset);
      continue;
    }
    {
      MutexLock lock(progress_mu_);
      Progress& p = progress_[tp];
      // The same message again while this worker still runs it (the partition came back after a
      // rebalance and was re-read from the committed offset): the run in progress will publish the
      // result.
      if (p.in_flight.count(m.offset)) continue;
      p.in_flight.insert(m.offset);
      p.next = std::max(p.next, m.offset + 1);
    }
    int64_t offset = m.offset;
    // A WorkerPool behind the executor observes schedule-to-start when a thread takes the run.
    workers::ScopedSubmitContext submit_context(options_.pool, scheduled_at_us, clock_);
    workers::ActionIds ids = workers::ActionIds::Of(request);
    executor_(std::move(request),
              [this, ids = std::move(ids), tp, offset](workers::ActionResult result) {
                Publish(ids, result, tp, offset);
              });
  }
  if (!inline_results.empty()) {
    if (Status s = bus_->PublishMany(inline_results); !s.ok()) {
      // What was not published (its value is still there) is kept and sent again; its request stays
      // in flight meanwhile, so the committed position does not pass it.
      BORA_LOG_WARN("cannot publish action results (kept, sent again): {}", s.ToString());
      MutexLock progress(progress_mu_);
      MutexLock lock(unpublished_mu_);
      for (size_t i = 0; i < inline_results.size(); ++i) {
        if (inline_results[i].value.empty()) continue;
        const auto& [tp, offset] = inline_requests[i];
        progress_[tp].in_flight.insert(offset);
        unpublished_.push_back(
            {tp, offset, std::move(inline_results[i].key), std::move(inline_results[i].value)});
      }
    }
  }
  for (const auto& [tp, offset] : published_inline) done_inline(tp, offset);
  // Serve the delivery reports of the results published above (the producer sends them at once:
  // linger 0).
  if (!messages.empty()) bus_->ServeDeliveries();
  auto now = std::chrono::steady_clock::now();
  if (now >= next_commit_) {
    next_commit_ = now + options_.commit_interval;
    BORA_RETURN_IF_ERROR(CommitProgress());
  }
  return messages.size() + *republished;
}

}  // namespace bora::workers
