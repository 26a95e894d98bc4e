// The operators and value helpers of both languages: arithmetic, comparison and ordering, `in`,
// Python's %-formatting, yaql's str(), the size and work estimates the Limits charge (internal.h).
#include "orchestrator/expressions/operators.h"

#include <cmath>
#include <limits>
#include <string>

#include "orchestrator/expressions/builtins_jinja_library.h"
#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/regex.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {

std::string TypeName(const Json& v) { return std::string(PythonTypeName(v)); }

Result<std::string> PercentFormat(std::string_view fmt, const Json& args) {
  std::string out;
  size_t next = 0;
  const bool is_tuple = args.is_array();
  auto take = [&]() -> Result<const Json*> {
    if (!is_tuple) {
      if (next++ > 0) return InvalidArgument("not enough arguments for format string");
      return &args;
    }
    if (next >= args.get_array().size())
      return InvalidArgument("not enough arguments for format string");
    return &args.get_array()[next++];
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c != '%') {
      out += c;
      continue;
    }
    if (++i >= fmt.size()) return InvalidArgument("incomplete format");
    const Json* value = nullptr;
    if (fmt[i] == '(') {
      size_t close = fmt.find(')', i);
      if (close == std::string_view::npos) return InvalidArgument("incomplete format key");
      std::string_view key = fmt.substr(i + 1, close - i - 1);
      if (!args.is_object()) return InvalidArgument("format requires a mapping");
      auto it = args.get_object().find(key);
      if (it == args.get_object().end())
        return InvalidArgument("KeyError: '" + std::string(key) + "'");
      value = &it->value();
      i = close + 1;
      if (i >= fmt.size()) return InvalidArgument("incomplete format");
    }
    std::string flags;
    while (i < fmt.size() && std::string_view("-+ 0#").find(fmt[i]) != std::string_view::npos)
      flags += fmt[i++];
    int width = 0, precision = -1;
    while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
      width = std::min(width * 10 + (fmt[i++] - '0'), 4096);
    if (i < fmt.size() && fmt[i] == '.') {
      precision = 0;
      ++i;
      while (i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])))
        precision = std::min(precision * 10 + (fmt[i++] - '0'), 100);
    }
    if (i >= fmt.size()) return InvalidArgument("incomplete format");
    char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (!value) {
      BORA_ASSIGN_OR_RETURN(value, take());
    }
    std::string text;
    switch (conv) {
      case 's':
        text = PythonStr(*value);
        break;
      case 'r':
      case 'a':
        text = PythonRepr(*value);
        break;
      case 'd':
      case 'i':
      case 'u':
      case 'x':
      case 'X':
      case 'o':
      case 'c': {
        if (!value->is_number() && !value->is_bool())
          return InvalidArgument(std::string("%") + conv + " format: a number is required, not " +
                                 TypeName(*value));
        int64_t x = value->is_double()  ? static_cast<int64_t>(value->as_double())
                    : value->is_bool()  ? (value->as_bool() ? 1 : 0)
                    : value->is_int64() ? value->as_int64()
                                        : static_cast<int64_t>(value->as_uint64());
        char buf[64];
        if (conv == 'x')
          std::snprintf(buf, sizeof(buf), "%llx", static_cast<long long>(x));
        else if (conv == 'X')
          std::snprintf(buf, sizeof(buf), "%llX", static_cast<long long>(x));
        else if (conv == 'o')
          std::snprintf(buf, sizeof(buf), "%llo", static_cast<long long>(x));
        else if (conv == 'c')
          std::snprintf(buf, sizeof(buf), "%c", static_cast<char>(x));
        else
          std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(x));
        text = buf;
        if (flags.find('+') != std::string::npos && x >= 0 && conv != 'c') text = "+" + text;
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G': {
        if (!value->is_number() && !value->is_bool())
          return InvalidArgument(std::string("%") + conv +
                                 " format: a real number is required, not " + TypeName(*value));
        double d = value->is_double()  ? value->as_double()
                   : value->is_bool()  ? (value->as_bool() ? 1.0 : 0.0)
                   : value->is_int64() ? static_cast<double>(value->as_int64())
                                       : static_cast<double>(value->as_uint64());
        char spec[8] = {'%', '.', '*', conv, 0};
        char buf[512];
        std::snprintf(buf, sizeof(buf), spec, precision < 0 ? 6 : precision, d);
        text = buf;
        if (flags.find('+') != std::string::npos && d >= 0) text = "+" + text;
        break;
      }
      default:
        return InvalidArgument(std::string("unsupported format character '") + conv + "'");
    }
    if (precision >= 0 && (conv == 's' || conv == 'r') &&
        text.size() > static_cast<size_t>(precision))
      text.resize(precision);
    if (static_cast<int>(text.size()) < width) {
      size_t pad = width - text.size();
      if (flags.find('-') != std::string::npos)
        text.append(pad, ' ');
      else if (flags.find('0') != std::string::npos && conv != 's' && conv != 'r') {
        size_t sign = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
        text.insert(sign, pad, '0');
      } else {
        text.insert(0, pad, ' ');
      }
    }
    out += text;
  }
  if (is_tuple && next < args.get_array().size())
    return InvalidArgument("not all arguments converted during string formatting");
  return out;
}

