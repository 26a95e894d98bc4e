#pragma once
// Structured log lines on the logger of common/log.h: a message plus key=value pairs, written
// "message k=v k2=\"a b\" [execution_id=...]" in the text format and as top-level fields of the
// object in JSON lines (numbers unquoted). The HTTP access log and the execution lifecycle lines
// use them.
//
// Thread-safety: from any thread (the values are the calling thread's, for the one line).
#include <spdlog/spdlog.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "common/log.h"

namespace bora {

// One key=value of a structured line. Keys are fixed identifiers chosen by the caller (not "time",
// "level", "thread", "msg" nor a LogFields name); values are any text.
struct LogValue {
  static LogValue Str(std::string_view key, std::string_view value);
  static LogValue Int(std::string_view key, int64_t value);
  // A number with `decimals` digits after the point (durations: "12.345"); not finite: 0.
  static LogValue Fixed(std::string_view key, double value, int decimals = 3);

  std::string_view key;
  std::string value;
  bool number = false;  // JSON: written unquoted
};

// Logs `message` with `values` at `level` (nothing is written when the level is off). Text:
// "message key=value ..." where a value with a space, '"', a control character or nothing in it
// is quoted and escaped as a JSON string; JSON: "msg": message and one field per value.
void LogLine(spdlog::level::level_enum level, std::string_view message,
             std::span<const LogValue> values);
inline void LogLine(spdlog::level::level_enum level, std::string_view message,
                    std::initializer_list<LogValue> values) {
  LogLine(level, message, std::span<const LogValue>(values.begin(), values.size()));
}

// For tests: one line as the JSON-lines sink writes it, with `fields` in scope.
std::string FormatJsonLogLine(std::string_view level, std::string_view message,
                              const LogFields& fields, std::initializer_list<LogValue> values);
// The same for the text format, without its time stamp, level and newline: "message k=v
// [execution_id=...]".
std::string FormatTextLogLine(std::string_view message, const LogFields& fields,
                              std::initializer_list<LogValue> values);

}  // namespace bora
