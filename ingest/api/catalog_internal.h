#pragma once
// What catalog.cc and catalog_environments.cc share: the store's kinds and keys, and the record
// helpers. Internal to ingest/api's Catalog.
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"
#include "orchestrator/engine/project_namespace.h"
#include "orchestrator/store/resource_store.h"

namespace bora::api::catalog_internal {

constexpr char kSep = '\x1f';
constexpr std::string_view kWorkflows = "workflows";
constexpr std::string_view kWorkbooks = "workbooks";
constexpr std::string_view kActions = "actions";
constexpr std::string_view kEnvironments = "environments";
constexpr std::string_view kMembers = "resource_members";

inline std::string Key(const std::string& ns, const std::string& name) { return ns + kSep + name; }

// Store keys and engine namespaces of a project's definitions (orchestrator/engine/
// project_namespace.h): the default project's are the plain namespace, as before projects existed.
inline std::string Qualified(const std::string& project, const std::string& ns) {
  return engine::QualifiedNamespace(project, ns);
}
inline std::string Key(const std::string& project, const std::string& ns, const std::string& name) {
  return Key(Qualified(project, ns), name);
}

inline std::string Str(const Json& record, std::string_view field) {
  const auto* obj = record.if_object();
  if (obj == nullptr) return {};
  const auto* v = obj->if_contains(field);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The record without internal ('_') fields.
inline Json Public(const Json& record) {
  JsonObject out;
  for (const auto& [k, v] : record.as_object()) {
    if (!k.empty() && k[0] == '_') continue;
    out[k] = v;
  }
  return out;
}

inline Status CheckScope(const std::string& scope) {
  if (scope == "private" || scope == "public") return Status::Ok();
  return InvalidArgument("Scope must be one of the following: ['private', 'public']; actual: " +
                         scope);
}

inline Result<std::vector<Json>> ListPublic(store::ResourceStore* store, std::string_view kind) {
  BORA_ASSIGN_OR_RETURN(auto all, store->List(kind));
  std::vector<Json> out;
  out.reserve(all.size());
  for (const auto& [k, v] : all) out.push_back(Public(v));
  return out;
}

}  // namespace bora::api::catalog_internal
