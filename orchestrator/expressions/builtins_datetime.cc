// yaql 2.0's standard_library/date_time.py on JSON: datetimes and timespans are tagged JSON objects
// (see yaql_library.h). All yaql datetimes are timezone-aware (a naive one gets UTC, as yaql does);
// `now()` reads the evaluation's clock (EvalContext::clock; null: the system clock, see there).
#include <time.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/clock.h"
#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {
namespace {

constexpr const char* kDtTag = "__yaql_datetime__";
constexpr const char* kTsTag = "__yaql_timespan__";
constexpr int64_t kUsPerSec = 1'000'000;
constexpr int64_t kUsPerDay = 86'400 * kUsPerSec;

struct DT {
  int64_t utc_us = 0;     // the instant
  int64_t offset_us = 0;  // UTC offset of the wall time
  int64_t wall() const { return utc_us + offset_us; }
};

int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int64_t& m, int64_t& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int64_t DaysInMonth(int64_t y, int64_t m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

const int64_t kMinWall = DaysFromCivil(1, 1, 1) * kUsPerDay;
const int64_t kMaxWall = DaysFromCivil(9999, 12, 31) * kUsPerDay + kUsPerDay - 1;

struct Fields {
  int64_t year, month, day, hour, minute, second, micro, weekday, yday;
};

Fields FieldsOf(int64_t wall) {
  Fields f{};
  int64_t days = FloorDiv(wall, kUsPerDay), rest = FloorMod(wall, kUsPerDay);
  CivilFromDays(days, f.year, f.month, f.day);
  f.hour = rest / (3600 * kUsPerSec);
  f.minute = rest / (60 * kUsPerSec) % 60;
  f.second = rest / kUsPerSec % 60;
  f.micro = rest % kUsPerSec;
  f.weekday = FloorMod(days + 3, 7);  // 1970-01-01 was a Thursday (Monday = 0)
  f.yday = days - DaysFromCivil(f.year, 1, 1) + 1;
  return f;
}

// Temporal values made on this thread: an evaluation that made none has none to convert.
thread_local uint64_t temporals_made = 0;

Json MakeDT(const DT& dt) {
  ++temporals_made;
  JsonObject inner;
  inner["utc_us"] = dt.utc_us;
  inner["offset_us"] = dt.offset_us;
  JsonObject o;
  o[kDtTag] = Json(std::move(inner));
  return Json(std::move(o));
}

Result<Json> CheckedDT(const DT& dt) {
  if (dt.wall() < kMinWall || dt.wall() > kMaxWall)
    return InvalidArgument("date value out of range");
  return MakeDT(dt);
}

Json MakeTS(int64_t us) {
  ++temporals_made;
  JsonObject o;
  o[kTsTag] = us;
  return Json(std::move(o));
}

// Python's timedelta(microseconds=x) for a float x: rounded half to even, bounded.
Result<Json> TSFromDouble(double us) {
  double r = std::nearbyint(us);  // default rounding mode: half to even
  if (!(std::fabs(r) < 9.2e18)) return InvalidArgument("timespan out of range");
  return MakeTS(static_cast<int64_t>(r));
}

std::optional<DT> AsDT(const Json& v) {
  if (!v.is_object()) return std::nullopt;
  const JsonObject& o = v.get_object();
  if (o.size() != 1) return std::nullopt;
  auto it = o.find(kDtTag);
  if (it == o.end() || !it->value().is_object()) return std::nullopt;
  const JsonObject& in = it->value().get_object();
  auto u = in.find("utc_us"), off = in.find("offset_us");
  if (u == in.end() || off == in.end() || !u->value().is_int64() || !off->value().is_int64())
    return std::nullopt;
  return DT{u->value().as_int64(), off->value().as_int64()};
}

std::optional<int64_t> AsTS(const Json& v) {
  if (!v.is_object()) return std::nullopt;
  const JsonObject& o = v.get_object();
  if (o.size() != 1) return std::nullopt;
  auto it = o.find(kTsTag);
  if (it == o.end() || !it->value().is_int64()) return std::nullopt;
  return it->value().as_int64();
}

std::string Pad(int64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*lld", width, static_cast<long long>(v));
  return buf;
}

// "+HH:MM" (":SS" / ".ffffff" when not zero), as Python's isoformat.
std::string OffsetText(int64_t off, bool colon) {
  std::string s = off < 0 ? "-" : "+";
  int64_t a = off < 0 ? -off : off;
  int64_t h = a / (3600 * kUsPerSec), m = a / (60 * kUsPerSec) % 60, sec = a / kUsPerSec % 60,
          us = a % kUsPerSec;
  s += Pad(h, 2) + (colon ? ":" : "") + Pad(m, 2);
  if (sec || us) s += (colon ? ":" : "") + Pad(sec, 2);
  if (us) s += "." + Pad(us, 6);
  return s;
}

// Python str(datetime): isoformat(' ').
std::string DTStr(const DT& dt) {
  Fields f = FieldsOf(dt.wall());
  std::string s = Pad(f.year, 4) + "-" + Pad(f.month, 2) + "-" + Pad(f.day, 2) + " " +
                  Pad(f.hour, 2) + ":" + Pad(f.minute, 2) + ":" + Pad(f.second, 2);
  if (f.micro) s += "." + Pad(f.micro, 6);
  return s + OffsetText(dt.offset_us, true);
}

// Python str(timedelta).
std::string TSStr(int64_t us) {
  int64_t days = FloorDiv(us, kUsPerDay), rest = FloorMod(us, kUsPerDay);
  std::string s;
  if (days != 0) s = std::to_string(days) + (days == 1 || days == -1 ? " day, " : " days, ");
  int64_t secs = rest / kUsPerSec;
  s += std::to_string(secs / 3600) + ":" + Pad(secs / 60 % 60, 2) + ":" + Pad(secs % 60, 2);
  if (rest % kUsPerSec) s += "." + Pad(rest % kUsPerSec, 6);
  return s;
}

// Mistral's serialisation of a datetime (oslo_serialization.jsonutils.to_primitive ->
// oslo_utils.timeutils.strtime): "%Y-%m-%dT%H:%M:%S.%f" of the wall time; the offset is dropped
// and the year is not zero-padded (glibc's %Y).
std::string DTMistral(const DT& dt) {
  Fields f = FieldsOf(dt.wall());
  return std::to_string(f.year) + "-" + Pad(f.month, 2) + "-" + Pad(f.day, 2) + "T" +
         Pad(f.hour, 2) + ":" + Pad(f.minute, 2) + ":" + Pad(f.second, 2) + "." + Pad(f.micro, 6);
}

// Python's datetime.strftime: %f %z %Z by Python, the rest by the C library (glibc).
std::string Strftime(const DT& dt, std::string_view fmt) {
  Fields f = FieldsOf(dt.wall());
  struct tm tm {};
  tm.tm_year = static_cast<int>(f.year - 1900);
  tm.tm_mon = static_cast<int>(f.month - 1);
  tm.tm_mday = static_cast<int>(f.day);
  tm.tm_hour = static_cast<int>(f.hour);
  tm.tm_min = static_cast<int>(f.minute);
  tm.tm_sec = static_cast<int>(f.second);
  tm.tm_wday = static_cast<int>((f.weekday + 1) % 7);
  tm.tm_yday = static_cast<int>(f.yday - 1);
  tm.tm_isdst = -1;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%' || i + 1 >= fmt.size()) {
      out += fmt[i];
      continue;
    }
    char c = fmt[++i];
    if (c == 'f') {
      out += Pad(f.micro, 6);
    } else if (c == 'z') {
      out += OffsetText(dt.offset_us, false);
    } else if (c == 'Z') {
      if (dt.offset_us == 0) out += "UTC";  // yaql's UTC is dateutil's tzutc; other offsets: ""
    } else {
      char spec[3] = {'%', c, 0};
      char buf[256];
      size_t n = std::strftime(buf, sizeof(buf), spec, &tm);
      out.append(buf, n);
    }
  }
  return out;
}

