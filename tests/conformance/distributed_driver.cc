// The distributed conformance driver: a test Cluster (tests/integration/cluster_harness.h) per case, i.e.
// separate `bora orchestrator` and `bora worker` processes on the real Kafka and Redis, under a prefix of
// their own.
#include <chrono>
#include <thread>

#include "tests/conformance/driver.h"
#include "tests/integration/cluster_harness.h"

namespace bora::conformance {

namespace {

using namespace std::chrono_literals;

bool Settled(const engine::ExecutionState& s) {
  if (s.state != engine::State::kSuccess && s.state != engine::State::kError &&
      s.state != engine::State::kCancelled && s.state != engine::State::kPaused) {
    return false;
  }
  for (const auto& t : s.tasks) {
    if (t.state == engine::State::kRunning || t.state == engine::State::kDelayed) return false;
  }
  return true;
}

class DistributedDriver final : public Driver {
 public:
  explicit DistributedDriver(std::unique_ptr<testing::Cluster> cluster) : cluster_(std::move(cluster)) {
    cluster_->StartOrchestrator();
    cluster_->StartWorker();
  }

  Status Load(const std::string& yaml, const std::string& file_name) override {
    return cluster_->Load(yaml, file_name);
  }
  Result<std::string> Start(const runtime::StartRequest& request) override {
    BORA_ASSIGN_OR_RETURN(ExecutionId id, cluster_->client().Start(request));
    return std::move(id).value();
  }
  Result<std::optional<engine::ExecutionState>> Get(const std::string& id) override {
    return cluster_->client().Get(ExecutionId(id));
  }
  Status Resume(const std::string& id) override {
    return cluster_->client().Resume(ExecutionId(id));
  }
  Status SkipTask(const std::string& id, const std::string& task_id) override {
    return cluster_->client().SkipTask(ExecutionId(id), TaskExecutionId(task_id));
  }

  // Settled and unchanged over three polls 50 ms apart (tasks still running after the workflow finished,
  // as Mistral allows, are waited for).
  Status Settle(const std::string& id) override {
    auto deadline = std::chrono::steady_clock::now() + 90s;
    int stable = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      BORA_RETURN_IF_ERROR(cluster_->CheckProcesses());
      auto s = cluster_->client().Get(ExecutionId(id));
      if (!s.ok()) return s.status();
      stable = (s->has_value() && Settled(**s)) ? stable + 1 : 0;
      if (stable >= 3) return Status::Ok();
      std::this_thread::sleep_for(50ms);  // polling real processes over real services
    }
    return DeadlineExceeded("execution " + id + " did not settle in 90 s");
  }

 private:
  std::unique_ptr<testing::Cluster> cluster_;
};

}  // namespace

Result<std::unique_ptr<Driver>> MakeDistributedDriver(const std::string& name) {
  BORA_ASSIGN_OR_RETURN(auto services, testing::ServiceAddresses::FromEnv());
  BORA_ASSIGN_OR_RETURN(auto cluster, testing::Cluster::Create("conf-" + name, services, 2));
  return std::unique_ptr<Driver>(std::make_unique<DistributedDriver>(std::move(cluster)));
}

}  // namespace bora::conformance
