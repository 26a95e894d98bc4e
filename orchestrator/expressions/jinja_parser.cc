// Jinja parser over the shared lexer (lexer.h, Jinja options): expressions (Jinja2's grammar:
// condexpr, or, and, not, compare, + -, ~, * / // %, **, unary, postfix . [] (), filters | and
// tests `is`) and the template statements Mistral workflows use ({% if/elif/else/endif %},
// {% for ... in ... %}{% else %}{% endfor %}, {% set x = ... %}, {# comments #}, whitespace
// control with `-`).
#include <cctype>
#include <string>

#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/lexer.h"

namespace bora::expr::internal {
namespace {

class JinjaExprParser {
 public:
  JinjaExprParser(std::string_view src, int max_depth)
      : lex_(src, JinjaLexerOptions()), max_depth_(max_depth) {}

  Status Start() { return Next(); }
  bool AtEnd() const { return tok().type == Tok::kEnd; }
  const Token& tok() const { return lex_.tok(); }

  Result<NodePtr> ParseWhole() {
    BORA_RETURN_IF_ERROR(Next());
    if (tok().type == Tok::kEnd) return Error("empty expression");
    BORA_ASSIGN_OR_RETURN(NodePtr n, ParseExpression());
    if (tok().type != Tok::kEnd) return Error("unexpected '" + tok().text + "'");
    return n;
  }

  Result<NodePtr> ParseExpression() { return ParseCondExpr(); }
  // An expression without a trailing `x if c else y` (the iterable of a for loop).
  Result<NodePtr> ParseNoCond() {
    DepthGuard guard(depth_);
    return ParseOr();
  }

  Status Error(const std::string& what) const {
    if (tok().type == Tok::kEnd && what.rfind("unexpected", 0) == 0)
      return InvalidArgument("unexpected end of expression at column " +
                             std::to_string(tok().column));
    return InvalidArgument(what + " at column " + std::to_string(tok().column));
  }

  bool IsOp(std::string_view op) const { return lex_.IsOp(op); }
  bool IsName(std::string_view w) const { return lex_.IsName(w); }
  Status Expect(std::string_view op) {
    if (!IsOp(op)) return Error("expected '" + std::string(op) + "' but got '" + tok().text + "'");
    return Next();
  }
  Result<std::string> ExpectName() {
    if (tok().type != Tok::kName) return Error("expected a name but got '" + tok().text + "'");
    std::string name = tok().text;
    BORA_RETURN_IF_ERROR(Next());
    return name;
  }

  Status Next() { return lex_.Next(); }

 private:
  static NodePtr Make(Op op, int column) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->column = column;
    return n;
  }
  static NodePtr Binary(Op op, int column, NodePtr a, NodePtr b) {
    NodePtr n = Make(op, column);
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  Result<NodePtr> ParseCondExpr() {
    DepthGuard guard(depth_);
    if (depth_ > max_depth_) return Error("expression nested too deeply");
    BORA_ASSIGN_OR_RETURN(NodePtr expr, ParseOr());
    while (IsName("if")) {
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr cond, ParseOr());
      NodePtr otherwise;
      if (IsName("else")) {
        BORA_RETURN_IF_ERROR(Next());
        BORA_ASSIGN_OR_RETURN(otherwise, ParseCondExpr());
      }
      NodePtr n = Make(Op::kCond, column);
      n->kids.push_back(std::move(cond));
      n->kids.push_back(std::move(expr));
      n->kids.push_back(std::move(otherwise));
      expr = std::move(n);
    }
    return expr;
  }

  Result<NodePtr> ParseOr() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParseAnd());
    while (IsName("or")) {
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseAnd());
      left = Binary(Op::kOr, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseAnd() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParseNot());
    while (IsName("and")) {
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseNot());
      left = Binary(Op::kAnd, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseNot() {
    if (IsName("not")) {
      DepthGuard guard(depth_);
      if (depth_ > max_depth_) return Error("expression nested too deeply");
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr operand, ParseNot());
      NodePtr n = Make(Op::kNot, column);
      n->kids.push_back(std::move(operand));
      return n;
    }
    return ParseCompare();
  }

