#pragma once
// What every built-in function uses: argument access (`Call`: the receiver is positional 0),
// list building under the output limit, and number/string helpers. Included by the builtins_*.cc
// files only.
#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "orchestrator/expressions/internal.h"

namespace bora::expr::internal {

inline bool IsIntJ(const Json& v) { return v.is_int64() || v.is_uint64(); }
inline bool IsNumJ(const Json& v) { return v.is_int64() || v.is_uint64() || v.is_double(); }
inline double NumD(const Json& v) {
  if (v.is_int64()) return static_cast<double>(v.as_int64());
  if (v.is_uint64()) return static_cast<double>(v.as_uint64());
  if (v.is_double()) return v.as_double();
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  return 0;
}
inline int64_t NumI(const Json& v) {
  if (v.is_int64()) return v.as_int64();
  if (v.is_uint64()) return static_cast<int64_t>(std::min<uint64_t>(v.as_uint64(), INT64_MAX));
  if (v.is_bool()) return v.as_bool() ? 1 : 0;
  if (v.is_double()) {
    double d = v.as_double();
    if (!(d > -9.2e18 && d < 9.2e18)) return d > 0 ? INT64_MAX : INT64_MIN;
    return static_cast<int64_t>(d);
  }
  return 0;
}
inline Json Str(std::string_view s) { return Json(boost::json::string(s)); }
inline std::string_view SV(const Json& v) { return std::string_view(v.get_string()); }

// Number of Unicode code points in UTF-8 text (Python's len()).
inline size_t Utf8Len(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// A value derived from `parent`: borrowed when the parent is borrowed, copied otherwise.
inline Val Child(const Val& parent, const Json& child) {
  if (parent.owned()) return Val::Own(child);
  return Val::Ref(child);
}

// Unified access to the arguments of a call: the receiver (method / filter syntax) is positional 0.
class Call {
 public:
  Call(Evaluator& ev, const Node& node, Val* recv) : ev_(ev), node_(node), recv_(recv) {
    for (size_t i = Evaluator::FirstArg(node); i < node.kids.size(); ++i) {
      const Node* k = node.kids[i].get();
      if (k->op == Op::kPair && !k->name.empty())
        kw_.push_back(k);
      else
        pos_.push_back(k);
    }
  }
  Evaluator& ev() { return ev_; }
  const std::string& name() const { return node_.name; }
  size_t size() const { return pos_.size() + (recv_ ? 1 : 0); }
  bool has_kw() const { return !kw_.empty(); }
  const boost::container::small_vector<const Node*, 4>& kw_nodes() const { return kw_; }

  // The AST of positional argument i (null for the receiver).
  const Node* node(size_t i) const {
    if (recv_) {
      if (i == 0) return nullptr;
      --i;
    }
    return i < pos_.size() ? pos_[i] : nullptr;
  }
  const Node* kw_node(std::string_view name) const {
    for (const Node* k : kw_)
      if (k->name == name) return k->kids[1].get();
    return nullptr;
  }
  // The AST of parameter (position i or keyword `name`).
  const Node* param_node(size_t i, std::string_view name) const {
    if (i < size()) return node(i);
    return kw_node(name);
  }
  bool has(size_t i, std::string_view name = {}) const {
    return i < size() || (!name.empty() && kw_node(name) != nullptr);
  }

  // Evaluates positional argument i (the receiver is moved out; call once).
  ValResult Arg(size_t i) {
    if (recv_ && i == 0) {
      if (recv_->undefined()) return InvalidArgument(recv_->undefined_message());
      return std::move(*recv_);
    }
    const Node* n = node(i);
    if (!n) return InvalidArgument(Signature() + " missing argument " + std::to_string(i + 1));
    if (n->op == Op::kPair) return InvalidArgument(Signature() + ": unexpected '=>' argument");
    BORA_ASSIGN_OR_RETURN(Val v, ev_.Eval(*n));
    BORA_RETURN_IF_ERROR(ev_.CheckDefined(v));
    return v;
  }
  // Evaluates parameter i / `name` if given.
  Result<std::optional<Val>> Opt(size_t i, std::string_view name) {
    if (i < size()) {
      BORA_ASSIGN_OR_RETURN(Val v, Arg(i));
      return std::optional<Val>(std::move(v));
    }
    const Node* n = kw_node(name);
    if (!n) return std::optional<Val>();
    BORA_ASSIGN_OR_RETURN(Val v, ev_.Eval(*n));
    BORA_RETURN_IF_ERROR(ev_.CheckDefined(v));
    return std::optional<Val>(std::move(v));
  }
  Status Arity(size_t min, size_t max) const {
    if (size() < min || size() > max) {
      std::string want =
          min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
      return InvalidArgument(Signature() + " takes " + want + " argument(s) but " +
                             std::to_string(size()) + " were given");
    }
    return Status::Ok();
  }
  Status NoKw() const {
    if (!kw_.empty())
      return InvalidArgument(Signature() + " got an unexpected keyword argument '" + kw_[0]->name +
                             "'");
    return Status::Ok();
  }
  std::string Signature() const { return "function '" + node_.name + "'"; }
  Status TypeErr(const Json& v, std::string_view want) const {
    return InvalidArgument(Signature() + " expects " + std::string(want) + ", got '" + TypeName(v) +
                           "'");
  }

  // Evaluates a lambda body with `$` bound to `item`; the result is defined.
  ValResult Lambda(const Node* body, const Json& item) {
    BORA_ASSIGN_OR_RETURN(Val v, ev_.EvalWith(*body, item));
    BORA_RETURN_IF_ERROR(ev_.CheckDefined(v));
    return v;
  }

 private:
  Evaluator& ev_;
  const Node& node_;
  Val* recv_;
  // Inline storage: building a Call does not allocate for up to 6 positional / 4 keyword arguments.
  boost::container::small_vector<const Node*, 6> pos_;
  boost::container::small_vector<const Node*, 4> kw_;
};

// Accumulates a new list and charges its approximate size against the output limit.
class ListBuilder {
 public:
  explicit ListBuilder(Evaluator& ev) : ev_(ev) {}
  Status Push(Json v) {
    size_ += ApproxSize(v);
    BORA_RETURN_IF_ERROR(ev_.CheckSize(size_));
    BORA_RETURN_IF_ERROR(ev_.Step());
    arr_.push_back(std::move(v));
    return Status::Ok();
  }
  Val Done() { return Val::Own(Json(std::move(arr_))); }
  JsonArray& arr() { return arr_; }

 private:
  Evaluator& ev_;
  JsonArray arr_;
  size_t size_ = 16;
};

// A list view of a value for iteration: lists as is; with `loose`, dicts yield keys and strings
// characters (Python iteration); null is an empty list when `null_ok`.
inline Result<Val> AsList(Call& c, Val v, bool loose) {
  const Json& j = v.get();
  if (j.is_array()) return v;
  if (loose && j.is_object()) {
    JsonArray keys;
    for (const auto& kv : j.get_object()) keys.push_back(Str(kv.key()));
    return Val::Own(Json(std::move(keys)));
  }
  if (loose && j.is_string()) {
    JsonArray chars;
    std::string_view s = SV(j);
    for (size_t i = 0; i < s.size();) {
      size_t len = 1;
      unsigned char ch = static_cast<unsigned char>(s[i]);
      if (ch >= 0xF0)
        len = 4;
      else if (ch >= 0xE0)
        len = 3;
      else if (ch >= 0xC0)
        len = 2;
      chars.push_back(Str(s.substr(i, len)));
      i += len;
    }
    return Val::Own(Json(std::move(chars)));
  }
  return c.TypeErr(j, "a list");
}

inline Result<Val> ListArg(Call& c, size_t i, bool loose) {
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
  return AsList(c, std::move(v), loose);
}

inline Result<std::string> StrArg(Call& c, size_t i) {
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
  if (!v->is_string()) return c.TypeErr(v.get(), "a string");
  return std::string(v->get_string());
}

inline Result<int64_t> IntArg(Call& c, size_t i) {
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
  if (!IsIntJ(v.get())) return c.TypeErr(v.get(), "an integer");
  return NumI(v.get());
}

inline bool IsYaql(Call& c) { return c.ev().lang() == Lang::kYaql; }

}  // namespace bora::expr::internal
