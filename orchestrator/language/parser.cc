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
#include "orchestrator/language/yaml_loader.h"

namespace bora::lang {
namespace {

using Entry = YamlNode::Entry;

constexpr size_t kMaxTaskNameLength = 255;
constexpr size_t kMaxJoinTaskNameLength = 255 - 47;

const std::initializer_list<std::string_view> kWorkbookKeys = {
    "version", "name", "description", "tags", "workflows", "actions"};
const std::initializer_list<std::string_view> kWorkflowKeys = {
    "type", "description",   "tags",    "tasks", "input", "output", "output-on-error",
    "vars", "task-defaults", "version", "name"};
const std::initializer_list<std::string_view> kTaskDefaultsKeys = {
    "on-success", "on-error", "on-complete",  "on-skip",     "requires", "retry",     "wait-before",
    "wait-after", "timeout",  "pause-before", "concurrency", "fail-on",  "safe-rerun"};
const std::initializer_list<std::string_view> kCommonTaskKeys = {"name",
                                                                 "description",
                                                                 "tags",
                                                                 "type",
                                                                 "version",
                                                                 "action",
                                                                 "workflow",
                                                                 "input",
                                                                 "publish",
                                                                 "publish-on-error",
                                                                 "publish-on-skip",
                                                                 "with-items",
                                                                 "concurrency",
                                                                 "retry",
                                                                 "wait-before",
                                                                 "wait-after",
                                                                 "timeout",
                                                                 "pause-before",
                                                                 "fail-on",
                                                                 "keep-result",
                                                                 "safe-rerun",
                                                                 "target"};
const std::initializer_list<std::string_view> kDirectTaskKeys = {"on-success", "on-error",
                                                                 "on-complete", "on-skip", "join"};
const std::initializer_list<std::string_view> kReverseTaskKeys = {"requires"};
const std::initializer_list<std::string_view> kActionKeys = {
    "base", "base-input", "input", "output", "name", "description", "tags", "version"};
const std::initializer_list<std::string_view> kRetryKeys = {"count", "delay", "break-on",
                                                            "continue-on"};
const std::initializer_list<std::string_view> kEngineCommands = {"fail", "succeed", "pause",
                                                                 "noop"};

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
  if (text.size() > 60) text = text.substr(0, 57) + "...";
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

// Python's float() of a version value.
bool VersionIsTwo(const YamlNode& node) {
  if (node.kind != YamlNode::Kind::kScalar) return false;
  const Json& v = node.scalar;
  if (v.is_int64()) return v.get_int64() == 2;
  if (v.is_uint64()) return v.get_uint64() == 2;
  if (v.is_double()) return v.get_double() == 2.0;
  if (!v.is_string()) return false;
  std::string text(Trim(std::string_view(v.get_string())));
  if (text.empty()) return false;
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && d == 2.0;
}

class Parser {
 public:
  Parser(const ParseOptions& options, std::vector<ValidationError>* errors)
      : options_(options), errors_(errors) {
    file_ = options.file_name.empty() ? "<input>" : options.file_name;
  }

  void ParseRoot(const YamlNode& root, Document* doc);

  static constexpr size_t kMaxErrors = 100;

  void AddError(int line, int column, std::string message) {
    if (errors_->size() >= kMaxErrors) {
      ++dropped_errors_;
      return;
    }
    for (const auto& prev : *errors_) {
      // A task-defaults clause checked for every task would repeat the same error.
      if (prev.location.line == line && prev.location.column == column && prev.message == message)
        return;
    }
    ValidationError e;
    e.location = SourceLocation{file_, line, column};
    e.workflow = workflow_;
    e.task = task_;
    e.message = std::move(message);
    errors_->push_back(std::move(e));
  }
  void Error(const YamlNode& at, std::string message) {
    AddError(at.line, at.column, std::move(message));
  }
  void KeyError(const Entry& at, std::string message) {
    AddError(at.key_line, at.key_column, std::move(message));
  }

 private:
  SourceLocation Loc(const YamlNode& n) const { return SourceLocation{file_, n.line, n.column}; }
  SourceLocation Loc(const Entry& e) const {
    return SourceLocation{file_, e.key_line, e.key_column};
  }

  // Rejects keys not in `allowed` (merged lists); `where` names the entity ("task", "workflow").
  void CheckKeys(const YamlNode& map,
                 std::initializer_list<std::initializer_list<std::string_view>> allowed,
                 std::string_view where, std::string_view hint_for = {},
                 std::initializer_list<std::string_view> hint_keys = {},
                 std::string_view hint = {});

  std::optional<expr::Template> CompileNode(const YamlNode& node, std::string_view what);
  // With options_.strict: an error per unknown function `t` calls, at the string leaf under `at` that
  // calls it.
  void ReportUnknownFunctions(const expr::Template& t, const YamlNode& at, std::string_view what);
  std::optional<expr::Template> CompileJson(const Json& value, const YamlNode& at,
                                            std::string_view what);

  std::optional<expr::Template> ExprOrNonNegInt(const YamlNode& node, std::string_view key);
  std::optional<expr::Template> ExprOrBool(const YamlNode& node, std::string_view key);
  std::optional<expr::Template> NonEmptyMapping(const YamlNode& node, std::string_view key);
  bool NonEmptyStringValue(const YamlNode& node, std::string_view key, std::string* out);
  std::vector<std::string> StringOrUniqueList(const YamlNode& node, std::string_view key,
                                              bool allow_string);
  std::vector<InputParam> InputList(const YamlNode& node);