std::string YaqlStr(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_object())
    if (auto s = TemporalStr(v)) return *s;
  return PythonStr(v);
}

int64_t WorkOf(const Json& v) {
  if (v.is_array()) return static_cast<int64_t>(v.get_array().size());
  if (v.is_object()) return static_cast<int64_t>(v.get_object().size());
  if (v.is_string()) return static_cast<int64_t>(v.get_string().size() / 64);
  return 0;
}

size_t ApproxSize(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return v.get_string().size() + 8;
    case boost::json::kind::array: {
      size_t s = 16;
      for (const Json& e : v.get_array()) s += ApproxSize(e);
      return s;
    }
    case boost::json::kind::object: {
      size_t s = 16;
      for (const auto& kv : v.get_object()) s += kv.key().size() + 8 + ApproxSize(kv.value());
      return s;
    }
    default:
      return 8;
  }
}

Result<Json> Arith(Op op, const Json& a, const Json& b, Lang lang, const Evaluator& ev) {
  if (lang == Lang::kYaql && (a.is_object() || b.is_object()))
    if (auto r = TemporalArith(op, a, b)) return std::move(*r);
  bool na = IsNum(a, lang), nb = IsNum(b, lang);
  if (na && nb) {
    bool ints = IsInt(a) && IsInt(b);
    if (ints) {
      int64_t x = ToInt(a), y = ToInt(b), r = 0;
      switch (op) {
        case Op::kAdd:
          if (!__builtin_add_overflow(x, y, &r)) return Json(r);
          return Json(ToDouble(a) + ToDouble(b));
        case Op::kSub:
          if (!__builtin_sub_overflow(x, y, &r)) return Json(r);
          return Json(ToDouble(a) - ToDouble(b));
        case Op::kMul:
          if (!__builtin_mul_overflow(x, y, &r)) return Json(r);
          return Json(ToDouble(a) * ToDouble(b));
        case Op::kDiv:
          if (y == 0)
            return InvalidArgument(lang == Lang::kYaql ? "integer division or modulo by zero"
                                                       : "division by zero");
          if (lang == Lang::kYaql) {
            if (x == std::numeric_limits<int64_t>::min() && y == -1) return Json(-ToDouble(a));
            return Json(FloorDivInt(x, y));
          }
          return Json(static_cast<double>(x) / static_cast<double>(y));
        case Op::kFloorDiv:
          if (y == 0) return InvalidArgument("integer division or modulo by zero");
          if (x == std::numeric_limits<int64_t>::min() && y == -1) return Json(-ToDouble(a));
          return Json(FloorDivInt(x, y));
        case Op::kMod:
          if (y == 0) return InvalidArgument("integer division or modulo by zero");
          if (y == -1) return Json(int64_t{0});
          return Json(FloorModInt(x, y));
        case Op::kPow: {
          if (y >= 0) {
            int64_t acc = 1, base = x;
            int64_t e = y;
            bool overflow = false;
            while (e > 0 && !overflow) {
              if (e & 1) overflow |= __builtin_mul_overflow(acc, base, &acc);
              e >>= 1;
              if (e > 0) overflow |= __builtin_mul_overflow(base, base, &base);
            }
            if (!overflow) return Json(acc);
          } else if (x == 0) {
            return InvalidArgument("0.0 cannot be raised to a negative power");
          }
          return Json(std::pow(ToDouble(a), ToDouble(b)));
        }
        default:
          break;
      }
    } else {
      double x = ToDouble(a), y = ToDouble(b);
      switch (op) {
        case Op::kAdd:
          return Json(x + y);
        case Op::kSub:
          return Json(x - y);
        case Op::kMul:
          return Json(x * y);
        case Op::kDiv:
          if (y == 0) return InvalidArgument("float division by zero");
          return Json(x / y);
        case Op::kFloorDiv:
          if (y == 0) return InvalidArgument("float divmod()");
          return Json(std::floor(x / y));
        case Op::kMod: {
          if (y == 0) return InvalidArgument("float modulo");
          double m = std::fmod(x, y);
          if (m != 0 && ((m < 0) != (y < 0))) m += y;
          return Json(m);
        }
        case Op::kPow:
          if (x == 0 && y < 0) return InvalidArgument("0.0 cannot be raised to a negative power");
          return Json(std::pow(x, y));
        default:
          break;
      }
    }
    return TypeError(op, a, b, lang);
  }
  if (op == Op::kAdd) {
    if (a.is_string() && b.is_string()) {
      BORA_RETURN_IF_ERROR(ev.CheckSize(a.get_string().size() + b.get_string().size()));
      std::string s;
      s.reserve(a.get_string().size() + b.get_string().size());
      s.append(a.get_string().data(), a.get_string().size());
      s.append(b.get_string().data(), b.get_string().size());
      return Json(boost::json::string(s));
    }
    if (a.is_array() && b.is_array()) {
      BORA_RETURN_IF_ERROR(ev.CheckSize((a.get_array().size() + b.get_array().size()) * 16));
      JsonArray r = a.get_array();
      for (const Json& e : b.get_array()) r.push_back(e);
      return Json(std::move(r));
    }
    if (lang == Lang::kYaql && a.is_object() && b.is_object()) {
      JsonObject r = a.get_object();
      for (const auto& kv : b.get_object()) r[kv.key()] = kv.value();
      return Json(std::move(r));
    }
  }
  if (op == Op::kMul) {
    const Json* seq = nullptr;
    const Json* count = nullptr;
    if ((a.is_string() || a.is_array()) && IsInt(b) && !b.is_bool()) seq = &a, count = &b;
    if ((b.is_string() || b.is_array()) && IsInt(a) && !a.is_bool()) seq = &b, count = &a;
    if (seq) {
      int64_t n = std::max<int64_t>(0, ToInt(*count));
      // Repeating an empty sequence gives an empty one at once: no loop of `n` turns (a fuzzer
      // found `[] * 1000000000000` spinning).
      if (seq->is_string() ? seq->get_string().empty() : seq->get_array().empty()) {
        return seq->is_string() ? Json(boost::json::string()) : Json(JsonArray());
      }
      size_t unit =
          seq->is_string() ? seq->get_string().size() : std::max<size_t>(16, ApproxSize(*seq));
      if (static_cast<uint64_t>(n) > ev.ctx().limits.max_output_bytes / unit)
        return ev.SizeExceeded(static_cast<size_t>(n) * unit);
      if (seq->is_string()) {
        std::string s;
        for (int64_t i = 0; i < n; ++i)
          s.append(seq->get_string().data(), seq->get_string().size());
        return Json(boost::json::string(s));
      }
      JsonArray r;
      for (int64_t i = 0; i < n; ++i)
        for (const Json& e : seq->get_array()) r.push_back(e);
      return Json(std::move(r));
    }
  }
  if (op == Op::kMod && lang == Lang::kJinja && a.is_string()) {
    BORA_ASSIGN_OR_RETURN(std::string s, PercentFormat(a.get_string(), b));
    BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
    return Json(boost::json::string(s));
  }
  return TypeError(op, a, b, lang);
}

