// The evaluator: walks the shared AST over borrowed JSON values (no copies on member access or
// indexing of context data); only values it computes are owned. Counts steps and depth against the
// Limits.
#include <cmath>
#include <limits>
#include <string>

#include "orchestrator/expressions/builtins_jinja_library.h"
#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/operators.h"
#include "orchestrator/expressions/regex.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {

ValResult Evaluator::Eval(const Node& n) {
  if (++steps_ > ctx_.limits.max_steps) return StepsExceeded();
  if (++depth_ > ctx_.limits.max_depth) {
    --depth_;
    return ResourceExhausted("expression budget exceeded: nesting deeper than " +
                             std::to_string(ctx_.limits.max_depth) + " (max_depth)");
  }
  ValResult r = EvalInner(n);
  --depth_;
  return r;
}

ValResult Evaluator::EvalWith(const Node& n, const Json& item) {
  RootScope scope(*this, &item);
  return Eval(n);
}

ValResult Evaluator::EvalInner(const Node& n) {
  switch (n.op) {
    case Op::kLiteral:
      return Val::Ref(n.value);
    case Op::kRoot:
      return Val::Ref(*root());
    case Op::kVar: {
      const Var* v = FindVar(n.name);
      if (v) {
        if (v->value.undefined()) return Val::Undefined(v->value.undefined_message());
        return Val::Ref(v->value.get());
      }
      if (lang_ == Lang::kJinja) return Val::Undefined("'" + n.name + "' is undefined");
      static const Json kNull;
      return Val::Ref(kNull);
    }
    case Op::kMember:
      return EvalMember(n);
    case Op::kIndex:
      return EvalIndex(n);
    case Op::kSlice:
      return EvalSlice(n);
    case Op::kNot: {
      BORA_ASSIGN_OR_RETURN(Val v, Eval(*n.kids[0]));
      BORA_RETURN_IF_ERROR(CheckDefined(v));
      return Val::Own(Json(!IsTruthy(v.get())));
    }
    case Op::kNeg:
    case Op::kPos: {
      BORA_ASSIGN_OR_RETURN(Val v, Eval(*n.kids[0]));
      BORA_RETURN_IF_ERROR(CheckDefined(v));
      const Json& j = v.get();
      if (lang_ == Lang::kYaql && j.is_object())
        if (auto r = TemporalUnary(n.op, j)) {
          BORA_ASSIGN_OR_RETURN(Json t, std::move(*r));
          return Val::Own(std::move(t));
        }
      if (!IsNum(j, lang_))
        return InvalidArgument("bad operand type for unary " +
                               std::string(n.op == Op::kNeg ? "-" : "+") + ": '" + TypeName(j) +
                               "'");
      if (n.op == Op::kPos) return Val::Own(j.is_bool() ? Json(ToInt(j)) : j);
      if (j.is_double()) return Val::Own(Json(-j.as_double()));
      int64_t x = ToInt(j);
      if (x == std::numeric_limits<int64_t>::min()) return Val::Own(Json(-ToDouble(j)));
      return Val::Own(Json(-x));
    }
    case Op::kAnd:
    case Op::kOr: {
      BORA_ASSIGN_OR_RETURN(Val a, Eval(*n.kids[0]));
      BORA_RETURN_IF_ERROR(CheckDefined(a));
      bool t = IsTruthy(a.get());
      if ((n.op == Op::kAnd) != t) return a;
      return Eval(*n.kids[1]);
    }
    case Op::kChain:
      return EvalChain(n);
    case Op::kCall:
    case Op::kMethod:
    case Op::kFilter:
      return EvalCall(n);
    case Op::kTest: {
      BORA_ASSIGN_OR_RETURN(Val recv, Eval(*n.kids[0]));
      BORA_ASSIGN_OR_RETURN(Val r, JinjaTest(n.builtin).fn(*this, n, &recv));
      bool b = IsTruthy(r.get());
      return Val::Own(Json(n.flag ? !b : b));
    }
    case Op::kPair:
      return InvalidArgument("unexpected '=>' outside of a function call");
    case Op::kList: {
      JsonArray arr;
      arr.reserve(n.kids.size());
      size_t size = 16;
      for (const NodePtr& k : n.kids) {
        BORA_ASSIGN_OR_RETURN(Val v, Eval(*k));
        BORA_RETURN_IF_ERROR(CheckDefined(v));
        size += ApproxSize(v.get());
        BORA_RETURN_IF_ERROR(CheckSize(size));
        arr.push_back(std::move(v).Take());
      }
      return Val::Own(Json(std::move(arr)));
    }
    case Op::kDict: {
      JsonObject obj;
      size_t size = 16;
      for (size_t i = 0; i + 1 < n.kids.size(); i += 2) {
        BORA_ASSIGN_OR_RETURN(Val k, Eval(*n.kids[i]));
        BORA_RETURN_IF_ERROR(CheckDefined(k));
        BORA_ASSIGN_OR_RETURN(Val v, Eval(*n.kids[i + 1]));
        BORA_RETURN_IF_ERROR(CheckDefined(v));
        size += ApproxSize(v.get()) + 16;
        BORA_RETURN_IF_ERROR(CheckSize(size));
        std::string key = k->is_string() ? std::string(k->get_string()) : PythonStr(k.get());
        obj[key] = std::move(v).Take();
      }
      return Val::Own(Json(std::move(obj)));
    }
    case Op::kCond: {
      BORA_ASSIGN_OR_RETURN(Val c, Eval(*n.kids[0]));
      BORA_RETURN_IF_ERROR(CheckDefined(c));
      if (IsTruthy(c.get())) return Eval(*n.kids[1]);
      if (n.kids[2]) return Eval(*n.kids[2]);
      return Val::Undefined(
          "the inline if-expression evaluated to false and no else section was defined");
    }
    case Op::kRegexMatch:
    case Op::kRegexNotMatch: {
      // string =~ pattern (a string or a regex() value): Python's re.search, on RE2 (linear time).
      const char* op = n.op == Op::kRegexMatch ? "=~" : "!~";
      BORA_ASSIGN_OR_RETURN(Val text, Eval(*n.kids[0]));
      BORA_RETURN_IF_ERROR(CheckDefined(text));
      BORA_ASSIGN_OR_RETURN(Val pattern, Eval(*n.kids[1]));
      BORA_RETURN_IF_ERROR(CheckDefined(pattern));
      if (!text->is_string()) {
        return InvalidArgument(std::string("operator ") + op +
                               " expects a string on its left, got '" + TypeName(text.get()) + "'");
      }
      RegexSpec spec;
      if (IsRegexValue(pattern.get())) {
        spec = RegexOfValue(pattern.get());
      } else if (pattern->is_string()) {
        spec.pattern = std::string(pattern->get_string());
      } else {
        return InvalidArgument(std::string("operator ") + op +
                               " expects a pattern (a string or regex()) on its right, got '" +
                               TypeName(pattern.get()) + "'");
      }
      BORA_RETURN_IF_ERROR(Step(static_cast<int64_t>(text->get_string().size() / 16)));
      BORA_ASSIGN_OR_RETURN(bool found, RegexSearch(spec, std::string_view(text->get_string())));
      return Val::Own(Json(n.op == Op::kRegexMatch ? found : !found));
    }
    default:
      return EvalBinary(n);
  }
}

