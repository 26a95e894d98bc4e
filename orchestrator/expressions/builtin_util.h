#pragma once
// Helpers shared by the builtins_*.cc files (defined in builtin_util.cc): Python's str() of a
// value, ASCII lower-casing, attribute paths as Jinja's make_attrgetter reads them, optional
// parameters, and sorting by a key.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"

namespace bora::expr::internal {

// soft_str(): strings as they are, anything else Python's str().
std::string SoftStr(const Json& v);
// ASCII lower-casing.
std::string Lower(std::string s);
// Jinja's ignore_case postprocess: strings lower-cased.
Json IgnoreCase(const Json& v);
// make_attrgetter(): a dotted path ("a.b", "0") of dict keys, list indexes (digit parts) and
// `grouper` / `list` of a groupby() group (a [grouper, list] pair); null when a part is missing.
const Json* GetPath(const Json& v, std::string_view path);
// The error for a missing attribute (the first part of `path`).
Status NoAttribute(const Json& v, std::string_view path);
// The optional `attribute` parameter (position i) as a path string (ints as their digits).
Result<std::optional<std::string>> AttributeParam(Call& c, size_t i);
// An optional parameter read as a truth value.
Result<bool> BoolParam(Call& c, size_t i, std::string_view name, bool dflt);
// Stable sort of (key, value) pairs by key (Order()), descending when `reverse`; the comparisons
// are charged as steps.
Status SortPairs(Evaluator& ev, std::vector<std::pair<Json, Json>>& items, bool reverse);
// The values of `items` sorted by their keys (SortPairs), as a new list.
ValResult SortedValues(Evaluator& ev, std::vector<std::pair<Json, Json>>& items, bool reverse);
// A copy with every dict's keys in sorted order (json.dumps(sort_keys=True), pprint).
Json SortedKeys(const Json& v, int depth);
// Evaluates a two-argument lambda (aggregate, mergeWith's mergers): `$1` = a, `$2` = b, `$` = a.
Result<Json> Lambda2(Call& c, const Node* body, const Json& a, const Json& b);

}  // namespace bora::expr::internal
