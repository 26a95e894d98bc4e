// String functions shared by YAQL and Jinja (join, split, replace, case mapping, trim, startsWith,
// substring, isEmpty) and YAQL's regular expressions (yaql's standard_library/regex.py on RE2; see
// regex.h).
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/builtins.h"
#include "orchestrator/expressions/regex.h"

namespace bora::expr::internal {

ValResult FnJoin(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  Val b = Val::Own(Str(""));
  if (c.size() == 2) {
    BORA_ASSIGN_OR_RETURN(b, c.Arg(1));
  } else if (c.kw_node("d")) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> d, c.Opt(1, "d"));
    b = std::move(*d);
  }
  // YAQL: join(sequence, separator) and also separator.join(sequence) forms.
  if (a->is_string() && b->is_array()) std::swap(a, b);
  BORA_ASSIGN_OR_RETURN(Val list, AsList(c, std::move(a), !IsYaql(c)));
  if (!b->is_string()) return c.TypeErr(b.get(), "a string separator");
  std::string out;
  bool first = true;
  std::optional<Val> attr;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    if (!first) out += SV(b.get());
    first = false;
    if (e.is_string())
      out += SV(e);
    else if (IsYaql(c))
      out += YaqlStr(e);  // yaql's join converts with str()
    else
      out += PythonStr(e);
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}
namespace {

// Python's str.split(sep=None, maxsplit=-1).
JsonArray PySplit(std::string_view s, const std::optional<std::string>& sep, int64_t max_splits) {
  JsonArray out;
  if (!sep) {
    size_t i = 0;
    int64_t splits = 0;
    while (true) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      if (max_splits >= 0 && splits >= max_splits) {
        size_t e = s.size();
        while (e > i && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
        out.push_back(Str(s.substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back(Str(s.substr(i, j - i)));
      ++splits;
      i = j;
    }
    return out;
  }
  size_t i = 0;
  int64_t splits = 0;
  while (true) {
    size_t p = (max_splits >= 0 && splits >= max_splits) ? std::string_view::npos : s.find(*sep, i);
    if (p == std::string_view::npos) {
      out.push_back(Str(s.substr(i)));
      break;
    }
    out.push_back(Str(s.substr(i, p - i)));
    i = p + sep->size();
    ++splits;
  }
  return out;
}

// regex.split(string, maxSplit) / string.split(regex, maxSplit) (yaql's regex.py): `s` is split by
// `spec`; the max split is parameter `max_at` / maxSplit.
ValResult RegexSplitCall(Call& c, const RegexSpec& spec, std::string_view s, size_t max_at) {
  int64_t max_split = 0;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(max_at, "maxSplit"));
  if (mv) {
    if (!IsIntJ(mv->get())) return c.TypeErr(mv->get(), "an integer");
    max_split = NumI(mv->get());
  }
  BORA_RETURN_IF_ERROR(c.ev().Step(static_cast<int64_t>(s.size() / 16)));
  const size_t max_pieces = std::max<size_t>(16, c.ev().ctx().limits.max_output_bytes / 16);
  BORA_ASSIGN_OR_RETURN(std::vector<Json> pieces, RegexSplit(spec, s, max_split, max_pieces));
  JsonArray out;
  out.reserve(pieces.size());
  for (auto& p : pieces) out.push_back(std::move(p));
  return Val::Own(Json(std::move(out)));
}

}  // namespace

ValResult FnSplit(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val first, c.Arg(0));
  if (IsYaql(c) && IsRegexValue(first.get())) {  // regex(...).split(string, maxSplit)
    BORA_RETURN_IF_ERROR(c.Arity(2, 3));
    BORA_ASSIGN_OR_RETURN(std::string text, StrArg(c, 1));
    return RegexSplitCall(c, RegexOfValue(first.get()), text, 2);
  }
  if (!first->is_string()) return c.TypeErr(first.get(), "a string");
  std::string s(first->get_string());
  std::optional<std::string> sep;
  int64_t max_splits = -1;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> sv, c.Opt(1, IsYaql(c) ? "separator" : "sep"));
  if (IsYaql(c) && sv && IsRegexValue(sv->get())) {  // string.split(regex(...), maxSplit)
    return RegexSplitCall(c, RegexOfValue(sv->get()), s, 2);
  }
  if (sv && !(*sv)->is_null()) {
    if (!(*sv)->is_string()) return c.TypeErr(sv->get(), "a string separator");
    sep = std::string((*sv)->get_string());
    if (sep->empty()) return InvalidArgument("empty separator");
  }
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, IsYaql(c) ? "max_splits" : "maxsplit"));
  if (mv) {
    if (!IsIntJ(mv->get())) return c.TypeErr(mv->get(), "an integer");
    max_splits = NumI(mv->get());
  }
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(s.size() / 16)));
  return Val::Own(Json(PySplit(s, sep, max_splits)));
}
namespace {

std::string ReplaceAll(std::string_view s, std::string_view old, std::string_view neu,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python: inserts `neu` between every character (and at both ends).
    int64_t n = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (count < 0 || n < count) {
        out += neu;
        ++n;
      }
      if (i < s.size()) out += s[i];
    }
    return out;
  }
  size_t i = 0;
  int64_t n = 0;
  while (true) {
    size_t p = (count >= 0 && n >= count) ? std::string_view::npos : s.find(old, i);
    if (p == std::string_view::npos) {
      out += s.substr(i);
      break;
    }
    out += s.substr(i, p - i);
    out += neu;
    i = p + old.size();
    ++n;
  }
  return out;
}

