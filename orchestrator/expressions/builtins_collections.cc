// Collection and number functions shared by YAQL and Jinja: len, dict, list, range, keys/values/
// items, get, first/last, contains, min/max/sum, concat, indexOf, append, reverse, flatten, type
// checks, abs, round, and YAQL's dict functions (mergeWith, delete, set), zip and enumerate.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/builtins.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {

ValResult FnLen(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  if (j.is_string()) return Val::Own(Json(static_cast<int64_t>(Utf8Len(SV(j)))));
  if (j.is_array()) return Val::Own(Json(static_cast<int64_t>(j.get_array().size())));
  if (j.is_object()) return Val::Own(Json(static_cast<int64_t>(j.get_object().size())));
  return InvalidArgument("object of type '" + TypeName(j) + "' has no len()");
}

ValResult FnDict(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  JsonObject obj;
  for (size_t i = 0; i < c.size(); ++i) {
    const Node* n = c.node(i);
    if (n && n->op == Op::kPair) {  // dict('key with space' => 1) / dict($x => 1)
      BORA_ASSIGN_OR_RETURN(Val k, ev.Eval(*n->kids[0]));
      BORA_ASSIGN_OR_RETURN(Val v, ev.Eval(*n->kids[1]));
      obj[k->is_string() ? std::string(k->get_string()) : PythonStr(k.get())] = std::move(v).Take();
      continue;
    }
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    const Json& j = v.get();
    if (j.is_object()) {
      for (const auto& kv : j.get_object()) obj[kv.key()] = kv.value();
    } else if (j.is_array()) {
      for (const Json& e : j.get_array()) {
        BORA_RETURN_IF_ERROR(ev.Step());
        if (!e.is_array() || e.get_array().size() != 2)
          return InvalidArgument("dict() needs [key, value] pairs, got " + PythonRepr(e));
        const Json& k = e.get_array()[0];
        obj[k.is_string() ? std::string(k.get_string()) : PythonStr(k)] = e.get_array()[1];
      }
    } else {
      return c.TypeErr(j, "a dict or a list of pairs");
    }
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Val v, ev.Eval(*k->kids[1]));
    BORA_RETURN_IF_ERROR(ev.CheckDefined(v));
    obj[k->name] = std::move(v).Take();
  }
  return Val::Own(Json(std::move(obj)));
}

namespace {
// yaql's functions whose result is an iterator (a generator in Python), which yaql's list(...)
// unpacks into the new list; any other argument (a literal list, data, a list-valued function
// such as toList() or orderBy()) becomes one item. Checked by name on the argument's syntax: a
// variable or `->` holding an iterator is not recognised.
bool YieldsIterator(const Node* n) {
  if (!n || (n->op != Op::kCall && n->op != Op::kMethod)) return false;
  static constexpr std::string_view kIterators[] = {
      "range",      "select",     "map",        "where",       "filter",     "skip",
      "take",       "limit",      "distinct",   "concat",      "append",     "flatten",
      "reverse",    "zip",        "zipLongest", "enumerate",   "selectMany", "takeWhile",
      "skipWhile",  "generate",   "accumulate", "repeat",      "slice",      "groupBy",
      "sliceWhere", "splitWhere", "insertMany", "replaceMany", "searchAll"};
  return std::find(std::begin(kIterators), std::end(kIterators), n->name) != std::end(kIterators);
}
}  // namespace

// YAQL's list(args...): a list of the arguments (iterators unpacked, see YieldsIterator). Jinja's
// list(x) is Python's list(): a copy of a list, the keys of a dict, the characters of a string.
ValResult FnList(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  if (!IsYaql(c) && c.size() == 1) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
    if (v->is_array()) return v;
    return AsList(c, std::move(v), true);
  }
  ListBuilder out(ev);
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (IsYaql(c) && v->is_array() && YieldsIterator(c.node(i))) {
      for (const Json& e : v->get_array()) BORA_RETURN_IF_ERROR(out.Push(e));
    } else {
      BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
    }
  }
  return out.Done();
}

