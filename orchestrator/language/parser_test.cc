// Unit tests of the Workflow Language parser: inline parameters, transitions, retry, with-items,
// typing, task-defaults resolution, document kinds and workbook naming.
#include "orchestrator/language/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "orchestrator/language/inline_params.h"

namespace bora::lang {
namespace {

Document MustParse(const std::string& yaml, ParseOptions options = {}) {
  auto r = ParseDocument(yaml, options);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return Document{};
  return std::move(r).value();
}

std::string Src(const expr::Template& t) { return DumpJson(t.Source()); }
std::string Src(const std::optional<expr::Template>& t) {
  return t ? DumpJson(t->Source()) : "<absent>";
}

// ---- inline parameters
// -------------------------------------------------------------------------------

struct InlineCase {
  const char* text;
  const char* name;
  const char* params_json;
};

TEST(InlineParamsTest, CommandsAndValues) {
  const InlineCase cases[] = {
      {"std.noop", "std.noop", "{}"},
      {"std.echo output=\"Hi there\"", "std.echo", R"({"output":"Hi there"})"},
      {"std.echo output='single' n=1", "std.echo", R"({"output":"single","n":1})"},
      {"std.echo ok=true no=false nothing=null", "std.echo",
       R"({"ok":true,"no":false,"nothing":null})"},
      {"std.echo l=[1,2] d={\"a\": 1}", "std.echo", R"({"l":[1,2],"d":{"a":1}})"},
      {"std.echo v=<% $.x %> j={{ _.y }}", "std.echo", R"({"v":"<% $.x %>","j":"{{ _.y }}"})"},
      {"std.echo s=word f=1.5 neg=-2", "std.echo", R"({"s":"word","f":1.5E0,"neg":-2})"},
      {"std.echo bad=[1, 2", "", ""},
      {"std.echo l=[1, x]", "std.echo", R"({"l":"[1, x]"})"},
      {"std.echo output=\"a\" output=\"b\"", "std.echo", R"({"output":"b"})"},
      {"std.http url=\"http://x\" headers={\"k\": \"v w\"} body='{\"a\": 1}'", "std.http",
       R"({"url":"http://x","headers":{"k":"v w"},"body":"{\"a\": 1}"})"},
      {"<% $.action %> x=1", "<% $.action %>", R"({"x":1})"},
      {"wb.sub_wf param-1=2", "wb.sub_wf", R"({"param-1":2})"},
      {"std.echo output", "", ""},
      {"std.echo output=\"unterminated", "", ""},
  };
  for (const auto& c : cases) {
    std::string name, err;
    JsonObject params;
    bool ok = ParseCommand(c.text, &name, &params, &err);
    if (std::string(c.name).empty()) {
      EXPECT_FALSE(ok) << c.text;
      EXPECT_FALSE(err.empty()) << c.text;
      continue;
    }
    ASSERT_TRUE(ok) << c.text << ": " << err;
    EXPECT_EQ(name, c.name) << c.text;
    EXPECT_EQ(DumpJson(Json(params)), c.params_json) << c.text;
  }
}

// A long value quoted in an error is cut at a character boundary: the message stays UTF-8.
TEST(ParserTest, QuotedValuesAreCutBetweenCharacters) {
  std::string value = "x";  // so that byte 57 of the quoted text falls inside an "é"
  for (int i = 0; i < 40; ++i) value += "\xc3\xa9";  // "é" x 40: 80 bytes
  const std::string yaml =
      "version: '2.0'\nwf:\n  tasks:\n    t:\n      action: std.noop\n"
      "      wait-before: \"" +
      value + "\"\n";
  auto r = ParseDocument(yaml, {});
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("wait-before"), std::string::npos) << m;
  EXPECT_NE(m.find("..."), std::string::npos) << m;
  // Every multi-byte sequence in the message is complete.
  for (size_t i = 0; i < m.size();) {
    const unsigned char c = static_cast<unsigned char>(m[i]);
    const size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    ASSERT_NE(len, 0u) << "a stray continuation byte at " << i << " in " << m;
    ASSERT_LE(i + len, m.size()) << m;
    for (size_t k = 1; k < len; ++k) {
      ASSERT_EQ(static_cast<unsigned char>(m[i + k]) & 0xC0, 0x80) << "cut at " << i << ": " << m;
    }
    i += len;
  }
}

TEST(ParserTest, TaskInlineParamsAndInput) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output="x" n=1 l=[1,2] v=<% $.x %>
      input:
        output: from-input
)");
  ASSERT_EQ(doc.workflows.size(), 1u);
  const TaskSpec& t = doc.workflows[0].tasks[0];
  EXPECT_EQ(Src(t.action), R"("std.echo")");
  EXPECT_EQ(Src(t.inline_params), R"({"output":"x","n":1,"l":[1,2],"v":"<% $.x %>"})");
  EXPECT_TRUE(t.inline_params.HasExpressions());
  EXPECT_EQ(Src(t.input), R"({"output":"from-input"})");
  EXPECT_FALSE(t.workflow.has_value());
}

