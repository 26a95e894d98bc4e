#include "orchestrator/runtime/cluster_node.h"

#include "common/log.h"
#include "orchestrator/runtime/loops.h"
#include "sdk/protocol/protocol.h"
#include "workers/external_actions.h"

namespace bora::runtime {

using namespace std::chrono_literals;

namespace {

// Stands in for an action implemented by an external worker: only its signature matters to the
// engine. A C++ worker that receives a request for it answers with an error.
class ExternalAction : public workers::Action {
 public:
  workers::ActionResult Run(const workers::ActionRequest& request,
                            const workers::CancelToken&) override {
    return workers::ActionResult::Error("action " + request.action_name +
                                        " runs in an external worker");
  }
  bool MayBlock(const workers::ActionRequest&) const override { return false; }
};

}  // namespace

Result<std::unique_ptr<ClusterNode>> ClusterNode::Create(const ClusterOptions& options) {
  if (options.partitions < 1) return InvalidArgument("--partitions must be at least 1");
  if (options.orchestrator_loops < 1 || options.orchestrator_loops > options.partitions) {
    return InvalidArgument("--orchestrator-loops must be between 1 and the number of partitions (" +
                           std::to_string(options.partitions) + ")");
  }
  std::unique_ptr<ClusterNode> node(new ClusterNode(options));
  KafkaBusOptions ko;
  ko.brokers = options.kafka;
  ko.session_timeout_ms = options.session_timeout_ms;
  ko.replication_factor = options.replication_factor;
  BORA_ASSIGN_OR_RETURN(node->bus_, KafkaBus::Create(ko));
  store::RedisStoreOptions ro;
  ro.url = options.redis;
  ro.key_prefix = options.prefix;
  ro.partitions = options.partitions;
  BORA_ASSIGN_OR_RETURN(node->store_, store::RedisStateStore::Connect(ro));
  BORA_ASSIGN_OR_RETURN(node->definitions_, store::RedisDefinitions::Connect(options.redis, options.prefix));
  workers::StdActionOptions std_actions = options.std_actions;
  std_actions.clock = SystemClock::Get();
  workers::RegisterStdActions(node->registry_, std_actions);
  for (const auto& name : options.external_actions) {
    if (name.empty()) return InvalidArgument("--external-action needs a name");
    workers::ActionSignature signature;
    signature.name = name;
    signature.accepts_any_params = true;
    signature.description = "runs in an external worker";
    node->registry_.Register(std::move(signature), std::make_shared<ExternalAction>());
  }
  // External actions declared through another process's worker API: looked up in the cluster's
  // stored declarations when the engine meets a name it does not know.
  BORA_ASSIGN_OR_RETURN(node->declarations_,
                        store::RedisResourceStore::Connect(options.redis, options.prefix));
  node->registry_.SetExternalLookup(
      [declarations = node->declarations_.get()](
          std::string_view name) -> std::optional<workers::ActionSignature> {
        auto record = declarations->Get(workers::kExternalActionsKind, name);
        if (!record.ok() || !*record) return std::nullopt;
        auto sig = workers::ExternalActionFromRecord(**record);
        if (!sig.ok()) return std::nullopt;
        return std::move(*sig);
      });
  node->engine_ = std::make_unique<engine::Engine>(node->definitions_.get(), &node->registry_,
                                                   options.engine_limits);
  node->client_ = std::make_unique<ExecutionClient>(node->bus_.get(), node->store_.get(), node->engine_.get(),
                                                    node->definitions_.get(), options.partitions,
                                                    options.prefix);
  BORA_RETURN_IF_ERROR(node->bus_->CreateTopic(protocol::EventsTopic(options.prefix), options.partitions));
  // An action topic's partition count only bounds worker parallelism: an existing one of another size is fine.
  Status actions = node->bus_->CreateTopic(protocol::ActionsTopic(options.pool, options.prefix),
                                           options.action_partitions);
  if (!actions.ok() && actions.code() != StatusCode::kAlreadyExists) return actions;
  return node;
}

Roles ClusterNode::roles() {
  Roles r;
  r.bus = bus_.get();
  r.executions = store_.get();
  r.engine = engine_.get();
  r.definitions = definitions_.get();
  r.actions = &registry_;
  r.client = client_.get();
  r.clock = SystemClock::Get();
  r.partitions = options_.partitions;
  r.topic_prefix = options_.prefix;
  r.worker = options_.worker;
  if (options_.orchestrator) {
    r.add_partition_task = [this](PartitionTask* task) { AddPartitionTask(task); };
    r.add_poll_loop = [this](PollLoop loop) { AddPollLoop(std::move(loop)); };
  }
  return r;
}

ClusterNode::~ClusterNode() { Stop(); }

Status ClusterNode::Start() {
  if (started_) return Status::Ok();
  if (options_.orchestrator) {
    partition::OrchestratorOptions oo;
    oo.group = options_.prefix + "bora-orchestrator";
    oo.topic_prefix = options_.prefix;
    oo.overlap_commits = options_.overlap_commits;
    oo.release_after_store_outage = std::chrono::milliseconds(options_.store_outage_release_ms);
    store::RedisStoreOptions ro;
    ro.url = options_.redis;
    ro.key_prefix = options_.prefix;
    ro.partitions = options_.partitions;
    loops_.clear();
    loops_.resize(static_cast<size_t>(options_.orchestrator_loops));
    for (Loop& loop : loops_) {
      BORA_ASSIGN_OR_RETURN(loop.store, store::RedisStateStore::Connect(ro));
      loop.orchestrator = std::make_unique<partition::Orchestrator>(oo, bus_.get(), loop.store.get(),
                                                                   engine_.get(), SystemClock::Get(), nullptr);
      BORA_RETURN_IF_ERROR(loop.orchestrator->Start());
    }
    if (options_.retention.enabled() && retention_ == nullptr) {
      BORA_RETURN_IF_ERROR(options_.retention.Validate());
      retention_ = std::make_unique<ExecutionRetention>(options_.retention, store_.get(), client_.get(),
                                                        SystemClock::Get(), options_.partitions);
      partition_tasks_.push_back(retention_.get());
    }
  }
  if (options_.worker) {
    workers::WorkerPoolOptions po;
    po.concurrency = std::max(1, options_.worker_threads);
    po.name = options_.pool;
    po.max_queue = 1 << 20;
    pool_ = std::make_unique<workers::WorkerPool>(&registry_, po);
    workers::ActionWorkerOptions wo;
    wo.pool = options_.pool;
    wo.group = options_.prefix + "bora-workers";
    wo.topic_prefix = options_.prefix;
    wo.commit_interval = std::chrono::milliseconds(200);
    worker_ =
        std::make_unique<workers::ActionWorker>(wo, bus_.get(), &registry_, SystemClock::Get(),
                                                workers::ActionWorker::PoolExecutor(pool_.get()));
    BORA_RETURN_IF_ERROR(worker_->Start());
  }
  started_ = true;
  for (Loop& loop : loops_) {
    loop.thread = std::thread([this, orchestrator = loop.orchestrator.get()] {
      RunOrchestratorLoop(*orchestrator, *SystemClock::Get(), stopping_, partition_tasks_);
    });
  }
  for (const PollLoop& loop : poll_loops_) {
    poll_threads_.emplace_back([this, &loop] { RunPollLoop(loop, stopping_); });
  }
  if (worker_) worker_thread_ = std::thread([this] { RunWorkerLoop(*worker_, stopping_); });
  return Status::Ok();
}

void ClusterNode::Stop() {
  if (!started_) return;
  stopping_ = true;
  for (Loop& loop : loops_) loop.orchestrator->Wakeup();
  if (worker_) worker_->Wakeup();
  for (Loop& loop : loops_) {
    if (loop.thread.joinable()) loop.thread.join();
  }
  if (worker_thread_.joinable()) worker_thread_.join();
  for (auto& t : poll_threads_) {
    if (t.joinable()) t.join();
  }
  poll_threads_.clear();
  if (pool_) pool_->Shutdown(false);
  started_ = false;
}

}  // namespace bora::runtime
