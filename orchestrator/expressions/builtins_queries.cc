// YAQL queries: the functions that take lambdas (select, where, any/all, count, skip/take,
// takeWhile/skipWhile, indexWhere, distinct, orderBy, toDict, groupBy) and branching (switch, let,
// coalesce).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/builtins.h"

namespace bora::expr::internal {

// distinct / unique: keeps the first occurrence (optionally by a key lambda in YAQL).
ValResult FnDistinct(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, !IsYaql(c)));
  const Node* key_fn = IsYaql(c) ? c.param_node(1, "keySelector") : nullptr;
  std::optional<Val> attribute;
  if (!IsYaql(c)) {
    BORA_ASSIGN_OR_RETURN(attribute, c.Opt(2, "attribute"));
  }
  ListBuilder out(ev);
  std::vector<Json> seen;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(seen.size() / 8 + 1)));
    Json key;
    if (key_fn) {
      BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
      key = std::move(k).Take();
    } else if (attribute && (*attribute)->is_string() && e.is_object()) {
      auto it = e.get_object().find((*attribute)->get_string());
      key = it == e.get_object().end() ? Json() : it->value();
    } else {
      key = e;
    }
    bool dup = false;
    for (const Json& s : seen)
      if (JsonEquals(s, key)) {
        dup = true;
        break;
      }
    if (dup) continue;
    seen.push_back(std::move(key));
    BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}
namespace {

ValResult OrderByImpl(Evaluator& ev, const Node& node, Val* recv, bool descending) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* key_fn = c.param_node(1, "selector");
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    Json key = e;
    if (key_fn) {
      BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
      key = std::move(k).Take();
    }
    items.emplace_back(std::move(key), e);
  }
  return SortedValues(ev, items, descending);
}

}  // namespace

ValResult FnOrderBy(Evaluator& ev, const Node& n, Val* r) { return OrderByImpl(ev, n, r, false); }
ValResult FnOrderByDesc(Evaluator& ev, const Node& n, Val* r) {
  return OrderByImpl(ev, n, r, true);
}

namespace {
// The shape of select / selectMany / where: `list.f(lambda)`, `add` called with each item and the
// lambda's value on it, building a new list.
template <typename Add>
ValResult EachWithLambda(Evaluator& ev, const Node& node, Val* recv, Add add) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
    BORA_RETURN_IF_ERROR(add(out, e, std::move(v)));
  }
  return out.Done();
}
}  // namespace

// YAQL queries with lambdas.
ValResult FnSelect(Evaluator& ev, const Node& node, Val* recv) {
  return EachWithLambda(ev, node, recv, [](ListBuilder& out, const Json&, Val v) {
    return out.Push(std::move(v).Take());
  });
}

ValResult FnSelectMany(Evaluator& ev, const Node& node, Val* recv) {
  return EachWithLambda(ev, node, recv, [](ListBuilder& out, const Json&, Val v) -> Status {
    if (!v->is_array()) return out.Push(std::move(v).Take());
    for (const Json& x : v->get_array()) BORA_RETURN_IF_ERROR(out.Push(x));
    return Status::Ok();
  });
}

ValResult FnWhere(Evaluator& ev, const Node& node, Val* recv) {
  return EachWithLambda(ev, node, recv, [](ListBuilder& out, const Json& e, Val v) {
    return IsTruthy(v.get()) ? out.Push(e) : Status::Ok();
  });
}

namespace {

ValResult AnyAll(Evaluator& ev, const Node& node, Val* recv, bool any) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  const Node* fn = c.node(1);
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    bool t;
    if (fn) {
      BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
      t = IsTruthy(v.get());
    } else {
      t = IsTruthy(e);
    }
    if (any && t) return Val::Own(Json(true));
    if (!any && !t) return Val::Own(Json(false));
  }
  return Val::Own(Json(!any));
}

}  // namespace

ValResult FnAny(Evaluator& ev, const Node& n, Val* r) { return AnyAll(ev, n, r, true); }
ValResult FnAll(Evaluator& ev, const Node& n, Val* r) { return AnyAll(ev, n, r, false); }

