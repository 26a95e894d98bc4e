// Jinja2 3.x builtin filters, tests and globals (jinja2/filters.py FILTERS, jinja2/tests.py TESTS,
// jinja2/defaults.py DEFAULT_NAMESPACE) on JSON values, as Mistral 15's environment runs them
// (SandboxedEnvironment, StrictUndefined, no autoescape): the list and number filters, the refused
// names, the tests `filter`/`test`/`callable` and the objects with state (namespace(), cycler(),
// joiner()). The text filters are in builtins_jinja_text.cc. Each follows the Python source of
// Jinja2 3.1; testdata/jinja_library.txt holds a case per name, printed by Jinja2 itself.
#include "orchestrator/expressions/builtins_jinja_library.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"

namespace bora::expr::internal {
namespace {

// Iterating a value in Python: lists, dict keys, string characters.
Result<Val> Iterable(Call& c, size_t i) { return ListArg(c, i, true); }

// Python's round(x, n) for floats: correctly rounded, ties to even.
double PyRoundFloat(double x, int64_t n) {
  if (!std::isfinite(x)) return x;
  if (n >= 0) {
    if (n > 300) return x;
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  if (n < -308) return 0.0 * x;
  double pow1 = std::pow(10.0, static_cast<double>(-n));
  double y = x / pow1;
  double z = std::round(y);
  if (std::fabs(y - z) == 0.5) z = 2.0 * std::round(y / 2.0);
  return z * pow1;
}

// Python's round(int, n) for n < 0: ties to even.
int64_t PyRoundInt(int64_t x, int64_t n) {
  if (n >= 0) return x;
  if (n < -18) return 0;
  int64_t p = 1;
  for (int64_t k = 0; k < -n; ++k) p *= 10;
  int64_t q = x / p, r = x % p;
  if (r < 0) {
    r += p;
    --q;
  }
  if (2 * r > p || (2 * r == p && (q & 1))) ++q;
  return q * p;
}

// Python's int(text, base) (base 0: prefix decides; underscores between digits allowed).
std::optional<int64_t> ParseIntBase(std::string_view text, int64_t base) {
  std::string s(text);
  size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return std::nullopt;
  s = s.substr(b, e - b + 1);
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  auto prefix = [&](char p) {
    return s.size() > 2 && s[0] == '0' && std::tolower(static_cast<unsigned char>(s[1])) == p;
  };
  if (base == 0) {
    base = prefix('x') ? 16 : prefix('o') ? 8 : prefix('b') ? 2 : 10;
    if (base == 10 && s.size() > 1 && s[0] == '0' && s.find_first_not_of("0_") != std::string::npos)
      return std::nullopt;
  }
  if ((base == 16 && prefix('x')) || (base == 8 && prefix('o')) || (base == 2 && prefix('b')))
    s = s.substr(2);
  if (base < 2 || base > 36 || s.empty() || s.front() == '_' || s.back() == '_')
    return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '_') {
      if (s[i - 1] == '_') return std::nullopt;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
            : std::isalpha(static_cast<unsigned char>(ch))
                ? std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10
                : 99;
    if (d >= base) return std::nullopt;
    if (v > (INT64_MAX - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return neg ? -v : v;
}

ValResult MinMaxImpl(Evaluator& ev, const Node& node, Val* recv, bool is_max) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 1, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 2));
  const JsonArray& arr = list->get_array();
  if (arr.empty()) return Val::Undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Json& e) -> Result<Json> {
    const Json* k = attr ? GetPath(e, *attr) : &e;
    if (!k) return NoAttribute(e, *attr);
    return case_sensitive ? *k : IgnoreCase(*k);
  };
  size_t best = 0;
  BORA_ASSIGN_OR_RETURN(Json best_key, key(arr[0]));
  for (size_t i = 1; i < arr.size(); ++i) {
    BORA_RETURN_IF_ERROR(ev.Step());
    BORA_ASSIGN_OR_RETURN(Json k, key(arr[i]));
    BORA_ASSIGN_OR_RETURN(int o, Order(k, best_key));
    if (is_max ? o > 0 : o < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return Child(list, arr[best]);
}

// Marker keys of the Jinja objects with state.
constexpr std::string_view kNamespaceKey = "__jinja_namespace__";
constexpr std::string_view kCyclerKey = "__jinja_cycler__";
constexpr std::string_view kJoinerKey = "__jinja_joiner__";

const Json* Marked(const Json& v, std::string_view key) {
  if (!v.is_object() || v.get_object().size() != 1) return nullptr;
  return v.get_object().if_contains(key);
}

}  // namespace

// attr(name): Python's getattr; JSON values have no attributes (dict keys are items, not
// attributes), so the result is Undefined, as Jinja gives for a dict.
ValResult JFilterAttr(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::string name, StrArg(c, 1));
  return Val::Undefined("'" + TypeName(v.get()) + " object' has no attribute '" + name + "'");
}

// batch(linecount, fill_with=None)
ValResult JFilterBatch(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> nv, c.Opt(1, "linecount"));
  if (!nv || !IsIntJ(nv->get())) return InvalidArgument("batch() needs an integer linecount");
  int64_t n = NumI(nv->get());
  if (n <= 0) return InvalidArgument("batch() linecount must be positive");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> fill, c.Opt(2, "fill_with"));
  if (fill && (*fill)->is_null()) fill.reset();
  ListBuilder out(ev);
  JsonArray cur;
  for (const Json& e : list->get_array()) {
    if (static_cast<int64_t>(cur.size()) == n) {
      BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
      cur = JsonArray();
    }
    cur.push_back(e);
  }
  if (!cur.empty()) {
    if (fill) {  // the padding is charged before it is built
      size_t missing = static_cast<size_t>(n) - cur.size();
      size_t per_item = ApproxSize(fill->get()) + 16;
      BORA_RETURN_IF_ERROR(
          ev.CheckSize(missing > SIZE_MAX / per_item ? SIZE_MAX : missing * per_item));
      BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(missing)));
    }
    while (fill && static_cast<int64_t>(cur.size()) < n) cur.push_back(fill->get());
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
  }
  return out.Done();
}

