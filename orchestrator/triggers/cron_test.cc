#include "orchestrator/triggers/cron.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace bora::triggers {
namespace {

TimestampUs At(const std::string& minute_time, int seconds = 0) {
  auto t = ParseMinuteTime(minute_time);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.value_or(0) + seconds * 1'000'000LL;
}

struct NextCase {
  const char* pattern;
  const char* after;  // "YYYY-MM-DD HH:MM"
  int after_seconds;
  const char* expected;  // "YYYY-MM-DD HH:MM:SS" as croniter's get_next gives it
};

// Expected values are what croniter(pattern, after).get_next(datetime) returns (2026-01-01 is a
// Thursday).
const NextCase kNextCases[] = {
    {"* * * * *", "2026-01-01 00:00", 0, "2026-01-01 00:01:00"},
    {"* * * * *", "2026-01-01 00:00", 30, "2026-01-01 00:01:00"},
    {"*/5 * * * *", "2026-01-01 00:03", 0, "2026-01-01 00:05:00"},
    {"*/5 * * * *", "2026-01-01 00:05", 0, "2026-01-01 00:10:00"},
    {"0 * * * *", "2026-01-01 00:00", 0, "2026-01-01 01:00:00"},
    {"30 8 * * *", "2026-01-01 09:00", 0, "2026-01-02 08:30:00"},
    {"0 0 1 * *", "2026-01-15 00:00", 0, "2026-02-01 00:00:00"},
    {"0 0 * * MON", "2026-01-01 00:00", 0, "2026-01-05 00:00:00"},
    {"0 0 * * mon", "2026-01-01 00:00", 0, "2026-01-05 00:00:00"},
    {"0 0 * * 0", "2026-01-01 00:00", 0, "2026-01-04 00:00:00"},
    {"0 0 * * 7", "2026-01-01 00:00", 0, "2026-01-04 00:00:00"},
    {"0 0 13 * FRI", "2026-01-01 00:00", 0, "2026-01-02 00:00:00"},  // OR rule: Friday the 2nd
    {"0 0 13 * FRI", "2026-01-09 00:00", 0,
     "2026-01-13 00:00:00"},  // OR rule: the 13th (a Tuesday)
    {"0 0 13 * *", "2026-01-01 00:00", 0, "2026-01-13 00:00:00"},
    {"0 0 1-31 * FRI", "2026-01-02 00:00", 0, "2026-01-09 00:00:00"},  // 1-31 = '*': Fridays only
    {"0 0 29 2 *", "2026-01-01 00:00", 0, "2028-02-29 00:00:00"},
    {"0 0 29 FEB *", "2028-02-29 00:00", 0, "2032-02-29 00:00:00"},
    {"0 0 31 * *", "2026-02-01 00:00", 0, "2026-03-31 00:00:00"},
    {"0 0 31 * *", "2026-03-31 00:00", 0, "2026-05-31 00:00:00"},
    {"1-10/2 * * * *", "2026-01-01 00:01", 0, "2026-01-01 00:03:00"},
    {"1-10/2 * * * *", "2026-01-01 00:09", 0, "2026-01-01 01:01:00"},
    {"5/15 * * * *", "2026-01-01 00:06", 0, "2026-01-01 00:20:00"},
    {"5/15 * * * *", "2026-01-01 00:50", 0, "2026-01-01 01:05:00"},
    {"0 9-17 * * MON-FRI", "2026-01-02 17:00", 0, "2026-01-05 09:00:00"},
    {"0 9-17 * * 1-5", "2026-01-05 09:30", 0, "2026-01-05 10:00:00"},
    {"0 12 * DEC SUN", "2026-01-01 00:00", 0, "2026-12-06 12:00:00"},
    {"59 23 31 12 *", "2026-12-31 23:59", 0, "2027-12-31 23:59:00"},
    {"0 0 * * *", "2026-12-31 12:00", 0, "2027-01-01 00:00:00"},
    {"0 0 * * FRI-SUN", "2026-01-01 00:00", 0, "2026-01-02 00:00:00"},
    {"0 0 * * FRI-SUN", "2026-01-03 00:00", 0, "2026-01-04 00:00:00"},
    {"0 0 * * FRI-SUN", "2026-01-04 00:00", 0, "2026-01-09 00:00:00"},
    {"0,30 6,18 * * *", "2026-01-01 06:30", 0, "2026-01-01 18:00:00"},
    {"15 */6 * * *", "2026-01-01 06:15", 0, "2026-01-01 12:15:00"},
    {"0 0 1 */3 *", "2026-01-01 00:00", 0, "2026-04-01 00:00:00"},
    {"0 0 1 jan-mar,oct *", "2026-03-01 00:00", 0, "2026-10-01 00:00:00"},
    {"  0   0  *  *  *  ", "2026-01-01 00:00", 0, "2026-01-02 00:00:00"},
    {"@yearly", "2026-01-01 00:00", 0, "2027-01-01 00:00:00"},
    {"@annually", "2026-06-01 00:00", 0, "2027-01-01 00:00:00"},
    {"@monthly", "2026-01-01 00:00", 0, "2026-02-01 00:00:00"},
    {"@weekly", "2026-01-01 00:00", 0, "2026-01-04 00:00:00"},
    {"@daily", "2026-01-01 00:00", 0, "2026-01-02 00:00:00"},
    {"@midnight", "2026-01-01 10:00", 0, "2026-01-02 00:00:00"},
    {"@hourly", "2026-01-01 00:59", 59, "2026-01-01 01:00:00"},
    {"0 0 1 1 *", "1969-12-31 23:00", 0, "1970-01-01 00:00:00"},
    {"0 0 29 2 *", "2096-03-01 00:00", 0, "2104-02-29 00:00:00"},  // 2100 is not a leap year
    // Day-of-week steps run over 0-7 like croniter's: 4/3 = Thu and Sun, 1/1 = every day ('*').
    {"0 0 * * 4/3", "2026-01-01 00:00", 0, "2026-01-04 00:00:00"},
    {"0 0 * * 4/3", "2026-01-04 00:00", 0, "2026-01-08 00:00:00"},
    {"0 0 13 * 1/1", "2026-01-01 00:00", 0, "2026-01-13 00:00:00"},
    {"0 0 * * 6-7", "2026-01-01 00:00", 0, "2026-01-03 00:00:00"},
    {"0 0 * * */2", "2026-01-01 00:00", 0, "2026-01-03 00:00:00"},
    {"0 0 * * 0-7/7", "2026-01-01 00:00", 0, "2026-01-04 00:00:00"},
    {"0 0 1,15 * SAT", "2026-01-01 00:00", 0, "2026-01-03 00:00:00"},
    {"*/7 * * * *", "2026-01-01 00:56", 0, "2026-01-01 01:00:00"},
};

// Where Bora deliberately differs from croniter 1.3.5 (Debian 12's, which Mistral 15 uses), because
// croniter is wrong there (found by a 40,000-pattern differential run; every difference was one of
// these):
//  - with the OR rule, croniter raises "failed to find next date" when the day-of-month part alone
//  can
//    never match, although the day-of-week part can;
//  - after February, croniter skips the 1st of March when the day-of-month list holds a day > 28.
const NextCase kCroniterBugCases[] = {
    {"0 0 31 6 MON", "2026-01-01 00:00", 0,
     "2026-06-01 00:00:00"},  // croniter: CroniterBadDateError
    {"46 6 */6 * *", "2027-02-28 06:54", 0, "2027-03-01 06:46:00"},     // croniter: 2027-03-07
    {"0 0 1,16,31 * *", "2027-02-27 00:00", 0, "2027-03-01 00:00:00"},  // croniter: 2027-03-16
};

TEST(CronPatternTest, CorrectWhereCroniterIsWrong) {
  for (const NextCase& c : kCroniterBugCases) {
    SCOPED_TRACE(std::string(c.pattern) + " after " + c.after);
    auto pattern = CronPattern::Parse(c.pattern);
    ASSERT_TRUE(pattern.ok()) << pattern.status().ToString();
    auto next = pattern->Next(At(c.after, c.after_seconds));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(FormatMistralTime(*next), c.expected);
  }
}

TEST(CronPatternTest, NextMatchesCroniter) {
  for (const NextCase& c : kNextCases) {
    SCOPED_TRACE(std::string(c.pattern) + " after " + c.after);
    auto pattern = CronPattern::Parse(c.pattern);
    ASSERT_TRUE(pattern.ok()) << pattern.status().ToString();
    auto next = pattern->Next(At(c.after, c.after_seconds));
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    EXPECT_EQ(FormatMistralTime(*next), c.expected);
  }
}

TEST(CronPatternTest, NextIsStrictlyAfterAndChains) {
  auto pattern = CronPattern::Parse("*/20 * * * *");
  ASSERT_TRUE(pattern.ok());
  TimestampUs t = At("2026-01-01 00:00");
  std::vector<std::string> got;
  for (int i = 0; i < 4; ++i) {
    auto next = pattern->Next(t);
    ASSERT_TRUE(next.ok());
    EXPECT_GT(*next, t);
    t = *next;
    got.push_back(FormatMistralTime(t));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"2026-01-01 00:20:00", "2026-01-01 00:40:00",
                                           "2026-01-01 01:00:00", "2026-01-01 01:20:00"}));
}