  std::optional<RetrySpec> Retry(const YamlNode& node);
  std::optional<OnClause> OnClauseOf(const YamlNode& node, std::string_view key);
  bool TransitionItemOf(const YamlNode& item, std::vector<TransitionItem>* out,
                        std::string_view key);
  bool TransitionText(const std::string& text, const YamlNode* condition, const YamlNode& at,
                      TransitionItem* out);
  std::vector<WithItemsVar> WithItems(const YamlNode& node);

  void ParseWorkflow(const Entry& entry, const std::string& workbook, WorkflowSpec* wf);
  void ParseTaskDefaults(const YamlNode& node, WorkflowType type, TaskDefaultsSpec* defaults);
  void ParseTask(const Entry& entry, WorkflowType type, TaskSpec* task);
  void ResolveDefaults(const TaskDefaultsSpec& defaults, WorkflowType type, bool own_safe_rerun,
                       TaskSpec* task);
  void ValidateGraph(const YamlNode& node, WorkflowSpec* wf);
  void ParseAction(const Entry& entry, const std::string& workbook, AdhocActionSpec* action);
  void CheckVersion(const YamlNode& node);

  bool IsEntryToParse(const Entry& e, const char* kind, bool workbook_names);
  void ParseWorkflowsMap(const YamlNode& map, const std::string& workbook, bool workbook_names,
                         Document* doc);
  void ParseActionsMap(const YamlNode& map, const std::string& workbook, bool workbook_names,
                       Document* doc);

  const ParseOptions& options_;
  std::vector<ValidationError>* errors_;
  std::string file_;
  std::string workflow_;  // current context for errors
  bool reads_sub_tasks_ = false;  // an expression of the current workflow calls tasks(recursive)
  std::string task_;

 public:
  size_t dropped_errors_ = 0;
};

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

std::optional<RetrySpec> Parser::Retry(const YamlNode& node) {
  // The one-line form `count=3 delay=1 break-on=<% ... %>` becomes a mapping of JSON values.
  std::vector<std::pair<std::string, Json>> values;
  std::vector<std::pair<std::string, const YamlNode*>> nodes;
  if (IsNonEmptyString(node)) {
    JsonObject params;
    std::string err;
    if (!ParseInlineParams(std::string_view(node.scalar.get_string()), &params, &err)) {
      Error(node, "invalid one-line 'retry': " + err +
                      " (expected e.g. 'count=3 delay=1 break-on=<% ... %>')");
      return std::nullopt;
    }
    for (auto& kv : params) values.emplace_back(std::string(kv.key()), kv.value());
  } else if (node.IsMapping()) {
    CheckKeys(node, {kRetryKeys}, "retry");
    for (const auto& e : node.entries) {
      if (Contains(kRetryKeys, e.key)) nodes.emplace_back(e.key, e.value.get());
    }
  } else {
    Error(node,
          "'retry' must be a mapping {count, delay, break-on, continue-on} or a one-line string "
          "'count=N delay=N ...', got " +
              Snippet(node));
    return std::nullopt;
  }

  bool ok = true;
  bool have_count = false, have_delay = false;
  RetrySpec spec;
  auto check = [&](const std::string& key, const Json& v, const YamlNode& at) {
    bool is_expr = v.is_string() && IsExpressionText(v.get_string());
    bool is_int = v.is_uint64() || (v.is_int64() && v.get_int64() >= 0);
    if (key == "count" || key == "delay") {
      if (!is_expr && !is_int) {
        Error(at, "'retry." + key + "' must be a non-negative integer or an expression, got " +
                      (v.is_string() ? PythonRepr(v) : DumpJson(v)));
        ok = false;
        return;
      }
    } else if (key == "break-on" || key == "continue-on") {
      if (!is_expr) {
        Error(at, "'retry." + key + "' must be an expression (<% ... %>), got " +
                      (v.is_string() ? PythonRepr(v) : DumpJson(v)));
        ok = false;
        return;
      }
    } else {
      Error(at, "unknown 'retry' parameter '" + key +
                    "'; expected one of: count, delay, break-on, continue-on");
      ok = false;
      return;
    }
    auto t = CompileJson(v, at, "retry." + key);
    if (!t) {
      ok = false;
      return;
    }
    if (key == "count") {
      spec.count = *t;
      have_count = true;
    } else if (key == "delay") {
      spec.delay = *t;
      have_delay = true;
    } else if (key == "break-on") {
      spec.break_on = *t;
    } else {
      spec.continue_on = *t;
    }
  };
  for (const auto& [k, v] : values) check(k, v, node);
  for (const auto& [k, n] : nodes) check(k, YamlToJson(*n), *n);
  if (!ok) return std::nullopt;
  if (!have_count || !have_delay) {
    Error(node,
          std::string("'retry' requires ") + (!have_count && !have_delay ? "'count' and 'delay'"
                                              : !have_count              ? "'count'"
                                                                         : "'delay'"));
    return std::nullopt;
  }
  return spec;
}

bool Parser::TransitionText(const std::string& raw, const YamlNode* condition, const YamlNode& at,
                            TransitionItem* out) {
  std::string_view text = Trim(raw);
  out->location = Loc(at);
  std::string name;
  JsonObject params;
  if (text.empty()) {
    Error(at, "empty transition (expected a task name or an engine command)");
    return false;
  }
  // `name`, `name k=v ...` or `name(k=v ...)`.
  size_t i = 0;
  while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])) && text[i] != '(' &&
         text[i] != '=' && text[i] != '"') {
    ++i;
  }
  name = std::string(text.substr(0, i));
  std::string_view rest = Trim(text.substr(i));
  if (name.empty()) {
    Error(at, "invalid transition '" + std::string(text) +
                  "' (expected a task name or an engine command)");
    return false;
  }
  if (!rest.empty()) {
    if (rest.front() == '(') {
      if (rest.back() != ')') {
        Error(at, "invalid transition '" + std::string(text) + "': missing ')'");
        return false;
      }
      rest = rest.substr(1, rest.size() - 2);
    } else if (rest.front() == '=') {
      Error(at, "invalid transition '" + std::string(text) +
                    "' (expected a task name or 'fail msg=...', 'succeed', 'pause', 'noop')");
      return false;
    }
    std::string err;
    if (!ParseInlineParams(rest, &params, &err)) {
      Error(at, "invalid parameters in transition '" + std::string(text) + "': " + err);
      return false;
    }
  }
  if (name == "fail")
    out->kind = TransitionItem::Kind::kFail;
  else if (name == "succeed")
    out->kind = TransitionItem::Kind::kSucceed;
  else if (name == "pause")
    out->kind = TransitionItem::Kind::kPause;
  else if (name == "noop")
    out->kind = TransitionItem::Kind::kNoop;
  else
    out->kind = TransitionItem::Kind::kTask;
  if (out->kind == TransitionItem::Kind::kTask) {
    out->task_name = name;
    if (!params.empty()) {
      Error(at, "transition to task '" + name +
                    "' cannot take parameters (only the engine commands fail, "
                    "succeed and pause take 'msg')");
      return false;
    }
  } else {
    for (auto& kv : params) {
      if (kv.key() != "msg" || out->kind == TransitionItem::Kind::kNoop) {
        Error(at, "engine command '" + name + "' does not take parameter '" +
                      std::string(kv.key()) + "'" +
                      (out->kind == TransitionItem::Kind::kNoop ? " (noop takes none)"
                                                                : " (only 'msg')"));
        return false;
      }
      auto t = CompileJson(kv.value(), at, name + " msg");
      if (!t) return false;
      out->msg = *t;
    }
  }
  if (condition) {
    if (!IsExpressionNode(*condition)) {
      Error(*condition, "the condition of transition '" + std::string(text) +
                            "' must be an expression (<% ... %> or {{ ... }}), got " +
                            Snippet(*condition));
      return false;
    }
    auto t = CompileNode(*condition, "condition of '" + std::string(text) + "'");
    if (!t) return false;
    out->condition = *t;
  }
  return true;
}

