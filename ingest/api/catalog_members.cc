// Catalog: resource members (Mistral's workflow sharing, mistral/api/controllers/v2/member.py and
// the resource member functions of mistral/db/v2/sqlalchemy/api.py).
#include <algorithm>

#include "common/ids.h"
#include "ingest/api/catalog.h"
#include "ingest/api/catalog_internal.h"

namespace bora::api {

using namespace catalog_internal;  // NOLINT(build/namespaces): this module's own helpers

namespace {

constexpr char kWorkflowType[] = "workflow";

std::string MemberKey(const std::string& resource_id, const std::string& member_id) {
  return resource_id + kSep + kWorkflowType + kSep + member_id;
}

Status CheckAuthenticated(const Caller& caller) {
  if (caller.authenticated) return Status::Ok();
  return InvalidArgument(
      "Resource sharing feature can only be supported with authentication enabled.");
}

Status MemberMissing(const std::string& resource_id, const std::string& member_id) {
  return NotFound("Resource member not found [resource_id=" + resource_id +
                  ", member_id=" + member_id + "]");
}

// Mistral's `_get_criterion`: the owner project reads every member of its resource, a member
// project its own membership.
bool Sees(const Caller& caller, const Json& member) {
  return Str(member, "project_id") == caller.project_id ||
         Str(member, "member_id") == caller.project_id;
}

}  // namespace

Result<Json> Catalog::CreateMember(const std::string& workflow_id, const std::string& member_id,
                                   const Caller& caller) {
  BORA_RETURN_IF_ERROR(CheckAuthenticated(caller));
  if (member_id.empty()) return InvalidArgument("Member id must be provided.");
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto found, FindRecord(kWorkflows, workflow_id, "", caller));
  if (!found || Str(found->second, "id") != workflow_id) {
    return NotFound("Workflow not found [workflow_identifier=" + workflow_id + ", namespace=]");
  }
  const Json& wf = found->second;
  if (Str(wf, "scope") != "private") {
    return InvalidArgument("Only private resource could be shared.");
  }
  // Mistral lets any project that reads the workflow share it; only its owner (or an admin) may.
  BORA_RETURN_IF_ERROR(CheckChange(caller, wf, "WorkflowDefinition"));
  const std::string owner = ProjectOf(wf);
  if (member_id == owner) {
    return InvalidArgument("A workflow can not be shared with its own project: " + member_id);
  }
  JsonObject rec{{"resource_id", workflow_id},
                 {"resource_type", kWorkflowType},
                 {"project_id", owner},
                 {"member_id", member_id},
                 {"status", "pending"}};
  Json member = Stamp(rec, nullptr);
  BORA_ASSIGN_OR_RETURN(bool created,
                        store_->Create(kMembers, MemberKey(workflow_id, member_id), member));
  if (!created) {
    return AlreadyExists(
        "Duplicate entry for ResourceMember ['resource_id', 'resource_type', 'member_id']: " +
        workflow_id + ", " + kWorkflowType + ", " + member_id);
  }
  return member;
}

Result<std::vector<Json>> Catalog::ListMembers(const std::string& workflow_id,
                                               const Caller& caller) {
  BORA_RETURN_IF_ERROR(CheckAuthenticated(caller));
  BORA_ASSIGN_OR_RETURN(auto all, store_->List(kMembers));
  std::vector<Json> out;
  for (auto& [key, rec] : all) {
    if (Str(rec, "resource_id") == workflow_id && Sees(caller, rec)) out.push_back(std::move(rec));
  }
  return out;
}

Result<Json> Catalog::GetMember(const std::string& workflow_id, const std::string& member_id,
                                const Caller& caller) {
  BORA_RETURN_IF_ERROR(CheckAuthenticated(caller));
  BORA_ASSIGN_OR_RETURN(auto rec, store_->Get(kMembers, MemberKey(workflow_id, member_id)));
  if (!rec || !Sees(caller, *rec)) return MemberMissing(workflow_id, member_id);
  return std::move(*rec);
}

Result<Json> Catalog::UpdateMember(const std::string& workflow_id, const std::string& member_id,
                                   const std::string& status, const Caller& caller) {
  BORA_RETURN_IF_ERROR(CheckAuthenticated(caller));
  if (status.empty()) return InvalidArgument("Status must be provided.");
  if (status != "pending" && status != "accepted" && status != "rejected") {
    return InvalidArgument("Invalid input for field/attribute status. Value: '" + status +
                           "'. Value should be one of: pending, accepted, rejected");
  }
  // Only the member project sets the status of its membership.
  if (member_id != caller.project_id) return MemberMissing(workflow_id, member_id);
  MutexLock lock(write_mu_);
  const std::string key = MemberKey(workflow_id, member_id);
  BORA_ASSIGN_OR_RETURN(auto rec, store_->Get(kMembers, key));
  if (!rec) return MemberMissing(workflow_id, member_id);
  JsonObject fields = rec->as_object();
  fields["status"] = status;
  Json updated = Stamp(fields, &*rec);
  BORA_RETURN_IF_ERROR(store_->Put(kMembers, key, updated));
  return updated;
}

Status Catalog::DeleteMember(const std::string& workflow_id, const std::string& member_id,
                             const Caller& caller) {
  BORA_RETURN_IF_ERROR(CheckAuthenticated(caller));
  MutexLock lock(write_mu_);
  const std::string key = MemberKey(workflow_id, member_id);
  BORA_ASSIGN_OR_RETURN(auto rec, store_->Get(kMembers, key));
  // Only the owner project removes a member (Mistral's `_get_criterion(is_owner=True)`).
  if (!rec || Str(*rec, "project_id") != caller.project_id) {
    return MemberMissing(workflow_id, member_id);
  }
  return store_->Delete(kMembers, key).status();
}

Status Catalog::DeleteMembersOf(const std::string& workflow_id) {
  BORA_ASSIGN_OR_RETURN(auto all, store_->List(kMembers));
  for (const auto& [key, rec] : all) {
    if (Str(rec, "resource_id") == workflow_id) {
      BORA_RETURN_IF_ERROR(store_->Delete(kMembers, key).status());
    }
  }
  return Status::Ok();
}

Result<Caller> Catalog::WithShares(Caller caller) {
  caller.shared_ids.clear();
  if (!caller.authenticated || caller.is_admin) return caller;
  BORA_ASSIGN_OR_RETURN(auto all, store_->List(kMembers));
  for (const auto& [key, rec] : all) {
    if (Str(rec, "member_id") == caller.project_id && Str(rec, "status") == "accepted" &&
        Str(rec, "resource_type") == kWorkflowType) {
      caller.shared_ids.push_back(Str(rec, "resource_id"));
    }
  }
  return caller;
}

}  // namespace bora::api
