#include "ingest/api/catalog.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "common/http/fault.h"
#include "common/ids.h"
#include "ingest/api/catalog_internal.h"
#include "ingest/api/mistral_format.h"
#include "ingest/events/event_trigger.h"
#include "orchestrator/language/parser.h"
#include "orchestrator/store/redis_definitions.h"
#include "orchestrator/triggers/cron_trigger.h"

namespace bora::api {

namespace {

using namespace catalog_internal;  // NOLINT(build/namespaces): this module's own helpers

JsonArray Tags(const std::vector<std::string>& tags) {
  JsonArray a;
  for (const auto& t : tags) a.emplace_back(t);
  return a;
}

// Mistral's `input` string: 'a, b="2"' (defaults as json.dumps).
std::string InputString(const std::vector<lang::InputParam>& input) {
  std::string out;
  for (const auto& p : input) {
    if (!out.empty()) out += ", ";
    out += p.name;
    if (p.has_default) out += "=" + PythonJsonDumps(p.default_value);
  }
  return out;
}

JsonArray InterfaceInput(const std::vector<lang::InputParam>& input) {
  JsonArray a;
  for (const auto& p : input) {
    if (p.has_default) {
      a.emplace_back(JsonObject{{p.name, p.default_value}});
    } else {
      a.emplace_back(p.name);
    }
  }
  return a;
}

// Mistral's workflow `checksum`: the MD5 hex digest of the definition text.
std::string Md5Hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &len, EVP_md5(), nullptr) != 1) return {};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

// A stable UUID-shaped id for a name (system actions have no stored record).
std::string StableId(std::string_view name) {
  // A fixed namespace for the ids of records Bora derives (system actions).
  return NameBasedUuid("5b0a7c1e-2f3d-4e6a-8b9c-0d1e2f3a4b5c", name);
}

std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      if (start < text.size()) lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

size_t Indent(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// The block of `text` that starts at the key on 1-based `line` / `column` (block-style YAML): the
// key line and every following line indented deeper (blank and comment lines kept), dedented to
// column 1. Mistral cuts workbook entities the same way. Empty when the key is not where expected
// (flow style).
std::string CutBlock(std::string_view text, int line, int column) {
  auto lines = Lines(text);
  if (line < 1 || static_cast<size_t>(line) > lines.size() || column < 1) return {};
  const std::string& first = lines[line - 1];
  size_t indent = static_cast<size_t>(column - 1);
  if (Indent(first) != indent) return {};
  std::string out = first.substr(indent) + "\n";
  std::string pending;  // blank/comment lines, kept only if the block goes on
  for (size_t i = line; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    size_t first_char = l.find_first_not_of(" \t\r");
    if (first_char == std::string::npos || l[first_char] == '#') {
      pending += (Indent(l) >= indent ? l.substr(std::min(indent, l.size())) : l) + "\n";
      continue;
    }
    if (Indent(l) <= indent) break;
    out += pending + l.substr(indent) + "\n";
    pending.clear();
  }
  return out;
}

Result<lang::Document> ParseKind(std::string_view text, Catalog::DocumentKind kind,
                                 std::vector<lang::ValidationError>* errors = nullptr) {
  lang::ParseOptions po;
  switch (kind) {
    case Catalog::DocumentKind::kWorkflows:
      po.expect = lang::ParseOptions::Expect::kWorkflows;
      break;
    case Catalog::DocumentKind::kWorkbook:
      po.expect = lang::ParseOptions::Expect::kWorkbook;
      break;
    case Catalog::DocumentKind::kActions:
      po.expect = lang::ParseOptions::Expect::kActions;
      break;
  }
  po.max_document_bytes = std::max(po.max_document_bytes, text.size());
  auto doc =
      errors != nullptr ? lang::ParseDocument(text, po, errors) : lang::ParseDocument(text, po);
  // Mistral's DSL errors start with "Invalid DSL: " (clients look for it); ours keep
  // file:line:column.
  if (!doc.ok() && doc.status().code() == StatusCode::kInvalidArgument) {
    return InvalidArgument("Invalid DSL: " + doc.status().message());
  }
  return doc;
}

const char* ModelName(std::string_view kind) {
  if (kind == kWorkflows) return "WorkflowDefinition";
  if (kind == kActions) return "ActionDefinition";
  if (kind == kWorkbooks) return "Workbook";
  return "Environment";
}

Status Duplicate(std::string_view kind, const std::string& name, const std::string& ns,
                 const std::string& project) {
  return AlreadyExists(std::string("Duplicate entry for ") + ModelName(kind) +
                       " ['name', 'namespace', 'project_id']: " + name + ", " + ns + ", " +
                       project);
}

Status Missing(std::string_view kind, const std::string& identifier, const std::string& ns) {
  std::string what = kind == kWorkbooks ? "name" : "identifier";
  return NotFound(std::string(ModelName(kind)) + " not found [" + what + "=" + identifier +
                  ", namespace=" + ns + "]");
}

}  // namespace

