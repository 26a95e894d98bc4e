#include "sdk/messages/events.h"

#include <type_traits>

namespace bora::engine {

const std::string& EventExecutionId(const Event& event) {
  return std::visit([](const auto& e) -> const std::string& { return e.execution_id; }, event);
}

std::string_view EventName(const Event& event) { return kEventNames[event.index()]; }

std::string_view CommandName(const Command& command) {
  static constexpr std::string_view kNames[] = {
      "RunAction",         "StartSubWorkflow",    "SetTimer",        "CancelTimer",
      "ExecutionFinished", "ControlSubExecution", "DeleteExecution", "NotifyParent"};
  return kNames[command.index()];
}

}  // namespace bora::engine