TEST(ParserTest, DefaultsForTaskWithoutActionOrFlags) {
  auto doc = MustParse("version: 2.0\nwf:\n  tasks:\n    t1:\n      publish: {a: 1}\n");
  const TaskSpec& t = doc.workflows[0].tasks[0];
  EXPECT_EQ(Src(t.action), R"("std.noop")");
  EXPECT_EQ(Src(t.keep_result), "true");
  EXPECT_EQ(Src(t.safe_rerun), "false");
  EXPECT_EQ(Src(t.inline_params), "{}");
  EXPECT_EQ(doc.workflows[0].type, WorkflowType::kDirect);
  EXPECT_EQ(t.location.line, 4);
  EXPECT_EQ(t.location.column, 5);
}

TEST(ParserTest, WorkflowTaskWithExpressionName) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    t1:
      workflow: <% $.sub %> a=1
      input: <% $.params %>
)");
  const TaskSpec& t = doc.workflows[0].tasks[0];
  ASSERT_TRUE(t.workflow.has_value());
  EXPECT_TRUE(t.workflow->HasExpressions());
  EXPECT_FALSE(t.action.has_value());
  EXPECT_EQ(Src(t.inline_params), R"({"a":1})");
  EXPECT_EQ(Src(t.input), R"("<% $.params %>")");
}

// ---- transitions
// -------------------------------------------------------------------------------------

TEST(ParserTest, TransitionForms) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      on-success:
        - t2
        - t3: <% $.go %>
        - fail msg='bad'
        - succeed msg="done": <% $.ok %>
        - fail(msg=<% task().result %>)
        - pause
        - noop
      on-error: t2
      on-complete:
        publish:
          branch: {b: 1}
          global: {g: <% $.x %>}
        next:
          - t3
      on-skip: t3
    t2:
      action: std.noop
    t3:
      action: std.noop
)");
  const TaskSpec& t = doc.workflows[0].tasks[0];
  ASSERT_TRUE(t.on_success.has_value());
  const auto& n = t.on_success->next;
  ASSERT_EQ(n.size(), 7u);
  EXPECT_EQ(n[0].kind, TransitionItem::Kind::kTask);
  EXPECT_EQ(n[0].task_name, "t2");
  EXPECT_FALSE(n[0].condition.has_value());
  EXPECT_EQ(n[1].task_name, "t3");
  EXPECT_EQ(Src(n[1].condition), R"("<% $.go %>")");
  EXPECT_EQ(n[2].kind, TransitionItem::Kind::kFail);
  EXPECT_EQ(Src(n[2].msg), R"("bad")");
  EXPECT_EQ(n[3].kind, TransitionItem::Kind::kSucceed);
  EXPECT_EQ(Src(n[3].msg), R"("done")");
  EXPECT_EQ(Src(n[3].condition), R"("<% $.ok %>")");
  EXPECT_EQ(n[4].kind, TransitionItem::Kind::kFail);
  EXPECT_EQ(Src(n[4].msg), R"("<% task().result %>")");
  EXPECT_EQ(n[5].kind, TransitionItem::Kind::kPause);
  EXPECT_EQ(n[6].kind, TransitionItem::Kind::kNoop);
  EXPECT_EQ(n[1].location.line, 9);
  ASSERT_TRUE(t.on_error.has_value());
  EXPECT_EQ(t.on_error->next.size(), 1u);
  ASSERT_TRUE(t.on_complete.has_value());
  EXPECT_EQ(Src(t.on_complete->publish_branch), R"({"b":1})");
  EXPECT_EQ(Src(t.on_complete->publish_global), R"({"g":"<% $.x %>"})");
  EXPECT_EQ(t.on_complete->next.size(), 1u);
  ASSERT_TRUE(t.on_skip.has_value());
  EXPECT_EQ(t.on_skip->next[0].task_name, "t3");
}

