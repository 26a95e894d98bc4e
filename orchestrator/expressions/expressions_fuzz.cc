// libFuzzer target for the expression parsers and evaluator: the input is used as a template string
// (YAQL or Jinja) and evaluated against a small fixed document with tight limits. Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "orchestrator/expressions/expressions.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bora::Json kData = [] {
    auto r = bora::ParseJson(
        R"({"x": 1, "s": "abc", "l": [1, 2, {"a": "b"}], "d": {"k": [true, null, 1.5]},
            "items": [3, 1, 2]})");
    return r.ok() ? r.value() : bora::Json();
  }();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bora::expr::Limits limits;
  limits.max_steps = 20000;
  limits.max_output_bytes = 1 << 16;
  limits.max_depth = 64;
  auto t = bora::expr::Template::CompileString(text, limits);
  if (!t.ok()) return 0;
  bora::expr::EvalContext ctx;
  ctx.data = &kData;
  ctx.limits = limits;
  auto r = t->Evaluate(ctx);
  (void)r;
  return 0;
}
