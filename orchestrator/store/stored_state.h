#pragma once
// Helpers shared by the stores that keep states as JSON text (RedisStateStore, RocksDbStateStore).
//
// Threading: pure functions.
#include <string>
#include <string_view>

#include "common/status.h"
#include "orchestrator/engine/state.h"

namespace bora::store {

// A stored head (ExecutionState::AppendHeadJsonText, or a state stored whole) as an execution
// without its tasks; errors name the execution (`id`).
Result<engine::ExecutionState> DecodeStoredHead(std::string_view text, const std::string& id);

}  // namespace bora::store