ValResult Evaluator::EvalBinary(const Node& n) {
  BORA_ASSIGN_OR_RETURN(Val a, Eval(*n.kids[0]));
  BORA_RETURN_IF_ERROR(CheckDefined(a));
  BORA_ASSIGN_OR_RETURN(Val b, Eval(*n.kids[1]));
  BORA_RETURN_IF_ERROR(CheckDefined(b));
  switch (n.op) {
    case Op::kEq:
    case Op::kNe:
    case Op::kLt:
    case Op::kGt:
    case Op::kLe:
    case Op::kGe: {
      BORA_RETURN_IF_ERROR(Step(WorkOf(a.get())));
      BORA_ASSIGN_OR_RETURN(bool r, Compare(n.op, a.get(), b.get(), lang_));
      return Val::Own(Json(r));
    }
    case Op::kIn:
    case Op::kNotIn: {
      BORA_RETURN_IF_ERROR(Step(WorkOf(b.get())));
      BORA_ASSIGN_OR_RETURN(bool r, Contains(b.get(), a.get()));
      return Val::Own(Json(n.op == Op::kIn ? r : !r));
    }
    case Op::kConcat: {
      std::string s = PythonStr(a.get()) + PythonStr(b.get());
      BORA_RETURN_IF_ERROR(CheckSize(s.size()));
      return Val::Own(Json(boost::json::string(s)));
    }
    default: {
      const Json& x = a.get();
      const Json& y = b.get();
      if (x.is_int64() && y.is_int64()) {  // fast path for the common `$.x + 1`
        int64_t r;
        bool overflow = true;
        if (n.op == Op::kAdd)
          overflow = __builtin_add_overflow(x.get_int64(), y.get_int64(), &r);
        else if (n.op == Op::kSub)
          overflow = __builtin_sub_overflow(x.get_int64(), y.get_int64(), &r);
        if (!overflow) return Val::Own(Json(r));
      }
      BORA_ASSIGN_OR_RETURN(Json r, Arith(n.op, a.get(), b.get(), lang_, *this));
      return Val::Own(std::move(r));
    }
  }
}

