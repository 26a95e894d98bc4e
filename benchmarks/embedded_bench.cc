// Embedded-mode throughput benchmarks (issue "workflow engine", benchmarks a-c). Prints numbers;
// run with
//   ./build/benchmarks/embedded_bench
//   [chains|chains_inline|with_items|with_items_input|memory|durable|all]
// Each workload runs the real EmbeddedRuntime in threaded mode: MemoryBus, MemoryStateStore, the
// Orchestrator, the ActionWorker and its WorkerPool, exactly as `bora run` does. `durable` runs
// chains and with-items in memory and on disk (`bora serve --data-dir`: RocksDB, each --fsync
// policy) side by side, the bytes the process wrote per task, and the restart of a directory
// holding 100,000 executions.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "common/log.h"
#include "orchestrator/runtime/embedded_runtime.h"

namespace bora {
namespace {

using Clock = std::chrono::steady_clock;

// Counts executions that reached a terminal state; wakes the waiter when `target` is reached.
class Counter final : public partition::ExecutionObserver {
 public:
  void OnApplied(const engine::ExecutionState& state, const engine::Event&) override {
    if (!state.parent_execution_id.empty()) return;
    if (state.state != engine::State::kSuccess && state.state != engine::State::kError &&
        state.state != engine::State::kCancelled) {
      return;
    }
    std::lock_guard lock(mu_);
    if (!done_.insert(state.id).second) return;
    if (state.state != engine::State::kSuccess) ++failed_;
    // Wake the waiter only when its target is reached: a wakeup per execution would make the
    // benchmark's own main thread compete with the runtime for the two cores.
    if (done_.size() >= target_) cv_.notify_all();
  }
  bool WaitFor(size_t target, std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    target_ = target;
    return cv_.wait_for(lock, timeout, [&] { return done_.size() >= target; });
  }
  size_t failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<std::string> done_;
  size_t failed_ = 0;
  size_t target_ = 0;
};

long RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// CPU seconds used by the whole process so far (all threads). The machine is shared, so wall-clock
// figures move with other people's load; CPU time per task is the steadier measure of our own cost.
double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

long PeakRssKiB() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

std::string ChainYaml(int tasks) {
  std::string y = "version: '2.0'\nchain:\n  tasks:\n";
  for (int i = 1; i <= tasks; ++i) {
    y += "    t" + std::to_string(i) + ":\n      action: std.noop\n";
    if (i < tasks) y += "      on-success: t" + std::to_string(i + 1) + "\n";
  }
  return y;
}

// BORA_BENCH_ORCHESTRATORS overrides EmbeddedOptions::orchestrator_threads (threaded runs), for experiments.
int OrchestratorThreads() {
  const char* v = std::getenv("BORA_BENCH_ORCHESTRATORS");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : runtime::EmbeddedOptions{}.orchestrator_threads;
}

// Bytes this process wrote with write(2) and friends so far (/proc/self/io wchar): the WAL, the SST
// files of flushes and compactions.
long long WrittenBytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  long long value = 0;
  while (in >> key >> value) {
    if (key == "wchar:") return value;
  }
  return 0;
}

// Where a disk run keeps its directory (removed after the run); "" = in memory.
struct Backend {
  std::string name = "memory";
  std::string dir;
  disk::FsyncPolicy fsync = disk::FsyncPolicy::kInterval;
};

std::string TempDirFor(const std::string& what) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / ("bora-bench-" + what + "-XXXXXX")).string();
  return mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
}

std::unique_ptr<runtime::EmbeddedRuntime> OpenRuntime(runtime::EmbeddedOptions options,
                                                      const Backend& backend) {
  if (!backend.dir.empty()) {
    options.data_dir = backend.dir + "/data";
    options.fsync = backend.fsync;
  }
  auto rt = runtime::EmbeddedRuntime::Open(options);
  if (!rt.ok()) {
    std::fprintf(stderr, "%s\n", rt.status().ToString().c_str());
    return nullptr;
  }
  return std::move(*rt);
}