struct ErrorCase {
  const char* pattern;
  const char* message;  // exact message
};

const ErrorCase kErrorCases[] = {
    {"0 0 32 * *", "cron pattern '0 0 32 * *': field 3 (day of month): 32 is out of range 1-31"},
    {"60 * * * *", "cron pattern '60 * * * *': field 1 (minute): 60 is out of range 0-59"},
    {"0 24 * * *", "cron pattern '0 24 * * *': field 2 (hour): 24 is out of range 0-23"},
    {"0 0 0 * *", "cron pattern '0 0 0 * *': field 3 (day of month): 0 is out of range 1-31"},
    {"0 0 * 13 *", "cron pattern '0 0 * 13 *': field 4 (month): 13 is out of range 1-12"},
    {"0 0 * * 8", "cron pattern '0 0 * * 8': field 5 (day of week): 8 is out of range 0-7"},
    {"0 0 * FOO *",
     "cron pattern '0 0 * FOO *': field 4 (month): 'FOO' is not a valid value (0-9 or JAN-DEC)"},
    {"0 0 * * MONDAY",
     "cron pattern '0 0 * * MONDAY': field 5 (day of week): 'MONDAY' is not a valid value "
     "(0-9 or SUN-SAT)"},
    {"x * * * *",
     "cron pattern 'x * * * *': field 1 (minute): 'x' is not a valid value (a number)"},
    {"*/0 * * * *", "cron pattern '*/0 * * * *': field 1 (minute): step must be at least 1, not 0"},
    {"*/x * * * *",
     "cron pattern '*/x * * * *': field 1 (minute): step 'x' is not a positive number"},
    {"5-1 * * * *", "cron pattern '5-1 * * * *': field 1 (minute): range 5-1 goes backwards"},
    {"1,,2 * * * *", "cron pattern '1,,2 * * * *': field 1 (minute): empty list item in '1,,2'"},
    {"* * * *",
     "cron pattern '* * * *': expected 5 fields (minute hour day-of-month month day-of-week), got "
     "4"},
    {"* * * * * *",
     "cron pattern '* * * * * *': expected 5 fields (minute hour day-of-month month day-of-week), "
     "got 6"},
    {"", "cron pattern '': expected 5 fields (minute hour day-of-month month day-of-week), got 0"},
    {"@every",
     "cron pattern '@every': unknown alias @every (expected @yearly, @annually, @monthly, @weekly, "
     "@daily, @midnight or @hourly)"},
    {"99999999 * * * *",
     "cron pattern '99999999 * * * *': field 1 (minute): 99999999 is out of range 0-59"},
};