ValResult Evaluator::EvalMember(const Node& n) {
  if (root_ == nullptr && n.kids[0]->op == Op::kRoot) {
    // `$.key` over a layered scope: one lookup per layer instead of merging the whole context.
    BORA_RETURN_IF_ERROR(Step());
    if (const Json* v = ctx_.scope->Find(n.name)) return Val::Ref(*v);
  }
  BORA_ASSIGN_OR_RETURN(Val recv, Eval(*n.kids[0]));
  if (recv.undefined()) return recv;
  const Json& r = recv.get();
  if (lang_ == Lang::kJinja && r.is_object() && r.get_object().size() == 1 &&
      IsJinjaObject(r)) {  // namespace attributes, cycler.current
    if (auto m = JinjaObjectMember(recv, n.name)) return std::move(*m);
  }
  if (r.is_object()) {
    const JsonObject& obj = r.get_object();
    auto it = obj.find(n.name);
    if (it != obj.end()) {
      if (recv.owned()) return Val::Own(it->value());
      return Val::Ref(it->value());
    }
    if (lang_ == Lang::kJinja)
      return Val::Undefined("'dict object' has no attribute '" + n.name + "'");
    if (auto p = TemporalProperty(r, n.name)) {  // dt.year, ts.hours
      BORA_ASSIGN_OR_RETURN(Json t, std::move(*p));
      return Val::Own(std::move(t));
    }
    return InvalidArgument("key '" + n.name + "' not found");
  }
  if (r.is_null() && n.flag) return Val::Own(Json());
  if (lang_ == Lang::kJinja && r.is_array() && r.get_array().size() == 2 &&
      (n.name == "grouper" || n.name == "list")) {  // a groupby() group: (grouper, list)
    const Json& part = r.get_array()[n.name == "grouper" ? 0 : 1];
    return recv.owned() ? Val::Own(part) : Val::Ref(part);
  }
  if (lang_ == Lang::kYaql && r.is_array()) {
    // Collection attribution: [{a: 1}, {a: 2}].a == [1, 2].
    JsonArray out;
    for (const Json& e : r.get_array()) {
      BORA_RETURN_IF_ERROR(Step());
      if (e.is_null() && n.flag) {
        out.push_back(nullptr);
        continue;
      }
      if (!e.is_object())
        return InvalidArgument("cannot get attribute '" + n.name + "' of '" + TypeName(e) + "'");
      auto it = e.get_object().find(n.name);
      if (it == e.get_object().end()) return InvalidArgument("key '" + n.name + "' not found");
      out.push_back(it->value());
    }
    return Val::Own(Json(std::move(out)));
  }
  if (lang_ == Lang::kJinja)
    return Val::Undefined(JinjaTypeRepr(r) + " has no attribute '" + n.name + "'");
  return InvalidArgument("cannot get attribute '" + n.name + "' of '" + TypeName(r) + "' value " +
                         PythonRepr(r));
}

