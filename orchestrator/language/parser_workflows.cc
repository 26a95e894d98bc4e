// Workflow, workbook and ad-hoc action parsing, graph validation of a workflow's tasks, and the
// document kinds (workflows document, workbook, actions document).
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

const std::initializer_list<std::string_view> kWorkbookKeys = {
    "version", "name", "description", "tags", "workflows", "actions"};
const std::initializer_list<std::string_view> kWorkflowKeys = {
    "type", "description",   "tags",    "tasks", "input", "output", "output-on-error",
    "vars", "task-defaults", "version", "name"};
const std::initializer_list<std::string_view> kActionKeys = {
    "base", "base-input", "input", "output", "name", "description", "tags", "version"};

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

// The first cycle in a reverse workflow's `requires` graph, as task names ending with the first one
// again (a -> b -> a); empty when there is none. Unknown required tasks are ignored (reported
// apart).
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

}  // namespace

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
      AddError(
          first.location.line, first.location.column,
          "tasks require each other in a cycle (" + path + "), so none of them could ever run");
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

// Checks one entry of a workflows or actions map: a `version` entry is validated and skipped;
// inside a workbook, names are restricted as Mistral restricts them. True when the entry is a
// definition to parse.
bool Parser::IsEntryToParse(const Entry& e, const char* kind, bool workbook_names) {
  if (e.key == "version") {
    if (!VersionIsTwo(*e.value))
      Error(*e.value, "unsupported 'version' " + Snippet(*e.value) + " (expected '2.0')");
    return false;
  }
  if (!workbook_names) return true;
  bool ok = !e.key.empty();
  for (char c : e.key)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
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

}  // namespace bora::lang::parser_internal