// Fails before building a replacement result that would exceed the output limit.
Status CheckReplaceSize(const Evaluator& ev, std::string_view s, std::string_view old,
                        std::string_view neu, int64_t count) {
  if (neu.size() <= old.size()) return Status::Ok();
  size_t max_occurrences = old.empty() ? s.size() + 1 : s.size() / old.size();
  if (s.size() + max_occurrences * (neu.size() - old.size()) <= ev.ctx().limits.max_output_bytes)
    return Status::Ok();
  size_t actual = 0;
  if (old.empty()) {
    actual = s.size() + 1;
  } else {
    for (size_t p = s.find(old); p != std::string_view::npos; p = s.find(old, p + old.size()))
      ++actual;
  }
  if (count >= 0) actual = std::min<size_t>(actual, static_cast<size_t>(count));
  return ev.CheckSize(s.size() + actual * (neu.size() - old.size()));
}

// regex.replace(string, repl, count) / string.replace(regex, repl, count) (yaql's regex.py): the
// replacement is parameter `repl_at`, the count the next one (0: every match).
ValResult RegexReplaceCall(Call& c, const RegexSpec& spec, std::string_view s, size_t repl_at) {
  BORA_ASSIGN_OR_RETURN(std::string repl, StrArg(c, repl_at));
  int64_t count = 0;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(repl_at + 1, "count"));
  if (cv) {
    if (!IsIntJ(cv->get())) return c.TypeErr(cv->get(), "an integer");
    count = NumI(cv->get());
  }
  BORA_RETURN_IF_ERROR(c.ev().Step(static_cast<int64_t>(s.size() / 16)));
  BORA_ASSIGN_OR_RETURN(std::string out,
                        RegexReplace(spec, s, repl, count, c.ev().ctx().limits.max_output_bytes));
  return Val::Own(Str(out));
}

}  // namespace

ValResult FnReplace(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 4));
  BORA_ASSIGN_OR_RETURN(Val sv, c.Arg(0));
  if (IsYaql(c) && IsRegexValue(sv.get())) {  // regex(...).replace(string, repl, count)
    BORA_RETURN_IF_ERROR(c.Arity(3, 4));
    BORA_ASSIGN_OR_RETURN(std::string text, StrArg(c, 1));
    return RegexReplaceCall(c, RegexOfValue(sv.get()), text, 2);
  }
  std::string s = SoftStr(sv.get());
  BORA_ASSIGN_OR_RETURN(Val old, c.Arg(1));
  if (IsYaql(c) && IsRegexValue(old.get())) {  // string.replace(regex(...), repl, count)
    BORA_RETURN_IF_ERROR(c.Arity(3, 4));
    return RegexReplaceCall(c, RegexOfValue(old.get()), s, 2);
  }
  if (old->is_object()) {  // replace({old => new, ...}, count)
    int64_t count = -1;
    if (c.size() >= 3) {
      BORA_ASSIGN_OR_RETURN(count, IntArg(c, 2));
    }
    for (const auto& kv : old->get_object()) {
      BORA_RETURN_IF_ERROR(ev.Step());
      std::string neu =
          kv.value().is_string() ? std::string(kv.value().get_string()) : YaqlStr(kv.value());
      BORA_RETURN_IF_ERROR(CheckReplaceSize(ev, s, kv.key(), neu, count));
      s = ReplaceAll(s, kv.key(), neu, count);
      BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
    }
    return Val::Own(Str(s));
  }
  if (c.size() < 3) return c.Arity(3, 4);
  BORA_ASSIGN_OR_RETURN(Val neu, c.Arg(2));
  if (!old->is_string() || !neu->is_string())
    return c.TypeErr(old->is_string() ? neu.get() : old.get(), "a string");
  int64_t count = -1;
  if (c.size() == 4) {
    BORA_ASSIGN_OR_RETURN(count, IntArg(c, 3));
  }
  BORA_RETURN_IF_ERROR(CheckReplaceSize(ev, s, SV(old.get()), SV(neu.get()), count));
  std::string out = ReplaceAll(s, SV(old.get()), SV(neu.get()), count);
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(out.size() / 64)));
  return Val::Own(Str(out));
}
namespace {

template <int (*F)(int)>
ValResult CaseMap(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  if (IsYaql(c) && !v->is_string()) return c.TypeErr(v.get(), "a string");
  for (char& ch : s) ch = static_cast<char>(F(static_cast<unsigned char>(ch)));
  return Val::Own(Str(s));
}

}  // namespace

