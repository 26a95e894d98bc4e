// Helpers shared by the builtins_*.cc files (builtin_util.h).
#include "orchestrator/expressions/builtin_util.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

namespace bora::expr::internal {

// soft_str(): strings as they are, anything else Python's str().
std::string SoftStr(const Json& v) { return v.is_string() ? std::string(SV(v)) : PythonStr(v); }

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Jinja's ignore_case postprocess: strings lower-cased.
Json IgnoreCase(const Json& v) { return v.is_string() ? Str(Lower(std::string(SV(v)))) : v; }
namespace {

// environment.getitem(item, part) for one part of an attribute path: dict keys, list indexes for
// digit parts, and `grouper` / `list` of a groupby() group (a [grouper, list] pair here).
const Json* GetItem(const Json& v, std::string_view part) {
  if (v.is_object()) {
    auto it = v.get_object().find(part);
    return it == v.get_object().end() ? nullptr : &it->value();
  }
  if (v.is_array()) {
    const JsonArray& a = v.get_array();
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      size_t i = std::strtoul(std::string(part).c_str(), nullptr, 10);
      return i < a.size() ? &a[i] : nullptr;
    }
    if (a.size() == 2 && part == "grouper") return &a[0];
    if (a.size() == 2 && part == "list") return &a[1];
  }
  return nullptr;
}

}  // namespace

// make_attrgetter(): a dotted path ("a.b", "0"); null when a part is missing (Undefined).
const Json* GetPath(const Json& v, std::string_view path) {
  const Json* cur = &v;
  while (cur) {
    size_t dot = path.find('.');
    cur = GetItem(*cur, path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path = path.substr(dot + 1);
  }
  return cur;
}

Status NoAttribute(const Json& v, std::string_view path) {
  std::string part(path.substr(0, path.find('.')));
  return InvalidArgument("'" + TypeName(v) + " object' has no attribute '" + part + "'");
}

// The optional attribute parameter as a path string (ints as their digits).
Result<std::optional<std::string>> AttributeParam(Call& c, size_t i) {
  BORA_ASSIGN_OR_RETURN(std::optional<Val> a, c.Opt(i, "attribute"));
  if (!a || (*a)->is_null()) return std::optional<std::string>();
  if ((*a)->is_string()) return std::optional<std::string>(std::string(SV(a->get())));
  if (IsIntJ(a->get())) return std::optional<std::string>(std::to_string(NumI(a->get())));
  return c.TypeErr(a->get(), "an attribute name");
}

Result<bool> BoolParam(Call& c, size_t i, std::string_view name, bool dflt) {
  BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(i, name));
  return v ? IsTruthy(v->get()) : dflt;
}

Status SortPairs(Evaluator& ev, std::vector<std::pair<Json, Json>>& items, bool reverse) {
  Status err;
  int64_t comparisons = 0;
  std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
    if (!err.ok()) return false;
    ++comparisons;
    auto o = Order(a.first, b.first);
    if (!o.ok()) {
      err = o.status();
      return false;
    }
    return reverse ? *o > 0 : *o < 0;
  });
  BORA_RETURN_IF_ERROR(err);
  return ev.Step(comparisons);
}

// Python's repr with dict keys sorted (pprint's sort_dicts=True).
ValResult SortedValues(Evaluator& ev, std::vector<std::pair<Json, Json>>& items, bool reverse) {
  BORA_RETURN_IF_ERROR(SortPairs(ev, items, reverse));
  ListBuilder out(ev);
  for (auto& kv : items) BORA_RETURN_IF_ERROR(out.Push(std::move(kv.second)));
  return out.Done();
}

Json SortedKeys(const Json& v, int depth) {
  if (depth > 256) return v;
  if (v.is_array()) {
    JsonArray out;
    for (const Json& e : v.get_array()) out.push_back(SortedKeys(e, depth + 1));
    return Json(std::move(out));
  }
  if (!v.is_object()) return v;
  std::vector<std::string_view> keys;
  for (const auto& kv : v.get_object()) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  JsonObject out;
  for (std::string_view k : keys) out[k] = SortedKeys(v.get_object().at(k), depth + 1);
  return Json(std::move(out));
}

// Evaluates a two-argument lambda: `$1` = a, `$2` = b, `$` = a.
Result<Json> Lambda2(Call& c, const Node* body, const Json& a, const Json& b) {
  Evaluator& ev = c.ev();
  size_t mark = ev.VarMark();
  ev.PushVar("1", Val::Ref(a));
  ev.PushVar("2", Val::Ref(b));
  ValResult r = ev.EvalWith(*body, a);
  Result<Json> out = r.ok() ? [&]() -> Result<Json> {
    BORA_RETURN_IF_ERROR(ev.CheckDefined(*r));
    return r->get();  // copy: the result may borrow a or b
  }()
      : Result<Json>(r.status());
  ev.PopVars(mark);
  return out;
}

}  // namespace bora::expr::internal