// ---- Parsing ----

bool ReadInt(std::string_view s, size_t& p, int min_digits, int max_digits, int64_t& out) {
  size_t start = p;
  out = 0;
  while (p < s.size() && p - start < static_cast<size_t>(max_digits) &&
         std::isdigit(static_cast<unsigned char>(s[p])))
    out = out * 10 + (s[p++] - '0');
  return p - start >= static_cast<size_t>(min_digits);
}

// "+HH:MM", "+HHMM", "+HH", "Z"; returns false when malformed.
bool ReadOffset(std::string_view s, size_t& p, int64_t& off) {
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
    off = 0;
    return true;
  }
  if (p >= s.size() || (s[p] != '+' && s[p] != '-')) return false;
  int sign = s[p++] == '-' ? -1 : 1;
  int64_t h = 0, m = 0;
  if (!ReadInt(s, p, 2, 2, h)) return false;
  if (p < s.size() && s[p] == ':') ++p;
  if (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p])) && !ReadInt(s, p, 2, 2, m))
    return false;
  off = sign * (h * 3600 + m * 60) * kUsPerSec;
  return true;
}

Status CheckFields(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t us) {
  if (y < 1 || y > 9999) return InvalidArgument("year " + std::to_string(y) + " is out of range");
  if (mo < 1 || mo > 12) return InvalidArgument("month must be in 1..12");
  if (d < 1 || d > DaysInMonth(y, mo)) return InvalidArgument("day is out of range for month");
  if (h < 0 || h > 23) return InvalidArgument("hour must be in 0..23");
  if (mi < 0 || mi > 59) return InvalidArgument("minute must be in 0..59");
  if (s < 0 || s > 59) return InvalidArgument("second must be in 0..59");
  if (us < 0 || us > 999999) return InvalidArgument("microsecond must be in 0..999999");
  return Status::Ok();
}

