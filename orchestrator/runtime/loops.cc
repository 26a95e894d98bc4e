#include "orchestrator/runtime/loops.h"

#include <algorithm>
#include <thread>

#include "common/log.h"

namespace bora::runtime {

using namespace std::chrono_literals;

size_t RunPartitionTasks(const std::vector<PartitionTask*>& tasks,
                         const std::vector<PartitionId>& owned) {
  size_t done = 0;
  for (PartitionTask* task : tasks) {
    auto r = task->RunOwned(owned);
    if (r.ok()) {
      done += *r;
    } else {
      BORA_LOG_ERROR("partition task: {}", r.status().ToString());
    }
  }
  return done;
}

void RunOrchestratorLoop(partition::Orchestrator& orchestrator, const Clock& clock,
                         const std::atomic<bool>& stopping,
                         const std::vector<PartitionTask*>& tasks,
                         const std::function<void(size_t)>& after_poll) {
  while (!stopping) {
    auto wait = 100ms;
    if (auto next = orchestrator.NextTimer()) {
      auto until = std::chrono::microseconds(std::max<int64_t>(0, *next - clock.NowUs()));
      wait = std::min<std::chrono::milliseconds>(
          wait, std::chrono::duration_cast<std::chrono::milliseconds>(until) + 1ms);
    }
    auto r = orchestrator.PollOnce(wait);
    if (!r.ok()) {
      BORA_LOG_ERROR("orchestrator: {}", r.status().ToString());
      std::this_thread::sleep_for(100ms);  // back off while a store or the bus fails
    } else if (*r > 0 && after_poll) {
      after_poll(*r);
    }
    if (!tasks.empty()) RunPartitionTasks(tasks, orchestrator.OwnedPartitions());
  }
  // The last poll's commit is awaited and its outbox produced (a new owner would re-send it
  // anyway).
  if (Status s = orchestrator.Flush(); !s.ok()) BORA_LOG_ERROR("orchestrator: {}", s.ToString());
}

void RunWorkerLoop(workers::ActionWorker& worker, const std::atomic<bool>& stopping,
                   const std::function<void(size_t)>& after_poll) {
  while (!stopping) {
    auto r = worker.PollOnce(100ms);
    if (!r.ok()) {
      BORA_LOG_ERROR("worker: {}", r.status().ToString());
      std::this_thread::sleep_for(100ms);  // back off while the bus fails
    } else if (*r > 0 && after_poll) {
      after_poll(*r);
    }
  }
}

void RunPollLoop(const PollLoop& loop, const std::atomic<bool>& stopping,
                 const std::function<void(size_t)>& after_poll) {
  while (!stopping) {
    auto r = loop.poll_once(100ms);
    if (!r.ok()) {
      BORA_LOG_ERROR("{}: {}", loop.name, r.status().ToString());
      std::this_thread::sleep_for(100ms);  // back off
    } else if (*r > 0 && after_poll) {
      after_poll(*r);
    }
  }
}

}  // namespace bora::runtime
