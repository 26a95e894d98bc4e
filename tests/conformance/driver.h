#pragma once
// How the conformance runner drives Bora: embedded (EmbeddedRuntime in deterministic mode: manual clock,
// actions inline, no threads) or distributed (separate `bora orchestrator` and `bora worker` processes on the
// real Kafka and Redis of scripts/services.sh, with a topic/key prefix of their own).
#include <memory>
#include <string>

#include "common/status.h"
#include "orchestrator/runtime/execution_client.h"

namespace bora::conformance {

class Driver {
 public:
  virtual ~Driver() = default;
  // Makes the definitions of `yaml` available to the run.
  virtual Status Load(const std::string& yaml, const std::string& file_name) = 0;
  virtual runtime::ExecutionClient& client() = 0;
  // Returns once the execution has settled: SUCCESS, ERROR, CANCELLED or PAUSED with nothing left running.
  virtual Status Settle(const std::string& execution_id) = 0;
};

std::unique_ptr<Driver> MakeEmbeddedDriver();
// `name` labels the processes' prefix. Fails when BORA_KAFKA / BORA_REDIS are not set.
Result<std::unique_ptr<Driver>> MakeDistributedDriver(const std::string& name);

}  // namespace bora::conformance
