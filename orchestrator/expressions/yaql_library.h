#pragma once
// yaql 2.0 standard library functions beyond the core builtins (builtins.h): date/time values
// (builtins_datetime.cc) and the rest of the library (builtins_yaql_library.cc: math, strings,
// queries, collections, branching, refused functions). Their entries are in builtins_tables.cc's
// kYaql table. See README.md "YAQL standard library (yaql 2.0)".
#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/expressions/internal.h"

namespace bora::expr::internal {

// ---- Date/time values (builtins_datetime.cc) ----
// A yaql datetime is the JSON object {"__yaql_datetime__": {"utc_us": U, "offset_us": O}}: the
// instant (microseconds since the Unix epoch, UTC) and the UTC offset it is shown in. A timespan
// (Python timedelta) is {"__yaql_timespan__": microseconds}. When a YAQL expression's value leaves
// the evaluator, datetimes become Mistral's text (oslo's to_primitive: "%Y-%m-%dT%H:%M:%S.%f" of
// the wall time, offset dropped) and a timespan is an error (Mistral cannot serialise a timedelta).
bool IsDateTimeValue(const Json& v);
bool IsTimespanValue(const Json& v);
inline bool IsTemporalValue(const Json& v) {
  return v.is_object() && v.get_object().size() == 1 && (IsDateTimeValue(v) || IsTimespanValue(v));
}
// Binary operators when an operand is a datetime/timespan (nullopt: not a temporal operation).
std::optional<Result<Json>> TemporalArith(Op op, const Json& a, const Json& b);
std::optional<Result<bool>> TemporalCompare(Op op, const Json& a, const Json& b);
// Unary - and + on a timespan.
std::optional<Result<Json>> TemporalUnary(Op op, const Json& v);
// `dt.year`, `ts.hours`, ... (nullopt when `v` is not temporal).
std::optional<Result<Json>> TemporalProperty(const Json& v, std::string_view name);
// Python str() of a datetime / timespan (nullopt when `v` is not temporal).
std::optional<std::string> TemporalStr(const Json& v);
// Methods of datetimes (`dt.format(...)`, `dt.replace(...)`); null when none.
BuiltinFn TemporalMethod(std::string_view name);
// Converts datetimes in an expression's result to Mistral's text; fails on a timespan.
Status ConvertYaqlOutput(Json& v, int depth = 0);
// How many datetime/timespan values this thread has made so far: EvalNode converts a result only
// when its evaluation made one (a value in the data that looks like one is left as it is).
uint64_t TemporalsMade();

ValResult FnDateTime(Evaluator& ev, const Node& node, Val* recv);
ValResult FnTimespan(Evaluator& ev, const Node& node, Val* recv);
ValResult FnNow(Evaluator& ev, const Node& node, Val* recv);
ValResult FnLocalTz(Evaluator& ev, const Node& node, Val* recv);
ValResult FnUtcTz(Evaluator& ev, const Node& node, Val* recv);
ValResult FnIsDatetime(Evaluator& ev, const Node& node, Val* recv);
ValResult FnIsTimespan(Evaluator& ev, const Node& node, Val* recv);

// ---- The rest of the library (builtins_yaql_library.cc) ----
ValResult FnPow(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSign(Evaluator& ev, const Node& node, Val* recv);
ValResult FnBitwiseAnd(Evaluator& ev, const Node& node, Val* recv);
ValResult FnBitwiseOr(Evaluator& ev, const Node& node, Val* recv);
ValResult FnBitwiseXor(Evaluator& ev, const Node& node, Val* recv);
ValResult FnBitwiseNot(Evaluator& ev, const Node& node, Val* recv);
ValResult FnShiftBitsLeft(Evaluator& ev, const Node& node, Val* recv);
ValResult FnShiftBitsRight(Evaluator& ev, const Node& node, Val* recv);
ValResult FnRandom(Evaluator& ev, const Node& node, Val* recv);
ValResult FnHex(Evaluator& ev, const Node& node, Val* recv);
ValResult FnNorm(Evaluator& ev, const Node& node, Val* recv);
ValResult FnToCharArray(Evaluator& ev, const Node& node, Val* recv);
ValResult FnCharacters(Evaluator& ev, const Node& node, Val* recv);
ValResult FnRightSplit(Evaluator& ev, const Node& node, Val* recv);
ValResult FnAggregate(Evaluator& ev, const Node& node, Val* recv);
ValResult FnAccumulate(Evaluator& ev, const Node& node, Val* recv);
ValResult FnThenBy(Evaluator& ev, const Node& node, Val* recv);
ValResult FnZipLongest(Evaluator& ev, const Node& node, Val* recv);
ValResult FnRepeat(Evaluator& ev, const Node& node, Val* recv);
ValResult FnMemorize(Evaluator& ev, const Node& node, Val* recv);
ValResult FnIsIterable(Evaluator& ev, const Node& node, Val* recv);
ValResult FnDefaultIfEmpty(Evaluator& ev, const Node& node, Val* recv);
ValResult FnLastIndexWhere(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSlice(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSplitAt(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSplitWhere(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSliceWhere(Evaluator& ev, const Node& node, Val* recv);
ValResult FnJoinQuery(Evaluator& ev, const Node& node, Val* recv);
ValResult FnGenerate(Evaluator& ev, const Node& node, Val* recv);
ValResult FnToSet(Evaluator& ev, const Node& node, Val* recv);
ValResult FnUnion(Evaluator& ev, const Node& node, Val* recv);
ValResult FnIntersect(Evaluator& ev, const Node& node, Val* recv);
ValResult FnDifference(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSymmetricDifference(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSetAdd(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSetRemove(Evaluator& ev, const Node& node, Val* recv);
ValResult FnDeleteAll(Evaluator& ev, const Node& node, Val* recv);
ValResult FnInsert(Evaluator& ev, const Node& node, Val* recv);
ValResult FnInsertMany(Evaluator& ev, const Node& node, Val* recv);
ValResult FnReplaceMany(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSelectCase(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSelectAllCases(Evaluator& ev, const Node& node, Val* recv);
ValResult FnExamine(Evaluator& ev, const Node& node, Val* recv);
ValResult FnSwitchCase(Evaluator& ev, const Node& node, Val* recv);
ValResult FnAssert(Evaluator& ev, const Node& node, Val* recv);
ValResult FnJsonPp(Evaluator& ev, const Node& node, Val* recv);
class Call;
// yaql's set(a, b, ...) (a function call whose first argument is not a dict): a list without
// duplicates. Called by builtins_collections.cc's `set` (which is also the dict method `d.set(k,
// v)`).
ValResult SetOfValues(Call& c, Val first);
// Functions refused on purpose (the error names the function and the reason).
ValResult FnRefused(Evaluator& ev, const Node& node, Val* recv);
// The reason a refused function gives (empty if `name` is not refused).
std::string_view RefusalReason(std::string_view name);

// Enumerates the kYaql table (builtins_tables.cc), for the README coverage test.
size_t YaqlBuiltinCount();

}  // namespace bora::expr::internal
