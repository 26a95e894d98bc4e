#include "orchestrator/runtime/embedded_runtime.h"

#include <algorithm>

#include "common/disk/disk_bus_journal.h"
#include "common/log.h"
#include "orchestrator/language/parser.h"
#include "orchestrator/runtime/loops.h"
#include "orchestrator/store/memory_resource_store.h"
#include "orchestrator/store/memory_state_store.h"
#include "orchestrator/store/rocksdb_resource_store.h"
#include "orchestrator/store/rocksdb_state_store.h"
#include "sdk/protocol/protocol.h"

namespace bora::runtime {

using namespace std::chrono_literals;

namespace {
bool IsSettled(engine::State s) {
  return s == engine::State::kSuccess || s == engine::State::kError ||
         s == engine::State::kCancelled || s == engine::State::kPaused;
}
}  // namespace

// Forwards orchestrator callbacks to the user's observers and wakes WaitUntilSettled.
class EmbeddedRuntime::FanOut final : public partition::ExecutionObserver {
 public:
  explicit FanOut(EmbeddedRuntime* rt) : rt_(rt) {}
  void OnApplied(const engine::ExecutionState& state, const engine::Event& event) override {
    if (!rt_->observers_.empty()) {
      // Several orchestrator threads; observers see one call at a time.
      MutexLock lock(observers_mu_);
      for (auto* o : rt_->observers_) o->OnApplied(state, event);
    }
    if (IsSettled(state.state)) {
      MutexLock lock(rt_->settle_mu_);
      ++rt_->settle_version_;
      rt_->settle_cv_.NotifyAll();
    }
  }
  void OnRejected(const std::string& execution_id, const Status& why) override {
    if (!rt_->observers_.empty()) {
      MutexLock lock(observers_mu_);
      for (auto* o : rt_->observers_) o->OnRejected(execution_id, why);
    }
    MutexLock lock(rt_->settle_mu_);
    rt_->rejected_[execution_id] = why;
    ++rt_->settle_version_;
    rt_->settle_cv_.NotifyAll();
  }

