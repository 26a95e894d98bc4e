#pragma once
// Clock: the only source of "now" for code that must be testable. The workflow engine never reads a clock; the
// runtime passes `now` in. SystemClock reads the wall clock; ManualClock is set and advanced by tests.
// Both are thread-safe.
#include <atomic>
#include <cstdint>
#include <string>

namespace bora {

// Microseconds since the Unix epoch, UTC.
using TimestampUs = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampUs NowUs() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimestampUs NowUs() const override;
  static SystemClock* Get();  // process-wide instance, never destroyed
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimestampUs start = 1767225600000000)  // 2026-01-01 00:00:00 UTC
      : now_(start) {}
  TimestampUs NowUs() const override { return now_.load(std::memory_order_relaxed); }
  void Set(TimestampUs t) { now_.store(t, std::memory_order_relaxed); }
  void AdvanceUs(int64_t us) { now_.fetch_add(us, std::memory_order_relaxed); }
  void AdvanceSeconds(double s) { AdvanceUs(static_cast<int64_t>(s * 1e6)); }

 private:
  std::atomic<TimestampUs> now_;
};

// Mistral's time format: "YYYY-MM-DD HH:MM:SS" (UTC).
std::string FormatMistralTime(TimestampUs t);
// ISO 8601 with microseconds and Z, for logs and CloudEvents.
std::string FormatIsoTime(TimestampUs t);

}  // namespace bora
