// std.javascript / std.js on Duktape (ECMAScript 5.1 with some ES2015+), built from Debian's
// duktape-dev sources with the execution-timeout hook. Like Mistral: `script` is a function body
// (use `return`), `context` is available as `$`, the result is the returned value converted through
// JSON (undefined ⇒ null). Each run creates its own heap with a byte budget and a deadline:
// thread-safe, scripts share nothing.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/log.h"
#include "duktape.h"
#include "workers/std_actions_internal.h"

namespace bora::workers {

namespace internal {
namespace {

const Json& Param(const Json& input, std::string_view name) {
  static const Json kNull;
  if (!input.is_object()) return kNull;
  auto it = input.get_object().find(name);
  return it == input.get_object().end() ? kNull : it->value();
}

// Per-heap state, reached from Duktape's allocator and interrupt hooks through the heap udata.
struct JsHeapState {
  std::chrono::steady_clock::time_point deadline;
  const CancelToken* cancel = nullptr;
  int64_t max_bytes = 0;
  int64_t used_bytes = 0;
  bool timed_out = false;
  bool out_of_memory = false;
};

// Every block carries its size in a header so the budget can be kept.
constexpr size_t kHeader = alignof(std::max_align_t);

// Duktape checks the deadline every 1024 bytecode instructions only, so one long native call
// (`new Array(5e7).join('a')`) would run unchecked; such calls allocate as they go, so the
// allocator checks it too: past the deadline (or once cancelled) every allocation fails, which
// ends the script with an error the caller reports as the time limit.
bool PastDeadline(JsHeapState* st) {
  if (st->timed_out) return true;
  if (st->cancel->cancelled.load(std::memory_order_relaxed) ||
      std::chrono::steady_clock::now() >= st->deadline) {
    st->timed_out = true;
  }
  return st->timed_out;
}

void* JsAlloc(void* udata, duk_size_t size) {
  auto* st = static_cast<JsHeapState*>(udata);
  if (PastDeadline(st)) return nullptr;
  if (st->used_bytes + static_cast<int64_t>(size) > st->max_bytes) {
    st->out_of_memory = true;
    return nullptr;
  }
  auto* p = static_cast<char*>(std::malloc(size + kHeader));
  if (p == nullptr) return nullptr;
  std::memcpy(p, &size, sizeof(size));
  st->used_bytes += static_cast<int64_t>(size);
  return p + kHeader;
}

void JsFree(void* udata, void* ptr) {
  if (ptr == nullptr) return;
  auto* st = static_cast<JsHeapState*>(udata);
  char* p = static_cast<char*>(ptr) - kHeader;
  duk_size_t size;
  std::memcpy(&size, p, sizeof(size));
  st->used_bytes -= static_cast<int64_t>(size);
  std::free(p);
}

void* JsRealloc(void* udata, void* ptr, duk_size_t size) {
  if (ptr == nullptr) return JsAlloc(udata, size);
  if (size == 0) {
    JsFree(udata, ptr);
    return nullptr;
  }
  auto* st = static_cast<JsHeapState*>(udata);
  char* p = static_cast<char*>(ptr) - kHeader;
  duk_size_t old_size;
  std::memcpy(&old_size, p, sizeof(old_size));
  int64_t delta = static_cast<int64_t>(size) - static_cast<int64_t>(old_size);
  if (delta > 0 && PastDeadline(st)) return nullptr;
  if (st->used_bytes + delta > st->max_bytes) {
    st->out_of_memory = true;
    return nullptr;
  }
  auto* q = static_cast<char*>(std::realloc(p, size + kHeader));
  if (q == nullptr) return nullptr;
  std::memcpy(q, &size, sizeof(size));
  st->used_bytes += delta;
  return q + kHeader;
}

void JsFatal(void*, const char* msg) {
  // Only reached for errors outside a protected call, which this file never makes; Duktape requires
  // that the handler does not return.
  BORA_LOG_ERROR("duktape fatal error: {}", msg ? msg : "(null)");
  std::abort();
}

// Runs inside duk_safe_call: evaluates the wrapper with the script and leaves a JSON string (or
// undefined).
duk_ret_t EvalWrapped(duk_context* ctx, void*) {
  // Stack: [source, context_json]
  duk_dup(ctx, 1);
  duk_put_global_string(ctx, "__bora_context_json");
  duk_dup(ctx, 0);
  duk_push_string(ctx, "std.javascript");
  duk_compile(ctx, DUK_COMPILE_EVAL);
  duk_call(ctx, 0);
  return 1;
}

class JavaScriptAction final : public Action {
 public:
  explicit JavaScriptAction(const StdActionOptions& options)
      : time_limit_(options.javascript_time_limit_seconds),
        max_heap_(options.javascript_max_heap_bytes) {}

  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    const Json& script_v = Param(request.input, "script");
    if (!script_v.is_string()) return Fail("'script' must be a string");
    std::string context_json = DumpJson(Param(request.input, "context"));
    // `$` is a global; the user's function body runs inside a function like Mistral's wrapper.
    std::string source =
        "(function () {\n"
        "  var $ = JSON.parse(__bora_context_json);\n"
        "  delete this.__bora_context_json;\n"
        "  var __r = (function () {\n" +
        std::string(script_v.get_string()) +
        "\n  })();\n"
        "  return __r === undefined ? undefined : JSON.stringify(__r);\n"
        "})()";