bool Parser::TransitionItemOf(const YamlNode& item, std::vector<TransitionItem>* out,
                              std::string_view key) {
  TransitionItem t;
  if (IsNonEmptyString(item)) {
    if (!TransitionText(std::string(item.scalar.get_string()), nullptr, item, &t)) return false;
  } else if (item.IsMapping() && item.entries.size() == 1) {
    const Entry& e = item.entries[0];
    if (!TransitionText(e.key, e.value.get(), item, &t)) return false;
    t.location = Loc(e);
  } else {
    Error(item, "items of '" + std::string(key) +
                    "' must be a task name, an engine command or a one-key mapping {task: <% "
                    "condition %>}, got " +
                    Snippet(item));
    return false;
  }
  out->push_back(std::move(t));
  return true;
}

std::optional<OnClause> Parser::OnClauseOf(const YamlNode& node, std::string_view key) {
  OnClause clause;
  auto parse_next = [&](const YamlNode& n, std::string_view what) -> bool {
    if (n.IsSequence()) {
      if (n.items.empty()) {
        Error(n, "'" + std::string(what) + "' must not be an empty list");
        return false;
      }
      bool ok = true;
      std::set<std::string> seen;
      for (const auto& item : n.items) {
        std::string canon = DumpJson(YamlToJson(*item));
        if (!seen.insert(canon).second) {
          Error(*item, "'" + std::string(what) + "' lists the same transition more than once");
          ok = false;
          continue;
        }
        ok = TransitionItemOf(*item, &clause.next, what) && ok;
      }
      return ok;
    }
    return TransitionItemOf(n, &clause.next, what);
  };

  bool advanced = node.IsMapping() && (node.Find("publish") || node.Find("next")) &&
                  !(node.entries.size() == 1 && IsExpressionNode(*node.entries[0].value));
  if (advanced) {
    CheckKeys(node, {{"publish", "next"}}, "'" + std::string(key) + "'");
    bool ok = true;
    if (const Entry* p = node.Find("publish")) {
      const YamlNode& pub = *p->value;
      if (!pub.IsMapping() || pub.entries.empty()) {
        Error(pub, "'" + std::string(key) +
                       ".publish' must be a mapping with 'branch', 'global' or 'atomic', got " +
                       Snippet(pub));
        ok = false;
      } else {
        CheckKeys(pub, {{"branch", "global", "atomic"}}, "'" + std::string(key) + ".publish'");
        if (const Entry* b = pub.Find("branch")) {
          clause.publish_branch = NonEmptyMapping(*b->value, std::string(key) + ".publish.branch");
          ok = ok && clause.publish_branch.has_value();
        }
        if (const Entry* g = pub.Find("global")) {
          clause.publish_global = NonEmptyMapping(*g->value, std::string(key) + ".publish.global");
          ok = ok && clause.publish_global.has_value();
        }
        if (const Entry* a = pub.Find("atomic")) {
          // Accepted and validated; Mistral does not implement it either (no-op).
          ok = NonEmptyMapping(*a->value, std::string(key) + ".publish.atomic").has_value() && ok;
        }
      }
    }
    if (const Entry* n = node.Find("next"))
      ok = parse_next(*n->value, std::string(key) + ".next") && ok;
    if (!ok) return std::nullopt;
    return clause;
  }
  if (node.IsNull() || (node.IsMapping() && node.entries.size() != 1) ||
      (node.kind == YamlNode::Kind::kScalar && !IsNonEmptyString(node))) {
    Error(node, "'" + std::string(key) +
                    "' must be a task name, a list of transitions or a mapping {publish: ..., "
                    "next: ...}, got " +
                    Snippet(node));
    return std::nullopt;
  }
  if (!parse_next(node, key)) return std::nullopt;
  return clause;
}

