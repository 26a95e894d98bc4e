#pragma once
// The field list of every message that travels on the bus (common/fields.h): one VisitFields per
// struct of events.h, in the order the members are written. The wire codec (sdk/protocol) walks
// these lists to encode, to decode (Boost.JSON reader) and on its one-pass fast path, so the three
// cannot drift apart; the field tables of sdk/README.md list the same members.
//
// Keys and defaults are the wire format (schema_version 1): renaming a key or changing a default
// changes what other processes and SDKs read.
#include <algorithm>
#include <cstdint>
#include <string>

#include "common/fields.h"
#include "sdk/messages/events.h"

namespace bora::engine {

namespace message_fields {

inline std::string BadState(std::string_view value) {
  return "is not a state: '" + std::string(value) + "'";
}
inline constexpr fields::EnumCodec<State> kState{StateName, StateFromName, BadState};

inline std::string_view ResultName(ActionCompleted::Kind k) {
  switch (k) {
    case ActionCompleted::Kind::kSuccess:
      return "success";
    case ActionCompleted::Kind::kError:
      return "error";
    case ActionCompleted::Kind::kCancelled:
      return "cancelled";
  }
  return "error";
}
inline std::optional<ActionCompleted::Kind> ResultFromName(std::string_view s) {
  if (s == "success") return ActionCompleted::Kind::kSuccess;
  if (s == "error") return ActionCompleted::Kind::kError;
  if (s == "cancelled") return ActionCompleted::Kind::kCancelled;
  return std::nullopt;
}
inline std::string BadResult(std::string_view value) {
  return "must be success, error or cancelled, not '" + std::string(value) + "'";
}
inline constexpr fields::EnumCodec<ActionCompleted::Kind> kResult{ResultName, ResultFromName,
                                                                  BadResult};

// Sub-workflow nesting read from a message is kept within [0, 2^20].
inline constexpr int64_t kMaxDepth = 1 << 20;

}  // namespace message_fields

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, StartExecution> {
  using fields::kOmitDefault;
  using fields::kRequired;
  v.Str("execution_id", e.execution_id, kRequired);
  v.Str("workflow_name", e.workflow_name, kRequired);
  v.Str("workflow_namespace", e.workflow_namespace);
  v.Str("project_id", e.project_id, kOmitDefault);  // absent in messages of older writers
  v.Str("user_id", e.user_id, kOmitDefault);
  v.Value("security", e.security, fields::kAnyOmitNull);
  v.Value("input", e.input, fields::kObject);
  v.Value("params", e.params, fields::kObject);
  v.Str("description", e.description);
  // Sub-workflows only.
  v.Str("parent_execution_id", e.parent_execution_id, kOmitDefault);
  v.Str("parent_task_execution_id", e.parent_task_execution_id, kOmitDefault);
  v.Str("root_execution_id", e.root_execution_id, kOmitDefault);
  v.Int("parent_item_index", e.parent_item_index, kOmitDefault);
  if constexpr (V::kWrites) {
    v.Int("depth", e.depth, kOmitDefault);
  } else {
    int64_t depth = 0;
    v.Int("depth", depth, kOmitDefault);
    e.depth = static_cast<int>(std::clamp<int64_t>(depth, 0, message_fields::kMaxDepth));
  }
  v.Bool("report_tasks", e.report_tasks, kOmitDefault);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, ActionCompleted> {
  using fields::kRequired;
  v.Str("execution_id", e.execution_id, kRequired);
  v.Str("task_execution_id", e.task_execution_id, kRequired);
  v.Str("action_execution_id", e.action_execution_id, kRequired);
  v.Enum("result", e.kind, message_fields::kResult, kRequired);
  v.Value("data", e.data, fields::kAny);  // written last: a salvage reads the ids before it
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, SubWorkflowCompleted> {
  using fields::kRequired;
  v.Str("execution_id", e.execution_id, kRequired);
  v.Str("task_execution_id", e.task_execution_id, kRequired);
  v.Str("sub_execution_id", e.sub_execution_id, kRequired);
  v.Enum("state", e.state, message_fields::kState, kRequired);
  v.Value("output", e.output, fields::kAnyOrEmptyObject);
  v.OptStr("state_info", e.state_info);
  v.Value("tasks", e.tasks, fields::kAnyOmitNull);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, TimerFired> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
  v.Str("timer_id", e.timer_id, fields::kRequired);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, PauseExecution> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, ResumeExecution> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
  v.OptValue("env", e.env);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, CancelExecution> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
  v.OptStr("state_info", e.state_info);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, StopExecution> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
  v.Enum("state", e.state, message_fields::kState, fields::kRequired);
  v.OptStr("state_info", e.state_info);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, RerunTask> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
  v.Str("task_execution_id", e.task_execution_id, fields::kRequired);
  v.Bool("reset", e.reset, fields::kOptional, /*def=*/true);
  v.OptValue("env", e.env);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, SkipTask> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
  v.Str("task_execution_id", e.task_execution_id, fields::kRequired);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, PurgeExecution> {
  v.Str("execution_id", e.execution_id, fields::kRequired);
}

template <typename S, typename V>
void VisitFields(S& e, V& v) requires std::same_as<std::remove_const_t<S>, SubWorkflowUpdated> {
  using fields::kRequired;
  v.Str("execution_id", e.execution_id, kRequired);
  v.Str("task_execution_id", e.task_execution_id, kRequired);
  v.Str("sub_execution_id", e.sub_execution_id, kRequired);
  v.Enum("state", e.state, message_fields::kState, kRequired);
}

template <typename S, typename V>
void VisitFields(S& r, V& v) requires std::same_as<std::remove_const_t<S>, RunAction> {
  using fields::kRequired;
  v.Str("execution_id", r.execution_id, kRequired);
  v.Str("workflow_name", r.workflow_name);
  v.Str("task_execution_id", r.task_execution_id, kRequired);
  v.Str("task_name", r.task_name);
  v.Str("action_execution_id", r.action_execution_id, kRequired);
  v.Str("action_name", r.action_name, kRequired);
  v.Value("input", r.input, fields::kObject);
  v.Str("target", r.target);
  v.Int("timeout_s", r.timeout_s);
  v.Bool("safe_rerun", r.safe_rerun);
  v.Bool("is_async", r.is_async);
  v.Int("attempt", r.attempt);
  v.Value("security", r.security, fields::kAnyOmitNull);  // absent: null
}

}  // namespace bora::engine
