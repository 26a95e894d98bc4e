#include "ingest/api/definitions_api.h"

#include <optional>
#include <set>
#include <string>

#include "common/ids.h"
#include "ingest/api/caller.h"
#include "ingest/api/catalog.h"
#include "ingest/api/list_query.h"
#include "ingest/api/mistral_format.h"
#include "ingest/api/workflow_graph.h"

namespace bora::api {

namespace {

using http::HttpRequest;
using http::HttpResponse;
using http::PathParams;

// Where clients reach the server (set by the HTTP server from its configuration, never from the
// Host header); empty without a server, which makes the links relative.
std::string HostUrl(const HttpRequest& r) { return r.base_url; }

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.body.clear();
  return r;
}

Caller CallerOf(const HttpRequest& r, const ApiContext& ctx) {
  return api::CallerOf(r, ctx.project_id);
}

DefinitionScope ScopeOf(const HttpRequest& r, const ApiContext& ctx) {
  DefinitionScope where;
  where.namespace_name = r.Query("namespace");
  where.scope = r.Query("scope", "private");
  where.caller = CallerOf(r, ctx);
  return where;
}

// 413 for a definition over the limit, else nullopt.
std::optional<HttpResponse> TooLarge(const HttpRequest& r, const ApiContext& ctx) {
  if (r.body.size() <= ctx.limits.max_definition_bytes) return std::nullopt;
  return Fault(413, "Definition is too large: " + std::to_string(r.body.size()) + " bytes (limit " +
                        std::to_string(ctx.limits.max_definition_bytes) + ")");
}

// A list as the caller sees it: its project's records and public ones (all_projects: caller.h).
// Workflows: also those shared with the caller's project (accepted members).
HttpResponse ListReply(const HttpRequest& request, const ApiContext& ctx,
                       Result<std::vector<Json>> records, const std::set<std::string>& filterable,
                       const std::string& collection, Json (*shape)(const Json&) = nullptr) {
  if (!records.ok()) return FaultFrom(records.status());
  HttpRequest r = request;
  auto caller = collection == "workflows" ? ctx.catalog->WithShares(CallerOf(request, ctx))
                                          : Result<Caller>(CallerOf(request, ctx));
  if (!caller.ok()) return FaultFrom(caller.status());
  auto scoped = ProjectScoped(*caller, &r, std::move(records).value());
  if (!scoped.ok()) return FaultFrom(scoped.status());
  auto query = ParseListQuery(r, filterable, ctx.limits.max_limit);
  if (!query.ok()) return FaultFrom(query.status());
  std::vector<Json> shaped = std::move(scoped).value();
  if (shape != nullptr) {
    for (auto& rec : shaped) rec = shape(rec);
  }
  // Checked as Mistral does: a `fields` name no record has is a 400, not a null member.
  auto page = TryApplyListQuery(std::move(shaped), *query, collection, r);
  if (!page.ok()) return FaultFrom(page.status());
  return JsonReply(200, *page);
}

Json Collection(const std::string& name, const std::vector<Json>& records) {
  JsonArray a(records.begin(), records.end());
  return JsonObject{{name, std::move(a)}};
}

// Environments as the API returns them: `variables` JSON-encoded.
Json EnvironmentShape(const Json& record) {
  Json out = record;
  auto& obj = out.as_object();
  if (auto* vars = obj.if_contains("variables")) *vars = JsonString(*vars);
  return out;
}

const std::set<std::string> kWorkbookFilters = {"id",         "name",       "namespace",
                                                "definition", "tags",       "scope",
                                                "project_id", "created_at", "updated_at"};
const std::set<std::string> kWorkflowFilters = {
    "id",   "name",  "namespace",  "input",      "definition",
    "tags", "scope", "project_id", "created_at", "updated_at"};
const std::set<std::string> kActionFilters = {"id",    "name",        "namespace",  "is_system",
                                              "input", "description", "definition", "tags",
                                              "scope", "project_id",  "created_at", "updated_at"};
const std::set<std::string> kEnvironmentFilters = {
    "id", "name", "description", "variables", "scope", "project_id", "created_at", "updated_at"};

void RegisterRoot(http::Router& router, ApiContext&) {
  router.Add("GET", "/", [](const HttpRequest& r, const PathParams&) {
    // Mistral answers a bare list: [{"id": "v2.0", "status": "CURRENT", "link": {"href",
    // "target"}}].
    JsonObject link{{"href", HostUrl(r) + "/v2"}, {"target", "v2"}};
    JsonObject v2{{"id", "v2.0"}, {"status", "CURRENT"}, {"link", link}};
    return JsonReply(200, JsonArray{v2});
  });
  router.Add("GET", "/v2", [](const HttpRequest& r, const PathParams&) {
    return JsonReply(200, JsonObject{{"uri", HostUrl(r) + "/v2"}});
  });
  router.Add("GET", "/info", [](const HttpRequest&, const PathParams&) {
    return JsonReply(200,
                     JsonObject{{"name", "bora"},
                                {"description",
                                 "Bora: an event-driven workflow orchestrator that "
                                 "runs Mistral workflows"},
                                {"api", JsonObject{{"v2", "Mistral REST API v2 compatible"}}}});
  });
}

void RegisterWorkbooks(http::Router& router, ApiContext& ctx) {
  Catalog* c = ctx.catalog;
  router.Add("GET", "/v2/workbooks", [c, &ctx](const HttpRequest& r, const PathParams&) {
    return ListReply(r, ctx, c->ListWorkbooks(), kWorkbookFilters, "workbooks");
  });
  router.Add("GET", "/v2/workbooks/{name}", [c, &ctx](const HttpRequest& r, const PathParams& p) {
    std::string ns = r.Query("namespace");
    auto wb = c->GetWorkbook(p.at("name"), ns, CallerOf(r, ctx));
    if (!wb.ok()) return FaultFrom(wb.status());
    if (!*wb)
      return Fault(404, "Workbook not found [name=" + p.at("name") + ", namespace=" + ns + "]");
    return JsonReply(200, **wb);
  });
  auto write = [c, &ctx](bool update) {
    return [c, &ctx, update](const HttpRequest& r, const PathParams&) {
      if (auto big = TooLarge(r, ctx)) return *big;
      auto wb = update ? c->UpdateWorkbook(r.body, ScopeOf(r, ctx))
                       : c->CreateWorkbook(r.body, ScopeOf(r, ctx));
      if (!wb.ok()) return FaultFrom(wb.status());
      return JsonReply(update ? 200 : 201, *wb);
    };
  };
  router.Add("POST", "/v2/workbooks", write(false));
  router.Add("PUT", "/v2/workbooks", write(true));
  router.Add("DELETE", "/v2/workbooks/{name}",
             [c, &ctx](const HttpRequest& r, const PathParams& p) {
               Status s = c->DeleteWorkbook(p.at("name"), r.Query("namespace"), CallerOf(r, ctx));
               return s.ok() ? NoContent() : FaultFrom(s);
             });
  router.Add("POST", "/v2/workbooks/validate", [c, &ctx](const HttpRequest& r, const PathParams&) {
    if (auto big = TooLarge(r, ctx)) return *big;
    return JsonReply(200, c->Validate(r.body, Catalog::DocumentKind::kWorkbook));
  });
}

void RegisterWorkflows(http::Router& router, ApiContext& ctx) {
  Catalog* c = ctx.catalog;
  router.Add("GET", "/v2/workflows", [c, &ctx](const HttpRequest& r, const PathParams&) {
    return ListReply(r, ctx, c->ListWorkflows(), kWorkflowFilters, "workflows");
  });
  router.Add(
      "GET", "/v2/workflows/{identifier}", [c, &ctx](const HttpRequest& r, const PathParams& p) {
        std::string ns = r.Query("namespace");
        auto wf = c->GetWorkflow(p.at("identifier"), ns, CallerOf(r, ctx));
        if (!wf.ok()) return FaultFrom(wf.status());
        if (!*wf) {
          return Fault(404, "WorkflowDefinition not found [identifier=" + p.at("identifier") +
                                ", namespace=" + ns + "]");
        }
        return JsonReply(200, **wf);
      });
  router.Add(
      "GET", "/v2/workflows/{identifier}/graph",
      [c, &ctx](const HttpRequest& r, const PathParams& p) {
        std::string ns = r.Query("namespace");
        auto spec = c->GetWorkflowSpec(p.at("identifier"), ns, CallerOf(r, ctx));
        if (!spec.ok()) return FaultFrom(spec.status());
        if (!*spec) {
          return Fault(404, "WorkflowDefinition not found [identifier=" + p.at("identifier") +
                                ", namespace=" + ns + "]");
        }
        return JsonReply(200, WorkflowGraph(**spec, ns));
      });
  router.Add("POST", "/v2/workflows", [c, &ctx](const HttpRequest& r, const PathParams&) {
    if (auto big = TooLarge(r, ctx)) return *big;
    auto wfs = c->CreateWorkflows(r.body, ScopeOf(r, ctx));
    if (!wfs.ok()) return FaultFrom(wfs.status());
    return JsonReply(201, Collection("workflows", *wfs));
  });
  router.Add("PUT", "/v2/workflows", [c, &ctx](const HttpRequest& r, const PathParams&) {
    if (auto big = TooLarge(r, ctx)) return *big;
    auto wfs = c->UpdateWorkflows(r.body, ScopeOf(r, ctx));
    if (!wfs.ok()) return FaultFrom(wfs.status());
    return JsonReply(200, Collection("workflows", *wfs));
  });
  router.Add("PUT", "/v2/workflows/{identifier}",
             [c, &ctx](const HttpRequest& r, const PathParams& p) {
               if (auto big = TooLarge(r, ctx)) return *big;
               auto wfs = c->UpdateWorkflows(r.body, ScopeOf(r, ctx), p.at("identifier"));
               if (!wfs.ok()) return FaultFrom(wfs.status());
               return JsonReply(200, wfs->front());
             });
  router.Add(
      "DELETE", "/v2/workflows/{identifier}", [c, &ctx](const HttpRequest& r, const PathParams& p) {
        Status s = c->DeleteWorkflow(p.at("identifier"), r.Query("namespace"), CallerOf(r, ctx));
        return s.ok() ? NoContent() : FaultFrom(s);
      });
  router.Add("POST", "/v2/workflows/validate", [c, &ctx](const HttpRequest& r, const PathParams&) {
    if (auto big = TooLarge(r, ctx)) return *big;
    return JsonReply(200, c->Validate(r.body, Catalog::DocumentKind::kWorkflows));
  });
}

// The string field `name` of the request's JSON body ("" when absent or null).
Result<std::string> StringBodyField(const HttpRequest& r, const char* name) {
  BORA_ASSIGN_OR_RETURN(JsonObject body, ParseJsonBody(r));
  const Json* v = body.if_contains(name);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) {
    return InvalidArgument(std::string("Invalid input for field/attribute ") + name +
                           ": not a string");
  }
  return std::string(v->as_string());
}

