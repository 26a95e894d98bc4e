#include "orchestrator/partition/lifecycle_log.h"

#include <vector>

#include "common/log_line.h"

namespace bora::partition {

LifecycleLine StartedLine(const engine::ExecutionState& state) {
  LifecycleLine line;
  line.kind = LifecycleLine::Kind::kStarted;
  line.execution_id = state.id;
  line.workflow = state.workflow_name;
  line.parent_execution_id = state.parent_execution_id;
  return line;
}

LifecycleLine FinishedLine(const engine::ExecutionState& state, TimestampUs now) {
  LifecycleLine line = StartedLine(state);
  line.kind = LifecycleLine::Kind::kFinished;
  line.state = state.state;
  line.duration_ms = static_cast<double>(now - state.created_at) / 1e3;
  if (state.state != engine::State::kError) return line;
  const engine::TaskExecution* failed = nullptr;
  for (const auto& t : state.tasks) {
    if (t.state == engine::State::kError &&
        (failed == nullptr || t.finished_at >= failed->finished_at))
      failed = &t;
  }
  std::string reason;
  if (failed != nullptr) {
    line.task = failed->name;
    reason = failed->state_info.value_or("");
  }
  if (reason.empty()) reason = state.state_info.value_or("");
  line.reason = CutReason(reason);
  return line;
}

void LogLifecycle(const LifecycleLine& l) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  std::vector<LogValue> values = {LogValue::Str("id", l.execution_id),
                                  LogValue::Str("workflow", l.workflow)};
  const char* message = "execution started";
  if (l.kind == LifecycleLine::Kind::kFinished) {
    const bool failed = l.state == engine::State::kError;
    message = failed ? "execution failed" : "execution finished";
    values.push_back(LogValue::Str("state", engine::StateName(l.state)));
    values.push_back(LogValue::Fixed("duration_ms", l.duration_ms));
    if (failed) {
      values.push_back(LogValue::Str("task", l.task.empty() ? "-" : l.task));
      values.push_back(LogValue::Str("reason", l.reason));
    }
  }
  if (!l.parent_execution_id.empty()) {
    values.push_back(LogValue::Str("parent_id", l.parent_execution_id));
  }
  LogLine(spdlog::level::info, message, values);
}

std::string CutReason(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back off UTF-8 continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

}  // namespace bora::partition
