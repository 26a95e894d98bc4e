#pragma once
// The typed model of a Workflow Language v2 document (../../shared/mistral-spec.md section 1), produced by
// ParseDocument() in parser.h. Immutable after parsing; share it by shared_ptr<const Document> between threads.
//
// Every value that may hold an expression is an expr::Template, compiled once at parse time; plain values are
// Templates without expressions. task-defaults are already resolved into each TaskSpec (the task's own policy
// wins; a default on-* clause applies only when the task's own clause is absent or empty, with the task's own
// name removed; requires are unioned), so the engine reads only TaskSpec.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "orchestrator/expressions/expressions.h"

namespace bora::lang {

struct SourceLocation {
  std::string file;  // as given to ParseOptions::file_name ("<input>" when empty)
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based
};

// `name` or `{name: default}` in `input:` of a workflow or an ad-hoc action.
struct InputParam {
  std::string name;
  bool has_default = false;
  Json default_value;  // the literal default (Mistral does not evaluate it)
};

// One item of an on-success/on-error/on-complete/on-skip list.
struct TransitionItem {
  enum class Kind { kTask, kFail, kSucceed, kPause, kNoop };
  Kind kind = Kind::kTask;
  std::string task_name;                 // kTask
  std::optional<expr::Template> condition;  // `{t2: <% cond %>}`; absent = always
  std::optional<expr::Template> msg;     // engine commands: `fail msg='x'`, `fail(msg=<% ... %>)`
  SourceLocation location;
};

// An on-* clause: a plain list, or the advanced form {publish: {branch, global, atomic}, next: [...]}.
struct OnClause {
  std::vector<TransitionItem> next;
  std::optional<expr::Template> publish_branch;  // dict template
  std::optional<expr::Template> publish_global;  // dict template
  bool empty() const { return next.empty() && !publish_branch && !publish_global; }
};

struct RetrySpec {
  expr::Template count;                      // int or expression
  std::optional<expr::Template> delay;       // seconds, int or expression
  std::optional<expr::Template> break_on;    // expression
  std::optional<expr::Template> continue_on; // expression
};

// `var in <% expr %>` or `var in [json list]`; several vars zip.
struct WithItemsVar {
  std::string name;
  expr::Template source;
};

enum class JoinKind { kNone, kAll, kOne, kCount };

struct TaskSpec {
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  SourceLocation location;

  // Exactly one of action/workflow is set after parsing (neither given ⇒ action "std.noop").
  // Either may be an expression (a Template with expressions) resolved at run time.
  std::optional<expr::Template> action;
  std::optional<expr::Template> workflow;
  // Inline parameters from `action: std.echo output="x" n=<% $.n %>` (an object template; {} when none).
  expr::Template inline_params;
  // `input:` (an object template, or an expression yielding an object); `input` keys win over inline params.
  std::optional<expr::Template> input;

  std::optional<expr::Template> publish;           // dict template
  std::optional<expr::Template> publish_on_error;  // dict template
  std::optional<expr::Template> publish_on_skip;   // dict template

  std::vector<WithItemsVar> with_items;
  std::optional<expr::Template> concurrency;
  std::optional<RetrySpec> retry;
  std::optional<expr::Template> wait_before;
  std::optional<expr::Template> wait_after;
  std::optional<expr::Template> timeout;
  std::optional<expr::Template> pause_before;  // bool or expression
  std::optional<expr::Template> fail_on;
  expr::Template keep_result;  // defaults to true
  expr::Template safe_rerun;   // defaults to false
  std::optional<expr::Template> target;

  // Direct workflows.
  std::optional<OnClause> on_success, on_error, on_complete, on_skip;
  JoinKind join = JoinKind::kNone;
  int join_count = 0;  // kCount: N >= 1; kOne: 1; kAll: 0 (all inbound tasks)
  // Reverse workflows.
  std::vector<std::string> requires_tasks;
};

struct TaskDefaultsSpec {
  std::optional<OnClause> on_success, on_error, on_complete, on_skip;
  std::vector<std::string> requires_tasks;
  std::optional<RetrySpec> retry;
  std::optional<expr::Template> wait_before, wait_after, timeout, pause_before, concurrency, fail_on;
  std::optional<expr::Template> safe_rerun;
};

enum class WorkflowType { kDirect, kReverse };

struct WorkflowSpec {
  std::string name;       // as written in the document
  std::string full_name;  // "<workbook>.<name>" inside a workbook, else == name
  std::string workbook;   // empty outside workbooks
  WorkflowType type = WorkflowType::kDirect;
  std::string description;
  std::vector<std::string> tags;
  SourceLocation location;

  std::vector<InputParam> input;
  std::optional<expr::Template> output;            // absent or {} ⇒ output is the whole final context
  std::optional<expr::Template> output_on_error;
  std::optional<expr::Template> vars;              // dict template
  TaskDefaultsSpec task_defaults;

  // An expression of the workflow calls tasks(..., recursive): its sub-executions report their
  // tasks when they finish (engine README, "tasks(recursive)").
  bool reads_sub_tasks = false;

  std::vector<TaskSpec> tasks;        // document order
  std::map<std::string, size_t> task_index;  // name -> index in tasks

  const TaskSpec* FindTask(const std::string& task_name) const {
    auto it = task_index.find(task_name);
    return it == task_index.end() ? nullptr : &tasks[it->second];
  }
};

// An ad-hoc action: `my_action: {base: std.echo output=<% $.x %>, base-input: {...}, input: [x], output: ...}`.
struct AdhocActionSpec {
  std::string name;
  std::string full_name;
  std::string workbook;
  std::string description;
  std::vector<std::string> tags;
  SourceLocation location;

  std::string base;            // action name (may itself be ad-hoc; cycles are rejected by the registry)
  expr::Template base_input;   // object template: inline params of `base` merged with `base-input`
  std::vector<InputParam> input;
  std::optional<expr::Template> output;
};

struct Document {
  enum class Kind { kWorkflows, kWorkbook, kActions };
  Kind kind = Kind::kWorkflows;
  std::string version = "2.0";
  std::string name;  // workbook name
  std::string description;
  std::vector<std::string> tags;
  std::vector<WorkflowSpec> workflows;  // document order
  std::vector<AdhocActionSpec> actions;
  std::string source_text;  // the YAML as given (for the API's `definition`)
};

}  // namespace bora::lang