TEST(ParserTest, AdvancedPublishWithoutNext) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    t1:
      on-success:
        publish:
          global:
            counter: 1
)");
  const auto& c = doc.workflows[0].tasks[0].on_success;
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->next.empty());
  EXPECT_FALSE(c->empty());
  EXPECT_EQ(Src(c->publish_global), R"({"counter":1})");
}

TEST(ParserTest, JoinKinds) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    a:
      on-success: [j_all, j_one, j_two]
    b:
      on-success: [j_all, j_one, j_two]
    j_all:
      join: all
    j_one:
      join: one
    j_two:
      join: 2
)");
  const auto& wf = doc.workflows[0];
  EXPECT_EQ(wf.FindTask("a")->join, JoinKind::kNone);
  EXPECT_EQ(wf.FindTask("j_all")->join, JoinKind::kAll);
  EXPECT_EQ(wf.FindTask("j_one")->join, JoinKind::kOne);
  EXPECT_EQ(wf.FindTask("j_one")->join_count, 1);
  EXPECT_EQ(wf.FindTask("j_two")->join, JoinKind::kCount);
  EXPECT_EQ(wf.FindTask("j_two")->join_count, 2);
  EXPECT_EQ(wf.FindTask("missing"), nullptr);
}

// ---- policies
// ----------------------------------------------------------------------------------------

TEST(ParserTest, RetryForms) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    t1:
      retry: count=3 delay=1 break-on=<% $.x > 2 %>
      on-success: t2
    t2:
      retry:
        count: <% $.n %>
        delay: 0
        continue-on: <% task().result != 'ok' %>
      wait-before: 1
      wait-after: <% $.w %>
      timeout: 30
      pause-before: true
      fail-on: <% $.bad %>
      concurrency: 2
      keep-result: false
      safe-rerun: true
      target: worker-<% $.n %>
)");
  const auto& t1 = doc.workflows[0].tasks[0];
  ASSERT_TRUE(t1.retry.has_value());
  EXPECT_EQ(Src(t1.retry->count), "3");
  EXPECT_EQ(Src(t1.retry->delay), "1");
  EXPECT_EQ(Src(t1.retry->break_on), R"("<% $.x > 2 %>")");
  EXPECT_FALSE(t1.retry->continue_on.has_value());
  const auto& t2 = doc.workflows[0].tasks[1];
  EXPECT_EQ(Src(t2.retry->count), R"("<% $.n %>")");
  EXPECT_EQ(Src(t2.retry->continue_on), R"("<% task().result != 'ok' %>")");
  EXPECT_EQ(Src(t2.wait_before), "1");
  EXPECT_EQ(Src(t2.wait_after), R"("<% $.w %>")");
  EXPECT_EQ(Src(t2.timeout), "30");
  EXPECT_EQ(Src(t2.pause_before), "true");
  EXPECT_EQ(Src(t2.fail_on), R"("<% $.bad %>")");
  EXPECT_EQ(Src(t2.concurrency), "2");
  EXPECT_EQ(Src(t2.keep_result), "false");
  EXPECT_EQ(Src(t2.safe_rerun), "true");
  EXPECT_EQ(Src(t2.target), R"("worker-<% $.n %>")");
}

TEST(ParserTest, WithItemsForms) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  tasks:
    t1:
      with-items: x in <% $.list %>
      action: std.echo output=<% $.x %>
    t2:
      with-items:
        - a in [1, 2, "three"]
        - b in {{ _.names }}
        - c   in   <% range(0, 3) %>
      action: std.noop
)");
  const auto& t1 = doc.workflows[0].tasks[0];
  ASSERT_EQ(t1.with_items.size(), 1u);
  EXPECT_EQ(t1.with_items[0].name, "x");
  EXPECT_EQ(Src(t1.with_items[0].source), R"("<% $.list %>")");
  const auto& t2 = doc.workflows[0].tasks[1];
  ASSERT_EQ(t2.with_items.size(), 3u);
  EXPECT_EQ(t2.with_items[0].name, "a");
  EXPECT_EQ(Src(t2.with_items[0].source), R"([1,2,"three"])");
  EXPECT_EQ(Src(t2.with_items[1].source), R"("{{ _.names }}")");
  EXPECT_EQ(t2.with_items[2].name, "c");
  EXPECT_EQ(Src(t2.with_items[2].source), R"("<% range(0, 3) %>")");
}

// ---- typing of values
// --------------------------------------------------------------------------------

