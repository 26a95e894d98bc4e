#pragma once
// Catalog: Bora's definitions as Mistral's REST API sees them: workbooks, workflows, ad-hoc actions
// and environments, each a record in Mistral's REST shape (id, name, namespace, definition, scope,
// project_id, created_at, updated_at, ...), kept in a ResourceStore; workflow and action documents
// are also handed to the engine's definitions (through a DefinitionsSink) so executions can use
// them at once (in every process, in distributed mode).
//
// Records (all JSON objects, as GET returns them except that json-typed fields are plain JSON here:
// the environment's `variables` is an object; the REST layer encodes it as a string):
//   workflow    {id, name, namespace, input ('a, b="2"'), definition, tags, scope, project_id,
//                created_at, updated_at, interface {input, output}, checksum (MD5 of definition)}
//   workbook    {id, name, namespace, definition, tags, scope, project_id, created_at, updated_at}
//   action      {id, name, namespace, is_system, input, description, tags, definition, scope,
//                project_id, created_at, updated_at}; system actions (from the ActionRegistry) are
//                listed with is_system true, definition null, and cannot be changed or deleted.
//   environment {id, name, description, variables (object), scope, project_id, created_at,
//                updated_at}
// updated_at is null until the first update (as Mistral's).
//
// Projects: every record belongs to the project that created it (`project_id`, the caller's) and
// is private or public (`scope`); each read, change and delete takes the Caller and follows
// Mistral's rules (caller.h): names are unique per (name, namespace, project), lookups find the
// caller's project's record first, then a public one of another project (an admin: any).
//
// Storage: ResourceStore kinds "workflows", "workbooks", "actions" (key "<ns>\x1f<name>"),
// "environments" (key "<ns>" + name with an empty namespace) and "resource_members" (key
// "<resource_id>\x1f<resource_type>\x1f<member_id>"), where <ns> is the namespace
// qualified by the project (engine::QualifiedNamespace: the plain namespace for the default
// project). Fields starting with '_' are internal (e.g. `_workbook`) and
// never returned. Documents go to the sink under "workflow:<name>", "action:<name>" (each
// workflow/action of a multi-entity document as its own single-entity document) and
// "workbook:<name>".
//
// Errors: invalid YAML/DSL kInvalidArgument "Invalid DSL: <input>:line:column: ..." (the parser's
// message); duplicates kAlreadyExists ("Duplicate entry for WorkflowDefinition ..."); unknown names
// kNotFound ("WorkflowDefinition not found [...]"); the API maps them with FaultFrom (400/409/404).
//
// Not checked (differs from Mistral): deleting a workflow that executions, cron or event triggers
// still use.
//
// Ownership: nothing is owned; the store, sink, clock and registry must outlive the Catalog.
// Thread-safety: all methods may be called from any thread; a Catalog-wide mutex serialises writes
// within the process (between processes the store's atomic Create keeps names unique).
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/json.h"
#include "common/status.h"
#include "common/thread_annotations.h"
#include "ingest/api/caller.h"
#include "orchestrator/engine/engine.h"
#include "orchestrator/store/resource_store.h"
#include "workers/action.h"

namespace bora::store {
class RedisDefinitions;
}

namespace bora::api {

// Where the Catalog registers workflow and ad-hoc action documents for the engine. A document is
// stored under a key; putting a key again replaces that document (workflows/actions it no longer
// defines go away). Implementations must be thread-safe.
class DefinitionsSink {
 public:
  virtual ~DefinitionsSink() = default;
  // Registers the document `yaml_text` (already validated; `document` is it parsed) under
  // `document_key` in `namespace_name`, replacing what that key held.
  virtual Status Put(const std::string& document_key, std::string_view yaml_text,
                     std::shared_ptr<const lang::Document> document,
                     const std::string& namespace_name) = 0;
  // Unregisters the document under `document_key` (nothing if unknown).
  virtual Status Remove(const std::string& document_key, const std::string& namespace_name) = 0;
};

// Embedded mode: engine::MemoryDefinitions (not owned). Remembers which names each key defined.
class MemoryDefinitionsSink final : public DefinitionsSink {
 public:
  explicit MemoryDefinitionsSink(engine::MemoryDefinitions* definitions)
      : definitions_(definitions) {}
  Status Put(const std::string& document_key, std::string_view yaml_text,
             std::shared_ptr<const lang::Document> document,
             const std::string& namespace_name) override;
  Status Remove(const std::string& document_key, const std::string& namespace_name) override;