Result<Json> Build(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi, int64_t s, int64_t us,
                   int64_t offset) {
  BORA_RETURN_IF_ERROR(CheckFields(y, mo, d, h, mi, s, us));
  int64_t wall = DaysFromCivil(y, mo, d) * kUsPerDay + ((h * 60 + mi) * 60 + s) * kUsPerSec + us;
  return MakeDT(DT{wall - offset, offset});
}

// dateutil's parser.parse, for ISO 8601 text only: YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][offset].
Result<Json> ParseIso(std::string_view s) {
  auto fail = [&]() { return InvalidArgument("Unknown string format: " + std::string(s)); };
  size_t b = s.find_first_not_of(" \t\n"), e = s.find_last_not_of(" \t\n");
  if (b == std::string_view::npos) return InvalidArgument("String does not contain a date: ");
  std::string_view t = s.substr(b, e - b + 1);
  size_t p = 0;
  int64_t y, mo, d, h = 0, mi = 0, sec = 0, us = 0, off = 0;
  if (!ReadInt(t, p, 4, 4, y) || p >= t.size() || t[p++] != '-' || !ReadInt(t, p, 1, 2, mo) ||
      p >= t.size() || t[p++] != '-' || !ReadInt(t, p, 1, 2, d))
    return fail();
  if (p < t.size() && (t[p] == 'T' || t[p] == ' ')) {
    ++p;
    if (!ReadInt(t, p, 1, 2, h) || p >= t.size() || t[p++] != ':' || !ReadInt(t, p, 2, 2, mi))
      return fail();
    if (p < t.size() && t[p] == ':') {
      ++p;
      if (!ReadInt(t, p, 2, 2, sec)) return fail();
      if (p < t.size() && (t[p] == '.' || t[p] == ',')) {
        ++p;
        size_t start = p;
        int64_t frac = 0;
        if (!ReadInt(t, p, 1, 6, frac)) return fail();
        for (size_t k = p - start; k < 6; ++k) frac *= 10;
        while (p < t.size() && std::isdigit(static_cast<unsigned char>(t[p]))) ++p;
        us = frac;
      }
    }
    if (p < t.size() && t[p] == ' ') ++p;
    if (p < t.size()) {
      if (t.substr(p) == "UTC" || t.substr(p) == "GMT") {
        p = t.size();
      } else if (!ReadOffset(t, p, off)) {
        return fail();
      }
    }
  }
  if (p != t.size()) return fail();
  return Build(y, mo, d, h, mi, sec, us, off);
}

const char* const kMonths[] = {"january",   "february", "march",    "april",
                               "may",       "june",     "july",     "august",
                               "september", "october",  "november", "december"};
