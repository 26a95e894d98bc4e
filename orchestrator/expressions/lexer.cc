// The shared YAQL / Jinja lexer (lexer.h).
#include "orchestrator/expressions/lexer.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "orchestrator/expressions/internal.h"

namespace bora::expr::internal {
namespace {

// yaql's operators and punctuation; `==` is two `=` and is refused by the parser.
constexpr std::string_view kYaqlOperators[] = {"?.", "=~", "!~", ">=", "<=", "!=", "->", "=>",
                                               ".",  "+",  "-",  "*",  "/",  ">",  "<",  "=",
                                               "(",  ")",  "[",  "]",  "{",  "}",  ","};
// Names the YAQL grammar keeps for operators: they cannot be a bare-name string.
constexpr std::string_view kYaqlKeywords[] = {"and", "or", "mod", "in", "not"};

// Jinja2's operators that expressions use; `=` only in `{% set %}` and keyword arguments.
constexpr std::string_view kJinjaOperators[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "*",
                                                "/",  "%",  "~",  "<",  ">",  "=",  "(", ")", "[",
                                                "]",  "{",  "}",  ",",  ".",  ":",  "|"};
// Names the Jinja grammar keeps for operators: they do not start the argument of `x is test arg`.
constexpr std::string_view kJinjaKeywords[] = {"and", "or", "if", "else", "is", "in", "not"};
// Longer names are never keywords (checked before the list is scanned).
constexpr size_t kMaxKeywordSize = 4;
constexpr bool KeywordsFit(std::span<const std::string_view> words) {
  for (std::string_view w : words)
    if (w.size() > kMaxKeywordSize) return false;
  return true;
}
static_assert(KeywordsFit(kYaqlKeywords) && KeywordsFit(kJinjaKeywords));

bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Decodes `\uXXXX` at src[pos] (just after the `u`); returns false if not 4 hex digits.
bool DecodeU4(std::string_view src, size_t& pos, std::string& out) {
  if (pos + 4 > src.size()) return false;
  uint32_t cp = 0;
  for (size_t i = 0; i < 4; ++i) {
    char h = src[pos + i];
    cp <<= 4;
    if (h >= '0' && h <= '9')
      cp |= static_cast<uint32_t>(h - '0');
    else if (h >= 'a' && h <= 'f')
      cp |= static_cast<uint32_t>(h - 'a' + 10);
    else if (h >= 'A' && h <= 'F')
      cp |= static_cast<uint32_t>(h - 'A' + 10);
    else
      return false;
  }
  pos += 4;
  AppendUtf8(out, cp);
  return true;
}

// Appends what the escape `\e` of a quoted string literal means (the backslash and `e` already
// read); `\u` takes four hex digits at src[pos]. Unknown escapes stay as written.
void AppendEscape(char e, std::string_view src, size_t& pos, std::string& out, bool backtick) {
  switch (e) {
    case 'n':
      out += '\n';
      return;
    case 't':
      out += '\t';
      return;
    case 'r':
      out += '\r';
      return;
    case '\\':
      out += '\\';
      return;
    case '\'':
      out += '\'';
      return;
    case '"':
      out += '"';
      return;
    case 'u':
      if (!DecodeU4(src, pos, out)) out += "\\u";
      return;
    case '`':
      if (backtick) {
        out += '`';
        return;
      }
      break;
    default:
      break;
  }
  out += '\\';
  out += e;
}

}  // namespace

const LexerOptions& YaqlLexerOptions() {
  static const LexerOptions kOptions{.dollar_variables = true,
                                     .backtick_strings = true,
                                     .digit_separators = false,
                                     .operators = kYaqlOperators,
                                     .keywords = kYaqlKeywords};
  return kOptions;
}

const LexerOptions& JinjaLexerOptions() {
  static const LexerOptions kOptions{.dollar_variables = false,
                                     .backtick_strings = false,
                                     .digit_separators = true,
                                     .operators = kJinjaOperators,
                                     .keywords = kJinjaKeywords};
  return kOptions;
}

Status Lexer::Next() {
  while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
  // Reset field by field: the text keeps its buffer from token to token.
  tok_.type = Tok::kEnd;
  tok_.keyword = false;
  tok_.column = static_cast<int>(pos_) + 1;
  tok_.text.clear();
  tok_.number = nullptr;
  if (pos_ >= src_.size()) {
    tok_.text = "end of expression";
    return Status::Ok();
  }
  char c = src_[pos_];
  if (IsDigit(c)) return LexNumber();
  if (c == '\'' || c == '"' || (c == '`' && options_->backtick_strings)) return LexString(c);
  if (c == '$' && options_->dollar_variables) {
    size_t start = ++pos_;
    while (pos_ < src_.size() && IsNameChar(src_[pos_])) ++pos_;
    tok_.type = Tok::kVariable;
    tok_.text.assign(src_.substr(start, pos_ - start));
    return Status::Ok();
  }
  if (IsNameStart(c)) {
    size_t start = pos_;
    while (pos_ < src_.size() && IsNameChar(src_[pos_])) ++pos_;
    tok_.type = Tok::kName;
    tok_.text.assign(src_.substr(start, pos_ - start));
    if (tok_.text.size() <= kMaxKeywordSize) {
      for (std::string_view k : options_->keywords) {
        if (tok_.text == k) {
          tok_.keyword = true;
          break;
        }
      }
    }
    return Status::Ok();
  }
  for (std::string_view op : options_->operators) {
    if (src_.substr(pos_, op.size()) == op) {
      pos_ += op.size();
      tok_.type = Tok::kOp;
      tok_.text.assign(op);
      return Status::Ok();
    }
  }
  return InvalidArgument(std::string("unexpected character '") + c + "' at column " +
                         std::to_string(tok_.column));
}

size_t Lexer::SkipDigits(size_t pos) const {
  while (pos < src_.size() &&
         (IsDigit(src_[pos]) || (options_->digit_separators && src_[pos] == '_')))
    ++pos;
  return pos;
}

// Digits, then `.digits` (a digit must follow the dot: `x.0` and `1.` stay apart), then an exponent
// when a digit follows `e`/`E` and its sign. Integers that do not fit int64 become doubles.
Status Lexer::LexNumber() {
  size_t start = pos_;
  bool is_float = false;
  pos_ = SkipDigits(pos_);
  if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
    is_float = true;
    pos_ = SkipDigits(pos_ + 1);
  }
  if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
    size_t p = pos_ + 1;
    if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
    if (p < src_.size() && IsDigit(src_[p])) {
      is_float = true;
      pos_ = SkipDigits(p);
    }
  }
  std::string text;
  if (options_->digit_separators) {
    for (char ch : src_.substr(start, pos_ - start))
      if (ch != '_') text += ch;
  } else {
    text = std::string(src_.substr(start, pos_ - start));
  }
  tok_.type = Tok::kNumber;
  if (is_float) {
    tok_.number = std::strtod(text.c_str(), nullptr);
  } else {
    int64_t v = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), v);
    if (r.ec != std::errc())
      tok_.number = std::strtod(text.c_str(), nullptr);
    else
      tok_.number = v;
  }
  tok_.text = std::move(text);
  if (tok_.number.is_double() && !std::isfinite(tok_.number.get_double())) {
    return InvalidArgument("number " + tok_.text +
                           " is out of range: JSON numbers must be finite (at most "
                           "1.7976931348623157e+308)");
  }
  return Status::Ok();
}

Status Lexer::LexString(char quote) {
  int column = static_cast<int>(pos_) + 1;
  ++pos_;
  std::string out;
  while (true) {
    if (pos_ >= src_.size())
      return InvalidArgument("unterminated string at column " + std::to_string(column));
    char c = src_[pos_++];
    if (c == quote) break;
    if (c == '\\' && pos_ < src_.size()) {
      char e = src_[pos_++];
      AppendEscape(e, src_, pos_, out, options_->backtick_strings);
      continue;
    }
    out += c;
  }
  tok_.type = Tok::kString;
  tok_.text = std::move(out);
  return Status::Ok();
}

size_t FindTagClose(std::string_view text, size_t from, std::string_view close) {
  int depth = 0;
  char quote = 0;
  for (size_t i = from; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
      continue;
    }
    if (depth == 0 && text.compare(i, close.size(), close) == 0) return i;
    if (depth == 0 && close[0] == '}' && c == '-' && text.compare(i + 1, close.size(), close) == 0)
      return i + 1;
    switch (c) {
      case '\'':
      case '"':
        quote = c;
        break;
      case '(':
      case '[':
      case '{':
        ++depth;
        break;
      case ')':
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return std::string_view::npos;
}

}  // namespace bora::expr::internal
