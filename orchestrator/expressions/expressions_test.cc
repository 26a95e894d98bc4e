// Tests for the expression engine. The bulk is data-driven: testdata/*.txt hold one case per line,
// reported by file and line. Format:
//   # comment
//   @data <json>                       data (`$` / `_`) for the following cases
//   @limits steps=N bytes=N depth=N len=N | @limits default
//   <template string> ==> <expected JSON>
//   <template string> ==> error: <substring of the message>          (any evaluation/compile
//   failure) <template string> ==> exhausted: <substring>                      (kResourceExhausted)
//   <template string> ==> syntax: <substring>                         (compile-time
//   kInvalidArgument)
// Cases run with a FakeHost (task(), tasks(), execution(), env(), global()) and a ManualClock at
// 2026-01-01 00:00:00 UTC (YAQL now()).
// C++ tests below cover Host routing, Template over nested JSON (keys never evaluated), limits and
// API.
#include "orchestrator/expressions/expressions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace bora::expr {
namespace {

Json J(std::string_view text) {
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << " in " << text;
  return r.ok() ? r.value() : Json();
}

// A host that records calls and answers task()/tasks()/execution()/env()/global().
class FakeHost : public Host {
 public:
  Result<Json> Call(std::string_view name, std::span<const Json> args,
                    const KwArgs& kwargs) override {
    std::string call(name);
    call += "(";
    for (size_t i = 0; i < args.size(); ++i) call += (i ? ", " : "") + PythonRepr(args[i]);
    for (const auto& [k, v] : kwargs)
      call += (call.back() == '(' ? "" : ", ") + k + "=" + PythonRepr(v);
    call += ")";
    calls.push_back(call);
    if (name == "task") {
      std::string task = args.empty()          ? "current"
                         : args[0].is_string() ? std::string(args[0].get_string())
                                               : "?";
      if (task == "missing") return Json();
      if (task == "failing") return InvalidArgument("task lookup failed");
      JsonObject t;
      t["name"] = task;
      t["state"] = task == "bad" ? "ERROR" : "SUCCESS";
      t["result"] = J(R"({"value": 42, "list": [1, 2, 3]})");
      t["published"] = J(R"({"p": "v"})");
      t["state_info"] = nullptr;
      return Json(std::move(t));
    }
    if (name == "tasks") {
      std::string state;
      for (const auto& [k, v] : kwargs)
        if (k == "state" && v.is_string()) state = v.get_string();
      JsonArray out;
      for (const char* n : {"t1", "t2", "t3"}) {
        std::string st = std::string(n) == "t2" ? "ERROR" : "SUCCESS";
        if (!state.empty() && st != state) continue;
        JsonObject t;
        t["name"] = n;
        t["state"] = st;
        out.push_back(Json(std::move(t)));
      }
      return Json(std::move(out));
    }
    if (name == "execution")
      return J(R"({"id": "ex-1", "name": "wf", "input": {"a": 1}, "params": {}})");
    if (name == "env") return J(R"({"region": "eu", "size": 3})");
    if (name == "global") {
      if (!args.empty() && args[0] == Json("g")) return Json("global-value");
      return Json();
    }
    return NotFound("no such host function");
  }
  std::vector<std::string> calls;
};

std::filesystem::path TestDataDir() {
  for (std::filesystem::path p : {std::filesystem::path("orchestrator/expressions/testdata"),
                                  std::filesystem::path(__FILE__).parent_path() / "testdata"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return {};
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

TEST(ExpressionTable, AllCases) {
  std::filesystem::path dir = TestDataDir();
  ASSERT_FALSE(dir.empty()) << "testdata directory not found";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  int cases = 0, failures = 0;
  for (const auto& file : files) {
    std::ifstream in(file);
    std::string line;
    int line_no = 0;
    Json data = JsonObject();
    Limits limits;
    while (std::getline(in, line)) {
      ++line_no;
      std::string where = file.filename().string() + ":" + std::to_string(line_no);
      std::string t = Trim(line);
      if (t.empty() || t[0] == '#') continue;
      if (t.rfind("@data ", 0) == 0) {
        data = J(t.substr(6));
        continue;
      }
      if (t.rfind("@limits", 0) == 0) {
        limits = Limits();
        std::istringstream ss(t.substr(7));
        std::string kv;
        while (ss >> kv) {
          size_t eq = kv.find('=');
          if (eq == std::string::npos) continue;
          std::string k = kv.substr(0, eq);
          long long v = std::atoll(kv.c_str() + eq + 1);
          if (k == "steps") limits.max_steps = v;
          if (k == "bytes") limits.max_output_bytes = static_cast<size_t>(v);
          if (k == "depth") limits.max_depth = static_cast<int>(v);
          if (k == "len") limits.max_expression_length = static_cast<size_t>(v);
        }
        continue;
      }
      size_t sep = line.rfind(" ==> ");
      if (sep == std::string::npos) {
        ADD_FAILURE() << where << ": no ' ==> ' in case";
        continue;
      }
      std::string expr = line.substr(0, sep);
      // Leading indentation is not part of the expression; "\n" escapes a newline.
      expr = expr.substr(expr.find_first_not_of(" \t"));
      for (size_t p = expr.find("\\n"); p != std::string::npos; p = expr.find("\\n", p + 1))
        expr.replace(p, 2, "\n");
      std::string expected = Trim(line.substr(sep + 5));
      ++cases;
      FakeHost host;
      auto compiled = Template::CompileString(expr, limits);
      Result<Json> result = compiled.ok() ? [&]() {
        EvalContext ctx;
        ctx.data = &data;
        ctx.host = &host;
        ctx.limits = limits;
        static const ManualClock clock;  // YAQL now(): 2026-01-01 00:00:00 UTC
        ctx.clock = &clock;
        return compiled->Evaluate(ctx);
      }()
                                          : Result<Json>(compiled.status());
      auto fail = [&](const std::string& msg) {
        ++failures;
        ADD_FAILURE() << where << ": " << expr << "\n  " << msg;
      };
      std::string kind;
      for (const char* k : {"error:", "exhausted:", "syntax:"}) {
        if (expected.rfind(k, 0) == 0) kind = k;
      }
      if (!kind.empty()) {
        std::string want = Trim(expected.substr(kind.size()));
        if (result.ok()) {
          fail("expected " + expected + ", got value " + DumpJson(*result));
          continue;
        }
        const Status& st = result.status();
        if (st.message().find(want) == std::string::npos) {
          fail("expected message containing '" + want + "', got " + st.ToString());
        } else if (kind == "exhausted:" && st.code() != StatusCode::kResourceExhausted) {
          fail("expected RESOURCE_EXHAUSTED, got " + st.ToString());
        } else if (kind == "syntax:" &&
                   (compiled.ok() || st.code() != StatusCode::kInvalidArgument)) {
          fail("expected a compile-time INVALID_ARGUMENT, got " + st.ToString());
        }
        continue;
      }
      if (!result.ok()) {
        fail("expected " + expected + ", got error " + result.status().ToString());
        continue;
      }
      auto want = ParseJson(expected);
      if (!want.ok()) {
        fail("bad expected JSON: " + expected);
        continue;
      }
      // Exact kind match for numbers (1 vs 1.0 matters for Python formatting), JsonEquals
      // otherwise.
      bool same = JsonEquals(*result, *want) && (result->is_double() == want->is_double()) &&
                  DumpJson(*result) == DumpJson(*want);
      if (!same) fail("expected " + DumpJson(*want) + ", got " + DumpJson(*result));
    }
  }
  std::cout << "expression cases: " << cases << ", failures: " << failures << "\n";
  EXPECT_GE(cases, 400);
}

TEST(Expressions, HostRouting) {
  FakeHost host;
  Json data = J(R"({"x": 1})");
  EvalContext ctx{&data, &host, Limits()};
  auto t = Template::CompileString("<% task(t1).result.value + tasks(state => ERROR).len() %>");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = t->Evaluate(ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Json(43));
  ASSERT_EQ(host.calls.size(), 2u);
  EXPECT_EQ(host.calls[0], "task('t1')");
  EXPECT_EQ(host.calls[1], "tasks(state='ERROR')");

  host.calls.clear();
  auto j = Template::CompileString("{{ task('t2').state }} {{ env().region }}");
  ASSERT_TRUE(j.ok());
  r = j->Evaluate(ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Json("SUCCESS eu"));
  EXPECT_EQ(host.calls, (std::vector<std::string>{"task('t2')", "env()"}));
}

TEST(Expressions, UnknownFunctionWithoutHost) {
  Json data = J("{}");
  auto r = EvaluateOnce("<% task(t1) %>", data);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no function named 'task'"), std::string::npos)
      << r.status().message();
  FakeHost host;
  r = EvaluateOnce("<% nosuch(1) %>", data, &host);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no function named 'nosuch'"), std::string::npos);
}

TEST(Expressions, HostErrorPropagates) {
  FakeHost host;
  Json data = J("{}");
  auto r = EvaluateOnce("<% task(failing) %>", data, &host);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("task lookup failed"), std::string::npos);
}

TEST(Template, NestedJsonKeysNeverEvaluated) {
  Json src = J(R"({"<% $.k %>": "<% $.v %>", "list": [1, "{{ _.v }}", {"n": "x=<% $.v %>"}],
                   "plain": {"a": [true, null]}, "num": 3})");
  auto t = Template::Compile(src);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->HasExpressions());
  EXPECT_EQ(t->Source(), src);
  Json data = J(R"({"k": "key", "v": 7})");
  EvalContext ctx{&data, nullptr, Limits()};
  auto r = t->Evaluate(ctx);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, J(R"({"<% $.k %>": 7, "list": [1, 7, {"n": "x=7"}], "plain": {"a": [true, null]},
                     "num": 3})"));
  // Evaluating again gives the same result (compiled once, evaluated many times).
  auto r2 = t->Evaluate(ctx);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r, *r2);
}