// YAQL's collection.toList(): the list itself (dicts and strings are not collections here).
ValResult FnToList(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  return ListArg(c, 0, false);
}

ValResult FnRange(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  int64_t start = 0, stop = 0, step = 1;
  if (c.size() == 1) {
    BORA_ASSIGN_OR_RETURN(stop, IntArg(c, 0));
  } else {
    BORA_ASSIGN_OR_RETURN(start, IntArg(c, 0));
    BORA_ASSIGN_OR_RETURN(stop, IntArg(c, 1));
    if (c.size() == 3) {
      BORA_ASSIGN_OR_RETURN(step, IntArg(c, 2));
    }
  }
  if (step == 0) return InvalidArgument("range() arg 3 must not be zero");
  long double count_ld = step > 0 ? (static_cast<long double>(stop) - start) / step
                                  : (static_cast<long double>(start) - stop) / -step;
  uint64_t count = count_ld <= 0 ? 0 : static_cast<uint64_t>(std::ceil(count_ld));
  // Check the size before allocating anything.
  if (count > ev.ctx().limits.max_output_bytes / 16) return ev.SizeExceeded(count * 16);
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(count)));
  JsonArray arr;
  arr.reserve(count);
  int64_t x = start;
  for (uint64_t i = 0; i < count; ++i, x += step) arr.push_back(x);
  return Val::Own(Json(std::move(arr)));
}

ValResult FnKeys(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
  JsonArray arr;
  for (const auto& kv : v->get_object()) arr.push_back(Str(kv.key()));
  return Val::Own(Json(std::move(arr)));
}

ValResult FnValues(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
  ListBuilder out(ev);
  for (const auto& kv : v->get_object()) BORA_RETURN_IF_ERROR(out.Push(kv.value()));
  return out.Done();
}

ValResult FnItems(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
  ListBuilder out(ev);
  for (const auto& kv : v->get_object())
    BORA_RETURN_IF_ERROR(out.Push(Json(JsonArray{Str(kv.key()), kv.value()})));
  return out.Done();
}

ValResult FnGet(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val k, c.Arg(1));
  if (d->is_object()) {
    if (k->is_string()) {
      auto it = d->get_object().find(k->get_string());
      if (it != d->get_object().end()) return Child(d, it->value());
    }
  } else if (d->is_array() && IsIntJ(k.get())) {
    int64_t i = NumI(k.get()), n = static_cast<int64_t>(d->get_array().size());
    if (i < 0) i += n;
    if (i >= 0 && i < n) return Child(d, d->get_array()[i]);
  } else if (!d->is_null()) {
    return c.TypeErr(d.get(), "a dict");
  }
  if (c.size() == 3) return c.Arg(2);
  return Val::Own(Json());
}
namespace {

ValResult FirstLast(Evaluator& ev, const Node& node, Val* recv, bool first) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(v, AsList(c, std::move(v), !IsYaql(c)));
  const JsonArray& arr = v->get_array();
  if (arr.empty()) {
    if (c.has(1, "default")) {
      BORA_ASSIGN_OR_RETURN(std::optional<Val> d, c.Opt(1, "default"));
      return std::move(*d);
    }
    if (!IsYaql(c)) return Val::Undefined("No first item, sequence was empty.");
    return InvalidArgument("collection is empty");
  }
  return Child(v, first ? arr.front() : arr.back());
}

}  // namespace

ValResult FnFirst(Evaluator& ev, const Node& node, Val* recv) {
  return FirstLast(ev, node, recv, true);
}
ValResult FnLast(Evaluator& ev, const Node& node, Val* recv) {
  return FirstLast(ev, node, recv, false);
}

