#pragma once
// Mistral REST v2 cron triggers (../shared/mistral-spec.md §5-6):
//   GET    /v2/cron_triggers               list (marker, limit, sort_keys, sort_dirs, fields,
//                                          filters)
//   GET    /v2/cron_triggers/{name_or_id}
//   POST   /v2/cron_triggers               201; {name, workflow_name | workflow_id,
//                                          workflow_namespace?, workflow_input, workflow_params
//                                          (objects or JSON strings), pattern,
//                                          first_execution_time "YYYY-MM-DD HH:MM",
//                                          remaining_executions, scope}; 400/404/409 like Mistral
//   DELETE /v2/cron_triggers/{name_or_id}  204
// With Keystone (ApiContext::trusts), POST creates a trust from the caller to Bora's service user
// first (a refusal is 403, Keystone away 503, and no trigger is made); its runs act as the caller
// with tokens of it; DELETE deletes it (best effort, logged). The trust id is stored with the
// trigger, never shown. There is no PUT (as in Mistral). Records live in ApiContext::resources
// (kind "cron_trigger", key = name; see orchestrator/triggers/cron_trigger.h); the orchestrators
// owning the triggers' partitions fire them (orchestrator/triggers/cron_scheduler.h) and see new
// ones within a second.
//
// Ownership: the handlers keep a reference to the ApiContext, which must outlive them (and the
// router). Thread-safety: every handler may run on any server thread concurrently.
#include <memory>
#include <string>

#include "common/http/http_types.h"
#include "common/http/router.h"
#include "common/json.h"
#include "ingest/api/api_context.h"
#include "ingest/api/caller.h"
#include "orchestrator/triggers/cron_scheduler.h"
#include "orchestrator/triggers/cron_trigger.h"

namespace bora::api {

// The REST shape: {id, name, workflow_name, workflow_id, workflow_input, workflow_params (JSON
// strings), scope, pattern, remaining_executions, first_execution_time, next_execution_time,
// created_at, updated_at, project_id}; times "YYYY-MM-DD HH:MM:SS", absent values null.
Json CronTriggerView(const triggers::CronTrigger& trigger);

// The handlers, callable directly (tests) or through the routes RegisterCronTriggersRoutes adds.
class CronTriggersApi {
 public:
  explicit CronTriggersApi(ApiContext& context) : ctx_(context) {}

  http::HttpResponse List(const http::HttpRequest& request);
  http::HttpResponse Get(const http::HttpRequest& request, const std::string& name_or_id);
  http::HttpResponse Create(const http::HttpRequest& request);
  http::HttpResponse Delete(const http::HttpRequest& request, const std::string& name_or_id);

 private:
  // The stored (key, trigger) the caller reads as `name_or_id`: by name in its project, then by
  // id or name among those it may read (caller.h); nullopt if none.
  Result<std::optional<std::pair<std::string, triggers::CronTrigger>>> Find(
      const std::string& name_or_id, const Caller& caller);
  // Finds the workflow through the catalog (id, name, namespace) and validates the input with the
  // engine.
  // The resolved namespace is qualified by the definition's project.
  Result<triggers::ResolvedWorkflow> ResolveWorkflow(const std::string& name_or_id,
                                                     const std::string& namespace_name,
                                                     const Json& input, const Caller& caller);
  // Deletes the trigger's Keystone trust, if it has one (best effort: a failure is logged).
  void DeleteTrust(const triggers::CronTrigger& trigger);

  ApiContext& ctx_;
};

void RegisterCronTriggersRoutes(http::Router& router, ApiContext& context);

// The scheduler's source of trust tokens (CronScheduler::SetTrustTokenHook): `trusts`' cached
// tokens and the trustor they act as.
triggers::CronScheduler::TrustTokenHook CronTrustTokens(
    std::shared_ptr<auth::KeystoneTrusts> trusts);

}  // namespace bora::api