TEST(ParserTest, PublishValuesUseYaml11Typing) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  input:
    - a
    - b: yes
    - c: ~
    - d: 0x10
    - e: '010'
  tasks:
    t1:
      publish:
        flag: on
        octal: 010
        text: "on"
        num: 1.5
)");
  const auto& wf = doc.workflows[0];
  ASSERT_EQ(wf.input.size(), 5u);
  EXPECT_EQ(wf.input[0].name, "a");
  EXPECT_FALSE(wf.input[0].has_default);
  EXPECT_TRUE(wf.input[1].has_default);
  EXPECT_EQ(wf.input[1].default_value, Json(true));
  EXPECT_TRUE(wf.input[2].default_value.is_null());
  EXPECT_EQ(wf.input[3].default_value, Json(16));
  EXPECT_EQ(wf.input[4].default_value, Json("010"));
  EXPECT_EQ(Src(wf.tasks[0].publish), R"({"flag":true,"octal":8,"text":"on","num":1.5E0})");
}

// ---- task-defaults
// -----------------------------------------------------------------------------------

TEST(ParserTest, TaskDefaultsResolution) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  task-defaults:
    on-error:
      - handler
    on-complete: [audit]
    retry: count=2 delay=5
    timeout: 10
    safe-rerun: true
  tasks:
    t1:
      action: std.noop
      timeout: 99
      on-complete:
        publish:
          branch: {x: 1}
    t2:
      action: std.noop
      on-error: [other]
      safe-rerun: false
    handler:
      action: std.noop
    other:
      action: std.noop
    audit:
      action: std.noop
)");
  const auto& wf = doc.workflows[0];
  const TaskSpec* t1 = wf.FindTask("t1");
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(Src(t1->timeout), "99");
  EXPECT_EQ(Src(t1->retry->count), "2");
  ASSERT_TRUE(t1->on_error.has_value());
  EXPECT_EQ(t1->on_error->next[0].task_name, "handler");
  ASSERT_TRUE(t1->on_complete.has_value());
  ASSERT_EQ(t1->on_complete->next.size(), 1u);
  EXPECT_EQ(t1->on_complete->next[0].task_name, "audit");  // own next empty => default next applies
  EXPECT_EQ(Src(t1->on_complete->publish_branch), R"({"x":1})");
  EXPECT_EQ(Src(t1->safe_rerun), "true");
  const TaskSpec* t2 = wf.FindTask("t2");
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->on_error->next.size(), 1u);
  EXPECT_EQ(t2->on_error->next[0].task_name, "other");
  EXPECT_EQ(Src(t2->safe_rerun), "false");
  EXPECT_EQ(Src(t2->timeout), "10");
  const TaskSpec* handler = wf.FindTask("handler");
  ASSERT_NE(handler, nullptr);
  EXPECT_FALSE(handler->on_error.has_value());  // its own name is removed from the default clause
  const TaskSpec* audit = wf.FindTask("audit");
  ASSERT_NE(audit, nullptr);
  EXPECT_FALSE(audit->on_complete.has_value());
  EXPECT_EQ(Src(wf.task_defaults.timeout), "10");
}

TEST(ParserTest, ReverseWorkflowRequiresUnion) {
  auto doc = MustParse(R"(
version: '2.0'
wf:
  type: reverse
  task-defaults:
    requires: [init]
  tasks:
    init:
      action: std.noop
    a:
      requires: b
    b:
      requires: [init]
)");
  const auto& wf = doc.workflows[0];
  EXPECT_EQ(wf.type, WorkflowType::kReverse);
  EXPECT_TRUE(wf.FindTask("init")->requires_tasks.empty());
  EXPECT_EQ(wf.FindTask("a")->requires_tasks, (std::vector<std::string>{"b", "init"}));
  EXPECT_EQ(wf.FindTask("b")->requires_tasks, (std::vector<std::string>{"init"}));
}

// ---- document kinds
// ----------------------------------------------------------------------------------