ValResult FnContains(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val coll, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val item, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(coll.get())));
  BORA_ASSIGN_OR_RETURN(bool r, Contains(coll.get(), item.get()));
  return Val::Own(Json(r));
}
namespace {

// min/max: of one collection, or of several arguments.
ValResult MinMax(Evaluator& ev, const Node& node, Val* recv, bool is_max) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 8));
  std::vector<Json> values;
  Val holder;
  const JsonArray* arr = nullptr;
  JsonArray own;
  if (c.size() == 1) {
    BORA_ASSIGN_OR_RETURN(holder, ListArg(c, 0, !IsYaql(c)));
    arr = &holder->get_array();
  } else {
    for (size_t i = 0; i < c.size(); ++i) {
      BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
      own.push_back(std::move(v).Take());
    }
    arr = &own;
  }
  std::optional<Val> attribute;
  if (!IsYaql(c)) {
    BORA_ASSIGN_OR_RETURN(attribute, c.Opt(99, "attribute"));
  }
  if (arr->empty()) {
    if (!IsYaql(c)) return Val::Undefined("No aggregated item, sequence was empty.");
    return InvalidArgument(std::string(is_max ? "max" : "min") + "() arg is an empty sequence");
  }
  auto key_of = [&](const Json& e) -> const Json& {
    if (attribute && (*attribute)->is_string() && e.is_object()) {
      auto it = e.get_object().find((*attribute)->get_string());
      if (it != e.get_object().end()) return it->value();
    }
    return e;
  };
  size_t best = 0;
  for (size_t i = 1; i < arr->size(); ++i) {
    BORA_RETURN_IF_ERROR(ev.Step());
    BORA_ASSIGN_OR_RETURN(int o, Order(key_of((*arr)[i]), key_of((*arr)[best])));
    if (is_max ? o > 0 : o < 0) best = i;
  }
  return Val::Own((*arr)[best]);
}

}  // namespace

ValResult FnMin(Evaluator& ev, const Node& n, Val* r) { return MinMax(ev, n, r, false); }
ValResult FnMax(Evaluator& ev, const Node& n, Val* r) { return MinMax(ev, n, r, true); }

ValResult FnSum(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, !IsYaql(c)));
  Json acc = int64_t{0};
  const Node* selector = nullptr;
  std::optional<Val> attribute;
  if (IsYaql(c)) {
    // sum(collection, initial) or, as an extension, sum(collection, selector-lambda using `$`).
    const Node* second = c.param_node(1, "initial");
    if (second) {
      bool uses_root = false;
      std::vector<const Node*> stack{second};
      while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        if (n->op == Op::kRoot) uses_root = true;
        for (const auto& k : n->kids)
          if (k) stack.push_back(k.get());
      }
      if (uses_root) {
        selector = second;
      } else {
        BORA_ASSIGN_OR_RETURN(std::optional<Val> init, c.Opt(1, "initial"));
        acc = std::move(*init).Take();
      }
    }
  } else {
    BORA_ASSIGN_OR_RETURN(attribute, c.Opt(99, "attribute"));
    BORA_ASSIGN_OR_RETURN(std::optional<Val> start, c.Opt(99, "start"));
    if (start) acc = std::move(*start).Take();
  }
  if (IsYaql(c) && list->get_array().empty() && !c.has(1, "initial"))
    return InvalidArgument("reduce() of empty sequence with no initial value");
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* x = &e;
    Val tmp;
    if (selector) {
      BORA_ASSIGN_OR_RETURN(tmp, c.Lambda(selector, e));
      x = &tmp.get();
    } else if (attribute && (*attribute)->is_string()) {
      if (!e.is_object() || !e.get_object().contains((*attribute)->get_string()))
        return InvalidArgument("item has no attribute '" + std::string((*attribute)->get_string()) +
                               "'");
      x = &e.get_object().at((*attribute)->get_string());
    }
    BORA_ASSIGN_OR_RETURN(acc, Arith(Op::kAdd, acc, *x, ev.lang(), ev));
  }
  return Val::Own(std::move(acc));
}