// ---- sinks ----

Status MemoryDefinitionsSink::Put(const std::string& document_key, std::string_view,
                                  std::shared_ptr<const lang::Document> document,
                                  const std::string& namespace_name) {
  MutexLock lock(mu_);
  Names fresh;
  for (const auto& wf : document->workflows) fresh.workflows.push_back(wf.full_name);
  for (const auto& a : document->actions) fresh.actions.push_back(a.full_name);
  auto& slot = documents_[{namespace_name, document_key}];
  for (const auto& n : slot.workflows) {
    if (std::find(fresh.workflows.begin(), fresh.workflows.end(), n) == fresh.workflows.end()) {
      definitions_->RemoveWorkflow(n, namespace_name);
    }
  }
  for (const auto& n : slot.actions) {
    if (std::find(fresh.actions.begin(), fresh.actions.end(), n) == fresh.actions.end()) {
      definitions_->RemoveAction(n, namespace_name);
    }
  }
  definitions_->Add(std::move(document), namespace_name);
  slot = std::move(fresh);
  return Status::Ok();
}

Status MemoryDefinitionsSink::Remove(const std::string& document_key,
                                     const std::string& namespace_name) {
  MutexLock lock(mu_);
  auto it = documents_.find({namespace_name, document_key});
  if (it == documents_.end()) return Status::Ok();
  for (const auto& n : it->second.workflows) definitions_->RemoveWorkflow(n, namespace_name);
  for (const auto& n : it->second.actions) definitions_->RemoveAction(n, namespace_name);
  documents_.erase(it);
  return Status::Ok();
}

Status RedisDefinitionsSink::Put(const std::string& document_key, std::string_view yaml_text,
                                 std::shared_ptr<const lang::Document>,
                                 const std::string& namespace_name) {
  return definitions_->Put(document_key, yaml_text, namespace_name);
}

Status RedisDefinitionsSink::Remove(const std::string& document_key,
                                    const std::string& namespace_name) {
  return definitions_->Remove(document_key, namespace_name).status();
}

// ---- catalog ----

// One workflow or ad-hoc action of a document, ready to be stored and registered.
struct Catalog::Entity {
  std::string name;                                // full name ("wb.wf" inside workbooks)
  std::string definition;                          // its own definition text
  std::shared_ptr<const lang::Document> document;  // `definition` parsed (standalone entities)
  Json record;                                     // REST shape without id/timestamps
};

Catalog::Catalog(store::ResourceStore* store, DefinitionsSink* sink, const Clock* clock,
                 const workers::ActionRegistry* actions, CatalogOptions options)
    : store_(store),
      sink_(sink),
      clock_(clock),
      actions_(actions),
      options_(std::move(options)),
      system_actions_time_(clock->NowUs()) {}

Json Catalog::Stamp(Json record, const Json* previous) const {
  auto& obj = record.as_object();
  std::string now = FormatMistralTime(clock_->NowUs());
  if (previous != nullptr) {
    obj["id"] = previous->as_object().at("id");
    obj["created_at"] = previous->as_object().at("created_at");
  } else {
    obj["id"] = NewUuid();
    obj["created_at"] = now;
  }
  obj["updated_at"] = previous != nullptr ? Json(now) : Json(nullptr);
  // Keep Mistral's field order: id first.
  JsonObject ordered;
  ordered["id"] = obj["id"];
  for (const auto& [k, v] : obj) {
    if (k != "id") ordered[k] = v;
  }
  return ordered;
}

Result<std::optional<std::pair<std::string, Json>>> Catalog::FindRecord(
    std::string_view kind, const std::string& name_or_id, const std::string& namespace_name,
    const Caller& who) {
  using Found = std::optional<std::pair<std::string, Json>>;
  // Workflows other projects shared with the caller's (accepted members) read as its own.
  BORA_ASSIGN_OR_RETURN(const Caller caller,
                        kind == kWorkflows ? WithShares(who) : Result<Caller>(who));
  if (IsUuidLike(name_or_id)) {
    BORA_ASSIGN_OR_RETURN(auto all, store_->List(kind));
    for (auto& [k, v] : all) {
      if (Str(v, "id") == name_or_id && CanRead(caller, v))
        return Found(std::make_pair(k, std::move(v)));
    }
  }
  // The caller's project first (the namespace, then the default one)...
  for (const std::string& ns : {namespace_name, std::string()}) {
    std::string key = Key(caller.project_id, ns, name_or_id);
    BORA_ASSIGN_OR_RETURN(auto rec, store_->Get(kind, key));
    if (rec) return Found(std::make_pair(key, std::move(*rec)));
    if (namespace_name.empty()) break;
  }
  // ...then other projects' public records (an admin's lookup reads every project's, as
  // Mistral's `insecure=ctx.is_admin`).
  BORA_ASSIGN_OR_RETURN(auto all, store_->List(kind));
  for (const std::string& ns : {namespace_name, std::string()}) {
    for (auto& [k, v] : all) {
      if (Str(v, "name") == name_or_id && Str(v, "namespace") == ns && CanRead(caller, v))
        return Found(std::make_pair(k, std::move(v)));
    }
    if (namespace_name.empty()) break;
  }
  return Found();
}

