// yaql 2.0 standard library functions added for issue 16 (math, strings, queries, collections,
// branching, system) and the functions refused on purpose. Sets are lists without duplicates
// (first-seen order): Mistral prints a yaql set as a list (oslo's to_primitive), in Python's hash
// order. Lambdas with two arguments (`aggregate`, `accumulate`, `join`) see `$1`, `$2` and `$` =
// `$1`.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {
namespace {

Result<int64_t> StrictInt(Call& c, const Json& v, std::string_view what) {
  if (!IsIntJ(v))
    return InvalidArgument(c.Signature() + ": '" + std::string(what) +
                           "' must be an integer, got '" + TypeName(v) + "'");
  return NumI(v);
}

Result<std::pair<int64_t, int64_t>> TwoInts(Call& c) {
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val b, c.Arg(1));
  BORA_ASSIGN_OR_RETURN(int64_t x, StrictInt(c, a.get(), "left"));
  BORA_ASSIGN_OR_RETURN(int64_t y, StrictInt(c, b.get(), "right"));
  return std::make_pair(x, y);
}

bool ListHas(const JsonArray& arr, const Json& v) {
  for (const Json& e : arr)
    if (JsonEquals(e, v)) return true;
  return false;
}

// A set (a list without duplicates) from the items of `v`.
Result<Json> Dedup(Evaluator& ev, const JsonArray& arr) {
  JsonArray out;
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(arr.size() * arr.size() / 8 + arr.size())));
  for (const Json& e : arr)
    if (!ListHas(out, e)) out.push_back(e);
  return Json(std::move(out));
}

std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right) {
  auto strip = [&](char ch) {
    if (chars) return chars->find(ch) != std::string::npos;
    return std::isspace(static_cast<unsigned char>(ch)) != 0;
  };
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && strip(s[b])) ++b;
  if (right)
    while (e > b && strip(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

struct Refusal {
  const char* name;
  const char* reason;
};
const Refusal kRefused[] = {
    {"sequence", "an endless iterator (results are plain lists here); use range()"},
    {"cycle", "an endless iterator (results are plain lists here)"},
    {"generateMany", "not implemented (graph traversal); use generate() or select()"},
    {"isSet", "sets are represented as lists, so a set cannot be told from a list"},
    {"def", "defining functions inside an expression is not supported"},
    {"call", "calling a function by name is not supported"},
    {"unpack", "not supported; use let() or with() -> ..."},
    {"replaceBy", "a regex replacement computed by a lambda is not supported"},
};

}  // namespace

std::string_view RefusalReason(std::string_view name) {
  for (const Refusal& r : kRefused)
    if (name == r.name) return r.reason;
  return {};
}

ValResult FnRefused(Evaluator& ev, const Node& node, Val* recv) {
  std::string_view why = RefusalReason(node.name);
  return InvalidArgument("function '" + node.name +
                         "' is not supported: " + std::string(why.empty() ? "refused" : why));
}

// ---- math ----

ValResult FnPow(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val b, c.Arg(1));
  if (!IsNumJ(a.get()) || a->is_bool()) return c.TypeErr(a.get(), "a number");
  if (!IsNumJ(b.get()) || b->is_bool()) return c.TypeErr(b.get(), "a number");
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(Val m, c.Arg(2));
    if (!m->is_null()) {
      if (!IsIntJ(a.get()) || !IsIntJ(b.get()) || !IsIntJ(m.get()))
        return InvalidArgument("pow() 3rd argument not allowed unless all arguments are integers");
      int64_t base = NumI(a.get()), e = NumI(b.get()), mod = NumI(m.get());
      if (mod == 0) return InvalidArgument("pow() 3rd argument cannot be 0");
      if (e < 0) return InvalidArgument("pow() negative exponent with a modulus is not supported");
      __int128 r = 1, x = ((base % mod) + mod) % mod;
      while (e > 0) {
        BORA_RETURN_IF_ERROR(ev.Step());
        if (e & 1) r = r * x % mod;
        x = x * x % mod;
        e >>= 1;
      }
      int64_t res = static_cast<int64_t>(r);
      if (res != 0 && (res < 0) != (mod < 0)) res += mod;  // Python: the sign of the modulus
      return Val::Own(Json(res));
    }
  }
  if (IsIntJ(a.get()) && IsIntJ(b.get()) && NumI(b.get()) >= 0) {
    BORA_ASSIGN_OR_RETURN(Json r, Arith(Op::kPow, a.get(), b.get(), Lang::kYaql, ev));
    return Val::Own(std::move(r));
  }
  double x = NumD(a.get()), y = NumD(b.get());
  if (x == 0 && y < 0) return InvalidArgument("0.0 cannot be raised to a negative power");
  if (x < 0 && y != std::floor(y))
    return InvalidArgument("pow() of a negative number to a fractional power is a complex number");
  return Val::Own(Json(std::pow(x, y)));
}

