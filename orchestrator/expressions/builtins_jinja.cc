// Jinja filters that differ from the YAQL functions (default, sort, select/reject, map,
// dict2items, indent, truncate, ...), Jinja tests, and the Python methods Jinja templates call on
// dicts, strings and lists (dict.get, str.upper, list.index, ...).
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/builtins.h"

namespace bora::expr::internal {
namespace {

ValResult RunTest(Evaluator& ev, std::string_view name, const Json& value, std::vector<Json> args,
                  bool* result);

}  // namespace

ValResult FnDefault(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  bool boolean = false;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> bv, c.Opt(2, "boolean"));
  if (bv) boolean = IsTruthy(bv->get());
  bool use_default = recv->undefined() || (boolean && !IsTruthy(recv->get()));
  if (!use_default) return std::move(*recv);
  BORA_ASSIGN_OR_RETURN(std::optional<Val> d, c.Opt(1, "default_value"));
  if (!d) return Val::Own(Str(""));
  return std::move(*d);
}

// select/reject('test', args...) and selectattr/rejectattr('attr', 'test', args...).
ValResult SelectReject(Evaluator& ev, const Node& node, Val* recv, bool select, bool by_attr) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  size_t i = 1;
  std::string attr;
  if (by_attr) {
    BORA_ASSIGN_OR_RETURN(attr, StrArg(c, i));
    ++i;
  }
  std::string test;
  std::vector<Json> args;
  if (i < c.size()) {
    BORA_ASSIGN_OR_RETURN(test, StrArg(c, i));
    ++i;
    for (; i < c.size(); ++i) {
      BORA_ASSIGN_OR_RETURN(Val a, c.Arg(i));
      args.push_back(std::move(a).Take());
    }
  }
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) {
    static const Json kNull;
    const Json* v = &e;
    bool missing = false;
    if (by_attr) {
      v = GetPath(e, attr);
      if (!v) {
        v = &kNull;
        missing = true;
      }
    }
    bool t;
    if (test.empty()) {
      t = !missing && IsTruthy(*v);
    } else if (missing && test == "defined") {
      t = false;
    } else if (missing && test == "undefined") {
      t = true;
    } else {
      if (missing) return InvalidArgument("'dict object' has no attribute '" + attr + "'");
      BORA_RETURN_IF_ERROR(RunTest(ev, test, *v, args, &t).status());
    }
    if (t == select) BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}
ValResult FnSelectF(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, true, false);
}
ValResult FnRejectF(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, false, false);
}
ValResult FnSelectAttr(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, true, true);
}
ValResult FnRejectAttr(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, false, true);
}
namespace {

ValResult ApplyFilterByName(Evaluator& ev, std::string_view name, const Json& value,
                            const std::vector<Json>& args);

}  // namespace

// map(attribute='x', default=...) or map('filter', args...).
ValResult FnMap(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> attr, c.Opt(99, "attribute"));
  ListBuilder out(ev);
  if (attr) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(99, "default"));
    std::string path =
        (*attr)->is_string() ? std::string((*attr)->get_string()) : PythonStr(attr->get());
    for (const Json& e : list->get_array()) {
      const Json* v = GetPath(e, path);
      if (!v) {
        if (dflt) {
          BORA_RETURN_IF_ERROR(out.Push((*dflt).get()));
          continue;
        }
        return InvalidArgument("'" + TypeName(e) + " object' has no attribute '" + path + "'");
      }
      BORA_RETURN_IF_ERROR(out.Push(*v));
    }
    return out.Done();
  }
  BORA_ASSIGN_OR_RETURN(std::string filter, StrArg(c, 1));
  std::vector<Json> args;
  for (size_t i = 2; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val a, c.Arg(i));
    args.push_back(std::move(a).Take());
  }
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val v, ApplyFilterByName(ev, filter, e, args));
    BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
  }
  return out.Done();
}

ValResult FnDict2Items(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  std::string key_name = "key", value_name = "value";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> kn, c.Opt(1, "key_name"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> vn, c.Opt(2, "value_name"));
  if (kn && (*kn)->is_string()) key_name = std::string((*kn)->get_string());
  if (vn && (*vn)->is_string()) value_name = std::string((*vn)->get_string());
  ListBuilder out(ev);
  for (const auto& kv : d->get_object()) {
    JsonObject o;
    o[key_name] = Str(kv.key());
    o[value_name] = kv.value();
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(o))));
  }
  return out.Done();
}

