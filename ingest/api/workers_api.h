#pragma once
// The HTTP worker API (Bora's; issue 19): custom actions in any language, against any deployment. A
// worker long-polls for the action executions of the actions it declares, gets each as a lease,
// heartbeats to keep it, and completes it with a result or an error:
//   POST /v2/workers/poll                     {"worker", "pool", "actions": [{"name", "input",
//                                              "description"}], "max", "wait", "lease"}
//                                             -> {"leases": [{"lease_id", "action_execution_id",
//                                                 "action_name", "input", "attempt", "delivery",
//                                                 "execution_id", "workflow_name", "task_name",
//                                                 "timeout_s", "expires_in"}]}
//   POST /v2/workers/leases/{id}/heartbeat    {"extend"} -> {"lease_id", "expires_in"}
//   POST /v2/workers/leases/{id}/complete     {"state": "SUCCESS"|"ERROR", "result"}
//                                             -> {"lease_id", "state", "duplicate"}
//   POST /v2/workers/leases/{id}/release      -> {"lease_id"}   (back to the queue at once)
//   GET  /v2/workers                          -> {"workers": [{"worker", "pool", "actions",
//   "last_seen"}]}
//
// How: declaring an action registers its signature with the pool (ActionRegistry::DeclareExternal),
// so the engine accepts it and sends a task's requests to `bora.actions.<pool>`
// (ActionSignature::pool). The first poll for a pool starts, in this process, an ActionWorker on
// that topic (consumer group `bora-workers.<pool>`, shared with Kafka workers of the pool) whose
// executor is a LeaseQueue: the ActionWorker publishes each completion and commits the request's
// offset only then, so a request whose lease runs out goes to another worker and a request this
// process never finished (it died) is read again by the pool's next consumer. At least once, as on
// Kafka.
//
// Threading: handlers run on the server's threads; a poll that waits is a deferred response (its
// own thread). Shutdown() ends the waiting polls and the pool loops (before the server stops).
#include <chrono>
#include <memory>

#include "common/http/router.h"
#include "ingest/api/api_context.h"

namespace bora::api {

struct WorkersApiOptions {
  std::chrono::milliseconds max_wait{30000};  // a poll's `wait`, at most
  std::chrono::milliseconds default_wait{20000};
  std::chrono::milliseconds default_lease{30000};
  std::chrono::milliseconds max_lease{3600 * 1000};
  size_t max_per_poll = 100;
  size_t max_actions_declared = 1000;  // per poll
};

// Declares the external actions stored by earlier runs (workers/external_actions.h) in
// `context.actions` and creates their pools' topics: tasks of those actions wait for a worker
// instead of failing, before any worker polls again. A bad record is logged and skipped.
Status LoadDeclaredActions(ApiContext& context);

class WorkersApi {
 public:
  WorkersApi(ApiContext& context, WorkersApiOptions options = {});
  ~WorkersApi();
  void Register(http::Router& router);
  void Shutdown();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace bora::api
