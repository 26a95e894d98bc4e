#pragma once
// Bora's wire messages: JSON documents on the bus, one place for every format (documented in README.md).
//
//  - topic `bora.events` (key = execution id): every engine::Event, as {"schema_version": 1, "type":
//    "<EventName>", ...fields}. Workers (C++ or any SDK) publish ActionCompleted here.
//  - topic `bora.actions.<pool>` (key = execution id): engine::RunAction as {"schema_version": 1, "type":
//    "RunAction", ...fields}.
//
// Decoding never trusts its input: a malformed, oversized or unknown message gives kInvalidArgument saying
// what is wrong and where, never a crash. Pure functions; thread-safe.
#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"
#include "orchestrator/engine/events.h"

namespace bora::protocol {

inline constexpr int kSchemaVersion = 1;
inline constexpr std::string_view kEventsTopic = "bora.events";
inline constexpr std::string_view kActionsTopicPrefix = "bora.actions.";
inline constexpr size_t kMaxMessageBytes = 8 << 20;  // larger messages are rejected on decode

// Topic names. `prefix` isolates deployments (and tests) sharing one Kafka cluster: "<prefix>bora.events".
std::string EventsTopic(std::string_view prefix = "");
// "<prefix>bora.actions.<pool>"; an empty pool is "default".
std::string ActionsTopic(std::string_view pool, std::string_view prefix = "");

Json EventToJson(const engine::Event& event);
std::string EncodeEvent(const engine::Event& event);
Result<engine::Event> DecodeEvent(std::string_view text);
Result<engine::Event> EventFromJson(const Json& json);

Json RunActionToJson(const engine::RunAction& run);
std::string EncodeRunAction(const engine::RunAction& run);
Result<engine::RunAction> DecodeRunAction(std::string_view text);

}  // namespace bora::protocol