ValResult FnConcat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  std::vector<Val> args;
  bool all_lists = c.size() > 0;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    all_lists &= v->is_array();
    args.push_back(std::move(v));
  }
  if (all_lists) {
    ListBuilder out(ev);
    for (const Val& v : args)
      for (const Json& e : v->get_array()) BORA_RETURN_IF_ERROR(out.Push(e));
    return out.Done();
  }
  std::string s;
  for (const Val& v : args) {
    if (!v->is_string()) return c.TypeErr(v.get(), "strings");
    s += SV(v.get());
    BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  }
  return Val::Own(Str(s));
}

ValResult FnSingle(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  if (list->get_array().size() != 1)
    return InvalidArgument(list->get_array().empty() ? "collection is empty"
                                                     : "Collection contains more than one item");
  return Child(list, list->get_array()[0]);
}

ValResult FnAppend(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) BORA_RETURN_IF_ERROR(out.Push(e));
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
  }
  return out.Done();
}

ValResult FnReverse(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_string()) {
    std::string s(SV(v.get()));
    std::reverse(s.begin(), s.end());
    return Val::Own(Str(s));
  }
  BORA_ASSIGN_OR_RETURN(Val list, AsList(c, std::move(v), !IsYaql(c)));
  JsonArray out(list->get_array().rbegin(), list->get_array().rend());
  return Val::Own(Json(std::move(out)));
}
namespace {

void FlattenInto(const Json& v, ListBuilder& out, Status& st, int depth) {
  if (!st.ok()) return;
  if (!v.is_array() || depth > 64) {
    st = out.Push(v);
    return;
  }
  for (const Json& x : v.get_array()) FlattenInto(x, out, st, depth + 1);
}

}  // namespace

// yaql's flatten is recursive; Jinja's (Ansible's) takes an optional levels argument.
ValResult FnFlatten(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  int64_t levels = 64;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> lv, c.Opt(1, "levels"));
  if (lv && IsIntJ(lv->get())) levels = std::clamp<int64_t>(NumI(lv->get()), 0, 64);
  ListBuilder out(ev);
  Status st;
  for (const Json& e : list->get_array())
    FlattenInto(e, out, st, 64 - static_cast<int>(levels) + 1);
  BORA_RETURN_IF_ERROR(st);
  return out.Done();
}

ValResult FnContainsKey(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val k, c.Arg(1));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  return Val::Own(Json(k->is_string() && d->get_object().contains(k->get_string())));
}

ValResult FnContainsValue(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(d.get())));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  for (const auto& kv : d->get_object())
    if (JsonEquals(kv.value(), v.get())) return Val::Own(Json(true));
  return Val::Own(Json(false));
}

namespace {
// indexOf / lastIndexOf of a substring in a string or of an item in a list (-1 when absent; Jinja's
// list.index() fails instead).
ValResult IndexOfImpl(Evaluator& ev, const Node& node, Val* recv, bool last) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val coll, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val item, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(coll.get())));
  if (coll->is_string() && item->is_string()) {
    std::string_view s = SV(coll.get()), x = SV(item.get());
    size_t p = last ? s.rfind(x) : s.find(x);
    return Val::Own(Json(p == std::string_view::npos ? int64_t{-1} : static_cast<int64_t>(p)));
  }
  if (!coll->is_array()) return c.TypeErr(coll.get(), "a string or a list");
  const JsonArray& arr = coll->get_array();
  for (size_t k = 0; k < arr.size(); ++k) {
    size_t i = last ? arr.size() - 1 - k : k;
    if (JsonEquals(arr[i], item.get())) return Val::Own(Json(static_cast<int64_t>(i)));
  }
  if (!IsYaql(c)) return InvalidArgument(PythonRepr(item.get()) + " is not in list");
  return Val::Own(Json(int64_t{-1}));
}
}  // namespace