 private:
  struct Names {
    std::vector<std::string> workflows, actions;
  };
  engine::MemoryDefinitions* definitions_;
  Mutex mu_;
  // (namespace, key) -> names
  std::map<std::pair<std::string, std::string>, Names> documents_ GUARDED_BY(mu_);
};

// Distributed mode: store::RedisDefinitions (not owned); every process sees changes via its version
// counter.
class RedisDefinitionsSink final : public DefinitionsSink {
 public:
  explicit RedisDefinitionsSink(store::RedisDefinitions* definitions) : definitions_(definitions) {}
  Status Put(const std::string& document_key, std::string_view yaml_text,
             std::shared_ptr<const lang::Document> document,
             const std::string& namespace_name) override;
  Status Remove(const std::string& document_key, const std::string& namespace_name) override;

 private:
  store::RedisDefinitions* definitions_;
};

struct CatalogOptions {
  std::string project_id = "<default-project>";  // the project of the system actions (public)
  size_t max_definition_bytes = 1 << 20;  // larger documents: kResourceExhausted
};

// What a definition write carries besides the YAML.
struct DefinitionScope {
  std::string namespace_name;     // "" = the default namespace
  std::string scope = "private";  // "private" | "public" (others: kInvalidArgument)
  Caller caller;                  // who writes: the project records are created in
};

class Catalog {
 public:
  // `actions` (may be null) provides the system actions listed under /v2/actions.
  Catalog(store::ResourceStore* store, DefinitionsSink* sink, const Clock* clock,
          const workers::ActionRegistry* actions = nullptr, CatalogOptions options = {});
  virtual ~Catalog() = default;

  // Re-registers every stored workflow, workbook and ad-hoc action with the sink (start-up of an
  // embedded server whose store outlives the process, or a fresh MemoryDefinitions).
  Status Reload();

  // ---- workflows ----
  // Creates one record per workflow of the document. All or nothing: any duplicate name is
  // kAlreadyExists.
  Result<std::vector<Json>> CreateWorkflows(std::string_view yaml_text,
                                            const DefinitionScope& where);
  // Replaces existing workflows (each must exist: kNotFound). With `id`, the document must hold
  // exactly one workflow and the record with that id is replaced (its name may change).
  Result<std::vector<Json>> UpdateWorkflows(std::string_view yaml_text,
                                            const DefinitionScope& where,
                                            const std::string& id = "");
  // The workflow record (REST shape, as GET /v2/workflows/{id} returns it) by name or id in
  // `namespace_name` (Mistral's lookup: the namespace first, then the default namespace ""), or
  // nullopt.
  virtual Result<std::optional<Json>> GetWorkflow(const std::string& name_or_id,
                                                  const std::string& namespace_name,
                                                  const Caller& caller = Caller());
  Result<std::vector<Json>> ListWorkflows();
  // The parsed workflow a record holds (a workbook's workflow: parsed from its workbook).
  Result<std::optional<lang::WorkflowSpec>> GetWorkflowSpec(const std::string& name_or_id,
                                                            const std::string& namespace_name,
                                                            const Caller& caller = Caller());
  // kNotFound if unknown; kInvalidArgument for a workflow defined by a workbook (delete the
  // workbook).
  // Another project's record: kPermissionDenied (public) or kNotFound (private), as Mistral.
  Status DeleteWorkflow(const std::string& name_or_id, const std::string& namespace_name,
                        const Caller& caller = Caller());

  // ---- workbooks ----
  Result<Json> CreateWorkbook(std::string_view yaml_text, const DefinitionScope& where);
  Result<Json> UpdateWorkbook(std::string_view yaml_text, const DefinitionScope& where);
  Result<std::optional<Json>> GetWorkbook(const std::string& name,
                                          const std::string& namespace_name,
                                          const Caller& caller = Caller());
  Result<std::vector<Json>> ListWorkbooks();
  Status DeleteWorkbook(const std::string& name, const std::string& namespace_name,
                        const Caller& caller = Caller());

  // ---- actions (ad-hoc; system actions are read-only) ----
  Result<std::vector<Json>> CreateActions(std::string_view yaml_text, const DefinitionScope& where);
  // As UpdateWorkflows (with `id`: one action, the record with that id).
  Result<std::vector<Json>> UpdateActions(std::string_view yaml_text, const DefinitionScope& where,
                                          const std::string& id = "");
  Result<std::optional<Json>> GetAction(const std::string& name_or_id,
                                        const std::string& namespace_name,
                                        const Caller& caller = Caller());
  // Ad-hoc actions, then system actions.
  Result<std::vector<Json>> ListActions();
  // kInvalidArgument for a system action or one defined by a workbook.
  Status DeleteAction(const std::string& name_or_id, const std::string& namespace_name,
                      const Caller& caller = Caller());

