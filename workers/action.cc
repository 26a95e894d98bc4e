#include "workers/action.h"

#include <set>

namespace bora::workers {

void ActionRegistry::Register(ActionSignature signature, std::shared_ptr<Action> action) {
  std::string name = signature.name;
  entries_[name] = Entry{std::move(signature), std::move(action)};
}

const ActionSignature* ActionRegistry::FindSignature(std::string_view name) const {
  auto it = entries_.find(name);
  if (it != entries_.end()) return &it->second.signature;
  MutexLock lock(external_mu_);
  auto ext = external_.find(name);
  if (ext != external_.end()) return ext->second;
  if (!external_lookup_) return nullptr;
  // Not declared here: perhaps in another process. Asked at most once a second per name (an unknown
  // action is looked up on every task that names it).
  const auto now = std::chrono::steady_clock::now();
  auto last = looked_up_.find(name);
  if (last != looked_up_.end() && now - last->second < std::chrono::seconds(1)) return nullptr;
  looked_up_[std::string(name)] = now;
  std::optional<ActionSignature> found = external_lookup_(name);
  if (!found || found->name != name || entries_.count(found->name)) return nullptr;
  return DeclareLocked(std::move(*found));
}

const ActionSignature* ActionRegistry::DeclareLocked(ActionSignature signature) const {
  external_storage_.push_back(std::move(signature));
  const ActionSignature* stored = &external_storage_.back();
  external_[stored->name] = stored;
  return stored;
}

bool ActionRegistry::DeclareExternal(ActionSignature signature) {
  if (entries_.count(signature.name)) return false;
  MutexLock lock(external_mu_);
  DeclareLocked(std::move(signature));
  return true;
}

std::vector<ActionSignature> ActionRegistry::ExternalSignatures() const {
  MutexLock lock(external_mu_);
  std::vector<ActionSignature> out;
  out.reserve(external_.size());
  for (const auto& [name, sig] : external_) out.push_back(*sig);
  return out;
}

Action* ActionRegistry::FindAction(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : it->second.action.get();
}

std::string_view ActionResultName(ActionResult::Kind kind) {
  switch (kind) {
    case ActionResult::Kind::kSuccess:
      return "success";
    case ActionResult::Kind::kError:
      return "error";
    case ActionResult::Kind::kCancelled:
      return "cancelled";
    case ActionResult::Kind::kAsync:
      return "async";
  }
  return "unknown";
}

engine::State ActionResultState(ActionResult::Kind kind) {
  switch (kind) {
    case ActionResult::Kind::kSuccess:
      return engine::State::kSuccess;
    case ActionResult::Kind::kError:
      return engine::State::kError;
    case ActionResult::Kind::kCancelled:
      return engine::State::kCancelled;
    case ActionResult::Kind::kAsync:
      return engine::State::kRunning;
  }
  return engine::State::kError;
}

std::optional<engine::ActionCompleted> ActionCompletedOf(ActionIds ids, ActionResult result) {
  engine::ActionCompleted done;
  switch (result.kind) {
    case ActionResult::Kind::kAsync:
      return std::nullopt;
    case ActionResult::Kind::kSuccess:
      done.kind = engine::ActionCompleted::Kind::kSuccess;
      break;
    case ActionResult::Kind::kError:
      done.kind = engine::ActionCompleted::Kind::kError;
      break;
    case ActionResult::Kind::kCancelled:
      done.kind = engine::ActionCompleted::Kind::kCancelled;
      break;
  }
  done.execution_id = std::move(ids.execution_id);
  done.task_execution_id = std::move(ids.task_execution_id);
  done.action_execution_id = std::move(ids.action_execution_id);
  done.data = std::move(result.data);
  return done;
}

std::vector<std::string> ActionRegistry::Names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, _] : entries_) out.push_back(name);
  MutexLock lock(external_mu_);
  for (const auto& [name, _] : external_) out.push_back(name);
  return out;
}

Result<Json> ActionSignatures::ValidateInput(std::string_view name, const Json& input) const {
  const ActionSignature* sig = FindSignature(name);
  if (sig == nullptr) return NotFound("Failed to find action [action_name=" + std::string(name) + "]");
  if (!input.is_object()) {
    return InvalidArgument("Invalid input for action " + std::string(name) +
                           ": expected a dict, got " + std::string(PythonTypeName(input)));
  }
  const JsonObject& in = input.get_object();
  JsonObject out = in;
  std::vector<std::string> missing;
  std::set<std::string, std::less<>> known;
  for (const ActionParam& p : sig->params) {
    known.insert(p.name);
    if (in.contains(p.name)) continue;
    if (p.required) {
      missing.push_back(p.name);
    } else {
      out.emplace(p.name, p.default_value);
    }
  }
  std::vector<std::string> unexpected;
  if (!sig->accepts_any_params) {
    for (const auto& kv : in) {
      if (!known.contains(kv.key())) unexpected.emplace_back(kv.key());
    }
  }
  if (!missing.empty() || !unexpected.empty()) {
    std::string msg = "Invalid input [name=" + std::string(name) + ", class=" + std::string(name);
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
      return s;
    };
    if (!missing.empty()) msg += ", missing=[" + list(missing) + "]";
    if (!unexpected.empty()) msg += ", unexpected=[" + list(unexpected) + "]";
    msg += "]";
    return InvalidArgument(msg);
  }
  return Json(std::move(out));
}

}  // namespace bora::workers
