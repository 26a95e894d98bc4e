#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "orchestrator/runtime/cluster_node.h"
#include "tests/conformance/driver.h"

namespace bora::conformance {

namespace {

using namespace std::chrono_literals;

pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

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
  ~DistributedDriver() override {
    for (pid_t pid : pids_) kill(pid, SIGTERM);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }

  Status Init(const std::string& name) {
    const char* kafka = std::getenv("BORA_KAFKA");
    const char* redis = std::getenv("BORA_REDIS");
    if (!kafka || !*kafka || !redis || !*redis) {
      return FailedPrecondition(
          "distributed conformance needs the real services: eval \"$(scripts/services.sh start)\"");
    }
    runtime::ClusterOptions o;
    o.kafka = kafka;
    o.redis = redis;
    o.prefix = "conf-" + name + "-" + NewUuid().substr(0, 8) + ".";
    o.partitions = 2;
    o.action_partitions = 1;
    o.orchestrator = false;
    o.worker = false;
    BORA_ASSIGN_OR_RETURN(node_, runtime::ClusterNode::Create(o));  // creates the topics
    std::vector<std::string> common = {"--kafka", o.kafka, "--redis", o.redis, "--prefix", o.prefix,
                                       "--partitions", "2", "--session-timeout-ms", "6000",
                                       "--log-level", "warn"};
    std::vector<std::string> orch = {BORA_BINARY, "orchestrator"};
    orch.insert(orch.end(), common.begin(), common.end());
    std::vector<std::string> worker = {BORA_BINARY, "worker"};
    worker.insert(worker.end(), common.begin(), common.end());
    pids_.push_back(Spawn(orch));
    pids_.push_back(Spawn(worker));
    return Status::Ok();
  }

  Status Load(const std::string& yaml, const std::string& file_name) override {
    return node_->definitions().Put("case", yaml, "", file_name);
  }
  runtime::ExecutionClient& client() override { return node_->client(); }

  Status Settle(const std::string& id) override {
    auto deadline = std::chrono::steady_clock::now() + 90s;
    int stable = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      for (pid_t pid : pids_) {
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) {
          return Internal("a bora process exited early (status " + std::to_string(status) + ")");
        }
      }
      auto s = node_->client().Get(id);
      if (!s.ok()) return s.status();
      stable = (s->has_value() && Settled(**s)) ? stable + 1 : 0;
      if (stable >= 3) return Status::Ok();
      std::this_thread::sleep_for(50ms);  // polling real processes over real services
    }
    return DeadlineExceeded("execution " + id + " did not settle in 90 s");
  }

 private:
  std::unique_ptr<runtime::ClusterNode> node_;
  std::vector<pid_t> pids_;
};

}  // namespace

Result<std::unique_ptr<Driver>> MakeDistributedDriver(const std::string& name) {
  auto d = std::make_unique<DistributedDriver>();
  BORA_RETURN_IF_ERROR(d->Init(name));
  return std::unique_ptr<Driver>(std::move(d));
}

}  // namespace bora::conformance