const char* const kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                             "friday", "saturday", "sunday"};

// Matches a month / day name (full or 3-letter) case-insensitively; returns its index or -1.
int ReadName(std::string_view s, size_t& p, const char* const* names, int n) {
  auto lower = [](char ch) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  };
  for (int full = 1; full >= 0; --full) {
    for (int i = 0; i < n; ++i) {
      std::string_view name = names[i];
      if (!full) name = name.substr(0, 3);
      if (p + name.size() > s.size()) continue;
      bool ok = true;
      for (size_t k = 0; k < name.size() && ok; ++k) ok = lower(s[p + k]) == name[k];
      if (ok) {
        p += name.size();
        return i;
      }
    }
  }
  return -1;
}

// Python's datetime.strptime (directives Y y m d H I M S f p z b B a A j %).
Result<Json> Strptime(std::string_view s, std::string_view fmt) {
  auto fail = [&]() {
    return InvalidArgument("time data '" + std::string(s) + "' does not match format '" +
                           std::string(fmt) + "'");
  };
  int64_t y = 1900, mo = 1, d = 1, h = 0, mi = 0, sec = 0, us = 0, off = 0;
  int pm = -1;
  size_t p = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c != '%' || i + 1 >= fmt.size()) {
      if (std::isspace(static_cast<unsigned char>(c))) {
        while (p < s.size() && std::isspace(static_cast<unsigned char>(s[p]))) ++p;
        continue;
      }
      if (p >= s.size() || s[p] != c) return fail();
      ++p;
      continue;
    }
    char dch = fmt[++i];
    bool ok = true;
    // Directives that read an integer of 1 or 2 digits (Y: exactly 4) into a field.
    const struct {
      char directive;
      int min_digits, max_digits;
      int64_t* field;
    } kIntFields[] = {{'Y', 4, 4, &y}, {'m', 1, 2, &mo}, {'d', 1, 2, &d},  {'H', 1, 2, &h},
                      {'I', 1, 2, &h}, {'M', 1, 2, &mi}, {'S', 1, 2, &sec}};
    bool read = false;
    for (const auto& f : kIntFields) {
      if (f.directive != dch) continue;
      ok = ReadInt(s, p, f.min_digits, f.max_digits, *f.field);
      read = true;
    }
    if (read) {
      if (!ok) return fail();
      continue;
    }
    switch (dch) {
      case 'y':
        ok = ReadInt(s, p, 2, 2, y);
        y += y < 69 ? 2000 : 1900;
        break;
      case 'f': {
        size_t start = p;
        ok = ReadInt(s, p, 1, 6, us);
        for (size_t k = p - start; k < 6; ++k) us *= 10;
        break;
      }
      case 'j': {
        int64_t yd = 0;
        ok = ReadInt(s, p, 1, 3, yd);
        mo = 1;
        d = yd;  // resolved below against the year
        break;
      }
      case 'p': {
        if (p + 2 <= s.size()) {
          std::string ap{static_cast<char>(std::toupper(static_cast<unsigned char>(s[p]))),
                         static_cast<char>(std::toupper(static_cast<unsigned char>(s[p + 1])))};
          if (ap == "AM" || ap == "PM") {
            pm = ap == "PM";
            p += 2;
            break;
          }
        }
        ok = false;
        break;
      }
      case 'z':
        ok = ReadOffset(s, p, off);
        break;
      case 'b':
      case 'B': {
        int k = ReadName(s, p, kMonths, 12);
        ok = k >= 0;
        mo = k + 1;
        break;
      }
      case 'a':
      case 'A':
        ok = ReadName(s, p, kDays, 7) >= 0;
        break;
      case '%':
        ok = p < s.size() && s[p++] == '%';
        break;
      default:
        return InvalidArgument("'" + std::string(1, dch) + "' is a bad directive in format '" +
                               std::string(fmt) + "'");
    }
    if (!ok) return fail();
  }
  if (p != s.size())
    return InvalidArgument("unconverted data remains: " + std::string(s.substr(p)));
  if (pm >= 0 && h >= 1 && h <= 12) h = (h % 12) + (pm ? 12 : 0);
  if (mo == 1 && d > 31) {  // %j
    int64_t days = DaysFromCivil(y, 1, 1) + d - 1;
    int64_t yy;
    CivilFromDays(days, yy, mo, d);
  }
  return Build(y, mo, d, h, mi, sec, us, off);
}

