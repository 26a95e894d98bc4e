#include "ingest/api/cron_triggers_api.h"

#include <memory>
#include <set>
#include <vector>

#include "common/auth/keystone_trusts.h"
#include "common/http/authenticator.h"
#include "common/log.h"
#include "ingest/api/catalog.h"
#include "ingest/api/list_query.h"
#include "ingest/api/mistral_format.h"

namespace bora::api {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using triggers::CronTrigger;
using triggers::kCronTriggerKind;

const std::set<std::string> kFilters = {"id",
                                        "name",
                                        "workflow_name",
                                        "workflow_id",
                                        "workflow_input",
                                        "workflow_params",
                                        "scope",
                                        "pattern",
                                        "remaining_executions",
                                        "first_execution_time",
                                        "next_execution_time",
                                        "created_at",
                                        "updated_at",
                                        "project_id"};

std::string WrongType(std::string_view field, const Json& v, std::string_view expected) {
  return "Invalid input for field/attribute " + std::string(field) + ". Value: '" + PythonStr(v) +
         "'. Wrong type. Expected '" + std::string(expected) + "', got '" +
         std::string(PythonTypeName(v)) + "'";
}

const Json* Field(const JsonObject& o, std::string_view key) {
  const Json* p = o.if_contains(key);
  return (p == nullptr || p->is_null()) ? nullptr : p;
}

Result<std::string> StringField(const JsonObject& o, std::string_view key) {
  const Json* p = Field(o, key);
  if (p == nullptr) return std::string();
  if (!p->is_string()) return InvalidArgument(WrongType(key, *p, "str"));
  return std::string(p->get_string());
}

// A json-typed field: absent/null = {}, an object, or a string holding JSON.
Result<Json> JsonTypedField(const JsonObject& o, std::string_view key) {
  const Json* p = Field(o, key);
  if (p == nullptr) return Json(JsonObject());
  BORA_ASSIGN_OR_RETURN(Json v, JsonFromField(*p, key));
  if (v.is_null()) return Json(JsonObject());
  return v;
}

Result<std::optional<int64_t>> IntField(const JsonObject& o, std::string_view key) {
  const Json* p = Field(o, key);
  if (p == nullptr) return std::optional<int64_t>();
  if (p->is_int64()) return std::optional<int64_t>(p->get_int64());
  return InvalidArgument(WrongType(key, *p, "int"));  // also uint64 beyond int64: out of range
}

// A trust Keystone would not create: 403 when it refused the caller, else 503 (Keystone away or
// failing; the caller cannot fix it).
Status TrustFault(const Status& s) {
  std::string message = "Cannot create a Keystone trust for the cron trigger: " + s.message();
  if (s.code() == StatusCode::kPermissionDenied) return PermissionDenied(message);
  return Unavailable(message);
}

}  // namespace

Json CronTriggerView(const CronTrigger& t) {
  JsonObject o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["workflow_name"] = t.workflow_name;
  o["workflow_id"] = t.workflow_id.empty() ? Json(nullptr) : Json(t.workflow_id);
  o["workflow_input"] = JsonString(t.workflow_input);
  o["workflow_params"] = JsonString(t.workflow_params);
  o["scope"] = t.scope;
  o["pattern"] = t.pattern.empty() ? Json(nullptr) : Json(t.pattern);
  o["remaining_executions"] =
      t.remaining_executions ? Json(*t.remaining_executions) : Json(nullptr);
  o["first_execution_time"] =
      t.first_execution_time ? MistralTime(*t.first_execution_time) : Json(nullptr);
  o["next_execution_time"] = MistralTime(t.next_execution_time);
  o["created_at"] = MistralTime(t.created_at);
  o["updated_at"] = MistralTime(t.updated_at);
  o["project_id"] = t.project_id;
  return o;
}

Result<std::optional<std::pair<std::string, CronTrigger>>> CronTriggersApi::Find(
    const std::string& name_or_id, const Caller& caller) {
  using Found = std::optional<std::pair<std::string, CronTrigger>>;
  const std::string key = engine::QualifiedNamespace(caller.project_id, name_or_id);
  BORA_ASSIGN_OR_RETURN(std::optional<Json> by_name, ctx_.resources->Get(kCronTriggerKind, key));
  if (by_name) {
    BORA_ASSIGN_OR_RETURN(CronTrigger t, CronTrigger::FromRecord(*by_name));
    return Found(std::make_pair(key, std::move(t)));
  }
  BORA_ASSIGN_OR_RETURN(auto all, ctx_.resources->List(kCronTriggerKind));
  for (auto& [k, record] : all) {
    auto t = CronTrigger::FromRecord(record);
    if (t.ok() && (t->id == name_or_id || t->name == name_or_id) && CanRead(caller, record))
      return Found(std::make_pair(k, std::move(*t)));
  }
  return Found();
}