ValResult Evaluator::EvalIndex(const Node& n) {
  BORA_ASSIGN_OR_RETURN(Val recv, Eval(*n.kids[0]));
  if (recv.undefined()) return recv;
  BORA_ASSIGN_OR_RETURN(Val idx, Eval(*n.kids[1]));
  BORA_RETURN_IF_ERROR(CheckDefined(idx));
  const Json& r = recv.get();
  const Json& i = idx.get();
  if ((r.is_array() || r.is_string()) && IsInt(i)) {
    int64_t size = r.is_array() ? static_cast<int64_t>(r.get_array().size())
                                : static_cast<int64_t>(r.get_string().size());
    int64_t k = ToInt(i);
    if (k < 0) k += size;
    if (k < 0 || k >= size) {
      if (lang_ == Lang::kJinja)
        return Val::Undefined(JinjaTypeRepr(r) + " has no element " + PythonStr(i));
      return InvalidArgument(std::string(r.is_array() ? "list" : "string") +
                             " index out of range: " + PythonStr(i));
    }
    if (r.is_string()) {
      return Val::Own(Json(boost::json::string(std::string(1, r.get_string()[k]))));
    }
    const Json& e = r.get_array()[k];
    if (recv.owned()) return Val::Own(e);
    return Val::Ref(e);
  }
  if (r.is_object() && i.is_string()) {
    auto it = r.get_object().find(i.get_string());
    if (it != r.get_object().end()) {
      if (recv.owned()) return Val::Own(it->value());
      return Val::Ref(it->value());
    }
    if (n.kids.size() > 2) return Eval(*n.kids[2]);  // $.dict[key, default]
    if (lang_ == Lang::kJinja)
      return Val::Undefined("'dict object' has no attribute '" + std::string(i.get_string()) + "'");
    return InvalidArgument("key '" + std::string(i.get_string()) + "' not found");
  }
  if (lang_ == Lang::kJinja)
    return Val::Undefined(JinjaTypeRepr(r) + " has no element " + PythonRepr(i));
  return InvalidArgument("cannot index '" + TypeName(r) + "' with '" + TypeName(i) + "'");
}

ValResult Evaluator::EvalSlice(const Node& n) {
  BORA_ASSIGN_OR_RETURN(Val recv, Eval(*n.kids[0]));
  BORA_RETURN_IF_ERROR(CheckDefined(recv));
  const Json& r = recv.get();
  if (!r.is_array() && !r.is_string())
    return InvalidArgument("'" + TypeName(r) + "' object is not subscriptable");
  int64_t size = r.is_array() ? static_cast<int64_t>(r.get_array().size())
                              : static_cast<int64_t>(r.get_string().size());
  int64_t parts[3] = {0, size, 1};
  bool given[3] = {false, false, false};
  for (int p = 0; p < 3; ++p) {
    const NodePtr& k = n.kids[p + 1];
    if (!k) continue;
    BORA_ASSIGN_OR_RETURN(Val v, Eval(*k));
    BORA_RETURN_IF_ERROR(CheckDefined(v));
    if (v->is_null()) continue;
    if (!IsInt(v.get())) return InvalidArgument("slice indices must be integers or None");
    parts[p] = ToInt(v.get());
    given[p] = true;
  }
  int64_t step = parts[2];
  if (step == 0) return InvalidArgument("slice step cannot be zero");
  auto clamp = [&](int64_t x, bool is_given, int64_t dflt) {
    if (!is_given) return dflt;
    if (x < 0) x += size;
    if (step > 0) return std::clamp<int64_t>(x, 0, size);
    return std::clamp<int64_t>(x, -1, size - 1);
  };
  int64_t start = clamp(parts[0], given[0], step > 0 ? 0 : size - 1);
  int64_t stop = clamp(parts[1], given[1], step > 0 ? size : -1);
  JsonArray out;
  std::string s;
  for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
    BORA_RETURN_IF_ERROR(Step());
    if (r.is_array())
      out.push_back(r.get_array()[k]);
    else
      s += r.get_string()[k];
  }
  if (r.is_string()) return Val::Own(Json(boost::json::string(s)));
  return Val::Own(Json(std::move(out)));
}

