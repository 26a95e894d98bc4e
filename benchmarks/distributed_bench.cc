// Distributed-mode benchmark: one `bora orchestrator` and one `bora worker` process on the real Kafka broker
// and redis-server of scripts/services.sh, 10-task std.noop chains.
//   eval "$(scripts/services.sh start)"
//   ./build/benchmarks/distributed_bench [executions=2000] [latency_seconds=20]
//   ./build/benchmarks/distributed_bench with_items [items=10000] [concurrency=100]
// Prints (1) peak throughput: executions started as fast as possible, tasks/s until all finish; (2) per-hop
// latency under open-loop arrivals at half the peak rate: the time from one task's end to the next task's end
// in a chain (orchestrator timestamps), p50/p99 from a histogram; (3) Redis commands and Kafka messages per
// task; (4) where the orchestrator's loop spent its time during (1) and (2) (bora_orchestrator_loop_phase_seconds
// from its /metrics). BORA_BENCH_ORCHESTRATOR_LOOPS sets the orchestrator's --orchestrator-loops,
// BORA_BENCH_PARTITIONS the partitions of bora.events (default 8), BORA_BENCH_WARMUP the untimed
// executions run first (default 2000), BORA_BENCH_NO_OVERLAP=1 passes --no-overlap-commits, BORA_BENCH_RATE
// sets the latency run's rate in tasks/s (default half the measured peak). The producer uses acks=all (idempotent); Redis runs as
// scripts/services.sh starts it (no AOF unless BORA_REDIS_AOF=1, then appendfsync everysec).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "common/redis/redis_client.h"
#include "tests/integration/cluster_harness.h"

namespace bora {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kTasks = 10;

std::string ChainYaml() {
  std::string y = "version: '2.0'\nchain:\n  tasks:\n";
  for (int i = 1; i <= kTasks; ++i) {
    y += "    t" + std::to_string(i) + ":\n      action: std.noop\n";
    if (i < kTasks) y += "      on-success: t" + std::to_string(i + 1) + "\n";
  }
  return y;
}

// Total calls of all commands on the Redis server (INFO commandstats).
long long RedisCalls(RedisClient& redis) {
  auto info = redis.Command({"INFO", "commandstats"});
  if (!info.ok()) return 0;
  std::string text = (*info)->Str();
  long long total = 0;
  for (size_t at = text.find("calls="); at != std::string::npos; at = text.find("calls=", at + 1)) {
    total += std::atoll(text.c_str() + at + 6);
  }
  return total;
}

// Messages in the cluster's topics: the sum of end offsets, read with Kafka's own GetOffsetShell.
long long KafkaMessages(const std::string& brokers, const std::string& prefix) {
  std::string libs = std::string(std::getenv("HOME") ? std::getenv("HOME") : "/root") + "/.cache/bora";
  std::string cmd = "java -Xmx128m -cp \"$(ls -d " + libs + "/kafka-*/libs | head -1)/*\" "
                    "org.apache.kafka.tools.GetOffsetShell --bootstrap-server " + brokers +
                    " --topic-partitions '" + prefix + ".*' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  std::array<char, 512> buf;
  long long total = 0;
  while (fgets(buf.data(), buf.size(), p)) {
    std::string line = buf.data();
    auto last = line.rfind(':');
    if (last != std::string::npos) total += std::atoll(line.c_str() + last + 1);
  }
  pclose(p);
  return total;
}

// A free loopback port (bound then released; the orchestrator binds it right after).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// GET http://127.0.0.1:<port>/metrics (HTTP/1.0, read to the end); empty on failure.
std::string FetchMetrics(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      std::array<char, 65536> buf;
      for (ssize_t n; (n = read(fd, buf.data(), buf.size())) > 0;) out.append(buf.data(), static_cast<size_t>(n));
    }
  }
  close(fd);
  return out;
}