std::vector<WithItemsVar> Parser::WithItems(const YamlNode& node) {
  std::vector<WithItemsVar> out;
  std::vector<const YamlNode*> items;
  if (IsNonEmptyString(node)) {
    items.push_back(&node);
  } else if (node.IsSequence() && !node.items.empty()) {
    for (const auto& i : node.items) items.push_back(i.get());
  } else {
    Error(
        node,
        "'with-items' must be 'var in <% expression %>', 'var in [list]' or a list of those, got " +
            Snippet(node));
    return out;
  }
  std::set<std::string> seen;
  for (const YamlNode* item : items) {
    if (!IsNonEmptyString(*item)) {
      Error(*item, "'with-items' elements must be strings like 'x in <% $.list %>', got " +
                       Snippet(*item));
      continue;
    }
    std::string text(item->scalar.get_string());
    if (!seen.insert(text).second) {
      Error(*item, "'with-items' lists '" + text + "' more than once");
      continue;
    }
    auto bad = [&](const std::string& why) {
      Error(*item, "wrong format of 'with-items' element '" + text + "': " + why +
                       " (expected 'var in <% $.list %>' or 'var in [1, 2]')");
    };
    size_t i = 0;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) ||
                               text[i] == '_' || text[i] == '-')) {
      ++i;
    }
    std::string var = text.substr(start, i - start);
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (var.empty() || text.compare(i, 2, "in") != 0) {
      bad("missing 'var in'");
      continue;
    }
    i += 2;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view rest = std::string_view(text).substr(i);
    std::string source;
    if (rest.substr(0, 1) == "[") {
      size_t close = rest.rfind(']');
      if (close == std::string_view::npos || close < 2) {
        bad("the list is not closed with ']'");
        continue;
      }
      source = std::string(rest.substr(0, close + 1));
      auto parsed = ParseJson(source);
      if (!parsed.ok() || !parsed->is_array()) {
        bad("invalid JSON list " + source + (parsed.ok() ? "" : ": " + parsed.status().message()));
        continue;
      }
      auto t = CompileJson(*parsed, *item, "with-items");
      if (t) out.push_back(WithItemsVar{var, *t});
      continue;
    }
    size_t end = std::string_view::npos;
    if (rest.substr(0, 2) == "<%") {
      end = rest.find("%>");
    } else if (rest.substr(0, 2) == "{{") {
      end = rest.rfind("}}");
    } else if (rest.substr(0, 2) == "{%") {
      end = rest.rfind("%}");
    }
    if (end == std::string_view::npos || end < 2) {
      bad("the source must be an expression or a JSON list");
      continue;
    }
    source = std::string(rest.substr(0, end + 2));
    auto t = CompileJson(Json(source), *item, "with-items");
    if (t) out.push_back(WithItemsVar{var, *t});
  }
  // Several variables zip; a repeated variable name keeps the last source at the first position
  // (Mistral builds a dict).
  std::vector<WithItemsVar> unique;
  std::map<std::string, size_t> index;
  for (auto& v : out) {
    auto [it, inserted] = index.emplace(v.name, unique.size());
    if (inserted) {
      unique.push_back(std::move(v));
    } else {
      unique[it->second].source = v.source;
    }
  }
  return unique;
}

