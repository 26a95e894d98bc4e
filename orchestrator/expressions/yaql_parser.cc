// YAQL parser: a hand-written precedence-climbing parser over the shared lexer (lexer.h, YAQL
// options) producing the shared AST (internal.h). Operator table (tightest first), as in yaql's
// factory: `.` `?.` [] (); unary + -; =~ !~; * / mod; + -; > < >= <= != = in; not; and; or; ->
// (right associative). `=>` only inside call arguments and dicts.
#include <string>

#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/lexer.h"

namespace bora::expr::internal {
namespace {

class YaqlParser {
 public:
  YaqlParser(std::string_view src, int max_depth)
      : lex_(src, YaqlLexerOptions()), max_depth_(max_depth) {}

  Result<NodePtr> Parse() {
    BORA_RETURN_IF_ERROR(Next());
    if (tok().type == Tok::kEnd) return Error("empty expression");
    BORA_ASSIGN_OR_RETURN(NodePtr n, ParseExpr(0));
    if (tok().type != Tok::kEnd) return Error("unexpected '" + tok().text + "'");
    return n;
  }

 private:
  Status Error(const std::string& what, int column = -1) {
    if (column < 0) column = tok().column;
    if (tok().type == Tok::kEnd && what.rfind("unexpected", 0) == 0)
      return InvalidArgument("unexpected end of expression at column " + std::to_string(column));
    return InvalidArgument(what + " at column " + std::to_string(column));
  }

  Status Next() { return lex_.Next(); }
  const Token& tok() const { return lex_.tok(); }

  bool IsOp(std::string_view op) const { return lex_.IsOp(op); }
  bool IsWord(std::string_view w) const { return lex_.IsName(w); }

  Status Expect(std::string_view op) {
    if (!IsOp(op)) return Error("expected '" + std::string(op) + "' but got '" + tok().text + "'");
    return Next();
  }

  static NodePtr Make(Op op, int column) {
    auto n = std::make_unique<Node>();
    n->op = op;
    n->column = column;
    return n;
  }

  // Binary precedence levels (higher binds tighter). Returns 0 if the token is not a binary
  // operator.
  int BinaryPrec(Op* op) const {
    if (tok().type == Tok::kOp) {
      const std::string& t = tok().text;
      if (t == "=~") return *op = Op::kRegexMatch, 7;
      if (t == "!~") return *op = Op::kRegexNotMatch, 7;
      if (t == "*") return *op = Op::kMul, 6;
      if (t == "/") return *op = Op::kDiv, 6;
      if (t == "+") return *op = Op::kAdd, 5;
      if (t == "-") return *op = Op::kSub, 5;
      if (t == ">") return *op = Op::kGt, 4;
      if (t == "<") return *op = Op::kLt, 4;
      if (t == ">=") return *op = Op::kGe, 4;
      if (t == "<=") return *op = Op::kLe, 4;
      if (t == "!=") return *op = Op::kNe, 4;
      if (t == "=") return *op = Op::kEq, 4;
      if (t == "->") return *op = Op::kChain, 1;
    } else if (tok().type == Tok::kName) {
      const std::string& t = tok().text;
      if (t == "mod") return *op = Op::kMod, 6;
      if (t == "in") return *op = Op::kIn, 4;
      if (t == "and") return *op = Op::kAnd, 3;
      if (t == "or") return *op = Op::kOr, 2;
    }
    return 0;
  }

  // Precedence climbing. `min_prec` is the lowest binary precedence accepted.
  Result<NodePtr> ParseExpr(int min_prec) {
    if (++depth_ > max_depth_) return Error("expression nested too deeply");
    NodePtr left;
    // Prefix `not` binds looser than comparisons, tighter than and/or.
    if (IsWord("not")) {
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr operand, ParseExpr(4));
      left = Make(Op::kNot, column);
      left->kids.push_back(std::move(operand));
    } else {
      BORA_ASSIGN_OR_RETURN(left, ParseUnary());
    }
    while (true) {
      Op op;
      int prec = BinaryPrec(&op);
      if (prec == 0 || prec < min_prec) break;
      int column = tok().column;
      BORA_RETURN_IF_ERROR(Next());
      // `->` is right associative; the others are left associative.
      BORA_ASSIGN_OR_RETURN(NodePtr right, ParseExpr(op == Op::kChain ? prec : prec + 1));
      NodePtr n = Make(op, column);
      n->kids.push_back(std::move(left));
      n->kids.push_back(std::move(right));
      left = std::move(n);
    }
    --depth_;
    return left;
  }