// ---- Arguments ----

Result<int64_t> TSArg(Call& c, const Val& v, std::string_view what) {
  auto ts = AsTS(v.get());
  if (!ts) return c.TypeErr(v.get(), std::string("a timespan for '") + std::string(what) + "'");
  return *ts;
}

// Named/positional int parameters.
struct IntParams {
  std::vector<std::optional<int64_t>> values;
  std::optional<int64_t> offset;
};

Result<IntParams> ReadParams(Call& c, size_t first, const std::vector<std::string_view>& names,
                             bool with_offset) {
  IntParams out;
  out.values.resize(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(first + i, names[i]));
    if (!v) continue;
    if (!IsIntJ(v->get()))
      return InvalidArgument(c.Signature() + ": '" + std::string(names[i]) +
                             "' must be an integer, got '" + TypeName(v->get()) + "'");
    out.values[i] = NumI(v->get());
  }
  if (with_offset) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(first + names.size(), "offset"));
    if (v) {
      BORA_ASSIGN_OR_RETURN(int64_t off, TSArg(c, *v, "offset"));
      out.offset = off;
    }
  }
  for (const Node* k : c.kw_nodes()) {
    bool known = (with_offset && k->name == "offset") ||
                 std::find(names.begin(), names.end(), k->name) != names.end();
    if (!known)
      return InvalidArgument(c.Signature() + " got an unexpected keyword argument '" + k->name +
                             "'");
  }
  return out;
}

Result<Json> FromTimestamp(double ts, int64_t offset) {
  // Python's datetime.fromtimestamp: the fraction is rounded to microseconds (half to even).
  double ip = 0, frac = std::modf(ts, &ip);
  double us = ip * 1e6 + std::nearbyint(frac * 1e6);
  if (!(std::fabs(us) < 9.2e18)) return InvalidArgument("timestamp out of range");
  return CheckedDT(DT{static_cast<int64_t>(us), offset});
}

ValResult DTFormat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::string fmt, StrArg(c, 1));
  std::string out = Strftime(*AsDT(d.get()), fmt);
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

ValResult DTReplace(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  DT dt = *AsDT(d.get());
  BORA_ASSIGN_OR_RETURN(
      IntParams ps,
      ReadParams(c, 1, {"year", "month", "day", "hour", "minute", "second", "microsecond"}, true));
  Fields f = FieldsOf(dt.wall());
  int64_t* cur[] = {&f.year, &f.month, &f.day, &f.hour, &f.minute, &f.second, &f.micro};
  for (size_t i = 0; i < 7; ++i)
    if (ps.values[i]) *cur[i] = *ps.values[i];
  BORA_ASSIGN_OR_RETURN(Json r, Build(f.year, f.month, f.day, f.hour, f.minute, f.second, f.micro,
                                      ps.offset.value_or(dt.offset_us)));
  return Val::Own(std::move(r));
}

}  // namespace

bool IsDateTimeValue(const Json& v) { return AsDT(v).has_value(); }
bool IsTimespanValue(const Json& v) { return AsTS(v).has_value(); }

