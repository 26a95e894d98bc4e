#pragma once
// Internal to the executions resources: what executions_api.cc (/v2/executions), tasks_api.cc
// (/v2/tasks) and action_executions_api.cc (/v2/action_executions) share - request helpers, the
// ResourceStore kinds, list filters and ExecutionsApi::Impl (state access, overlays, waits,
// records), whose shared members are defined in executions_internal.cc. Include it only from those
// files.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/api/caller.h"
#include "ingest/api/executions_api.h"
#include "ingest/api/list_query.h"
#include "ingest/api/mistral_format.h"
#include "ingest/api/mistral_views.h"

namespace bora::api {
namespace executions_internal {

using engine::ExecutionState;
using engine::State;
using http::HttpRequest;
using http::HttpResponse;

inline constexpr std::string_view kDeletedKind = "deleted_execution";
inline constexpr std::string_view kMetaKind = "execution_meta";
inline constexpr std::string_view kActionKind = "action_execution";
extern const std::set<std::string> kTaskFilters;
extern const std::set<std::string> kActionFilters;

// Query parameters of list endpoints that are not filters (python-mistralclient sends
// include_output to the action execution lists too); accepted and, except include_output for
// executions, ignored.
extern const std::set<std::string> kNonFilters;

std::string NotFoundMessage(std::string_view model, const std::string& id);
const Json* Field(const JsonObject& o, std::string_view key);
Result<std::string> StringField(const JsonObject& o, std::string_view key);
// A bool given as JSON true/false or as a string ("true", "False", "1").
Result<std::optional<bool>> BoolValue(const Json* p, std::string_view name);
Result<bool> QueryBool(const HttpRequest& request, const std::string& key, bool fallback);
Result<int64_t> QueryInt(const HttpRequest& request, const std::string& key, int64_t fallback);
// A json-typed request field that must be an object (or absent/null: empty object).
Result<Json> ObjectField(const JsonObject& body, std::string_view key);
void EnsureIndex(ExecutionState& st);
// The executions list's own parameters (Bora; console_api.cc) as filters: `search=<text>` (a
// case-insensitive substring of the id, workflow name, description or state_info) and
// `created_before=<time>` (created_at lte, beside a created_at filter).
Result<std::vector<Filter>> ConsoleFilters(const HttpRequest& request);
// kNonFilters, `search` and `created_before` (the execution lists).
extern const std::set<std::string> kExecutionNonFilters;
// The execution list's filterable fields.
extern const std::set<std::string> kExecutionFilters;

// What a handler of ExecutionsApi::Impl returns as the HTTP reply: its response, or for an error
// the fault response FaultFrom makes of the status (the handlers return errors with
// BORA_ASSIGN_OR_RETURN).
inline HttpResponse ReplyOrFault(Result<HttpResponse> reply) {
  return reply.ok() ? std::move(reply).value() : FaultFrom(reply.status());
}

}  // namespace executions_internal

using namespace executions_internal;  // NOLINT(google-build-using-namespace): internal header

class ExecutionsApi::Impl {
 public:
  Impl(ApiContext& context, ExecutionsApiOptions options) : ctx_(context), options_(options) {}

  // Records that live beside the execution states: tombstones of deleted executions and metadata
  // overlays.
  struct Overlays {
    std::set<std::string> deleted;
    std::map<std::string, Json> meta;  // id -> {"description": ...}
    // Who asks (caller.h): executions of other projects are hidden like deleted ones, except
    // that an admin reads any by id; lists show the caller's project unless `list_all`
    // (all_projects=true, or an admin's project_id filter).
    Caller caller;
    bool list_all = true;
    std::string default_project = "<default-project>";
    std::string ProjectOf(const ExecutionState& st) const {
      return st.project_id.empty() ? default_project : st.project_id;
    }
    bool Readable(const ExecutionState& st) const {
      return caller.is_admin || ProjectOf(st) == caller.project_id;
    }
    bool Listed(const ExecutionState& st) const {
      return list_all || ProjectOf(st) == caller.project_id;
    }
  };
  PartitionId PartitionOf(const std::string& id) const;
  Status CheckBackend() const;
  // The overlays for a request of `request`'s caller (kPermissionDenied: all_projects asked by a
  // non-admin), or, without a request, for the process itself (every project).
  Result<Overlays> LoadOverlays(const HttpRequest& request);
  Result<Overlays> LoadOverlays();
  Result<std::optional<ExecutionState>> ReadRaw(const std::string& id);
  // The execution unless it is unknown or deleted.
  Result<std::optional<ExecutionState>> Find(const std::string& id, const Overlays& overlays);
  // Find() without the tasks (StateStore::ReadExecutionHead): cheap however large the execution.
  Result<std::optional<ExecutionState>> FindHead(const std::string& id, const Overlays& overlays);
  // Every (not deleted) execution. Scans all partitions: O(executions) per call, read in batches
  // (StateStore::ReadExecutions: one round trip per 500 executions on Redis).
  Result<std::vector<ExecutionState>> All(const Overlays& overlays);
  // Every (not deleted) execution WITHOUT its tasks: what an execution listing shows. On Redis this
  // reads only the states' heads, not one task.
  Result<std::vector<ExecutionState>> AllHeads(const Overlays& overlays);
  // For a listing in the store's order (sorted by created_at ascending, the default): the records
  // of the executions after the marker that pass the filters, one more than the page holds (so the
  // reply knows whether a next page follows), tombstoned ones skipped. Reads the store's index in
  // order until the page is full: a filter few executions pass reads far, in chunks of at least
  // 500. nullopt when the listing needs every execution (another order, or a marker that is not an
  // execution: the full path answers its 404).
  Result<std::optional<std::vector<Json>>> Page(const ListQuery& q, const Overlays& overlays,
                                                MistralViews& views);
  // Calls `found` on the execution the store's id index names for `id`
  // (StateStore::FindExecutionOf); if that one does not hold it (an id stored before the index
  // existed, or an unknown id), on every execution until `found` returns true (a scan; see the
  // README).
  Status Search(const std::string& id, const Overlays& overlays,
                const std::function<bool(ExecutionState&)>& found);
  // The execution holding task `task_id`.
  Result<std::optional<std::pair<ExecutionState, size_t>>> FindTask(const std::string& task_id,
                                                                    const Overlays& overlays);

