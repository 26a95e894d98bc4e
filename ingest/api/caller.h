#pragma once
// Caller: who a REST request acts for, and Mistral's per-project rules over records that carry
// `project_id` and `scope` (mistral/db/v2/sqlalchemy/api.py `_secure_query`, `check_db_obj_access`,
// rest_utils.get_all):
//   - a record is visible to its project, and to every project when its scope is "public";
//     an admin reads any record by id or name;
//   - only its project (or an admin) may change or delete it: another project's public record is
//     403 "Can not access <Model> resource of other projects, ID: <id>", a private one is not
//     found (404);
//   - lists show the caller's project and public records; `all_projects=true` (admins only, else
//     403) or an admin's `project_id=` filter show every project's.
// Without an identity (`--auth none|token`) the caller is the default project with admin rights:
// one tenant, as before projects existed.
#include <string>
#include <vector>

#include "common/http/http_types.h"
#include "common/json.h"
#include "common/status.h"

namespace bora::api {

struct Caller {
  std::string project_id = "<default-project>";
  std::string project_name;
  std::string user_id;
  std::string user_name;
  bool is_admin = true;
  // True when the request carried an identity (`--auth keystone`); resource sharing needs one.
  bool authenticated = false;
  // Ids of the workflows other projects shared with this project and it accepted (Mistral's
  // members, `_get_accepted_resources`); filled by Catalog::WithShares, read by InCallerScope.
  std::vector<std::string> shared_ids;
};

// The caller of `request`: its Keystone identity (project, user, admin role), or the default
// project `default_project` when it has none.
Caller CallerOf(const http::HttpRequest& request, const std::string& default_project);

// The record's project ("project_id"; missing = the default project).
std::string ProjectOf(const Json& record, const std::string& default_project = "<default-project>");

// Mistral's read rule: the caller's project, a public or shared record, or an admin.
bool CanRead(const Caller& caller, const Json& record);

// The caller's own project, a public record, or one shared with it (`shared_ids`): what a list
// shows without all_projects.
bool InCallerScope(const Caller& caller, const Json& record);

// OK when the caller may change or delete `record` (its project, or an admin); else
// kPermissionDenied "Can not access <model> resource of other projects, ID: <id>".
Status CheckChange(const Caller& caller, const Json& record, const std::string& model);

// Applies `all_projects` and the admin `project_id` filter of a list request to `records`: keeps
// the records the caller may list (see above) and returns `request` without `all_projects` (the
// list parameters that follow do not know it). kPermissionDenied when a non-admin asks for
// all_projects.
Result<std::vector<Json>> ProjectScoped(const Caller& caller, http::HttpRequest* request,
                                        std::vector<Json> records);

// The security context actions get for a request (engine::StartExecution::security): with an
// identity {project_id, project_name, user_id, user_name, auth_token (the request's token)}, else
// null (no Keystone).
Json SecurityContext(const http::HttpRequest& request, const Caller& caller);

}  // namespace bora::api