// label value (of `label`, or "" for all series) -> {sum, count} of histogram `name` in `port`'s /metrics.
std::map<std::string, std::pair<double, double>> HistogramSums(int port, const std::string& name,
                                                               const std::string& label) {
  std::map<std::string, std::pair<double, double>> out;
  std::string text = FetchMetrics(port);
  const std::string base = name + "_";
  for (size_t at = text.find(base); at != std::string::npos; at = text.find(base, at + 1)) {
    if (at > 0 && text[at - 1] != '\n') continue;
    size_t eol = text.find('\n', at);
    std::string line = text.substr(at, eol - at);
    bool sum = line.compare(base.size(), 4, "sum{") == 0 || line.compare(base.size(), 4, "sum ") == 0;
    bool count = line.compare(base.size(), 6, "count{") == 0 || line.compare(base.size(), 6, "count ") == 0;
    if (!sum && !count) continue;
    std::string key;
    if (!label.empty()) {
      size_t p = line.find(label + "=\"");
      if (p == std::string::npos) continue;
      p += label.size() + 2;
      key = line.substr(p, line.find('"', p) - p);
    }
    double v = std::atof(line.c_str() + line.rfind(' ') + 1);
    (sum ? out[key].first : out[key].second) += v;
  }
  return out;
}

// BORA_BENCH_NO_OVERLAP=1: the orchestrator awaits each commit before the next poll (--no-overlap-commits).
bool NoOverlap() {
  const char* v = std::getenv("BORA_BENCH_NO_OVERLAP");
  return v != nullptr && std::string(v) == "1";
}

