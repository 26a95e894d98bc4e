#include "orchestrator/triggers/cron.h"

#include <array>
#include <cctype>
#include <vector>

namespace bora::triggers {
namespace {

constexpr int64_t kUsPerMinute = 60'000'000;
constexpr int64_t kMinutesPerDay = 24 * 60;
constexpr int kSearchMonths =
    400 * 12;  // one full Gregorian cycle: any possible date appears in it

struct FieldInfo {
  const char* name;
  int min;
  int max;
  const char* const* names;  // 3-letter names for min.. (nullptr: none)
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr std::array<FieldInfo, 5> kFields = {{
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day of month", 1, 31, nullptr},
    {"month", 1, 12, kMonthNames},
    {"day of week", 0, 7, kDayNames},
}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

class FieldParser {
 public:
  FieldParser(std::string_view pattern, int index) : pattern_(pattern), index_(index) {}

  Status Error(const std::string& what) const {
    return InvalidArgument("cron pattern '" + std::string(pattern_) + "': field " +
                           std::to_string(index_ + 1) + " (" + kFields[index_].name + "): " + what);
  }

  // A number or (month/day-of-week) a name.
  Result<int> Value(std::string_view text) const {
    const FieldInfo& f = kFields[index_];
    if (text.empty()) return Error("empty value");
    bool digits = true;
    for (char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
    if (digits) {
      if (text.size() > 4) return Error(std::string(text) + " is out of range " + Range());
      int v = std::stoi(std::string(text));
      if (v < f.min || v > f.max) return Error(std::string(text) + " is out of range " + Range());
      return v;
    }
    if (f.names != nullptr) {
      std::string lower = Lower(text);
      int count = index_ == 3 ? 12 : 7;
      for (int i = 0; i < count; ++i) {
        if (lower == f.names[i]) return index_ == 3 ? i + 1 : i;
      }
    }
    return Error("'" + std::string(text) + "' is not a valid value" +
                 (f.names != nullptr
                      ? std::string(index_ == 3 ? " (0-9 or JAN-DEC)" : " (0-9 or SUN-SAT)")
                      : std::string(" (a number)")));
  }

  std::string Range() const {
    return std::to_string(kFields[index_].min) + "-" + std::to_string(kFields[index_].max);
  }

  // Sets the bits of `field` (indexed by value; day of week 7 folds into 0).
  template <size_t N>
  Status Parse(std::string_view field, std::bitset<N>& bits) const {
    const FieldInfo& f = kFields[index_];
    for (std::string_view item : Split(field, ',')) {
      if (item.empty()) return Error("empty list item in '" + std::string(field) + "'");
      std::string_view base = item;
      int step = 1;
      bool has_step = false;
      if (size_t slash = item.find('/'); slash != std::string_view::npos) {
        base = item.substr(0, slash);
        std::string_view step_text = item.substr(slash + 1);
        bool digits = !step_text.empty() && step_text.size() <= 4;
        for (char c : step_text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
        if (!digits) return Error("step '" + std::string(step_text) + "' is not a positive number");
        step = std::stoi(std::string(step_text));
        if (step <= 0) return Error("step must be at least 1, not " + std::string(step_text));
        has_step = true;
      }
      int low, high;
      // Like croniter, steps run over the field's whole range, which for day of week is 0-7 (so
      // "1/1" is every day and "4/3" is Thursday and Sunday).
      if (base == "*") {
        low = f.min;
        high = f.max;
      } else if (size_t dash = base.find('-'); dash != std::string_view::npos) {
        BORA_ASSIGN_OR_RETURN(low, Value(base.substr(0, dash)));
        BORA_ASSIGN_OR_RETURN(high, Value(base.substr(dash + 1)));
        if (index_ == 4 && high == 0 && low > 0) high = 7;  // "FRI-SUN"
        if (low > high) {
          return Error("range " + std::string(base) + " goes backwards");
        }
      } else {
        BORA_ASSIGN_OR_RETURN(low, Value(base));
        high = has_step ? f.max : low;  // "5/15" = 5-max/15 (croniter)
      }
      for (int v = low; v <= high; v += step) bits.set(index_ == 4 ? v % 7 : v);
    }
    return Status::Ok();
  }

 private:
  std::string_view pattern_;
  int index_;
};

// Days since 1970-01-01 -> (year, month, day). Howard Hinnant's civil_from_days.
void CivilFromDays(int64_t z, int& year, int& month, int& day) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  year = static_cast<int>(y + (month <= 2));
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

Result<CronPattern> CronPattern::Parse(std::string_view pattern) {
  CronPattern p;
  p.text_ = std::string(pattern);
  // Trim and split on runs of whitespace.
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < pattern.size()) {
    while (i < pattern.size() && std::isspace(static_cast<unsigned char>(pattern[i]))) ++i;
    size_t start = i;
    while (i < pattern.size() && !std::isspace(static_cast<unsigned char>(pattern[i]))) ++i;
    if (i > start) fields.push_back(pattern.substr(start, i - start));
  }
  std::string expanded;
  if (fields.size() == 1 && !fields[0].empty() && fields[0][0] == '@') {
    std::string alias = Lower(fields[0]);
    if (alias == "@yearly" || alias == "@annually") {
      expanded = "0 0 1 1 *";
    } else if (alias == "@monthly") {
      expanded = "0 0 1 * *";
    } else if (alias == "@weekly") {
      expanded = "0 0 * * 0";
    } else if (alias == "@daily" || alias == "@midnight") {
      expanded = "0 0 * * *";
    } else if (alias == "@hourly") {
      expanded = "0 * * * *";
    } else {
      return InvalidArgument(
          "cron pattern '" + p.text_ + "': unknown alias " + std::string(fields[0]) +
          " (expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or "
          "@hourly)");
    }
    fields = Split(expanded, ' ');
  }
  if (fields.size() != 5) {
    return InvalidArgument(
        "cron pattern '" + p.text_ +
        "': expected 5 fields (minute hour day-of-month month day-of-week), got " +
        std::to_string(fields.size()));
  }
  BORA_RETURN_IF_ERROR(FieldParser(pattern, 0).Parse(fields[0], p.minutes_));
  BORA_RETURN_IF_ERROR(FieldParser(pattern, 1).Parse(fields[1], p.hours_));
  BORA_RETURN_IF_ERROR(FieldParser(pattern, 2).Parse(fields[2], p.days_));
  BORA_RETURN_IF_ERROR(FieldParser(pattern, 3).Parse(fields[3], p.months_));
  BORA_RETURN_IF_ERROR(FieldParser(pattern, 4).Parse(fields[4], p.weekdays_));
  // croniter: a field whose expansion covers its whole range counts as '*' (unrestricted).
  p.days_restricted_ = p.days_.count() != 31;
  p.weekdays_restricted_ = p.weekdays_.count() != 7;
  return p;
}

bool CronPattern::DayMatches(int year, int month, int day) const {
  if (!days_restricted_ && !weekdays_restricted_) return true;
  int weekday =
      static_cast<int>(((DaysFromCivil(year, month, day) % 7) + 11) % 7);  // 1970-01-01: Thu
  if (days_restricted_ && weekdays_restricted_) return days_[day] || weekdays_[weekday];
  if (days_restricted_) return days_[day];
  return weekdays_[weekday];
}

Result<TimestampUs> CronPattern::Next(TimestampUs after) const {
  // Years 1-9999 (Python's datetime range); beyond them the arithmetic below could overflow.
  static const TimestampUs kMin = DaysFromCivil(1, 1, 1) * kMinutesPerDay * kUsPerMinute;
  static const TimestampUs kMax = DaysFromCivil(10000, 1, 1) * kMinutesPerDay * kUsPerMinute - 1;
  if (after < kMin || after > kMax) {
    return InvalidArgument("cron pattern '" + text_ + "': the start time " + std::to_string(after) +
                           " µs is outside years 1-9999");
  }
  int64_t minute = FloorDiv(after, kUsPerMinute) + 1;  // strictly after, on a minute boundary
  int64_t days = FloorDiv(minute, kMinutesPerDay);
  int minute_of_day = static_cast<int>(minute - days * kMinutesPerDay);
  int year, month, day;
  CivilFromDays(days, year, month, day);
  int hour = minute_of_day / 60;
  int min = minute_of_day % 60;
  for (int step = 0; step < kSearchMonths; ++step) {
    if (months_[month]) {
      int last = DaysInMonth(year, month);
      for (; day <= last; ++day) {
        if (DayMatches(year, month, day)) {
          for (; hour < 24; ++hour) {
            if (!hours_[hour]) {
              min = 0;
              continue;
            }
            for (; min < 60; ++min) {
              if (minutes_[min]) {
                int64_t d = DaysFromCivil(year, month, day);
                return (d * kMinutesPerDay + hour * 60 + min) * kUsPerMinute;
              }
            }
            min = 0;
          }
        }
        hour = 0;
        min = 0;
      }
    }
    day = 1;
    hour = 0;
    min = 0;
    if (++month > 12) {
      month = 1;
      ++year;
    }
  }
  return InvalidArgument("cron pattern '" + text_ + "' never matches (no date within 400 years)");
}

Result<TimestampUs> ParseMinuteTime(std::string_view text) {
  auto fail = [&]() {
    return InvalidArgument("time data '" + std::string(text) +
                           "' does not match format '%Y-%m-%d %H:%M'");
  };
  // Python strptime: %Y four digits, the others one or two digits.
  size_t pos = 0;
  auto number = [&](size_t min_digits, size_t max_digits, int& out) {
    size_t start = pos;
    while (pos < text.size() && pos - start < max_digits &&
           std::isdigit(static_cast<unsigned char>(text[pos])))
      ++pos;
    if (pos - start < min_digits) return false;
    out = std::stoi(std::string(text.substr(start, pos - start)));
    return true;
  };
  auto literal = [&](char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  int year, month, day, hour, minute;
  if (!number(4, 4, year) || !literal('-') || !number(1, 2, month) || !literal('-') ||
      !number(1, 2, day) || !literal(' ') || !number(1, 2, hour) || !literal(':') ||
      !number(1, 2, minute)) {
    return fail();
  }
  if (pos != text.size()) {
    return InvalidArgument("unconverted data remains: " + std::string(text.substr(pos)));
  }
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || day < 1) return fail();
  if (day > DaysInMonth(year, month)) return InvalidArgument("day is out of range for month");
  return (DaysFromCivil(year, month, day) * kMinutesPerDay + hour * 60 + minute) * kUsPerMinute;
}

}  // namespace bora::triggers