std::optional<Result<Json>> TemporalArith(Op op, const Json& a, const Json& b) {
  auto da = AsDT(a), db = AsDT(b);
  auto ta = AsTS(a), tb = AsTS(b);
  if (!da && !db && !ta && !tb) return std::nullopt;
  auto overflow = [](int64_t x, int64_t y, int64_t& r, bool sub) {
    return sub ? __builtin_sub_overflow(x, y, &r) : __builtin_add_overflow(x, y, &r);
  };
  int64_t r = 0;
  switch (op) {
    case Op::kAdd:
      if (da && tb) {
        if (overflow(da->utc_us, *tb, r, false))
          return Result<Json>(InvalidArgument("date value out of range"));
        return CheckedDT(DT{r, da->offset_us});
      }
      if (ta && db) {
        if (overflow(db->utc_us, *ta, r, false))
          return Result<Json>(InvalidArgument("date value out of range"));
        return CheckedDT(DT{r, db->offset_us});
      }
      if (ta && tb) {
        if (overflow(*ta, *tb, r, false))
          return Result<Json>(InvalidArgument("timespan out of range"));
        return Result<Json>(MakeTS(r));
      }
      break;
    case Op::kSub:
      if (da && tb) {
        if (overflow(da->utc_us, *tb, r, true))
          return Result<Json>(InvalidArgument("date value out of range"));
        return CheckedDT(DT{r, da->offset_us});
      }
      if (da && db) return Result<Json>(MakeTS(da->utc_us - db->utc_us));
      if (ta && tb) {
        if (overflow(*ta, *tb, r, true))
          return Result<Json>(InvalidArgument("timespan out of range"));
        return Result<Json>(MakeTS(r));
      }
      break;
    case Op::kMul:
      if (ta && IsNumJ(b) && !b.is_bool()) {
        if (IsIntJ(b) && !__builtin_mul_overflow(*ta, NumI(b), &r)) return Result<Json>(MakeTS(r));
        return TSFromDouble(static_cast<double>(*ta) * NumD(b));
      }
      if (tb && IsNumJ(a) && !a.is_bool()) {
        if (IsIntJ(a) && !__builtin_mul_overflow(*tb, NumI(a), &r)) return Result<Json>(MakeTS(r));
        return TSFromDouble(static_cast<double>(*tb) * NumD(a));
      }
      break;
    case Op::kDiv:
      if (ta && tb) {
        if (*tb == 0) return Result<Json>(InvalidArgument("float division by zero"));
        return Result<Json>(Json(static_cast<double>(*ta) / static_cast<double>(*tb)));
      }
      if (ta && IsNumJ(b) && !b.is_bool()) {
        if (NumD(b) == 0) return Result<Json>(InvalidArgument("division by zero"));
        return TSFromDouble(static_cast<double>(*ta) / NumD(b));
      }
      break;
    default:
      break;
  }
  return Result<Json>(
      InvalidArgument("unsupported operand types for a datetime/timespan operation: '" +
                      TypeName(a) + "' and '" + TypeName(b) + "'"));
}

std::optional<Result<bool>> TemporalCompare(Op op, const Json& a, const Json& b) {
  if (!a.is_object() && !b.is_object()) return std::nullopt;
  auto da = AsDT(a), db = AsDT(b);
  auto ta = AsTS(a), tb = AsTS(b);
  if (!da && !db && !ta && !tb) return std::nullopt;
  int64_t x, y;
  if (da && db) {
    x = da->utc_us;
    y = db->utc_us;
  } else if (ta && tb) {
    x = *ta;
    y = *tb;
  } else {
    if (op == Op::kEq) return Result<bool>(false);
    if (op == Op::kNe) return Result<bool>(true);
    return Result<bool>(
        InvalidArgument("cannot compare '" + TypeName(a) + "' with '" + TypeName(b) + "'"));
  }
  switch (op) {
    case Op::kEq:
      return Result<bool>(x == y);
    case Op::kNe:
      return Result<bool>(x != y);
    case Op::kLt:
      return Result<bool>(x < y);
    case Op::kGt:
      return Result<bool>(x > y);
    case Op::kLe:
      return Result<bool>(x <= y);
    case Op::kGe:
      return Result<bool>(x >= y);
    default:
      return std::nullopt;
  }
}

std::optional<Result<Json>> TemporalUnary(Op op, const Json& v) {
  auto ts = AsTS(v);
  if (!ts) return std::nullopt;
  if (op == Op::kPos) return Result<Json>(MakeTS(*ts));
  if (*ts == INT64_MIN) return Result<Json>(InvalidArgument("timespan out of range"));
  return Result<Json>(MakeTS(-*ts));
}