ValResult FnItems2Dict(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  std::string key_name = "key", value_name = "value";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> kn, c.Opt(1, "key_name"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> vn, c.Opt(2, "value_name"));
  if (kn && (*kn)->is_string()) key_name = std::string((*kn)->get_string());
  if (vn && (*vn)->is_string()) value_name = std::string((*vn)->get_string());
  JsonObject out;
  for (const Json& e : list->get_array()) {
    const Json* k = e.is_object() ? e.get_object().if_contains(key_name) : nullptr;
    const Json* v = e.is_object() ? e.get_object().if_contains(value_name) : nullptr;
    if (!k || !v)
      return InvalidArgument("items2dict: item " + PythonRepr(e) + " lacks '" + key_name +
                             "' or '" + value_name + "'");
    out[k->is_string() ? std::string(k->get_string()) : PythonStr(*k)] = *v;
  }
  return Val::Own(Json(std::move(out)));
}

ValResult FnCombine(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  bool recursive = false;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> rv, c.Opt(99, "recursive"));
  if (rv) recursive = IsTruthy(rv->get());
  Json r = std::move(a).Take();
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val b, c.Arg(i));
    if (!b->is_object()) return c.TypeErr(b.get(), "a dict");
    if (recursive)
      DeepMerge(r, b.get());
    else
      for (const auto& kv : b->get_object()) r.get_object()[kv.key()] = kv.value();
  }
  return Val::Own(std::move(r));
}

// indent(width=4, first=False, blank=False)
ValResult FnIndent(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  std::string pad(4, ' ');
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wv, c.Opt(1, "width"));
  if (wv && IsIntJ(wv->get()))
    pad = std::string(std::clamp<int64_t>(NumI(wv->get()), 0, 256), ' ');
  else if (wv && (*wv)->is_string())
    pad = std::string((*wv)->get_string());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> fv, c.Opt(2, "first"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> bv, c.Opt(3, "blank"));
  bool first = fv && IsTruthy(fv->get()), blank = bv && IsTruthy(bv->get());
  std::string out;
  size_t start = 0, line_no = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    std::string_view line =
        std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    bool indent = (line_no > 0 || first) && (blank || !line.empty());
    if (indent) out += pad;
    out += line;
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
    ++line_no;
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}

// truncate(length=255, killwords=False, end="...", leeway=5)
ValResult FnTruncate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  int64_t length = 255, leeway = 5;  // Jinja's default policy truncate.leeway = 5
  bool killwords = false;
  std::string end = "...";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> lv, c.Opt(1, "length"));
  if (lv && IsIntJ(lv->get())) length = NumI(lv->get());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> kv, c.Opt(2, "killwords"));
  if (kv) killwords = IsTruthy(kv->get());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> ev2, c.Opt(3, "end"));
  if (ev2 && (*ev2)->is_string()) end = std::string((*ev2)->get_string());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wv, c.Opt(4, "leeway"));
  if (wv && IsIntJ(wv->get())) leeway = NumI(wv->get());
  if (length < static_cast<int64_t>(Utf8Len(end)))
    return InvalidArgument("expected length >= " + std::to_string(Utf8Len(end)) + ", got " +
                           std::to_string(length));
  if (leeway < 0) return InvalidArgument("expected leeway >= 0, got " + std::to_string(leeway));
  if (static_cast<int64_t>(s.size()) <= length + leeway) return Val::Own(Str(s));
  std::string cut = s.substr(0, static_cast<size_t>(length) - end.size());
  if (!killwords) {
    size_t sp = cut.rfind(' ');
    if (sp != std::string::npos) cut.resize(sp);
  }
  return Val::Own(Str(cut + end));
}

ValResult FnCapitalize(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<char>(i == 0 ? std::toupper(static_cast<unsigned char>(s[i]))
                                    : std::tolower(static_cast<unsigned char>(s[i])));
  return Val::Own(Str(s));
}