Result<std::vector<Json>> Catalog::WriteEntities(std::string_view yaml_text,
                                                 const DefinitionScope& where, DocumentKind kind,
                                                 bool update, const std::string& id) {
  BORA_RETURN_IF_ERROR(CheckScope(where.scope));
  if (yaml_text.size() > options_.max_definition_bytes) {
    return ResourceExhausted("Definition is too large: " + std::to_string(yaml_text.size()) +
                             " bytes (limit " + std::to_string(options_.max_definition_bytes) +
                             ")");
  }
  const bool is_wf = kind == DocumentKind::kWorkflows;
  const std::string_view store_kind = is_wf ? kWorkflows : kActions;
  BORA_ASSIGN_OR_RETURN(lang::Document parsed, ParseKind(yaml_text, kind));
  auto whole = std::make_shared<const lang::Document>(std::move(parsed));
  size_t count = is_wf ? whole->workflows.size() : whole->actions.size();
  if (count == 0)
    return InvalidArgument(is_wf ? "No workflows found in the definition"
                                 : "No actions found in the definition");
  if (!id.empty() && count != 1) {
    return InvalidArgument(std::string("More than one ") + (is_wf ? "workflows" : "actions") +
                           " are not supported for update with identifier. [identifier: " + id +
                           "]");
  }

  // Entities with their own definition texts.
  std::vector<Entity> entities;
  for (size_t i = 0; i < count; ++i) {
    Entity e;
    JsonObject rec;
    const lang::SourceLocation& loc =
        is_wf ? whole->workflows[i].location : whole->actions[i].location;
    e.name = is_wf ? whole->workflows[i].full_name : whole->actions[i].full_name;
    if (count == 1) {
      e.definition = std::string(yaml_text);
      e.document = whole;
    } else {
      std::string block = CutBlock(yaml_text, loc.line, loc.column);
      std::shared_ptr<const lang::Document> own;
      if (!block.empty()) {
        std::string text = "version: '" + whole->version + "'\n\n" + block;
        auto doc = ParseKind(text, kind);
        if (doc.ok() && (is_wf ? doc->workflows.size() : doc->actions.size()) == 1) {
          e.definition = std::move(text);
          own = std::make_shared<const lang::Document>(std::move(doc).value());
        }
      }
      if (own == nullptr) {  // not block style: every entity keeps the whole document
        e.definition = std::string(yaml_text);
        own = whole;
      }
      e.document = std::move(own);
    }
    rec["name"] = e.name;
    rec["namespace"] = where.namespace_name;
    if (is_wf) {
      const auto& wf = whole->workflows[i];
      rec["input"] = InputString(wf.input);
      rec["definition"] = e.definition;
      rec["tags"] = Tags(wf.tags);
      rec["scope"] = where.scope;
      rec["project_id"] = where.caller.project_id;
      JsonArray outputs;
      if (wf.output && wf.output->Source().is_object()) {
        for (const auto& [k, v] : wf.output->Source().as_object()) outputs.emplace_back(k);
      }
      rec["interface"] = JsonObject{{"input", InterfaceInput(wf.input)}, {"output", outputs}};
      rec["checksum"] = Md5Hex(e.definition);
    } else {
      const auto& a = whole->actions[i];
      rec["is_system"] = false;
      rec["input"] = InputString(a.input);
      rec["description"] = a.description;
      rec["tags"] = Tags(a.tags);
      rec["definition"] = e.definition;
      rec["scope"] = where.scope;
      rec["project_id"] = where.caller.project_id;
    }
    e.record = std::move(rec);
    entities.push_back(std::move(e));
  }

  MutexLock lock(write_mu_);
  std::vector<Json> out;
  std::vector<std::string> created;                    // create: keys written
  std::vector<std::pair<std::string, Json>> previous;  // update: (key, record) replaced
  // The project the records belong to: the caller's, or (an admin's update) the record's.
  std::string owner = where.caller.project_id;
  const std::string& project = where.caller.project_id;
  if (!update) {
    for (const auto& e : entities) {
      BORA_ASSIGN_OR_RETURN(auto existing,
                            store_->Get(store_kind, Key(project, where.namespace_name, e.name)));
      if (existing) return Duplicate(store_kind, e.name, where.namespace_name, project);
    }
    for (const auto& e : entities) {
      Json rec = Stamp(e.record, nullptr);
      std::string key = Key(project, where.namespace_name, e.name);
      auto ok = store_->Create(store_kind, key, rec);
      if (!ok.ok() || !*ok) {
        for (const auto& k : created) (void)store_->Delete(store_kind, k);
        if (!ok.ok()) return ok.status();
        return Duplicate(store_kind, e.name, where.namespace_name, project);
      }
      created.push_back(key);
      out.push_back(Public(rec));
    }
  } else {
    // Every target must exist (and not belong to a workbook) before anything is written.
    for (const auto& e : entities) {
      BORA_ASSIGN_OR_RETURN(auto found,
                            id.empty()
                                ? FindRecord(store_kind, e.name, where.namespace_name, where.caller)
                                : FindRecord(store_kind, id, where.namespace_name, where.caller));
      // The identifier is an id, or (Mistral's actions) a name.
      if (found && !id.empty() && Str(found->second, "id") != id && Str(found->second, "name") != id) {
        found.reset();
      }
      if (found && Str(found->second, "namespace") != where.namespace_name && id.empty())
        found.reset();
      if (!found) return Missing(store_kind, id.empty() ? e.name : id, where.namespace_name);
      BORA_RETURN_IF_ERROR(CheckChange(where.caller, found->second, ModelName(store_kind)));
      if (!previous.empty() && ProjectOf(found->second) != owner) {
        return InvalidArgument("The definitions of one document must belong to one project");
      }
      owner = ProjectOf(found->second);
      if (!Str(found->second, "_workbook").empty()) {
        return InvalidArgument(std::string(ModelName(store_kind)) + " " +
                               Str(found->second, "name") + " belongs to workbook " +
                               Str(found->second, "_workbook") + "; update the workbook instead");
      }
      previous.push_back(std::move(*found));
    }
    for (size_t i = 0; i < entities.size(); ++i) {
      auto& e = entities[i];
      const auto& [old_key, old] = previous[i];
      std::string key = Key(owner, where.namespace_name, e.name);
      if (key != old_key) {
        // Renamed through PUT /v2/workflows/{id}: the new name must be free.
        BORA_ASSIGN_OR_RETURN(auto clash, store_->Get(store_kind, key));
        if (clash) return Duplicate(store_kind, e.name, where.namespace_name, owner);
        BORA_RETURN_IF_ERROR(store_->Delete(store_kind, old_key).status());
        BORA_RETURN_IF_ERROR(
            sink_->Remove(std::string(is_wf ? "workflow:" : "action:") + Str(old, "name"),
                          Qualified(owner, Str(old, "namespace"))));
      }
      e.record.as_object()["project_id"] = owner;
      Json rec = Stamp(e.record, &old);
      BORA_RETURN_IF_ERROR(store_->Put(store_kind, key, rec));
      out.push_back(Public(rec));
    }
  }
  const std::string prefix = is_wf ? "workflow:" : "action:";
  for (size_t i = 0; i < entities.size(); ++i) {
    const auto& e = entities[i];
    Status s = sink_->Put(prefix + e.name, e.definition, e.document,
                          Qualified(owner, where.namespace_name));
    if (s.ok()) continue;
    // The engine could not take the document (e.g. Redis unreachable): undo the records, best
    // effort, so the store does not advertise what executions cannot use.
    if (!update) {
      for (size_t j = 0; j < i; ++j)
        (void)sink_->Remove(prefix + entities[j].name, Qualified(owner, where.namespace_name));
      for (const auto& k : created) (void)store_->Delete(store_kind, k);
    } else {
      for (size_t j = 0; j < entities.size(); ++j) {
        const auto& [old_key, old] = previous[j];
        std::string key = Key(owner, where.namespace_name, entities[j].name);
        if (key != old_key) (void)store_->Delete(store_kind, key);
        (void)store_->Put(store_kind, old_key, old);
      }
    }
    return s.WithContext("registering " + e.name + " with the engine");
  }
  return out;
}