    double limit = EffectiveTimeoutSeconds(nullptr, request, time_limit_);
    limit = std::min(limit, time_limit_ > 0 ? time_limit_ : limit);
    JsHeapState state;
    state.deadline = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(limit * 1000));
    state.cancel = &cancel;
    state.max_bytes = max_heap_;
    std::unique_ptr<duk_context, decltype(&duk_destroy_heap)> heap(
        duk_create_heap(&JsAlloc, &JsRealloc, &JsFree, &state, &JsFatal), &duk_destroy_heap);
    if (!heap) return Fail("cannot create a JavaScript heap");
    duk_context* ctx = heap.get();
    duk_push_lstring(ctx, source.data(), source.size());
    duk_push_lstring(ctx, context_json.data(), context_json.size());
    duk_int_t rc = duk_safe_call(ctx, &EvalWrapped, nullptr, 2, 1);
    if (cancel.cancelled.load()) return ActionResult::Cancelled();
    if (rc != DUK_EXEC_SUCCESS) {
      if (state.timed_out) {
        return Fail("the script ran longer than the time limit of " + PythonFloatRepr(limit) +
                    " s");
      }
      if (state.out_of_memory) {
        return Fail("the script used more than " + std::to_string(max_heap_) + " bytes of memory");
      }
      std::string msg = duk_safe_to_string(ctx, -1);
      return Fail(msg);
    }
    if (duk_is_undefined(ctx, -1) || !duk_is_string(ctx, -1)) return ActionResult::Success(nullptr);
    duk_size_t len = 0;
    const char* text = duk_get_lstring(ctx, -1, &len);
    Result<Json> parsed = ParseJson(std::string_view(text, len), 256);
    if (!parsed.ok()) return Fail("cannot convert the result: " + parsed.status().message());
    return ActionResult::Success(std::move(*parsed));
  }

 private:
  static ActionResult Fail(const std::string& msg) {
    return ActionResult::Error("JavaScriptAction failed: " + msg);
  }

  double time_limit_;
  int64_t max_heap_;
};

}  // namespace

std::shared_ptr<Action> MakeJavaScriptAction(const StdActionOptions& options) {
  return std::make_shared<JavaScriptAction>(options);
}

}  // namespace internal
}  // namespace bora::workers

// Duktape's DUK_USE_EXEC_TIMEOUT_CHECK hook (declared in the generated duk_config.h): non-zero
// stops the script with a RangeError.
extern "C" int bora_duk_exec_timeout_check(void* udata) {
  auto* st = static_cast<bora::workers::internal::JsHeapState*>(udata);
  if (st == nullptr) return 0;
  if (st->cancel->cancelled.load(std::memory_order_relaxed) ||
      std::chrono::steady_clock::now() >= st->deadline) {
    st->timed_out = true;
    return 1;
  }
  return 0;
}
