#pragma once
// Internal to the parser: the Parser class and the YAML-node helpers that parser.cc (entry point,
// node helpers, expression compilation, keys/lists), parser_tasks.cc (tasks, task-defaults, retry,
// transitions, with-items) and parser_workflows.cc (workflows, graph validation, ad-hoc actions,
// document kinds) share. Include it only from those files.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "orchestrator/language/parser.h"
#include "orchestrator/language/yaml_loader.h"

namespace bora::lang::parser_internal {

using Entry = YamlNode::Entry;

bool Contains(std::initializer_list<std::string_view> list, std::string_view s);
std::string Join(const std::vector<std::string>& items, std::string_view sep);
size_t EditDistance(std::string_view a, std::string_view b);
std::string Snippet(const YamlNode& node);
std::string_view Trim(std::string_view s);
// Mistral's EXPRESSION type: a string that is one YAQL or Jinja expression.
bool IsExpressionText(std::string_view raw);
bool IsExpressionNode(const YamlNode& node);
bool IsNonNegativeInt(const YamlNode& node);
bool IsNonEmptyString(const YamlNode& node);

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
  // With options_.strict: an error per unknown function `t` calls, at the string leaf under `at`
  // that calls it.
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
  std::string workflow_;          // current context for errors
  bool reads_sub_tasks_ = false;  // an expression of the current workflow calls tasks(recursive)
  std::string task_;

 public:
  size_t dropped_errors_ = 0;
};

}  // namespace bora::lang::parser_internal
