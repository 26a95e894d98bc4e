#include "workers/external_actions.h"

#include <cctype>
#include <string>
#include <vector>

#include "common/fields.h"

namespace bora::workers {
namespace {

bool IsName(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0])) && s[0] != '_') return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Splits "a, b=1, c='x, y'" at the commas outside quotes and brackets.
std::vector<std::string> SplitTopLevel(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(cur);
  return out;
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\n");
  size_t e = s.find_last_not_of(" \t\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

}  // namespace

template <typename S, typename V>
void VisitFields(S& p, V& v) requires std::same_as<std::remove_const_t<S>, ActionParam> {
  v.Str("name", p.name, fields::kRequired);
  v.Bool("required", p.required);
  v.Value("default", p.default_value, fields::kAny);
}

template <typename S, typename V>
void VisitFields(S& s, V& v) requires std::same_as<std::remove_const_t<S>, ActionSignature> {
  v.Str("name", s.name, fields::kRequired);
  v.Str("pool", s.pool, fields::kRequired);
  v.Array("params", s.params);
  v.Bool("accepts_any_params", s.accepts_any_params);
  v.Str("description", s.description);
}

// An input spec as Mistral lists an action's input ("text, suffix=''", "n=1, opts={}"): the
// parameters, each required or with a default (JSON, or a quoted string).
Result<std::vector<ActionParam>> ParseActionInputSpec(std::string_view spec) {
  return ParseActionInputSpec(spec, nullptr);
}

Result<std::vector<ActionParam>> ParseActionInputSpec(std::string_view spec, bool* any_keyword) {
  std::vector<ActionParam> params;
  if (Trim(std::string(spec)).empty()) return params;
  for (std::string piece : SplitTopLevel(spec)) {
    piece = Trim(piece);
    if (any_keyword != nullptr && !piece.empty() && piece[0] == '*') {
      if (piece.rfind("**", 0) == 0) *any_keyword = true;
      continue;
    }
    ActionParam p;
    size_t eq = piece.find('=');
    p.name = Trim(piece.substr(0, eq));
    if (!IsName(p.name)) {
      return InvalidArgument("input: '" + piece + "' is not a parameter (name or name=default)");
    }
    if (eq == std::string::npos) {
      p.required = true;
    } else {
      std::string literal = Trim(piece.substr(eq + 1));
      if (literal.size() >= 2 && literal.front() == '\'' && literal.back() == '\'') {
        p.default_value = Json(literal.substr(1, literal.size() - 2));
      } else if (literal == "None") {
        p.default_value = nullptr;
      } else if (literal == "True" || literal == "False") {
        p.default_value = literal == "True";
      } else if (auto parsed = ParseJson(literal); parsed.ok()) {
        p.default_value = std::move(*parsed);
      } else {
        p.default_value = Json(literal);
      }
    }
    params.push_back(std::move(p));
  }
  return params;
}

Json ExternalActionRecord(const ActionSignature& signature) { return fields::ToJson(signature); }

Result<ActionSignature> ExternalActionFromRecord(const Json& record) {
  ActionSignature s;
  BORA_RETURN_IF_ERROR(fields::FromJson(record, s, "external action record"));
  if (s.name.empty() || s.pool.empty()) {
    return InvalidArgument("external action record: name and pool must not be empty");
  }
  return s;
}

}  // namespace bora::workers