// Mistral's resource members of workflows (`mistral member-*`): the workflow's id (a UUID, as
// Mistral) in the path.
void RegisterWorkflowMembers(http::Router& router, ApiContext& ctx) {
  Catalog* c = ctx.catalog;
  // 400 unless the identifier is a UUID (Mistral's WorkflowsController._lookup).
  auto not_uuid = [](const PathParams& p) -> std::optional<HttpResponse> {
    if (IsUuidLike(p.at("identifier"))) return std::nullopt;
    return Fault(400, "Only support UUID as resource identifier in resource sharing feature.");
  };
  router.Add("GET", "/v2/workflows/{identifier}/members",
             [c, &ctx, not_uuid](const HttpRequest& r, const PathParams& p) {
               if (auto bad = not_uuid(p)) return *bad;
               auto members = c->ListMembers(p.at("identifier"), CallerOf(r, ctx));
               if (!members.ok()) return FaultFrom(members.status());
               return JsonReply(200, Collection("members", *members));
             });
  router.Add("POST", "/v2/workflows/{identifier}/members",
             [c, &ctx, not_uuid](const HttpRequest& r, const PathParams& p) {
               if (auto bad = not_uuid(p)) return *bad;
               auto member_id = StringBodyField(r, "member_id");
               if (!member_id.ok()) return FaultFrom(member_id.status());
               auto m = c->CreateMember(p.at("identifier"), *member_id, CallerOf(r, ctx));
               if (!m.ok()) return FaultFrom(m.status());
               return JsonReply(201, *m);
             });
  router.Add("GET", "/v2/workflows/{identifier}/members/{member_id}",
             [c, &ctx, not_uuid](const HttpRequest& r, const PathParams& p) {
               if (auto bad = not_uuid(p)) return *bad;
               auto m = c->GetMember(p.at("identifier"), p.at("member_id"), CallerOf(r, ctx));
               if (!m.ok()) return FaultFrom(m.status());
               return JsonReply(200, *m);
             });
  router.Add("PUT", "/v2/workflows/{identifier}/members/{member_id}",
             [c, &ctx, not_uuid](const HttpRequest& r, const PathParams& p) {
               if (auto bad = not_uuid(p)) return *bad;
               auto status = StringBodyField(r, "status");
               if (!status.ok()) return FaultFrom(status.status());
               auto m = c->UpdateMember(p.at("identifier"), p.at("member_id"), *status,
                                        CallerOf(r, ctx));
               if (!m.ok()) return FaultFrom(m.status());
               return JsonReply(200, *m);
             });
  router.Add("DELETE", "/v2/workflows/{identifier}/members/{member_id}",
             [c, &ctx, not_uuid](const HttpRequest& r, const PathParams& p) {
               if (auto bad = not_uuid(p)) return *bad;
               Status s = c->DeleteMember(p.at("identifier"), p.at("member_id"), CallerOf(r, ctx));
               return s.ok() ? NoContent() : FaultFrom(s);
             });
}

