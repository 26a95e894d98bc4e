#pragma once
// ExecutionClient: the operations on executions that the CLI, the REST API and tests use, in any
// mode. Every operation is an event published to `bora.events` under the execution's key; reads
// come from the store's reader face (store::ExecutionReader). Start requests are checked first
// (workflow exists, input valid) so callers get an immediate error.
//
// Thread-safety: all methods may be called from any thread.
#include <optional>
#include <string>

#include "common/bus/bus.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/status.h"
#include "common/strong_id.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/store/state_store.h"

namespace bora::runtime {

struct StartRequest {
  std::string workflow_name;
  // Qualified by the project of the workflow's definition (engine/project_namespace.h).
  std::string workflow_namespace;
  // The execution's project and the user who starts it ("" = the default project).
  std::string project_id;
  std::string user_id;
  Json security = nullptr;  // engine::StartExecution::security
  Json input = JsonObject();
  Json params = JsonObject();  // "env", "task_name", ...
  std::string description;
  ExecutionId execution_id;  // empty: a new UUID
};

class ExecutionClient {
 public:
  // Nothing is owned; all must outlive the client. `partitions` is the partition count of
  // bora.events. With `wait_durable` every operation returns once its event is durable on the bus
  // (Bus::PublishAndWait: acknowledged by Kafka, fsync'ed by the disk bus): what an API that
  // answers "accepted" needs. Without it an operation returns once the bus took the event (internal
  // callers that flush or order their writes themselves: cron, the ingest processor).
  ExecutionClient(Bus* bus, store::ExecutionReader* store, const engine::Engine* engine,
                  const engine::Definitions* definitions, int partitions,
                  std::string topic_prefix = "", bool wait_durable = false);

  // Validates and publishes a start request; returns the execution id. kNotFound for an unknown workflow,
  // kInvalidArgument for bad input ("Invalid input ...").
  Result<ExecutionId> Start(const StartRequest& request);
  Status Pause(const ExecutionId& execution_id);
  Status Resume(const ExecutionId& execution_id, std::optional<Json> env = std::nullopt);
  Status Cancel(const ExecutionId& execution_id,
                std::optional<std::string> state_info = std::nullopt);
  Status Stop(const ExecutionId& execution_id, engine::State state,
              std::optional<std::string> state_info = std::nullopt);
  Status RerunTask(const ExecutionId& execution_id, const TaskExecutionId& task_execution_id,
                   bool reset, std::optional<Json> env = std::nullopt);
  Status SkipTask(const ExecutionId& execution_id, const TaskExecutionId& task_execution_id);
  // Completes an async action (PUT /v2/action_executions/{id}).
  Status CompleteAction(const ExecutionId& execution_id, const TaskExecutionId& task_execution_id,
                        const ActionExecutionId& action_execution_id,
                        engine::ActionCompleted::Kind kind, Json data);

  // A copy of the execution's current state, or nullopt.
  Result<std::optional<engine::ExecutionState>> Get(const ExecutionId& execution_id);
  // The same without its tasks (ExecutionReader::ReadExecutionHead): cheap for executions of many
  // tasks.
  Result<std::optional<engine::ExecutionState>> GetHead(const ExecutionId& execution_id);

  // Publishes any event (used by tests and tools).
  Status Send(const engine::Event& event);

  PartitionId PartitionOf(const ExecutionId& execution_id) const;

 private:
  Bus* bus_;
  store::ExecutionReader* store_;
  const engine::Engine* engine_;
  const engine::Definitions* definitions_;
  int partitions_;
  std::string events_topic_;
  bool wait_durable_;
};

}  // namespace bora::runtime
