#pragma once
// How the conformance runner drives Bora, three ways: embedded (EmbeddedRuntime in deterministic
// mode: manual clock, actions inline, no threads), distributed (separate `bora orchestrator` and
// `bora worker` processes on the real Kafka and Redis of scripts/services.sh, with a topic/key
// prefix of their own), and cli (the built `bora run --json` as a subprocess, its printed execution
// tree read back into engine::ExecutionState).
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "orchestrator/engine/state.h"
#include "orchestrator/runtime/execution_client.h"

namespace bora::conformance {

class Driver {
 public:
  virtual ~Driver() = default;
  // Makes the definitions of `yaml` (read from `file_name`) available to the run.
  virtual Status Load(const std::string& yaml, const std::string& file_name) = 0;
  // Starts an execution (ExecutionClient::Start); returns its id.
  virtual Result<std::string> Start(const runtime::StartRequest& request) = 0;
  // Returns once the execution has settled: SUCCESS, ERROR, CANCELLED or PAUSED with nothing left
  // running.
  virtual Status Settle(const std::string& execution_id) = 0;
  // The execution, or a sub-workflow execution of it (ExecutionClient::Get).
  virtual Result<std::optional<engine::ExecutionState>> Get(const std::string& execution_id) = 0;
  // ExecutionClient::Resume / SkipTask. kUnimplemented when the driver cannot go on after the first
  // stop (the cli driver: `bora run` exits there).
  virtual Status Resume(const std::string& execution_id) = 0;
  virtual Status SkipTask(const std::string& execution_id,
                          const std::string& task_execution_id) = 0;
};

std::unique_ptr<Driver> MakeEmbeddedDriver();
// `name` labels the processes' prefix. Fails when BORA_KAFKA / BORA_REDIS are not set.
Result<std::unique_ptr<Driver>> MakeDistributedDriver(const std::string& name);
// Runs `bora_binary` (`bora run --json`) once per Start.
std::unique_ptr<Driver> MakeCliDriver(const std::string& bora_binary);

}  // namespace bora::conformance
