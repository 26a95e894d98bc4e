// Task parsing: a task's keys, retry, transitions (on-*), with-items, task-defaults and their
// resolution into each TaskSpec.
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

namespace bora::lang::parser_internal {
namespace {

constexpr size_t kMaxTaskNameLength = 255;
constexpr size_t kMaxJoinTaskNameLength = 255 - 47;

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
const std::initializer_list<std::string_view> kRetryKeys = {"count", "delay", "break-on",
                                                            "continue-on"};
const std::initializer_list<std::string_view> kEngineCommands = {"fail", "succeed", "pause",
                                                                 "noop"};

}  // namespace

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

}  // namespace bora::lang::parser_internal