Result<std::vector<Json>> Catalog::CreateWorkflows(std::string_view yaml_text,
                                                   const DefinitionScope& where) {
  return WriteEntities(yaml_text, where, DocumentKind::kWorkflows, false, "");
}

Result<std::vector<Json>> Catalog::UpdateWorkflows(std::string_view yaml_text,
                                                   const DefinitionScope& where,
                                                   const std::string& id) {
  return WriteEntities(yaml_text, where, DocumentKind::kWorkflows, true, id);
}

Result<std::optional<Json>> Catalog::GetWorkflow(const std::string& name_or_id,
                                                 const std::string& namespace_name,
                                                 const Caller& caller) {
  BORA_ASSIGN_OR_RETURN(auto found, FindRecord(kWorkflows, name_or_id, namespace_name, caller));
  if (!found) return std::optional<Json>();
  return std::optional<Json>(Public(found->second));
}

Result<std::optional<lang::WorkflowSpec>> Catalog::GetWorkflowSpec(
    const std::string& name_or_id, const std::string& namespace_name, const Caller& caller) {
  using Found = std::optional<lang::WorkflowSpec>;
  BORA_ASSIGN_OR_RETURN(auto found, FindRecord(kWorkflows, name_or_id, namespace_name, caller));
  if (!found) return Found();
  const Json& rec = found->second;
  const std::string name = Str(rec, "name");
  const std::string workbook = Str(rec, "_workbook");
  std::string text = Str(rec, "definition");
  auto kind = DocumentKind::kWorkflows;
  if (!workbook.empty()) {  // the record holds its block only: parse the whole workbook
    BORA_ASSIGN_OR_RETURN(
        auto wb, store_->Get(kWorkbooks, Key(ProjectOf(rec), Str(rec, "namespace"), workbook)));
    if (!wb) return NotFound("Workbook not found [name=" + workbook + "]");
    text = Str(*wb, "definition");
    kind = DocumentKind::kWorkbook;
  }
  BORA_ASSIGN_OR_RETURN(auto doc, ParseKind(text, kind));
  for (auto& wf : doc.workflows) {
    if (wf.full_name == name || wf.name == name) return Found(std::move(wf));
  }
  return NotFound("WorkflowDefinition " + name + " is not in its stored definition");
}

