#pragma once
// Logging on spdlog. Call InitLogging once from main(); modules then use BORA_LOG_INFO(...) etc.
// (fmt syntax).
//
// Two formats: text ("2026-01-01 12:00:00.123 info message [execution_id=... task_id=...
// partition=3]") and JSON lines (one object per line: time, level, thread, msg, and execution_id /
// task_id / partition when the logging thread has them in scope). Code that works on one execution,
// task or partition opens a ScopedLogFields on its thread; every log line written inside the scope
// carries the fields.
//
// Thread-safety: logging from any thread. ScopedLogFields is per thread (thread-local, nested
// scopes restore the outer fields).
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace bora {

enum class LogFormat { kText, kJson };

// level: "trace", "debug", "info", "warn", "error", "off". Logs go to stderr. May be called again
// (tests).
void InitLogging(std::string_view level, LogFormat format = LogFormat::kText);
inline void InitLogging(std::string_view level, bool json_lines) {
  InitLogging(level, json_lines ? LogFormat::kJson : LogFormat::kText);
}
// "text" or "json"; nullopt-like false for anything else.
bool ParseLogFormat(std::string_view name, LogFormat* out);

// The fields of the current thread's log lines. The views must outlive the scope that set them.
struct LogFields {
  std::string_view execution_id;
  std::string_view task_id;
  int partition = -1;  // -1: none
};

// Sets fields for the lines logged by this thread until destroyed. Fields left empty keep the outer
// scope's value (so a task scope inside an execution scope keeps the execution id).
class ScopedLogFields {
 public:
  explicit ScopedLogFields(LogFields fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  LogFields saved_;
};

// The current thread's fields.
const LogFields& CurrentLogFields();

// Formats one line the way the JSON-lines sink does (for tests): `message` escaped, fields from
// `fields`.
std::string FormatJsonLogLine(std::string_view level, std::string_view message,
                              const LogFields& fields);

}  // namespace bora

// Debug lines are checked at run time (`--log-level debug`): SPDLOG_DEBUG alone is compiled out
// below spdlog's default SPDLOG_ACTIVE_LEVEL (info). The arguments are evaluated only when the line
// is logged.
#define BORA_LOG_DEBUG(...)                                                                \
  do {                                                                                     \
    if (spdlog::default_logger_raw()->should_log(spdlog::level::debug)) {                  \
      SPDLOG_LOGGER_CALL(spdlog::default_logger_raw(), spdlog::level::debug, __VA_ARGS__); \
    }                                                                                      \
  } while (0)
#define BORA_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define BORA_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define BORA_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
