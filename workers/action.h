#pragma once
// Actions: what a task runs. An Action is stateless and may be called from any worker thread concurrently.
// ActionRegistry maps names ("std.echo") to signatures (used by the engine to validate input, a pure lookup)
// and to implementations (used by worker pools). Build it once at start-up; after that it is read-only and
// thread-safe to share.
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace bora::workers {

struct ActionParam {
  std::string name;
  bool required = false;
  Json default_value;  // used when !required and the input omits it
};

struct ActionSignature {
  std::string name;
  std::vector<ActionParam> params;
  bool accepts_any_params = false;  // e.g. std.echo does not; custom SDK actions may
  bool is_async = false;            // completes later through the API (std.async_noop, std.mistral_http)
  std::string description;
};

// Everything an action run needs besides its input. Ids are the idempotency key: (action_execution_id, attempt).
struct ActionRequest {
  std::string action_name;
  Json input;  // an object, already validated against the signature, defaults filled in
  std::string execution_id;
  std::string workflow_name;
  std::string task_execution_id;
  std::string task_name;
  std::string action_execution_id;
  int attempt = 0;
  int64_t timeout_ms = 0;     // 0 = none; actions that can stop early honour it (http, shell, ssh)
  std::string callback_url;  // for async actions (std.mistral_http's Mistral-Callback-URL)
};

// Mistral's Result(data, error, cancel): exactly one outcome.
struct ActionResult {
  enum class Kind { kSuccess, kError, kCancelled, kAsync };
  Kind kind = Kind::kSuccess;
  Json data;  // the result on success, the error (often a string) on error; null for async

  static ActionResult Success(Json d) { return {Kind::kSuccess, std::move(d)}; }
  static ActionResult Error(Json e) { return {Kind::kError, std::move(e)}; }
  // Error messages as text (overloads so that std::string and string literals need no Json(...) wrap).
  static ActionResult Error(const std::string& message) { return {Kind::kError, Json(message)}; }
  static ActionResult Error(const char* message) { return {Kind::kError, Json(message)}; }
  static ActionResult Async() { return {Kind::kAsync, nullptr}; }
  static ActionResult Cancelled(Json d = nullptr) { return {Kind::kCancelled, std::move(d)}; }
};

// The error Mistral's executor reports for an action that raised an exception (rather than returned
// an error result): "The action raised an exception [action=<action>, action_ex_id=<id>,
// msg='<message>']". `action` is the action's display name (std.fail's is "Fail action").
inline std::string ActionRaisedMessage(std::string_view action,
                                       std::string_view action_execution_id,
                                       std::string_view message) {
  return "The action raised an exception [action=" + std::string(action) +
         ", action_ex_id=" + std::string(action_execution_id) + ", msg='" + std::string(message) +
         "']";
}
// std.fail without error_data (settled on Mistral 15: it raises, so the task's result and
// state_info are the executor's wrapper).
inline std::string StdFailMessage(std::string_view action_execution_id) {
  return ActionRaisedMessage("Fail action", action_execution_id, "Fail action expected exception.");
}

// Set by the runtime to ask a long-running action (sleep, http, shell) to stop early.
struct CancelToken {
  std::atomic<bool> cancelled{false};
};

class Action {
 public:
  virtual ~Action() = default;
  // Runs the action. Never throws; exceptions inside are converted to ActionResult::Error with the message.
  virtual ActionResult Run(const ActionRequest& request, const CancelToken& cancel) = 0;
  // False when Run returns at once for this request (no I/O, no sleep): the worker may then run it on its
  // polling thread instead of handing it to a pool thread. Defaults to true (safe).
  virtual bool MayBlock(const ActionRequest& request) const { return true; }
};

class ActionRegistry {
 public:
  // Registers or replaces an action. Not thread-safe: call before sharing the registry.
  void Register(ActionSignature signature, std::shared_ptr<Action> action);

  const ActionSignature* FindSignature(std::string_view name) const;
  Action* FindAction(std::string_view name) const;
  std::vector<std::string> Names() const;

  // Checks `input` (an object) against the signature of `name`: unknown action ⇒ kNotFound; missing required or
  // unexpected parameters ⇒ kInvalidArgument "Invalid input for action std.echo: missing required parameter
  // 'output'" (Mistral says "Invalid input"). On success returns the input with defaults filled in.
  Result<Json> ValidateInput(std::string_view name, const Json& input) const;

 private:
  struct Entry {
    ActionSignature signature;
    std::shared_ptr<Action> action;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace bora::workers