ValResult FnToUpper(Evaluator& ev, const Node& n, Val* r) {
  return CaseMap<std::toupper>(ev, n, r);
}
ValResult FnToLower(Evaluator& ev, const Node& n, Val* r) {
  return CaseMap<std::tolower>(ev, n, r);
}
namespace {

ValResult TrimImpl(Evaluator& ev, const Node& node, Val* recv, bool left, bool right) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  if (IsYaql(c) && !v->is_string()) return c.TypeErr(v.get(), "a string");
  std::string chars = " \t\n\r\f\v";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(1, "chars"));
  if (cv && (*cv)->is_string()) chars = std::string((*cv)->get_string());
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  if (right)
    while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  return Val::Own(Str(std::string_view(s).substr(b, e - b)));
}

}  // namespace

ValResult FnTrim(Evaluator& ev, const Node& n, Val* r) { return TrimImpl(ev, n, r, true, true); }
ValResult FnTrimLeft(Evaluator& ev, const Node& n, Val* r) {
  return TrimImpl(ev, n, r, true, false);
}
ValResult FnTrimRight(Evaluator& ev, const Node& n, Val* r) {
  return TrimImpl(ev, n, r, false, true);
}

// string.isEmpty(trim => true, chars => null) (yaql's strings.py): null is empty; a string is empty
// after stripping `chars` (whitespace by default) unless `trim` is false. Lists and dicts: whether
// they have no items (an extension; yaql takes only strings).
ValResult FnIsEmpty(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  if (j.is_null()) return Val::Own(Json(true));
  if (j.is_string()) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> tv, c.Opt(1, "trim"));
    if (tv && !(*tv)->is_bool()) return c.TypeErr(tv->get(), "a boolean trim");
    BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(2, "chars"));
    if (cv && !(*cv)->is_null() && !(*cv)->is_string()) return c.TypeErr(cv->get(), "a string");
    std::string_view s = SV(j);
    if (tv && !(*tv)->as_bool()) return Val::Own(Json(s.empty()));
    std::string_view chars = cv && (*cv)->is_string() ? SV(cv->get()) : " \t\n\r\f\v";
    return Val::Own(Json(s.find_first_not_of(chars) == std::string_view::npos));
  }
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  if (j.is_array()) return Val::Own(Json(j.get_array().empty()));
  if (j.is_object()) return Val::Own(Json(j.get_object().empty()));
  return c.TypeErr(j, "a string or a collection");
}
namespace {

ValResult StartsEnds(Evaluator& ev, const Node& node, Val* recv, bool starts) {
  Call c(ev, node, recv);
  if (c.size() < 2) return c.Arity(2, 16);
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val p, c.Arg(i));
    std::vector<std::string> prefixes;
    if (p->is_string())
      prefixes.emplace_back(SV(p.get()));
    else if (p->is_array())
      for (const Json& e : p->get_array())
        if (e.is_string()) prefixes.emplace_back(SV(e));
    for (const std::string& x : prefixes) {
      if (starts ? std::string_view(s).starts_with(x) : std::string_view(s).ends_with(x))
        return Val::Own(Json(true));
    }
  }
  return Val::Own(Json(false));
}

}  // namespace

