// Template compilation (finding expressions in string leaves, parsing them once) and evaluation
// with Mistral's rules: a string that is exactly one expression yields the typed value, otherwise
// expressions are interpolated with Python's str(). Jinja is tried first, as in Mistral.
#include "orchestrator/expressions/expressions.h"

#include <algorithm>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtins_jinja_library.h"
#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr {

using internal::Evaluator;
using internal::JinjaStmt;
using internal::Lang;
using internal::Node;
using internal::NodePtr;
using internal::Op;
using internal::Val;
using internal::ValResult;

class CompiledNode {
 public:
  enum class Kind : uint8_t { kPlain, kSingle, kInterpolated, kJinjaTemplate, kArray, kObject };
  struct Piece {
    std::string text;  // literal text (when ast is null)
    NodePtr ast;
    std::string expr;  // expression source for error messages
  };

  Kind kind = Kind::kPlain;
  Lang lang = Lang::kYaql;
  bool has_expressions = false;
  Json plain;                                           // kPlain
  Json source;                                          // root only: the compiled value
  std::vector<Piece> pieces;                            // kSingle (one piece), kInterpolated
  std::vector<JinjaStmt> stmts;                         // kJinjaTemplate
  std::string template_text;                            // kJinjaTemplate, for error messages
  std::vector<std::string> keys;                        // kObject
  std::vector<std::unique_ptr<CompiledNode>> children;  // kArray, kObject
};

