// The instrumentation of the orchestrator, the action worker and the worker pool, read back from the
// process-wide registry: a deterministic embedded run (executions started and finished by state, task
// durations including a task completed by a timer, schedule-to-start from the RunAction header), and a
// WorkerPool run (slots, schedule-to-start from the submit context).
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <sstream>
#include <string>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "workers/std_actions.h"
#include "workers/worker_pool.h"

namespace bora {
namespace {

// The value of the sample line `series` (name plus labels exactly as serialized), or -1 when absent.
double Sample(const std::string& series) {
  std::istringstream in(metrics::Serialize());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

double Zero(double v) { return v < 0 ? 0 : v; }

const char* kWorkflows = R"(
version: '2.0'
instr_ok:
  tasks:
    first:
      action: std.noop
      on-success: [second]
    second:
      action: std.echo output=1
      wait-after: 2
instr_fail:
  tasks:
    boom:
      action: std.fail
)";

TEST(Instrumentation, EmbeddedRunCountsExecutionsTasksAndScheduling) {
  const std::string sts = "bora_action_schedule_to_start_seconds_count{pool=\"default\"}";
  const double sts_before = Zero(Sample(sts));
  const double applied_before = Zero(Sample("bora_orchestrator_events_applied_total"));

  runtime::EmbeddedOptions options;
  options.deterministic = true;
  runtime::EmbeddedRuntime rt(options);
  ASSERT_TRUE(rt.LoadYaml(kWorkflows, "instr.yaml").ok());
  ASSERT_TRUE(rt.Start().ok());
  for (const char* wf : {"instr_ok", "instr_ok", "instr_fail"}) {
    runtime::StartRequest r;
    r.workflow_name = wf;
    ASSERT_TRUE(rt.client().Start(r).ok()) << wf;
  }
  ASSERT_TRUE(rt.RunUntilIdle().ok());

  struct Case {
    std::string series;
    double want;
  };
  const Case cases[] = {
      {R"(bora_executions_started_total{workflow="instr_ok"})", 2},
      {R"(bora_executions_started_total{workflow="instr_fail"})", 1},
      {R"(bora_executions_finished_total{state="SUCCESS",workflow="instr_ok"})", 2},
      {R"(bora_executions_finished_total{state="ERROR",workflow="instr_fail"})", 1},
      {R"(bora_execution_duration_seconds_count{state="SUCCESS",workflow="instr_ok"})", 2},
      {R"(bora_task_duration_seconds_count{state="SUCCESS",task="first",workflow="instr_ok"})", 2},
      // Completed by the wait-after timer.
      {R"(bora_task_duration_seconds_count{state="SUCCESS",task="second",workflow="instr_ok"})", 2},
      {R"(bora_task_duration_seconds_count{state="ERROR",task="boom",workflow="instr_fail"})", 1},
  };
  for (const auto& c : cases) EXPECT_EQ(Sample(c.series), c.want) << c.series;
  // The manual clock jumped over the 2 s wait-after: the task and execution durations include it.
  EXPECT_GE(Sample(R"(bora_task_duration_seconds_sum{state="SUCCESS",task="second",workflow="instr_ok"})"),
            4.0);
  EXPECT_GE(Sample(R"(bora_execution_duration_seconds_sum{state="SUCCESS",workflow="instr_ok"})"), 4.0);
  // Five actions ran inline on the embedded worker, each with the orchestrator's produce timestamp.
  EXPECT_EQ(Sample(sts) - sts_before, 5);
  EXPECT_GT(Sample("bora_orchestrator_events_applied_total") - applied_before, 0);
  EXPECT_GE(Sample("bora_partitions_owned"), 0);
  EXPECT_TRUE(metrics::OrchestratorAssigned());
}

TEST(Instrumentation, WorkerPoolSlotsAndScheduleToStart) {
  workers::ActionRegistry registry;
  workers::RegisterStdActions(registry);
  workers::WorkerPool pool(&registry, workers::WorkerPoolOptions{3, 16});
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  {
    // Scheduled 2 s ago (as if the RunAction waited in Kafka that long).
    workers::ScopedSubmitContext context("instr-pool", SystemClock::Get()->NowUs() - 2'000'000,
                                         SystemClock::Get());
    for (int i = 0; i < 2; ++i) {
      workers::ActionRequest request;
      request.action_name = "std.echo";
      request.input = *ParseJson(R"({"output": 1, "delay": 0.01})");
      request.action_execution_id = "instr-" + std::to_string(i);
      ASSERT_TRUE(pool.Submit(request, [&](const workers::ActionRequest&, workers::ActionResult) {
                        std::lock_guard lock(mu);
                        ++done;
                        cv.notify_all();
                      }).ok());
    }
  }
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == 2; }));
  }
  pool.Shutdown(false);
  EXPECT_EQ(Sample(R"(bora_action_schedule_to_start_seconds_count{pool="instr-pool"})"), 2);
  EXPECT_GE(Sample(R"(bora_action_schedule_to_start_seconds_sum{pool="instr-pool"})"), 4.0);
  EXPECT_EQ(Sample(R"(bora_action_duration_seconds_count{action="std.echo",pool="instr-pool",result="success"})"),
            2);
  EXPECT_EQ(Sample(R"(bora_worker_slots_used{pool="instr-pool"})"), 0);
  EXPECT_EQ(Sample(R"(bora_worker_slots_free{pool="instr-pool"})"), 3);
  EXPECT_EQ(Sample(R"(bora_worker_queue_depth{pool="instr-pool"})"), 0);
}

}  // namespace
}  // namespace bora