  Result<NodePtr> ParseUnary() {
    if (IsOp("-") || IsOp("+")) {
      if (++depth_ > max_depth_) return Error("expression nested too deeply");
      int column = tok().column;
      bool neg = IsOp("-");
      BORA_RETURN_IF_ERROR(Next());
      BORA_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary());
      --depth_;
      if (operand->op == Op::kLiteral && neg && operand->value.is_number() && !operand->flag) {
        if (operand->value.is_int64())
          operand->value = -operand->value.as_int64();
        else if (operand->value.is_double())
          operand->value = -operand->value.as_double();
        else {
          NodePtr n = Make(Op::kNeg, column);
          n->kids.push_back(std::move(operand));
          return n;
        }
        return operand;
      }
      NodePtr n = Make(neg ? Op::kNeg : Op::kPos, column);
      n->kids.push_back(std::move(operand));
      return n;
    }
    BORA_ASSIGN_OR_RETURN(NodePtr n, ParsePrimary());
    return ParsePostfix(std::move(n));
  }

  Result<NodePtr> ParsePostfix(NodePtr n) {
    while (true) {
      if (IsOp(".") || IsOp("?.")) {
        bool null_safe = IsOp("?.");
        int column = tok().column;
        BORA_RETURN_IF_ERROR(Next());
        if (tok().type == Tok::kString) {
          // `$.'key with spaces'`
          NodePtr m = Make(Op::kMember, column);
          m->flag = null_safe;
          m->name = tok().text;
          m->kids.push_back(std::move(n));
          n = std::move(m);
          BORA_RETURN_IF_ERROR(Next());
          continue;
        }
        if (tok().type != Tok::kName) return Error("expected a name after '.'");
        std::string name = tok().text;
        int name_column = tok().column;
        BORA_RETURN_IF_ERROR(Next());
        if (IsOp("(")) {
          NodePtr m = Make(Op::kMethod, name_column);
          m->name = name;
          m->flag = null_safe;
          m->kids.push_back(std::move(n));
          BORA_RETURN_IF_ERROR(ParseArgs(*m));
          m->builtin = FindYaqlBuiltin(name);
          n = std::move(m);
        } else {
          NodePtr m = Make(Op::kMember, column);
          m->flag = null_safe;
          m->name = name;
          m->kids.push_back(std::move(n));
          n = std::move(m);
        }
      } else if (IsOp("[")) {
        int column = tok().column;
        BORA_RETURN_IF_ERROR(Next());
        if (++depth_ > max_depth_) return Error("expression nested too deeply");
        BORA_ASSIGN_OR_RETURN(NodePtr index, ParseExpr(0));
        NodePtr dflt;
        if (IsOp(",")) {  // $.dict[key, default]
          BORA_RETURN_IF_ERROR(Next());
          BORA_ASSIGN_OR_RETURN(dflt, ParseExpr(0));
        }
        --depth_;
        BORA_RETURN_IF_ERROR(Expect("]"));
        NodePtr m = Make(Op::kIndex, column);
        m->kids.push_back(std::move(n));
        m->kids.push_back(std::move(index));
        if (dflt) m->kids.push_back(std::move(dflt));
        n = std::move(m);
      } else {
        return n;
      }
    }
  }

  // Parses `( arg, name => value, key => value ... )` into call->kids.
  Status ParseArgs(Node& call) {
    BORA_RETURN_IF_ERROR(Expect("("));
    if (IsOp(")")) return Next();
    while (true) {
      BORA_ASSIGN_OR_RETURN(NodePtr arg, ParseArg());
      call.kids.push_back(std::move(arg));
      if (IsOp(",")) {
        BORA_RETURN_IF_ERROR(Next());
        continue;
      }
      return Expect(")");
    }
  }

  Result<NodePtr> ParseArg() {
    if (++depth_ > max_depth_) return Error("expression nested too deeply");
    BORA_ASSIGN_OR_RETURN(NodePtr arg, ParseExpr(0));
    --depth_;
    if (!IsOp("=>")) return arg;
    int column = tok().column;
    BORA_RETURN_IF_ERROR(Next());
    if (++depth_ > max_depth_) return Error("expression nested too deeply");
    BORA_ASSIGN_OR_RETURN(NodePtr value, ParseExpr(0));
    --depth_;
    NodePtr pair = Make(Op::kPair, column);
    if (arg->op == Op::kLiteral && arg->value.is_string())
      pair->name = arg->value.as_string().c_str();
    pair->flag = !pair->name.empty() || (arg->op == Op::kLiteral && arg->value.is_string());
    pair->kids.push_back(std::move(arg));
    pair->kids.push_back(std::move(value));
    return pair;
  }

