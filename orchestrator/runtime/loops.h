#pragma once
// The threads of a runtime, written once for the embedded runtime and the distributed node: an
// orchestrator loop (poll, apply, commit; the partition tasks after each poll; a back-off while a
// store or bus fails), a worker loop and a poll loop (ingest). Each runs until `stopping` is set
// and the component is woken (Orchestrator::Wakeup, ActionWorker::Wakeup).
//
// Threading: each function is the body of one thread.
#include <atomic>
#include <functional>
#include <vector>

#include "common/clock.h"
#include "orchestrator/partition/orchestrator.h"
#include "orchestrator/runtime/loop_hooks.h"
#include "workers/action_worker.h"

namespace bora::runtime {

// Polls `orchestrator` (waiting at most 100 ms, less when a timer is due sooner), then runs `tasks`
// for the partitions it owns and calls `after_poll(applied)` when the poll applied events. On an
// error it logs and backs off 100 ms. At the end the last commit is awaited and its outbox
// produced.
void RunOrchestratorLoop(partition::Orchestrator& orchestrator, const Clock& clock,
                         const std::atomic<bool>& stopping,
                         const std::vector<PartitionTask*>& tasks,
                         const std::function<void(size_t applied)>& after_poll = nullptr);

// Polls `worker` (100 ms); `after_poll(taken)` when it took requests; logs and backs off on errors.
void RunWorkerLoop(workers::ActionWorker& worker, const std::atomic<bool>& stopping,
                   const std::function<void(size_t taken)>& after_poll = nullptr);

// Polls `loop` (100 ms); `after_poll(done)` when it did something; logs and backs off on errors.
void RunPollLoop(const PollLoop& loop, const std::atomic<bool>& stopping,
                 const std::function<void(size_t done)>& after_poll = nullptr);

// Runs `tasks` for `owned`; returns how much they did (errors are logged).
size_t RunPartitionTasks(const std::vector<PartitionTask*>& tasks,
                         const std::vector<PartitionId>& owned);

}  // namespace bora::runtime