namespace {

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool HasPair(std::string_view s, std::string_view open, std::string_view close) {
  size_t p = s.find(open);
  return p != std::string_view::npos && s.find(close, p + open.size()) != std::string_view::npos;
}

bool IsJinja(std::string_view s) { return HasPair(s, "{{", "}}") || HasPair(s, "{%", "%}"); }

Status CheckLength(std::string_view expr, const Limits& limits) {
  if (expr.size() > limits.max_expression_length)
    return ResourceExhausted("expression longer than " +
                             std::to_string(limits.max_expression_length) +
                             " bytes (max_expression_length)");
  return Status::Ok();
}

Status SyntaxError(std::string_view lang, std::string_view whole, const Status& st) {
  if (st.code() == StatusCode::kResourceExhausted) return st;
  return InvalidArgument("invalid " + std::string(lang) + " expression '" + std::string(whole) +
                         "': " + st.message());
}

Result<std::unique_ptr<CompiledNode>> CompileStringNode(std::string_view s, const Limits& limits) {
  auto node = std::make_unique<CompiledNode>();
  if (IsJinja(s)) {
    node->lang = Lang::kJinja;
    node->has_expressions = true;
    // Exactly one `{{ ... }}` spanning the whole string: typed value.
    if (s.size() >= 4 && s.substr(0, 2) == "{{") {
      size_t close = s.find("}}", 2);
      if (close == s.size() - 2) {
        std::string_view inner = s.substr(2, s.size() - 4);
        BORA_RETURN_IF_ERROR(CheckLength(inner, limits));
        auto ast = internal::ParseJinjaExpression(inner, limits.max_depth);
        if (!ast.ok()) return SyntaxError("Jinja", s, ast.status());
        node->kind = CompiledNode::Kind::kSingle;
        // Mistral reports the whole string as the expression of a Jinja error.
        node->pieces.push_back({"", std::move(ast).value(), std::string(s)});
        return node;
      }
    }
    BORA_RETURN_IF_ERROR(CheckLength(s, limits));
    auto stmts = internal::ParseJinjaTemplate(s, limits);
    if (!stmts.ok()) return SyntaxError("Jinja", s, stmts.status());
    node->kind = CompiledNode::Kind::kJinjaTemplate;
    node->stmts = std::move(stmts).value();
    node->template_text = std::string(s);
    return node;
  }
  // YAQL: every `<% ... %>` (first `%>` closes).
  size_t pos = 0;
  std::vector<CompiledNode::Piece> pieces;
  bool found = false;
  while (pos < s.size()) {
    size_t open = s.find("<%", pos);
    size_t close = open == std::string_view::npos ? open : s.find("%>", open + 2);
    if (close == std::string_view::npos) {
      pieces.push_back({std::string(s.substr(pos)), nullptr, ""});
      break;
    }
    if (open > pos) pieces.push_back({std::string(s.substr(pos, open - pos)), nullptr, ""});
    std::string_view inner = s.substr(open + 2, close - open - 2);
    BORA_RETURN_IF_ERROR(CheckLength(inner, limits));
    auto ast = internal::ParseYaql(inner, limits.max_depth);
    if (!ast.ok()) return SyntaxError("YAQL", s.substr(open, close + 2 - open), ast.status());
    pieces.push_back({"", std::move(ast).value(), std::string(Trim(inner))});
    found = true;
    pos = close + 2;
  }
  if (!found) {
    node->plain = boost::json::string(s);
    return node;
  }
  node->has_expressions = true;
  node->lang = Lang::kYaql;
  node->kind = pieces.size() == 1 ? CompiledNode::Kind::kSingle : CompiledNode::Kind::kInterpolated;
  node->pieces = std::move(pieces);
  return node;
}

Result<std::unique_ptr<CompiledNode>> CompileNode(const Json& v, const Limits& limits, int depth) {
  if (depth > 512) return ResourceExhausted("template nested too deeply");
  if (v.is_string()) return CompileStringNode(v.get_string(), limits);
  auto node = std::make_unique<CompiledNode>();
  if (v.is_array()) {
    node->kind = CompiledNode::Kind::kArray;
    for (const Json& e : v.get_array()) {
      BORA_ASSIGN_OR_RETURN(auto child, CompileNode(e, limits, depth + 1));
      node->has_expressions |= child->has_expressions;
      node->children.push_back(std::move(child));
    }
  } else if (v.is_object()) {
    node->kind = CompiledNode::Kind::kObject;
    for (const auto& kv : v.get_object()) {
      BORA_ASSIGN_OR_RETURN(auto child, CompileNode(kv.value(), limits, depth + 1));
      node->has_expressions |= child->has_expressions;
      node->keys.emplace_back(kv.key());
      node->children.push_back(std::move(child));
    }
  }
  if (!node->has_expressions) {
    // No expression anywhere below: keep the value as is.
    node->children.clear();
    node->keys.clear();
    node->kind = CompiledNode::Kind::kPlain;
    node->plain = v;
  }
  return node;
}

std::string DataRepr(const Json& data) {
  std::string s = PythonStr(data);  // Mistral formats data with %s
  constexpr size_t kMax = 4096;
  if (s.size() > kMax) {
    s.resize(kMax);
    s += "...";
  }
  return s;
}

Status WrapError(const Status& st, Lang lang, std::string_view expr, const EvalContext& ctx) {
  const Json& data = ctx.scope ? ctx.scope->Whole() : *ctx.data;
  std::string msg = std::string("Can not evaluate ") + (lang == Lang::kYaql ? "YAQL" : "Jinja") +
                    " expression [expression=" + std::string(expr) + ", error=" + st.message() +
                    ", data=" + DataRepr(data) + "]";
  StatusCode code = st.code() == StatusCode::kResourceExhausted ? StatusCode::kResourceExhausted
                                                                : StatusCode::kInvalidArgument;
  return Status(code, std::move(msg));
}

Result<Json> EvalNode(const CompiledNode& node, const EvalContext& ctx) {
  switch (node.kind) {
    case CompiledNode::Kind::kPlain:
      return node.plain;
    case CompiledNode::Kind::kSingle: {
      Evaluator ev(ctx, node.lang);
      const auto& piece = node.pieces[0];
      const uint64_t temporals_before = internal::TemporalsMade();
      ValResult r = ev.Eval(*piece.ast);
      if (!r.ok()) return WrapError(r.status(), node.lang, piece.expr, ctx);
      if (r->undefined())
        return WrapError(InvalidArgument(r->undefined_message()), node.lang, piece.expr, ctx);
      if (r->owned()) {
        Status st = ev.CheckSize(internal::ApproxSize(r->get()));
        // An overflow (1e308 * 10) or float('nan') gives a number JSON cannot carry: an error.
        if (st.ok()) st = CheckFiniteNumbers(r->get(), "the result");
        if (!st.ok()) return WrapError(st, node.lang, piece.expr, ctx);
        if (node.lang == Lang::kYaql && internal::TemporalsMade() != temporals_before) {
          // YAQL datetimes leave as Mistral serialises them (yaql_library.h).
          Json out = std::move(r).value().Take();
          st = internal::ConvertYaqlOutput(out);
          if (!st.ok()) return WrapError(st, node.lang, piece.expr, ctx);
          return out;
        }
      }
      return std::move(r).value().Take();
    }
    case CompiledNode::Kind::kInterpolated: {
      Evaluator ev(ctx, node.lang);
      std::string out;
      for (const auto& piece : node.pieces) {
        if (!piece.ast) {
          out += piece.text;
          continue;
        }
        ValResult r = ev.Eval(*piece.ast);
        if (!r.ok()) return WrapError(r.status(), node.lang, piece.expr, ctx);
        if (node.lang == Lang::kYaql && r->get().is_object()) {
          if (auto t = internal::TemporalStr(r->get())) {  // Python str(datetime)
            out += *t;
            continue;
          }
        }
        out += PythonStr(r->get());
        Status st = ev.CheckSize(out.size());
        if (!st.ok()) return WrapError(st, node.lang, piece.expr, ctx);
      }
      return Json(boost::json::string(out));
    }
    case CompiledNode::Kind::kJinjaTemplate: {
      Evaluator ev(ctx, Lang::kJinja);
      std::string out;
      Status st = ev.RenderJinja(node.stmts, out);
      if (!st.ok()) return WrapError(st, Lang::kJinja, node.template_text, ctx);
      return Json(boost::json::string(out));
    }
    case CompiledNode::Kind::kArray: {
      JsonArray arr;
      arr.reserve(node.children.size());
      for (const auto& c : node.children) {
        BORA_ASSIGN_OR_RETURN(Json v, EvalNode(*c, ctx));
        arr.push_back(std::move(v));
      }
      return Json(std::move(arr));
    }
    case CompiledNode::Kind::kObject: {
      JsonObject obj;
      obj.reserve(node.children.size());
      for (size_t i = 0; i < node.children.size(); ++i) {
        BORA_ASSIGN_OR_RETURN(Json v, EvalNode(*node.children[i], ctx));
        obj[node.keys[i]] = std::move(v);
      }
      return Json(std::move(obj));
    }
  }
  return Internal("bad compiled node");
}

}  // namespace