 private:
  EmbeddedRuntime* rt_;
  Mutex observers_mu_;  // guards no data: serialises the observers' calls
};

namespace {
const Clock* ClockFor(const EmbeddedOptions& options, std::unique_ptr<ManualClock>* manual) {
  if (!options.deterministic) return SystemClock::Get();
  *manual = std::make_unique<ManualClock>();
  return manual->get();
}
}  // namespace

EmbeddedRuntime::EmbeddedRuntime(EmbeddedOptions options) : EmbeddedRuntime(options, Backend{}) {}

Result<std::unique_ptr<EmbeddedRuntime>> EmbeddedRuntime::Open(EmbeddedOptions options) {
  if (options.data_dir.empty()) return std::make_unique<EmbeddedRuntime>(std::move(options));
  options.partitions = std::max(1, options.partitions);
  Backend b;
  disk::DiskDbOptions o;
  o.path = options.data_dir;
  o.fsync = options.fsync;
  o.fsync_interval = options.fsync_interval;
  BORA_ASSIGN_OR_RETURN(b.disk, disk::DiskDb::Open(o));
  store::RocksDbStoreOptions so;
  so.db = b.disk;
  so.partitions = options.partitions;
  BORA_ASSIGN_OR_RETURN(b.store, store::RocksDbStateStore::Open(so));
  BORA_ASSIGN_OR_RETURN(b.bus, disk::OpenDiskBus(b.disk));
  if (auto n = b.bus->PartitionCount(protocol::EventsTopic()); n.ok() && *n != options.partitions) {
    return FailedPrecondition("data directory " + options.data_dir + " has " + std::to_string(*n) +
                              " event partitions, not " + std::to_string(options.partitions));
  }
  // The resource store's clock is the runtime's (a manual one in deterministic mode): made in the
  // constructor.
  return std::unique_ptr<EmbeddedRuntime>(new EmbeddedRuntime(std::move(options), std::move(b)));
}

EmbeddedRuntime::EmbeddedRuntime(EmbeddedOptions options, Backend backend)
    : options_(std::move(options)), disk_(std::move(backend.disk)) {
  if (options_.partitions < 1) options_.partitions = 1;
  clock_ = ClockFor(options_, &manual_clock_);
  if (disk_) {
    bus_ = std::move(backend.bus);
    store_ = std::move(backend.store);
    resources_ = std::make_unique<store::RocksDbResourceStore>(disk_, clock_);
  } else {
    bus_ = std::make_unique<MemoryBus>();
    store_ = std::make_unique<store::MemoryStateStore>(options_.partitions);
    resources_ = std::make_unique<store::MemoryResourceStore>(clock_);
  }
  workers::StdActionOptions std_actions = options_.std_actions;
  std_actions.clock = clock_;
  workers::RegisterStdActions(registry_, std_actions);
  engine_ = std::make_unique<engine::Engine>(&definitions_, &registry_, options_.engine_limits);
  fan_out_ = std::make_unique<FanOut>(this);
  int orchestrators = options_.deterministic
                          ? 1
                          : std::clamp(options_.orchestrator_threads, 1, options_.partitions);
  for (int i = 0; i < orchestrators; ++i) {
    orchestrators_.push_back(std::make_unique<partition::Orchestrator>(
        partition::OrchestratorOptions{}, bus_.get(), store_.get(), engine_.get(), clock_,
        fan_out_.get()));
  }
  client_ = std::make_unique<ExecutionClient>(bus_.get(), store_.get(), engine_.get(),
                                              &definitions_, options_.partitions);
  if (options_.retention.enabled()) {
    retention_ = std::make_unique<ExecutionRetention>(options_.retention, store_.get(),
                                                      client_.get(), clock_, options_.partitions);
    partition_tasks_.push_back(retention_.get());
  }
  // Topics exist from the start, so requests may be queued before Start().
  // (On disk they exist already after the first start; the partition counts were checked by Open.)
  if (Status s = bus_->CreateTopic(protocol::EventsTopic(), options_.partitions); !s.ok()) {
    BORA_LOG_ERROR("{}", s.ToString());
  }
  if (Status s = bus_->CreateTopic(protocol::ActionsTopic("default"), 1); !s.ok()) {
    BORA_LOG_ERROR("{}", s.ToString());
  }
}

EmbeddedRuntime::~EmbeddedRuntime() { Stop(); }

Roles EmbeddedRuntime::roles() {
  Roles r;
  r.bus = bus_.get();
  r.executions = store_.get();
  r.engine = engine_.get();
  r.definitions = &definitions_;
  r.actions = &registry_;
  r.client = client_.get();
  r.clock = clock_;
  r.partitions = options_.partitions;
  r.add_partition_task = [this](PartitionTask* task) { AddPartitionTask(task); };
  r.add_poll_loop = [this](PollLoop loop) { AddPollLoop(std::move(loop)); };
  r.disk = disk_.get();
  r.worker = true;
  r.trim = [this](const TopicPartition& tp, int64_t offset) { bus_->TrimBefore(tp, offset); };
  return r;
}

Status EmbeddedRuntime::LoadYaml(std::string_view yaml_text, const std::string& file_name,
                                 const std::string& namespace_name) {
  lang::ParseOptions po;
  po.file_name = file_name;
  BORA_ASSIGN_OR_RETURN(lang::Document doc, lang::ParseDocument(yaml_text, po));
  definitions_.Add(std::make_shared<const lang::Document>(std::move(doc)), namespace_name);
  return Status::Ok();
}

Status EmbeddedRuntime::Start() {
  if (started_) return Status::Ok();
  // All subscribe before any polls, so the first assignment is already the final one (no rebalance).
  for (auto& o : orchestrators_) BORA_RETURN_IF_ERROR(o->Start());
  workers::ActionWorker::Executor executor;
  if (!options_.deterministic) {
    workers::WorkerPoolOptions po;
    po.concurrency = std::max(1, options_.worker_threads);
    po.max_queue = 1 << 22;  // the bus is the real queue; never refuse here
    pool_ = std::make_unique<workers::WorkerPool>(&registry_, po);
    executor = workers::ActionWorker::PoolExecutor(pool_.get());
  }
  worker_ = std::make_unique<workers::ActionWorker>(workers::ActionWorkerOptions{}, bus_.get(),
                                                    &registry_, clock_, executor);
  BORA_RETURN_IF_ERROR(worker_->Start());
  started_ = true;
  if (!options_.deterministic) {
    for (auto& o : orchestrators_) {
      orchestrator_threads_.emplace_back([this, orch = o.get()] {
        RunOrchestratorLoop(*orch, *clock_, stopping_, partition_tasks_,
                            [this, orch](size_t) { TrimApplied(*orch); });
      });
    }
    worker_thread_ = std::thread(
        [this] { RunWorkerLoop(*worker_, stopping_, [this](size_t) { TrimWorked(); }); });
    for (const PollLoop& loop : poll_loops_) {
      poll_threads_.emplace_back([this, &loop] { RunPollLoop(loop, stopping_); });
    }
  }
  return Status::Ok();
}

void EmbeddedRuntime::Stop() {
  if (!started_) return;
  stopping_ = true;
  for (auto& o : orchestrators_) o->Wakeup();
  worker_->Wakeup();
  for (auto& t : orchestrator_threads_) {
    if (t.joinable()) t.join();
  }
  orchestrator_threads_.clear();
  for (auto& t : poll_threads_) {
    if (t.joinable()) t.join();
  }
  poll_threads_.clear();
  if (worker_thread_.joinable()) worker_thread_.join();
  if (pool_) pool_->Shutdown(true);
  started_ = false;
}

const partition::OrchestratorStats& EmbeddedRuntime::orchestrator_stats() const {
  partition::OrchestratorStats sum;
  for (const auto& o : orchestrators_) {
    const auto& st = o->stats();
    sum.events_applied += st.events_applied;
    sum.events_skipped += st.events_skipped;
    sum.events_rejected += st.events_rejected;
    sum.commits += st.commits;
    sum.messages_produced += st.messages_produced;
    sum.timers_fired += st.timers_fired;
    sum.fenced += st.fenced;
  }
  stats_sum_ = sum;
  return stats_sum_;
}

size_t EmbeddedRuntime::RunPartitionTasks(const partition::Orchestrator& orchestrator) {
  if (partition_tasks_.empty()) return 0;
  return runtime::RunPartitionTasks(partition_tasks_, orchestrator.OwnedPartitions());
}

// Nothing but the runtime's own consumers reads this bus, and they never go back below what they applied
// (orchestrators) or committed (the worker): free those messages, so memory follows the live executions
// rather than the history.
void EmbeddedRuntime::TrimApplied(const partition::Orchestrator& orchestrator) {
  for (const auto& [partition, offset] : orchestrator.AppliedOffsets()) {
    bus_->TrimBefore({events_topic_, partition}, offset);
  }
}

void EmbeddedRuntime::TrimWorked() {
  for (const auto& [tp, offset] : worker_->CommittedPositions()) bus_->TrimBefore(tp, offset);
}

Status EmbeddedRuntime::RunUntilIdle(size_t max_rounds) {
  if (!options_.deterministic) return FailedPrecondition("RunUntilIdle needs deterministic mode");
  if (!started_) BORA_RETURN_IF_ERROR(Start());
  for (size_t round = 0; round < max_rounds; ++round) {
    BORA_ASSIGN_OR_RETURN(size_t applied, orchestrators_[0]->PollOnce(0ms));
    BORA_ASSIGN_OR_RETURN(size_t ran, worker_->PollOnce(0ms));
    if (applied > 0) TrimApplied(*orchestrators_[0]);
    if (ran > 0) TrimWorked();
    for (const PollLoop& loop : poll_loops_) {
      BORA_ASSIGN_OR_RETURN(size_t n, loop.poll_once(0ms));
      ran += n;
    }
    ran += RunPartitionTasks(*orchestrators_[0]);
    if (applied + ran > 0) continue;
    auto next = orchestrators_[0]->NextTimer();
    if (!next) return Status::Ok();
    if (*next > manual_clock_->NowUs()) manual_clock_->Set(*next);
  }
  return ResourceExhausted("the run did not settle within " + std::to_string(max_rounds) + " rounds");
}

Result<engine::ExecutionState> EmbeddedRuntime::WaitUntilSettled(
    const ExecutionId& execution_id, std::chrono::milliseconds timeout) {
  return WaitUntil(execution_id, timeout, [](const engine::ExecutionState&) { return true; });
}

void EmbeddedRuntime::Interrupt() {
  MutexLock lock(settle_mu_);
  interrupted_ = true;
  settle_cv_.NotifyAll();
}

Result<engine::ExecutionState> EmbeddedRuntime::WaitUntil(
    const ExecutionId& execution_id, std::chrono::milliseconds timeout,
    const std::function<bool(const engine::ExecutionState&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t seen;
    Status rejected;
    {
      MutexLock lock(settle_mu_);
      if (interrupted_) return Aborted("interrupted");
      seen = settle_version_;
      if (auto it = rejected_.find(execution_id.value()); it != rejected_.end())
        rejected = it->second;
    }
    BORA_ASSIGN_OR_RETURN(auto state, client_->Get(execution_id));
    if (state && IsSettled(state->state) && done(*state)) return std::move(*state);
    if (!state && !rejected.ok()) return rejected;
    MutexLock lock(settle_mu_);
    if (!settle_cv_.WaitUntil(settle_mu_, deadline, [&] {
          settle_mu_.AssertHeld();
          return settle_version_ != seen || interrupted_;
        })) {
      return DeadlineExceeded("execution " + execution_id.value() + " did not settle in time");
    }
  }
}

}  // namespace bora::runtime