// Where the orchestrator's loop spent a window of `seconds` (bora_orchestrator_loop_phase_seconds before and
// after): polls per second, mean ms per poll in each phase, and the share of the window each phase took.
// Polls = observations of "wait" (one per poll); the other phases are observed only when a poll had events.
void PrintLoopPhases(const char* window, const std::map<std::string, std::pair<double, double>>& before,
                     const std::map<std::string, std::pair<double, double>>& after, double seconds) {
  auto get = [](const auto& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? std::pair<double, double>{0, 0} : it->second;
  };
  double loops = get(after, "wait").second - get(before, "wait").second;
  if (loops <= 0 || seconds <= 0) {
    std::printf("orchestrator loop during %s: no phase metrics\n", window);
    return;
  }
  std::printf("orchestrator loop during %s: %.0f polls/s; mean ms per poll (share of the time):", window,
              loops / seconds);
  for (const char* phase : {"wait", "load", "apply", "commit", "await", "produce", "timers"}) {
    double sum = get(after, phase).first - get(before, phase).first;
    std::printf(" %s %.3f (%.0f%%)", phase, sum * 1000 / loops, sum * 100 / seconds);
  }
  std::printf("\n");
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

int Run(int executions, int latency_seconds) {
  auto services = testing::ServiceAddresses::FromEnv();
  if (!services.ok()) {
    std::fprintf(stderr, "%s\n", services.status().ToString().c_str());
    return 2;
  }
  const char* partitions_env = std::getenv("BORA_BENCH_PARTITIONS");  // of bora.events (default 8)
  const int partitions =
      partitions_env != nullptr && *partitions_env != 0 ? std::atoi(partitions_env) : 8;
  auto cluster = testing::Cluster::Create("bench", *services, partitions);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  testing::Cluster& c = **cluster;
  if (!c.Load(ChainYaml()).ok()) return 1;
  const int metrics_port = FreePort();
  const char* loops_env = std::getenv("BORA_BENCH_ORCHESTRATOR_LOOPS");  // --orchestrator-loops (default 1)
  std::vector<std::string> orchestrator_flags = {"--metrics-port", std::to_string(metrics_port),
                                                 "--orchestrator-loops",
                                                 loops_env != nullptr && *loops_env != 0 ? loops_env : "1"};
  if (NoOverlap()) orchestrator_flags.push_back("--no-overlap-commits");
  c.StartOrchestrator(orchestrator_flags);
  const int worker_metrics_port = FreePort();
  c.StartWorker({"--concurrency", "4", "--metrics-port", std::to_string(worker_metrics_port)});
  auto redis = RedisClient::Connect(services->redis);
  if (!redis.ok()) return 1;

  // Warm-up: group joins, topic metadata, first allocations, and the broker's JIT: on a broker just
  // started, a 50-execution warm-up left the first run's half-peak hop p50 at 24-33 ms against 9-10 ms
  // in the next run. BORA_BENCH_WARMUP executions (default 2000) are run first, untimed.
  const char* warmup_env = std::getenv("BORA_BENCH_WARMUP");
  const int warmup = warmup_env != nullptr && *warmup_env != 0 ? std::atoi(warmup_env) : 2000;
  auto warm = c.StartMany("chain", std::max(1, warmup));
  if (!warm.ok() || c.WaitTerminal(*warm, 120s) != warm->size()) {
    std::fprintf(stderr, "warm-up did not finish\n");
    return 1;
  }

  // (1) Peak.
  const std::string kPhases = "bora_orchestrator_loop_phase_seconds";
  long long calls0 = RedisCalls(**redis);
  long long msgs0 = KafkaMessages(services->kafka, c.prefix());
  // Scraped last, right before the clock starts: while the Kafka tool above runs (seconds), the idle
  // orchestrator's empty polls add to its "wait" phase.
  auto peak_phases0 = HistogramSums(metrics_port, kPhases, "phase");
  auto t0 = Clock::now();
  auto ids = c.StartMany("chain", executions);
  if (!ids.ok()) return 1;
  // Watch only the last execution (one read per 20 ms) so the benchmark adds few Redis commands of its own.
  long long polls = 0;
  while (c.CountTerminal({ids->back()}) == 0 && Clock::now() - t0 < 600s) {
    ++polls;
    std::this_thread::sleep_for(20ms);
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  auto peak_phases1 = HistogramSums(metrics_port, kPhases, "phase");
  long long calls = RedisCalls(**redis) - calls0 - polls - 1;
  size_t done = c.WaitTerminal(*ids, 600s);  // executions finish nearly in start order; check them all
  long long msgs = KafkaMessages(services->kafka, c.prefix()) - msgs0;
  double tasks = static_cast<double>(executions) * kTasks;
  double peak_exec_rate = executions / secs;
  std::printf("peak: %zu/%d executions x %d std.noop tasks in %.2f s: %.0f tasks/s (%.0f executions/s)\n", done,
              executions, kTasks, secs, tasks / secs, peak_exec_rate);
  std::printf("      %.2f Redis commands per task (INFO commandstats, the benchmark's own reads taken out), "
              "%.2f Kafka messages per task\n",
              calls / tasks, msgs / tasks);
  PrintLoopPhases("(1)", peak_phases0, peak_phases1, secs);

  // (2) Latency at half the peak rate (or BORA_BENCH_RATE tasks/s, to compare builds at one load), open
  // loop: starts are scheduled on a fixed timetable.
  double rate = peak_exec_rate / 2;
  const char* rate_env = std::getenv("BORA_BENCH_RATE");
  const bool fixed_rate = rate_env != nullptr && std::atof(rate_env) > 0;
  if (fixed_rate) rate = std::atof(rate_env) / kTasks;
  auto interval = std::chrono::duration<double>(1.0 / rate);
  std::vector<std::string> lat_ids;
  const std::string kToStart = "bora_action_schedule_to_start_seconds";
  auto phases0 = HistogramSums(metrics_port, kPhases, "phase");
  auto to_start0 = HistogramSums(worker_metrics_port, kToStart, "");
  auto start = Clock::now();
  for (int i = 0; std::chrono::duration<double>(Clock::now() - start).count() < latency_seconds; ++i) {
    auto due = start + std::chrono::duration_cast<Clock::duration>(interval * i);
    std::this_thread::sleep_until(due);
    runtime::StartRequest r;
    r.workflow_name = "chain";
    auto id = c.client().Start(r);
    if (id.ok()) lat_ids.push_back(id->value());
  }
  c.WaitTerminal(lat_ids, 600s);
  auto phases1 = HistogramSums(metrics_port, kPhases, "phase");  // before the reads below (idle polls)
  auto to_start1 = HistogramSums(worker_metrics_port, kToStart, "");
  double loop_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> hops;
  for (const auto& id : lat_ids) {
    auto s = c.client().Get(ExecutionId(id));
    if (!s.ok() || !s->has_value()) continue;
    const auto& tasks_v = (*s)->tasks;
    for (size_t i = 1; i < tasks_v.size(); ++i) {
      hops.push_back(static_cast<double>(tasks_v[i].finished_at - tasks_v[i - 1].finished_at) / 1000.0);
    }
  }
  std::printf("latency: %zu executions at %.0f executions/s (%.0f tasks/s, %s) for %d s: per-hop "
              "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu hops)\n",
              lat_ids.size(), rate, rate * kTasks, fixed_rate ? "BORA_BENCH_RATE" : "half the peak", latency_seconds, Percentile(hops, 0.50),
              Percentile(hops, 0.99), Percentile(hops, 1.0), hops.size());
  PrintLoopPhases("(2)", phases0, phases1, loop_seconds);
  double n = to_start1[""].second - to_start0[""].second;
  if (n > 0) {
    std::printf("RunAction leg (orchestrator produce -> worker start, bora_action_schedule_to_start_seconds): "
                "mean %.3f ms\n",
                (to_start1[""].first - to_start0[""].first) * 1000 / n);
  }
  return done == ids->size() ? 0 : 1;
}

}  // namespace
}  // namespace bora

