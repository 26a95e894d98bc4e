#include "ingest/api/caller.h"

#include <algorithm>

#include "common/http/authenticator.h"

namespace bora::api {

namespace {

std::string StrField(const Json& record, std::string_view field) {
  const auto* obj = record.if_object();
  if (obj == nullptr) return {};
  const auto* v = obj->if_contains(field);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

bool Truthy(const std::string& v) {
  std::string l;
  for (char c : v) l += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return l == "true" || l == "1" || l == "yes" || l == "on";
}

}  // namespace

Caller CallerOf(const http::HttpRequest& request, const std::string& default_project) {
  Caller c;
  c.project_id = default_project;
  if (!request.identity) return c;
  const http::Identity& id = *request.identity;
  if (!id.project_id.empty()) c.project_id = id.project_id;
  c.project_name = id.project_name;
  c.user_id = id.user_id;
  c.user_name = id.user_name;
  c.is_admin = id.is_admin;
  c.authenticated = true;
  return c;
}

std::string ProjectOf(const Json& record, const std::string& default_project) {
  std::string p = StrField(record, "project_id");
  return p.empty() ? default_project : p;
}

bool InCallerScope(const Caller& caller, const Json& record) {
  if (ProjectOf(record) == caller.project_id || StrField(record, "scope") == "public") return true;
  if (caller.shared_ids.empty()) return false;
  const std::string id = StrField(record, "id");
  return std::find(caller.shared_ids.begin(), caller.shared_ids.end(), id) !=
         caller.shared_ids.end();
}

bool CanRead(const Caller& caller, const Json& record) {
  return caller.is_admin || InCallerScope(caller, record);
}

Status CheckChange(const Caller& caller, const Json& record, const std::string& model) {
  if (caller.is_admin || ProjectOf(record) == caller.project_id) return Status::Ok();
  return PermissionDenied("Can not access " + model +
                          " resource of other projects, ID: " + StrField(record, "id"));
}

Result<std::vector<Json>> ProjectScoped(const Caller& caller, http::HttpRequest* request,
                                        std::vector<Json> records) {
  bool all_projects = false;
  bool project_filter = false;
  for (const auto& [k, v] : request->query) {
    if (k == "all_projects") all_projects = all_projects || Truthy(v);
    if (k == "project_id") project_filter = true;
  }
  std::erase_if(request->query, [](const auto& kv) { return kv.first == "all_projects"; });
  // Mistral's policy `*:list:all_projects` is admin_only.
  if (all_projects && !caller.is_admin) {
    return PermissionDenied("Operation forbidden (insufficient permissions)");
  }
  if (all_projects || (caller.is_admin && project_filter)) return records;
  std::erase_if(records, [&](const Json& r) { return !InCallerScope(caller, r); });
  return records;
}

Json SecurityContext(const http::HttpRequest& request, const Caller& caller) {
  if (!request.identity) return nullptr;
  return JsonObject{{"project_id", caller.project_id},
                    {"project_name", caller.project_name},
                    {"user_id", caller.user_id},
                    {"user_name", caller.user_name},
                    {"auth_token", http::RequestToken(request)}};
}

}  // namespace bora::api