  Result<NodePtr> ParseCompare() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParseMath1());
    while (true) {
      int column = tok().column;
      Op op;
      if (IsOp("=="))
        op = Op::kEq;
      else if (IsOp("!="))
        op = Op::kNe;
      else if (IsOp("<"))
        op = Op::kLt;
      else if (IsOp(">"))
        op = Op::kGt;
      else if (IsOp("<="))
        op = Op::kLe;
      else if (IsOp(">="))
        op = Op::kGe;
      else if (IsName("in"))
        op = Op::kIn;
      else if (IsName("not")) {
        // `not in`
        Lexer saved = lex_;
        BORA_RETURN_IF_ERROR(Next());
        if (!IsName("in")) {
          lex_ = std::move(saved);
          break;
        }
        op = Op::kNotIn;
      } else {
        break;
      }
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseMath1());
      left = Binary(op, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseMath1() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParseConcat());
    while (IsOp("+") || IsOp("-")) {
      int column = tok().column;
      Op op = IsOp("+") ? Op::kAdd : Op::kSub;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseConcat());
      left = Binary(op, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseConcat() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParseMath2());
    while (IsOp("~")) {
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseMath2());
      left = Binary(Op::kConcat, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseMath2() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParsePow());
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      int column = tok().column;
      Op op = IsOp("*") ? Op::kMul : IsOp("/") ? Op::kDiv : IsOp("//") ? Op::kFloorDiv : Op::kMod;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParsePow());
      left = Binary(op, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParsePow() {
    BORA_ASSIGN_OR_RETURN(NodePtr left, ParseUnary(true));
    while (IsOp("**")) {
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseUnary(true));
      left = Binary(Op::kPow, column, std::move(left), std::move(right));
    }
    return left;
  }

  Result<NodePtr> ParseUnary(bool with_filter) {
    DepthGuard guard(depth_);
    if (depth_ > max_depth_) return Error("expression nested too deeply");
    NodePtr node;
    if (IsOp("-") || IsOp("+")) {
      int column = tok().column;
      bool neg = IsOp("-");
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary(false));
      if (neg && operand->op == Op::kLiteral && operand->value.is_int64()) {
        operand->value = -operand->value.as_int64();
        node = std::move(operand);
      } else if (neg && operand->op == Op::kLiteral && operand->value.is_double()) {
        operand->value = -operand->value.as_double();
        node = std::move(operand);
      } else {
        node = Make(neg ? Op::kNeg : Op::kPos, column);
        node->kids.push_back(std::move(operand));
      }
    } else {
      BORA_ASSIGN_OR_RETURN(node, ParsePrimary());
    }
    BORA_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
    if (with_filter) return ParseFilterExpr(std::move(node));
    return node;
  }

  Result<NodePtr> ParsePrimary() {
    int column = tok().column;
    if (tok().type == Tok::kName) {
      std::string name = tok().text;
      BORA_RETURN_IF_ERROR(Next());
      NodePtr n = Make(Op::kLiteral, column);
      if (name == "true" || name == "True")
        n->value = true;
      else if (name == "false" || name == "False")
        n->value = false;
      else if (name == "none" || name == "None")
        n->value = nullptr;
      else if (name == "_")
        n = Make(Op::kRoot, column);
      else if (IsOp("(")) {
        n = Make(Op::kCall, column);
        n->name = name;
        BORA_RETURN_IF_ERROR(ParseCallArgs(*n));
        n->builtin = FindJinjaGlobal(name);
      } else {
        n = Make(Op::kVar, column);
        n->name = name;
      }
      return n;
    }
    if (tok().type == Tok::kString) {
      std::string s = tok().text;
      BORA_RETURN_IF_ERROR(Next());
      while (tok().type == Tok::kString) {  // implicit concatenation of adjacent literals
        s += tok().text;
        BORA_RETURN_IF_ERROR(Next());
      }
      NodePtr n = Make(Op::kLiteral, column);
      n->value = boost::json::string(s);
      return n;
    }
    if (tok().type == Tok::kNumber) {
      NodePtr n = Make(Op::kLiteral, column);
      n->value = tok().number;
      BORA_RETURN_IF_ERROR(Next());
      return n;
    }
    if (IsOp("(")) {
      BORA_RETURN_IF_ERROR(Next());
      if (IsOp(")")) {  // empty tuple
        BORA_RETURN_IF_ERROR(Next());
        return Make(Op::kList, column);
      }
      BORA_ASSIGN_OR_RETURN(NodePtr first, ParseExpression());
      if (IsOp(",")) {  // tuple -> list
        NodePtr list = Make(Op::kList, column);
        list->kids.push_back(std::move(first));
        while (IsOp(",")) {
          BORA_RETURN_IF_ERROR(Next());
          if (IsOp(")")) break;
          BORA_ASSIGN_OR_RETURN(NodePtr item, ParseExpression());
          list->kids.push_back(std::move(item));
        }
        BORA_RETURN_IF_ERROR(Expect(")"));
        return list;
      }
      BORA_RETURN_IF_ERROR(Expect(")"));
      return first;
    }
    if (IsOp("[")) {
      NodePtr list = Make(Op::kList, column);
      BORA_RETURN_IF_ERROR(Next());
      while (!IsOp("]")) {
        BORA_ASSIGN_OR_RETURN(NodePtr item, ParseExpression());
        list->kids.push_back(std::move(item));
        if (!IsOp(",")) break;
        BORA_RETURN_IF_ERROR(Next());
      }
      BORA_RETURN_IF_ERROR(Expect("]"));
      return list;
    }
    if (IsOp("{")) {
      NodePtr dict = Make(Op::kDict, column);
      BORA_RETURN_IF_ERROR(Next());
      while (!IsOp("}")) {
        BORA_ASSIGN_OR_RETURN(NodePtr key, ParseExpression());
        BORA_RETURN_IF_ERROR(Expect(":"));
        BORA_ASSIGN_OR_RETURN(NodePtr value, ParseExpression());
        dict->kids.push_back(std::move(key));
        dict->kids.push_back(std::move(value));
        if (!IsOp(",")) break;
        BORA_RETURN_IF_ERROR(Next());
      }
      BORA_RETURN_IF_ERROR(Expect("}"));
      return dict;
    }
    return Error("unexpected '" + tok().text + "'");
  }

  Result<NodePtr> ParsePostfix(NodePtr node) {
    while (true) {
      int column = tok().column;
      if (IsOp(".")) {
        BORA_RETURN_IF_ERROR(Next());
        if (tok().type == Tok::kNumber && tok().number.is_int64()) {  // x.0 == x[0]
          NodePtr n = Make(Op::kIndex, column);
          NodePtr idx = Make(Op::kLiteral, tok().column);
          idx->value = tok().number;
          n->kids.push_back(std::move(node));
          n->kids.push_back(std::move(idx));
          node = std::move(n);
          BORA_RETURN_IF_ERROR(Next());
          continue;
        }
        BORA_ASSIGN_OR_RETURN(std::string name, ExpectName());
        if (IsOp("(")) {
          NodePtr n = Make(Op::kMethod, column);
          n->name = name;
          n->kids.push_back(std::move(node));
          BORA_RETURN_IF_ERROR(ParseCallArgs(*n));
          n->builtin = FindJinjaMethod(name);
          node = std::move(n);
        } else {
          NodePtr n = Make(Op::kMember, column);
          n->name = name;
          n->kids.push_back(std::move(node));
          node = std::move(n);
        }
      } else if (IsOp("[")) {
        BORA_RETURN_IF_ERROR(Next());
        NodePtr parts[3];
        bool slice = false;
        int part = 0;
        while (true) {
          if (IsOp(":")) {
            slice = true;
            if (++part > 2) return Error("invalid slice");
            BORA_RETURN_IF_ERROR(Next());
            continue;
          }
          if (IsOp("]")) break;
          if (parts[part]) return Error("unexpected '" + tok().text + "'");
          BORA_ASSIGN_OR_RETURN(parts[part], ParseExpression());
        }
        BORA_RETURN_IF_ERROR(Expect("]"));
        if (!slice && !parts[0]) return Error("empty subscript");
        NodePtr n = Make(slice ? Op::kSlice : Op::kIndex, column);
        n->kids.push_back(std::move(node));
        n->kids.push_back(std::move(parts[0]));
        if (slice) {
          n->kids.push_back(std::move(parts[1]));
          n->kids.push_back(std::move(parts[2]));
        }
        node = std::move(n);
      } else {
        return node;
      }
    }
  }

  Result<NodePtr> ParseFilterExpr(NodePtr node) {
    while (true) {
      int column = tok().column;
      if (IsOp("|")) {
        BORA_RETURN_IF_ERROR(Next());
        BORA_ASSIGN_OR_RETURN(std::string name, ExpectName());
        while (IsOp(".")) {  // dotted filter names
          BORA_RETURN_IF_ERROR(Next());
          BORA_ASSIGN_OR_RETURN(std::string part, ExpectName());
          name += "." + part;
        }
        NodePtr n = Make(Op::kFilter, column);
        n->name = name;
        n->kids.push_back(std::move(node));
        if (IsOp("(")) BORA_RETURN_IF_ERROR(ParseCallArgs(*n));
        n->builtin = FindJinjaFilter(name);
        node = std::move(n);
      } else if (IsName("is")) {
        BORA_RETURN_IF_ERROR(Next());
        bool negated = false;
        if (IsName("not")) {
          negated = true;
          BORA_RETURN_IF_ERROR(Next());
        }
        std::string name;
        if (tok().type == Tok::kName) {
          name = tok().text;
          BORA_RETURN_IF_ERROR(Next());
        } else {
          // As in Jinja's grammar, `x is == 1` is not valid: `==` & co. are test names only for
          // select()/reject().
          return Error("expected a test name");
        }
        NodePtr n = Make(Op::kTest, column);
        n->name = name;
        n->flag = negated;
        n->kids.push_back(std::move(node));
        if (IsOp("(")) {
          BORA_RETURN_IF_ERROR(ParseCallArgs(*n));
        } else if (tok().type == Tok::kNumber || tok().type == Tok::kString ||
                   (tok().type == Tok::kName && !tok().keyword) || IsOp("[") || IsOp("{") ||
                   IsOp("-")) {
          // `x is divisibleby 3`, `x is sameas none`
          BORA_ASSIGN_OR_RETURN(NodePtr arg, ParsePrimaryWithPostfix());
          n->kids.push_back(std::move(arg));
        }
        n->builtin = FindJinjaTest(n->name);
        if (n->builtin < 0)
          return InvalidArgument("no test named '" + n->name + "' at column " +
                                 std::to_string(column));
        node = std::move(n);
      } else {
        return node;
      }
    }
  }

  Result<NodePtr> ParsePrimaryWithPostfix() {
    if (IsOp("-")) return ParseUnary(false);
    BORA_ASSIGN_OR_RETURN(NodePtr n, ParsePrimary());
    return ParsePostfix(std::move(n));
  }

  Status ParseCallArgs(Node& call) {
    BORA_RETURN_IF_ERROR(Expect("("));
    while (!IsOp(")")) {
      int column = tok().column;
      // name=value keyword argument?
      if (tok().type == Tok::kName) {
        Lexer saved = lex_;
        std::string name = tok().text;
        BORA_RETURN_IF_ERROR(Next());
        if (IsOp("=")) {
          BORA_RETURN_IF_ERROR(Next());
          BORA_ASSIGN_OR_RETURN(NodePtr value, ParseExpression());
          NodePtr pair = Make(Op::kPair, column);
          pair->name = name;
          pair->flag = true;
          NodePtr key = Make(Op::kLiteral, column);
          key->value = boost::json::string(name);
          pair->kids.push_back(std::move(key));
          pair->kids.push_back(std::move(value));
          call.kids.push_back(std::move(pair));
          if (!IsOp(",")) break;
          BORA_RETURN_IF_ERROR(Next());
          continue;
        }
        lex_ = std::move(saved);
      }
      BORA_ASSIGN_OR_RETURN(NodePtr arg, ParseExpression());
      call.kids.push_back(std::move(arg));
      if (!IsOp(",")) break;
      BORA_RETURN_IF_ERROR(Next());
    }
    return Expect(")");
  }

  Lexer lex_;
  int depth_ = 0;
  int max_depth_;

  friend class TemplateParser;
};