ValResult FnSign(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!IsNumJ(v.get()) || v->is_bool()) return c.TypeErr(v.get(), "a number");
  double d = NumD(v.get());
  return Val::Own(Json(int64_t{d > 0 ? 1 : d < 0 ? -1 : 0}));
}

ValResult FnBitwiseAnd(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(auto xy, TwoInts(c));
  return Val::Own(Json(xy.first & xy.second));
}
ValResult FnBitwiseOr(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(auto xy, TwoInts(c));
  return Val::Own(Json(xy.first | xy.second));
}
ValResult FnBitwiseXor(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(auto xy, TwoInts(c));
  return Val::Own(Json(xy.first ^ xy.second));
}
ValResult FnBitwiseNot(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(int64_t x, StrictInt(c, v.get(), "arg"));
  return Val::Own(Json(~x));
}
ValResult FnShiftBitsLeft(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(auto xy, TwoInts(c));
  if (xy.second < 0) return InvalidArgument("negative shift count");
  if (xy.first == 0) return Val::Own(Json(int64_t{0}));
  // Python integers are unbounded; beyond int64 the result is a float (see README).
  if (xy.second < 63) {
    int64_t r = static_cast<int64_t>(static_cast<uint64_t>(xy.first) << xy.second);
    if ((r >> xy.second) == xy.first) return Val::Own(Json(r));
  }
  return Val::Own(Json(std::ldexp(static_cast<double>(xy.first),
                                  static_cast<int>(std::min<int64_t>(xy.second, 2000)))));
}
ValResult FnShiftBitsRight(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(auto xy, TwoInts(c));
  if (xy.second < 0) return InvalidArgument("negative shift count");
  if (xy.second >= 63) return Val::Own(Json(int64_t{xy.first < 0 ? -1 : 0}));
  return Val::Own(Json(xy.first >> xy.second));  // arithmetic shift: Python's floor semantics
}

ValResult FnRandom(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  thread_local std::mt19937_64 gen{std::random_device{}()};
  if (c.size() == 0) return Val::Own(Json(std::uniform_real_distribution<double>(0, 1)(gen)));
  BORA_ASSIGN_OR_RETURN(auto xy, TwoInts(c));
  if (xy.first > xy.second)
    return InvalidArgument("empty range for randrange() (" + std::to_string(xy.first) + ", " +
                           std::to_string(xy.second + 1) + ")");
  return Val::Own(Json(std::uniform_int_distribution<int64_t>(xy.first, xy.second)(gen)));
}

ValResult FnHex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!IsIntJ(v.get()))
    return InvalidArgument("'" + TypeName(v.get()) +
                           "' object cannot be interpreted as an integer");
  int64_t x = NumI(v.get());
  uint64_t a = x < 0 ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s0x%llx", x < 0 ? "-" : "", static_cast<unsigned long long>(a));
  return Val::Own(Str(buf));
}

// ---- strings ----

ValResult FnNorm(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val s, c.Arg(0));
  if (s->is_null()) return Val::Own(Json());
  if (!s->is_string()) return c.TypeErr(s.get(), "a string");
  std::optional<std::string> chars;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> ch, c.Opt(1, "chars"));
  if (ch && !ch->get().is_null()) {
    if (!ch->get().is_string()) return c.TypeErr(ch->get(), "a string");
    chars = std::string(SV(ch->get()));
  }
  std::string r = PyStrip(SV(s.get()), chars, true, true);
  if (r.empty()) return Val::Own(Json());
  return Val::Own(Str(r));
}

