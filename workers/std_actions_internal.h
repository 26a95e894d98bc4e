#pragma once
// Internal to bora_workers: factories of the std actions that live in their own files, and small
// helpers they share. Not for use outside workers/. All functions are thread-safe.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "workers/action.h"
#include "workers/std_actions.h"

namespace bora::workers::internal {

// Waits `duration` in small slices on a condition variable; returns false as soon as `cancel` is
// set.
bool SleepUnlessCancelled(const CancelToken& cancel, std::chrono::nanoseconds duration);

// Python's float(x) for numbers, bools and numeric strings; nullopt otherwise.
std::optional<double> ToDouble(const Json& v);
// Python's str(x) (strings as they are).
std::string ToText(const Json& v);
// Effective timeout in seconds: the `param` value if it is a positive number, else
// request.timeout_ms if set, else `fallback`. Values <= 0 mean "use the next one".
double EffectiveTimeoutSeconds(const Json& param, const ActionRequest& request, double fallback);

std::string Base64Encode(std::string_view data);
// Makes `bytes` valid UTF-8: Latin-1 input is transcoded, invalid sequences become U+FFFD.
std::string ToUtf8(std::string_view bytes, bool latin1);

std::shared_ptr<Action> MakeHttpAction(const StdActionOptions& options, bool mistral_async);
std::shared_ptr<Action> MakeEmailAction(const StdActionOptions& options);
std::shared_ptr<Action> MakeSshAction(const StdActionOptions& options);
std::shared_ptr<Action> MakeShellAction(const StdActionOptions& options);
std::shared_ptr<Action> MakeJavaScriptAction(const StdActionOptions& options);

}  // namespace bora::workers::internal
