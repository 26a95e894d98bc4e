#pragma once
// Public API of the YAQL (<% %>) and Jinja ({{ }}, {% %}) evaluators over JSON values, with Mistral's semantics.
//
// A workflow definition is compiled once (Template::Compile walks a JSON value and parses every expression found
// in string leaves; keys are never evaluated) and evaluated many times against different data. Compiled templates
// are immutable and cheap to copy (shared ownership), so they may be evaluated from any thread concurrently.
//
// Semantics (see ../../shared/mistral-spec.md section 2, and README.md here):
//  - a string that is exactly one expression ("<% $.x %>", "{{ _.x }}") evaluates to the typed value;
//  - otherwise every expression inside the string is evaluated and interpolated with Python's str();
//  - one string cannot mix YAQL and Jinja;
//  - a missing key is an error; YAQL bare identifiers are strings.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"

namespace bora::expr {

// Per-evaluation budget. Exceeding any limit fails the evaluation with kResourceExhausted and a message naming
// the limit. Defaults are documented in README.md.
struct Limits {
  int64_t max_steps = 1'000'000;           // evaluator steps (AST nodes visited, loop iterations)
  size_t max_output_bytes = 4 << 20;       // approximate size of any intermediate or final value
  int max_depth = 128;                     // recursion depth (nested calls, lambdas, value nesting)
  size_t max_expression_length = 64 << 10; // source length of one expression, checked at compile time
};

// Named arguments of a function call (`tasks(state => ERROR)`, `task(name => 'x')`).
using KwArgs = std::vector<std::pair<std::string, Json>>;

// Functions supplied by the host (the workflow engine): task(), tasks(), execution(), executions(), env(),
// global(). Built-in functions (uuid, json_dump, json_parse, yaml_dump, yaml_parse and the YAQL/Jinja standard
// library) are implemented by this module and are not routed here.
// Implementations are called on the evaluating thread only.
class Host {
 public:
  virtual ~Host() = default;
  // Returns kNotFound if `name` is not a host function (then evaluation fails with "no function named ...").
  virtual Result<Json> Call(std::string_view name, std::span<const Json> args, const KwArgs& kwargs) = 0;
};

// `$` of an evaluation built from objects layered over each other, later layers winning key by key (the
// workflow input, then the global context, then a task's inbound context...). `$.key` is looked up through the
// layers without building anything, so an evaluation over a large context costs what it reads, not the size
// of the context; only a use of the whole `$` (`<% $ %>`, `$.keys()`, an error message that shows the data)
// builds the merge, once per Scope. Layers that are not objects are skipped. The layers are borrowed: they
// must outlive the Scope and stay unchanged while it is used. Not thread-safe (the merge is cached).
class Scope {
 public:
  Scope() = default;
  Scope(const Scope& other) : layers_(other.layers_) {}
  Scope& operator=(const Scope&) = delete;

  // Adds a layer above the ones added before.
  void Push(const Json& layer) {
    if (layer.is_object() && !layer.get_object().empty()) layers_.push_back(&layer);
    merged_.reset();
  }
  // The value of the top-level `key`, or null if no layer has it.
  const Json* Find(std::string_view key) const;
  // The whole merged object.
  const Json& Whole() const;

 private:
  std::vector<const Json*> layers_;
  mutable std::optional<Json> merged_;
};

// What an evaluation sees: `$` (YAQL) and `_` (Jinja) are `*data`, or the merge of `scope` when it is set.
struct EvalContext {
  const Json* data = nullptr;  // must not be null unless `scope` is set
  Host* host = nullptr;        // may be null: host functions then fail with "no function named ..."
  Limits limits;
  const Scope* scope = nullptr;  // when set, `data` is ignored
  // YAQL now(). The engine always sets its own (the execution's `now`). Null: now() reads the
  // system clock, the one fallback (builtins_datetime.cc) for evaluations outside a runtime: tests,
  // tools, and event-trigger input mappings (ingest/events, which has no clock to pass yet).
  const Clock* clock = nullptr;
};

class CompiledNode;  // internal

// A JSON value in which string leaves may contain expressions.
class Template {
 public:
  Template();  // a template that evaluates to null

  // Compiles `value`. Fails with kInvalidArgument naming the bad expression and what is wrong, e.g.
  //   "invalid YAQL expression '<% $.x + %>': unexpected end of expression at column 8".
  static Result<Template> Compile(const Json& value, const Limits& limits = Limits());
  static Result<Template> CompileString(std::string_view text, const Limits& limits = Limits());

  // Evaluates against `ctx`. Errors (kInvalidArgument for evaluation errors such as a missing key, kResourceExhausted
  // for limits) carry Mistral-style messages, e.g.
  //   "Can not evaluate YAQL expression [expression=$.x.y, error=key 'y' not found, data={...}]".
  Result<Json> Evaluate(const EvalContext& ctx) const;

  // True when at least one expression occurs anywhere in the value.
  bool HasExpressions() const;
  // Functions, methods and filters called anywhere in the value that are neither built in nor host
  // functions ("nosuch()", "x.nosuch()", "x | nosuch"), and built-ins refused on purpose
  // ("sequence() is not supported: <why>"), each once, in order of appearance. Evaluating such a
  // call fails (as in Mistral, which loads the definition and fails the task); `bora validate`
  // reports them.
  std::vector<std::string> UnknownFunctions() const;
  // Whether the value calls the host's tasks() with `recursive` (a second positional argument or
  // the keyword): the engine then keeps its sub-executions' tasks (see the engine README).
  bool CallsRecursiveTasks() const;
  // The value the template was compiled from.
  const Json& Source() const;

 private:
  std::shared_ptr<const CompiledNode> root_;
};

// True if `s` contains "<%" ... "%>" or "{{" ... "}}" or "{%" ... "%}".
bool ContainsExpression(std::string_view s);

// Evaluates one YAQL or Jinja expression string once (compiles and evaluates); for tools and tests.
Result<Json> EvaluateOnce(std::string_view text, const Json& data, Host* host = nullptr,
                          const Limits& limits = Limits());

}  // namespace bora::expr