void Parser::ParseTask(const Entry& entry, WorkflowType type, TaskSpec* task) {
  task->name = entry.key;
  task->location = Loc(entry);
  const YamlNode& node = *entry.value;
  if (task->name.size() > kMaxTaskNameLength) {
    KeyError(entry,
             "task name is longer than " + std::to_string(kMaxTaskNameLength) + " characters");
  }
  auto always_true = expr::Template::Compile(Json(true));
  auto always_false = expr::Template::Compile(Json(false));
  if (always_true.ok()) task->keep_result = *always_true;
  if (always_false.ok()) task->safe_rerun = *always_false;
  auto empty_obj = expr::Template::Compile(Json(JsonObject()));
  if (empty_obj.ok()) task->inline_params = *empty_obj;

  if (!node.IsMapping() || node.entries.empty()) {
    Error(node, "task '" + task->name + "' must be a non-empty mapping, got " + Snippet(node));
    return;
  }
  if (type == WorkflowType::kDirect) {
    CheckKeys(node, {kCommonTaskKeys, kDirectTaskKeys}, "task", "a direct workflow's task",
              kReverseTaskKeys, "'requires' is only allowed in reverse workflows");
  } else {
    CheckKeys(
        node, {kCommonTaskKeys, kReverseTaskKeys}, "task", "a reverse workflow's task",
        kDirectTaskKeys,
        "on-success, on-error, on-complete, on-skip and join are only allowed in direct workflows");
  }

  const Entry* action = node.Find("action");
  const Entry* workflow = node.Find("workflow");
  if (action && workflow) {
    KeyError(*workflow, "a task may have 'action' or 'workflow', not both");
  } else if (action || workflow) {
    const Entry* which = action ? action : workflow;
    std::string text;
    if (NonEmptyStringValue(*which->value, which->key, &text)) {
      std::string cmd;
      JsonObject params;
      std::string err;
      if (!ParseCommand(text, &cmd, &params, &err)) {
        Error(*which->value, "invalid '" + which->key + "' value '" + text + "': " + err);
      } else {
        auto name_t = CompileJson(Json(cmd), *which->value, which->key);
        auto params_t = CompileJson(Json(params), *which->value, which->key + " parameters");
        if (name_t) (action ? task->action : task->workflow) = *name_t;
        if (params_t) task->inline_params = *params_t;
      }
    }
  } else {
    auto noop = expr::Template::Compile(Json("std.noop"));
    if (noop.ok()) task->action = *noop;
  }

  for (const auto& e : node.entries) {
    const YamlNode& v = *e.value;
    const std::string& k = e.key;
    if (k == "description") {
      NonEmptyStringValue(v, k, &task->description);
    } else if (k == "tags") {
      task->tags = StringOrUniqueList(v, k, false);
    } else if (k == "input") {
      if ((v.IsMapping() && !v.entries.empty()) || IsNonEmptyString(v)) {
        task->input = CompileNode(v, k);
      } else {
        Error(v, "'input' must be a non-empty mapping or an expression, got " + Snippet(v));
      }
    } else if (k == "publish") {
      task->publish = NonEmptyMapping(v, k);
    } else if (k == "publish-on-error") {
      task->publish_on_error = NonEmptyMapping(v, k);
    } else if (k == "publish-on-skip") {
      task->publish_on_skip = NonEmptyMapping(v, k);
    } else if (k == "with-items") {
      task->with_items = WithItems(v);
    } else if (k == "concurrency") {
      task->concurrency = ExprOrNonNegInt(v, k);
    } else if (k == "retry") {
      task->retry = Retry(v);
    } else if (k == "wait-before") {
      task->wait_before = ExprOrNonNegInt(v, k);
    } else if (k == "wait-after") {
      task->wait_after = ExprOrNonNegInt(v, k);
    } else if (k == "timeout") {
      task->timeout = ExprOrNonNegInt(v, k);
    } else if (k == "pause-before") {
      task->pause_before = ExprOrBool(v, k);
    } else if (k == "fail-on") {
      task->fail_on = ExprOrBool(v, k);
    } else if (k == "keep-result") {
      if (auto t = ExprOrBool(v, k)) task->keep_result = *t;
    } else if (k == "safe-rerun") {
      if (auto t = ExprOrBool(v, k)) task->safe_rerun = *t;
    } else if (k == "target") {
      std::string target;
      if (NonEmptyStringValue(v, k, &target)) task->target = CompileNode(v, k);
    } else if (type == WorkflowType::kDirect && k == "join") {
      if (v.IsString() && v.scalar.get_string() == "all") {
        task->join = JoinKind::kAll;
      } else if (v.IsString() && v.scalar.get_string() == "one") {
        task->join = JoinKind::kOne;
        task->join_count = 1;
      } else if (IsNonNegativeInt(v)) {
        int64_t n = v.scalar.is_uint64() ? INT32_MAX : v.scalar.get_int64();
        if (n > 0) {  // `join: 0` is falsy in Mistral: not a join
          task->join = JoinKind::kCount;
          task->join_count = static_cast<int>(std::min<int64_t>(n, INT32_MAX));
        }
      } else {
        Error(v, "'join' must be 'all', 'one' or a positive integer, got " + Snippet(v));
      }
      if (task->join != JoinKind::kNone && task->name.size() > kMaxJoinTaskNameLength) {
        KeyError(entry, "a join task name must not be longer than " +
                            std::to_string(kMaxJoinTaskNameLength) + " characters");
      }
    } else if (type == WorkflowType::kDirect && k == "on-success") {
      task->on_success = OnClauseOf(v, k);
    } else if (type == WorkflowType::kDirect && k == "on-error") {
      task->on_error = OnClauseOf(v, k);
    } else if (type == WorkflowType::kDirect && k == "on-complete") {
      task->on_complete = OnClauseOf(v, k);
    } else if (type == WorkflowType::kDirect && k == "on-skip") {
      task->on_skip = OnClauseOf(v, k);
    } else if (type == WorkflowType::kReverse && k == "requires") {
      task->requires_tasks = StringOrUniqueList(v, k, true);
    }
  }
}

void Parser::ParseTaskDefaults(const YamlNode& node, WorkflowType type, TaskDefaultsSpec* d) {
  if (!node.IsMapping() || node.entries.empty()) {
    Error(node, "'task-defaults' must be a non-empty mapping, got " + Snippet(node));
    return;
  }
  CheckKeys(node, {kTaskDefaultsKeys}, "task-defaults");
  for (const auto& e : node.entries) {
    const YamlNode& v = *e.value;
    const std::string& k = e.key;
    if (k == "on-success")
      d->on_success = OnClauseOf(v, k);
    else if (k == "on-error")
      d->on_error = OnClauseOf(v, k);
    else if (k == "on-complete")
      d->on_complete = OnClauseOf(v, k);
    else if (k == "on-skip")
      d->on_skip = OnClauseOf(v, k);
    else if (k == "requires")
      d->requires_tasks = StringOrUniqueList(v, k, true);
    else if (k == "retry")
      d->retry = Retry(v);
    else if (k == "wait-before")
      d->wait_before = ExprOrNonNegInt(v, k);
    else if (k == "wait-after")
      d->wait_after = ExprOrNonNegInt(v, k);
    else if (k == "timeout")
      d->timeout = ExprOrNonNegInt(v, k);
    else if (k == "concurrency")
      d->concurrency = ExprOrNonNegInt(v, k);
    else if (k == "pause-before")
      d->pause_before = ExprOrBool(v, k);
    else if (k == "fail-on")
      d->fail_on = ExprOrBool(v, k);
    else if (k == "safe-rerun")
      d->safe_rerun = ExprOrBool(v, k);
  }
}

