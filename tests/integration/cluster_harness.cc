#include "tests/integration/cluster_harness.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "common/ids.h"

namespace bora::testing {

using namespace std::chrono_literals;

Result<ServiceAddresses> ServiceAddresses::FromEnv() {
  const char* kafka = std::getenv("BORA_KAFKA");
  const char* redis = std::getenv("BORA_REDIS");
  if (!kafka || !*kafka || !redis || !*redis) {
    return FailedPrecondition(
        "these tests need the real services: eval \"$(scripts/services.sh start)\" (make test does it)");
  }
  return ServiceAddresses{kafka, redis};
}

Result<std::unique_ptr<Cluster>> Cluster::Create(const std::string& name, const ServiceAddresses& services,
                                                 int partitions) {
  std::unique_ptr<Cluster> c(new Cluster());
  c->services_ = services;
  c->prefix_ = name + "-" + NewUuid().substr(0, 8) + ".";
  c->partitions_ = partitions;
  runtime::ClusterOptions o;
  o.kafka = services.kafka;
  o.redis = services.redis;
  o.prefix = c->prefix_;
  o.partitions = partitions;
  o.action_partitions = 4;
  o.orchestrator = false;
  o.worker = false;
  BORA_ASSIGN_OR_RETURN(c->node_, runtime::ClusterNode::Create(o));
  return c;
}

Cluster::~Cluster() {
  for (pid_t pid : pids_) {
    if (exited_.contains(pid)) continue;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

pid_t Cluster::Spawn(const std::string& role, const std::vector<std::string>& extra,
                     const std::string& log_file) {
  // BORA_BINARY in the environment runs another build's `bora` (benchmarks compare builds that way).
  const char* binary = std::getenv("BORA_BINARY");
  std::vector<std::string> args = {binary != nullptr && *binary != 0 ? binary : BORA_BINARY, role, "--kafka", services_.kafka, "--redis", services_.redis,
                                   "--prefix", prefix_, "--partitions", std::to_string(partitions_),
                                   "--session-timeout-ms", "6000", "--log-level",
                                   std::getenv("BORA_TEST_LOG_LEVEL") ? std::getenv("BORA_TEST_LOG_LEVEL") : "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = fork();
  if (pid == 0) {
    if (!log_file.empty() && freopen(log_file.c_str(), "w", stderr) == nullptr) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  pids_.push_back(pid);
  return pid;
}

pid_t Cluster::StartOrchestrator(const std::vector<std::string>& extra, const std::string& log_file) {
  return Spawn("orchestrator", extra, log_file);
}
pid_t Cluster::StartWorker(const std::vector<std::string>& extra, const std::string& log_file) {
  return Spawn("worker", extra, log_file);
}

void Cluster::Signal(pid_t pid, int sig) {
  kill(pid, sig);
  if (sig == SIGKILL) {
    killed_.push_back(pid);
    int status = 0;
    waitpid(pid, &status, 0);
    exited_[pid] = status;
  }
}

bool Cluster::Running(pid_t pid) {
  if (exited_.contains(pid)) return false;
  int status = 0;
  if (waitpid(pid, &status, WNOHANG) == pid) {
    exited_[pid] = status;
    return false;
  }
  return true;
}

Status Cluster::CheckProcesses() {
  for (pid_t pid : pids_) {
    if (Running(pid) || std::find(killed_.begin(), killed_.end(), pid) != killed_.end()) continue;
    return Internal("bora process " + std::to_string(pid) + " exited on its own (wait status " +
                    std::to_string(exited_[pid]) + ")");
  }
  return Status::Ok();
}

Status Cluster::Load(const std::string& yaml, const std::string& file_name) {
  return node_->definitions().Put("test", yaml, "", file_name);
}

Result<std::vector<std::string>> Cluster::StartMany(const std::string& workflow, int n, const Json& input) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    runtime::StartRequest r;
    r.workflow_name = workflow;
    r.input = input;
    BORA_ASSIGN_OR_RETURN(ExecutionId id, node_->client().Start(r));
    ids.push_back(std::move(id).value());
  }
  return ids;
}

size_t Cluster::CountTerminal(const std::vector<std::string>& ids) {
  size_t done = 0;
  for (const auto& id : ids) {
    auto s = node_->client().GetHead(
        ExecutionId(id));  // the state only: a large execution is not read whole
    if (!s.ok() || !s->has_value()) continue;
    auto st = (*s)->state;
    if (st == engine::State::kSuccess || st == engine::State::kError || st == engine::State::kCancelled) ++done;
  }
  return done;
}

size_t Cluster::WaitTerminal(const std::vector<std::string>& ids, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    done = CountTerminal(ids);
    if (done == ids.size()) return done;
    std::this_thread::sleep_for(200ms);  // polling real processes
  }
  return done;
}

Result<std::unique_ptr<PrivateServices>> PrivateServices::Start(const std::string& which) {
  std::unique_ptr<PrivateServices> s(new PrivateServices());
  s->dir_ = "/tmp/bora-fault-" + NewUuid().substr(0, 8);
  std::string out;
  BORA_RETURN_IF_ERROR(s->Run("BORA_SERVICES='" + which + "' bash " BORA_SOURCE_DIR "/scripts/services.sh start", &out));
  auto grab = [&](const std::string& var) {
    auto at = out.find(var + "=");
    if (at == std::string::npos) return std::string();
    auto end = out.find('\n', at);
    return out.substr(at + var.size() + 1, end == std::string::npos ? std::string::npos : end - at - var.size() - 1);
  };
  s->addresses_.redis = grab("BORA_REDIS");
  s->addresses_.kafka = grab("BORA_KAFKA");
  return s;
}

PrivateServices::~PrivateServices() { (void)Run("bash " BORA_SOURCE_DIR "/scripts/services.sh stop"); }

Status PrivateServices::Run(const std::string& args, std::string* out) {
  std::string cmd = "BORA_SERVICES_DIR=" + dir_ + " BORA_REDIS_AOF=1 " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return Internal("popen failed");
  std::array<char, 512> buf;
  std::string text;
  while (fgets(buf.data(), buf.size(), p)) text += buf.data();
  int rc = pclose(p);
  if (out) *out = text;
  if (rc != 0) return Unavailable("services.sh failed (" + std::to_string(rc) + "): " + args);
  return Status::Ok();
}

Status PrivateServices::Kill(const std::string& service) {
  return Run("bash " BORA_SOURCE_DIR "/scripts/services.sh kill " + service);
}
Status PrivateServices::Revive(const std::string& service) {
  return Run("bash " BORA_SOURCE_DIR "/scripts/services.sh revive " + service);
}

}  // namespace bora::testing
