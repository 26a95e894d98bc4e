#include "orchestrator/runtime/execution_client.h"

#include "sdk/protocol/protocol.h"

namespace bora::runtime {

ExecutionClient::ExecutionClient(Bus* bus, store::ExecutionReader* store,
                                 const engine::Engine* engine,
                                 const engine::Definitions* definitions, int partitions,
                                 std::string topic_prefix, bool wait_durable)
    : bus_(bus),
      store_(store),
      engine_(engine),
      definitions_(definitions),
      partitions_(partitions),
      events_topic_(protocol::EventsTopic(topic_prefix)),
      wait_durable_(wait_durable) {}

PartitionId ExecutionClient::PartitionOf(const ExecutionId& execution_id) const {
  return PartitionId(PartitionForKey(execution_id.value(), partitions_));
}

Status ExecutionClient::Send(const engine::Event& event) {
  const std::string& id = engine::EventExecutionId(event);
  if (id.empty()) return InvalidArgument("an event needs an execution id");
  BORA_ASSIGN_OR_RETURN(std::string text, protocol::EncodeEvent(event));
  if (wait_durable_) {
    std::vector<Bus::Record> records;
    records.push_back({id, std::move(text), {}});
    return bus_->PublishAndWait(events_topic_, std::move(records), std::chrono::seconds(30));
  }
  return bus_->Publish(events_topic_, id, std::move(text));
}

Result<ExecutionId> ExecutionClient::Start(const StartRequest& request) {
  auto spec = engine_->ResolveWorkflow(request.workflow_name, "", request.workflow_namespace);
  if (!spec) {
    return NotFound(
        "Workflow not found [workflow_identifier=" + request.workflow_name +
        (engine::PlainNamespace(request.workflow_namespace).empty()
             ? std::string()
             : ", namespace=" + std::string(engine::PlainNamespace(request.workflow_namespace))) +
        "]");
  }
  if (!request.input.is_object()) {
    return InvalidArgument("Invalid input: the workflow input must be a dict, not " +
                           std::string(PythonTypeName(request.input)));
  }
  if (!request.params.is_object()) {
    return InvalidArgument("Invalid params: expected a dict, not " +
                           std::string(PythonTypeName(request.params)));
  }
  BORA_ASSIGN_OR_RETURN(Json input, engine_->ValidateWorkflowInput(*spec, request.input));
  engine::StartExecution start;
  start.execution_id =
      request.execution_id.value().empty() ? NewUuid() : request.execution_id.value();
  start.workflow_name = spec->full_name;
  start.workflow_namespace = request.workflow_namespace;
  start.project_id = request.project_id;
  start.user_id = request.user_id;
  start.security = request.security;
  start.input = std::move(input);
  start.params = request.params;
  start.description = request.description;
  BORA_RETURN_IF_ERROR(Send(engine::Event(start)));
  return ExecutionId(std::move(start.execution_id));
}

Status ExecutionClient::Pause(const ExecutionId& id) {
  return Send(engine::PauseExecution{id.value()});
}

Status ExecutionClient::Resume(const ExecutionId& id, std::optional<Json> env) {
  return Send(engine::ResumeExecution{id.value(), std::move(env)});
}

Status ExecutionClient::Cancel(const ExecutionId& id, std::optional<std::string> state_info) {
  return Send(engine::CancelExecution{id.value(), std::move(state_info)});
}

Status ExecutionClient::Stop(const ExecutionId& id, engine::State state,
                             std::optional<std::string> state_info) {
  return Send(engine::StopExecution{id.value(), state, std::move(state_info)});
}

Status ExecutionClient::RerunTask(const ExecutionId& id, const TaskExecutionId& task_id, bool reset,
                                  std::optional<Json> env) {
  return Send(engine::RerunTask{id.value(), task_id.value(), reset, std::move(env)});
}

Status ExecutionClient::SkipTask(const ExecutionId& id, const TaskExecutionId& task_id) {
  return Send(engine::SkipTask{id.value(), task_id.value()});
}

Status ExecutionClient::CompleteAction(const ExecutionId& id, const TaskExecutionId& task_id,
                                       const ActionExecutionId& action_id,
                                       engine::ActionCompleted::Kind kind, Json data) {
  return Send(engine::ActionCompleted{id.value(), task_id.value(), action_id.value(), kind,
                                      std::move(data)});
}

Result<std::optional<engine::ExecutionState>> ExecutionClient::Get(const ExecutionId& id) {
  return store_->ReadExecution(PartitionOf(id), id);
}

Result<std::optional<engine::ExecutionState>> ExecutionClient::GetHead(const ExecutionId& id) {
  return store_->ReadExecutionHead(PartitionOf(id), id);
}

}  // namespace bora::runtime