void Parser::ResolveDefaults(const TaskDefaultsSpec& d, WorkflowType type, bool own_safe_rerun,
                             TaskSpec* task) {
  // Mistral builds a task's policy from its own value only when that value makes one (a number
  // above 0, true, or an expression); otherwise from task-defaults: `timeout: 0` in a task does not
  // turn off the default timeout (policies.py, construct_policies_list; settled on Mistral 15).
  auto unset = [](const std::optional<expr::Template>& own) {
    return !own || (!own->HasExpressions() && !IsTruthy(own->Source()));
  };
  if (!task->retry && d.retry) task->retry = d.retry;
  if (unset(task->wait_before) && d.wait_before) task->wait_before = d.wait_before;
  if (unset(task->wait_after) && d.wait_after) task->wait_after = d.wait_after;
  if (unset(task->timeout) && d.timeout) task->timeout = d.timeout;
  if (unset(task->pause_before) && d.pause_before) task->pause_before = d.pause_before;
  if (unset(task->concurrency) && d.concurrency) task->concurrency = d.concurrency;
  if (unset(task->fail_on) && d.fail_on) task->fail_on = d.fail_on;
  if (d.safe_rerun && !own_safe_rerun) task->safe_rerun = *d.safe_rerun;
  if (type == WorkflowType::kReverse) {
    std::set<std::string> have(task->requires_tasks.begin(), task->requires_tasks.end());
    for (const auto& r : d.requires_tasks) {
      if (r != task->name && have.insert(r).second) task->requires_tasks.push_back(r);
    }
    task->requires_tasks.erase(
        std::remove(task->requires_tasks.begin(), task->requires_tasks.end(), task->name),
        task->requires_tasks.end());
    return;
  }
  auto apply = [&](std::optional<OnClause>& own, const std::optional<OnClause>& def) {
    if (!def) return;
    std::vector<TransitionItem> next;
    for (const auto& item : def->next) {
      if (item.kind == TransitionItem::Kind::kTask && item.task_name == task->name) continue;
      next.push_back(item);
    }
    if (!own) {
      if (next.empty() && !def->publish_branch && !def->publish_global) return;
      own = OnClause{};
      own->publish_branch = def->publish_branch;
      own->publish_global = def->publish_global;
    }
    if (own->next.empty()) own->next = std::move(next);
  };
  apply(task->on_success, d.on_success);
  apply(task->on_error, d.on_error);
  apply(task->on_complete, d.on_complete);
  apply(task->on_skip, d.on_skip);
}

// The first cycle in a reverse workflow's `requires` graph, as task names ending with the first one
// again (a -> b -> a); empty when there is none. Unknown required tasks are ignored (reported apart).
std::vector<std::string> RequiresCycle(const WorkflowSpec& wf) {
  enum class Mark { kNew, kOnPath, kDone };
  std::vector<Mark> mark(wf.tasks.size(), Mark::kNew);
  std::vector<size_t> path;
  std::vector<std::string> cycle;
  std::function<bool(size_t)> visit = [&](size_t i) {
    mark[i] = Mark::kOnPath;
    path.push_back(i);
    for (const auto& r : wf.tasks[i].requires_tasks) {
      auto it = wf.task_index.find(r);
      if (it == wf.task_index.end()) continue;
      size_t j = it->second;
      if (mark[j] == Mark::kOnPath) {
        auto from = std::find(path.begin(), path.end(), j);
        for (auto p = from; p != path.end(); ++p) cycle.push_back(wf.tasks[*p].name);
        cycle.push_back(wf.tasks[j].name);
        return true;
      }
      if (mark[j] == Mark::kNew && visit(j)) return true;
    }
    path.pop_back();
    mark[i] = Mark::kDone;
    return false;
  };
  for (size_t i = 0; i < wf.tasks.size(); ++i) {
    if (mark[i] == Mark::kNew && visit(i)) break;
  }
  return cycle;
}

void Parser::ValidateGraph(const YamlNode& node, WorkflowSpec* wf) {
  std::map<std::string, std::set<std::string>> inbound;
  for (auto& task : wf->tasks) {
    task_ = task.name;
    if (wf->type == WorkflowType::kReverse) {
      for (const auto& r : task.requires_tasks) {
        if (!wf->task_index.count(r)) {
          AddError(task.location.line, task.location.column,
                   "required task '" + r + "' is not a task of this workflow");
        }
      }
      continue;
    }
    for (const auto* clause :
         {&task.on_success, &task.on_error, &task.on_complete, &task.on_skip}) {
      if (!*clause) continue;
      for (const auto& item : (*clause)->next) {
        if (item.kind != TransitionItem::Kind::kTask) continue;
        if (!wf->task_index.count(item.task_name)) {
          AddError(item.location.line, item.location.column,
                   "transition to '" + item.task_name +
                       "': no such task in this workflow (and not an engine command: fail, "
                       "succeed, pause, noop)");
          continue;
        }
        inbound[item.task_name].insert(task.name);
      }
    }
  }
  task_.clear();
  if (wf->type == WorkflowType::kReverse) {
    if (auto cycle = RequiresCycle(*wf); !cycle.empty()) {
      const TaskSpec& first = wf->tasks[wf->task_index.at(cycle.front())];
      task_ = first.name;
      std::string path;
      for (const auto& name : cycle) path += (path.empty() ? "'" : " -> '") + name + "'";
      AddError(first.location.line, first.location.column,
               "tasks require each other in a cycle (" + path +
                   "), so none of them could ever run");
      task_.clear();
    }
  }
  if (wf->type != WorkflowType::kDirect || wf->tasks.empty()) return;
  bool has_start = false;
  for (const auto& task : wf->tasks) has_start = has_start || inbound[task.name].empty();
  if (!has_start) {
    AddError(wf->location.line, wf->location.column,
             "direct workflow has no start task: every task is the target of a transition, but at "
             "least one "
             "task must have no inbound transition");
  }
  for (const auto& task : wf->tasks) {
    size_t in = inbound[task.name].size();
    if (task.join == JoinKind::kAll && in == 0) {
      task_ = task.name;
      AddError(task.location.line, task.location.column,
               "task has 'join: all' but no inbound tasks");
    } else if ((task.join == JoinKind::kCount || task.join == JoinKind::kOne) &&
               in < static_cast<size_t>(task.join_count)) {
      task_ = task.name;
      AddError(task.location.line, task.location.column,
               "task has 'join: " + std::to_string(task.join_count) + "' but only " +
                   std::to_string(in) + " inbound task(s)");
    }
  }
  task_.clear();
  (void)node;
}