ValResult FnTitle(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  bool start = true;
  for (char& ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (std::isalpha(u)) {
      ch = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
      start = false;
    } else {
      start = !std::isalnum(u);
    }
  }
  return Val::Own(Str(s));
}
namespace {

ValResult TestImpl(Evaluator& ev, const Node& node, Val* recv, std::string_view name) {
  Call c(ev, node, recv);
  if (name == "defined") return Val::Own(Json(!recv->undefined()));
  if (name == "undefined") return Val::Own(Json(recv->undefined()));
  if (recv->undefined()) return InvalidArgument(recv->undefined_message());
  std::vector<Json> args;
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val a, c.Arg(i));
    args.push_back(std::move(a).Take());
  }
  bool r = false;
  BORA_RETURN_IF_ERROR(RunTest(ev, name, recv->get(), std::move(args), &r).status());
  return Val::Own(Json(r));
}

ValResult RunTest(Evaluator& ev, std::string_view name, const Json& v, std::vector<Json> args,
                  bool* result) {
  auto need = [&](size_t n) -> Status {
    if (args.size() < n)
      return InvalidArgument("test '" + std::string(name) + "' needs an argument");
    return Status::Ok();
  };
  bool& r = *result;
  if (name == "defined")
    r = true;
  else if (name == "undefined")
    r = false;
  else if (name == "none")
    r = v.is_null();
  else if (name == "number")
    r = IsNumJ(v);
  else if (name == "integer")
    r = IsIntJ(v);
  else if (name == "float")
    r = v.is_double();
  else if (name == "string")
    r = v.is_string();
  else if (name == "mapping")
    r = v.is_object();
  else if (name == "iterable")
    r = v.is_array() || v.is_object() || v.is_string();
  else if (name == "sequence")
    r = v.is_array() || v.is_object() || v.is_string();
  else if (name == "boolean")
    r = v.is_bool();
  else if (name == "true")
    r = v.is_bool() && v.as_bool();
  else if (name == "false")
    r = v.is_bool() && !v.as_bool();
  else if (name == "lower" || name == "upper") {
    if (!v.is_string()) return InvalidArgument("test '" + std::string(name) + "' needs a string");
    bool lower = name == "lower";
    r = true;
    for (unsigned char ch : SV(v))
      if (std::isalpha(ch) && (lower ? std::isupper(ch) : std::islower(ch))) r = false;
  } else if (name == "even" || name == "odd") {
    if (!IsIntJ(v)) return InvalidArgument("test '" + std::string(name) + "' needs an integer");
    bool even = NumI(v) % 2 == 0;
    r = name == "even" ? even : !even;
  } else if (name == "divisibleby") {
    BORA_RETURN_IF_ERROR(need(1));
    if (!IsIntJ(v) || !IsIntJ(args[0]) || NumI(args[0]) == 0)
      return InvalidArgument("divisibleby needs integers and a non-zero divisor");
    r = NumI(v) % NumI(args[0]) == 0;
  } else if (name == "eq" || name == "equalto" || name == "==" || name == "sameas") {
    BORA_RETURN_IF_ERROR(need(1));
    r = name == "sameas" ? (JsonEquals(v, args[0]) && v.kind() == args[0].kind())
                         : JsonEquals(v, args[0]);
  } else if (name == "ne" || name == "lt" || name == "gt" || name == "le" || name == "ge" ||
             name == "lessthan" || name == "greaterthan" || name == "!=" || name == "<" ||
             name == ">" || name == "<=" || name == ">=") {
    BORA_RETURN_IF_ERROR(need(1));
    Op op = (name == "ne" || name == "!=")                           ? Op::kNe
            : (name == "lt" || name == "lessthan" || name == "<")    ? Op::kLt
            : (name == "gt" || name == "greaterthan" || name == ">") ? Op::kGt
            : (name == "le" || name == "<=")                         ? Op::kLe
                                                                     : Op::kGe;
    BORA_ASSIGN_OR_RETURN(r, Compare(op, v, args[0], Lang::kJinja));
  } else if (name == "in") {
    BORA_RETURN_IF_ERROR(need(1));
    BORA_ASSIGN_OR_RETURN(r, Contains(args[0], v));
  } else {
    return InvalidArgument("no test named '" + std::string(name) + "'");
  }
  return Val::Own(Json(r));
}

}  // namespace

#define BORA_TEST(fn_name, test_name) \
  ValResult fn_name(Evaluator& ev, const Node& n, Val* r) { return TestImpl(ev, n, r, test_name); }
BORA_TEST(TestDefined, "defined")
BORA_TEST(TestUndefined, "undefined")
BORA_TEST(TestGeneric, n.name)
#undef BORA_TEST