ValResult FnToCharArray(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val s, c.Arg(0));
  if (!s->is_string()) return c.TypeErr(s.get(), "a string");
  BORA_RETURN_IF_ERROR(ev.CheckSize(s->get_string().size() * 24));
  return AsList(c, std::move(s), true);
}

ValResult FnCharacters(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 0));
  static const std::pair<const char*, const char*> kSets[] = {
      {"digits", "0123456789"},
      {"hexdigits", "0123456789abcdefABCDEF"},
      {"ascii_lowercase", "abcdefghijklmnopqrstuvwxyz"},
      {"ascii_uppercase", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
      {"ascii_letters", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"},
      {"octdigits", "01234567"},
      {"punctuation", "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"},
      {"printable",
       "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!\"#$%&'()*+,-./"
       ":;<=>?@[\\]^_`{|}~ \t\n\r\x0b\x0c"},
      {"whitespace", " \t\n\r\x0b\x0c"},
  };
  std::string chars;
  for (const Node* k : c.kw_nodes()) {
    const char* set = nullptr;
    for (const auto& [name, s] : kSets)
      if (k->name == name) set = s;
    if (!set)  // letters, lowercase, uppercase: Python 2 names, AttributeError on Python 3
      return InvalidArgument("module 'string' has no attribute '" + k->name + "'");
    BORA_ASSIGN_OR_RETURN(Json on, ev.EvalJson(*k->kids[1]));
    if (IsTruthy(on)) chars += set;
  }
  // Python returns tuple(set(chars)): no order; here each character once, in first-seen order.
  JsonArray out;
  std::string seen;
  for (char ch : chars)
    if (seen.find(ch) == std::string::npos) {
      seen += ch;
      out.push_back(Str(std::string(1, ch)));
    }
  return Val::Own(Json(std::move(out)));
}

ValResult FnRightSplit(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  std::optional<std::string> sep;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> sv, c.Opt(1, "separator"));
  if (sv && !sv->get().is_null()) {
    if (!sv->get().is_string()) return c.TypeErr(sv->get(), "a string");
    sep = std::string(SV(sv->get()));
    if (sep->empty()) return InvalidArgument("empty separator");
  }
  int64_t max_splits = -1;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, "maxSplits"));
  if (mv) {
    BORA_ASSIGN_OR_RETURN(max_splits, StrictInt(c, mv->get(), "maxSplits"));
  }
  std::vector<std::string> parts;  // reversed
  size_t end = s.size();
  if (sep) {
    while (max_splits < 0 || static_cast<int64_t>(parts.size()) < max_splits) {
      size_t p = end >= sep->size() ? s.rfind(*sep, end - sep->size()) : std::string::npos;
      if (p == std::string::npos) break;
      parts.push_back(s.substr(p + sep->size(), end - p - sep->size()));
      end = p;
    }
    parts.push_back(s.substr(0, end));
  } else {
    auto space = [&](size_t i) { return std::isspace(static_cast<unsigned char>(s[i])) != 0; };
    while (end > 0 && space(end - 1)) --end;
    while (end > 0) {
      if (max_splits >= 0 && static_cast<int64_t>(parts.size()) >= max_splits) {
        parts.push_back(s.substr(0, end));
        end = 0;
        break;
      }
      size_t b = end;
      while (b > 0 && !space(b - 1)) --b;
      parts.push_back(s.substr(b, end - b));
      end = b;
      while (end > 0 && space(end - 1)) --end;
    }
  }
  ListBuilder out(ev);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) BORA_RETURN_IF_ERROR(out.Push(Str(*it)));
  return out.Done();
}

// ---- queries ----

ValResult FnAggregate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  const JsonArray& arr = list->get_array();
  size_t i = 0;
  Json acc;
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(Val seed, c.Arg(2));
    acc = std::move(seed).Take();
  } else {
    if (arr.empty()) return InvalidArgument("reduce() of empty iterable with no initial value");
    acc = arr[i++];
  }
  for (; i < arr.size(); ++i) {
    BORA_RETURN_IF_ERROR(ev.Step());
    BORA_ASSIGN_OR_RETURN(Json next, Lambda2(c, fn, acc, arr[i]));
    acc = std::move(next);
  }
  return Val::Own(std::move(acc));
}