  // ---- environments ----
  // `body`: {name (required), description?, variables? (object or a JSON string), scope?}.
  Result<Json> CreateEnvironment(const JsonObject& body, const Caller& caller = Caller());
  // `body` names the environment; the fields present replace the stored ones.
  Result<Json> UpdateEnvironment(const JsonObject& body, const Caller& caller = Caller());
  // The environment record {name, description, variables (object), scope, ...} or nullopt.
  virtual Result<std::optional<Json>> GetEnvironment(const std::string& name,
                                                     const Caller& caller = Caller());
  Result<std::vector<Json>> ListEnvironments();
  Status DeleteEnvironment(const std::string& name, const Caller& caller = Caller());

  // ---- members: workflows shared with other projects (catalog_members.cc) ----
  // Mistral's resource members of workflows {id, resource_id, resource_type "workflow",
  // project_id (the workflow's project), member_id, status pending|accepted|rejected, created_at,
  // updated_at}; unique per (resource_id, resource_type, member_id). Every method needs an
  // authenticated caller (kInvalidArgument "Resource sharing feature can only be supported with
  // authentication enabled.", as Mistral without auth).
  // The owner project (or an admin) of a private workflow shares it: a pending member.
  Result<Json> CreateMember(const std::string& workflow_id, const std::string& member_id,
                            const Caller& caller);
  // The owner project sees every member of its workflow, a member project its own; others none.
  Result<std::vector<Json>> ListMembers(const std::string& workflow_id, const Caller& caller);
  Result<Json> GetMember(const std::string& workflow_id, const std::string& member_id,
                         const Caller& caller);
  // Only the member project sets its status (accepted|rejected|pending).
  Result<Json> UpdateMember(const std::string& workflow_id, const std::string& member_id,
                            const std::string& status, const Caller& caller);
  // Only the owner project removes a member.
  Status DeleteMember(const std::string& workflow_id, const std::string& member_id,
                      const Caller& caller);
  // `caller` with `shared_ids`: the workflows shared with its project that it accepted (none
  // without an identity or for an admin, who reads everything anyway).
  Result<Caller> WithShares(Caller caller);

  // ---- validation ----
  enum class DocumentKind { kWorkflows, kWorkbook, kActions };
  // {"valid": true, "error": null} or {"valid": false, "error": "<parser message>", "errors":
  // [{"line", "column", "message", "workflow"?, "task"?}]} (Mistral's validate endpoints; `errors`,
  // each problem where it is, is Bora's addition).
  Json Validate(std::string_view yaml_text, DocumentKind kind) const;

 private:
  struct Entity;  // one workflow or action of a document (catalog.cc)

  Result<std::vector<Json>> WriteEntities(std::string_view yaml_text, const DefinitionScope& where,
                                          DocumentKind kind, bool update, const std::string& id);
  // (store key, record) of the record the caller reads as `name_or_id` (Mistral's lookup).
  Result<std::optional<std::pair<std::string, Json>>> FindRecord(std::string_view kind,
                                                                 const std::string& name_or_id,
                                                                 const std::string& namespace_name,
                                                                 const Caller& caller);
  Result<std::optional<std::pair<std::string, Json>>> FindWorkbook(
      const std::string& name, const std::string& namespace_name, const Caller& caller);
  Result<std::optional<std::pair<std::string, Json>>> FindEnvironment(const std::string& name,
                                                                      const Caller& caller);
  Result<Json> WriteWorkbook(std::string_view yaml_text, const DefinitionScope& where, bool update);
  std::vector<Json> SystemActions() const;
  Json Stamp(Json record, const Json* previous) const;
  // Removes every member record of workflow `workflow_id` (the workflow is deleted).
  Status DeleteMembersOf(const std::string& workflow_id);

  store::ResourceStore* store_;
  DefinitionsSink* sink_;
  const Clock* clock_;
  const workers::ActionRegistry* actions_;
  CatalogOptions options_;
  TimestampUs system_actions_time_;
  Mutex write_mu_;  // serialises the writes (read-modify-writes of the store); guards no member
};

}  // namespace bora::api