Result<triggers::ResolvedWorkflow> CronTriggersApi::ResolveWorkflow(
    const std::string& name_or_id, const std::string& namespace_name, const Json& input,
    const Caller& caller) {
  triggers::ResolvedWorkflow wf{"", name_or_id, namespace_name};
  auto not_found = [&] {
    return NotFound("Workflow not found [workflow_identifier=" + name_or_id +
                    (namespace_name.empty() ? std::string() : ", namespace=" + namespace_name) +
                    "]");
  };
  if (ctx_.catalog != nullptr) {
    BORA_ASSIGN_OR_RETURN(std::optional<Json> record,
                          ctx_.catalog->GetWorkflow(name_or_id, namespace_name, caller));
    if (!record || !record->is_object()) return not_found();
    const JsonObject& o = record->as_object();
    if (const Json* v = o.if_contains("id"); v && v->is_string())
      wf.id = std::string(v->get_string());
    if (const Json* v = o.if_contains("name"); v && v->is_string())
      wf.name = std::string(v->get_string());
    if (const Json* v = o.if_contains("namespace"); v && v->is_string()) {
      wf.namespace_name = engine::QualifiedNamespace(api::ProjectOf(*record, ctx_.project_id),
                                                     std::string(v->get_string()));
    }
  } else {
    wf.namespace_name = engine::QualifiedNamespace(caller.project_id, namespace_name);
  }
  if (ctx_.engine != nullptr) {
    auto spec = ctx_.engine->ResolveWorkflow(wf.name, "", wf.namespace_name);
    if (!spec) return not_found();
    wf.name = spec->full_name;
    BORA_ASSIGN_OR_RETURN(Json validated, ctx_.engine->ValidateWorkflowInput(*spec, input));
    (void)validated;  // the stored input is the user's; defaults are applied at each start
  } else if (ctx_.catalog == nullptr) {
    return Internal("cron triggers: neither a catalog nor an engine to find workflows with");
  }
  return wf;
}

HttpResponse CronTriggersApi::List(const HttpRequest& original) {
  auto all = ctx_.resources->List(kCronTriggerKind);
  if (!all.ok()) return FaultFrom(all.status());
  std::vector<Json> views;
  views.reserve(all->size());
  for (const auto& [key, record] : *all) {
    auto t = CronTrigger::FromRecord(record);
    if (t.ok()) views.push_back(CronTriggerView(*t));
  }
  // The caller's project's triggers and public ones; all_projects (admins): every project's.
  HttpRequest request = original;
  auto scoped = ProjectScoped(CallerOf(original, ctx_.project_id), &request, std::move(views));
  if (!scoped.ok()) return FaultFrom(scoped.status());
  views = std::move(*scoped);
  auto query = ParseListQuery(request, kFilters, ctx_.limits.max_limit);
  if (!query.ok()) return FaultFrom(query.status());
  auto page = TryApplyListQuery(std::move(views), *query, "cron_triggers", request);
  if (!page.ok()) return FaultFrom(page.status());
  return JsonReply(200, *page);
}

HttpResponse CronTriggersApi::Get(const HttpRequest& request, const std::string& name_or_id) {
  auto found = Find(name_or_id, CallerOf(request, ctx_.project_id));
  if (!found.ok()) return FaultFrom(found.status());
  if (!*found) return Fault(404, "Cron trigger not found [identifier=" + name_or_id + "]");
  return JsonReply(200, CronTriggerView((*found)->second));
}