std::optional<Result<Json>> TemporalProperty(const Json& v, std::string_view name) {
  if (auto dt = AsDT(v)) {
    Fields f = FieldsOf(dt->wall());
    if (name == "year") return Result<Json>(Json(f.year));
    if (name == "month") return Result<Json>(Json(f.month));
    if (name == "day") return Result<Json>(Json(f.day));
    if (name == "hour") return Result<Json>(Json(f.hour));
    if (name == "minute") return Result<Json>(Json(f.minute));
    if (name == "second") return Result<Json>(Json(f.second));
    if (name == "microsecond") return Result<Json>(Json(f.micro));
    if (name == "weekday") return Result<Json>(Json(f.weekday));
    int64_t midnight = FloorDiv(dt->wall(), kUsPerDay) * kUsPerDay;
    if (name == "date") return Result<Json>(MakeDT(DT{midnight - dt->offset_us, dt->offset_us}));
    if (name == "time") return Result<Json>(MakeTS(dt->wall() - midnight));
    // yaql's `utc` is `dt - dt.utcoffset()`: the UTC wall time, still labelled with the offset.
    if (name == "utc") return CheckedDT(DT{dt->utc_us - dt->offset_us, dt->offset_us});
    if (name == "offset") return Result<Json>(MakeTS(dt->offset_us));
    // (utc - epoch).total_seconds(), with yaql's `utc` (so off by the offset when it is not 0).
    if (name == "timestamp")
      return Result<Json>(Json(static_cast<double>(dt->utc_us - dt->offset_us) / 1e6));
    return Result<Json>(
        InvalidArgument("Unknown function \"#property#" + std::string(name) + "\""));
  }
  if (auto ts = AsTS(v)) {
    double us = static_cast<double>(*ts);
    if (name == "microseconds") return Result<Json>(Json(*ts));
    if (name == "milliseconds") return Result<Json>(Json(us / 1000.0));
    if (name == "seconds") return Result<Json>(Json(us / 1e6));
    if (name == "minutes") return Result<Json>(Json(us / 6e7));
    if (name == "hours") return Result<Json>(Json(us / 3.6e9));
    if (name == "days") return Result<Json>(Json(us / 8.64e10));
    return Result<Json>(
        InvalidArgument("Unknown function \"#property#" + std::string(name) + "\""));
  }
  return std::nullopt;
}

std::optional<std::string> TemporalStr(const Json& v) {
  if (!v.is_object()) return std::nullopt;
  if (auto dt = AsDT(v)) return DTStr(*dt);
  if (auto ts = AsTS(v)) return TSStr(*ts);
  return std::nullopt;
}

BuiltinFn TemporalMethod(std::string_view name) {
  if (name == "format") return DTFormat;
  if (name == "replace") return DTReplace;
  return nullptr;
}

uint64_t TemporalsMade() { return temporals_made; }

Status ConvertYaqlOutput(Json& v, int depth) {
  if (depth > 256) return Status::Ok();
  if (v.is_array()) {
    for (Json& e : v.get_array()) BORA_RETURN_IF_ERROR(ConvertYaqlOutput(e, depth + 1));
  } else if (v.is_object()) {
    if (auto dt = AsDT(v)) {
      v = Str(DTMistral(*dt));
      return Status::Ok();
    }
    if (auto ts = AsTS(v))
      return InvalidArgument("a timespan (" + TSStr(*ts) +
                             ") cannot be serialised to JSON (Mistral fails the same way); use "
                             "str() or a property such as .seconds");
    for (auto& kv : v.get_object()) BORA_RETURN_IF_ERROR(ConvertYaqlOutput(kv.value(), depth + 1));
  }
  return Status::Ok();
}