void RegisterActions(http::Router& router, ApiContext& ctx) {
  Catalog* c = ctx.catalog;
  router.Add("GET", "/v2/actions", [c, &ctx](const HttpRequest& r, const PathParams&) {
    return ListReply(r, ctx, c->ListActions(), kActionFilters, "actions");
  });
  router.Add("GET", "/v2/actions/{identifier}",
             [c, &ctx](const HttpRequest& r, const PathParams& p) {
               std::string ns = r.Query("namespace");
               auto a = c->GetAction(p.at("identifier"), ns, CallerOf(r, ctx));
               if (!a.ok()) return FaultFrom(a.status());
               if (!*a) {
                 return Fault(404, "ActionDefinition not found [identifier=" + p.at("identifier") +
                                       ", namespace=" + ns + "]");
               }
               return JsonReply(200, **a);
             });
  auto write = [c, &ctx](bool update) {
    return [c, &ctx, update](const HttpRequest& r, const PathParams&) {
      if (auto big = TooLarge(r, ctx)) return *big;
      auto as = update ? c->UpdateActions(r.body, ScopeOf(r, ctx))
                       : c->CreateActions(r.body, ScopeOf(r, ctx));
      if (!as.ok()) return FaultFrom(as.status());
      return JsonReply(update ? 200 : 201, Collection("actions", *as));
    };
  };
  router.Add("POST", "/v2/actions", write(false));
  router.Add("PUT", "/v2/actions", write(true));
  router.Add("PUT", "/v2/actions/{identifier}",
             [c, &ctx](const HttpRequest& r, const PathParams& p) {
               if (auto big = TooLarge(r, ctx)) return *big;
               auto as = c->UpdateActions(r.body, ScopeOf(r, ctx), p.at("identifier"));
               if (!as.ok()) return FaultFrom(as.status());
               return JsonReply(200, Collection("actions", *as));
             });
  router.Add(
      "DELETE", "/v2/actions/{identifier}", [c, &ctx](const HttpRequest& r, const PathParams& p) {
        Status s = c->DeleteAction(p.at("identifier"), r.Query("namespace"), CallerOf(r, ctx));
        return s.ok() ? NoContent() : FaultFrom(s);
      });
  router.Add("POST", "/v2/actions/validate", [c, &ctx](const HttpRequest& r, const PathParams&) {
    if (auto big = TooLarge(r, ctx)) return *big;
    return JsonReply(200, c->Validate(r.body, Catalog::DocumentKind::kActions));
  });
}

