#include "sdk/protocol/protocol.h"

#include <type_traits>

namespace bora::protocol {

namespace {

using engine::State;

// Reads typed fields out of a JSON object, remembering the first problem.
class Reader {
 public:
  Reader(const JsonObject& o, std::string_view type) : o_(o), type_(type) {}

  std::string Str(std::string_view key, bool required = true) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) {
      if (required) Fail(std::string("missing field '") + std::string(key) + "'");
      return {};
    }
    if (!it->value().is_string()) {
      Fail(std::string("field '") + std::string(key) + "' must be a string");
      return {};
    }
    return std::string(it->value().get_string());
  }
  std::optional<std::string> OptStr(std::string_view key) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return std::nullopt;
    return Str(key);
  }
  int64_t Int(std::string_view key, int64_t fallback = 0) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return fallback;
    if (it->value().is_int64()) return it->value().get_int64();
    if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
    Fail(std::string("field '") + std::string(key) + "' must be an integer");
    return fallback;
  }
  bool Bool(std::string_view key, bool fallback = false) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return fallback;
    if (!it->value().is_bool()) {
      Fail(std::string("field '") + std::string(key) + "' must be a boolean");
      return fallback;
    }
    return it->value().get_bool();
  }
  Json Any(std::string_view key, Json fallback = nullptr) {
    auto it = o_.find(key);
    return it == o_.end() ? fallback : it->value();
  }
  Json Obj(std::string_view key) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return JsonObject();
    if (!it->value().is_object()) {
      Fail(std::string("field '") + std::string(key) + "' must be an object");
      return JsonObject();
    }
    return it->value();
  }
  std::optional<Json> OptObj(std::string_view key) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return std::nullopt;
    return Obj(key);
  }
  State StateField(std::string_view key) {
    std::string s = Str(key);
    auto st = engine::StateFromName(s);
    if (!st && ok()) Fail(std::string("field '") + std::string(key) + "' is not a state: '" + s + "'");
    return st.value_or(State::kError);
  }

  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  bool ok() const { return error_.empty(); }
  Status status() const {
    return InvalidArgument("bad " + std::string(type_) + " message: " + error_);
  }

 private:
  const JsonObject& o_;
  std::string_view type_;
  std::string error_;
};

void PutOpt(JsonObject& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[key] = *v;
}

std::string_view ActionKindName(engine::ActionCompleted::Kind k) {
  switch (k) {
    case engine::ActionCompleted::Kind::kSuccess: return "success";
    case engine::ActionCompleted::Kind::kError: return "error";
    case engine::ActionCompleted::Kind::kCancelled: return "cancelled";
  }
  return "error";
}

}  // namespace

std::string EventsTopic(std::string_view prefix) {
  return std::string(prefix) + std::string(kEventsTopic);
}

std::string ActionsTopic(std::string_view pool, std::string_view prefix) {
  return std::string(prefix) + std::string(kActionsTopicPrefix) + std::string(pool.empty() ? "default" : pool);
}

