#pragma once
// The execution lifecycle lines the orchestrator writes (info, on the process's logger, text or
// JSON lines like every log; common/log_line.h), once the batch that applied them is committed, so
// a batch applied again after a failed commit does not log twice:
//   execution started id=... workflow=wf [parent_id=...]
//   execution finished id=... workflow=wf state=SUCCESS|CANCELLED duration_ms=... [parent_id=...]
//   execution failed id=... workflow=wf state=ERROR duration_ms=... task=t1 reason="..."
// A sub-workflow's lines carry its parent's execution id. The failing task is the task in ERROR
// that finished last (none when the execution failed otherwise, e.g. by `fail`); the reason is that
// task's state_info, else the execution's, cut to kMaxReasonBytes.
//
// Thread-safety: functions of values.
#include <cstddef>
#include <string>

#include "common/clock.h"
#include "orchestrator/engine/state.h"

namespace bora::partition {

inline constexpr size_t kMaxReasonBytes = 500;

struct LifecycleLine {
  enum class Kind { kStarted, kFinished };
  Kind kind = Kind::kStarted;
  std::string execution_id;
  std::string workflow;
  std::string parent_execution_id;                // empty for a top-level execution
  engine::State state = engine::State::kRunning;  // kFinished: how it ended
  double duration_ms = 0;                         // kFinished: since it was created
  std::string task;                               // kFinished in ERROR: the failing task, or empty
  std::string reason;                             // kFinished in ERROR (cut)
};

// The line for an execution `state` started.
LifecycleLine StartedLine(const engine::ExecutionState& state);
// The line for `state` having finished (in state.state) at `now`.
LifecycleLine FinishedLine(const engine::ExecutionState& state, TimestampUs now);

// Writes the line (info).
void LogLifecycle(const LifecycleLine& line);

// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence, "..." appended when cut.
std::string CutReason(const std::string& text, size_t max_bytes = kMaxReasonBytes);

}  // namespace bora::partition