int Chains(int executions, int tasks, bool deterministic, const Backend& backend = {}) {
  runtime::EmbeddedOptions options;
  options.partitions = 4;
  options.worker_threads = 2;
  options.orchestrator_threads = OrchestratorThreads();
  options.deterministic = deterministic;
  auto rt_owned = OpenRuntime(options, backend);
  if (rt_owned == nullptr) return 1;
  runtime::EmbeddedRuntime& rt = *rt_owned;
  Counter counter;
  rt.AddObserver(&counter);
  if (auto s = rt.LoadYaml(ChainYaml(tasks), "chain.yaml"); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }
  if (auto s = rt.Start(); !s.ok()) return 1;
  auto t0 = Clock::now();
  double cpu0 = CpuSeconds();
  const long long written0 = WrittenBytes();
  for (int i = 0; i < executions; ++i) {
    runtime::StartRequest r;
    r.workflow_name = "chain";
    if (auto id = rt.client().Start(r); !id.ok()) {
      std::fprintf(stderr, "%s\n", id.status().ToString().c_str());
      return 1;
    }
  }
  if (deterministic) (void)rt.RunUntilIdle();
  if (!counter.WaitFor(static_cast<size_t>(executions), std::chrono::seconds(600))) {
    std::fprintf(stderr, "chains: timed out\n");
    return 1;
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = CpuSeconds() - cpu0;
  double total_tasks = static_cast<double>(executions) * tasks;
  const std::string where =
      backend.dir.empty()
          ? ""
          : " [disk, fsync " + std::string(disk::FsyncPolicyName(backend.fsync)) + "]";
  std::printf(
      "chains%s%s: %d executions x %d std.noop tasks: %.2f s, %.0f tasks/s, %.0f executions/s, "
      "failed %zu, peak RSS %ld MiB\n",
      deterministic ? " (one thread, actions inline)" : "", where.c_str(), executions, tasks, secs,
      total_tasks / secs, executions / secs, counter.failed(), PeakRssKiB() / 1024);
  if (!backend.dir.empty()) {
    std::printf("        written %.0f bytes per task (write calls: WAL, flushes, compactions)\n",
                static_cast<double>(WrittenBytes() - written0) / total_tasks);
  }
  const auto& st = rt.orchestrator_stats();
  std::printf("        CPU %.2f s (%.0f tasks per CPU-second, %.2f cores busy)\n", cpu, total_tasks / cpu,
              cpu / secs);
  std::printf("        events applied %llu, commits %llu (%.1f events/commit), messages produced %llu\n",
              static_cast<unsigned long long>(st.events_applied),
              static_cast<unsigned long long>(st.commits),
              st.commits ? static_cast<double>(st.events_applied) / st.commits : 0.0,
              static_cast<unsigned long long>(st.messages_produced));
  return 0;
}

// One with-items execution of `items` std.noop actions; `from_input`: the list is the execution's input
// (`i in <% $.xs %>`, a list held in the context) instead of `range()`. concurrency 0 = unlimited.
double WithItems(int items, int concurrency, bool from_input = false, const Backend& backend = {}) {
  runtime::EmbeddedOptions options;
  options.partitions = 4;
  options.worker_threads = 2;
  options.orchestrator_threads = OrchestratorThreads();
  auto rt_owned = OpenRuntime(options, backend);
  if (rt_owned == nullptr) return -1;
  runtime::EmbeddedRuntime& rt = *rt_owned;
  Counter counter;
  rt.AddObserver(&counter);
  std::string yaml = std::string("version: '2.0'\nfan:\n  input: [n, xs]\n  tasks:\n    each:\n") +
                     (from_input ? "      with-items: i in <% $.xs %>\n"
                                 : "      with-items: i in <% range(0, $.n) %>\n") +
                     (concurrency > 0 ? "      concurrency: " + std::to_string(concurrency) + "\n" : "") +
                     "      action: std.noop\n";
  if (auto s = rt.LoadYaml(yaml, "fan.yaml"); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return -1;
  }
  if (!rt.Start().ok()) return -1;
  runtime::StartRequest r;
  r.workflow_name = "fan";
  JsonArray xs;
  if (from_input) {
    xs.reserve(static_cast<size_t>(items));
    for (int i = 0; i < items; ++i) xs.push_back(Json(i));
  }
  r.input = JsonObject{{"n", items}, {"xs", std::move(xs)}};
  auto t0 = Clock::now();
  double cpu0 = CpuSeconds();
  auto id = rt.client().Start(r);
  if (!id.ok()) return -1;
  if (!counter.WaitFor(1, std::chrono::seconds(600))) return -1;
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double cpu = CpuSeconds() - cpu0;
  const std::string where =
      backend.dir.empty()
          ? ""
          : " [disk, fsync " + std::string(disk::FsyncPolicyName(backend.fsync)) + "]";
  std::printf(
      "with-items%s%s: %d items, concurrency %d: %.3f s (%.0f items/s, %.2f us per item), CPU %.3f "
      "s, "
      "failed %zu\n",
      from_input ? " over an input list" : "", where.c_str(), items, concurrency, secs,
      items / secs, secs * 1e6 / items, cpu, counter.failed());
  return secs;
}

int Memory(int executions) {
  runtime::EmbeddedOptions options;
  options.partitions = 4;
  options.worker_threads = 2;
  runtime::EmbeddedRuntime rt(options);
  std::string yaml =
      "version: '2.0'\nwait:\n  input: [x]\n  tasks:\n    first:\n      action: std.echo output=<% $.x %>\n"
      "      publish:\n        got: <% task().result %>\n      on-success: hold\n"
      "    hold:\n      action: std.async_noop\n";
  if (!rt.LoadYaml(yaml, "wait.yaml").ok() || !rt.Start().ok()) return 1;
  // Warm up so allocator pools and the first topic pages do not count.
  for (int i = 0; i < 100; ++i) {
    runtime::StartRequest r;
    r.workflow_name = "wait";
    r.input = JsonObject{{"x", "warm"}};
    (void)rt.client().Start(r);
  }
  std::string last;
  long before = RssKiB();
  for (int i = 0; i < executions; ++i) {
    runtime::StartRequest r;
    r.workflow_name = "wait";
    r.input = JsonObject{{"x", "item-" + std::to_string(i)}};
    auto id = rt.client().Start(r);
    if (!id.ok()) return 1;
    last = id->value();
  }
  // Wait until the last execution holds at its async task.
  for (int spin = 0; spin < 6000; ++spin) {
    auto s = rt.client().Get(ExecutionId(last));
    if (s.ok() && s->has_value() && (*s)->tasks.size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // benchmark only: polling a live run
  }
  long after = RssKiB();
  std::printf("memory: %d live executions (2 tasks each, one waiting on an async action): RSS +%ld MiB, "
              "%.1f KiB per execution (includes the bus messages kept in memory)\n",
              executions, (after - before) / 1024, static_cast<double>(after - before) / executions);
  return 0;
}

// A directory holding `executions` finished executions, reopened: the time from Open() to the first
// new execution's SUCCESS (what a restarted `bora serve` costs before it runs work again).
int Restart(int executions) {
  Backend backend{"disk", TempDirFor("restart"), disk::FsyncPolicy::kNever};
  runtime::EmbeddedOptions options;
  options.partitions = 4;
  options.worker_threads = 2;
  {
    auto rt = OpenRuntime(options, backend);
    if (rt == nullptr) return 1;
    Counter counter;
    rt->AddObserver(&counter);
    if (!rt->LoadYaml(ChainYaml(1), "chain.yaml").ok() || !rt->Start().ok()) return 1;
    for (int i = 0; i < executions; ++i) {
      runtime::StartRequest r;
      r.workflow_name = "chain";
      if (!rt->client().Start(r).ok()) return 1;
    }
    if (!counter.WaitFor(static_cast<size_t>(executions), std::chrono::seconds(600))) return 1;
    rt->Stop();
  }
  std::error_code ec;
  uintmax_t bytes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(backend.dir, ec)) {
    if (e.is_regular_file(ec)) bytes += e.file_size(ec);
  }
  auto t0 = Clock::now();
  auto rt = OpenRuntime(options, backend);
  if (rt == nullptr) return 1;
  Counter counter;
  rt->AddObserver(&counter);
  if (!rt->LoadYaml(ChainYaml(1), "chain.yaml").ok() || !rt->Start().ok()) return 1;
  auto opened = Clock::now();
  runtime::StartRequest r;
  r.workflow_name = "chain";
  if (!rt->client().Start(r).ok() || !counter.WaitFor(1, std::chrono::seconds(60))) return 1;
  auto t1 = Clock::now();
  std::printf(
      "restart: a directory of %d executions (%.0f MiB): open and start %.3f s, first new "
      "execution "
      "SUCCESS %.3f s after the open\n",
      executions, static_cast<double>(bytes) / (1 << 20),
      std::chrono::duration<double>(opened - t0).count(),
      std::chrono::duration<double>(t1 - t0).count());
  rt.reset();
  std::filesystem::remove_all(backend.dir, ec);
  return 0;
}

// The directory's size under the expiration policy (executions purged 1 s after they finish):
// rounds of 10,000 chains, the size after each once the round was purged. Without a policy it grows
// with every round; with it, it stays bounded (RocksDB flushes and compactions reclaim the purged
// ones).
int Retention(int rounds) {
  for (bool purge : {false, true}) {
    Backend backend{"disk", TempDirFor("retention"), disk::FsyncPolicy::kInterval};
    runtime::EmbeddedOptions options;
    options.partitions = 4;
    options.worker_threads = 2;
    if (purge) {
      options.retention.evaluation_interval = std::chrono::seconds(1);
      options.retention.older_than = std::chrono::seconds(1);
    }
    auto rt = OpenRuntime(options, backend);
    if (rt == nullptr) return 1;
    Counter counter;
    rt->AddObserver(&counter);
    if (!rt->LoadYaml(ChainYaml(10), "chain.yaml").ok() || !rt->Start().ok()) return 1;
    std::printf("retention %s:", purge ? "on (1 s)" : "off");
    for (int round = 1; round <= rounds; ++round) {
      for (int i = 0; i < 10000; ++i) {
        runtime::StartRequest r;
        r.workflow_name = "chain";
        if (!rt->client().Start(r).ok()) return 1;
      }
      if (!counter.WaitFor(static_cast<size_t>(round) * 10000, std::chrono::seconds(600))) return 1;
      if (purge) {
        // Until the round is purged (benchmark only: polling a live run).
        for (int spin = 0; spin < 600; ++spin) {
          auto page = rt->store().ReadExecutionHeadsPage(std::nullopt, 1);
          if (page.ok() && page->empty()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      std::error_code ec;
      uintmax_t bytes = 0;
      for (const auto& e : std::filesystem::recursive_directory_iterator(backend.dir, ec)) {
        if (e.is_regular_file(ec)) bytes += e.file_size(ec);
      }
      std::printf(" %.0f", static_cast<double>(bytes) / (1 << 20));
      std::fflush(stdout);
    }
    std::printf(" MiB after each round of 10,000 executions x 10 tasks\n");
    rt.reset();
    std::error_code ec;
    std::filesystem::remove_all(backend.dir, ec);
  }
  return 0;
}

// In memory and on disk with each fsync policy, in the same run.
int Durable() {
  int rc = 0;
  std::vector<Backend> backends = {{"memory", "", disk::FsyncPolicy::kNever},
                                   {"disk", "", disk::FsyncPolicy::kNever},
                                   {"disk", "", disk::FsyncPolicy::kInterval},
                                   {"disk", "", disk::FsyncPolicy::kAlways}};
  for (auto& b : backends) {
    if (b.name == "disk") b.dir = TempDirFor("chains");
    rc |= Chains(10000, 10, false, b);
    std::error_code ec;
    if (!b.dir.empty()) std::filesystem::remove_all(b.dir, ec);
  }
  for (auto& b : {backends[0], backends[2]}) {
    Backend run = b;
    if (run.name == "disk") run.dir = TempDirFor("with-items");
    if (WithItems(100000, 1000, false, run) < 0) rc = 1;
    std::error_code ec;
    if (!run.dir.empty()) std::filesystem::remove_all(run.dir, ec);
  }
  rc |= Restart(100000);
  return rc;
}

}  // namespace
}  // namespace bora

int main(int argc, char** argv) {
  std::string what = argc > 1 ? argv[1] : "all";
  int rc = 0;
  bora::InitLogging("warn", bora::LogFormat::kText);
  std::printf("machine: %ld cores\n", sysconf(_SC_NPROCESSORS_ONLN));
  if (what == "chains" || what == "all") rc |= bora::Chains(10000, 10, false);
  if (what == "chains_inline" || what == "all") rc |= bora::Chains(10000, 10, true);
  if (what == "with_items" || what == "all") {
    double small = bora::WithItems(10000, 1000);
    double big = bora::WithItems(100000, 1000);
    if (small > 0 && big > 0) std::printf("with-items: 100k/10k time ratio %.1f\n", big / small);
    else rc = 1;
  }
  if (what == "with_items_input" || what == "all") {
    // The list held in the execution's input, no concurrency limit: the cost per item must not grow with
    // the list. Sizes: the arguments after the mode, or 10k, 100k and 1M.
    std::vector<int> sizes;
    for (int i = 2; i < argc && what != "all"; ++i) sizes.push_back(std::atoi(argv[i]));
    if (sizes.empty()) sizes = {10000, 100000, 1000000};
    double first = 0, last = 0;
    for (int n : sizes) {
      double secs = bora::WithItems(n, 0, true);
      if (secs <= 0) rc = 1;
      if (first == 0) first = secs / n;
      last = secs / n;
    }
    if (rc == 0 && sizes.size() > 1) {
      std::printf("with-items over an input list: time per item at %d items / at %d items: %.2f\n",
                  sizes.back(), sizes.front(), last / first);
    }
  }
  if (what == "memory" || what == "all") rc |= bora::Memory(10000);
  if (what == "durable" || what == "all") rc |= bora::Durable();
  if (what == "retention") rc |= bora::Retention(argc > 2 ? std::atoi(argv[2]) : 10);
  if (what == "chains_disk") {  // one disk run (fsync interval), for profiling
    bora::Backend b{"disk", bora::TempDirFor("chains"), bora::disk::FsyncPolicy::kInterval};
    const char* n = std::getenv("BORA_BENCH_EXECUTIONS");
    rc |= bora::Chains(n != nullptr ? std::atoi(n) : 10000, 10, false, b);
    std::error_code ec;
    std::filesystem::remove_all(b.dir, ec);
  }
  return rc;
}
