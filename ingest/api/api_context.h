#pragma once
// ApiContext: what the REST resource handlers work with, in either mode. The embedded `bora serve`
// fills it from an EmbeddedRuntime (its MemoryBus, state and resource stores in memory or on disk,
// MemoryDefinitions); the distributed one from a ClusterNode (KafkaBus, RedisStateStore,
// RedisResourceStore, RedisDefinitions). The API reads executions through the store's reader face
// only (store::ExecutionReader). Each resource file exposes `void
// Register<Resource>Routes(http::Router&, ApiContext&)`; rest_api.cc registers them all.
//
// Ownership: nothing is owned; everything outlives the server. Thread-safety: every pointee may be
// used from any server thread.
#include <functional>
#include <string>
#include <vector>

#include "common/bus/bus.h"
#include "common/check.h"
#include "common/clock.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/runtime/execution_client.h"
#include "orchestrator/store/resource_store.h"
#include "orchestrator/store/state_store.h"
#include "workers/action.h"

namespace bora::disk {
class DiskDb;
}
namespace bora::auth {
class KeystoneTrusts;  // common/auth/keystone_trusts.h
}

namespace bora::api {

class Catalog;  // ingest/api/catalog.h: workbooks, workflows, actions, environments

struct ApiLimits {
  size_t max_limit = 1000;             // largest page (`limit`)
  size_t max_body_bytes = 1 << 20;     // larger bodies: 413 (enforced by the server)
  size_t max_definition_bytes = 1 << 20;
  size_t max_events_per_batch = 1000;  // CloudEvents batch mode
};

struct ApiContext {
  runtime::ExecutionClient* executions = nullptr;  // start, pause/resume/cancel, rerun, complete actions
  store::ExecutionReader* states = nullptr;        // execution reads and listings
  int partitions = 0;                              // partitions of bora.events
  store::ResourceStore* resources = nullptr;       // triggers, environments, dedupe keys, ...
  Catalog* catalog = nullptr;                      // definitions (workbooks/workflows/actions/environments)
  const engine::Engine* engine = nullptr;
  // System actions (GET /v2/actions, direct runs) and the external ones workers declare
  // (ActionRegistry::DeclareExternal, the worker API).
  workers::ActionRegistry* actions = nullptr;
  // Runs a declared external action outside any workflow (POST /v2/action_executions): queued for
  // this process's HTTP workers of the action's pool, `done` called with their completion. Set by
  // the worker API (null without one). `withdraw_external` takes back a request no worker leased.
  std::function<Status(workers::ActionRequest, std::function<void(workers::ActionResult)>)>
      run_external;
  std::function<bool(const std::string& action_name, const std::string& action_execution_id)>
      withdraw_external;
  Bus* bus = nullptr;                              // publishes events (ExecutionClient) and ingest
  // Frees consumed messages of a topic this process alone reads (runtime::Roles::trim), or null.
  std::function<void(const TopicPartition&, int64_t)> trim_bus;
  std::string topic_prefix;                        // as ClusterOptions::prefix
  const Clock* clock = nullptr;  // required: whoever assembles the context sets it (ApiService)
  ApiLimits limits;
  std::string project_id = "<default-project>";
  disk::DiskDb* disk =
      nullptr;  // the data directory of `bora serve --data-dir` (admin backup), or null
  // With --auth keystone: creates a trust for each cron trigger a Keystone user creates (its runs
  // act as that user), deletes it with the trigger. Null otherwise.
  auth::KeystoneTrusts* trusts = nullptr;
  // Mistral's service groups this process runs (GET /v2/services): api_group, engine_group, ...
  std::vector<std::string> service_groups;

  // "Now" for the handlers (created_at, updated_at, ...). A context without a clock is a
  // programming error of whoever assembled it.
  TimestampUs Now() const {
    BORA_CHECK(clock != nullptr) << "ApiContext::clock is not set";
    return clock->NowUs();
  }
};

}  // namespace bora::api