Result<std::vector<Json>> Catalog::ListWorkflows() { return ListPublic(store_, kWorkflows); }

Status Catalog::DeleteWorkflow(const std::string& name_or_id, const std::string& namespace_name,
                               const Caller& caller) {
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto found, FindRecord(kWorkflows, name_or_id, namespace_name, caller));
  if (!found || (!IsUuidLike(name_or_id) && Str(found->second, "namespace") != namespace_name)) {
    return Missing(kWorkflows, name_or_id, namespace_name);
  }
  BORA_RETURN_IF_ERROR(CheckChange(caller, found->second, ModelName(kWorkflows)));
  if (!Str(found->second, "_workbook").empty()) {
    return InvalidArgument("WorkflowDefinition " + Str(found->second, "name") +
                           " belongs to workbook " + Str(found->second, "_workbook") +
                           "; delete or update the workbook instead");
  }
  // As Mistral: a workflow that a cron or event trigger starts is not deleted (400).
  for (const auto& [kind, what] :
       {std::pair<std::string_view, std::string_view>{triggers::kCronTriggerKind, "cron"},
        {events::kEventTriggerKind, "event"}}) {
    BORA_ASSIGN_OR_RETURN(auto records, store_->List(kind));
    std::string ids;
    for (const auto& [key, record] : records) {
      if (!record.is_object()) continue;
      const bool by_id = Str(record, "workflow_id") == found->first ||
                         Str(record, "workflow_id") == Str(found->second, "id");
      const bool by_name = Str(record, "workflow_name") == Str(found->second, "name") &&
                           Str(record, "workflow_namespace") ==
                               Qualified(ProjectOf(found->second), Str(found->second, "namespace"));
      if (by_id || by_name) ids += (ids.empty() ? "" : ", ") + Str(record, "id");
    }
    if (!ids.empty()) {
      return InvalidArgument("Can't delete workflow that has " + std::string(what) +
                             " triggers associated. [workflow_identifier=" + name_or_id + "], [" +
                             std::string(what) + "_trigger_id(s)=" + ids + "]");
    }
  }
  // The engine first: a failed delete must not leave a record whose workflow still runs unseen.
  BORA_RETURN_IF_ERROR(
      sink_->Remove("workflow:" + Str(found->second, "name"),
                    Qualified(ProjectOf(found->second), Str(found->second, "namespace"))));
  BORA_RETURN_IF_ERROR(store_->Delete(kWorkflows, found->first).status());
  // As Mistral: its members go with it.
  return DeleteMembersOf(Str(found->second, "id"));
}

// ---- workbooks ----

Result<Json> Catalog::CreateWorkbook(std::string_view yaml_text, const DefinitionScope& where) {
  return WriteWorkbook(yaml_text, where, false);
}

Result<Json> Catalog::UpdateWorkbook(std::string_view yaml_text, const DefinitionScope& where) {
  return WriteWorkbook(yaml_text, where, true);
}