ValResult FnStartsWith(Evaluator& ev, const Node& n, Val* r) { return StartsEnds(ev, n, r, true); }
ValResult FnEndsWith(Evaluator& ev, const Node& n, Val* r) { return StartsEnds(ev, n, r, false); }

ValResult FnSubstring(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  BORA_ASSIGN_OR_RETURN(int64_t start, IntArg(c, 1));
  int64_t length = -1;
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(length, IntArg(c, 2));
  }
  int64_t n = static_cast<int64_t>(s.size());
  if (length < 0) length = n;
  if (start < 0) start += n;
  start = std::clamp<int64_t>(start, 0, n);
  int64_t end = std::clamp<int64_t>(start + std::min(length, n), start, n);
  return Val::Own(Str(std::string_view(s).substr(start, end - start)));
}

// regex(pattern, ignoreCase => false, multiLine => false, dotAll => false)
ValResult FnRegex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 4));
  RegexSpec spec;
  BORA_ASSIGN_OR_RETURN(spec.pattern, StrArg(c, 0));
  static constexpr std::pair<const char*, int> kFlags[] = {
      {"ignoreCase", kIgnoreCase}, {"multiLine", kMultiLine}, {"dotAll", kDotAll}};
  for (size_t i = 0; i < 3; ++i) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(i + 1, kFlags[i].first));
    if (v && IsTruthy(v->get())) spec.flags |= kFlags[i].second;
  }
  BORA_RETURN_IF_ERROR(CheckRegex(spec));
  return Val::Own(MakeRegexValue(spec));
}
namespace {

// The pattern of a regex() value or, with `strings`, of a pattern string; nullopt otherwise.
std::optional<RegexSpec> RegexOf(const Json& v, bool strings) {
  if (IsRegexValue(v)) return RegexOfValue(v);
  if (strings && v.is_string()) return RegexSpec{std::string(v.get_string()), 0};
  return std::nullopt;
}

}  // namespace

// regex.matches(string) and string.matches(pattern or regex).
ValResult FnMatches(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val b, c.Arg(1));
  const bool regex_first = IsRegexValue(a.get());
  const Json& text = regex_first ? b.get() : a.get();
  if (!text.is_string()) return c.TypeErr(text, "a string");
  std::optional<RegexSpec> spec = RegexOf(regex_first ? a.get() : b.get(), !regex_first);
  if (!spec) return c.TypeErr(b.get(), "a regular expression (a string or regex())");
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(SV(text).size() / 16)));
  BORA_ASSIGN_OR_RETURN(bool found, RegexSearch(*spec, SV(text)));
  return Val::Own(Json(found));
}
namespace {

// regex.search(string) -> the first match or null; regex.searchAll(string) -> every match. With a
// selector (a lambda over the match) they are refused.
template <bool kAll>
ValResult RegexSearchFn(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  if (c.size() > 2 || c.kw_node("selector") != nullptr) {
    return InvalidArgument(c.Signature() +
                           " with a selector is not supported: select from its result instead");
  }
  BORA_ASSIGN_OR_RETURN(Val re, c.Arg(0));
  if (!IsRegexValue(re.get())) return c.TypeErr(re.get(), "a regex() value");
  BORA_ASSIGN_OR_RETURN(std::string text, StrArg(c, 1));
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(text.size() / 16)));
  const RegexSpec spec = RegexOfValue(re.get());
  if constexpr (kAll) {
    const size_t max = std::max<size_t>(16, ev.ctx().limits.max_output_bytes / 16);
    BORA_ASSIGN_OR_RETURN(std::vector<std::string> all, RegexAll(spec, text, max));
    ListBuilder out(ev);
    for (auto& m : all) BORA_RETURN_IF_ERROR(out.Push(Str(m)));
    return out.Done();
  } else {
    BORA_ASSIGN_OR_RETURN(std::optional<std::string> first, RegexFirst(spec, text));
    return Val::Own(first ? Str(*first) : Json());
  }
}

}  // namespace

ValResult FnSearch(Evaluator& ev, const Node& n, Val* r) { return RegexSearchFn<false>(ev, n, r); }
ValResult FnSearchAll(Evaluator& ev, const Node& n, Val* r) {
  return RegexSearchFn<true>(ev, n, r);
}

ValResult FnEscapeRegex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  std::string out = EscapeRegex(s);
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

ValResult FnIsRegex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(IsRegexValue(v.get())));
}

}  // namespace bora::expr::internal