TEST(Template, NoExpressions) {
  Json src = J(R"({"a": [1, "text", {"b": "100% sure {not jinja}"}]})");
  auto t = Template::Compile(src);
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->HasExpressions());
  Json data = J("{}");
  EvalContext ctx{&data, nullptr, Limits()};
  auto r = t->Evaluate(ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, src);
  Template empty;
  EXPECT_FALSE(empty.HasExpressions());
  auto n = empty.Evaluate(ctx);
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->is_null());
}

TEST(Template, CompileErrorNamesExpressionAndColumn) {
  auto t = Template::Compile(J(R"({"a": ["ok", "<% $.x + %>"]})"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(),
            "invalid YAQL expression '<% $.x + %>': unexpected end of expression at column 8");
}

TEST(Template, EvaluationErrorIsMistralStyle) {
  Json data = J(R"({"x": {"a": 1}})");
  auto r = EvaluateOnce("<% $.x.y %>", data);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "Can not evaluate YAQL expression [expression=$.x.y, error=key 'y' not found, "
            "data={'x': {'a': 1}}]");
  r = EvaluateOnce("{{ _.x.y }}", data);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "Can not evaluate Jinja expression [expression={{ _.x.y }}, error='dict object' has no "
            "attribute 'y', data={'x': {'a': 1}}]");
}

