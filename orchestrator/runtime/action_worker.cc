#include "orchestrator/runtime/action_worker.h"

#include <exception>

#include "common/log.h"
#include "sdk/protocol/protocol.h"

namespace bora::runtime {

ActionWorker::ActionWorker(ActionWorkerOptions options, Bus* bus, const workers::ActionRegistry* registry,
                           Executor executor)
    : options_(std::move(options)), bus_(bus), registry_(registry), executor_(std::move(executor)) {}

Status ActionWorker::Start() {
  std::string topic = protocol::ActionsTopic(options_.pool);
  auto count = bus_->PartitionCount(topic);
  if (!count.ok()) BORA_RETURN_IF_ERROR(bus_->CreateTopic(topic, 1));
  ConsumerOptions co;
  co.group = options_.group + "." + options_.pool;
  co.topics = {topic};
  BORA_ASSIGN_OR_RETURN(consumer_, bus_->Subscribe(co));
  return Status::Ok();
}

void ActionWorker::Wakeup() {
  if (consumer_) consumer_->Wakeup();
}

workers::ActionResult ActionWorker::RunInline(const workers::ActionRegistry& registry,
                                              const workers::ActionRequest& request) {
  workers::Action* action = registry.FindAction(request.action_name);
  if (action == nullptr) {
    return workers::ActionResult::Error(
        Json("Failed to find action [action_name=" + request.action_name + "]"));
  }
  workers::CancelToken token;
  try {
    return action->Run(request, token);
  } catch (const std::exception& e) {
    return workers::ActionResult::Error(Json(std::string(e.what())));
  }
}

void ActionWorker::Publish(const std::string& execution_id, const std::string& task_execution_id,
                           const std::string& action_execution_id, const workers::ActionResult& result) {
  if (result.kind == workers::ActionResult::Kind::kAsync) return;
  engine::ActionCompleted done;
  done.execution_id = execution_id;
  done.task_execution_id = task_execution_id;
  done.action_execution_id = action_execution_id;
  switch (result.kind) {
    case workers::ActionResult::Kind::kSuccess:
      done.kind = engine::ActionCompleted::Kind::kSuccess;
      break;
    case workers::ActionResult::Kind::kError:
      done.kind = engine::ActionCompleted::Kind::kError;
      break;
    default:
      done.kind = engine::ActionCompleted::Kind::kCancelled;
      break;
  }
  done.data = result.data;
  Status s = bus_->Publish(protocol::kEventsTopic, execution_id,
                           protocol::EncodeEvent(engine::Event(std::move(done))));
  if (!s.ok()) {
    // The request stays unacknowledged only in distributed mode (redelivery); log loudly here.
    BORA_LOG_ERROR("cannot publish the result of action execution {}: {}", action_execution_id,
                   s.ToString());
  }
}

Result<size_t> ActionWorker::PollOnce(std::chrono::milliseconds timeout) {
  if (!consumer_) return FailedPrecondition("ActionWorker::Start was not called");
  BORA_ASSIGN_OR_RETURN(auto messages, consumer_->Poll(options_.max_batch, timeout));
  for (const auto& m : messages) {
    auto run = protocol::DecodeRunAction(m.value);
    if (!run.ok()) {
      BORA_LOG_WARN("dropping a bad action request at {}:{}@{}: {}", m.topic, m.partition, m.offset,
                    run.status().ToString());
      continue;
    }
    workers::ActionRequest request;
    request.action_name = run->action_name;
    request.input = std::move(run->input);
    request.execution_id = run->execution_id;
    request.workflow_name = run->workflow_name;
    request.task_execution_id = run->task_execution_id;
    request.task_name = run->task_name;
    request.action_execution_id = run->action_execution_id;
    request.attempt = run->attempt;
    request.timeout_ms = run->timeout_s * 1000;
    std::string exec = run->execution_id, task = run->task_execution_id,
                action = run->action_execution_id;
    workers::Action* impl = registry_->FindAction(request.action_name);
    if (!executor_ || impl == nullptr || !impl->MayBlock(request)) {
      // Quick actions (std.noop, std.echo without delay...) run here: a pool hop costs more than they do.
      Publish(exec, task, action, RunInline(*registry_, request));
      continue;
    }
    executor_(std::move(request), [this, exec, task, action](workers::ActionResult result) {
      Publish(exec, task, action, result);
    });
  }
  return messages.size();
}

}  // namespace bora::runtime
