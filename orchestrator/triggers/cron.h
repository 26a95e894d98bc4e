#pragma once
// CronPattern: a parsed 5-field cron expression with croniter's semantics (the library Mistral
// uses), and the search for the next matching minute in UTC. Hand-written because Debian ships no
// C++ cron library (see README.md).
//
// Syntax: "minute hour day-of-month month day-of-week"; each field is `*`, a value, a range
// `a-b`, a step `*/n`, `a-b/n` or `a/n` (= a-max/n), or a comma list of those. Months take
// JAN-DEC, days of week SUN-SAT (case-insensitive); day of week 7 is Sunday like 0. When both day
// fields are restricted a day matches if EITHER matches (croniter's and Vixie cron's OR rule).
// Aliases: @yearly @annually @monthly @weekly @daily @midnight @hourly.
// Not supported: seconds (6th field), L, W, #, ?, H.
//
// Thread-safety: an immutable value after Parse; all methods are const and thread-safe.
#include <bitset>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"

namespace bora::triggers {

class CronPattern {
 public:
  // kInvalidArgument naming the pattern, the field and the problem:
  // "cron pattern '0 0 32 * *': field 3 (day of month): 32 is out of range 1-31".
  static Result<CronPattern> Parse(std::string_view pattern);

  // The first matching minute strictly after `after` (UTC, microseconds; seconds are truncated like
  // croniter does). kInvalidArgument if nothing matches within 400 years (a pattern that can never
  // match, such as "0 0 30 2 *"), never a hang; also for `after` outside years 1-9999.
  Result<TimestampUs> Next(TimestampUs after) const;

  const std::string& text() const { return text_; }

 private:
  bool DayMatches(int year, int month, int day) const;

  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

// "YYYY-MM-DD HH:MM" (UTC; what Mistral's first_execution_time takes, Python strptime '%Y-%m-%d
// %H:%M') to microseconds. kInvalidArgument "time data '...' does not match format '%Y-%m-%d
// %H:%M'".
Result<TimestampUs> ParseMinuteTime(std::string_view text);

// Civil-time helpers (proleptic Gregorian, UTC).
int64_t DaysFromCivil(int year, int month, int day);
int DaysInMonth(int year, int month);

}  // namespace bora::triggers
