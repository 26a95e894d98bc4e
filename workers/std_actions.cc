// The simple std actions (noop, echo, fail, sleep, async_noop, test_dict), shared helpers, and the
// registration of every std action with its Mistral signature (spec §4).
#include "workers/std_actions.h"

#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "common/thread_annotations.h"
#include "workers/std_actions_internal.h"

namespace bora::workers {
namespace internal {

bool SleepUnlessCancelled(const CancelToken& cancel, std::chrono::nanoseconds duration) {
  using Clock = std::chrono::steady_clock;
  constexpr auto kSlice = std::chrono::milliseconds(20);
  // A private condition variable: nobody notifies it, so each wait_for is a timed, non-spinning
  // sleep of at most one slice; the token is re-checked between slices.
  Mutex mu;
  CondVar cv;
  MutexLock lock(mu);
  const auto deadline = Clock::now() + duration;
  while (!cancel.cancelled.load(std::memory_order_relaxed)) {
    auto now = Clock::now();
    if (now >= deadline) return true;
    auto wait = std::min<Clock::duration>(deadline - now, kSlice);
    cv.WaitFor(mu, wait, [&] { return cancel.cancelled.load(std::memory_order_relaxed); });
  }
  return false;
}

std::optional<double> ToDouble(const Json& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  if (v.is_bool()) return v.get_bool() ? 1.0 : 0.0;
  if (v.is_string()) {
    std::string s(v.get_string());
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str()) return std::nullopt;
    while (*end == ' ' || *end == '\t' || *end == '\n') ++end;
    if (*end != '\0' || std::isnan(d)) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::string ToText(const Json& v) { return PythonStr(v); }

double EffectiveTimeoutSeconds(const Json& param, const ActionRequest& request, double fallback) {
  std::optional<double> p = ToDouble(param);
  if (!param.is_null() && p && *p > 0) return *p;
  if (request.timeout_ms > 0) return static_cast<double>(request.timeout_ms) / 1000.0;
  return fallback;
}

std::string Base64Encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    uint32_t n = uint8_t(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string ToUtf8(std::string_view bytes, bool latin1) {
  std::string out;
  out.reserve(bytes.size());
  auto append_cp = [&out](uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  };
  if (latin1) {
    for (unsigned char c : bytes) append_cp(c);
    return out;
  }
  size_t i = 0;
  while (i < bytes.size()) {
    unsigned char c = bytes[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= bytes.size();
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; ok && k < len; ++k) {
      unsigned char cc = bytes[i + k];
      if ((cc & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok) {
      // Reject overlong forms, surrogates and out-of-range code points.
      if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
          (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
        ok = false;
      }
    }
    if (ok) {
      out.append(bytes.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace internal

namespace {

using internal::SleepUnlessCancelled;
using internal::ToDouble;

class NoopAction final : public Action {
 public:
  bool MayBlock(const ActionRequest&) const override { return false; }
  ActionResult Run(const ActionRequest&, const CancelToken&) override {
    return ActionResult::Success(nullptr);
  }
};

class AsyncNoopAction final : public Action {
 public:
  bool MayBlock(const ActionRequest&) const override { return false; }
  ActionResult Run(const ActionRequest&, const CancelToken&) override {
    return ActionResult::Async();
  }
};

const Json& Param(const ActionRequest& request, std::string_view name) {
  static const Json kNull;
  if (!request.input.is_object()) return kNull;
  const JsonObject& obj = request.input.get_object();
  auto it = obj.find(name);
  return it == obj.end() ? kNull : it->value();
}

class EchoAction final : public Action {
 public:
  bool MayBlock(const ActionRequest& request) const override {
    return ToDouble(Param(request, "delay")).value_or(0.0) > 0;
  }
  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    // Mistral: float(delay), negative or unparsable ⇒ 0.
    double delay = ToDouble(Param(request, "delay")).value_or(0.0);
    if (delay > 0) {
      auto ns = std::chrono::duration<double>(std::min(delay, 1e7));
      if (!SleepUnlessCancelled(cancel, std::chrono::duration_cast<std::chrono::nanoseconds>(ns))) {
        return ActionResult::Cancelled();
      }
    }
    return ActionResult::Success(Param(request, "output"));
  }
};

class FailAction final : public Action {
 public:
  bool MayBlock(const ActionRequest&) const override { return false; }
  ActionResult Run(const ActionRequest& request, const CancelToken&) override {
    const Json& error_data = Param(request, "error_data");
    if (IsTruthy(error_data)) return ActionResult::Error(error_data);
    return ActionResult::Error(StdFailMessage(request.action_execution_id));
  }
};

class SleepAction final : public Action {
 public:
  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    // Mistral: int(seconds), negative or unparsable ⇒ 0.
    double seconds = std::trunc(ToDouble(Param(request, "seconds")).value_or(0.0));
    if (seconds > 0) {
      auto ns = std::chrono::duration<double>(std::min(seconds, 1e7));
      if (!SleepUnlessCancelled(cancel, std::chrono::duration_cast<std::chrono::nanoseconds>(ns))) {
        return ActionResult::Cancelled();
      }
    }
    return ActionResult::Success(nullptr);
  }
};

class TestDictAction final : public Action {
 public:
  static constexpr int64_t kMaxSize = 1'000'000;

  ActionResult Run(const ActionRequest& request, const CancelToken&) override {
    const Json& size_v = Param(request, "size");
    std::optional<double> size =
        size_v.is_string() || size_v.is_bool() ? std::nullopt : ToDouble(size_v);
    if (!size || *size != std::trunc(*size)) {
      return ActionResult::Error("std.test_dict: 'size' must be an integer, got " +
                                 std::string(PythonTypeName(size_v)));
    }
    if (*size > kMaxSize) {
      return ActionResult::Error("std.test_dict: 'size' must be at most " +
                                 std::to_string(kMaxSize));
    }
    std::string prefix = internal::ToText(Param(request, "key_prefix"));
    const Json& val = Param(request, "val");
    JsonObject out;
    for (int64_t i = 0; i < static_cast<int64_t>(*size); ++i) {
      out[prefix + std::to_string(i)] = val;
    }
    return ActionResult::Success(std::move(out));
  }
};

class UnsupportedAction final : public Action {
 public:
  bool MayBlock(const ActionRequest&) const override { return false; }
  explicit UnsupportedAction(std::string message) : message_(std::move(message)) {}
  ActionResult Run(const ActionRequest&, const CancelToken&) override {
    return ActionResult::Error(message_);
  }

 private:
  std::string message_;
};

ActionParam Required(std::string name) { return ActionParam{std::move(name), true, nullptr}; }
ActionParam Optional(std::string name, Json default_value = nullptr) {
  return ActionParam{std::move(name), false, std::move(default_value)};
}

std::vector<ActionParam> HttpParams() {
  return {
      Required("url"),     Optional("method", "GET"),   Optional("params"),  Optional("body"),
      Optional("json"),    Optional("headers"),         Optional("cookies"), Optional("auth"),
      Optional("timeout"), Optional("allow_redirects"), Optional("proxies"), Optional("verify")};
}

}  // namespace

std::vector<std::string> DefaultDeniedCidrs() {
  return {"127.0.0.0/8",    "::1/128",  "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
          "169.254.0.0/16", "fc00::/7", "fe80::/10",  "0.0.0.0/8",     "::/128"};
}

void RegisterStdActions(ActionRegistry& registry, const StdActionOptions& options) {
  auto reg = [&registry](std::string name, std::vector<ActionParam> params, bool is_async,
                         std::string description, std::shared_ptr<Action> action) {
    ActionSignature sig;
    sig.name = std::move(name);
    sig.params = std::move(params);
    sig.is_async = is_async;
    sig.description = std::move(description);
    registry.Register(std::move(sig), std::move(action));
  };
  reg("std.noop", {}, false, "Does nothing; the result is null.", std::make_shared<NoopAction>());
  reg("std.async_noop", {}, true,
      "Does nothing and never completes by itself; complete it through the API.",
      std::make_shared<AsyncNoopAction>());
  reg("std.echo", {Required("output"), Optional("delay", 0)}, false,
      "Returns `output` (after `delay` seconds).", std::make_shared<EchoAction>());
  reg("std.fail", {Optional("error_data")}, false,
      "Always fails, with `error_data` as the error if given.", std::make_shared<FailAction>());
  reg("std.sleep", {Optional("seconds", 1)}, false, "Sleeps `seconds` (whole) seconds.",
      std::make_shared<SleepAction>());
  reg("std.test_dict", {Optional("size", 0), Optional("key_prefix", ""), Optional("val", "")},
      false, "Returns {key_prefix0: val, ...} with `size` keys.",
      std::make_shared<TestDictAction>());
  reg("std.http", HttpParams(), false, "Sends an HTTP request; the result describes the response.",
      internal::MakeHttpAction(options, /*mistral_async=*/false));
  reg("std.mistral_http", HttpParams(), true,
      "Sends an HTTP request with the Mistral-* headers; completes later through the API.",
      internal::MakeHttpAction(options, /*mistral_async=*/true));
  reg("std.email",
      {Required("from_addr"), Required("to_addrs"), Required("smtp_server"), Optional("reply_to"),
       Optional("cc_addrs"), Optional("bcc_addrs"), Optional("smtp_password"), Optional("subject"),
       Optional("body"), Optional("html_body")},
      false, "Sends an e-mail through SMTP.", internal::MakeEmailAction(options));
  reg("std.ssh",
      {Required("cmd"), Required("host"), Required("username"), Optional("password", ""),
       Optional("private_key_filename"), Optional("private_key"),
       Optional("return_result_on_error", false)},
      false, "Runs a command over SSH on one host or a list of hosts.",
      internal::MakeSshAction(options));
  reg("std.ssh_proxied",
      {Required("cmd"), Required("host"), Required("username"), Required("private_key_filename"),
       Required("gateway_host"), Optional("gateway_username"), Optional("password"),
       Optional("proxy_command"), Optional("private_key")},
      false, "Not supported: SSH through a gateway host.",
      std::make_shared<UnsupportedAction>(
          "std.ssh_proxied is not supported: SSH through a gateway needs ProxyJump, which the "
          "packaged libssh (0.10) lacks"));
  reg("std.shell",
      {Required("argv"), Optional("env"), Optional("cwd"), Optional("timeout"), Optional("stdin")},
      false, "Runs a local command (argv list, no shell); disabled unless the worker allows it.",
      internal::MakeShellAction(options));
  auto js = internal::MakeJavaScriptAction(options);
  reg("std.javascript", {Required("script"), Optional("context")}, false,
      "Evaluates a JavaScript function body with `context` as $.", js);
  reg("std.js", {Required("script"), Optional("context")}, false, "Alias of std.javascript.", js);
}

}  // namespace bora::workers