ValResult FnIndexOf(Evaluator& ev, const Node& n, Val* r) { return IndexOfImpl(ev, n, r, false); }
ValResult FnLastIndexOf(Evaluator& ev, const Node& n, Val* r) {
  return IndexOfImpl(ev, n, r, true);
}
namespace {

ValResult TypeCheck(Evaluator& ev, const Node& node, Val* recv, int kind) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  bool r = false;
  switch (kind) {
    case 0:
      r = j.is_string();
      break;
    case 1:
      r = j.is_array();
      break;
    case 2:
      r = j.is_object();
      break;
    case 3:
      r = IsIntJ(j);
      break;
    case 4:
      r = IsNumJ(j);
      break;
    case 5:
      r = j.is_bool();
      break;
  }
  return Val::Own(Json(r));
}

}  // namespace

ValResult FnIsString(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 0); }
ValResult FnIsList(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 1); }
ValResult FnIsDict(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 2); }
ValResult FnIsInteger(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 3); }
ValResult FnIsNumber(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 4); }
ValResult FnIsBoolean(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 5); }

ValResult FnAbs(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (IsIntJ(v.get())) {
    int64_t x = NumI(v.get());
    if (x == INT64_MIN) return Val::Own(Json(-static_cast<double>(x)));
    return Val::Own(Json(x < 0 ? -x : x));
  }
  if (v->is_double()) return Val::Own(Json(std::fabs(v->as_double())));
  return c.TypeErr(v.get(), "a number");
}

// Python's round(): half to even for round(x) / round(x, n). Jinja's round filter rounds half away
// from zero
// ('common') and always returns a float.
ValResult FnRound(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!IsNumJ(v.get())) return c.TypeErr(v.get(), "a number");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> nd, c.Opt(1, IsYaql(c) ? "ndigits" : "precision"));
  int64_t digits = 0;
  if (nd) {
    if (!IsIntJ(nd->get())) return c.TypeErr(nd->get(), "an integer");
    digits = std::clamp<int64_t>(NumI(nd->get()), -20, 20);
  }
  double x = NumD(v.get());
  double scale = std::pow(10.0, static_cast<double>(digits));
  if (IsYaql(c)) {
    if (IsIntJ(v.get()) && digits >= 0) return v;
    double r = std::nearbyint(x * scale) / scale;  // banker's rounding (FE_TONEAREST)
    if (!nd) return Val::Own(Json(static_cast<int64_t>(r)));
    return Val::Own(Json(r));
  }
  std::string method = "common";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, "method"));
  if (mv && (*mv)->is_string()) method = std::string((*mv)->get_string());
  double y = x * scale;
  double r = method == "ceil" ? std::ceil(y) : method == "floor" ? std::floor(y) : std::round(y);
  return Val::Own(Json(r / scale));
}

namespace {
// yaql's _merge_dicts: values of keys in both are merged (dicts recursively while `max_levels` is
// not 1; lists by `list_merger`, else distinct(a + b); anything else by `item_merger`, else b's).
Result<Json> MergeDicts(Call& c, const JsonObject& a, const JsonObject& b, const Node* list_merger,
                        const Node* item_merger, int64_t max_levels, int depth) {
  Evaluator& ev = c.ev();
  if (depth > 64) return InvalidArgument(c.Signature() + ": dicts nested too deeply");
  JsonObject out;
  for (const auto& kv : a) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json& v1 = kv.value();
    const Json* v2 = b.if_contains(kv.key());
    if (!v2) {
      out[kv.key()] = v1;
      continue;
    }
    const bool deep = max_levels != 1;
    if (deep && (v2->is_object() || v2->is_array()) && v1.kind() != v2->kind())
      return InvalidArgument("Cannot merge " + TypeName(v1) + " with " + TypeName(*v2));
    if (deep && v2->is_object()) {
      BORA_ASSIGN_OR_RETURN(
          out[kv.key()], MergeDicts(c, v1.get_object(), v2->get_object(), list_merger, item_merger,
                                    max_levels == 0 ? 0 : max_levels - 1, depth + 1));
    } else if (deep && v2->is_array() && list_merger) {
      BORA_ASSIGN_OR_RETURN(out[kv.key()], Lambda2(c, list_merger, v1, *v2));
    } else if (deep && v2->is_array()) {  // distinct(v1 + v2)
      JsonArray merged;
      for (const JsonArray* l : {&v1.get_array(), &v2->get_array()})
        for (const Json& e : *l) {
          BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(merged.size() / 8 + 1)));
          if (std::none_of(merged.begin(), merged.end(),
                           [&](const Json& m) { return JsonEquals(m, e); }))
            merged.push_back(e);
        }
      out[kv.key()] = Json(std::move(merged));
    } else if (item_merger) {
      BORA_ASSIGN_OR_RETURN(out[kv.key()], Lambda2(c, item_merger, v1, *v2));
    } else {
      out[kv.key()] = *v2;
    }
  }
  for (const auto& kv : b)
    if (!out.contains(kv.key())) out[kv.key()] = kv.value();
  return Json(std::move(out));
}
}  // namespace