ValResult FnAccumulate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  const JsonArray& arr = list->get_array();
  ListBuilder out(ev);
  size_t i = 0;
  Json acc;
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(Val seed, c.Arg(2));
    acc = std::move(seed).Take();
  } else {
    if (arr.empty()) return out.Done();
    acc = arr[i++];
  }
  BORA_RETURN_IF_ERROR(out.Push(acc));
  for (; i < arr.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Json next, Lambda2(c, fn, acc, arr[i]));
    acc = std::move(next);
    BORA_RETURN_IF_ERROR(out.Push(acc));
  }
  return out.Done();
}

// `coll.orderBy(f).thenBy(g)...`: the receiver's syntax gives the sort keys (results are plain
// lists, so the ordering is rebuilt from the chain: orderBy's collection is evaluated again).
ValResult FnThenBy(Evaluator& ev, const Node& node, Val* recv) {
  if (node.op != Op::kMethod)
    return InvalidArgument("function '" + node.name + "' must follow orderBy(...) as a method");
  std::vector<std::pair<const Node*, bool>> keys;  // innermost (orderBy) last
  const Node* n = &node;
  while (n->op == Op::kMethod && (n->name == "thenBy" || n->name == "thenByDescending")) {
    if (n->kids.size() != 2) return InvalidArgument("function '" + n->name + "' takes 1 argument");
    keys.emplace_back(n->kids[1].get(), n->name == "thenByDescending");
    n = n->kids[0].get();
  }
  if (n->op != Op::kMethod || (n->name != "orderBy" && n->name != "orderByDescending") ||
      n->kids.size() != 2)
    return InvalidArgument("function '" + node.name + "' must follow orderBy(...) or " +
                           "orderByDescending(...)");
  keys.emplace_back(n->kids[1].get(), n->name == "orderByDescending");
  std::reverse(keys.begin(), keys.end());
  BORA_ASSIGN_OR_RETURN(Val base, ev.Eval(*n->kids[0]));
  BORA_RETURN_IF_ERROR(ev.CheckDefined(base));
  if (!base->is_array())
    return InvalidArgument("function 'orderBy' expects a list, got '" + TypeName(base.get()) + "'");
  Call c(ev, node, recv);
  std::vector<std::pair<std::vector<Json>, Json>> rows;
  for (const Json& e : base->get_array()) {
    std::vector<Json> k;
    for (const auto& [fn, desc] : keys) {
      BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
      k.push_back(std::move(v).Take());
    }
    rows.emplace_back(std::move(k), e);
  }
  Status err = Status::Ok();
  std::stable_sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) {
    if (!err.ok()) return false;
    if (Status s = ev.Step(); !s.ok()) {
      err = s;
      return false;
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      auto o = Order(x.first[i], y.first[i]);
      if (!o.ok()) {
        err = o.status();
        return false;
      }
      if (*o != 0) return keys[i].second ? *o > 0 : *o < 0;
    }
    return false;
  });
  BORA_RETURN_IF_ERROR(err);
  JsonArray out;
  for (auto& r : rows) out.push_back(std::move(r.second));
  return Val::Own(Json(std::move(out)));
}

ValResult FnZipLongest(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  std::vector<Val> lists;
  size_t n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val l, ListArg(c, i, false));
    n = std::max(n, l->get_array().size());
    lists.push_back(std::move(l));
  }
  Json fill;
  for (const Node* k : c.kw_nodes()) {
    if (k->name != "default")
      return InvalidArgument(c.Signature() + " got an unexpected keyword argument '" + k->name +
                             "'");
    BORA_ASSIGN_OR_RETURN(fill, ev.EvalJson(*k->kids[1]));
  }
  ListBuilder out(ev);
  for (size_t i = 0; i < n; ++i) {
    JsonArray row;
    for (const Val& l : lists) row.push_back(i < l->get_array().size() ? l->get_array()[i] : fill);
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(row))));
  }
  return out.Done();
}

