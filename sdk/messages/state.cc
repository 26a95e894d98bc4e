#include "sdk/messages/state.h"

#include <iterator>

namespace bora::engine {

namespace {
constexpr std::string_view kStateNames[] = {"IDLE",    "WAITING", "RUNNING",   "DELAYED", "PAUSED",
                                            "SUCCESS", "ERROR",   "CANCELLED", "SKIPPED"};
}  // namespace

std::string_view StateName(State state) { return kStateNames[static_cast<int>(state)]; }

std::optional<State> StateFromName(std::string_view name) {
  for (size_t i = 0; i < std::size(kStateNames); ++i) {
    if (kStateNames[i] == name) return static_cast<State>(i);
  }
  if (name == "RUNNING_DELAYED") return State::kDelayed;
  return std::nullopt;
}

bool IsCompleted(State state) {
  return state == State::kSuccess || state == State::kError || state == State::kCancelled ||
         state == State::kSkipped;
}

}  // namespace bora::engine