namespace bora {
namespace {

// `with_items N C`: one execution of a task over N items (std.noop each, concurrency C), start to finish.
int RunWithItems(int items, int concurrency) {
  auto services = testing::ServiceAddresses::FromEnv();
  if (!services.ok()) {
    std::fprintf(stderr, "%s\n", services.status().ToString().c_str());
    return 2;
  }
  auto cluster = testing::Cluster::Create("bench", *services, 8);
  if (!cluster.ok()) return 1;
  testing::Cluster& c = **cluster;
  const std::string yaml =
      "version: '2.0'\nfan:\n  input: [n]\n  tasks:\n    each:\n"
      "      with-items: i in <% range($.n) %>\n      concurrency: " +
      std::to_string(concurrency) + "\n      action: std.noop\n";
  if (!c.Load(yaml).ok()) return 1;
  c.StartOrchestrator(NoOverlap() ? std::vector<std::string>{"--no-overlap-commits"} : std::vector<std::string>{});
  c.StartWorker({"--concurrency", "4"});
  auto warm = c.StartMany("fan", 1, Json(JsonObject{{"n", 10}}));
  if (!warm.ok() || c.WaitTerminal(*warm, 120s) != 1) return 1;
  auto t0 = Clock::now();
  auto ids = c.StartMany("fan", 1, Json(JsonObject{{"n", items}}));
  if (!ids.ok() || c.WaitTerminal(*ids, 1800s) != 1) {
    std::fprintf(stderr, "with-items run did not finish\n");
    return 1;
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  auto st = c.client().Get(ExecutionId(ids->front()));
  std::printf("with-items: %d items, concurrency %d: %.2f s (%.0f items/s), final state %s\n", items,
              concurrency, secs, items / secs,
              st.ok() && st->has_value() ? std::string(engine::StateName((*st)->state)).c_str() : "?");
  return 0;
}

}  // namespace
}  // namespace bora

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "with_items") {
    return bora::RunWithItems(argc > 2 ? std::atoi(argv[2]) : 10000, argc > 3 ? std::atoi(argv[3]) : 100);
  }
  int executions = argc > 1 ? std::atoi(argv[1]) : 2000;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 20;
  return bora::Run(executions, seconds);
}
