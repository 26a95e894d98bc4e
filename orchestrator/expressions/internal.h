#pragma once
// Internals of the expression engine (not part of the public API): the AST shared by the YAQL and
// Jinja parsers, the borrowed-or-owned value wrapper used during evaluation, and the evaluator.
// ASTs are immutable after parsing and shared between threads; an Evaluator is single-threaded and
// lives for one evaluation.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "orchestrator/expressions/expressions.h"

namespace bora::expr::internal {

// Appends the UTF-8 encoding of code point `cp`.
inline void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

enum class Lang : uint8_t { kYaql, kJinja };

enum class Op : uint8_t {
  kLiteral,  // value
  kRoot,     // `$` (YAQL) or `_` (Jinja)
  kVar,      // `$name` (YAQL) or a bare name (Jinja); name
  kMember,   // kids[0].name (null-safe when flag)
  kIndex,    // kids[0][kids[1]]
  kSlice,    // kids[0][kids[1]:kids[2]:kids[3]] (null kids = omitted)
  kNeg,
  kPos,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kConcat,
  kEq,
  kNe,
  kLt,
  kGt,
  kLe,
  kGe,
  kIn,
  kNotIn,
  kAnd,
  kOr,
  kCall,    // name(kids...)
  kMethod,  // kids[0].name(kids[1..])
  kFilter,  // Jinja: kids[0] | name(kids[1..])
  kTest,    // Jinja: kids[0] is [not] name(kids[1..]); flag = negated
  kPair,   // `key => value` argument; kids {key, value}; name = key when it is a bare name / string
  kList,   // [kids...]
  kDict,   // {kids[0]: kids[1], ...}
  kChain,  // YAQL `kids[0] -> kids[1]`
  kCond,   // Jinja `kids[1] if kids[0] else kids[2]` (kids[2] may be null)
  kRegexMatch,
  kRegexNotMatch,  // YAQL =~ !~
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  Op op = Op::kLiteral;
  bool flag = false;  // kMember: null-safe `?.`; kTest: negated; kLiteral: came from a bare name
  int column = 0;     // 1-based column in the expression source
  int builtin = -1;   // resolved builtin index for calls (-1: host / unknown)
  std::string name;
  Json value;
  std::vector<NodePtr> kids;
};

// Fails if the AST is deeper than `max_depth` (such an expression could never be evaluated within
// the depth budget; also bounds recursion when the AST is destroyed). Iterative.
Status CheckAstDepth(const Node& root, int max_depth);

// Parses one YAQL expression (the text between `<%` and `%>`).
Result<NodePtr> ParseYaql(std::string_view text, int max_depth);
// Parses one Jinja expression (the text between `{{` and `}}`).
Result<NodePtr> ParseJinjaExpression(std::string_view text, int max_depth);

// Jinja template statements (`{% if %}`, `{% for %}`, `{% set %}`) and text/output pieces.
struct JinjaStmt {
  enum Kind : uint8_t { kText, kOutput, kIf, kFor, kSet, kSetAttr } kind = kText;
  std::string text;                // kText
  NodePtr expr;                    // kOutput, kFor (iterable), kSet / kSetAttr (value)
  std::vector<std::string> names;  // kFor loop vars, kSet target, kSetAttr {variable, attribute}
  std::vector<std::pair<NodePtr, std::vector<JinjaStmt>>>
      branches;                      // kIf: (cond, body)...; kFor: body
  std::vector<JinjaStmt> else_body;  // kIf / kFor
};
// Parses a whole Jinja template string into statements.
Result<std::vector<JinjaStmt>> ParseJinjaTemplate(std::string_view text, const Limits& limits);

// A value during evaluation: borrowed from the context (no copy) or owned. Jinja's Undefined is a
// third state that carries the message to report when it is used.
class Val {
 public:
  Val() = default;
  static Val Ref(const Json& j) {
    Val v;
    v.ptr_ = &j;
    return v;
  }
  static Val Own(Json j) {
    Val v;
    v.own_.emplace(std::move(j));
    return v;
  }
  static Val Undefined(std::string message) {
    Val v;
    v.own_.emplace(boost::json::string(message));
    v.undefined_ = true;
    return v;
  }
  const Json& get() const { return ptr_ ? *ptr_ : own_ ? *own_ : Null(); }
  const Json* operator->() const { return &get(); }
  bool owned() const { return ptr_ == nullptr; }
  bool undefined() const { return undefined_; }
  std::string undefined_message() const { return std::string(own_->as_string()); }
  Json Take() && {
    if (ptr_) return *ptr_;
    if (own_) return std::move(*own_);
    return Json();
  }
  // The owned value, to update in place (Jinja's namespace/cycler/joiner variables); borrowed
  // values are copied first. Null for Undefined.
  Json* Mutable() {
    if (undefined_) return nullptr;
    Materialize();
    if (!own_) own_.emplace();
    return &*own_;
  }
  // Makes the value independent of any borrowed storage.
  void Materialize() {
    if (ptr_) {
      own_.emplace(*ptr_);
      ptr_ = nullptr;
    }
  }