Json EventToJson(const engine::Event& event) {
  JsonObject o;
  o["schema_version"] = kSchemaVersion;
  o["type"] = EventName(event);
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        o["execution_id"] = e.execution_id;
        if constexpr (std::is_same_v<T, engine::StartExecution>) {
          o["workflow_name"] = e.workflow_name;
          o["workflow_namespace"] = e.workflow_namespace;
          o["input"] = e.input;
          o["params"] = e.params;
          o["description"] = e.description;
          if (!e.parent_execution_id.empty()) {
            o["parent_execution_id"] = e.parent_execution_id;
            o["parent_task_execution_id"] = e.parent_task_execution_id;
            o["root_execution_id"] = e.root_execution_id;
            o["parent_item_index"] = e.parent_item_index;
          }
        } else if constexpr (std::is_same_v<T, engine::ActionCompleted>) {
          o["task_execution_id"] = e.task_execution_id;
          o["action_execution_id"] = e.action_execution_id;
          o["result"] = ActionKindName(e.kind);
          o["data"] = e.data;
        } else if constexpr (std::is_same_v<T, engine::SubWorkflowCompleted>) {
          o["task_execution_id"] = e.task_execution_id;
          o["sub_execution_id"] = e.sub_execution_id;
          o["state"] = engine::StateName(e.state);
          o["output"] = e.output;
          PutOpt(o, "state_info", e.state_info);
        } else if constexpr (std::is_same_v<T, engine::TimerFired>) {
          o["timer_id"] = e.timer_id;
        } else if constexpr (std::is_same_v<T, engine::ResumeExecution>) {
          if (e.env) o["env"] = *e.env;
        } else if constexpr (std::is_same_v<T, engine::CancelExecution>) {
          PutOpt(o, "state_info", e.state_info);
        } else if constexpr (std::is_same_v<T, engine::StopExecution>) {
          o["state"] = engine::StateName(e.state);
          PutOpt(o, "state_info", e.state_info);
        } else if constexpr (std::is_same_v<T, engine::RerunTask>) {
          o["task_execution_id"] = e.task_execution_id;
          o["reset"] = e.reset;
          if (e.env) o["env"] = *e.env;
        } else if constexpr (std::is_same_v<T, engine::SkipTask>) {
          o["task_execution_id"] = e.task_execution_id;
        }
      },
      event);
  return o;
}

std::string EncodeEvent(const engine::Event& event) { return DumpJson(EventToJson(event)); }

Result<engine::Event> EventFromJson(const Json& json) {
  if (!json.is_object()) return InvalidArgument("bad event message: not a JSON object");
  const JsonObject& o = json.get_object();
  auto version = o.find("schema_version");
  if (version == o.end() || !version->value().is_int64()) {
    return InvalidArgument("bad event message: missing integer 'schema_version'");
  }
  if (version->value().get_int64() != kSchemaVersion) {
    return InvalidArgument("bad event message: unsupported schema_version " +
                           std::to_string(version->value().get_int64()) + " (this build reads " +
                           std::to_string(kSchemaVersion) + ")");
  }
  auto type_it = o.find("type");
  if (type_it == o.end() || !type_it->value().is_string()) {
    return InvalidArgument("bad event message: missing string 'type'");
  }
  std::string type(type_it->value().get_string());
  Reader r(o, type);
  engine::Event out;
  if (type == "StartExecution") {
    engine::StartExecution e;
    e.execution_id = r.Str("execution_id");
    e.workflow_name = r.Str("workflow_name");
    e.workflow_namespace = r.Str("workflow_namespace", false);
    e.input = r.Obj("input");
    e.params = r.Obj("params");
    e.description = r.Str("description", false);
    e.parent_execution_id = r.Str("parent_execution_id", false);
    e.parent_task_execution_id = r.Str("parent_task_execution_id", false);
    e.root_execution_id = r.Str("root_execution_id", false);
    e.parent_item_index = static_cast<int>(r.Int("parent_item_index"));
    out = std::move(e);
  } else if (type == "ActionCompleted") {
    engine::ActionCompleted e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.action_execution_id = r.Str("action_execution_id");
    std::string kind = r.Str("result");
    if (kind == "success") e.kind = engine::ActionCompleted::Kind::kSuccess;
    else if (kind == "error") e.kind = engine::ActionCompleted::Kind::kError;
    else if (kind == "cancelled") e.kind = engine::ActionCompleted::Kind::kCancelled;
    else if (r.ok()) r.Fail("field 'result' must be success, error or cancelled, not '" + kind + "'");
    e.data = r.Any("data");
    out = std::move(e);
  } else if (type == "SubWorkflowCompleted") {
    engine::SubWorkflowCompleted e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.sub_execution_id = r.Str("sub_execution_id");
    e.state = r.StateField("state");
    e.output = r.Any("output", JsonObject());
    e.state_info = r.OptStr("state_info");
    out = std::move(e);
  } else if (type == "TimerFired") {
    engine::TimerFired e;
    e.execution_id = r.Str("execution_id");
    e.timer_id = r.Str("timer_id");
    out = std::move(e);
  } else if (type == "PauseExecution") {
    out = engine::PauseExecution{r.Str("execution_id")};
  } else if (type == "ResumeExecution") {
    engine::ResumeExecution e;
    e.execution_id = r.Str("execution_id");
    e.env = r.OptObj("env");
    out = std::move(e);
  } else if (type == "CancelExecution") {
    engine::CancelExecution e;
    e.execution_id = r.Str("execution_id");
    e.state_info = r.OptStr("state_info");
    out = std::move(e);
  } else if (type == "StopExecution") {
    engine::StopExecution e;
    e.execution_id = r.Str("execution_id");
    e.state = r.StateField("state");
    e.state_info = r.OptStr("state_info");
    out = std::move(e);
  } else if (type == "RerunTask") {
    engine::RerunTask e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.reset = r.Bool("reset", true);
    e.env = r.OptObj("env");
    out = std::move(e);
  } else if (type == "SkipTask") {
    engine::SkipTask e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    out = std::move(e);
  } else {
    return InvalidArgument("bad event message: unknown type '" + type + "'");
  }
  if (!r.ok()) return r.status();
  return out;
}