ValResult FnRepeat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> t, c.Opt(1, "times"));
  int64_t times = -1;
  if (t) {
    BORA_ASSIGN_OR_RETURN(times, StrictInt(c, t->get(), "times"));
  }
  if (times < 0)
    return InvalidArgument(
        "function 'repeat' without a number of times is an endless iterator, "
        "which is not supported (results are plain lists)");
  BORA_RETURN_IF_ERROR(
      ev.CheckSize(static_cast<size_t>(std::min<int64_t>(times, int64_t{1} << 40) *
                                       static_cast<int64_t>(ApproxSize(v.get()) + 16))));
  ListBuilder out(ev);
  for (int64_t i = 0; i < times; ++i) BORA_RETURN_IF_ERROR(out.Push(v.get()));
  return out.Done();
}

ValResult FnMemorize(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  return ListArg(c, 0, false);  // results are lists already
}

ValResult FnIsIterable(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(v->is_array()));
}

ValResult FnDefaultIfEmpty(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  if (!list->get_array().empty()) return list;
  return c.Arg(1);
}

ValResult FnLastIndexWhere(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const JsonArray& arr = list->get_array();
  int64_t found = -1;
  for (size_t i = 0; i < arr.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(c.node(1), arr[i]));
    if (IsTruthy(t.get())) found = static_cast<int64_t>(i);
  }
  return Val::Own(Json(found));
}

ValResult FnSlice(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(int64_t len, IntArg(c, 1));
  if (len <= 0) return InvalidArgument(c.Signature() + ": the length must be positive");
  ListBuilder out(ev);
  JsonArray cur;
  for (const Json& e : list->get_array()) {
    cur.push_back(e);
    if (static_cast<int64_t>(cur.size()) == len) {
      BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
      cur = JsonArray();
    }
  }
  if (!cur.empty()) BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
  return out.Done();
}

ValResult FnSplitAt(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(int64_t at, IntArg(c, 1));
  const JsonArray& arr = list->get_array();
  int64_t n = static_cast<int64_t>(arr.size());
  if (at < 0) at = std::max<int64_t>(0, at + n);  // Python slicing
  at = std::min(at, n);
  JsonArray a(arr.begin(), arr.begin() + at), b(arr.begin() + at, arr.end());
  return Val::Own(Json(JsonArray{Json(std::move(a)), Json(std::move(b))}));
}

// splitWhere: the items matching the predicate separate the groups (and are dropped);
// sliceWhere: a new group starts whenever the predicate's value changes.
ValResult SplitSlice(Evaluator& ev, const Node& node, Val* recv, bool slice) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  ListBuilder out(ev);
  JsonArray cur;
  std::optional<Json> last_key;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(c.node(1), e));
    if (slice) {
      Json key = std::move(t).Take();
      if (last_key && !JsonEquals(*last_key, key)) {
        BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
        cur = JsonArray();
      }
      last_key = std::move(key);
      cur.push_back(e);
    } else if (IsTruthy(t.get())) {
      BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
      cur = JsonArray();
    } else {
      cur.push_back(e);
    }
  }
  if (!cur.empty() || !slice) BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
  return out.Done();
}
ValResult FnSplitWhere(Evaluator& ev, const Node& n, Val* r) { return SplitSlice(ev, n, r, false); }
ValResult FnSliceWhere(Evaluator& ev, const Node& n, Val* r) { return SplitSlice(ev, n, r, true); }

ValResult FnGenerate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(3, 4));
  BORA_ASSIGN_OR_RETURN(Val init, c.Arg(0));
  Json cur = std::move(init).Take();
  ListBuilder out(ev);
  // Bounded by max_steps / max_output_bytes (an endless generator fails with the budget error).
  while (true) {
    BORA_ASSIGN_OR_RETURN(Val ok, c.Lambda(c.node(1), cur));
    if (!IsTruthy(ok.get())) break;
    if (c.node(3)) {
      BORA_ASSIGN_OR_RETURN(Val s, c.Lambda(c.node(3), cur));
      BORA_RETURN_IF_ERROR(out.Push(std::move(s).Take()));
    } else {
      BORA_RETURN_IF_ERROR(out.Push(cur));
    }
    BORA_ASSIGN_OR_RETURN(Val next, c.Lambda(c.node(2), cur));
    cur = std::move(next).Take();
  }
  return out.Done();
}