ValResult FnCount(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_array()) {
    if (v->is_string()) return Val::Own(Json(static_cast<int64_t>(Utf8Len(SV(v.get())))));
    if (v->is_object()) return Val::Own(Json(static_cast<int64_t>(v->get_object().size())));
    return c.TypeErr(v.get(), "a collection");
  }
  const Node* fn = c.node(1);
  if (!fn) return Val::Own(Json(static_cast<int64_t>(v->get_array().size())));
  int64_t n = 0;
  for (const Json& e : v->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(fn, e));
    if (IsTruthy(t.get())) ++n;
  }
  return Val::Own(Json(n));
}
namespace {

ValResult SkipTake(Evaluator& ev, const Node& node, Val* recv, bool skip) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(int64_t n, IntArg(c, 1));
  const JsonArray& arr = list->get_array();
  size_t k = static_cast<size_t>(std::clamp<int64_t>(n, 0, static_cast<int64_t>(arr.size())));
  JsonArray out;
  if (skip)
    out = JsonArray(arr.begin() + k, arr.end());
  else
    out = JsonArray(arr.begin(), arr.begin() + k);
  return Val::Own(Json(std::move(out)));
}

}  // namespace

ValResult FnSkip(Evaluator& ev, const Node& n, Val* r) { return SkipTake(ev, n, r, true); }
ValResult FnTake(Evaluator& ev, const Node& n, Val* r) { return SkipTake(ev, n, r, false); }
namespace {

ValResult WhileImpl(Evaluator& ev, const Node& node, Val* recv, bool take) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  ListBuilder out(ev);
  bool passing = true;
  for (const Json& e : list->get_array()) {
    if (passing) {
      BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(fn, e));
      passing = IsTruthy(t.get());
    }
    if (passing == take) BORA_RETURN_IF_ERROR(out.Push(e));
    if (take && !passing) break;
  }
  return out.Done();
}

}  // namespace

ValResult FnTakeWhile(Evaluator& ev, const Node& n, Val* r) { return WhileImpl(ev, n, r, true); }
ValResult FnSkipWhile(Evaluator& ev, const Node& n, Val* r) { return WhileImpl(ev, n, r, false); }

ValResult FnIndexWhere(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  int64_t i = 0;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(fn, e));
    if (IsTruthy(t.get())) return Val::Own(Json(i));
    ++i;
  }
  return Val::Own(Json(int64_t{-1}));
}

ValResult FnSwitch(Evaluator& ev, const Node& node, Val* recv) {
  for (size_t i = Evaluator::FirstArg(node); i < node.kids.size(); ++i) {
    const Node& arg = *node.kids[i];
    if (arg.op != Op::kPair)
      return InvalidArgument("switch() needs 'condition => value' arguments");
    BORA_ASSIGN_OR_RETURN(Val cond, ev.Eval(*arg.kids[0]));
    BORA_RETURN_IF_ERROR(ev.CheckDefined(cond));
    if (IsTruthy(cond.get())) return ev.Eval(*arg.kids[1]);
  }
  return Val::Own(Json());
}

ValResult FnLet(Evaluator& ev, const Node& node, Val* recv) {
  // `let(...)` without `->`: the variables would go out of scope immediately; returns `$`.
  if (recv) return std::move(*recv);
  return Val::Ref(*ev.root());
}

ValResult FnCoalesce(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (!v->is_null()) return v;
  }
  return Val::Own(Json());
}

ValResult FnToDict(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* key_fn = c.node(1);
  const Node* value_fn = c.node(2);
  JsonObject out;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
    Json v = e;
    if (value_fn) {
      BORA_ASSIGN_OR_RETURN(Val vv, c.Lambda(value_fn, e));
      v = std::move(vv).Take();
    }
    out[k->is_string() ? std::string(k->get_string()) : PythonStr(k.get())] = std::move(v);
  }
  return Val::Own(Json(std::move(out)));
}

ValResult FnGroupBy(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 4));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* key_fn = c.node(1);
  const Node* value_fn = c.node(2);
  const Node* agg_fn = c.node(3);
  std::vector<std::pair<Json, JsonArray>> groups;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
    Json v = e;
    if (value_fn) {
      BORA_ASSIGN_OR_RETURN(Val vv, c.Lambda(value_fn, e));
      v = std::move(vv).Take();
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return JsonEquals(g.first, k.get()); });
    if (it == groups.end()) {
      groups.emplace_back(std::move(k).Take(), JsonArray{});
      it = groups.end() - 1;
    }
    it->second.push_back(std::move(v));
  }
  JsonArray out;
  for (auto& [k, vals] : groups) {
    Json items(std::move(vals));
    if (agg_fn) {
      BORA_ASSIGN_OR_RETURN(Val a, c.Lambda(agg_fn, items));
      items = std::move(a).Take();
    }
    out.push_back(Json(JsonArray{k, std::move(items)}));
  }
  return Val::Own(Json(std::move(out)));
}

}  // namespace bora::expr::internal