// dictsort(case_sensitive=False, by='key', reverse=False)
ValResult JFilterDictSort(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  if (!d->is_object())
    return InvalidArgument("dictsort needs a dict, got '" + TypeName(d.get()) + "'");
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 1, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> by, c.Opt(2, "by"));
  BORA_ASSIGN_OR_RETURN(bool reverse, BoolParam(c, 3, "reverse", false));
  size_t pos = 0;
  if (by) {
    if ((*by)->is_string() && SV(by->get()) == "value")
      pos = 1;
    else if (!((*by)->is_string() && SV(by->get()) == "key"))
      return InvalidArgument("You can only sort by either \"key\" or \"value\"");
  }
  std::vector<std::pair<Json, Json>> items;
  for (const auto& kv : d->get_object()) {
    Json pair(JsonArray{Str(kv.key()), kv.value()});
    const Json& k = pair.get_array()[pos];
    items.emplace_back(case_sensitive ? k : IgnoreCase(k), pair);
  }
  return SortedValues(ev, items, reverse);
}

// groupby(attribute, default=None, case_sensitive=False): [[grouper, [items]], ...] sorted by the
// grouper; `group.grouper` / `group.list` read the pair's elements.
ValResult JFilterGroupBy(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 1));
  if (!attr) return InvalidArgument("groupby() needs an attribute");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(2, "default"));
  if (dflt && (*dflt)->is_null()) dflt.reset();
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 3, "case_sensitive", false));
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* k = GetPath(e, *attr);
    if (!k && dflt) k = &dflt->get();
    if (!k) return NoAttribute(e, *attr);
    items.emplace_back(case_sensitive ? *k : IgnoreCase(*k), e);
  }
  BORA_RETURN_IF_ERROR(SortPairs(ev, items, false));
  JsonArray out;
  Json last_key;
  for (auto& [k, e] : items) {
    if (out.empty() || !JsonEquals(last_key, k)) {
      // The group's key is the real value of its first item, not the lower-cased one.
      const Json* real = GetPath(e, *attr);
      Json grouper = real ? *real : dflt->get();
      out.push_back(Json(JsonArray{std::move(grouper), Json(JsonArray{})}));
      last_key = k;
    }
    out.back().get_array()[1].get_array().push_back(std::move(e));
  }
  return Val::Own(Json(std::move(out)));
}

