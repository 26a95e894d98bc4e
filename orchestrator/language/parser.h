#pragma once
// Parses Workflow Language v2 YAML into the spec model (spec.h) and validates it.
// Pure functions; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "orchestrator/language/spec.h"

namespace bora::lang {

// Limits that keep a hostile document from exhausting memory or time. Defaults documented in README.md.
struct ParseOptions {
  std::string file_name;                   // used in error locations; "<input>" when empty
  size_t max_document_bytes = 1 << 20;     // 1 MiB
  int max_depth = 64;                      // YAML nesting depth
  size_t max_aliases = 64;                 // YAML alias (*ref) uses
  size_t max_nodes = 200000;               // YAML nodes after alias expansion
  enum class Expect { kAny, kWorkflows, kWorkbook, kActions } expect = Expect::kAny;
  // Also report what would only fail when the workflow runs: calls of functions that are neither built in
  // nor host functions (Mistral loads such a definition and fails the task; `bora validate` says so first).
  bool strict = false;
};

// One validation problem, with where it is.
struct ValidationError {
  SourceLocation location;
  std::string workflow;  // empty if not inside a workflow
  std::string task;      // empty if not inside a task
  std::string message;   // what was expected, e.g. "unknown key 'on-sucess' (expected one of: ...)"
  // "file.yaml:12:7: workflow 'wf', task 't1': unknown key 'on-sucess' ..."
  std::string ToString() const;
};

// The document, or kInvalidArgument whose message is every ValidationError::ToString() joined by '\n'.
Result<Document> ParseDocument(std::string_view yaml_text, const ParseOptions& options = {});

// Same, returning the individual errors (empty on success) for tools and tests.
Result<Document> ParseDocument(std::string_view yaml_text, const ParseOptions& options,
                               std::vector<ValidationError>* errors);

}  // namespace bora::lang
