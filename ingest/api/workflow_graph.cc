#include "ingest/api/workflow_graph.h"

#include <set>
#include <string>

namespace bora::api {
namespace {

// A template's text as written: a string as is, anything else as JSON.
Json TemplateText(const std::optional<expr::Template>& t) {
  if (!t) return nullptr;
  const Json& source = t->Source();
  if (source.is_string()) return source;
  return Json(DumpJson(source));
}

const char* CommandName(lang::TransitionItem::Kind kind) {
  switch (kind) {
    case lang::TransitionItem::Kind::kFail:
      return "fail";
    case lang::TransitionItem::Kind::kSucceed:
      return "succeed";
    case lang::TransitionItem::Kind::kPause:
      return "pause";
    case lang::TransitionItem::Kind::kNoop:
      return "noop";
    case lang::TransitionItem::Kind::kTask:
      break;
  }
  return "task";
}

Json JoinOf(const lang::TaskSpec& t) {
  switch (t.join) {
    case lang::JoinKind::kNone:
      return nullptr;
    case lang::JoinKind::kAll:
      return "all";
    case lang::JoinKind::kOne:
      return 1;
    case lang::JoinKind::kCount:
      return t.join_count;
  }
  return nullptr;
}

}  // namespace

Json WorkflowGraph(const lang::WorkflowSpec& spec, std::string_view namespace_name) {
  JsonArray nodes;
  JsonArray edges;
  for (const auto& t : spec.tasks) {
    nodes.push_back(JsonObject{{"id", t.name},
                               {"kind", "task"},
                               {"task", t.name},
                               {"action", t.workflow ? Json(nullptr) : TemplateText(t.action)},
                               {"workflow", TemplateText(t.workflow)},
                               {"join", JoinOf(t)},
                               {"with_items", !t.with_items.empty()},
                               {"retry", t.retry.has_value()},
                               {"line", t.location.line}});
  }
  std::set<std::string> command_nodes;
  auto add_clause = [&](const lang::TaskSpec& t, const std::optional<lang::OnClause>& clause,
                        const char* kind) {
    if (!clause) return;
    for (const auto& item : clause->next) {
      std::string to;
      if (item.kind == lang::TransitionItem::Kind::kTask) {
        if (spec.FindTask(item.task_name) == nullptr) continue;
        to = item.task_name;
      } else {
        to = t.name + ">" + kind + ">" + CommandName(item.kind);
        if (command_nodes.insert(to).second) {
          nodes.push_back(JsonObject{{"id", to},
                                     {"kind", CommandName(item.kind)},
                                     {"task", nullptr},
                                     {"action", nullptr},
                                     {"workflow", nullptr},
                                     {"join", nullptr},
                                     {"with_items", false},
                                     {"retry", false},
                                     {"line", item.location.line}});
        }
      }
      edges.push_back(JsonObject{{"from", t.name},
                                 {"to", to},
                                 {"kind", kind},
                                 {"condition", TemplateText(item.condition)}});
    }
  };
  for (const auto& t : spec.tasks) {
    add_clause(t, t.on_success, "on-success");
    add_clause(t, t.on_error, "on-error");
    add_clause(t, t.on_complete, "on-complete");
    add_clause(t, t.on_skip, "on-skip");
    for (const auto& required : t.requires_tasks) {
      if (spec.FindTask(required) == nullptr) continue;
      edges.push_back(JsonObject{
          {"from", required}, {"to", t.name}, {"kind", "requires"}, {"condition", nullptr}});
    }
  }
  return JsonObject{{"workflow", spec.full_name},
                    {"namespace", namespace_name},
                    {"type", spec.type == lang::WorkflowType::kReverse ? "reverse" : "direct"},
                    {"nodes", std::move(nodes)},
                    {"edges", std::move(edges)}};
}

}  // namespace bora::api