// int(default=0, base=10): strings in `base`, else int(float(value)); `default` when neither works.
ValResult JFilterInt(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(1, "default"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> bv, c.Opt(2, "base"));
  int64_t base = 10;
  if (bv) {
    if (!IsIntJ(bv->get())) return c.TypeErr(bv->get(), "an integer base");
    base = NumI(bv->get());
  }
  auto fallback = [&]() -> Val { return dflt ? std::move(*dflt) : Val::Own(Json(int64_t{0})); };
  const Json& j = v.get();
  if (j.is_bool()) return Val::Own(Json(int64_t{j.as_bool() ? 1 : 0}));
  if (IsIntJ(j)) return Val::Own(j);
  if (j.is_double()) {
    if (!std::isfinite(j.as_double())) return fallback();
    return Val::Own(Json(NumI(j)));
  }
  if (j.is_string()) {
    if (auto i = ParseIntBase(SV(j), base)) return Val::Own(Json(*i));
    std::string s(SV(j));
    size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
    if (b != std::string::npos) {
      s = s.substr(b, e - b + 1);
      std::string digits;
      for (char ch : s)
        if (ch != '_') digits += ch;
      char* end = nullptr;
      double d = std::strtod(digits.c_str(), &end);
      bool hexy = digits.find_first_of("xXpP") != std::string::npos;
      if (end && *end == '\0' && !hexy && std::isfinite(d)) return Val::Own(Json(NumI(Json(d))));
    }
  }
  return fallback();
}

// items(): (key, value) pairs of a mapping; an Undefined value gives none.
ValResult JFilterItems(Evaluator& ev, const Node& node, Val* recv) {
  if (recv && recv->undefined()) return Val::Own(Json(JsonArray{}));
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return InvalidArgument("Can only get item pairs from a mapping.");
  ListBuilder out(ev);
  for (const auto& kv : v->get_object())
    BORA_RETURN_IF_ERROR(out.Push(Json(JsonArray{Str(kv.key()), kv.value()})));
  return out.Done();
}

// join(d='', attribute=None)
ValResult JFilterJoin(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> dv, c.Opt(1, "d"));
  std::string sep = dv ? SoftStr(dv->get()) : "";
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 2));
  std::string out;
  bool first = true;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* x = attr ? GetPath(e, *attr) : &e;
    if (!x) return NoAttribute(e, *attr);
    if (!first) out += sep;
    first = false;
    out += SoftStr(*x);
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}

// min / max(case_sensitive=False, attribute=None)
ValResult JFilterMin(Evaluator& ev, const Node& n, Val* r) { return MinMaxImpl(ev, n, r, false); }
ValResult JFilterMax(Evaluator& ev, const Node& n, Val* r) { return MinMaxImpl(ev, n, r, true); }

// random: random.choice(seq); Undefined when empty.
ValResult JFilterRandom(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_object()) return InvalidArgument("random: a dict is not a sequence");
  BORA_ASSIGN_OR_RETURN(Val list, AsList(c, std::move(v), true));
  const JsonArray& arr = list->get_array();
  if (arr.empty()) return Val::Undefined("No random item, sequence was empty.");
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, arr.size() - 1);
  return Child(list, arr[pick(rng)]);
}