Result<int> Order(const Json& a, const Json& b) {
  if ((a.is_number() || a.is_bool()) && (b.is_number() || b.is_bool())) {
    if (IsInt(a) && IsInt(b)) {
      int64_t x = ToInt(a), y = ToInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    double x = ToDouble(a), y = ToDouble(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    int c = std::string_view(a.get_string()).compare(std::string_view(b.get_string()));
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.is_array() && b.is_array()) {
    const auto& x = a.get_array();
    const auto& y = b.get_array();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (JsonEquals(x[i], y[i])) continue;
      return Order(x[i], y[i]);
    }
    return x.size() < y.size() ? -1 : x.size() > y.size() ? 1 : 0;
  }
  return InvalidArgument("cannot compare '" + TypeName(a) + "' with '" + TypeName(b) + "'");
}

namespace {
// Whether an ordering c (-1, 0, 1) satisfies the comparison operator op (< > <= >=).
Result<bool> OrderHolds(Op op, int c) {
  switch (op) {
    case Op::kLt:
      return c < 0;
    case Op::kGt:
      return c > 0;
    case Op::kLe:
      return c <= 0;
    case Op::kGe:
      return c >= 0;
    default:
      return Internal("bad comparison operator");
  }
}
}  // namespace

Result<bool> Compare(Op op, const Json& a, const Json& b, Lang lang) {
  if (lang == Lang::kYaql && (a.is_object() || b.is_object()))
    if (auto r = TemporalCompare(op, a, b)) return std::move(*r);
  switch (op) {
    case Op::kEq:
      return JsonEquals(a, b);
    case Op::kNe:
      return !JsonEquals(a, b);
    default:
      break;
  }
  if (lang == Lang::kYaql && (a.is_null() || b.is_null())) {
    // yaql's common.py: null is less than any other value and equal to null.
    return OrderHolds(op, a.is_null() ? (b.is_null() ? 0 : -1) : 1);
  }
  if (lang == Lang::kYaql && a.is_array() && b.is_array()) {
    // yaql 2.0 has no ordering of lists (`[1] < [2]` fails: no function "#operator_<"); its `<`
    // on sets is the subset test, and sets are lists here, so neither can be answered.
    return InvalidArgument(std::string("operator '") + OpSymbol(op, lang) +
                           "' is not supported between two lists: yaql does not order lists, and "
                           "compares sets (subset) where sets are lists here");
  }
  if (lang == Lang::kYaql && (a.is_bool() || b.is_bool()) && !(a.is_bool() && b.is_bool()))
    return InvalidArgument("cannot compare '" + TypeName(a) + "' with '" + TypeName(b) +
                           "' using " + OpSymbol(op, lang));
  auto ord = Order(a, b);
  if (!ord.ok())
    return InvalidArgument("'" + std::string(OpSymbol(op, lang)) + "' not supported between '" +
                           TypeName(a) + "' and '" + TypeName(b) + "'");
  return OrderHolds(op, *ord);
}

Result<bool> Contains(const Json& container, const Json& item) {
  if (container.is_array()) {
    for (const Json& e : container.get_array())
      if (JsonEquals(e, item)) return true;
    return false;
  }
  if (container.is_object()) {
    if (!item.is_string()) return false;
    return container.get_object().contains(item.get_string());
  }
  if (container.is_string()) {
    if (!item.is_string())
      return InvalidArgument("'in <string>' requires string as left operand, not " +
                             TypeName(item));
    return std::string_view(container.get_string()).find(std::string_view(item.get_string())) !=
           std::string_view::npos;
  }
  return InvalidArgument("argument of type '" + TypeName(container) + "' is not iterable");
}

Status Evaluator::StepsExceeded() const {
  return ResourceExhausted("expression budget exceeded: more than " +
                           std::to_string(ctx_.limits.max_steps) + " steps");
}

Status Evaluator::SizeExceeded(size_t bytes) const {
  return ResourceExhausted("expression budget exceeded: value larger than " +
                           std::to_string(ctx_.limits.max_output_bytes) +
                           " bytes (max_output_bytes)");
}

}  // namespace bora::expr::internal
