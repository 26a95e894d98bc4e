#pragma once
// Hooks that let other modules run work on the runtime's threads without the runtime depending on them:
//  - PartitionTask: work owned by partition (cron triggers): called on an orchestrator loop thread after
//    each poll (at least every 100 ms) with the partitions that loop owns at that moment. Loops of one
//    process own disjoint partitions, but a task may be called from several loops at once.
//  - PollLoop: a consumer of its own (the ingest processor): polled in a thread of its own in threaded modes,
//    and once per round by EmbeddedRuntime::RunUntilIdle in deterministic mode.
//
// Ownership: the runtime does not own PartitionTasks; they must outlive it (or its Stop()).
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/strong_id.h"

namespace bora::runtime {

class PartitionTask {
 public:
  virtual ~PartitionTask() = default;
  // Does what is due for `owned` partitions; returns how much it did (0 = nothing). Must be cheap when
  // nothing is due. Errors are logged by the caller, which backs off briefly and calls again.
  virtual Result<size_t> RunOwned(const std::vector<PartitionId>& owned) = 0;
};

struct PollLoop {
  std::string name;  // for logs
  // Waits at most `timeout` for work, does it, returns how much it did.
  std::function<Result<size_t>(std::chrono::milliseconds timeout)> poll_once;
};

}  // namespace bora::runtime
