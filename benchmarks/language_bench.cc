// Benchmarks of the Workflow Language parser (orchestrator/language): loading YAML and parsing +
// validating a 20-task direct workflow (the size of a typical production definition).
#include <benchmark/benchmark.h>

#include <string>

#include "orchestrator/language/parser.h"
#include "orchestrator/language/yaml_loader.h"

namespace {

// A 20-task direct workflow using the common features: inline params, publish, conditions, retry,
// with-items.
std::string TwentyTaskWorkflow() {
  std::string y =
      "version: '2.0'\n"
      "bench_wf:\n"
      "  description: twenty tasks\n"
      "  input:\n"
      "    - name\n"
      "    - count: 3\n"
      "  vars:\n"
      "    greeting: hello\n"
      "  task-defaults:\n"
      "    retry: count=2 delay=1\n"
      "    on-error:\n"
      "      - handle_error\n"
      "  output:\n"
      "    result: <% $.last %>\n"
      "  tasks:\n";
  for (int i = 0; i < 19; ++i) {
    std::string n = std::to_string(i);
    std::string next = std::to_string(i + 1);
    y += "    task" + n + ":\n";
    if (i % 3 == 0) {
      y += "      with-items: x in <% range(0, $.count) %>\n";
      y += "      action: std.echo output=<% $.x %> delay=0\n";
    } else {
      y += "      action: std.echo output=\"step " + n + "\" extra=[1, 2, 3] flag=true\n";
    }
    y += "      publish:\n";
    y += "        v" + n + ": <% task().result %>\n";
    y += "        last: \"{{ _.greeting }} " + n + "\"\n";
    y += "      timeout: 30\n";
    y += "      on-success:\n";
    if (i + 1 < 19) {
      y += "        - task" + next + ": <% $.v" + n + " != null %>\n";
      y += "        - fail msg='no value': <% $.v" + n + " = null %>\n";
    } else {
      y += "        - succeed\n";
    }
  }
  y += "    handle_error:\n"
       "      action: std.noop\n"
       "      on-complete:\n"
       "        - fail(msg=<% task().state_info %>)\n";
  return y;
}

void BM_LoadYaml20Tasks(benchmark::State& state) {
  std::string text = TwentyTaskWorkflow();
  bora::lang::YamlLimits limits;
  for (auto _ : state) {
    auto r = bora::lang::LoadYaml(text, limits);
    if (!r.ok()) state.SkipWithError(r.status().message().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_LoadYaml20Tasks);

void BM_ParseDocument20Tasks(benchmark::State& state) {
  std::string text = TwentyTaskWorkflow();
  for (auto _ : state) {
    auto r = bora::lang::ParseDocument(text);
    if (!r.ok()) {
      state.SkipWithError(r.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseDocument20Tasks);

}  // namespace

BENCHMARK_MAIN();