Result<Json> Catalog::WriteWorkbook(std::string_view yaml_text, const DefinitionScope& where,
                                    bool update) {
  BORA_RETURN_IF_ERROR(CheckScope(where.scope));
  if (yaml_text.size() > options_.max_definition_bytes) {
    return ResourceExhausted("Definition is too large: " + std::to_string(yaml_text.size()) +
                             " bytes (limit " + std::to_string(options_.max_definition_bytes) +
                             ")");
  }
  BORA_ASSIGN_OR_RETURN(lang::Document parsed, ParseKind(yaml_text, DocumentKind::kWorkbook));
  auto doc = std::make_shared<const lang::Document>(std::move(parsed));
  const std::string& ns = where.namespace_name;

  MutexLock lock(write_mu_);
  std::string owner = where.caller.project_id;
  std::optional<Json> previous;
  if (update) {
    BORA_ASSIGN_OR_RETURN(auto found, FindWorkbook(doc->name, ns, where.caller));
    if (!found) return Missing(kWorkbooks, doc->name, ns);
    BORA_RETURN_IF_ERROR(CheckChange(where.caller, found->second, ModelName(kWorkbooks)));
    owner = ProjectOf(found->second);
    previous = std::move(found->second);
  } else {
    BORA_ASSIGN_OR_RETURN(previous, store_->Get(kWorkbooks, Key(owner, ns, doc->name)));
    if (previous) return Duplicate(kWorkbooks, doc->name, ns, owner);
  }
  const std::string wb_key = Key(owner, ns, doc->name);

  // Names the previous version defined (replaced below).
  std::set<std::string> old_workflows, old_actions;
  if (previous) {
    for (const auto& n : previous->as_object().at("_workflows").as_array())
      old_workflows.insert(std::string(n.as_string()));
    for (const auto& n : previous->as_object().at("_actions").as_array())
      old_actions.insert(std::string(n.as_string()));
  }
  // Entity names must not clash with standalone workflows/actions.
  for (const auto& wf : doc->workflows) {
    if (old_workflows.count(wf.full_name)) continue;
    BORA_ASSIGN_OR_RETURN(auto clash, store_->Get(kWorkflows, Key(owner, ns, wf.full_name)));
    if (clash) return Duplicate(kWorkflows, wf.full_name, ns, owner);
  }
  for (const auto& a : doc->actions) {
    if (old_actions.count(a.full_name)) continue;
    BORA_ASSIGN_OR_RETURN(auto clash, store_->Get(kActions, Key(owner, ns, a.full_name)));
    if (clash) return Duplicate(kActions, a.full_name, ns, owner);
  }

  JsonObject rec;
  rec["name"] = doc->name;
  rec["namespace"] = ns;
  rec["definition"] = std::string(yaml_text);
  rec["tags"] = Tags(doc->tags);
  rec["scope"] = where.scope;
  rec["project_id"] = owner;
  JsonArray wf_names, action_names;
  for (const auto& wf : doc->workflows) wf_names.emplace_back(wf.full_name);
  for (const auto& a : doc->actions) action_names.emplace_back(a.full_name);
  rec["_workflows"] = wf_names;
  rec["_actions"] = action_names;
  Json record = Stamp(rec, previous ? &*previous : nullptr);
  if (update) {
    BORA_RETURN_IF_ERROR(store_->Put(kWorkbooks, wb_key, record));
  } else {
    BORA_ASSIGN_OR_RETURN(bool created, store_->Create(kWorkbooks, wb_key, record));
    if (!created) return Duplicate(kWorkbooks, doc->name, ns, owner);
  }
  // Undo log: every store write with what it replaced, so a failure part-way (or a sink that
  // refuses the document) leaves the store as it was (best effort).
  struct Undo {
    std::string_view kind;
    std::string key;
    std::optional<Json> before;
  };
  std::vector<Undo> undo{{kWorkbooks, wb_key, previous}};
  auto fail = [&](Status s) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (it->before) {
        (void)store_->Put(it->kind, it->key, *it->before);
      } else {
        (void)store_->Delete(it->kind, it->key);
      }
    }
    return s;
  };

  // The workbook's workflows and actions as their own records ("<wb>.<name>").
  auto entity_record = [&](std::string_view kind, const std::string& full_name,
                           const lang::SourceLocation& loc, JsonObject fields) -> Status {
    std::string key = Key(owner, ns, full_name);
    BORA_ASSIGN_OR_RETURN(auto old, store_->Get(kind, key));
    fields["name"] = full_name;
    fields["namespace"] = ns;
    std::string block = CutBlock(yaml_text, loc.line, loc.column);
    fields["definition"] = block.empty() ? std::string(yaml_text) : block;
    if (kind == kWorkflows) fields["checksum"] = Md5Hex(fields["definition"].as_string());
    fields["scope"] = where.scope;
    fields["project_id"] = owner;
    fields["_workbook"] = doc->name;
    undo.push_back({kind, key, old});
    return store_->Put(kind, key, Stamp(fields, old ? &*old : nullptr));
  };
  for (const auto& wf : doc->workflows) {
    JsonArray outputs;
    if (wf.output && wf.output->Source().is_object()) {
      for (const auto& [k, v] : wf.output->Source().as_object()) outputs.emplace_back(k);
    }
    JsonObject f;
    f["input"] = InputString(wf.input);
    f["tags"] = Tags(wf.tags);
    f["interface"] = JsonObject{{"input", InterfaceInput(wf.input)}, {"output", outputs}};
    Status s = entity_record(kWorkflows, wf.full_name, wf.location, std::move(f));
    if (!s.ok()) return fail(s);
    old_workflows.erase(wf.full_name);
  }
  for (const auto& a : doc->actions) {
    JsonObject f;
    f["is_system"] = false;
    f["input"] = InputString(a.input);
    f["description"] = a.description;
    f["tags"] = Tags(a.tags);
    Status s = entity_record(kActions, a.full_name, a.location, std::move(f));
    if (!s.ok()) return fail(s);
    old_actions.erase(a.full_name);
  }
  // Entities the previous version had and this one does not.
  for (auto [kind, names] :
       {std::pair{kWorkflows, &old_workflows}, std::pair{kActions, &old_actions}}) {
    for (const auto& n : *names) {
      auto old = store_->Get(kind, Key(owner, ns, n));
      if (!old.ok()) return fail(old.status());
      undo.push_back({kind, Key(owner, ns, n), *old});
      auto deleted = store_->Delete(kind, Key(owner, ns, n));
      if (!deleted.ok()) return fail(deleted.status());
    }
  }
  Status s = sink_->Put("workbook:" + doc->name, yaml_text, doc, Qualified(owner, ns));
  if (!s.ok()) return fail(s.WithContext("registering workbook " + doc->name + " with the engine"));
  return Public(record);
}