// ---- collections (sets as lists without duplicates) ----

ValResult FnToSet(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(Json r, Dedup(ev, list->get_array()));
  return Val::Own(std::move(r));
}

ValResult SetOfValues(Call& c, Val first) {
  JsonArray items;
  items.push_back(std::move(first).Take());
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    items.push_back(std::move(v).Take());
  }
  BORA_ASSIGN_OR_RETURN(Json r, Dedup(c.ev(), items));
  return Val::Own(std::move(r));
}

ValResult SetOp(Evaluator& ev, const Node& node, Val* recv, int op) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val a, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(Val b, ListArg(c, 1, false));
  const JsonArray& x = a->get_array();
  const JsonArray& y = b->get_array();
  BORA_RETURN_IF_ERROR(
      ev.Step(static_cast<int64_t>(x.size() * y.size() / 8 + x.size() + y.size())));
  JsonArray out;
  auto add = [&](const Json& e) {
    if (!ListHas(out, e)) out.push_back(e);
  };
  switch (op) {
    case 0:  // union
      for (const Json& e : x) add(e);
      for (const Json& e : y) add(e);
      break;
    case 1:  // intersect
      for (const Json& e : x)
        if (ListHas(y, e)) add(e);
      break;
    case 2:  // difference
      for (const Json& e : x)
        if (!ListHas(y, e)) add(e);
      break;
    default:  // symmetric difference
      for (const Json& e : x)
        if (!ListHas(y, e)) add(e);
      for (const Json& e : y)
        if (!ListHas(x, e)) add(e);
  }
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(Json(out))));
  return Val::Own(Json(std::move(out)));
}
ValResult FnUnion(Evaluator& ev, const Node& n, Val* r) { return SetOp(ev, n, r, 0); }
ValResult FnIntersect(Evaluator& ev, const Node& n, Val* r) { return SetOp(ev, n, r, 1); }
ValResult FnDifference(Evaluator& ev, const Node& n, Val* r) { return SetOp(ev, n, r, 2); }
ValResult FnSymmetricDifference(Evaluator& ev, const Node& n, Val* r) { return SetOp(ev, n, r, 3); }

ValResult AddRemove(Evaluator& ev, const Node& node, Val* recv, bool add) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(Val a, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(Json out, Dedup(ev, a->get_array()));
  JsonArray& arr = out.get_array();
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    BORA_RETURN_IF_ERROR(ev.Step(WorkOf(out)));
    if (add) {
      if (!ListHas(arr, v.get())) arr.push_back(std::move(v).Take());
    } else {
      arr.erase(std::remove_if(arr.begin(), arr.end(),
                               [&](const Json& e) { return JsonEquals(e, v.get()); }),
                arr.end());
    }
  }
  return Val::Own(std::move(out));
}
ValResult FnSetAdd(Evaluator& ev, const Node& n, Val* r) { return AddRemove(ev, n, r, true); }
ValResult FnSetRemove(Evaluator& ev, const Node& n, Val* r) { return AddRemove(ev, n, r, false); }

ValResult FnDeleteAll(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  BORA_ASSIGN_OR_RETURN(Val keys, ListArg(c, 1, false));
  Json r = std::move(d).Take();
  for (const Json& k : keys->get_array())
    if (k.is_string()) r.get_object().erase(k.get_string());
  return Val::Own(std::move(r));
}

// Python's list.insert position rules (negative counts from the end, clamped).
size_t InsertPos(int64_t pos, size_t n) {
  int64_t size = static_cast<int64_t>(n);
  if (pos < 0) pos = std::max<int64_t>(0, pos + size);
  return static_cast<size_t>(std::min(pos, size));
}

