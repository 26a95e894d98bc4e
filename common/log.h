#pragma once
// Logging on spdlog. Call InitLogging once from main(); modules then use BORA_LOG_INFO(...) etc. (fmt syntax).
// The JSON-lines format is selected with InitLogging(..., json=true). Thread-safe.
#include <spdlog/spdlog.h>

#include <string_view>

namespace bora {

// level: "trace", "debug", "info", "warn", "error", "off". Logs go to stderr.
void InitLogging(std::string_view level, bool json_lines = false);

}  // namespace bora

#define BORA_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define BORA_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define BORA_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define BORA_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
