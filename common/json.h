#pragma once
// JSON values for the whole project: Boost.JSON's `value` (insertion-ordered objects, int64/uint64/double kept
// apart, so Python's int/float distinction survives). Helpers here format values the way Mistral (Python) does.
// All functions are pure and thread-safe.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace bora {

using Json = boost::json::value;
using JsonObject = boost::json::object;
using JsonArray = boost::json::array;

// Parses JSON text. Errors say where ("line 3, column 7") and what. `max_depth` bounds nesting.
// A number a double cannot hold (1e309, a 400-digit integer: Boost.JSON would make it infinity) is
// refused with an error naming its path (NonFiniteNumberError); finite numbers beyond uint64 become
// doubles.
Result<Json> ParseJson(std::string_view text, int max_depth = 64);

// The one rule for numbers: JSON numbers are finite. Infinity and NaN (from an overflowing literal
// or a computation) cannot be written as JSON, so they are refused where they enter.
// The path of the first non-finite number in `v` ("a.b[2]", "" for `v` itself), if any.
std::optional<std::string> FindNonFiniteNumber(const Json& v);
// kInvalidArgument "number out of range at '<name>.<path>': JSON numbers must be finite ..." when
// `v` holds a non-finite number; `name` (may be empty) prefixes the path.
Status CheckFiniteNumbers(const Json& v, std::string_view name = "");
// The error above, for a number at `path`.
Status NonFiniteNumberError(std::string_view path);
// True when `s` is that error (callers that otherwise keep unparsable text as a string refuse it).
bool IsNonFiniteNumberError(const Status& s);

// Compact JSON ({"a":1}); what goes on the wire. Never writes Infinity or NaN: a non-finite number
// (which the rule above keeps out) is written as null; encoders that must fail instead use
// AppendJson's result (common/json_text.h).
std::string DumpJson(const Json& v);

// Python's json.dumps(v): separators ", " and ": ", non-ASCII escaped as \uXXXX (ensure_ascii), and with
// indent > 0 one item per line. Mistral stores json-typed fields this way.
std::string PythonJsonDumps(const Json& v, int indent = 0);

// Python's str(v) for values that came from JSON: strings as-is; True/False/None; repr() for containers
// ({'a': 1, 'b': [1, 'x']}); floats as Python's repr (1.0, 1e-05, 1e+16). Used for string interpolation.
std::string PythonStr(const Json& v);
// Python's repr(v): like PythonStr but strings are quoted ('it''s' rules: single quotes unless the string
// contains a single quote and no double quote).
std::string PythonRepr(const Json& v);
// Python's repr of a float.
std::string PythonFloatRepr(double d);

// Python truthiness: null, false, 0, 0.0, "", [], {} are false.
bool IsTruthy(const Json& v);

// Deep merge: for objects, keys of `overlay` are merged recursively into `base`; any other type replaces.
void DeepMerge(Json& base, const Json& overlay);

// Python-style equality across int64/uint64/double (1 == 1.0), containers compared element-wise.
bool JsonEquals(const Json& a, const Json& b);

// Type name as Python would say it: "NoneType", "bool", "int", "float", "str", "list", "dict".
std::string_view PythonTypeName(const Json& v);

}  // namespace bora