void Parser::ParseWorkflow(const Entry& entry, const std::string& workbook, WorkflowSpec* wf) {
  wf->name = entry.key;
  wf->workbook = workbook;
  wf->full_name = workbook.empty() ? entry.key : workbook + "." + entry.key;
  wf->location = Loc(entry);
  workflow_ = wf->name;
  task_.clear();
  reads_sub_tasks_ = false;
  const YamlNode& node = *entry.value;
  if (!node.IsMapping() || node.entries.empty()) {
    Error(node, "workflow '" + wf->name + "' must be a non-empty mapping with 'tasks', got " +
                    Snippet(node));
    return;
  }
  if (IsUuidLike(wf->name)) KeyError(entry, "workflow name cannot be in the format of a UUID");
  CheckKeys(node, {kWorkflowKeys}, "workflow");

  if (const Entry* t = node.Find("type")) {
    const YamlNode& v = *t->value;
    if (v.IsString() && v.scalar.get_string() == "reverse") {
      wf->type = WorkflowType::kReverse;
    } else if (!(v.IsString() && v.scalar.get_string() == "direct")) {
      Error(v, "'type' must be 'direct' or 'reverse', got " + Snippet(v));
    }
  }
  for (const auto& e : node.entries) {
    const YamlNode& v = *e.value;
    if (e.key == "description")
      NonEmptyStringValue(v, e.key, &wf->description);
    else if (e.key == "tags")
      wf->tags = StringOrUniqueList(v, e.key, false);
    else if (e.key == "input")
      wf->input = InputList(v);
    else if (e.key == "output")
      wf->output = NonEmptyMapping(v, e.key);
    else if (e.key == "output-on-error")
      wf->output_on_error = NonEmptyMapping(v, e.key);
    else if (e.key == "vars")
      wf->vars = NonEmptyMapping(v, e.key);
    else if (e.key == "version" && !VersionIsTwo(v))
      Error(v, "'version' must be '2.0', got " + Snippet(v));
  }
  if (const Entry* d = node.Find("task-defaults"))
    ParseTaskDefaults(*d->value, wf->type, &wf->task_defaults);

  const Entry* tasks = node.Find("tasks");
  if (!tasks) {
    Error(node, "workflow is missing required key 'tasks'");
    return;
  }
  const YamlNode& tmap = *tasks->value;
  if (!tmap.IsMapping() || tmap.entries.empty()) {
    Error(tmap, "'tasks' must be a non-empty mapping of task names to tasks, got " + Snippet(tmap));
    return;
  }
  wf->tasks.reserve(tmap.entries.size());
  for (const auto& te : tmap.entries) {
    task_ = te.key;
    TaskSpec task;
    ParseTask(te, wf->type, &task);
    ResolveDefaults(wf->task_defaults, wf->type, te.value->Find("safe-rerun") != nullptr, &task);
    wf->task_index[task.name] = wf->tasks.size();
    wf->tasks.push_back(std::move(task));
  }
  task_.clear();
  ValidateGraph(node, wf);
  wf->reads_sub_tasks = reads_sub_tasks_;
}

void Parser::ParseAction(const Entry& entry, const std::string& workbook, AdhocActionSpec* action) {
  action->name = entry.key;
  action->workbook = workbook;
  action->full_name = workbook.empty() ? entry.key : workbook + "." + entry.key;
  action->location = Loc(entry);
  workflow_.clear();
  task_.clear();
  const YamlNode& node = *entry.value;
  if (!node.IsMapping() || node.entries.empty()) {
    Error(node, "action '" + action->name + "' must be a non-empty mapping with 'base', got " +
                    Snippet(node));
    return;
  }
  CheckKeys(node, {kActionKeys}, "action '" + action->name + "'");
  JsonObject merged;
  const Entry* base = node.Find("base");
  if (!base) {
    KeyError(entry, "action '" + action->name + "' is missing required key 'base'");
  } else {
    std::string text;
    if (NonEmptyStringValue(*base->value, "base", &text)) {
      std::string err;
      if (!ParseCommand(text, &action->base, &merged, &err)) {
        Error(*base->value, "invalid 'base' value '" + text + "': " + err);
      }
    }
  }
  for (const auto& e : node.entries) {
    const YamlNode& v = *e.value;
    if (e.key == "description") {
      NonEmptyStringValue(v, e.key, &action->description);
    } else if (e.key == "tags") {
      action->tags = StringOrUniqueList(v, e.key, false);
    } else if (e.key == "input") {
      action->input = InputList(v);
    } else if (e.key == "output") {
      action->output = CompileNode(v, "output");
    } else if (e.key == "base-input") {
      if (!v.IsMapping() || v.entries.empty()) {
        Error(v, "'base-input' must be a non-empty mapping, got " + Snippet(v));
      } else {
        if (!CompileNode(v, "base-input")) continue;
        Json bi = YamlToJson(v);
        for (auto& kv : bi.as_object())
          merged[kv.key()] = kv.value();  // base-input wins over inline params
      }
    } else if (e.key == "version" && !VersionIsTwo(v)) {
      Error(v, "'version' must be '2.0', got " + Snippet(v));
    }
  }
  if (auto t = CompileJson(Json(merged), base ? *base->value : node, "base-input"))
    action->base_input = *t;
}

