#pragma once
// Actions: what a task runs. An Action is stateless and may be called from any worker thread
// concurrently. ActionRegistry maps names ("std.echo") to signatures (action_signature.h: what the
// engine validates with) and to implementations (what worker pools run). Build it once at start-up;
// after that it is read-only and thread-safe to share.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "sdk/messages/events.h"
#include "workers/action_signature.h"

namespace bora::workers {

// Everything an action run needs: the orchestrator's RunAction (sdk/messages; its ids are the
// idempotency key: (action_execution_id, attempt)) and what the worker adds to it.
struct ActionRequest : engine::RunAction {
  int64_t timeout_ms = 0;     // 0 = none; actions that can stop early honour it (http, shell, ssh)
  std::string callback_url;  // for async actions (std.mistral_http's Mistral-Callback-URL)

  // The request of a RunAction off the bus (timeout_ms from its timeout_s).
  static ActionRequest FromRun(engine::RunAction run) {
    ActionRequest r;
    static_cast<engine::RunAction&>(r) = std::move(run);
    r.timeout_ms = r.timeout_s * 1000;
    return r;
  }
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

// "success", "error", "cancelled", "async" (metrics labels, logs).
std::string_view ActionResultName(ActionResult::Kind kind);
// The state an action execution shows with this result (RUNNING for async).
engine::State ActionResultState(ActionResult::Kind kind);
// The ids a result is reported under (those of its RunAction).
struct ActionIds {
  std::string execution_id;
  std::string task_execution_id;
  std::string action_execution_id;

  static ActionIds Of(const engine::RunAction& run) {
    return {run.execution_id, run.task_execution_id, run.action_execution_id};
  }
};
// The bus message that reports `result` under `ids`; nullopt for an async result (it completes
// later, through the API).
std::optional<engine::ActionCompleted> ActionCompletedOf(ActionIds ids, ActionResult result);

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

// Signatures and implementations by name, and the signatures of external actions (run by workers of
// the HTTP worker API, declared while the process runs).
class ActionRegistry : public ActionSignatures {
 public:
  // Registers or replaces an action. Not thread-safe: call before sharing the registry.
  void Register(ActionSignature signature, std::shared_ptr<Action> action);

  // Declares an external action (signature.pool set), from any thread at any time: false when it
  // names an action registered with Register() (built-in names cannot be taken over). A new
  // declaration of the same name replaces the signature; the old one stays valid (pointers from
  // FindSignature are kept for the registry's lifetime).
  bool DeclareExternal(ActionSignature signature) EXCLUDES(external_mu_);
  // The external actions declared so far, by name.
  std::vector<ActionSignature> ExternalSignatures() const EXCLUDES(external_mu_);
  // Where FindSignature looks for an action it does not know (declared in another process: the
  // cluster's stored declarations), at most once a second per name; what it finds is declared here.
  // Set it before sharing the registry; the lookup must be thread-safe.
  using ExternalLookup = std::function<std::optional<ActionSignature>(std::string_view name)>;
  void SetExternalLookup(ExternalLookup lookup) { external_lookup_ = std::move(lookup); }

  const ActionSignature* FindSignature(std::string_view name) const override EXCLUDES(external_mu_);
  std::vector<std::string> Names() const override EXCLUDES(external_mu_);
  // A registered implementation; nullptr for external actions and unknown names.
  Action* FindAction(std::string_view name) const;

 private:
  struct Entry {
    ActionSignature signature;
    std::shared_ptr<Action> action;
  };
  std::map<std::string, Entry, std::less<>> entries_;
  const ActionSignature* DeclareLocked(ActionSignature signature) const REQUIRES(external_mu_);
  mutable Mutex external_mu_;
  // Mutable: a lookup from a const FindSignature declares what it found.
  mutable std::deque<ActionSignature> external_storage_ GUARDED_BY(external_mu_);  // append-only
  mutable std::map<std::string, const ActionSignature*, std::less<>> external_
      GUARDED_BY(external_mu_);
  mutable std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> looked_up_
      GUARDED_BY(external_mu_);
  ExternalLookup external_lookup_;
};

}  // namespace bora::workers
