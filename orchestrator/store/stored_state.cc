#include "orchestrator/store/stored_state.h"

#include "common/json.h"

namespace bora::store {

Result<engine::ExecutionState> DecodeStoredHead(std::string_view text, const std::string& id) {
  auto json = ParseJson(text, 512);
  if (!json.ok()) return json.status().WithContext("stored state of " + id);
  auto state = engine::ExecutionState::FromJson(*json);
  if (!state.ok()) return state.status().WithContext("stored state of " + id);
  state->tasks.clear();
  state->index = {};
  return state;
}

}  // namespace bora::store