// Splits a template into text, {{ }}, {% %} and {# #} pieces and builds the statement tree.
class TemplateParser {
 public:
  TemplateParser(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  Result<std::vector<JinjaStmt>> Parse() {
    std::vector<JinjaStmt> body;
    std::string end_tag;
    BORA_RETURN_IF_ERROR(ParseBody(body, {}, &end_tag, 0));
    if (!end_tag.empty()) return InvalidArgument("unexpected '{% " + end_tag + " %}'");
    return body;
  }

 private:
  struct Tag {
    std::string keyword;
    std::string_view rest;
    size_t offset = 0;
  };

  // Reads pieces until one of `stops` (tag keywords) is found; that keyword is stored in
  // *stop_found and the tag's remaining text in last_tag_.
  Status ParseBody(std::vector<JinjaStmt>& out, std::initializer_list<std::string_view> stops,
                   std::string* stop_found, int depth) {
    if (depth > limits_.max_depth) return InvalidArgument("template nested too deeply");
    stop_found->clear();
    while (pos_ < text_.size()) {
      size_t open = FindOpen(pos_);
      if (open == std::string_view::npos) {
        AppendText(out, text_.substr(pos_));
        pos_ = text_.size();
        break;
      }
      std::string_view text = text_.substr(pos_, open - pos_);
      char kind = text_[open + 1];
      bool strip_before = open + 2 < text_.size() && text_[open + 2] == '-';
      if (strip_before) {
        size_t e = text.size();
        while (e > 0 && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
        text = text.substr(0, e);
      } else if (kind != '{') {
        // lstrip_blocks (Mistral's environment): spaces and tabs between the start of the line and
        // a block or comment tag are removed.
        size_t b = open;
        while (b > 0 && (text_[b - 1] == ' ' || text_[b - 1] == '\t')) --b;
        if ((b == 0 || text_[b - 1] == '\n') && b >= pos_)
          text = text.substr(0, text.size() - (open - b));
      }
      AppendText(out, text);
      std::string_view close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
      size_t inner_start = open + 2 + (strip_before ? 1 : 0);
      size_t close_pos =
          kind == '#' ? text_.find(close, inner_start) : FindTagClose(text_, inner_start, close);
      if (close_pos == std::string_view::npos)
        return InvalidArgument("unterminated '" + std::string(text_.substr(open, 2)) + "'");
      size_t inner_end = close_pos;
      bool strip_after = inner_end > inner_start && text_[inner_end - 1] == '-';
      if (strip_after) --inner_end;
      std::string_view inner = text_.substr(inner_start, inner_end - inner_start);
      pos_ = close_pos + 2;
      if (strip_after) {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      } else if (kind != '{') {
        // trim_blocks: the first newline after a block or comment tag is removed.
        if (pos_ < text_.size() && text_[pos_] == '\n')
          ++pos_;
        else if (pos_ + 1 < text_.size() && text_[pos_] == '\r' && text_[pos_ + 1] == '\n')
          pos_ += 2;
      }
      if (kind == '#') continue;
      if (kind == '{') {
        if (inner.size() > limits_.max_expression_length)
          return ResourceExhausted("expression longer than " +
                                   std::to_string(limits_.max_expression_length) + " bytes");
        JinjaStmt s;
        s.kind = JinjaStmt::kOutput;
        BORA_ASSIGN_OR_RETURN(s.expr, ParseJinjaExpression(inner, limits_.max_depth));
        out.push_back(std::move(s));
        continue;
      }
      // {% tag %}
      JinjaExprParser p(inner, limits_.max_depth);
      BORA_RETURN_IF_ERROR(p.Start());
      if (p.tok().type != Tok::kName)
        return InvalidArgument("expected a tag name in '{%" + std::string(inner) + "%}'");
      std::string keyword = p.tok().text;
      for (std::string_view stop : stops) {
        if (keyword == stop) {
          *stop_found = keyword;
          last_tag_ = inner;
          return Status::Ok();
        }
      }
      if (keyword == "raw") {  // {% raw %}...{% endraw %}: literal text
        size_t search = pos_;
        while (true) {
          size_t open_end = text_.find("{%", search);
          if (open_end == std::string_view::npos) return InvalidArgument("missing '{% endraw %}'");
          size_t close_end = text_.find("%}", open_end + 2);
          if (close_end == std::string_view::npos) return InvalidArgument("missing '{% endraw %}'");
          std::string_view tag = text_.substr(open_end + 2, close_end - open_end - 2);
          size_t b = tag.find_first_not_of(" \t-"), e = tag.find_last_not_of(" \t-");
          if (b != std::string_view::npos && tag.substr(b, e - b + 1) == "endraw") {
            AppendText(out, text_.substr(pos_, open_end - pos_));
            pos_ = close_end + 2;
            break;
          }
          search = close_end + 2;
        }
        continue;
      }
      if (keyword == "endif" || keyword == "endfor" || keyword == "elif" || keyword == "else")
        return InvalidArgument("unexpected '{% " + keyword + " %}'");
      BORA_RETURN_IF_ERROR(p.Next());
      if (keyword == "if") {
        JinjaStmt s;
        s.kind = JinjaStmt::kIf;
        BORA_ASSIGN_OR_RETURN(NodePtr cond, ParseRest(p, inner));
        while (true) {
          std::vector<JinjaStmt> branch;
          std::string found;
          BORA_RETURN_IF_ERROR(ParseBody(branch, {"elif", "else", "endif"}, &found, depth + 1));
          s.branches.emplace_back(std::move(cond), std::move(branch));
          if (found == "elif") {
            JinjaExprParser q(last_tag_, limits_.max_depth);
            BORA_RETURN_IF_ERROR(q.Start());
            BORA_RETURN_IF_ERROR(q.Next());
            BORA_ASSIGN_OR_RETURN(cond, ParseRest(q, last_tag_));
            continue;
          }
          if (found == "else") {
            BORA_RETURN_IF_ERROR(ParseBody(s.else_body, {"endif"}, &found, depth + 1));
          }
          if (found != "endif") return InvalidArgument("missing '{% endif %}'");
          break;
        }
        out.push_back(std::move(s));
      } else if (keyword == "for") {
        JinjaStmt s;
        s.kind = JinjaStmt::kFor;
        while (true) {
          BORA_ASSIGN_OR_RETURN(std::string var, p.ExpectName());
          s.names.push_back(var);
          if (p.IsOp(",")) {
            BORA_RETURN_IF_ERROR(p.Next());
            continue;
          }
          break;
        }
        if (!p.IsName("in"))
          return InvalidArgument("expected 'in' in '{%" + std::string(inner) + "%}'");
        BORA_RETURN_IF_ERROR(p.Next());
        BORA_ASSIGN_OR_RETURN(s.expr, p.ParseNoCond());
        BORA_RETURN_IF_ERROR(CheckAstDepth(*s.expr, limits_.max_depth));
        NodePtr loop_filter;
        if (p.IsName("if")) {
          BORA_RETURN_IF_ERROR(p.Next());
          BORA_ASSIGN_OR_RETURN(loop_filter, ParseRest(p, inner));
        } else if (!p.AtEnd()) {
          return p.Error("unexpected '" + p.tok().text + "'");
        }
        std::vector<JinjaStmt> body;
        std::string found;
        BORA_RETURN_IF_ERROR(ParseBody(body, {"else", "endfor"}, &found, depth + 1));
        s.branches.emplace_back(std::move(loop_filter), std::move(body));
        if (found == "else")
          BORA_RETURN_IF_ERROR(ParseBody(s.else_body, {"endfor"}, &found, depth + 1));
        if (found != "endfor") return InvalidArgument("missing '{% endfor %}'");
        out.push_back(std::move(s));
      } else if (keyword == "set") {
        JinjaStmt s;
        s.kind = JinjaStmt::kSet;
        BORA_ASSIGN_OR_RETURN(std::string var, p.ExpectName());
        s.names.push_back(var);
        if (p.IsOp(".")) {  // {% set ns.attr = value %} (a namespace() attribute)
          BORA_RETURN_IF_ERROR(p.Next());
          BORA_ASSIGN_OR_RETURN(std::string attr, p.ExpectName());
          s.kind = JinjaStmt::kSetAttr;
          s.names.push_back(attr);
        }
        if (!p.IsOp("="))
          return InvalidArgument("expected '=' in '{%" + std::string(inner) + "%}'");
        BORA_RETURN_IF_ERROR(p.Next());
        BORA_ASSIGN_OR_RETURN(s.expr, ParseRest(p, inner));
        out.push_back(std::move(s));
      } else {
        return InvalidArgument("unsupported tag '{% " + keyword + " %}'");
      }
    }
    return Status::Ok();
  }

  Result<NodePtr> ParseRest(JinjaExprParser& p, std::string_view inner) {
    BORA_ASSIGN_OR_RETURN(NodePtr n, p.ParseExpression());
    if (!p.AtEnd()) return p.Error("unexpected '" + p.tok().text + "'");
    BORA_RETURN_IF_ERROR(CheckAstDepth(*n, limits_.max_depth));
    return n;
  }

  size_t FindOpen(size_t from) const {
    while (true) {
      size_t p = text_.find('{', from);
      if (p == std::string_view::npos || p + 1 >= text_.size()) return std::string_view::npos;
      char c = text_[p + 1];
      if (c == '{' || c == '%' || c == '#') return p;
      from = p + 1;
    }
  }

  static void AppendText(std::vector<JinjaStmt>& out, std::string_view text) {
    if (text.empty()) return;
    if (!out.empty() && out.back().kind == JinjaStmt::kText) {
      out.back().text += text;
      return;
    }
    JinjaStmt s;
    s.kind = JinjaStmt::kText;
    s.text = std::string(text);
    out.push_back(std::move(s));
  }

  std::string_view text_;
  const Limits& limits_;
  size_t pos_ = 0;
  std::string_view last_tag_;
};

}  // namespace

Result<NodePtr> ParseJinjaExpression(std::string_view text, int max_depth) {
  JinjaExprParser parser(text, max_depth);
  BORA_ASSIGN_OR_RETURN(NodePtr n, parser.ParseWhole());
  BORA_RETURN_IF_ERROR(CheckAstDepth(*n, max_depth));
  return n;
}

Result<std::vector<JinjaStmt>> ParseJinjaTemplate(std::string_view text, const Limits& limits) {
  TemplateParser parser(text, limits);
  return parser.Parse();
}

}  // namespace bora::expr::internal