void RegisterEnvironments(http::Router& router, ApiContext& ctx) {
  Catalog* c = ctx.catalog;
  router.Add("GET", "/v2/environments", [c, &ctx](const HttpRequest& r, const PathParams&) {
    return ListReply(r, ctx, c->ListEnvironments(), kEnvironmentFilters, "environments",
                     &EnvironmentShape);
  });
  router.Add("GET", "/v2/environments/{name}",
             [c, &ctx](const HttpRequest& r, const PathParams& p) {
               auto env = c->GetEnvironment(p.at("name"), CallerOf(r, ctx));
               if (!env.ok()) return FaultFrom(env.status());
               if (!*env) return Fault(404, "Environment not found [name=" + p.at("name") + "]");
               return JsonReply(200, EnvironmentShape(**env));
             });
  auto write = [c, &ctx](bool update) {
    return [c, &ctx, update](const HttpRequest& r, const PathParams&) {
      auto body = ParseJsonBody(r);
      if (!body.ok()) return FaultFrom(body.status());
      auto env = update ? c->UpdateEnvironment(*body, CallerOf(r, ctx))
                        : c->CreateEnvironment(*body, CallerOf(r, ctx));
      if (!env.ok()) return FaultFrom(env.status());
      return JsonReply(update ? 200 : 201, EnvironmentShape(*env));
    };
  };
  router.Add("POST", "/v2/environments", write(false));
  router.Add("PUT", "/v2/environments", write(true));
  router.Add("DELETE", "/v2/environments/{name}",
             [c, &ctx](const HttpRequest& r, const PathParams& p) {
               Status s = c->DeleteEnvironment(p.at("name"), CallerOf(r, ctx));
               return s.ok() ? NoContent() : FaultFrom(s);
             });
}

}  // namespace

void RegisterDefinitionsRoutes(http::Router& router, ApiContext& ctx) {
  RegisterRoot(router, ctx);
  RegisterWorkbooks(router, ctx);
  RegisterWorkflows(router, ctx);
  RegisterWorkflowMembers(router, ctx);
  RegisterActions(router, ctx);
  RegisterEnvironments(router, ctx);
}

}  // namespace bora::api
