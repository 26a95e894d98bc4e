// Catalog: environments (Mistral's /v2/environments records).
#include "ingest/api/catalog.h"
#include "ingest/api/catalog_internal.h"
#include "ingest/api/mistral_format.h"

namespace bora::api {

using namespace catalog_internal;  // NOLINT(build/namespaces): this module's own helpers

// ---- environments ----

namespace {

Status ApplyEnvironmentFields(const JsonObject& body, JsonObject* rec) {
  for (const auto& [k, v] : body) {
    if (k == "name" || k == "id" || k == "created_at" || k == "updated_at" || k == "project_id")
      continue;
    if (k == "description") {
      if (!v.is_string() && !v.is_null())
        return InvalidArgument("Environment description must be a string");
      (*rec)["description"] = v;
    } else if (k == "variables") {
      auto vars = JsonFromField(v, "variables");
      if (!vars.ok()) return vars.status();
      if (!vars->is_object() && !vars->is_null()) {
        return InvalidArgument("Environment variables must be a JSON object");
      }
      (*rec)["variables"] = vars->is_null() ? Json(JsonObject()) : *vars;
    } else if (k == "scope") {
      if (!v.is_string()) return InvalidArgument("Environment scope must be a string");
      BORA_RETURN_IF_ERROR(CheckScope(std::string(v.as_string())));
      (*rec)["scope"] = v;
    } else {
      return InvalidArgument("Unknown environment field: " + std::string(k));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Json> Catalog::CreateEnvironment(const JsonObject& body, const Caller& caller) {
  const auto* name = body.if_contains("name");
  if (name == nullptr || !name->is_string() || name->as_string().empty()) {
    return InvalidArgument("Environment name is required (a non-empty string)");
  }
  JsonObject rec;
  rec["name"] = *name;
  rec["description"] = "";
  rec["variables"] = JsonObject();
  rec["scope"] = "private";
  rec["project_id"] = caller.project_id;
  BORA_RETURN_IF_ERROR(ApplyEnvironmentFields(body, &rec));
  std::string key = Qualified(caller.project_id, std::string(name->as_string()));
  MutexLock lock(write_mu_);
  Json record = Stamp(rec, nullptr);
  BORA_ASSIGN_OR_RETURN(bool created, store_->Create(kEnvironments, key, record));
  if (!created) {
    return AlreadyExists("Duplicate entry for Environment ['name', 'project_id']: " +
                         std::string(name->as_string()) + ", " + caller.project_id);
  }
  return record;
}

Result<Json> Catalog::UpdateEnvironment(const JsonObject& body, const Caller& caller) {
  const auto* name = body.if_contains("name");
  if (name == nullptr || !name->is_string() || name->as_string().empty()) {
    return InvalidArgument("Environment name is required (a non-empty string)");
  }
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto found, FindEnvironment(std::string(name->as_string()), caller));
  if (!found)
    return NotFound("Environment not found [name=" + std::string(name->as_string()) + "]");
  BORA_RETURN_IF_ERROR(CheckChange(caller, found->second, "Environment"));
  const std::string key = found->first;
  std::optional<Json> previous = std::move(found->second);
  JsonObject rec = previous->as_object();
  BORA_RETURN_IF_ERROR(ApplyEnvironmentFields(body, &rec));
  Json record = Stamp(rec, &*previous);
  BORA_RETURN_IF_ERROR(store_->Put(kEnvironments, key, record));
  return record;
}

Result<std::optional<std::pair<std::string, Json>>> Catalog::FindEnvironment(
    const std::string& name, const Caller& caller) {
  using Found = std::optional<std::pair<std::string, Json>>;
  const std::string key = Qualified(caller.project_id, name);
  BORA_ASSIGN_OR_RETURN(auto rec, store_->Get(kEnvironments, key));
  if (rec) return Found(std::make_pair(key, std::move(*rec)));
  // By id, or another project's public environment (any, for an admin).
  BORA_ASSIGN_OR_RETURN(auto all, store_->List(kEnvironments));
  for (auto& [k, v] : all) {
    if ((Str(v, "id") == name || Str(v, "name") == name) && CanRead(caller, v))
      return Found(std::make_pair(k, std::move(v)));
  }
  return Found();
}

Result<std::optional<Json>> Catalog::GetEnvironment(const std::string& name, const Caller& caller) {
  BORA_ASSIGN_OR_RETURN(auto found, FindEnvironment(name, caller));
  if (!found) return std::optional<Json>();
  return std::optional<Json>(Public(found->second));
}

Result<std::vector<Json>> Catalog::ListEnvironments() { return ListPublic(store_, kEnvironments); }

Status Catalog::DeleteEnvironment(const std::string& name, const Caller& caller) {
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto found, FindEnvironment(name, caller));
  if (!found) return NotFound("Environment not found [name=" + name + "]");
  BORA_RETURN_IF_ERROR(CheckChange(caller, found->second, "Environment"));
  BORA_ASSIGN_OR_RETURN(bool deleted, store_->Delete(kEnvironments, found->first));
  if (!deleted) return NotFound("Environment not found [name=" + name + "]");
  return Status::Ok();
}

}  // namespace bora::api
