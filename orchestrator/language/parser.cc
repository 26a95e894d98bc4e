// ParseDocument and ValidationError::ToString; the YAML-node helpers (parser_internal.h) and the
// Parser's key checks, expression compilation and value helpers (mappings, lists, inputs). Tasks
// are parsed in parser_tasks.cc, workflows, ad-hoc actions and the document kinds in
// parser_workflows.cc.
#include "orchestrator/language/parser.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <map>
#include <set>
#include <utility>

#include "common/ids.h"
#include "orchestrator/language/inline_params.h"
#include "orchestrator/language/parser_internal.h"

namespace bora::lang {
namespace parser_internal {

bool Contains(std::initializer_list<std::string_view> list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string Join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string Snippet(const YamlNode& node) {
  if (node.kind != YamlNode::Kind::kScalar) return std::string(YamlTypeName(node));
  std::string text = node.scalar.is_string() ? PythonRepr(node.scalar) : DumpJson(node.scalar);
  if (text.size() > 60) {
    // Cut at a character boundary: never inside a UTF-8 sequence (the message must stay UTF-8).
    size_t cut = 57;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    text = text.substr(0, cut) + "...";
  }
  return std::string(YamlTypeName(node)) + " " + text;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Mistral's EXPRESSION type: a string that is one YAQL or Jinja expression.
bool IsExpressionText(std::string_view raw) {
  std::string_view s = Trim(raw);
  if (s.size() < 4) return false;
  auto ends = [&](std::string_view open, std::string_view close) {
    return s.substr(0, 2) == open && s.substr(s.size() - 2) == close;
  };
  return ends("<%", "%>") || ends("{{", "}}") || ends("{%", "%}");
}

bool IsExpressionNode(const YamlNode& node) {
  return node.IsString() && IsExpressionText(node.scalar.get_string());
}

bool IsNonNegativeInt(const YamlNode& node) {
  if (node.kind != YamlNode::Kind::kScalar) return false;
  if (node.scalar.is_uint64()) return true;
  return node.scalar.is_int64() && node.scalar.get_int64() >= 0;
}

bool IsNonEmptyString(const YamlNode& node) {
  return node.IsString() && !node.scalar.get_string().empty();
}

void Parser::CheckKeys(const YamlNode& map,
                       std::initializer_list<std::initializer_list<std::string_view>> allowed,
                       std::string_view where, std::string_view hint_for,
                       std::initializer_list<std::string_view> hint_keys, std::string_view hint) {
  for (const auto& e : map.entries) {
    bool ok = false;
    for (const auto& list : allowed) ok = ok || Contains(list, e.key);
    if (ok) continue;
    if (!hint.empty() && Contains(hint_keys, e.key)) {
      KeyError(e, "key '" + e.key + "' is not allowed in " + std::string(hint_for) + " (" +
                      std::string(hint) + ")");
      continue;
    }
    std::vector<std::string> names;
    std::string best;
    size_t best_distance = 3;
    for (const auto& list : allowed) {
      for (std::string_view k : list) {
        if (k == "name" || k == "version" || k == "type") {
          if (where == "task") continue;  // accepted but not worth advertising
        }
        names.emplace_back(k);
        size_t d = EditDistance(e.key, k);
        size_t common = 0;
        while (common < e.key.size() && common < k.size() && e.key[common] == k[common]) ++common;
        if (common >= 4 && d < 4 && best.empty()) d = 2;  // `retries` -> `retry`
        if (d < best_distance) {
          best_distance = d;
          best = std::string(k);
        }
      }
    }
    std::string msg = "unknown key '" + e.key + "' in " + std::string(where);
    if (!best.empty()) msg += " (did you mean '" + best + "'?)";
    msg += "; expected one of: " + Join(names, ", ");
    KeyError(e, std::move(msg));
  }
}

void Parser::ReportUnknownFunctions(const expr::Template& t, const YamlNode& at,
                                    std::string_view what) {
  if (!options_.strict) return;
  for (const auto& name : t.UnknownFunctions()) {
    // The string leaf that calls it, for the location.
    const YamlNode* where = &at;
    std::function<bool(const YamlNode&)> find = [&](const YamlNode& n) {
      if (n.IsString()) {
        const auto& s = n.scalar.get_string();
        auto one = expr::Template::CompileString(std::string_view(s.data(), s.size()));
        if (one.ok()) {
          auto names = one->UnknownFunctions();
          if (std::find(names.begin(), names.end(), name) != names.end()) {
            where = &n;
            return true;
          }
        }
      }
      for (const auto& item : n.items) {
        if (find(*item)) return true;
      }
      for (const auto& e : n.entries) {
        if (find(*e.value)) return true;
      }
      return false;
    };
    find(at);
    if (name.find(" is not supported: ") != std::string::npos) {
      Error(*where, name + " (in '" + std::string(what) + "'; evaluating it would fail the task)");
    } else {
      Error(*where, "unknown function " + name + " in '" + std::string(what) +
                        "' (evaluating it would fail the task)");
    }
  }
}

std::optional<expr::Template> Parser::CompileJson(const Json& value, const YamlNode& at,
                                                  std::string_view what) {
  auto compiled = expr::Template::Compile(value);
  if (compiled.ok()) {
    ReportUnknownFunctions(*compiled, at, what);
    reads_sub_tasks_ = reads_sub_tasks_ || compiled->CallsRecursiveTasks();
    return std::move(compiled).value();
  }
  Error(at, "invalid expression in '" + std::string(what) + "': " + compiled.status().message());
  return std::nullopt;
}

std::optional<expr::Template> Parser::CompileNode(const YamlNode& node, std::string_view what) {
  auto compiled = expr::Template::Compile(YamlToJson(node));
  if (compiled.ok()) {
    ReportUnknownFunctions(*compiled, node, what);
    reads_sub_tasks_ = reads_sub_tasks_ || compiled->CallsRecursiveTasks();
    return std::move(compiled).value();
  }
  // Find the string leaf that fails, to report its location.
  const YamlNode* bad = nullptr;
  std::string message = compiled.status().message();
  std::function<void(const YamlNode&)> walk = [&](const YamlNode& n) {
    if (bad) return;
    if (n.IsString()) {
      const auto& s = n.scalar.get_string();
      if (!expr::ContainsExpression(std::string_view(s.data(), s.size()))) return;
      auto one = expr::Template::CompileString(std::string_view(s.data(), s.size()));
      if (!one.ok()) {
        bad = &n;
        message = one.status().message();
      }
    }
    for (const auto& item : n.items) walk(*item);
    for (const auto& e : n.entries) walk(*e.value);
  };
  walk(node);
  Error(bad ? *bad : node, "invalid expression in '" + std::string(what) + "': " + message);
  return std::nullopt;
}

std::optional<expr::Template> Parser::ExprOrNonNegInt(const YamlNode& node, std::string_view key) {
  if (IsNonNegativeInt(node) || IsExpressionNode(node)) return CompileNode(node, key);
  Error(node, "'" + std::string(key) +
                  "' must be a non-negative integer or an expression (<% ... %>), got " +
                  Snippet(node));
  return std::nullopt;
}

std::optional<expr::Template> Parser::ExprOrBool(const YamlNode& node, std::string_view key) {
  if ((node.kind == YamlNode::Kind::kScalar && node.scalar.is_bool()) || IsExpressionNode(node)) {
    return CompileNode(node, key);
  }
  Error(node, "'" + std::string(key) + "' must be a boolean or an expression (<% ... %>), got " +
                  Snippet(node));
  return std::nullopt;
}

std::optional<expr::Template> Parser::NonEmptyMapping(const YamlNode& node, std::string_view key) {
  if (!node.IsMapping() || node.entries.empty()) {
    Error(node, "'" + std::string(key) + "' must be a non-empty mapping, got " + Snippet(node));
    return std::nullopt;
  }
  return CompileNode(node, key);
}

bool Parser::NonEmptyStringValue(const YamlNode& node, std::string_view key, std::string* out) {
  if (!IsNonEmptyString(node)) {
    Error(node, "'" + std::string(key) + "' must be a non-empty string, got " + Snippet(node));
    return false;
  }
  *out = std::string(node.scalar.get_string());
  return true;
}

std::vector<std::string> Parser::StringOrUniqueList(const YamlNode& node, std::string_view key,
                                                    bool allow_string) {
  std::vector<std::string> out;
  if (allow_string && IsNonEmptyString(node)) {
    out.emplace_back(node.scalar.get_string());
    return out;
  }
  std::string expected = allow_string ? "a non-empty string or a non-empty list of unique strings"
                                      : "a non-empty list of unique strings";
  if (!node.IsSequence() || node.items.empty()) {
    Error(node, "'" + std::string(key) + "' must be " + expected + ", got " + Snippet(node));
    return out;
  }
  std::set<std::string> seen;
  for (const auto& item : node.items) {
    if (!IsNonEmptyString(*item)) {
      Error(*item,
            "items of '" + std::string(key) + "' must be non-empty strings, got " + Snippet(*item));
      continue;
    }
    std::string s(item->scalar.get_string());
    if (!seen.insert(s).second) {
      Error(*item,
            "'" + std::string(key) + "' lists '" + s + "' more than once (items must be unique)");
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<InputParam> Parser::InputList(const YamlNode& node) {
  std::vector<InputParam> out;
  if (!node.IsSequence() || node.items.empty()) {
    Error(node, "'input' must be a non-empty list of names or {name: default} mappings, got " +
                    Snippet(node));
    return out;
  }
  std::set<std::string> names;
  for (const auto& item : node.items) {
    InputParam p;
    if (IsNonEmptyString(*item)) {
      p.name = std::string(item->scalar.get_string());
    } else if (item->IsMapping() && item->entries.size() == 1) {
      p.name = item->entries[0].key;
      p.has_default = true;
      p.default_value = YamlToJson(*item->entries[0].value);
    } else {
      Error(*item, "items of 'input' must be a name or a one-key mapping {name: default}, got " +
                       Snippet(*item));
      continue;
    }
    if (!names.insert(p.name).second) {
      Error(*item, "input parameter '" + p.name + "' is declared more than once");
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace parser_internal

using parser_internal::Join;
using parser_internal::Parser;

std::string ValidationError::ToString() const {
  std::string out = location.file.empty() ? "<input>" : location.file;
  if (location.line > 0) {
    out += ":" + std::to_string(location.line) + ":" + std::to_string(location.column);
  }
  out += ": ";
  if (!workflow.empty()) {
    out += "workflow '" + workflow + "'";
    if (!task.empty()) out += ", task '" + task + "'";
    out += ": ";
  } else if (!task.empty()) {
    out += "task '" + task + "': ";
  }
  out += message;
  return out;
}

Result<Document> ParseDocument(std::string_view yaml_text, const ParseOptions& options,
                               std::vector<ValidationError>* errors) {
  std::vector<ValidationError> local;
  if (errors == nullptr) errors = &local;
  errors->clear();
  YamlLimits limits;
  limits.max_document_bytes = options.max_document_bytes;
  limits.max_depth = options.max_depth;
  limits.max_aliases = options.max_aliases;
  limits.max_nodes = options.max_nodes;
  int line = 0, column = 0;
  auto loaded = LoadYaml(yaml_text, limits, &line, &column);
  if (!loaded.ok()) {
    ValidationError e;
    e.location =
        SourceLocation{options.file_name.empty() ? "<input>" : options.file_name, line, column};
    e.message = loaded.status().message();
    errors->push_back(e);
    return Status(loaded.status().code(), e.ToString());
  }
  Document doc;
  Parser parser(options, errors);
  try {
    parser.ParseRoot(**loaded, &doc);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while parsing the workflow definition");
  } catch (const std::exception& ex) {
    return Internal(std::string("unexpected error while parsing the workflow definition: ") +
                    ex.what());
  }
  if (!errors->empty()) {
    std::vector<std::string> lines;
    lines.reserve(errors->size());
    for (const auto& e : *errors) lines.push_back(e.ToString());
    if (parser.dropped_errors_ > 0) {
      lines.push_back("... and " + std::to_string(parser.dropped_errors_) + " more errors");
    }
    return InvalidArgument(Join(lines, "\n"));
  }
  doc.source_text = std::string(yaml_text);
  return doc;
}

Result<Document> ParseDocument(std::string_view yaml_text, const ParseOptions& options) {
  return ParseDocument(yaml_text, options, nullptr);
}

}  // namespace bora::lang