const Json* Scope::Find(std::string_view key) const {
  for (auto it = layers_.rbegin(); it != layers_.rend(); ++it) {
    const JsonObject& o = (*it)->get_object();
    if (auto f = o.find(key); f != o.end()) return &f->value();
  }
  return nullptr;
}

const Json& Scope::Whole() const {
  if (!merged_) {
    JsonObject merged;
    for (const Json* layer : layers_) {
      for (const auto& kv : layer->get_object()) merged[kv.key()] = kv.value();
    }
    merged_.emplace(std::move(merged));
  }
  return *merged_;
}

Template::Template() = default;

Result<Template> Template::Compile(const Json& value, const Limits& limits) {
  BORA_ASSIGN_OR_RETURN(auto root, CompileNode(value, limits, 0));
  root->source = value;
  Template t;
  t.root_ = std::shared_ptr<const CompiledNode>(std::move(root));
  return t;
}

Result<Template> Template::CompileString(std::string_view text, const Limits& limits) {
  BORA_ASSIGN_OR_RETURN(auto root, CompileStringNode(text, limits));
  root->source = boost::json::string(text);
  Template t;
  t.root_ = std::shared_ptr<const CompiledNode>(std::move(root));
  return t;
}

Result<Json> Template::Evaluate(const EvalContext& ctx) const {
  if (!root_) return Json();
  if (ctx.data == nullptr && ctx.scope == nullptr)
    return InvalidArgument("EvalContext.data must not be null");
  return EvalNode(*root_, ctx);
}

bool Template::HasExpressions() const { return root_ && root_->has_expressions; }