ValResult Evaluator::EvalChain(const Node& n) {
  const Node& left = *n.kids[0];
  // `let(x => 1) -> expr` (or `$.let(...) -> expr`): binds variables for the right side.
  if ((left.op == Op::kCall || left.op == Op::kMethod) &&
      (left.name == "let" || left.name == "with")) {
    const Json* new_root = root_;
    Val recv;
    if (left.op == Op::kMethod) {
      BORA_ASSIGN_OR_RETURN(recv, Eval(*left.kids[0]));
      new_root = &recv.get();
    }
    size_t mark = VarMark();
    int positional = 0;
    bool any_owned = recv.owned() && left.op == Op::kMethod;
    for (size_t i = FirstArg(left); i < left.kids.size(); ++i) {
      const Node& arg = *left.kids[i];
      std::string name;
      const Node* value_node = &arg;
      if (arg.op == Op::kPair) {
        if (arg.name.empty()) return InvalidArgument("let() needs name => value arguments");
        name = arg.name;
        value_node = arg.kids[1].get();
      } else {
        name = std::to_string(++positional);
      }
      BORA_ASSIGN_OR_RETURN(Val v, Eval(*value_node));
      any_owned |= v.owned();
      PushVar(std::move(name), std::move(v));
    }
    ValResult r = [&]() -> ValResult {
      RootScope scope(*this, new_root);
      return Eval(*n.kids[1]);
    }();
    if (r.ok() && any_owned) r->Materialize();
    PopVars(mark);
    return r;
  }
  BORA_ASSIGN_OR_RETURN(Val l, Eval(left));
  ValResult r = [&]() -> ValResult {
    RootScope scope(*this, &l.get());
    return Eval(*n.kids[1]);
  }();
  if (r.ok() && l.owned()) r->Materialize();
  return r;
}

ValResult Evaluator::EvalCall(const Node& n) {
  Val recv;
  Val* recv_ptr = nullptr;
  if (n.op == Op::kMethod || n.op == Op::kFilter) {
    BORA_ASSIGN_OR_RETURN(recv, Eval(*n.kids[0]));
    recv_ptr = &recv;
    if (n.op == Op::kMethod && n.flag && recv->is_null()) return Val::Own(Json());
    // dt.format(...), dt.replace(...): date_time.py's methods take precedence for datetimes.
    if (lang_ == Lang::kYaql && n.op == Op::kMethod && recv->is_object() &&
        IsDateTimeValue(recv.get()))
      if (BuiltinFn fn = TemporalMethod(n.name)) {
        ValResult r = fn(*this, n, recv_ptr);
        if (r.ok()) r->Materialize();
        return r;
      }
  }
  if (lang_ == Lang::kJinja && n.op == Op::kMethod && !recv.undefined() &&
      IsJinjaObject(recv.get())) {  // cycler.next(), cycler.reset()
    if (auto r = JinjaObjectMethod(*this, n, recv_ptr)) return std::move(*r);
  }
  if (lang_ == Lang::kJinja && n.op == Op::kCall && n.builtin < 0) {  // a joiner variable: j()
    if (auto r = JinjaCallVariable(*this, n)) return std::move(*r);
  }
  if (n.builtin >= 0) {
    if (recv_ptr && recv.undefined() &&
        !(n.op == Op::kFilter && (n.name == "default" || n.name == "d" || n.name == "items")))
      return InvalidArgument(recv.undefined_message());
    const Builtin& b = n.op == Op::kFilter    ? JinjaFilter(n.builtin)
                       : lang_ == Lang::kYaql ? YaqlBuiltin(n.builtin)
                       : n.op == Op::kCall    ? JinjaGlobal(n.builtin)
                                              : JinjaMethod(n.builtin);
    bool recv_owned = recv_ptr && recv.owned();
    ValResult r = b.fn(*this, n, recv_ptr);
    // A result borrowed from a temporary receiver must not outlive it.
    if (recv_owned && r.ok()) r->Materialize();
    return r;
  }
  if (recv_ptr) BORA_RETURN_IF_ERROR(CheckDefined(recv));
  return CallHost(n, recv_ptr);
}

