// Benchmarks of writing an ExecutionState as JSON text (what the state store does for every changed
// execution of every commit): DumpJson(ToJson()) (Json tree + Boost serializer) against
// ToJsonText() (direct writer), on finished real states: a 10-task chain and a with-items task of
// 1,000 actions.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "orchestrator/engine/state.h"
#include "orchestrator/engine/test_driver.h"

namespace bora::engine {
namespace {

constexpr char kChain[] = R"(
version: '2.0'
wf:
  input: [x]
  tasks:
    t1:
      action: std.echo output=<% $.x %>
      publish: {v1: <% task().result %>}
      on-success: t2
    t2:
      action: std.echo output=<% $.v1 + 1 %>
      publish: {v2: <% task().result %>}
      on-success: t3
    t3:
      action: std.echo output=<% $.v2 + 1 %>
      publish: {v3: <% task().result %>}
      on-success: t4
    t4:
      action: std.echo output="text <% $.v3 %>"
      publish: {v4: <% task().result %>}
      on-success: t5
    t5:
      action: std.echo output=<% dict(a => $.v3, b => [1, 2.5, "x"]) %>
      publish: {v5: <% task().result %>}
      on-success: t6
    t6:
      action: std.noop
      on-success: t7
    t7:
      action: std.echo output=<% $.v5 %>
      publish: {v7: <% task().result %>}
      on-success: t8
    t8:
      action: std.echo output=<% $.v4 %>
      on-success: t9
    t9:
      action: std.echo output=<% $.v2 * 10 %>
      publish: {v9: <% task().result %>}
      on-success: t10
    t10:
      action: std.echo output=<% [$.v1, $.v2, $.v3] %>
      publish: {v10: <% task().result %>}

wi:
  input: [n]
  tasks:
    t1:
      with-items: i in <% range($.n) %>
      action: std.echo output=<% $.i %>
)";

const ExecutionState& Finished(const std::string& workflow, const Json& input) {
  static testing::TestDriver* driver = [] {
    auto* d = new testing::TestDriver();
    if (!d->LoadYaml(kChain).ok()) std::abort();
    return d;
  }();
  auto id = driver->Start(workflow, input);
  if (!id.ok()) std::abort();
  const ExecutionState* st = driver->Find(*id);
  if (st == nullptr || st->state != State::kSuccess) std::abort();
  return *st;
}

const ExecutionState& ChainState() {
  static const ExecutionState& s = Finished("wf", JsonObject{{"x", 1}});
  return s;
}
const ExecutionState& WithItemsState() {
  static const ExecutionState& s = Finished("wi", JsonObject{{"n", 1000}});
  return s;
}

void Report(benchmark::State& bench, size_t bytes) {
  bench.SetBytesProcessed(static_cast<int64_t>(bench.iterations() * bytes));
  bench.counters["bytes"] = static_cast<double>(bytes);
}

// Times `write` (state -> text) on `s`.
template <typename Write>
void Serialise(benchmark::State& bench, const ExecutionState& s, Write write) {
  size_t n = 0;
  for (auto _ : bench) {
    std::string text = write(s);
    n = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  Report(bench, n);
}
std::string ViaTree(const ExecutionState& s) { return DumpJson(s.ToJson()); }
std::string AsText(const ExecutionState& s) { return s.ToJsonText(); }

void BM_DumpToJson_Chain10(benchmark::State& bench) { Serialise(bench, ChainState(), ViaTree); }
BENCHMARK(BM_DumpToJson_Chain10);
void BM_ToJsonText_Chain10(benchmark::State& bench) { Serialise(bench, ChainState(), AsText); }
BENCHMARK(BM_ToJsonText_Chain10);
void BM_DumpToJson_WithItems1000(benchmark::State& bench) { Serialise(bench, WithItemsState(), ViaTree); }
BENCHMARK(BM_DumpToJson_WithItems1000);
void BM_ToJsonText_WithItems1000(benchmark::State& bench) { Serialise(bench, WithItemsState(), AsText); }
BENCHMARK(BM_ToJsonText_WithItems1000);

// Into a reused buffer (no allocation at all once warm).
void BM_AppendJsonText_WithItems1000(benchmark::State& bench) {
  const ExecutionState& s = WithItemsState();
  std::string buf;
  for (auto _ : bench) {
    buf.clear();
    s.AppendJsonText(buf);
    benchmark::DoNotOptimize(buf.data());
  }
  Report(bench, buf.size());
}
BENCHMARK(BM_AppendJsonText_WithItems1000);

}  // namespace
}  // namespace bora::engine

BENCHMARK_MAIN();