// round(precision=0, method='common'): 'common' is Python's round() (ties to even: 2.5 -> 2.0;
// an int stays an int); 'ceil' / 'floor' give floats.
ValResult JFilterRound(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> pv, c.Opt(1, "precision"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, "method"));
  std::string method = "common";
  if (mv) method = SoftStr(mv->get());
  if (method != "common" && method != "ceil" && method != "floor")
    return InvalidArgument("method must be common, ceil or floor");
  int64_t precision = 0;
  if (pv) {
    if (!IsIntJ(pv->get()) && !(*pv)->is_bool())
      return InvalidArgument("'" + TypeName(pv->get()) +
                             "' object cannot be interpreted as an integer");
    precision = std::clamp<int64_t>(NumI(pv->get()), -400, 400);
  }
  const Json& x = v.get();
  if (!IsNumJ(x) && !x.is_bool())
    return InvalidArgument("type " + TypeName(x) + " doesn't define __round__ method");
  if (method == "common") {
    if (IsIntJ(x) || x.is_bool()) return Val::Own(Json(PyRoundInt(NumI(x), precision)));
    return Val::Own(Json(PyRoundFloat(x.as_double(), precision)));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double y = NumD(x) * scale;
  double r = method == "ceil" ? std::ceil(y) : std::floor(y);
  return Val::Own(Json(r / scale));
}

// slice(slices, fill_with=None): `slices` columns.
ValResult JFilterSlice(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(int64_t slices, IntArg(c, 1));
  if (slices <= 0) return InvalidArgument("slice() needs a positive number of slices");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> fill, c.Opt(2, "fill_with"));
  if (fill && (*fill)->is_null()) fill.reset();
  const JsonArray& seq = list->get_array();
  const int64_t length = static_cast<int64_t>(seq.size());
  if (slices > length + 1 && static_cast<uint64_t>(slices) > ev.ctx().limits.max_output_bytes / 16)
    return ev.SizeExceeded(static_cast<size_t>(slices) * 16);
  const int64_t per = length / slices, extra = length % slices;
  int64_t offset = 0;
  ListBuilder out(ev);
  for (int64_t k = 0; k < slices; ++k) {
    int64_t start = offset + k * per;
    if (k < extra) ++offset;
    int64_t end = offset + (k + 1) * per;
    JsonArray tmp(seq.begin() + start, seq.begin() + end);
    if (fill && k >= extra) tmp.push_back(fill->get());
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(tmp))));
  }
  return out.Done();
}

// sort(reverse=False, case_sensitive=False, attribute=None); attribute may list several
// comma-separated paths.
ValResult JFilterSort(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(bool reverse, BoolParam(c, 1, "reverse", false));
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 2, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 3));
  std::vector<std::string> paths;
  if (attr) {
    for (size_t p = 0;;) {
      size_t comma = attr->find(',', p);
      paths.push_back(attr->substr(p, comma == std::string::npos ? std::string::npos : comma - p));
      if (comma == std::string::npos) break;
      p = comma + 1;
    }
  }
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    Json key;
    if (paths.empty()) {
      key = case_sensitive ? e : IgnoreCase(e);
    } else {
      JsonArray keys;
      for (const std::string& p : paths) {
        const Json* k = GetPath(e, p);
        if (!k) return NoAttribute(e, p);
        keys.push_back(case_sensitive ? *k : IgnoreCase(*k));
      }
      key = keys.size() == 1 ? std::move(keys[0]) : Json(std::move(keys));
    }
    items.emplace_back(std::move(key), e);
  }
  return SortedValues(ev, items, reverse);
}

// sum(attribute=None, start=0)
ValResult JFilterSum(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 1));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> start, c.Opt(2, "start"));
  Json acc = start ? std::move(*start).Take() : Json(int64_t{0});
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* x = attr ? GetPath(e, *attr) : &e;
    if (!x) return NoAttribute(e, *attr);
    BORA_ASSIGN_OR_RETURN(acc, Arith(Op::kAdd, acc, *x, Lang::kJinja, ev));
    BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(acc)));
  }
  return Val::Own(std::move(acc));
}

