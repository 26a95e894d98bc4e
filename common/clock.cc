#include "common/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace bora {

TimestampUs SystemClock::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock* SystemClock::Get() {
  static SystemClock* clock = new SystemClock();
  return clock;
}

namespace {
std::tm ToTm(TimestampUs t) {
  std::time_t secs = static_cast<std::time_t>(t / 1000000);
  if (t < 0 && t % 1000000 != 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}
}  // namespace

std::string FormatMistralTime(TimestampUs t) {
  std::tm tm = ToTm(t);
  char buf[80];  // room for any int fields (GCC checks the worst case)
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string FormatIsoTime(TimestampUs t) {
  std::tm tm = ToTm(t);
  int64_t us = t % 1000000;
  if (us < 0) us += 1000000;
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us));
  return buf;
}

}  // namespace bora