namespace {

// The reason a resolved built-in is refused on purpose (README tables), or empty.
std::string_view RefusedReason(const Node& n, Lang lang) {
  if (n.builtin < 0) return {};
  if (lang == Lang::kYaql) {
    if (n.op != Op::kCall && n.op != Op::kMethod) return {};
    return internal::YaqlBuiltin(n.builtin).fn == internal::FnRefused
               ? internal::RefusalReason(n.name)
               : std::string_view();
  }
  const internal::Builtin* b = n.op == Op::kFilter   ? &internal::JinjaFilter(n.builtin)
                               : n.op == Op::kTest   ? &internal::JinjaTest(n.builtin)
                               : n.op == Op::kCall   ? &internal::JinjaGlobal(n.builtin)
                               : n.op == Op::kMethod ? &internal::JinjaMethod(n.builtin)
                                                     : nullptr;
  if (b == nullptr || b->fn != internal::JRefused) return {};
  return internal::JinjaRefusalReason(n.op == Op::kFilter ? "filter"
                                      : n.op == Op::kTest ? "test"
                                                          : "global",
                                      n.name);
}

void CollectUnknown(const Node& n, Lang lang, std::vector<std::string>& out) {
  const bool call = n.op == Op::kCall || n.op == Op::kMethod || n.op == Op::kFilter;
  std::string shown;
  if (call && n.builtin < 0 && !internal::IsHostFunction(n.name)) {
    shown = n.op == Op::kFilter ? "| " + n.name : n.name + "()";
  } else if (std::string_view why = RefusedReason(n, lang); !why.empty()) {
    shown = (n.op == Op::kFilter ? "| " + n.name
             : n.op == Op::kTest ? "is " + n.name
                                 : n.name + "()") +
            " is not supported: " + std::string(why);
  }
  if (!shown.empty() && std::find(out.begin(), out.end(), shown) == out.end())
    out.push_back(std::move(shown));
  for (const auto& k : n.kids) {
    if (k) CollectUnknown(*k, lang, out);
  }
}

void CollectUnknown(const std::vector<JinjaStmt>& stmts, std::vector<std::string>& out) {
  const Lang lang = Lang::kJinja;
  for (const auto& s : stmts) {
    if (s.expr) CollectUnknown(*s.expr, lang, out);
    for (const auto& [cond, body] : s.branches) {
      if (cond) CollectUnknown(*cond, lang, out);
      CollectUnknown(body, out);
    }
    CollectUnknown(s.else_body, out);
  }
}

void CollectUnknown(const CompiledNode& c, std::vector<std::string>& out) {
  for (const auto& p : c.pieces) {
    if (p.ast) CollectUnknown(*p.ast, c.lang, out);
  }
  CollectUnknown(c.stmts, out);
  for (const auto& child : c.children) CollectUnknown(*child, out);
}

}  // namespace

namespace {

bool CallsRecursiveTasks(const Node& n) {
  if (n.op == Op::kCall && n.name == "tasks" && n.builtin < 0) {
    size_t positional = 0;
    for (const auto& k : n.kids) {
      if (!k) continue;
      if (k->op == Op::kPair && !k->name.empty()) {
        if (k->name == "recursive") return true;
      } else {
        ++positional;
      }
    }
    if (positional >= 2) return true;
  }
  for (const auto& k : n.kids)
    if (k && CallsRecursiveTasks(*k)) return true;
  return false;
}

bool CallsRecursiveTasks(const std::vector<JinjaStmt>& stmts) {
  for (const auto& s : stmts) {
    if (s.expr && CallsRecursiveTasks(*s.expr)) return true;
    for (const auto& [cond, body] : s.branches) {
      if ((cond && CallsRecursiveTasks(*cond)) || CallsRecursiveTasks(body)) return true;
    }
    if (CallsRecursiveTasks(s.else_body)) return true;
  }
  return false;
}

bool CallsRecursiveTasks(const CompiledNode& c) {
  for (const auto& p : c.pieces)
    if (p.ast && CallsRecursiveTasks(*p.ast)) return true;
  if (CallsRecursiveTasks(c.stmts)) return true;
  for (const auto& child : c.children)
    if (CallsRecursiveTasks(*child)) return true;
  return false;
}

}  // namespace

bool Template::CallsRecursiveTasks() const { return root_ && expr::CallsRecursiveTasks(*root_); }

std::vector<std::string> Template::UnknownFunctions() const {
  std::vector<std::string> out;
  if (root_) CollectUnknown(*root_, out);
  return out;
}

const Json& Template::Source() const {
  static const Json kNull;
  return root_ ? root_->source : kNull;
}

bool ContainsExpression(std::string_view s) {
  return HasPair(s, "<%", "%>") || HasPair(s, "{{", "}}") || HasPair(s, "{%", "%}");
}

Result<Json> EvaluateOnce(std::string_view text, const Json& data, Host* host,
                          const Limits& limits) {
  BORA_ASSIGN_OR_RETURN(Template t, Template::CompileString(text, limits));
  EvalContext ctx;
  ctx.data = &data;
  ctx.host = host;
  ctx.limits = limits;
  return t.Evaluate(ctx);
}

}  // namespace bora::expr
