#pragma once
// The states of executions, tasks and action executions: the engine's vocabulary, declared below
// the engine so the wire messages (events.h) and their codec (sdk/protocol) can speak it without
// depending on the engine. Plain values; thread-safe.
#include <optional>
#include <string_view>

namespace bora::engine {

// Mistral's states (mistral/workflow/states.py). kDelayed is Mistral's RUNNING_DELAYED ("DELAYED").
enum class State {
  kIdle,
  kWaiting,
  kRunning,
  kDelayed,
  kPaused,
  kSuccess,
  kError,
  kCancelled,
  kSkipped
};

// "IDLE", "WAITING", "RUNNING", "DELAYED", "PAUSED", "SUCCESS", "ERROR", "CANCELLED", "SKIPPED".
std::string_view StateName(State state);
// Inverse of StateName (also accepts "RUNNING_DELAYED"); nullopt for anything else.
std::optional<State> StateFromName(std::string_view name);
// SUCCESS, ERROR, CANCELLED or SKIPPED.
bool IsCompleted(State state);

}  // namespace bora::engine
