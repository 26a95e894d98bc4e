#pragma once
// Regular expressions for YAQL (yaql 2.0's standard_library/regex.py: regex(), matches, =~ / !~,
// search, searchAll, split, replace, escapeRegex, isRegex) on RE2: linear time in the text, so no
// pattern can hang an evaluation (std::regex backtracks exponentially; the fuzzer found such
// hangs). Python's `re` semantics are kept where RE2 allows: searches are unanchored, empty matches
// follow Python 3.7+ (an empty match is not taken where the previous empty match was), split
// returns the groups between the pieces, replacement templates take \1..\99, \g<n>, \g<name> and
// Python's escapes. RE2 has no look-around and no backreferences in patterns: such a pattern is an
// error that says so.
//
// A regex value (what regex() returns) is a JSON object {"__yaql_regex__": {"pattern", "flags"}}.
//
// Thread-safety: every function may be called from any thread (compiled patterns are cached per
// thread).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::expr::internal {

enum RegexFlags : int { kIgnoreCase = 1, kMultiLine = 2, kDotAll = 4 };

struct RegexSpec {
  std::string pattern;
  int flags = 0;
};

// The value regex() returns, and back.
Json MakeRegexValue(const RegexSpec& spec);
bool IsRegexValue(const Json& v);
RegexSpec RegexOfValue(const Json& v);  // requires IsRegexValue

// kInvalidArgument naming the pattern when RE2 refuses it.
Status CheckRegex(const RegexSpec& spec);
// Whether the pattern matches anywhere in `s` (Python's re.search).
Result<bool> RegexSearch(const RegexSpec& spec, std::string_view s);
// The first match (group 0), or nullopt.
Result<std::optional<std::string>> RegexFirst(const RegexSpec& spec, std::string_view s);
// Every non-overlapping match (group 0), Python's finditer order; at most `max_matches` (beyond:
// kResourceExhausted).
Result<std::vector<std::string>> RegexAll(const RegexSpec& spec, std::string_view s,
                                          size_t max_matches);
// Python's re.split(pattern, s, maxsplit): pieces and, between them, the groups (null for a group
// that did not take part). max_split 0: no limit.
Result<std::vector<Json>> RegexSplit(const RegexSpec& spec, std::string_view s, int64_t max_split,
                                     size_t max_pieces);
// Python's re.sub(pattern, repl, s, count): count 0 replaces every match. `max_bytes` bounds the
// result.
Result<std::string> RegexReplace(const RegexSpec& spec, std::string_view s, std::string_view repl,
                                 int64_t count, size_t max_bytes);
// Python's re.escape: every character but ASCII letters, digits and '_' that is special is escaped.
std::string EscapeRegex(std::string_view s);

}  // namespace bora::expr::internal
