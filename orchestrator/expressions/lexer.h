#pragma once
// The lexer the YAQL and Jinja parsers share (internal, see README.md): whitespace, names, numbers,
// quoted strings with their escapes, operators and punctuation, each token with its 1-based column
// for error messages. What differs between the two languages is data (LexerOptions): YAQL has
// `$name` variables, backtick strings and its operator set (`?.` `=~` `!~` `->` `=>`); Jinja has
// digit separators (`1_000`) and its own (`//` `**` `==` `%` `~` `:` `|`); each has its operator
// words. A Lexer is a small value: copy it to look ahead and copy it back to backtrack.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace bora::expr::internal {

enum class Tok : uint8_t {
  kEnd,       // end of the expression (text "end of expression")
  kNumber,    // number: the value, text the digits without separators
  kString,    // quoted string literal: text decoded
  kName,      // identifier, keyword = it is one of the language's operator words
  kVariable,  // YAQL `$name` (text "name") or `$` (empty text)
  kOp,        // operator or punctuation, text as written
};

struct Token {
  Tok type = Tok::kEnd;
  bool keyword = false;
  int column = 0;  // 1-based column of the token's first character
  std::string text;
  Json number;
};

// What the two languages do differently. The operator list is tried in order, so every operator
// comes before its own prefixes (longest match).
struct LexerOptions {
  // `$` and `$name` are variables (else `$` is an unexpected character).
  bool dollar_variables = false;
  // `` `text` `` is a string, and "\`" an escape in any string.
  bool backtick_strings = false;
  // `_` between the digits of a number is skipped.
  bool digit_separators = false;
  std::span<const std::string_view> operators;
  // Names that set Token::keyword (4 characters at most).
  std::span<const std::string_view> keywords;
};

const LexerOptions& YaqlLexerOptions();
const LexerOptions& JinjaLexerOptions();

class Lexer {
 public:
  Lexer(std::string_view src, const LexerOptions& options) : src_(src), options_(&options) {}

  // Reads the next token into tok(). Errors ("unexpected character 'c' at column N", "unterminated
  // string at column N", "number ... is out of range ...") are final: do not call Next() again.
  Status Next();

  const Token& tok() const { return tok_; }
  bool IsOp(std::string_view op) const { return tok_.type == Tok::kOp && tok_.text == op; }
  bool IsName(std::string_view name) const { return tok_.type == Tok::kName && tok_.text == name; }

 private:
  Status LexNumber();
  Status LexString(char quote);
  size_t SkipDigits(size_t pos) const;

  std::string_view src_;
  const LexerOptions* options_;
  size_t pos_ = 0;
  Token tok_;
};

// Finds `close` (`}}` or `%}`) at or after text[from], as Jinja's lexer does: only outside string
// literals ('...' or "...", with backslash escapes) and when every (, [ and { opened inside the tag
// is closed (`{{ {'a': {'b': 1}} }}`, `{{ '}}' }}`). Returns the index of `close` or npos.
size_t FindTagClose(std::string_view text, size_t from, std::string_view close);

}  // namespace bora::expr::internal