Result<engine::Event> DecodeEvent(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    return InvalidArgument("bad event message: " + std::to_string(text.size()) +
                           " bytes, more than the limit of " + std::to_string(kMaxMessageBytes));
  }
  auto json = ParseJson(text);
  if (!json.ok()) return json.status().WithContext("bad event message");
  return EventFromJson(*json);
}

Json RunActionToJson(const engine::RunAction& run) {
  JsonObject o;
  o["schema_version"] = kSchemaVersion;
  o["type"] = "RunAction";
  o["execution_id"] = run.execution_id;
  o["workflow_name"] = run.workflow_name;
  o["task_execution_id"] = run.task_execution_id;
  o["task_name"] = run.task_name;
  o["action_execution_id"] = run.action_execution_id;
  o["action_name"] = run.action_name;
  o["input"] = run.input;
  o["target"] = run.target;
  o["timeout_s"] = run.timeout_s;
  o["safe_rerun"] = run.safe_rerun;
  o["is_async"] = run.is_async;
  o["attempt"] = run.attempt;
  return o;
}

std::string EncodeRunAction(const engine::RunAction& run) { return DumpJson(RunActionToJson(run)); }

Result<engine::RunAction> DecodeRunAction(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    return InvalidArgument("bad RunAction message: " + std::to_string(text.size()) +
                           " bytes, more than the limit of " + std::to_string(kMaxMessageBytes));
  }
  auto json = ParseJson(text);
  if (!json.ok()) return json.status().WithContext("bad RunAction message");
  if (!json->is_object()) return InvalidArgument("bad RunAction message: not a JSON object");
  const JsonObject& o = json->get_object();
  Reader r(o, "RunAction");
  if (r.Int("schema_version", -1) != kSchemaVersion) {
    return InvalidArgument("bad RunAction message: missing or unsupported schema_version");
  }
  if (r.Str("type") != "RunAction" && r.ok()) r.Fail("field 'type' must be 'RunAction'");
  engine::RunAction run;
  run.execution_id = r.Str("execution_id");
  run.workflow_name = r.Str("workflow_name", false);
  run.task_execution_id = r.Str("task_execution_id");
  run.task_name = r.Str("task_name", false);
  run.action_execution_id = r.Str("action_execution_id");
  run.action_name = r.Str("action_name");
  run.input = r.Obj("input");
  run.target = r.Str("target", false);
  run.timeout_s = r.Int("timeout_s");
  run.safe_rerun = r.Bool("safe_rerun");
  run.is_async = r.Bool("is_async");
  run.attempt = static_cast<int>(r.Int("attempt"));
  if (!r.ok()) return r.status();
  return run;
}

}  // namespace bora::protocol
