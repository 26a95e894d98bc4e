#include "orchestrator/language/inline_params.h"

#include <cctype>

namespace bora::lang {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

// End (exclusive) of a balanced [..] / {..} starting at `start`, honouring JSON strings; npos if
// unbalanced.
size_t BalancedEnd(std::string_view s, size_t start) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < s.size(); ++i) {
    char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      ++depth;
    else if (c == ']' || c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

std::string Excerpt(std::string_view s) {
  std::string out(s.substr(0, 30));
  if (s.size() > 30) out += "...";
  return out;
}

}  // namespace

bool ParseInlineParams(std::string_view text, JsonObject* params, std::string* error) {
  size_t i = 0;
  while (true) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) return true;
    size_t key_start = i;
    while (i < text.size() && IsNameChar(text[i])) ++i;
    std::string key(text.substr(key_start, i - key_start));
    if (key.empty() || i >= text.size() || text[i] != '=') {
      *error = "expected name=value at '" + Excerpt(text.substr(key_start)) + "'";
      return false;
    }
    ++i;  // '='
    if (i >= text.size()) {
      *error = "missing value after '" + key + "='";
      return false;
    }
    std::string_view rest = text.substr(i);
    Json value;
    char c = text[i];
    if (c == '"' || c == '\'') {
      size_t close = text.find(c, i + 1);
      if (close == std::string_view::npos) {
        *error = std::string("unterminated quoted value for '") + key + "'";
        return false;
      }
      value = boost::json::string(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else if (rest.substr(0, 2) == "<%" || rest.substr(0, 2) == "{{" ||
               rest.substr(0, 2) == "{%") {
      std::string_view close_tok = rest.substr(0, 2) == "<%"   ? "%>"
                                   : rest.substr(0, 2) == "{{" ? "}}"
                                                               : "%}";
      size_t close = text.find(close_tok, i + 2);
      if (close == std::string_view::npos) {
        *error = "unterminated expression for '" + key + "'";
        return false;
      }
      value = boost::json::string(text.substr(i, close + 2 - i));
      i = close + 2;
    } else if (c == '[' || c == '{') {
      size_t end = BalancedEnd(text, i);
      if (end == std::string_view::npos) {
        *error = "unbalanced '" + std::string(1, c) + "' in the value of '" + key + "'";
        return false;
      }
      std::string_view literal = text.substr(i, end - i);
      auto parsed = ParseJson(literal);
      value = parsed.ok() ? *parsed : Json(boost::json::string(literal));
      i = end;
    } else {
      size_t end = i;
      while (end < text.size() && !IsSpace(text[end])) ++end;
      std::string_view word = text.substr(i, end - i);
      auto parsed = ParseJson(word);
      value = parsed.ok() && !parsed->is_object() && !parsed->is_array()
                  ? *parsed
                  : Json(boost::json::string(word));
      i = end;
    }
    if (i < text.size() && !IsSpace(text[i]) && text[i] != ')') {
      *error =
          "unexpected text after the value of '" + key + "': '" + Excerpt(text.substr(i)) + "'";
      return false;
    }
    (*params)[key] = std::move(value);
  }
}

bool ParseCommand(std::string_view text, std::string* name, JsonObject* params,
                  std::string* error) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.find(' ') == std::string_view::npos && text.find('\t') == std::string_view::npos) {
    *name = std::string(text);
    if (name->empty()) {
      *error = "empty name";
      return false;
    }
    return true;
  }
  size_t end = 0;
  std::string_view open = text.substr(0, 2);
  if (open == "<%" || open == "{{" || open == "{%") {
    std::string_view close_tok = open == "<%" ? "%>" : open == "{{" ? "}}" : "%}";
    size_t close = text.find(close_tok, 2);
    if (close == std::string_view::npos) {
      *error = "unterminated expression";
      return false;
    }
    end = close + 2;
  } else {
    char c0 = text[0];
    if (!(std::isalnum(static_cast<unsigned char>(c0)) || c0 == '_' || c0 == '.')) {
      *error = "expected a name (letters, digits, '_', '.') first";
      return false;
    }
    while (end < text.size() && !IsSpace(text[end]) && text[end] != '=' && text[end] != '(' &&
           text[end] != '"') {
      ++end;
    }
  }
  *name = std::string(text.substr(0, end));
  std::string_view rest = text.substr(end);
  if (!rest.empty() && !IsSpace(rest.front())) {
    *error = "expected a space between the name and its parameters";
    return false;
  }
  return ParseInlineParams(rest, params, error);
}

}  // namespace bora::lang