ValResult MethodDispatch(Evaluator& ev, const Node& node, Val* recv) {
  const std::string& m = node.name;
  const Json& r = recv->get();
  if (r.is_object()) {
    if (m == "get") return FnGet(ev, node, recv);
    if (m == "keys") return FnKeys(ev, node, recv);
    if (m == "cycle" && r.get_object().contains("index0")) {  // loop.cycle('odd', 'even')
      Call c(ev, node, recv);
      if (c.size() < 2) return InvalidArgument("loop.cycle() needs at least one value");
      int64_t i = NumI(r.get_object().at("index0"));
      return c.Arg(1 + static_cast<size_t>(i % static_cast<int64_t>(c.size() - 1)));
    }
    if (m == "values") return FnValues(ev, node, recv);
    if (m == "items") return FnItems(ev, node, recv);
  }
  if (r.is_string()) {
    if (m == "upper") return FnToUpper(ev, node, recv);
    if (m == "lower") return FnToLower(ev, node, recv);
    if (m == "strip") return FnTrim(ev, node, recv);
    if (m == "lstrip") return FnTrimLeft(ev, node, recv);
    if (m == "rstrip") return FnTrimRight(ev, node, recv);
    if (m == "split") return FnSplit(ev, node, recv);
    if (m == "replace") return FnReplace(ev, node, recv);
    if (m == "startswith") return FnStartsWith(ev, node, recv);
    if (m == "endswith") return FnEndsWith(ev, node, recv);
    if (m == "format") return FnFormat(ev, node, recv);
    if (m == "title") return FnTitle(ev, node, recv);
    if (m == "capitalize") return FnCapitalize(ev, node, recv);
    if (m == "find" || m == "index") {
      BORA_ASSIGN_OR_RETURN(Val p, FnIndexOf(ev, node, recv));
      if (m == "index" && p->is_int64() && p->as_int64() < 0)
        return InvalidArgument("substring not found");
      return p;
    }
    if (m == "count") {
      Call c(ev, node, recv);
      BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
      BORA_ASSIGN_OR_RETURN(std::string sub, StrArg(c, 1));
      if (sub.empty()) return Val::Own(Json(static_cast<int64_t>(s.size() + 1)));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Val::Own(Json(n));
    }
    if (m == "isdigit") {
      std::string_view s = SV(r);
      bool d = !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isdigit(static_cast<unsigned char>(ch)) != 0;
      });
      return Val::Own(Json(d));
    }
    if (m == "join") {  // ', '.join(list)
      Call c(ev, node, recv);
      BORA_ASSIGN_OR_RETURN(Val sep, c.Arg(0));
      BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 1, true));
      std::string out;
      bool first = true;
      for (const Json& e : list->get_array()) {
        if (!e.is_string())
          return InvalidArgument("sequence item: expected str instance, " + TypeName(e) + " found");
        if (!first) out += SV(sep.get());
        first = false;
        out += SV(e);
        BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
      }
      return Val::Own(Str(out));
    }
  }
  if (r.is_array()) {
    if (m == "index") return FnIndexOf(ev, node, recv);
    if (m == "count") {
      Call c(ev, node, recv);
      BORA_ASSIGN_OR_RETURN(Val list, c.Arg(0));
      BORA_ASSIGN_OR_RETURN(Val x, c.Arg(1));
      int64_t n = 0;
      for (const Json& e : list->get_array()) n += JsonEquals(e, x.get()) ? 1 : 0;
      return Val::Own(Json(n));
    }
  }
  return InvalidArgument("'" + TypeName(r) + " object' has no method '" + m + "'");
}
namespace {

ValResult ApplyFilterByName(Evaluator& ev, std::string_view name, const Json& value,
                            const std::vector<Json>& args) {
  int i = FindJinjaFilter(name);
  if (i < 0) return InvalidArgument("no filter named '" + std::string(name) + "'");
  // Build a synthetic call node: value | name(args...).
  Node call;
  call.op = Op::kFilter;
  call.name = std::string(name);
  call.kids.push_back(nullptr);
  for (const Json& a : args) {
    auto lit = std::make_unique<Node>();
    lit->op = Op::kLiteral;
    lit->value = a;
    call.kids.push_back(std::move(lit));
  }
  Val recv = Val::Ref(value);
  ValResult r = JinjaFilter(i).fn(ev, call, &recv);
  if (r.ok()) r->Materialize();
  return r;
}

}  // namespace

}  // namespace bora::expr::internal