 private:
  static const Json& Null() {
    static const Json kNull;
    return kNull;
  }
  // Borrowed values only set ptr_ (no Json is constructed: evaluation of `$.a.b` copies nothing).
  const Json* ptr_ = nullptr;
  std::optional<Json> own_;
  bool undefined_ = false;
};

using ValResult = Result<Val>;

struct Var {
  std::string name;
  Val value;
};

class Evaluator;
// A builtin function: receives the call node (for lazy / lambda arguments) and the evaluator.
// `recv` is the receiver for method/filter syntax (may be null for plain calls).
using BuiltinFn = ValResult (*)(Evaluator& ev, const Node& call, Val* recv);

struct Builtin {
  const char* name;
  BuiltinFn fn;
};
// Looks up builtins by name. Returns -1 if none.
int FindYaqlBuiltin(std::string_view name);
int FindJinjaGlobal(std::string_view name);
int FindJinjaFilter(std::string_view name);
int FindJinjaTest(std::string_view name);
int FindJinjaMethod(std::string_view name);
const Builtin& YaqlBuiltin(int i);
const Builtin& JinjaGlobal(int i);
const Builtin& JinjaFilter(int i);
const Builtin& JinjaTest(int i);
const Builtin& JinjaMethod(int i);
bool IsHostFunction(std::string_view name);
// The names in the Jinja tables (kind: "filter", "test" or "global"), for the README table test.
std::vector<std::string> JinjaBuiltinNames(std::string_view kind);

// Evaluates ASTs for one evaluation. Not thread-safe; cheap to construct.
class Evaluator {
 public:
  // With a layered scope, root_ stays null until the whole `$` is needed (see Root()).
  Evaluator(const EvalContext& ctx, Lang lang)
      : ctx_(ctx), lang_(lang), root_(ctx.scope ? nullptr : ctx.data) {}

  ValResult Eval(const Node& n);
  // Evaluates `n` with `$` bound to `item` (a lambda body).
  ValResult EvalWith(const Node& n, const Json& item);
  Result<Json> EvalJson(const Node& n) {
    BORA_ASSIGN_OR_RETURN(Val v, Eval(n));
    BORA_RETURN_IF_ERROR(CheckDefined(v));
    return std::move(v).Take();
  }
  Status RenderJinja(const std::vector<JinjaStmt>& stmts, std::string& out);

  // Budget accounting.
  Status Step(int64_t n = 1) {
    steps_ += n;
    if (steps_ > ctx_.limits.max_steps) return StepsExceeded();
    return Status::Ok();
  }
  Status CheckSize(size_t bytes) const {
    if (bytes > ctx_.limits.max_output_bytes) return SizeExceeded(bytes);
    return Status::Ok();
  }
  Status CheckDefined(const Val& v) const {
    if (v.undefined()) return InvalidArgument(v.undefined_message());
    return Status::Ok();
  }
  Status StepsExceeded() const;
  Status SizeExceeded(size_t bytes) const;

  Lang lang() const { return lang_; }
  // `$`: the current root value (merging a layered scope if that was not done yet).
  const Json* root() { return root_ ? root_ : &ctx_.scope->Whole(); }
  const EvalContext& ctx() const { return ctx_; }
  // Variables in scope (innermost last). Heap-allocated so references to values stay valid while
  // the vector grows.
  void PushVar(std::string name, Val value) {
    vars_.push_back(std::make_unique<Var>(Var{std::move(name), std::move(value)}));
  }
  size_t VarMark() const { return vars_.size(); }
  void PopVars(size_t mark) { vars_.resize(mark); }
  const Var* FindVar(std::string_view name) const {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if ((*it)->name == name) return it->get();
    return nullptr;
  }
  Var* FindVarMut(std::string_view name) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
      if ((*it)->name == name) return it->get();
    return nullptr;
  }

  // Calls a host function (task(), env(), ...) or fails with "no function named ...".
  ValResult CallHost(const Node& call, Val* recv);
  // Evaluates the arguments of `call` (skipping kids[0] for method/filter forms) into positional
  // and named.
  Status EvalArgs(const Node& call, std::vector<Json>& args, KwArgs& kwargs);
  // First argument index of a call node (1 for method/filter/test forms).
  static size_t FirstArg(const Node& call) {
    return (call.op == Op::kMethod || call.op == Op::kFilter || call.op == Op::kTest) ? 1 : 0;
  }

  class RootScope {
   public:
    RootScope(Evaluator& ev, const Json* root) : ev_(ev), saved_(ev.root_) { ev.root_ = root; }
    ~RootScope() { ev_.root_ = saved_; }

   private:
    Evaluator& ev_;
    const Json* saved_;
  };

 private:
  ValResult EvalInner(const Node& n);
  ValResult EvalMember(const Node& n);
  ValResult EvalIndex(const Node& n);
  ValResult EvalSlice(const Node& n);
  ValResult EvalBinary(const Node& n);
  ValResult EvalCall(const Node& n);
  ValResult EvalChain(const Node& n);
  Status RenderBody(const std::vector<JinjaStmt>& stmts, std::string& out);

  const EvalContext& ctx_;
  Lang lang_;
  const Json* root_;
  int64_t steps_ = 0;
  int depth_ = 0;
  std::vector<std::unique_ptr<Var>> vars_;
};

// Operations shared by the evaluator and the builtins.
Result<Json> Arith(Op op, const Json& a, const Json& b, Lang lang, const Evaluator& ev);
Result<bool> Compare(Op op, const Json& a, const Json& b, Lang lang);
Result<bool> Contains(const Json& container, const Json& item);
// Total order used by sort/orderBy/min/max: numbers, then strings; errors across other types.
Result<int> Order(const Json& a, const Json& b);
// Steps charged for an operation that scans `v` once (containment, equality): its top-level size.
int64_t WorkOf(const Json& v);
// Approximate size in bytes of a value (bounded walk).
size_t ApproxSize(const Json& v);
// Python's printf-style `fmt % args` (%s %r %d %i %f %e %g %x %o %c %%, flags, width, precision,
// %(name)s with a dict). `args` is a list (tuple), a dict, or a single value.
Result<std::string> PercentFormat(std::string_view fmt, const Json& args);
// YAQL str(): null/true/false lowercase, otherwise Python str().
std::string YaqlStr(const Json& v);
// Python-ish type name for error messages.
std::string TypeName(const Json& v);

}  // namespace bora::expr::internal