TEST(ParserTest, WorkbookNamesAndActions) {
  auto doc = MustParse(R"(
version: '2.0'
name: my_wb
description: a workbook
tags: [demo]
actions:
  greet:
    base: std.echo output="Hello, <% $.name %>"
    base-input:
      delay: 0
    input:
      - name
      - punctuation: '!'
    output: <% $ %>
workflows:
  main:
    tasks:
      t1:
        action: greet name=Bob
        on-success: t2
      t2:
        workflow: sub
  sub:
    tasks:
      only:
        action: std.noop
)");
  EXPECT_EQ(doc.kind, Document::Kind::kWorkbook);
  EXPECT_EQ(doc.name, "my_wb");
  EXPECT_EQ(doc.description, "a workbook");
  EXPECT_EQ(doc.tags, std::vector<std::string>{"demo"});
  ASSERT_EQ(doc.workflows.size(), 2u);
  EXPECT_EQ(doc.workflows[0].name, "main");
  EXPECT_EQ(doc.workflows[0].full_name, "my_wb.main");
  EXPECT_EQ(doc.workflows[0].workbook, "my_wb");
  ASSERT_EQ(doc.actions.size(), 1u);
  const auto& a = doc.actions[0];
  EXPECT_EQ(a.full_name, "my_wb.greet");
  EXPECT_EQ(a.base, "std.echo");
  EXPECT_EQ(Src(a.base_input), R"({"output":"Hello, <% $.name %>","delay":0})");
  ASSERT_EQ(a.input.size(), 2u);
  EXPECT_EQ(a.input[1].default_value, Json("!"));
  EXPECT_EQ(Src(a.output), R"("<% $ %>")");
}

TEST(ParserTest, ActionsDocumentDetectedAndForced) {
  const std::string text =
      "version: '2.0'\nmy_echo:\n  base: std.echo output=<% $.x %>\n  input: [x]\n";
  auto doc = MustParse(text);
  EXPECT_EQ(doc.kind, Document::Kind::kActions);
  ASSERT_EQ(doc.actions.size(), 1u);
  EXPECT_EQ(doc.actions[0].full_name, "my_echo");
  ParseOptions forced;
  forced.expect = ParseOptions::Expect::kActions;
  auto doc2 = MustParse(text, forced);
  EXPECT_EQ(doc2.kind, Document::Kind::kActions);
  ParseOptions as_workflows;
  as_workflows.expect = ParseOptions::Expect::kWorkflows;
  EXPECT_FALSE(ParseDocument(text, as_workflows).ok());
}

TEST(ParserTest, VersionVariants) {
  for (const char* v : {"'2.0'", "2.0", "2", "'2'", "\"2.00\""}) {
    auto r = ParseDocument(std::string("version: ") + v +
                           "\nwf:\n  tasks:\n    t: {action: std.noop}\n");
    EXPECT_TRUE(r.ok()) << v << ": " << r.status().ToString();
  }
  // Required, as in Mistral 15 ("'version' is a required property").
  auto absent = ParseDocument("wf:\n  tasks:\n    t: {action: std.noop}\n");
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("'version' is a required property"), std::string::npos);
  for (const char* v : {"'1.0'", "3", "abc", "true"}) {
    EXPECT_FALSE(
        ParseDocument(std::string("version: ") + v + "\nwf:\n  tasks:\n    t: {action: std.noop}\n")
            .ok())
        << v;
  }
}

// Mistral loads a definition calling an unknown function and fails the task when it runs; with
// ParseOptions::strict (bora validate) each such call is an error at the string that makes it.
TEST(ParserTest, StrictReportsUnknownFunctions) {
  const char* yaml = R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=<% nosuchfn(1) %>
      publish:
        a: '{{ _.y | nosuchfilter }}'
        b: <% $.z.badmethod() + len($.x) + task().result.len() %>
)";
  ASSERT_TRUE(ParseDocument(yaml).ok()) << "not strict: loads, as Mistral does";
  ParseOptions options;
  options.file_name = "wf.yaml";
  options.strict = true;
  std::vector<ValidationError> errors;
  ASSERT_FALSE(ParseDocument(yaml, options, &errors).ok());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].ToString(),
            "wf.yaml:5:15: workflow 'wf', task 't1': unknown function nosuchfn() in 'action "
            "parameters' (evaluating it would fail the task)");
  EXPECT_EQ(errors[1].location.line, 7);
  EXPECT_NE(errors[1].message.find("| nosuchfilter"), std::string::npos) << errors[1].message;
  EXPECT_EQ(errors[2].location.line, 8);
  EXPECT_NE(errors[2].message.find("badmethod()"), std::string::npos) << errors[2].message;
}