ValResult InsertImpl(Evaluator& ev, const Node& node, Val* recv, bool many) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(3, 3));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(int64_t pos, IntArg(c, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(2));
  JsonArray arr = list->get_array();
  size_t at = InsertPos(pos, arr.size());
  if (many) {
    if (!v->is_array()) return c.TypeErr(v.get(), "a list of values");
    const JsonArray& vals = v->get_array();
    arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(at), vals.begin(), vals.end());
  } else {
    arr.insert(arr.begin() + static_cast<std::ptrdiff_t>(at), v.get());
  }
  Json out(std::move(arr));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(out)));
  return Val::Own(std::move(out));
}
ValResult FnInsert(Evaluator& ev, const Node& n, Val* r) { return InsertImpl(ev, n, r, false); }
ValResult FnInsertMany(Evaluator& ev, const Node& n, Val* r) { return InsertImpl(ev, n, r, true); }

// collection.replaceMany(position, values, count => 1): the `count` items at `position` (all the
// rest when count < 0) are replaced by `values`.
ValResult FnReplaceMany(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(3, 4));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(int64_t pos, IntArg(c, 1));
  BORA_ASSIGN_OR_RETURN(Val vals, ListArg(c, 2, false));
  int64_t count = 1;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(3, "count"));
  if (cv) {
    BORA_ASSIGN_OR_RETURN(count, StrictInt(c, cv->get(), "count"));
  }
  const JsonArray& arr = list->get_array();
  JsonArray out;
  bool done = false;
  for (int64_t i = 0; i < static_cast<int64_t>(arr.size()); ++i) {
    bool in_range = i >= pos && (count < 0 || i < pos + count);
    if (!in_range) {
      out.push_back(arr[i]);
      continue;
    }
    if (!done) {
      for (const Json& v : vals->get_array()) out.push_back(v);
      done = true;
    }
  }
  Json r(std::move(out));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(r)));
  return Val::Own(std::move(r));
}

// ---- branching ----

ValResult FnSelectCase(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  size_t i = 0;
  for (; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (IsTruthy(v.get())) break;
  }
  return Val::Own(Json(static_cast<int64_t>(i)));
}

ValResult FnSelectAllCases(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  JsonArray out;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (IsTruthy(v.get())) out.push_back(static_cast<int64_t>(i));
  }
  return Val::Own(Json(std::move(out)));
}

ValResult FnExamine(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  JsonArray out;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    out.push_back(IsTruthy(v.get()));
  }
  return Val::Own(Json(std::move(out)));
}

// case.switchCase(v0, v1, ...): only the chosen argument is evaluated; out of range: the last.
ValResult FnSwitchCase(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(Val cs, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(int64_t k, StrictInt(c, cs.get(), "case"));
  int64_t n = static_cast<int64_t>(c.size()) - 1;
  if (n == 0) return Val::Own(Json());
  if (k < 0 || k >= n) k = n - 1;
  return c.Arg(static_cast<size_t>(k) + 1);
}

// ---- system ----

// obj.assert(condition, message => 'Assertion failed'): `$` in the condition is obj.
ValResult FnAssert(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val obj, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val ok, c.Lambda(c.node(1), obj.get()));
  if (IsTruthy(ok.get())) return obj;
  std::string msg = "Assertion failed";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> m, c.Opt(2, "message"));
  if (m) {
    if (!m->get().is_string()) return c.TypeErr(m->get(), "a message string");
    msg = std::string(SV(m->get()));
  }
  return InvalidArgument(msg);
}

// ---- Mistral ----

// json_pp(data => null): deprecated json_dump with "\n" escapes turned into line breaks (Mistral:
// jsonutils.dumps(data or context, indent=4).replace("\\n", "\n").replace(" \n", "\n")).
ValResult FnJsonPp(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 1));
  Json data;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(0, "data"));
  if (v && IsTruthy(v->get()))
    data = std::move(*v).Take();
  else
    data = *ev.root();
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(data) * 2));
  std::string s = PythonJsonDumps(data, 4), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      out += "\\\\";
      ++i;
    } else {
      out += s[i];
    }
  }
  std::string r;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == ' ' && i + 1 < out.size() && out[i + 1] == '\n') continue;
    r += out[i];
  }
  return Val::Own(Str(r));
}

}  // namespace bora::expr::internal