// unique(case_sensitive=False, attribute=None): first occurrences.
ValResult JFilterUnique(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 1, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 2));
  ListBuilder out(ev);
  std::vector<Json> seen;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(seen.size() / 8 + 1)));
    const Json* k = attr ? GetPath(e, *attr) : &e;
    if (!k) return NoAttribute(e, *attr);
    Json key = case_sensitive ? *k : IgnoreCase(*k);
    if (key.is_array() || key.is_object())
      return InvalidArgument("unhashable type: '" + TypeName(key) + "'");
    if (std::any_of(seen.begin(), seen.end(), [&](const Json& s) { return JsonEquals(s, key); }))
      continue;
    seen.push_back(std::move(key));
    BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}

std::string_view JinjaRefusalReason(std::string_view kind, std::string_view name) {
  if (kind == "filter" && name == "urlize")
    return "it turns URLs in text into HTML links by Jinja's own heuristics, which Bora does not "
           "reproduce";
  if (kind == "test" && name == "escaped")
    return "it asks whether a value is a Markup object; JSON values carry no Markup flag";
  if (kind == "global" && name == "lipsum")
    return "it generates random lorem-ipsum HTML, which has no use in a workflow";
  return {};
}

ValResult JRefused(Evaluator& ev, const Node& node, Val* recv) {
  std::string_view kind = node.op == Op::kFilter ? "filter"
                          : node.op == Op::kTest ? "test"
                                                 : "global";
  return InvalidArgument(std::string(kind) + " '" + node.name +
                         "' is not supported: " + std::string(JinjaRefusalReason(kind, node.name)));
}

// `name is filter` / `name is test`: whether Bora has a filter / test of that name (the host
// functions task(), env(), ... are filters too, as Mistral registers its functions as filters).
ValResult JTestFilter(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_string()) return Val::Own(Json(false));
  std::string_view name = SV(v.get());
  return Val::Own(Json(FindJinjaFilter(name) >= 0 || IsHostFunction(name)));
}

ValResult JTestTest(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_string()) return Val::Own(Json(false));
  static const char* kSymbols[] = {"==", "!=", "<", "<=", ">", ">="};
  std::string_view name = SV(v.get());
  bool found = FindJinjaTest(name) >= 0 || std::any_of(std::begin(kSymbols), std::end(kSymbols),
                                                       [&](const char* s) { return name == s; });
  return Val::Own(Json(found));
}

// `callable`: no JSON value is callable; a joiner() is, and so is an Undefined value (Jinja's
// StrictUndefined has __call__).
ValResult JTestCallable(Evaluator& ev, const Node& node, Val* recv) {
  if (recv && recv->undefined()) return Val::Own(Json(true));
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(Marked(v.get(), kJoinerKey) != nullptr));
}

ValResult JGlobalNamespace(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  JsonObject attrs;
  for (size_t i = 0; i < c.size(); ++i) {  // namespace(dict) copies its items
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
    for (const auto& kv : v->get_object()) attrs[kv.key()] = kv.value();
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Json v, ev.EvalJson(*k->kids[1]));
    attrs[k->name] = std::move(v);
  }
  JsonObject ns;
  ns[kNamespaceKey] = Json(std::move(attrs));
  return Val::Own(Json(std::move(ns)));
}

ValResult JGlobalCycler(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  if (c.size() == 0) return InvalidArgument("at least one item has to be provided");
  JsonArray items;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    items.push_back(std::move(v).Take());
  }
  JsonObject state;
  state["items"] = Json(std::move(items));
  state["pos"] = int64_t{0};
  JsonObject obj;
  obj[kCyclerKey] = Json(std::move(state));
  return Val::Own(Json(std::move(obj)));
}

ValResult JGlobalJoiner(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 1));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> sv, c.Opt(0, "sep"));
  JsonObject state;
  state["sep"] = Str(sv ? SoftStr(sv->get()) : ", ");
  state["used"] = false;
  JsonObject obj;
  obj[kJoinerKey] = Json(std::move(state));
  return Val::Own(Json(std::move(obj)));
}