ValResult Evaluator::CallHost(const Node& call, Val* recv) {
  if (ctx_.host == nullptr && !IsHostFunction(call.name)) {
    return InvalidArgument("no function named '" + call.name + "'");
  }
  std::vector<Json> args;
  KwArgs kwargs;
  // Method syntax passes the receiver first. Mistral's functions take the context first, so as a
  // Jinja filter (`_ | task('t1')`) the piped value is the context and is not passed on.
  if (recv && call.op != Op::kFilter) args.push_back(std::move(*recv).Take());
  for (size_t i = FirstArg(call); i < call.kids.size(); ++i) {
    const Node& arg = *call.kids[i];
    if (arg.op == Op::kPair) {
      if (arg.name.empty()) return InvalidArgument("keyword argument name must be a name");
      BORA_ASSIGN_OR_RETURN(Json v, EvalJson(*arg.kids[1]));
      kwargs.emplace_back(arg.name, std::move(v));
    } else {
      BORA_ASSIGN_OR_RETURN(Json v, EvalJson(arg));
      args.push_back(std::move(v));
    }
  }
  if (ctx_.host == nullptr)
    return InvalidArgument("no function named '" + call.name + "' (no host functions available)");
  Result<Json> r = ctx_.host->Call(call.name, args, kwargs);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound && !IsHostFunction(call.name))
      return InvalidArgument("no function named '" + call.name + "'");
    return r.status();
  }
  BORA_RETURN_IF_ERROR(Step());
  return Val::Own(std::move(r).value());
}

Status Evaluator::RenderJinja(const std::vector<JinjaStmt>& stmts, std::string& out) {
  return RenderBody(stmts, out);
}

