// Benchmarks of Engine::Apply: per-event cost must stay flat as executions grow (with-items of N
// items).
#include <benchmark/benchmark.h>

#include "orchestrator/engine/engine.h"
#include "workers/action.h"

namespace bora::engine {
namespace {

constexpr char kWithItems[] = R"(
version: '2.0'
wf:
  input: [n]
  tasks:
    t1:
      with-items: i in <% range($.n) %>
      action: std.echo output=<% $.i %>
      on-success: t2
    t2:
      action: std.noop
)";

struct Env {
  MemoryDefinitions defs;
  workers::ActionRegistry reg;
  Env() {
    reg.Register({"std.echo", {{"output", true, nullptr}}, false, false, "", ""}, nullptr);
    reg.Register({"std.noop", {}, false, false, "", ""}, nullptr);
    if (!defs.AddYaml(kWithItems).ok()) std::abort();
  }
};

// Applies all completions of a with-items task of N items; reports time per completion event.
void BM_WithItemsCompletions(benchmark::State& bench) {
  static Env env;
  Engine engine(&env.defs, &env.reg);
  const int64_t n = bench.range(0);
  for (auto _ : bench) {
    bench.PauseTiming();
    ExecutionState st;
    std::vector<Command> cmds;
    StartExecution start;
    start.execution_id = "bench";
    start.workflow_name = "wf";
    start.input = JsonObject{{"n", n}};
    if (!engine.Apply(st, start, 0, &cmds).ok()) std::abort();
    std::vector<ActionCompleted> done;
    for (const auto& c : cmds) {
      if (const auto* r = std::get_if<RunAction>(&c)) {
        done.push_back({r->execution_id, r->task_execution_id, r->action_execution_id,
                        ActionCompleted::Kind::kSuccess, r->input.get_object().at("output")});
      }
    }
    bench.ResumeTiming();
    std::vector<Command> out;
    for (const auto& d : done) {
      out.clear();
      if (!engine.Apply(st, d, 1, &out).ok()) std::abort();
    }
    benchmark::DoNotOptimize(st.state);
  }
  bench.SetItemsProcessed(bench.iterations() * n);
}
BENCHMARK(BM_WithItemsCompletions)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Unit(benchmark::kMillisecond);

// Starting a with-items task of N items (evaluates N inputs).
void BM_WithItemsStart(benchmark::State& bench) {
  static Env env;
  Engine engine(&env.defs, &env.reg);
  const int64_t n = bench.range(0);
  for (auto _ : bench) {
    ExecutionState st;
    std::vector<Command> cmds;
    StartExecution start;
    start.execution_id = "bench";
    start.workflow_name = "wf";
    start.input = JsonObject{{"n", n}};
    if (!engine.Apply(st, start, 0, &cmds).ok()) std::abort();
    benchmark::DoNotOptimize(cmds.size());
  }
  bench.SetItemsProcessed(bench.iterations() * n);
}
BENCHMARK(BM_WithItemsStart)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace bora::engine

BENCHMARK_MAIN();