Result<std::optional<std::pair<std::string, Json>>> Catalog::FindWorkbook(
    const std::string& name, const std::string& namespace_name, const Caller& caller) {
  using Found = std::optional<std::pair<std::string, Json>>;
  std::string key = Key(caller.project_id, namespace_name, name);
  BORA_ASSIGN_OR_RETURN(auto rec, store_->Get(kWorkbooks, key));
  if (rec) return Found(std::make_pair(key, std::move(*rec)));
  BORA_ASSIGN_OR_RETURN(auto all, store_->List(kWorkbooks));
  for (auto& [k, v] : all) {
    if (Str(v, "name") == name && Str(v, "namespace") == namespace_name && CanRead(caller, v))
      return Found(std::make_pair(k, std::move(v)));
  }
  return Found();
}

Result<std::optional<Json>> Catalog::GetWorkbook(const std::string& name,
                                                 const std::string& namespace_name,
                                                 const Caller& caller) {
  BORA_ASSIGN_OR_RETURN(auto found, FindWorkbook(name, namespace_name, caller));
  if (!found) return std::optional<Json>();
  return std::optional<Json>(Public(found->second));
}

Result<std::vector<Json>> Catalog::ListWorkbooks() { return ListPublic(store_, kWorkbooks); }

Status Catalog::DeleteWorkbook(const std::string& name, const std::string& namespace_name,
                               const Caller& caller) {
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto found, FindWorkbook(name, namespace_name, caller));
  if (!found) return Missing(kWorkbooks, name, namespace_name);
  const auto& [key, rec] = *found;
  BORA_RETURN_IF_ERROR(CheckChange(caller, rec, ModelName(kWorkbooks)));
  const std::string owner = ProjectOf(rec);
  BORA_RETURN_IF_ERROR(sink_->Remove("workbook:" + name, Qualified(owner, namespace_name)));
  for (const auto& n : rec.as_object().at("_workflows").as_array()) {
    BORA_RETURN_IF_ERROR(
        store_->Delete(kWorkflows, Key(owner, namespace_name, std::string(n.as_string())))
            .status());
  }
  for (const auto& n : rec.as_object().at("_actions").as_array()) {
    BORA_RETURN_IF_ERROR(
        store_->Delete(kActions, Key(owner, namespace_name, std::string(n.as_string()))).status());
  }
  return store_->Delete(kWorkbooks, key).status();
}

// ---- actions ----

Result<std::vector<Json>> Catalog::CreateActions(std::string_view yaml_text,
                                                 const DefinitionScope& where) {
  return WriteEntities(yaml_text, where, DocumentKind::kActions, false, "");
}

Result<std::vector<Json>> Catalog::UpdateActions(std::string_view yaml_text,
                                                 const DefinitionScope& where,
                                                 const std::string& id) {
  return WriteEntities(yaml_text, where, DocumentKind::kActions, true, id);
}

std::vector<Json> Catalog::SystemActions() const {
  std::vector<Json> out;
  if (actions_ == nullptr) return out;
  Json when(FormatMistralTime(system_actions_time_));
  for (const auto& name : actions_->Names()) {
    const workers::ActionSignature* sig = actions_->FindSignature(name);
    std::string input;
    if (sig != nullptr) {
      for (const auto& p : sig->params) {
        if (!input.empty()) input += ", ";
        input += p.name;
        if (!p.required) input += "=" + PythonJsonDumps(p.default_value);
      }
    }
    JsonObject rec;
    rec["id"] = StableId("action:" + name);
    rec["name"] = name;
    rec["namespace"] = "";
    rec["is_system"] = true;
    rec["input"] = input;
    rec["description"] = sig != nullptr ? sig->description : std::string();
    rec["tags"] = JsonArray();
    rec["definition"] = nullptr;
    rec["scope"] = "public";
    rec["project_id"] = options_.project_id;
    rec["created_at"] = when;
    rec["updated_at"] = nullptr;
    out.emplace_back(std::move(rec));
  }
  return out;
}

