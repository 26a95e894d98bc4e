// Encode/decode of the two hot bus messages.
#include <benchmark/benchmark.h>

#include "sdk/protocol/protocol.h"

namespace bora {
namespace {

engine::ActionCompleted Done() {
  return {"8f14e45f-ceea-467f-a8f2-8a1f3e3e1b2c", "c9f0f895-fb98-4b91-9a6a-1e2f3d4c5b6a",
          "45c48cce-2e2d-4fbd-b1a2-3c4d5e6f7a8b", engine::ActionCompleted::Kind::kSuccess,
          *ParseJson(R"({"status": 200, "body": "ok"})")};
}
engine::RunAction Run() {
  engine::RunAction r;
  r.execution_id = "8f14e45f-ceea-467f-a8f2-8a1f3e3e1b2c";
  r.workflow_name = "wb.chain";
  r.task_execution_id = "c9f0f895-fb98-4b91-9a6a-1e2f3d4c5b6a";
  r.task_name = "t3";
  r.action_execution_id = "45c48cce-2e2d-4fbd-b1a2-3c4d5e6f7a8b";
  r.action_name = "std.noop";
  r.input = *ParseJson(R"({"output": "hello"})");
  return r;
}

void BM_EncodeActionCompleted(benchmark::State& state) {
  engine::Event e = Done();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::EncodeEvent(e));
}
void BM_DecodeActionCompleted(benchmark::State& state) {
  std::string text = *protocol::EncodeEvent(Done());
  for (auto _ : state) benchmark::DoNotOptimize(protocol::DecodeEvent(text));
}
void BM_EncodeRunAction(benchmark::State& state) {
  engine::RunAction r = Run();
  for (auto _ : state) benchmark::DoNotOptimize(protocol::EncodeRunAction(r));
}
void BM_DecodeRunAction(benchmark::State& state) {
  std::string text = *protocol::EncodeRunAction(Run());
  for (auto _ : state) benchmark::DoNotOptimize(protocol::DecodeRunAction(text));
}
void BM_DecodeStartExecution(benchmark::State& state) {
  engine::StartExecution s;
  s.execution_id = "8f14e45f-ceea-467f-a8f2-8a1f3e3e1b2c";
  s.workflow_name = "wb.chain";
  s.input = *ParseJson(R"({"n": 3})");
  std::string text = *protocol::EncodeEvent(engine::Event(s));
  for (auto _ : state) benchmark::DoNotOptimize(protocol::DecodeEvent(text));
}
BENCHMARK(BM_EncodeActionCompleted);
BENCHMARK(BM_DecodeActionCompleted);
BENCHMARK(BM_EncodeRunAction);
BENCHMARK(BM_DecodeRunAction);
BENCHMARK(BM_DecodeStartExecution);

}  // namespace
}  // namespace bora

BENCHMARK_MAIN();
