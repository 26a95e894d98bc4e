#pragma once
// Number and operator helpers shared by the evaluator (evaluator.cc) and the operators and value
// helpers (operators.cc). Included by those two files only: the functions sit in an anonymous
// namespace.
#include <cstdint>
#include <string>

#include "orchestrator/expressions/internal.h"

namespace bora::expr::internal {
namespace {

inline bool IsNum(const Json& v, Lang lang) {
  return v.is_int64() || v.is_uint64() || v.is_double() || (lang == Lang::kJinja && v.is_bool());
}
inline bool IsInt(const Json& v) { return v.is_int64() || v.is_uint64() || v.is_bool(); }
inline double ToDouble(const Json& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  return 0;
}
// int64 view of an integer value (uint64 beyond int64 range saturates; good enough for JSON data).
inline int64_t ToInt(const Json& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) {
    uint64_t u = v.as_uint64();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
               ? std::numeric_limits<int64_t>::max()
               : static_cast<int64_t>(u);
  }
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  return static_cast<int64_t>(v.as_double());
}

inline const char* OpSymbol(Op op, Lang lang) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kFloorDiv:
      return "//";
    case Op::kMod:
      return lang == Lang::kYaql ? "mod" : "%";
    case Op::kPow:
      return "**";
    case Op::kLt:
      return "<";
    case Op::kGt:
      return ">";
    case Op::kLe:
      return "<=";
    case Op::kGe:
      return ">=";
    default:
      return "?";
  }
}

inline Status TypeError(Op op, const Json& a, const Json& b, Lang lang) {
  return InvalidArgument("unsupported operand types for " + std::string(OpSymbol(op, lang)) +
                         ": '" + TypeName(a) + "' and '" + TypeName(b) + "'");
}

inline int64_t FloorDivInt(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}
inline int64_t FloorModInt(int64_t a, int64_t b) {
  int64_t m = a % b;
  if (m != 0 && ((m < 0) != (b < 0))) m += b;
  return m;
}

inline std::string JinjaTypeRepr(const Json& v) {
  if (v.is_null()) return "None";
  return "'" + TypeName(v) + " object'";
}

}  // namespace
}  // namespace bora::expr::internal