Result<std::optional<Json>> Catalog::GetAction(const std::string& name_or_id,
                                               const std::string& namespace_name,
                                               const Caller& caller) {
  BORA_ASSIGN_OR_RETURN(auto found, FindRecord(kActions, name_or_id, namespace_name, caller));
  if (found) return std::optional<Json>(Public(found->second));
  for (auto& rec : SystemActions()) {
    if (Str(rec, "name") == name_or_id || Str(rec, "id") == name_or_id)
      return std::optional<Json>(rec);
  }
  return std::optional<Json>();
}

Result<std::vector<Json>> Catalog::ListActions() {
  BORA_ASSIGN_OR_RETURN(auto out, ListPublic(store_, kActions));
  for (auto& rec : SystemActions()) out.push_back(std::move(rec));
  return out;
}

Status Catalog::DeleteAction(const std::string& name_or_id, const std::string& namespace_name,
                             const Caller& caller) {
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto found, FindRecord(kActions, name_or_id, namespace_name, caller));
  if (!found || (!IsUuidLike(name_or_id) && Str(found->second, "namespace") != namespace_name)) {
    for (const auto& rec : SystemActions()) {
      if (Str(rec, "name") == name_or_id || Str(rec, "id") == name_or_id) {
        return InvalidArgument("Attempt to delete a system action: " + name_or_id);
      }
    }
    return Missing(kActions, name_or_id, namespace_name);
  }
  BORA_RETURN_IF_ERROR(CheckChange(caller, found->second, ModelName(kActions)));
  if (!Str(found->second, "_workbook").empty()) {
    return InvalidArgument("ActionDefinition " + Str(found->second, "name") +
                           " belongs to workbook " + Str(found->second, "_workbook") +
                           "; delete or update the workbook instead");
  }
  BORA_RETURN_IF_ERROR(
      sink_->Remove("action:" + Str(found->second, "name"),
                    Qualified(ProjectOf(found->second), Str(found->second, "namespace"))));
  return store_->Delete(kActions, found->first).status();
}

// ---- misc ----

Json Catalog::Validate(std::string_view yaml_text, DocumentKind kind) const {
  if (yaml_text.size() > options_.max_definition_bytes) {
    return JsonObject{
        {"valid", false},
        {"error", "Definition is too large: " + std::to_string(yaml_text.size()) + " bytes"}};
  }
  std::vector<lang::ValidationError> errors;
  auto doc = ParseKind(yaml_text, kind, &errors);
  if (doc.ok()) return JsonObject{{"valid", true}, {"error", nullptr}};
  // Bora's addition: each problem where it is, for editors and the console to mark the line.
  JsonArray located;
  for (const auto& e : errors) {
    // Messages quote snippets of the text, cut to a length (possibly inside a UTF-8 sequence), and
    // names from it: the reply stays valid UTF-8 (found by tests/fuzz).
    JsonObject o{{"line", e.location.line},
                 {"column", e.location.column},
                 {"message", http::ValidUtf8(e.message)}};
    if (!e.workflow.empty()) o["workflow"] = http::ValidUtf8(e.workflow);
    if (!e.task.empty()) o["task"] = http::ValidUtf8(e.task);
    located.emplace_back(std::move(o));
  }
  return JsonObject{{"valid", false},
                    {"error", http::ValidUtf8(doc.status().message())},
                    {"errors", std::move(located)}};
}

Status Catalog::Reload() {
  MutexLock lock(write_mu_);
  BORA_ASSIGN_OR_RETURN(auto workbooks, store_->List(kWorkbooks));
  for (const auto& [key, rec] : workbooks) {
    std::string text = Str(rec, "definition");
    auto doc = ParseKind(text, DocumentKind::kWorkbook);
    if (!doc.ok()) return doc.status().WithContext("stored workbook " + Str(rec, "name"));
    BORA_RETURN_IF_ERROR(sink_->Put("workbook:" + Str(rec, "name"), text,
                                    std::make_shared<const lang::Document>(std::move(doc).value()),
                                    Qualified(ProjectOf(rec), Str(rec, "namespace"))));
  }
  for (auto [kind, prefix, doc_kind] :
       {std::tuple{kWorkflows, "workflow:", DocumentKind::kWorkflows},
        std::tuple{kActions, "action:", DocumentKind::kActions}}) {
    BORA_ASSIGN_OR_RETURN(auto all, store_->List(kind));
    for (const auto& [key, rec] : all) {
      if (!Str(rec, "_workbook").empty()) continue;  // registered with its workbook
      std::string text = Str(rec, "definition");
      auto doc = ParseKind(text, doc_kind);
      if (!doc.ok()) return doc.status().WithContext("stored definition " + Str(rec, "name"));
      BORA_RETURN_IF_ERROR(
          sink_->Put(prefix + Str(rec, "name"), text,
                     std::make_shared<const lang::Document>(std::move(doc).value()),
                     Qualified(ProjectOf(rec), Str(rec, "namespace"))));
    }
  }
  return Status::Ok();
}

}  // namespace bora::api