  struct ActionRef {
    ExecutionState state;
    size_t task = 0;
    size_t action = 0;
  };
  Result<std::optional<ActionRef>> FindAction(const std::string& action_id,
                                              const Overlays& overlays);
  // Reads the execution until `done` holds or options_.change_wait passes; the last state read (or
  // nullopt). `head_only`: reads it without its tasks (StateStore::ReadExecutionHead), for
  // conditions on the execution itself: cheap however many tasks and actions it has.
  std::optional<ExecutionState> WaitFor(const std::string& id,
                                        const std::function<bool(const ExecutionState&)>& done,
                                        bool head_only = false);
  TimestampUs Now() const;
  Json ExecutionRecord(MistralViews& views, const ExecutionState& st, bool include_output,
                       const Overlays& overlays);

  static HttpResponse Reply(int status, const Json& v) { return JsonReply(status, v); }
  HttpResponse ListReply(std::vector<Json> records, const ListQuery& q,
                         const std::string& collection, const HttpRequest& request);

  // /v2/executions (executions_api.cc)
  Result<HttpResponse> ListExecutions(const HttpRequest& request);
  Result<HttpResponse> GetExecution(const HttpRequest&, const std::string& id);
  Result<Json> ResolveEnv(const Json& env, const Caller& caller);
  Result<HttpResponse> CreateExecution(const HttpRequest& request);
  Result<HttpResponse> UpdateExecution(const HttpRequest& request, const std::string& id);
  void Descendants(const ExecutionState& st, const Overlays& overlays,
                   std::vector<std::string>* out, int depth = 0);
  Result<HttpResponse> DeleteExecution(const HttpRequest& request, const std::string& id);
  Result<HttpResponse> ListExecutionTasks(const HttpRequest& request, const std::string& id);

  struct SubFilters {
    bool errors_only = false;
    int64_t max_depth = -1;
    bool include_output = false;
  };
  Result<SubFilters> ParseSubFilters(const HttpRequest& request);
  // Mistral's sub_execution.get_execution_sub_executions_list: the execution itself, then the
  // executions of its tasks, depth first.
  void ExecutionSubs(const ExecutionState& st, const SubFilters& f, int64_t depth,
                     MistralViews& views, const Overlays& overlays, JsonArray* out);
  void TaskSubs(const engine::TaskExecution& t, const SubFilters& f, int64_t depth,
                MistralViews& views, const Overlays& overlays, JsonArray* out);
  Result<HttpResponse> ListSubExecutions(const HttpRequest& request, const std::string& id);
  Json ReportWorkflow(const ExecutionState& st, const SubFilters& f, int64_t depth,
                      ReportStatistics* stats, const Overlays& overlays);
  Result<HttpResponse> GetReport(const HttpRequest& request, const std::string& id);

  // /v2/tasks (tasks_api.cc)
  Result<HttpResponse> ListTasks(const HttpRequest& request);
  Result<HttpResponse> GetTask(const HttpRequest&, const std::string& id);
  Result<HttpResponse> UpdateTask(const HttpRequest& request, const std::string& id);
  Result<HttpResponse> ListTaskActionExecutions(const HttpRequest& request, const std::string& id);
  Result<HttpResponse> GetTaskActionExecution(const HttpRequest&, const std::string& task_id,
                                              const std::string& action_id);
  Result<HttpResponse> ListTaskSubExecutions(const HttpRequest& request, const std::string& id);

  // Bora's endpoints for live views (console_api.cc)
  Result<HttpResponse> CountExecutions(const HttpRequest& request);
  Result<HttpResponse> ListTaskItems(const HttpRequest& request, const std::string& id);
  Result<std::string> ChangeMarker(const std::string& id);
  Json TaskSummary(const engine::TaskExecution& t);
  Result<std::vector<std::pair<std::string, Json>>> TaskSummaries(const std::string& id);

  // /v2/action_executions (action_executions_api.cc)
  Result<HttpResponse> ListActionExecutions(const HttpRequest& request);
  Result<HttpResponse> GetActionExecution(const HttpRequest&, const std::string& id);
  Result<HttpResponse> CreateActionExecution(const HttpRequest& request);
  Result<HttpResponse> UpdateActionExecution(const HttpRequest& request, const std::string& id);

 private:
  ApiContext& ctx_;
  ExecutionsApiOptions options_;
};

}  // namespace bora::api