  Result<NodePtr> ParsePrimary() {
    int column = tok().column;
    switch (tok().type) {
      case Tok::kEnd:
        return Error("unexpected end of expression");
      case Tok::kNumber: {
        NodePtr n = Make(Op::kLiteral, column);
        n->value = tok().number;
        BORA_RETURN_IF_ERROR(Next());
        return n;
      }
      case Tok::kString: {
        NodePtr n = Make(Op::kLiteral, column);
        n->value = boost::json::string(tok().text);
        BORA_RETURN_IF_ERROR(Next());
        return n;
      }
      case Tok::kVariable: {
        NodePtr n;
        if (tok().text.empty()) {
          n = Make(Op::kRoot, column);
        } else {
          n = Make(Op::kVar, column);
          n->name = tok().text;
        }
        BORA_RETURN_IF_ERROR(Next());
        return n;
      }
      case Tok::kName: {
        std::string name = tok().text;
        if (tok().keyword) return Error("unexpected '" + name + "'");
        BORA_RETURN_IF_ERROR(Next());
        if (IsOp("(")) {
          NodePtr n = Make(Op::kCall, column);
          n->name = name;
          BORA_RETURN_IF_ERROR(ParseArgs(*n));
          n->builtin = FindYaqlBuiltin(name);
          return n;
        }
        NodePtr n = Make(Op::kLiteral, column);
        if (name == "true")
          n->value = true;
        else if (name == "false")
          n->value = false;
        else if (name == "null")
          n->value = nullptr;
        else {
          n->value = boost::json::string(name);  // bare identifiers are strings
          n->flag = true;
        }
        return n;
      }
      case Tok::kOp:
        break;
    }
    if (IsOp("(")) {
      BORA_RETURN_IF_ERROR(Next());
      if (++depth_ > max_depth_) return Error("expression nested too deeply");
      BORA_ASSIGN_OR_RETURN(NodePtr n, ParseExpr(0));
      --depth_;
      BORA_RETURN_IF_ERROR(Expect(")"));
      return n;
    }
    if (IsOp("[")) {
      NodePtr n = Make(Op::kList, column);
      BORA_RETURN_IF_ERROR(Next());
      if (IsOp("]")) {
        BORA_RETURN_IF_ERROR(Next());
        return n;
      }
      while (true) {
        if (++depth_ > max_depth_) return Error("expression nested too deeply");
        BORA_ASSIGN_OR_RETURN(NodePtr item, ParseExpr(0));
        --depth_;
        n->kids.push_back(std::move(item));
        if (IsOp(",")) {
          BORA_RETURN_IF_ERROR(Next());
          continue;
        }
        BORA_RETURN_IF_ERROR(Expect("]"));
        return n;
      }
    }
    if (IsOp("{")) {
      NodePtr n = Make(Op::kDict, column);
      BORA_RETURN_IF_ERROR(Next());
      if (IsOp("}")) {
        BORA_RETURN_IF_ERROR(Next());
        return n;
      }
      while (true) {
        if (++depth_ > max_depth_) return Error("expression nested too deeply");
        BORA_ASSIGN_OR_RETURN(NodePtr key, ParseExpr(0));
        BORA_RETURN_IF_ERROR(Expect("=>"));
        BORA_ASSIGN_OR_RETURN(NodePtr value, ParseExpr(0));
        --depth_;
        n->kids.push_back(std::move(key));
        n->kids.push_back(std::move(value));
        if (IsOp(",")) {
          BORA_RETURN_IF_ERROR(Next());
          continue;
        }
        BORA_RETURN_IF_ERROR(Expect("}"));
        return n;
      }
    }
    return Error("unexpected '" + tok().text + "'");
  }

  Lexer lex_;
  int depth_ = 0;
  int max_depth_;
};

}  // namespace

Status CheckAstDepth(const Node& root, int max_depth) {
  std::vector<std::pair<const Node*, int>> stack{{&root, 1}};
  while (!stack.empty()) {
    auto [n, d] = stack.back();
    stack.pop_back();
    if (d > max_depth)
      return InvalidArgument("expression nested too deeply (more than " +
                             std::to_string(max_depth) + " levels)");
    for (const NodePtr& k : n->kids)
      if (k) stack.emplace_back(k.get(), d + 1);
  }
  return Status::Ok();
}

Result<NodePtr> ParseYaql(std::string_view text, int max_depth) {
  YaqlParser parser(text, max_depth);
  BORA_ASSIGN_OR_RETURN(NodePtr n, parser.Parse());
  BORA_RETURN_IF_ERROR(CheckAstDepth(*n, max_depth));
  return n;
}

}  // namespace bora::expr::internal