bool IsJinjaObject(const Json& v) {
  if (!v.is_object() || v.get_object().size() != 1) return false;
  std::string_view key = v.get_object().begin()->key();
  if (!key.starts_with("__jinja_")) return false;  // one comparison for every other one-key dict
  return key == kNamespaceKey || key == kCyclerKey || key == kJoinerKey;
}

std::optional<ValResult> JinjaObjectMember(const Val& obj, const std::string& name) {
  const Json& v = obj.get();
  if (const Json* ns = Marked(v, kNamespaceKey)) {
    if (!ns->is_object()) return std::nullopt;
    if (const Json* a = ns->get_object().if_contains(name)) return ValResult(Child(obj, *a));
    return ValResult(
        Val::Undefined("'jinja2.utils.Namespace object' has no attribute '" + name + "'"));
  }
  if (const Json* cy = Marked(v, kCyclerKey)) {
    if (name != "current" || !cy->is_object()) return std::nullopt;
    const Json* items = cy->get_object().if_contains("items");
    const Json* pos = cy->get_object().if_contains("pos");
    if (!items || !items->is_array() || !pos || items->get_array().empty()) return std::nullopt;
    size_t p = static_cast<size_t>(NumI(*pos)) % items->get_array().size();
    return ValResult(Val::Own(items->get_array()[p]));
  }
  return std::nullopt;
}

std::optional<ValResult> JinjaObjectMethod(Evaluator& ev, const Node& call, Val* recv) {
  if (!recv || !Marked(recv->get(), kCyclerKey)) return std::nullopt;
  if (call.name != "next" && call.name != "reset") return std::nullopt;
  if (call.kids.size() > 1)
    return ValResult(InvalidArgument("cycler." + call.name + "() takes no arguments"));
  // The state lives in the variable the method is called on (a temporary cycler has none).
  Json* state = nullptr;
  Json temp = recv->get();
  if (call.kids[0]->op == Op::kVar) {
    if (Var* var = ev.FindVarMut(call.kids[0]->name)) {
      if (Json* j = var->value.Mutable(); j && Marked(*j, kCyclerKey))
        state = &j->get_object()[kCyclerKey];
    }
  }
  if (!state) state = &temp.get_object()[kCyclerKey];
  JsonObject& st = state->get_object();
  const JsonArray& items = st["items"].get_array();
  int64_t pos = NumI(st["pos"]);
  if (call.name == "reset") {
    st["pos"] = int64_t{0};
    return ValResult(Val::Own(Json()));
  }
  Json current = items[static_cast<size_t>(pos) % items.size()];
  st["pos"] = static_cast<int64_t>((static_cast<size_t>(pos) + 1) % items.size());
  return ValResult(Val::Own(std::move(current)));
}

std::optional<ValResult> JinjaCallVariable(Evaluator& ev, const Node& call) {
  Var* var = ev.FindVarMut(call.name);
  if (!var || !Marked(var->value.get(), kJoinerKey)) return std::nullopt;
  if (call.kids.size() > 0) return ValResult(InvalidArgument("joiner() call takes no arguments"));
  Json* j = var->value.Mutable();
  JsonObject& st = j->get_object()[kJoinerKey].get_object();
  if (!IsTruthy(st["used"])) {
    st["used"] = true;
    return ValResult(Val::Own(Str("")));
  }
  return ValResult(Val::Own(st["sep"]));
}

Status JinjaSetAttribute(Evaluator& ev, const std::string& var_name, const std::string& attr,
                         Json value) {
  Var* var = ev.FindVarMut(var_name);
  if (!var || !Marked(var->value.get(), kNamespaceKey))
    return InvalidArgument("cannot assign attribute on non-namespace object");
  Json* j = var->value.Mutable();
  j->get_object()[kNamespaceKey].get_object()[attr] = std::move(value);
  return Status::Ok();
}

}  // namespace bora::expr::internal