TEST(Template, ConcurrentEvaluation) {
  auto t = Template::CompileString("<% $.items.select($ * 2).sum() %>");
  ASSERT_TRUE(t.ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Json data = J("{\"items\": [1, 2, " + std::to_string(i) + "]}");
      for (int k = 0; k < 200; ++k) {
        auto r = t->Evaluate(EvalContext{&data, nullptr, Limits()});
        if (r.ok() && *r == Json(6 + 2 * i)) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 800);
}

TEST(Limits, StepsAndOutput) {
  Json data = J("{}");
  Limits l;
  l.max_steps = 1000;
  auto r = EvaluateOnce("<% range(100000).select($ + 1) %>", data, nullptr, l);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("expression budget exceeded: more than 1000 steps"),
            std::string::npos)
      << r.status().message();
  r = EvaluateOnce("<% range(1000000000) %>", data);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("max_output_bytes"), std::string::npos);
  Limits small;
  small.max_expression_length = 10;
  auto c = Template::CompileString("<% 1 + 2 + 3 + 4 + 5 %>", small);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted);
}

TEST(Api, ContainsExpression) {
  EXPECT_TRUE(ContainsExpression("<% $ %>"));
  EXPECT_TRUE(ContainsExpression("a {{ b }} c"));
  EXPECT_TRUE(ContainsExpression("{% if x %}y{% endif %}"));
  EXPECT_FALSE(ContainsExpression("100% <%"));
  EXPECT_FALSE(ContainsExpression("{ {x} }"));
  EXPECT_FALSE(ContainsExpression("%> <%"));
}

}  // namespace
}  // namespace bora::expr

namespace bora::expr {
namespace {

// Every expression in the conformance corpus compiles. Skipped (with a message) when the corpus is
// absent.
TEST(Conformance, CorpusExpressionsCompile) {
  std::filesystem::path dir;
  if (const char* env = std::getenv("BORA_CONFORMANCE_DIR"))
    dir = env;
  else
    dir = "../shared/conformance";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "conformance corpus not found at " << dir;
  int compiled = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    std::string line;
    int line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      for (auto [open, close] : {std::pair{"<%", "%>"}, std::pair{"{{", "}}"}}) {
        for (size_t p = line.find(open); p != std::string::npos; p = line.find(open, p + 2)) {
          size_t q = line.find(close, p + 2);
          if (q == std::string::npos) break;
          std::string expr = line.substr(p, q + 2 - p);
          auto t = Template::CompileString(expr);
          EXPECT_TRUE(t.ok()) << e.path().filename() << ":" << line_no << ": "
                              << t.status().ToString();
          ++compiled;
        }
      }
    }
  }
  std::cout << "conformance expressions compiled: " << compiled << "\n";
  EXPECT_GT(compiled, 0);
}

}  // namespace
}  // namespace bora::expr

