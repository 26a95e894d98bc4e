// libFuzzer target (built only with -DBORA_FUZZ=ON and clang): cron patterns and minute times from
// untrusted input must parse or fail with a Status, and Next must return (match or error) without
// crashing, overflowing or hanging.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "orchestrator/triggers/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 256) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)bora::triggers::ParseMinuteTime(text);
  auto pattern = bora::triggers::CronPattern::Parse(text);
  if (!pattern.ok()) return 0;
  int64_t after = 1767225600000000;  // 2026-01-01
  if (size >= 8) std::memcpy(&after, data, 8);
  for (int64_t t : {after, int64_t{1767225600000000}}) {
    auto next = pattern->Next(t);
    if (next.ok() && *next <= t) __builtin_trap();  // must be strictly after
  }
  return 0;
}
