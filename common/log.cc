#include "common/log.h"

#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <span>
#include <string>

#include "common/log_line.h"

namespace bora {

namespace {

thread_local LogFields current_fields;
// The values of the LogLine being written on this thread (empty otherwise).
thread_local std::span<const LogValue> current_values;

// Sets current_values for one line.
class ScopedLogValues {
 public:
  explicit ScopedLogValues(std::span<const LogValue> values) : saved_(current_values) {
    current_values = values;
  }
  ~ScopedLogValues() { current_values = saved_; }
  ScopedLogValues(const ScopedLogValues&) = delete;
  ScopedLogValues& operator=(const ScopedLogValues&) = delete;

 private:
  std::span<const LogValue> saved_;
};

void AppendEscaped(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);  // UTF-8 passes through
        }
    }
  }
}

void AppendField(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":\"";
  AppendEscaped(out, value);
  out += '"';
}

void AppendFields(std::string& out, const LogFields& f) {
  if (!f.execution_id.empty()) AppendField(out, "execution_id", f.execution_id);
  if (!f.task_id.empty()) AppendField(out, "task_id", f.task_id);
  if (f.partition >= 0) {
    out += ",\"partition\":";
    out += std::to_string(f.partition);
  }
}

void AppendValues(std::string& out, std::span<const LogValue> values) {
  for (const LogValue& v : values) {
    if (v.number) {
      out += ",\"";
      out += v.key;
      out += "\":";
      out += v.value;
    } else {
      AppendField(out, v.key, v.value);
    }
  }
}

// Text: " key=value", the value quoted when it would not read back as one word.
void AppendTextValues(std::string& out, std::span<const LogValue> values) {
  for (const LogValue& v : values) {
    out += ' ';
    out += v.key;
    out += '=';
    bool plain = !v.value.empty();
    for (char c : v.value) {
      if (c == ' ' || c == '"' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        plain = false;
        break;
      }
    }
    if (plain) {
      out += v.value;
    } else {
      out += '"';
      AppendEscaped(out, v.value);
      out += '"';
    }
  }
}

std::string IsoTime(spdlog::log_clock::time_point tp) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%06lldZ", static_cast<long long>(us % 1000000));
  return buf;
}

// One JSON object per line; the message is escaped (the pattern formatter would not).
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"" + IsoTime(msg.time) + "\",\"level\":\"";
    auto level = spdlog::level::to_string_view(msg.level);
    line.append(level.data(), level.size());
    line += "\",\"thread\":";
    line += std::to_string(msg.thread_id);
    line += ",\"msg\":\"";
    AppendEscaped(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += '"';
    AppendFields(line, current_fields);
    AppendValues(line, current_values);
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// The text format's " key=value" pairs of a LogLine, then " [execution_id=... task_id=...
// partition=N]" (%*); empty without values and fields.
class FieldsFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string values;
    AppendTextValues(values, current_values);
    dest.append(values.data(), values.data() + values.size());
    const LogFields& f = current_fields;
    if (f.execution_id.empty() && f.task_id.empty() && f.partition < 0) return;
    std::string s = " [";
    auto add = [&](std::string_view k, std::string_view v) {
      if (s.size() > 2) s += ' ';
      s += k;
      s += '=';
      s += v;
    };
    if (!f.execution_id.empty()) add("execution_id", f.execution_id);
    if (!f.task_id.empty()) add("task_id", f.task_id);
    if (f.partition >= 0) add("partition", std::to_string(f.partition));
    s += ']';
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<FieldsFlag>();
  }
};

std::unique_ptr<spdlog::formatter> TextFormatter(const char* pattern) {
  auto f = std::make_unique<spdlog::pattern_formatter>();
  f->add_flag<FieldsFlag>('*').set_pattern(pattern);
  return f;
}

constexpr char kTextPattern[] = "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v%*";

// Formats `message` at `level` with `formatter`, as if `fields` and `values` were in scope.
std::string FormatWith(spdlog::formatter& formatter, std::string_view level,
                       std::string_view message, const LogFields& fields,
                       std::initializer_list<LogValue> values) {
  spdlog::details::log_msg msg("bora", spdlog::level::from_str(std::string(level)),
                               spdlog::string_view_t(message.data(), message.size()));
  LogFields saved = current_fields;
  current_fields = fields;
  ScopedLogValues scoped(std::span<const LogValue>(values.begin(), values.size()));
  spdlog::memory_buf_t buf;
  formatter.format(msg, buf);
  current_fields = saved;
  return std::string(buf.data(), buf.size());
}

}  // namespace

LogValue LogValue::Str(std::string_view key, std::string_view value) {
  return LogValue{key, std::string(value), false};
}

LogValue LogValue::Int(std::string_view key, int64_t value) {
  return LogValue{key, std::to_string(value), true};
}

LogValue LogValue::Fixed(std::string_view key, double value, int decimals) {
  if (!std::isfinite(value)) value = 0;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return LogValue{key, buf, true};
}

void LogLine(spdlog::level::level_enum level, std::string_view message,
             std::span<const LogValue> values) {
  spdlog::logger* logger = spdlog::default_logger_raw();
  if (logger == nullptr || !logger->should_log(level)) return;
  ScopedLogValues scoped(values);
  logger->log(level, spdlog::string_view_t(message.data(), message.size()));
}

void InitLogging(std::string_view level, LogFormat format) {
  auto logger = spdlog::get("bora");
  if (!logger) logger = spdlog::stderr_color_mt("bora");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  if (format == LogFormat::kJson) {
    spdlog::set_formatter(std::make_unique<JsonFormatter>());
  } else {
    spdlog::set_formatter(TextFormatter(kTextPattern));
  }
}

namespace {
// spdlog's own default logger writes info and up to stdout. A program that never calls InitLogging
// (`bora run`, whose --json output is on stdout; tests; benchmarks) gets warnings and errors on
// stderr instead, in the text format.
[[maybe_unused]] const bool default_logging = (InitLogging("warn", LogFormat::kText), true);
}  // namespace

bool ParseLogFormat(std::string_view name, LogFormat* out) {
  if (name == "text") {
    *out = LogFormat::kText;
    return true;
  }
  if (name == "json") {
    *out = LogFormat::kJson;
    return true;
  }
  return false;
}

ScopedLogFields::ScopedLogFields(LogFields fields) : saved_(current_fields) {
  if (!fields.execution_id.empty()) current_fields.execution_id = fields.execution_id;
  if (!fields.task_id.empty()) current_fields.task_id = fields.task_id;
  if (fields.partition >= 0) current_fields.partition = fields.partition;
}

ScopedLogFields::~ScopedLogFields() { current_fields = saved_; }

const LogFields& CurrentLogFields() { return current_fields; }

std::string FormatJsonLogLine(std::string_view level, std::string_view message,
                              const LogFields& fields) {
  return FormatJsonLogLine(level, message, fields, {});
}

std::string FormatJsonLogLine(std::string_view level, std::string_view message,
                              const LogFields& fields, std::initializer_list<LogValue> values) {
  JsonFormatter formatter;
  return FormatWith(formatter, level, message, fields, values);
}

std::string FormatTextLogLine(std::string_view message, const LogFields& fields,
                              std::initializer_list<LogValue> values) {
  auto formatter = TextFormatter("%v%*");
  std::string line = FormatWith(*formatter, "info", message, fields, values);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace bora