// d.mergeWith(another, listMerger => null, itemMerger => null, maxLevels => 0) (yaql's queries.py).
ValResult FnMergeWith(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 5));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  BORA_ASSIGN_OR_RETURN(Val b, c.Arg(1));
  if (!b->is_object()) return c.TypeErr(b.get(), "a dict");
  const Node* list_merger = c.param_node(2, "listMerger");
  const Node* item_merger = c.param_node(3, "itemMerger");
  int64_t max_levels = 0;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> ml, c.Opt(4, "maxLevels"));
  if (ml) {
    if (!IsIntJ(ml->get())) return c.TypeErr(ml->get(), "an integer maxLevels");
    max_levels = NumI(ml->get());
  }
  BORA_ASSIGN_OR_RETURN(Json r, MergeDicts(c, a->get_object(), b->get_object(), list_merger,
                                           item_merger, max_levels, 0));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(r)));
  return Val::Own(std::move(r));
}

ValResult FnDelete(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  Json r = std::move(a).Take();
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Arg(i));
    if (k->is_string()) r.get_object().erase(k->get_string());
  }
  return Val::Own(std::move(r));
}

ValResult FnSet(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 3);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object() && !recv) return SetOfValues(c, std::move(a));  // yaql's set(1, 2)
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  Json r = std::move(a).Take();
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Arg(1));
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(2));
    r.get_object()[k->is_string() ? std::string(k->get_string()) : PythonStr(k.get())] =
        std::move(v).Take();
  } else if (c.size() == 2) {
    BORA_ASSIGN_OR_RETURN(Val d, c.Arg(1));
    if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
    for (const auto& kv : d->get_object()) r.get_object()[kv.key()] = kv.value();
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Json v, ev.EvalJson(*k->kids[1]));
    r.get_object()[k->name] = std::move(v);
  }
  return Val::Own(std::move(r));
}

ValResult FnZip(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  std::vector<Val> lists;
  size_t n = SIZE_MAX;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val l, ListArg(c, i, false));
    n = std::min(n, l->get_array().size());
    lists.push_back(std::move(l));
  }
  if (lists.empty()) n = 0;
  ListBuilder out(ev);
  for (size_t i = 0; i < n; ++i) {
    JsonArray row;
    for (const Val& l : lists) row.push_back(l->get_array()[i]);
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(row))));
  }
  return out.Done();
}

ValResult FnEnumerate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  int64_t start = 0;
  if (c.size() == 2) {
    BORA_ASSIGN_OR_RETURN(start, IntArg(c, 1));
  }
  ListBuilder out(ev);
  for (const Json& e : list->get_array())
    BORA_RETURN_IF_ERROR(out.Push(Json(JsonArray{start++, e})));
  return out.Done();
}

}  // namespace bora::expr::internal
