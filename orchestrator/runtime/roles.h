#pragma once
// Roles: what a process's runtime offers the parts built around it (the REST API, the cron
// scheduler, the ingest processor), in one shape whatever the backend: the embedded runtime in
// memory or on disk (EmbeddedRuntime::roles()) and a distributed node (ClusterNode::roles()).
// api::ApiService::Create is the one place that builds those parts from it, so the modes cannot
// drift apart there.
//
// Ownership: nothing is owned; everything outlives the parts built from it. Thread-safety: the
// pointees' own; the hooks before the runtime's Start().
#include <functional>
#include <string>

#include "common/bus/bus.h"
#include "common/clock.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/runtime/loop_hooks.h"
#include "orchestrator/store/state_store.h"
#include "workers/action.h"

namespace bora::disk {
class DiskDb;
}

namespace bora::runtime {

struct Roles {
  Bus* bus = nullptr;
  store::ExecutionReader* executions = nullptr;
  const engine::Engine* engine = nullptr;
  const engine::Definitions* definitions = nullptr;
  workers::ActionRegistry* actions = nullptr;
  ExecutionClient* client = nullptr;  // the runtime's own (returns once the bus took an event)
  const Clock* clock = nullptr;
  int partitions = 0;  // of bora.events
  std::string topic_prefix;
  // Where work owned by partition (cron) and consumers of their own (ingest) run: the orchestrator
  // loops. Null in a process without them (`bora api`, `bora worker`).
  std::function<void(PartitionTask*)> add_partition_task;
  std::function<void(PollLoop)> add_poll_loop;
  disk::DiskDb* disk = nullptr;  // the data directory of `bora serve --data-dir`, or null
  bool worker = false;           // the process runs actions (a worker pool)
  // Frees a topic's messages below an offset its only consumer committed (the embedded bus, which
  // keeps everything otherwise); null where the bus keeps its own retention (Kafka).
  std::function<void(const TopicPartition&, int64_t)> trim;
};

}  // namespace bora::runtime