namespace bora::expr {
namespace {

TEST(Template, CopiesShareCompiledState) {
  auto t = Template::Compile(J(R"({"a": "<% $.x * 2 %>", "b": ["{{ _.x }} items"]})"));
  ASSERT_TRUE(t.ok());
  Template copy = *t;
  Json d1 = J(R"({"x": 2})"), d2 = J(R"({"x": 5})");
  auto r1 = copy.Evaluate(EvalContext{&d1, nullptr, Limits()});
  auto r2 = t->Evaluate(EvalContext{&d2, nullptr, Limits()});
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(*r1, J(R"({"a": 4, "b": ["2 items"]})"));
  EXPECT_EQ(*r2, J(R"({"a": 10, "b": ["5 items"]})"));
  EXPECT_EQ(copy.Source(), t->Source());
}

TEST(Template, ErrorInNestedValueNamesExpression) {
  auto t = Template::Compile(J(R"({"ok": "<% $.x %>", "list": [1, {"bad": "<% $.nope %>"}]})"));
  ASSERT_TRUE(t.ok());
  Json data = J(R"({"x": 1})");
  auto r = t->Evaluate(EvalContext{&data, nullptr, Limits()});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("[expression=$.nope, error=key 'nope' not found"),
            std::string::npos)
      << r.status().message();
}

TEST(Template, NullDataIsRejected) {
  auto t = Template::CompileString("<% $ %>");
  ASSERT_TRUE(t.ok());
  auto r = t->Evaluate(EvalContext{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(Template, JinjaBlockTemplateInNestedJson) {
  auto t = Template::Compile(J(R"({"msg": "{% for u in _.users %}{{ u }})"
                               R"({% if not loop.last %}, {% endif %}{% endfor %}"})"));
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Json data = J(R"({"users": ["a", "b", "c"]})");
  auto r = t->Evaluate(EvalContext{&data, nullptr, Limits()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, J(R"({"msg": "a, b, c"})"));
}

TEST(Limits, ResourceExhaustedKeepsMistralShape) {
  Json data = J("{}");
  Limits l;
  l.max_steps = 50;
  auto r = EvaluateOnce("{{ range(100) | map('string') | list }}", data, nullptr, l);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message().rfind("Can not evaluate Jinja expression [expression=", 0), 0u);
  EXPECT_NE(r.status().message().find("more than 50 steps"), std::string::npos);
}

TEST(Host, KwargsAndMethodReceiver) {
  FakeHost host;
  Json data = J("{}");
  auto r = EvaluateOnce("<% tasks(workflow_execution_id => 'x', state => SUCCESS).len() %>", data,
                        &host);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, Json(2));
  EXPECT_EQ(host.calls.back(), "tasks(workflow_execution_id='x', state='SUCCESS')");
  r = EvaluateOnce("{{ tasks(state='ERROR') | length }}", data, &host);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Json(1));
  // executions() is a host function even when the host does not provide it.
  r = EvaluateOnce("<% executions() %>", data, &host);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no such host function"), std::string::npos)
      << r.status().message();
}

// A layered scope: `$.key` reads the top-most layer that has the key without merging the layers;
// the whole `$` and error messages see the merge.
TEST(Expressions, ScopeLooksKeysUpThroughLayers) {
  Json input = J(R"({"xs": [1, 2, 3], "name": "input", "only_input": true})");
  Json global = J(R"({"name": "global", "g": 7})");
  Json item = J(R"({"i": 2})");
  Json empty = JsonObject();
  Json not_an_object = Json(5);
  Scope scope;
  for (const Json* layer : {&input, &global, &item, &empty, &not_an_object}) scope.Push(*layer);
  EvalContext ctx;
  ctx.scope = &scope;
  auto eval = [&](std::string_view text) {
    auto t = Template::CompileString(text);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t->Evaluate(ctx);
  };
  EXPECT_EQ(*eval("<% $.name %>"), Json("global"));
  EXPECT_EQ(*eval("<% $.xs[$.i] + $.g %>"), Json(10));
  EXPECT_EQ(*eval("{{ _.only_input }}"), Json(true));
  EXPECT_EQ(*eval("<% let(a => $.g) -> $a + $.i %>"), Json(9));
  EXPECT_EQ(*eval("<% $.xs.select($ + 1) %>"), J("[2, 3, 4]")) << "a lambda's `$` is its item";
  EXPECT_EQ(*eval("<% $ %>"),
            J(R"({"xs": [1, 2, 3], "name": "global", "only_input": true, "g": 7, "i": 2})"));
  EXPECT_EQ(*eval("<% $.keys().len() %>"), Json(5));
  auto missing = eval("<% $.nope %>");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("key 'nope' not found"), std::string::npos);
  EXPECT_NE(missing.status().message().find("'g': 7"), std::string::npos) << "data shows the merge";
  auto undefined = eval("{{ _.nope }}");
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.status().message().find("has no attribute 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace bora::expr
