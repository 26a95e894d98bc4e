#pragma once
// Catalog: Bora's definitions as Mistral's REST API sees them: workbooks, workflows, ad-hoc actions and
// environments, each a record in Mistral's REST shape (id, name, namespace, definition, scope, project_id,
// created_at, updated_at, ...), kept in a ResourceStore; workflow and action documents are also handed to the
// engine's definitions so executions can use them at once (in every process, in distributed mode).
//
// Thread-safety: all methods may be called from any thread.
// (Work in progress: the full API is being written; the two lookups below are what other resources use.)
#include <optional>
#include <string>

#include "common/json.h"
#include "common/status.h"

namespace bora::api {

class Catalog {
 public:
  virtual ~Catalog() = default;
  // The workflow record (REST shape, as GET /v2/workflows/{id} returns it) by name or id in `namespace_name`
  // (Mistral's lookup: the namespace first, then the default namespace ""), or nullopt.
  virtual Result<std::optional<Json>> GetWorkflow(const std::string& name_or_id,
                                                  const std::string& namespace_name) = 0;
  // The environment record {name, description, variables (object), scope, ...} or nullopt.
  virtual Result<std::optional<Json>> GetEnvironment(const std::string& name) = 0;
};

}  // namespace bora::api