// Built-ins refused on purpose (the expressions README tables) fail the task when they run, so bora
// validate reports them too, with the reason.
TEST(ParserTest, StrictReportsRefusedFunctions) {
  const char* yaml = R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=<% sequence() %>
      publish:
        a: '{{ "x" | urlize }}'
        b: '{{ lipsum() }}'
        c: <% range(3).sum() %>
)";
  ASSERT_TRUE(ParseDocument(yaml).ok()) << "not strict: loads, as Mistral does";
  ParseOptions options;
  options.file_name = "wf.yaml";
  options.strict = true;
  std::vector<ValidationError> errors;
  ASSERT_FALSE(ParseDocument(yaml, options, &errors).ok());
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].ToString(),
            "wf.yaml:5:15: workflow 'wf', task 't1': sequence() is not supported: an endless "
            "iterator (results are plain lists here); use range() (in 'action parameters'; "
            "evaluating it would fail the task)");
  EXPECT_EQ(errors[1].location.line, 7);
  EXPECT_NE(errors[1].message.find("| urlize is not supported: "), std::string::npos)
      << errors[1].message;
  EXPECT_EQ(errors[2].location.line, 8);
  EXPECT_NE(errors[2].message.find("lipsum() is not supported: "), std::string::npos)
      << errors[2].message;
}

TEST(ParserTest, ErrorsAreCollectedWithContext) {
  ParseOptions options;
  options.file_name = "wf.yaml";
  std::vector<ValidationError> errors;
  auto r = ParseDocument(R"(version: '2.0'
wf:
  tasks:
    t1:
      action: std.noop
      timeout: x
      on-sucess: t2
)",
                         options, &errors);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].workflow, "wf");
  EXPECT_EQ(errors[0].task, "t1");
  EXPECT_EQ(
      errors[0].ToString(),
      "wf.yaml:7:7: workflow 'wf', task 't1': unknown key 'on-sucess' in task (did you mean "
      "'on-success'?); expected one of: description, tags, action, workflow, input, publish, "
      "publish-on-error, publish-on-skip, with-items, concurrency, retry, wait-before, wait-after, "
      "timeout, pause-before, fail-on, keep-result, safe-rerun, target, on-success, on-error, "
      "on-complete, on-skip, join");
  EXPECT_NE(r.status().message().find("wf.yaml:6:16: workflow 'wf', task 't1': 'timeout'"),
            std::string::npos)
      << r.status().message();
}

TEST(ParserTest, LongTaskNamesRejected) {
  std::string name(256, 'a');
  auto r =
      ParseDocument("version: '2.0'\nwf:\n  tasks:\n    " + name + ":\n      action: std.noop\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("longer than 255"), std::string::npos);
  std::string join_name(209, 'j');
  auto j = ParseDocument("version: '2.0'\nwf:\n  tasks:\n    a:\n      on-success: " + join_name +
                         "\n    " + join_name + ":\n      join: all\n");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("join task name"), std::string::npos);
}

TEST(ParserTest, HostileDocumentsFailCleanly) {
  ParseOptions options;
  std::string many_aliases =
      "version: '2.0'\nx: &x {a: 1}\nwf:\n  tasks:\n    t:\n      publish:\n";
  for (int i = 0; i < 100; ++i) many_aliases += "        k" + std::to_string(i) + ": *x\n";
  auto r = ParseDocument(many_aliases, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("max_aliases"), std::string::npos);

  std::string deep = "version: '2.0'\nwf:\n  tasks:\n    t:\n      publish:\n        a: ";
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  auto d = ParseDocument(deep + "\n", options);
  EXPECT_EQ(d.status().code(), StatusCode::kResourceExhausted);

  options.max_document_bytes = 100;
  auto big = ParseDocument(std::string(200, '#'), options);
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(big.status().message().find("max_document_bytes"), std::string::npos);
}

TEST(ParserTest, ConcurrentParsesAgree) {
  const std::string text = R"(
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=<% $.x %> n=0x10
      with-items: x in [1, 2]
      on-success: [t2]
    t2:
      publish: {done: yes}
)";
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 50; ++n) {
        auto r = ParseDocument(text);
        results[i] = r.ok() ? DumpJson(r->workflows[0].tasks[0].inline_params.Source()) +
                                  DumpJson(r->workflows[0].tasks[1].publish->Source())
                            : r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, R"({"output":"<% $.x %>","n":"0x10"}{"done":true})");
}

TEST(ParserTest, ExamplesParse) {
  namespace fs = std::filesystem;
  int parsed = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(BORA_EXAMPLES_DIR, ec)) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    ParseOptions options;
    options.file_name = entry.path().filename().string();
    auto r = ParseDocument(ss.str(), options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    ++parsed;
  }
  EXPECT_GE(parsed, 3) << "examples not found in " << BORA_EXAMPLES_DIR;
}

}  // namespace
}  // namespace bora::lang