HttpResponse CronTriggersApi::Create(const HttpRequest& request) {
  auto body = ParseJsonBody(request);
  if (!body.ok()) return FaultFrom(body.status());
  const Caller caller = CallerOf(request, ctx_.project_id);
  triggers::CronTriggerRequest r;
  r.project_id = caller.project_id;
  r.user_id = caller.user_id;
  for (auto [field, out] : {std::pair<const char*, std::string*>{"name", &r.name},
                            {"workflow_name", &r.workflow_name},
                            {"workflow_id", &r.workflow_id},
                            {"workflow_namespace", &r.workflow_namespace},
                            {"pattern", &r.pattern},
                            {"first_execution_time", &r.first_execution_time}}) {
    auto v = StringField(*body, field);
    if (!v.ok()) return FaultFrom(v.status());
    *out = std::move(*v);
  }
  auto scope = StringField(*body, "scope");
  if (!scope.ok()) return FaultFrom(scope.status());
  if (!scope->empty()) r.scope = *scope;
  auto input = JsonTypedField(*body, "workflow_input");
  if (!input.ok()) return FaultFrom(input.status());
  r.workflow_input = std::move(*input);
  auto params = JsonTypedField(*body, "workflow_params");
  if (!params.ok()) return FaultFrom(params.status());
  r.workflow_params = std::move(*params);
  auto remaining = IntField(*body, "remaining_executions");
  if (!remaining.ok()) return FaultFrom(remaining.status());
  r.remaining_executions = *remaining;

  const TimestampUs now = ctx_.Now();
  auto trigger = triggers::NewCronTrigger(
      r, now,
      [this, &caller](const std::string& name_or_id, const std::string& ns, const Json& in) {
        return ResolveWorkflow(name_or_id, ns, in, caller);
      });
  if (!trigger.ok()) return FaultFrom(trigger.status());
  // With Keystone, its runs act as the caller through a trust (Mistral's add_trust_id).
  if (ctx_.trusts != nullptr && request.identity) {
    auto trust = ctx_.trusts->Create(*request.identity, http::RequestToken(request));
    if (!trust.ok()) return FaultFrom(TrustFault(trust.status()));
    trigger->trust_id = std::move(*trust);
  }
  // Names are unique per project (the default project's keys are the plain names).
  auto created = ctx_.resources->Create(
      kCronTriggerKind, engine::QualifiedNamespace(caller.project_id, trigger->name),
      trigger->ToRecord());
  if (!created.ok() || !*created) DeleteTrust(*trigger);  // nothing half-made
  if (!created.ok()) return FaultFrom(created.status());
  if (!*created) {
    return Fault(409, "Duplicate entry for cron trigger ['name', 'project_id']: " + trigger->name +
                          ", " + trigger->project_id);
  }
  return JsonReply(201, CronTriggerView(*trigger));
}

HttpResponse CronTriggersApi::Delete(const HttpRequest& request, const std::string& name_or_id) {
  const Caller caller = CallerOf(request, ctx_.project_id);
  auto found = Find(name_or_id, caller);
  if (!found.ok()) return FaultFrom(found.status());
  if (!*found) return Fault(404, "Cron trigger not found [identifier=" + name_or_id + "]");
  if (Status s = CheckChange(caller, CronTriggerView((*found)->second), "CronTrigger"); !s.ok())
    return FaultFrom(s);
  auto deleted = ctx_.resources->Delete(kCronTriggerKind, (*found)->first);
  if (!deleted.ok()) return FaultFrom(deleted.status());
  if (!*deleted) return Fault(404, "Cron trigger not found [identifier=" + name_or_id + "]");
  DeleteTrust((*found)->second);
  HttpResponse r;
  r.status = 204;
  return r;
}

void CronTriggersApi::DeleteTrust(const CronTrigger& trigger) {
  if (trigger.trust_id.empty() || ctx_.trusts == nullptr) return;
  if (Status s = ctx_.trusts->Delete(trigger.trust_id); !s.ok()) {
    BORA_LOG_WARN("cron trigger '{}' ({}): its trust {} was not deleted: {}", trigger.name,
                  trigger.id, trigger.trust_id, s.ToString());
  }
}

triggers::CronScheduler::TrustTokenHook CronTrustTokens(
    std::shared_ptr<auth::KeystoneTrusts> trusts) {
  return [trusts = std::move(trusts)](
             const std::string& trust_id) -> Result<triggers::CronScheduler::TrustToken> {
    BORA_ASSIGN_OR_RETURN(auth::IssuedToken t, trusts->Token(trust_id));
    return triggers::CronScheduler::TrustToken{t.id,
                                               t.identity.user_id,
                                               t.identity.user_name,
                                               t.identity.project_id,
                                               t.identity.project_name,
                                               t.catalog};
  };
}

void RegisterCronTriggersRoutes(http::Router& router, ApiContext& context) {
  auto api = std::make_shared<CronTriggersApi>(context);
  router.Add("GET", "/v2/cron_triggers",
             [api](const HttpRequest& r, const http::PathParams&) { return api->List(r); });
  router.Add("POST", "/v2/cron_triggers",
             [api](const HttpRequest& r, const http::PathParams&) { return api->Create(r); });
  router.Add("GET", "/v2/cron_triggers/{name_or_id}",
             [api](const HttpRequest& r, const http::PathParams& p) {
               return api->Get(r, p.at("name_or_id"));
             });
  router.Add("DELETE", "/v2/cron_triggers/{name_or_id}",
             [api](const HttpRequest& r, const http::PathParams& p) {
               return api->Delete(r, p.at("name_or_id"));
             });
}

}  // namespace bora::api