ValResult FnDateTime(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  std::optional<Val> a0;
  if (c.size() >= 1) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
    a0 = std::move(v);
  } else if (const Node* n = c.kw_node("string")) {
    BORA_ASSIGN_OR_RETURN(Val v, ev.Eval(*n));
    a0 = std::move(v);
  }
  // datetime(string, format => null): dateutil's parser (ISO 8601 only here) or strptime.
  if (a0 && a0->get().is_string()) {
    BORA_RETURN_IF_ERROR(c.Arity(0, 2));
    std::string s(a0->get().get_string());
    BORA_ASSIGN_OR_RETURN(std::optional<Val> fmt, c.Opt(1, "format"));
    if (fmt && !fmt->get().is_null()) {
      if (!fmt->get().is_string()) return c.TypeErr(fmt->get(), "a format string");
      BORA_ASSIGN_OR_RETURN(Json r, Strptime(s, SV(fmt->get())));
      return Val::Own(std::move(r));
    }
    BORA_ASSIGN_OR_RETURN(Json r, ParseIso(s));
    return Val::Own(std::move(r));
  }
  // datetime(timestamp, offset => timespan(0)): one number (no month/day).
  bool timestamp_form = a0 && IsNumJ(a0->get()) && !a0->get().is_bool() && c.size() <= 2 &&
                        !c.kw_node("month") && !c.kw_node("day") &&
                        (c.size() == 2 || !IsIntJ(a0->get()) || c.size() == 1);
  if (timestamp_form) {
    BORA_ASSIGN_OR_RETURN(IntParams ps, ReadParams(c, 1, {}, true));
    BORA_ASSIGN_OR_RETURN(Json r, FromTimestamp(NumD(a0->get()), ps.offset.value_or(0)));
    return Val::Own(std::move(r));
  }
  // datetime(year, month, day, hour => 0, minute => 0, second => 0, microsecond => 0,
  //          offset => timespan(0)).
  std::vector<std::string_view> names = {"year",   "month",  "day",        "hour",
                                         "minute", "second", "microsecond"};
  if (a0) {
    if (!IsIntJ(a0->get()))
      return InvalidArgument(c.Signature() + ": 'year' must be an integer, got '" +
                             TypeName(a0->get()) + "'");
    names.erase(names.begin());
  }
  BORA_RETURN_IF_ERROR(c.Arity(0, 8));
  BORA_ASSIGN_OR_RETURN(IntParams ps, ReadParams(c, a0 ? 1 : 0, names, true));
  if (a0) ps.values.insert(ps.values.begin(), NumI(a0->get()));
  if (!ps.values[0] || !ps.values[1] || !ps.values[2])
    return InvalidArgument(c.Signature() + " needs year, month and day");
  BORA_ASSIGN_OR_RETURN(
      Json r, Build(*ps.values[0], *ps.values[1], *ps.values[2], ps.values[3].value_or(0),
                    ps.values[4].value_or(0), ps.values[5].value_or(0), ps.values[6].value_or(0),
                    ps.offset.value_or(0)));
  return Val::Own(std::move(r));
}

ValResult FnTimespan(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 6));
  BORA_ASSIGN_OR_RETURN(
      IntParams ps,
      ReadParams(c, 0, {"days", "hours", "minutes", "seconds", "milliseconds", "microseconds"},
                 false));
  static const int64_t kUnit[] = {kUsPerDay, 3600 * kUsPerSec, 60 * kUsPerSec, kUsPerSec, 1000, 1};
  int64_t total = 0;
  for (size_t i = 0; i < 6; ++i) {
    int64_t part;
    if (ps.values[i] && (__builtin_mul_overflow(*ps.values[i], kUnit[i], &part) ||
                         __builtin_add_overflow(total, part, &total)))
      return InvalidArgument("timespan out of range");
  }
  return Val::Own(MakeTS(total));
}

ValResult FnNow(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 1));
  BORA_ASSIGN_OR_RETURN(IntParams ps, ReadParams(c, 0, {}, true));
  const Clock* clock = ev.ctx().clock ? ev.ctx().clock : SystemClock::Get();
  BORA_ASSIGN_OR_RETURN(Json r, CheckedDT(DT{clock->NowUs(), ps.offset.value_or(0)}));
  return Val::Own(std::move(r));
}

ValResult FnLocalTz(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 0));
  BORA_RETURN_IF_ERROR(c.NoKw());
  // Python: -time.altzone if time.daylight else -time.timezone (the process's TZ).
  tzset();
  long secs = daylight ? -(timezone - 3600) : -timezone;  // glibc has no altzone: DST is +1 h
  return Val::Own(MakeTS(static_cast<int64_t>(secs) * kUsPerSec));
}

ValResult FnUtcTz(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 0));
  BORA_RETURN_IF_ERROR(c.NoKw());
  return Val::Own(MakeTS(0));
}

ValResult FnIsDatetime(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(IsDateTimeValue(v.get())));
}

ValResult FnIsTimespan(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(IsTimespanValue(v.get())));
}

}  // namespace bora::expr::internal