TEST(CronPatternTest, ErrorsSayWhatAndWhere) {
  for (const ErrorCase& c : kErrorCases) {
    auto pattern = CronPattern::Parse(c.pattern);
    ASSERT_FALSE(pattern.ok()) << c.pattern;
    EXPECT_EQ(pattern.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(pattern.status().message(), c.message);
  }
}

TEST(CronPatternTest, ImpossiblePatternIsAnErrorNotAHang) {
  for (const char* text : {"0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 31 FEB *"}) {
    auto pattern = CronPattern::Parse(text);
    ASSERT_TRUE(pattern.ok()) << text;
    auto next = pattern->Next(At("2026-01-01 00:00"));
    ASSERT_FALSE(next.ok()) << text;
    EXPECT_EQ(next.status().message(),
              "cron pattern '" + std::string(text) + "' never matches (no date within 400 years)");
  }
  // With a restricted day of week the OR rule makes it possible again.
  auto pattern = CronPattern::Parse("0 0 30 2 MON");
  ASSERT_TRUE(pattern.ok());
  auto next = pattern->Next(At("2026-01-01 00:00"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(FormatMistralTime(*next), "2026-02-02 00:00:00");
}

TEST(CronPatternTest, StartTimesOutsideYears1To9999AreRefused) {
  auto pattern = CronPattern::Parse("* * * * *");
  ASSERT_TRUE(pattern.ok());
  for (TimestampUs t :
       {std::numeric_limits<TimestampUs>::max(), std::numeric_limits<TimestampUs>::min()}) {
    auto next = pattern->Next(t);
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.status().code(), StatusCode::kInvalidArgument);
  }
  auto last = pattern->Next(At("9999-12-31 23:58"));
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(FormatMistralTime(*last), "9999-12-31 23:59:00");
  auto first = pattern->Next(At("0001-01-01 00:00"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, At("0001-01-01 00:01"));
}

TEST(ParseMinuteTimeTest, AcceptsStrptimeFormatOnly) {
  auto t = ParseMinuteTime("2026-01-02 03:04");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(FormatMistralTime(*t), "2026-01-02 03:04:00");
  auto short_fields = ParseMinuteTime("2026-1-2 3:4");
  ASSERT_TRUE(short_fields.ok());
  EXPECT_EQ(*short_fields, *t);
  const std::pair<const char*, const char*> bad[] = {
      {"2026-01-02", "time data '2026-01-02' does not match format '%Y-%m-%d %H:%M'"},
      {"2026-01-02T03:04", "time data '2026-01-02T03:04' does not match format '%Y-%m-%d %H:%M'"},
      {"2026-13-02 03:04", "time data '2026-13-02 03:04' does not match format '%Y-%m-%d %H:%M'"},
      {"2026-01-02 24:00", "time data '2026-01-02 24:00' does not match format '%Y-%m-%d %H:%M'"},
      {"2026-01-02 03:04:05", "unconverted data remains: :05"},
      {"2026-02-30 00:00", "day is out of range for month"},
      {"", "time data '' does not match format '%Y-%m-%d %H:%M'"},
  };
  for (const auto& [text, message] : bad) {
    auto r = ParseMinuteTime(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().message(), message);
  }
}

}  // namespace
}  // namespace bora::triggers