void Parser::CheckVersion(const YamlNode& root) {
  if (const Entry* v = root.Find("version")) {
    if (!VersionIsTwo(*v->value)) {
      Error(*v->value, "unsupported 'version' " + Snippet(*v->value) + " (expected '2.0')");
    }
  } else if (root.IsMapping()) {
    // As Mistral 15: "'version' is a required property".
    Error(root, "'version' is a required property (add version: '2.0' at the top)");
  }
}

// Checks one entry of a workflows or actions map: a `version` entry is validated and skipped; inside a
// workbook, names are restricted as Mistral restricts them. True when the entry is a definition to parse.
bool Parser::IsEntryToParse(const Entry& e, const char* kind, bool workbook_names) {
  if (e.key == "version") {
    if (!VersionIsTwo(*e.value))
      Error(*e.value, "unsupported 'version' " + Snippet(*e.value) + " (expected '2.0')");
    return false;
  }
  if (!workbook_names) return true;
  bool ok = !e.key.empty();
  for (char c : e.key) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  if (!ok) {
    KeyError(e, std::string(kind) + " name '" + e.key +
                    "' in a workbook must contain only letters, digits, '_' and '-'");
  }
  return ok;
}

void Parser::ParseWorkflowsMap(const YamlNode& map, const std::string& workbook,
                               bool workbook_names, Document* doc) {
  for (const auto& e : map.entries) {
    if (!IsEntryToParse(e, "workflow", workbook_names)) continue;
    WorkflowSpec wf;
    ParseWorkflow(e, workbook, &wf);
    doc->workflows.push_back(std::move(wf));
  }
  workflow_.clear();
  task_.clear();
}

void Parser::ParseActionsMap(const YamlNode& map, const std::string& workbook, bool workbook_names,
                             Document* doc) {
  for (const auto& e : map.entries) {
    if (!IsEntryToParse(e, "action", workbook_names)) continue;
    AdhocActionSpec action;
    ParseAction(e, workbook, &action);
    doc->actions.push_back(std::move(action));
  }
}

void Parser::ParseRoot(const YamlNode& root, Document* doc) {
  if (!root.IsMapping()) {
    Error(root,
          "a Workflow Language document must be a mapping (version, then workflows, a workbook or "
          "actions), got " +
              Snippet(root));
    return;
  }
  CheckVersion(root);
  using Expect = ParseOptions::Expect;
  bool has_name = root.Find("name") != nullptr;
  bool all_base = true;
  size_t items = 0;
  for (const auto& e : root.entries) {
    if (e.key == "version") continue;
    ++items;
    all_base = all_base && e.value->IsMapping() && e.value->Find("base") != nullptr;
  }
  Document::Kind kind;
  switch (options_.expect) {
    case Expect::kWorkbook:
      kind = Document::Kind::kWorkbook;
      break;
    case Expect::kActions:
      kind = Document::Kind::kActions;
      break;
    case Expect::kWorkflows:
      kind = Document::Kind::kWorkflows;
      break;
    case Expect::kAny:
    default:
      kind = has_name
                 ? Document::Kind::kWorkbook
                 : (items > 0 && all_base ? Document::Kind::kActions : Document::Kind::kWorkflows);
  }
  doc->kind = kind;
  if (kind == Document::Kind::kWorkbook) {
    CheckKeys(root, {kWorkbookKeys}, "workbook");
    const Entry* name = root.Find("name");
    if (!name) {
      Error(root, "a workbook needs a 'name'");
      return;
    }
    if (!NonEmptyStringValue(*name->value, "name", &doc->name)) return;
    if (const Entry* d = root.Find("description"))
      NonEmptyStringValue(*d->value, "description", &doc->description);
    if (const Entry* t = root.Find("tags"))
      doc->tags = StringOrUniqueList(*t->value, "tags", false);
    if (const Entry* w = root.Find("workflows")) {
      if (!w->value->IsMapping() || w->value->entries.empty()) {
        Error(*w->value,
              "'workflows' must be a non-empty mapping of workflow names to workflows, got " +
                  Snippet(*w->value));
      } else {
        ParseWorkflowsMap(*w->value, doc->name, true, doc);
      }
    }
    if (const Entry* a = root.Find("actions")) {
      if (!a->value->IsMapping() || a->value->entries.empty()) {
        Error(*a->value, "'actions' must be a non-empty mapping of action names to actions, got " +
                             Snippet(*a->value));
      } else {
        ParseActionsMap(*a->value, doc->name, true, doc);
      }
    }
    return;
  }
  if (items == 0) {
    Error(root, kind == Document::Kind::kActions
                    ? "the document defines no actions"
                    : "the document defines no workflows (expected 'version' "
                      "and at least one '<workflow name>: {tasks: ...}')");
    return;
  }
  if (kind == Document::Kind::kActions) {
    ParseActionsMap(root, "", false, doc);
  } else {
    ParseWorkflowsMap(root, "", false, doc);
  }
}

}  // namespace

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
