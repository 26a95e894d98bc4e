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
#include "sdk/messages/events.h"

namespace bora::protocol {

inline constexpr int kSchemaVersion = 1;
inline constexpr std::string_view kEventsTopic = "bora.events";
inline constexpr std::string_view kActionsTopicPrefix = "bora.actions.";
// The bus message limit (8 MiB): larger messages are refused on decode, an action result that
// would encode larger is replaced by an error result (ActionWorker), and Kafka topics are created
// to carry it (max.message.bytes, with room for the record overhead).
inline constexpr size_t kMaxMessageBytes = 8 << 20;

// Topic names. `prefix` isolates deployments (and tests) sharing one Kafka cluster: "<prefix>bora.events".
std::string EventsTopic(std::string_view prefix = "");
// "<prefix>bora.actions.<pool>"; an empty pool is "default".
std::string ActionsTopic(std::string_view pool, std::string_view prefix = "");

// The encoders fail (kInvalidArgument naming the field) on a non-finite number, which JSON cannot
// carry; they do not check the size (kMaxMessageBytes is the caller's to check).
Json EventToJson(const engine::Event& event);
Result<std::string> EncodeEvent(const engine::Event& event);
// An ActionCompleted that cannot be decoded (over kMaxMessageBytes, or its `data` is not valid
// JSON, e.g. a number out of range) but whose ids, written before `data`, can be read from the
// first 64 KiB, decodes as an `error` result naming the problem: the task fails instead of staying
// RUNNING. Anything else undecodable is kInvalidArgument.
Result<engine::Event> DecodeEvent(std::string_view text);
Result<engine::Event> EventFromJson(const Json& json);

Json RunActionToJson(const engine::RunAction& run);
Result<std::string> EncodeRunAction(const engine::RunAction& run);

// Why an encoder's result cannot travel on the bus: its error, or "<what> is N bytes encoded, more
// than the bus message limit of 8388608 bytes (8 MiB)"; empty when it can.
std::string WhyNotSendable(const Result<std::string>& encoded, std::string_view what);
Result<engine::RunAction> DecodeRunAction(std::string_view text);

}  // namespace bora::protocol
