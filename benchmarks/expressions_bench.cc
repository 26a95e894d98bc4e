// Nanoseconds per evaluation of compiled expressions (parse once, evaluate many times).
// Also the cost of compiling (the shared YAQL/Jinja lexer and the two parsers).
//   ninja -C build expressions_bench && ./build/benchmarks/expressions_bench
#include <benchmark/benchmark.h>

#include <string>

#include "orchestrator/expressions/expressions.h"

namespace {

using bora::Json;
using bora::expr::EvalContext;
using bora::expr::Template;

Json Data() {
  auto r = bora::ParseJson(R"({"x": 41, "name": "bora", "items": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    "nested": {"a": {"b": {"c": "deep"}}},
    "users": [{"name": "a", "age": 30}, {"name": "b", "age": 20}, {"name": "c", "age": 40}]})");
  return r.value();
}

void Run(benchmark::State& state, const char* text) {
  Json data = Data();
  auto t = Template::CompileString(text);
  if (!t.ok()) {
    state.SkipWithError(t.status().message().c_str());
    return;
  }
  EvalContext ctx;
  ctx.data = &data;
  for (auto _ : state) {
    auto r = t->Evaluate(ctx);
    benchmark::DoNotOptimize(r);
  }
}

void BM_YaqlAddOne(benchmark::State& s) { Run(s, "<% $.x + 1 %>"); }
void BM_JinjaLength(benchmark::State& s) { Run(s, "{{ _.items | length }}"); }
void BM_YaqlMember(benchmark::State& s) { Run(s, "<% $.nested.a.b.c %>"); }
void BM_JinjaMember(benchmark::State& s) { Run(s, "{{ _.nested.a.b.c }}"); }
void BM_YaqlCompare(benchmark::State& s) { Run(s, "<% $.x > 10 and $.name = 'bora' %>"); }
void BM_YaqlInterpolate(benchmark::State& s) { Run(s, "name=<% $.name %> x=<% $.x %>"); }
void BM_YaqlSelectWhere(benchmark::State& s) {
  Run(s, "<% $.users.where($.age > 25).select($.name) %>");
}
void BM_JinjaFor(benchmark::State& s) {
  Run(s, "{% for u in _.users %}{{ u.name }}{% if not loop.last %},{% endif %}{% endfor %}");
}
void BM_CompileYaql(benchmark::State& state) {
  for (auto _ : state) {
    auto t = Template::CompileString("<% $.users.where($.age > 25).select($.name) %>");
    benchmark::DoNotOptimize(t);
  }
}

void BM_CompileJinjaFor(benchmark::State& state) {
  for (auto _ : state) {
    auto t = Template::CompileString(
        "{% for u in _.users %}{{ u.name }}{% if not loop.last %},{% endif %}{% endfor %}");
    benchmark::DoNotOptimize(t);
  }
}

BENCHMARK(BM_YaqlAddOne);
BENCHMARK(BM_JinjaLength);
BENCHMARK(BM_YaqlMember);
BENCHMARK(BM_JinjaMember);
BENCHMARK(BM_YaqlCompare);
BENCHMARK(BM_YaqlInterpolate);
BENCHMARK(BM_YaqlSelectWhere);
BENCHMARK(BM_JinjaFor);
BENCHMARK(BM_CompileYaql);
BENCHMARK(BM_CompileJinjaFor);

}  // namespace

BENCHMARK_MAIN();