Status Evaluator::RenderBody(const std::vector<JinjaStmt>& stmts, std::string& out) {
  if (++depth_ > ctx_.limits.max_depth) {
    --depth_;
    return ResourceExhausted("expression budget exceeded: nesting deeper than " +
                             std::to_string(ctx_.limits.max_depth) + " (max_depth)");
  }
  struct Guard {
    int& d;
    ~Guard() { --d; }
  } guard{depth_};
  for (const JinjaStmt& s : stmts) {
    BORA_RETURN_IF_ERROR(Step());
    switch (s.kind) {
      case JinjaStmt::kText:
        out += s.text;
        break;
      case JinjaStmt::kOutput: {
        BORA_ASSIGN_OR_RETURN(Val v, Eval(*s.expr));
        BORA_RETURN_IF_ERROR(CheckDefined(v));
        out += PythonStr(v.get());
        break;
      }
      case JinjaStmt::kIf: {
        bool done = false;
        for (const auto& [cond, body] : s.branches) {
          BORA_ASSIGN_OR_RETURN(Val c, Eval(*cond));
          // An undefined condition is false in Jinja only for `if x is defined`; with
          // StrictUndefined testing an undefined value's truth is an error.
          BORA_RETURN_IF_ERROR(CheckDefined(c));
          if (IsTruthy(c.get())) {
            BORA_RETURN_IF_ERROR(RenderBody(body, out));
            done = true;
            break;
          }
        }
        if (!done) BORA_RETURN_IF_ERROR(RenderBody(s.else_body, out));
        break;
      }
      case JinjaStmt::kFor: {
        BORA_ASSIGN_OR_RETURN(Val seq, Eval(*s.expr));
        BORA_RETURN_IF_ERROR(CheckDefined(seq));
        JsonArray items;
        const Json& sj = seq.get();
        if (sj.is_array()) {
          items = sj.get_array();
        } else if (sj.is_object()) {
          for (const auto& kv : sj.get_object()) items.push_back(boost::json::string(kv.key()));
        } else if (sj.is_string()) {
          for (char c : sj.get_string()) items.push_back(boost::json::string(std::string(1, c)));
        } else {
          return InvalidArgument("'" + TypeName(sj) + "' object is not iterable");
        }
        size_t mark = VarMark();
        auto bind = [&](const Json& item) -> Status {
          if (s.names.size() == 1) {
            PushVar(s.names[0], Val::Ref(item));
            return Status::Ok();
          }
          if (!item.is_array() || item.get_array().size() != s.names.size()) {
            return InvalidArgument("cannot unpack " + PythonRepr(item) + " into " +
                                   std::to_string(s.names.size()) + " loop variables");
          }
          for (size_t k = 0; k < s.names.size(); ++k)
            PushVar(s.names[k], Val::Ref(item.get_array()[k]));
          return Status::Ok();
        };
        if (const NodePtr& loop_filter = s.branches[0].first) {  // {% for x in xs if cond %}
          JsonArray kept;
          for (const Json& item : items) {
            BORA_RETURN_IF_ERROR(Step());
            Status st = bind(item);
            ValResult c = st.ok() ? Eval(*loop_filter) : ValResult(st);
            PopVars(mark);
            if (!c.ok()) return c.status();
            BORA_RETURN_IF_ERROR(CheckDefined(*c));
            if (IsTruthy(c->get())) kept.push_back(item);
          }
          items = std::move(kept);
        }
        if (items.empty()) {
          BORA_RETURN_IF_ERROR(RenderBody(s.else_body, out));
          break;
        }
        for (size_t i = 0; i < items.size(); ++i) {
          BORA_RETURN_IF_ERROR(Step());
          PopVars(mark);
          JsonObject loop;
          loop["index"] = static_cast<int64_t>(i + 1);
          loop["index0"] = static_cast<int64_t>(i);
          loop["revindex"] = static_cast<int64_t>(items.size() - i);
          loop["revindex0"] = static_cast<int64_t>(items.size() - i - 1);
          loop["first"] = i == 0;
          loop["last"] = i + 1 == items.size();
          loop["length"] = static_cast<int64_t>(items.size());
          PushVar("loop", Val::Own(Json(std::move(loop))));
          if (Status st = bind(items[i]); !st.ok()) {
            PopVars(mark);
            return st;
          }
          Status st = RenderBody(s.branches[0].second, out);
          if (!st.ok()) {
            PopVars(mark);
            return st;
          }
          BORA_RETURN_IF_ERROR(CheckSize(out.size()));
        }
        PopVars(mark);
        break;
      }
      case JinjaStmt::kSet: {
        BORA_ASSIGN_OR_RETURN(Val v, Eval(*s.expr));
        v.Materialize();
        PushVar(s.names[0], std::move(v));
        break;
      }
      case JinjaStmt::kSetAttr: {
        BORA_ASSIGN_OR_RETURN(Val v, Eval(*s.expr));
        BORA_RETURN_IF_ERROR(CheckDefined(v));
        BORA_RETURN_IF_ERROR(JinjaSetAttribute(*this, s.names[0], s.names[1], std::move(v).Take()));
        break;
      }
    }
    BORA_RETURN_IF_ERROR(CheckSize(out.size()));
  }
  return Status::Ok();
}

}  // namespace bora::expr::internal
