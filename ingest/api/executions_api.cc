#include "ingest/api/executions_api.h"

#include <algorithm>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <vector>

#include "common/bus/bus.h"
#include "common/ids.h"
#include "ingest/api/catalog.h"
#include "ingest/api/list_query.h"
#include "ingest/api/mistral_format.h"
#include "ingest/api/mistral_views.h"

namespace bora::api {

namespace {

using engine::ExecutionState;
using engine::State;
using http::HttpRequest;
using http::HttpResponse;

constexpr std::string_view kDeletedKind = "deleted_execution";
constexpr std::string_view kMetaKind = "execution_meta";
constexpr std::string_view kActionKind = "action_execution";

const std::set<std::string> kExecutionFilters = {
    "id", "workflow_id", "workflow_name", "workflow_namespace", "description", "tags", "params",
    "task_execution_id", "root_execution_id", "source_execution_id", "state", "state_info", "input",
    "output", "created_at", "updated_at", "project_id", "published_global"};
const std::set<std::string> kTaskFilters = {
    "id", "name", "type", "workflow_name", "workflow_namespace", "workflow_id", "workflow_execution_id",
    "tags", "state", "state_info", "project_id", "runtime_context", "result", "published",
    "published_global", "processed", "created_at", "updated_at", "started_at", "finished_at"};
const std::set<std::string> kActionFilters = {
    "id", "workflow_name", "workflow_namespace", "task_name", "task_execution_id", "state", "state_info",
    "tags", "name", "description", "project_id", "accepted", "input", "output", "created_at",
    "updated_at", "params"};

// Query parameters of list endpoints that are not filters (python-mistralclient sends include_output to
// the action execution lists too); accepted and, except include_output for executions, ignored.
const std::set<std::string> kNonFilters = {"include_output", "all_projects"};

std::string NotFoundMessage(std::string_view model, const std::string& id) {
  return std::string(model) + " not found [id=" + id + "]";
}

const Json* Field(const JsonObject& o, std::string_view key) {
  const Json* p = o.if_contains(key);
  return (p == nullptr || p->is_null()) ? nullptr : p;
}

Result<std::string> StringField(const JsonObject& o, std::string_view key) {
  const Json* p = Field(o, key);
  if (p == nullptr) return std::string();
  if (!p->is_string()) {
    return InvalidArgument("Invalid input for field/attribute " + std::string(key) + ". Value: '" +
                           PythonStr(*p) + "'. Wrong type. Expected a string, got '" +
                           std::string(PythonTypeName(*p)) + "'");
  }
  return std::string(p->get_string());
}

// A bool given as JSON true/false or as a string ("true", "False", "1").
Result<std::optional<bool>> BoolValue(const Json* p, std::string_view name) {
  if (p == nullptr || p->is_null()) return std::optional<bool>();
  if (p->is_bool()) return std::optional<bool>(p->get_bool());
  if (p->is_string()) {
    std::string s(p->get_string());
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    if (s == "true" || s == "1" || s == "yes") return std::optional<bool>(true);
    if (s == "false" || s == "0" || s == "no") return std::optional<bool>(false);
  }
  if (p->is_int64()) return std::optional<bool>(p->get_int64() != 0);
  return InvalidArgument("Invalid input for field/attribute " + std::string(name) + ". Value: '" +
                         PythonStr(*p) + "'. Wrong type. Expected a bool");
}

Result<bool> QueryBool(const HttpRequest& request, const std::string& key, bool fallback) {
  if (!request.HasQuery(key)) return fallback;
  Json v(request.Query(key));
  BORA_ASSIGN_OR_RETURN(auto b, BoolValue(&v, key));
  return b.value_or(fallback);
}

Result<int64_t> QueryInt(const HttpRequest& request, const std::string& key, int64_t fallback) {
  if (!request.HasQuery(key)) return fallback;
  std::string v = request.Query(key);
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used == v.size()) return static_cast<int64_t>(n);
  } catch (const std::exception&) {
  }
  return InvalidArgument("Invalid input for field/attribute " + key + ". Value: '" + v +
                         "'. unable to convert to int");
}

// A json-typed request field that must be an object (or absent/null: empty object).
Result<Json> ObjectField(const JsonObject& body, std::string_view key) {
  const Json* p = Field(body, key);
  if (p == nullptr) return Json(JsonObject());
  BORA_ASSIGN_OR_RETURN(Json v, JsonFromField(*p, key));
  if (v.is_null()) return Json(JsonObject());
  if (!v.is_object()) {
    return InvalidArgument("Invalid input for field/attribute " + std::string(key) +
                           ": expected a dict (or a JSON string of one), got " +
                           std::string(PythonTypeName(v)));
  }
  return v;
}

// Mistral's states.is_valid_transition (mistral/workflow/states.py).
bool IsValidTransition(State from, State to) {
  if (from == to) return true;
  switch (from) {
    case State::kIdle: return to == State::kRunning || to == State::kError || to == State::kCancelled;
    case State::kWaiting: return to == State::kRunning;
    case State::kRunning:
      return to == State::kPaused || to == State::kDelayed || to == State::kSuccess ||
             to == State::kError || to == State::kCancelled;
    case State::kDelayed:
    case State::kPaused: return to == State::kRunning || to == State::kError || to == State::kCancelled;
    case State::kCancelled: return to == State::kRunning;
    case State::kError: return to == State::kRunning || to == State::kSkipped;
    default: return false;
  }
}

std::string TransitionError(const ExecutionState& st, State to) {
  return "Can't change workflow execution state from " + std::string(engine::StateName(st.state)) +
         " to " + std::string(engine::StateName(to)) + ". [workflow=" + st.workflow_name +
         ", exec_id=" + st.id + "]";
}

void EnsureIndex(ExecutionState& st) {
  if (st.index.task_by_id.size() != st.tasks.size()) st.RebuildIndex();
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  r.body.clear();
  return r;
}

}  // namespace

// ------------------------------------------------------------------------------------------------------
class ExecutionsApi::Impl {
 public:
  Impl(ApiContext& context, ExecutionsApiOptions options) : ctx_(context), options_(options) {}

  // Records that live beside the execution states: tombstones of deleted executions and metadata overlays.
  struct Overlays {
    std::set<std::string> deleted;
    std::map<std::string, Json> meta;  // id -> {"description": ...}
  };

  // ---------------------------------------------------------------------------------- state access
  int PartitionOf(const std::string& id) const {
    return ctx_.partitions > 0 ? PartitionForKey(id, ctx_.partitions) : 0;
  }

  Status CheckBackend() const {
    if (ctx_.states == nullptr || ctx_.executions == nullptr) {
      return Internal("the executions API has no state store / execution client configured");
    }
    return Status::Ok();
  }

  Result<Overlays> LoadOverlays() {
    Overlays o;
    if (ctx_.resources == nullptr) return o;
    BORA_ASSIGN_OR_RETURN(auto deleted, ctx_.resources->List(kDeletedKind));
    for (auto& [k, v] : deleted) o.deleted.insert(k);
    BORA_ASSIGN_OR_RETURN(auto meta, ctx_.resources->List(kMetaKind));
    for (auto& [k, v] : meta) o.meta.emplace(k, std::move(v));
    return o;
  }

  Result<std::optional<ExecutionState>> ReadRaw(const std::string& id) {
    BORA_RETURN_IF_ERROR(CheckBackend());
    if (id.empty()) return std::optional<ExecutionState>();
    BORA_ASSIGN_OR_RETURN(auto st, ctx_.states->ReadExecution(PartitionOf(id), id));
    if (st) EnsureIndex(*st);
    return st;
  }

  // The execution unless it is unknown or deleted.
  Result<std::optional<ExecutionState>> Find(const std::string& id, const Overlays& overlays) {
    if (overlays.deleted.count(id)) return std::optional<ExecutionState>();
    return ReadRaw(id);
  }

  // Find() without the tasks (StateStore::ReadExecutionHead): cheap however large the execution.
  Result<std::optional<ExecutionState>> FindHead(const std::string& id, const Overlays& overlays) {
    BORA_RETURN_IF_ERROR(CheckBackend());
    if (id.empty() || overlays.deleted.count(id)) return std::optional<ExecutionState>();
    return ctx_.states->ReadExecutionHead(PartitionOf(id), id);
  }

  // Every (not deleted) execution. Scans all partitions: O(executions) per call, read in batches
  // (StateStore::ReadExecutions: one round trip per 500 executions on Redis).
  Result<std::vector<ExecutionState>> All(const Overlays& overlays) {
    BORA_RETURN_IF_ERROR(CheckBackend());
    std::vector<ExecutionState> out;
    int parts = std::max(1, ctx_.partitions);
    for (int p = 0; p < parts; ++p) {
      BORA_ASSIGN_OR_RETURN(auto ids, ctx_.states->ListExecutionIds(p));
      std::vector<store::ExecutionKey> keys;
      keys.reserve(ids.size());
      for (auto& id : ids) {
        if (!overlays.deleted.count(id)) keys.push_back({p, std::move(id)});
      }
      for (auto& st : ctx_.states->ReadExecutions(keys)) {
        if (!st.ok()) return st.status();
        if (!st->has_value()) continue;  // gone since it was listed
        EnsureIndex(**st);
        out.push_back(std::move(**st));
      }
    }
    return out;
  }

  // Every (not deleted) execution WITHOUT its tasks: what an execution listing shows. On Redis this
  // reads only the states' heads, not one task.
  Result<std::vector<ExecutionState>> AllHeads(const Overlays& overlays) {
    BORA_RETURN_IF_ERROR(CheckBackend());
    std::vector<ExecutionState> out;
    int parts = std::max(1, ctx_.partitions);
    for (int p = 0; p < parts; ++p) {
      BORA_ASSIGN_OR_RETURN(auto heads, ctx_.states->ReadExecutionHeads(p));
      for (auto& st : heads) {
        if (!overlays.deleted.count(st.id)) out.push_back(std::move(st));
      }
    }
    return out;
  }

  // For a listing in the store's order (sorted by created_at ascending, the default): the records of the
  // executions after the marker that pass the filters, one more than the page holds (so the reply knows
  // whether a next page follows), tombstoned ones skipped. Reads the store's index in order until the page
  // is full: a filter few executions pass reads far, in chunks of at least 500. nullopt when the listing needs
  // every execution (another order, or a marker that is not an execution: the full path answers its 404).
  Result<std::optional<std::vector<Json>>> Page(const ListQuery& q, const Overlays& overlays, MistralViews& views) {
    using Out = std::optional<std::vector<Json>>;
    BORA_RETURN_IF_ERROR(CheckBackend());
    if (q.sort_keys != std::vector<std::string>{"created_at"} || q.sort_dirs != std::vector<std::string>{"asc"}) {
      return Out();
    }
    std::optional<store::ListCursor> after;
    if (q.marker) {
      BORA_ASSIGN_OR_RETURN(auto m, FindHead(*q.marker, overlays));
      if (!m) return Out();
      after = store::ListCursor{store::ListSecond(m->created_at), m->id};
    }
    const size_t want = (q.limit > 0 ? q.limit : q.max_limit) + 1;
    constexpr size_t kFilteredChunk = 500;
    std::vector<Json> out;
    while (out.size() < want) {
      const size_t ask = q.filters.empty() ? want - out.size() : std::max(want, kFilteredChunk);
      BORA_ASSIGN_OR_RETURN(auto heads, ctx_.states->ReadExecutionHeadsPage(after, ask));
      for (auto& h : heads) {
        after = store::ListCursor{store::ListSecond(h.created_at), h.id};
        if (overlays.deleted.count(h.id) || out.size() >= want) continue;
        Json record = ExecutionRecord(views, h, true, overlays);
        bool pass = true;
        for (const auto& f : q.filters) pass = pass && MatchesFilter(record, f);
        if (pass) out.push_back(std::move(record));
      }
      if (heads.empty()) break;  // (a short page may only mean an execution deleted meanwhile)
    }
    return Out(std::move(out));
  }

  // Calls `found` on the execution the store's id index names for `id` (StateStore::FindExecutionOf);
  // if that one does not hold it (an id stored before the index existed, or an unknown id), on every
  // execution until `found` returns true (a scan; see the README).
  Status Search(const std::string& id, const Overlays& overlays,
                const std::function<bool(ExecutionState&)>& found) {
    BORA_RETURN_IF_ERROR(CheckBackend());
    BORA_ASSIGN_OR_RETURN(auto key, ctx_.states->FindExecutionOf(id));
    if (key && !overlays.deleted.count(key->execution_id)) {
      BORA_ASSIGN_OR_RETURN(auto st, ctx_.states->ReadExecution(key->partition, key->execution_id));
      if (st) {
        EnsureIndex(*st);
        if (found(*st)) return Status::Ok();
      }
    }
    BORA_ASSIGN_OR_RETURN(auto all, All(overlays));
    for (auto& st : all) {
      if (found(st)) return Status::Ok();
    }
    return Status::Ok();
  }

  // The execution holding task `task_id`.
  Result<std::optional<std::pair<ExecutionState, size_t>>> FindTask(const std::string& task_id,
                                                                    const Overlays& overlays) {
    std::optional<std::pair<ExecutionState, size_t>> out;
    BORA_RETURN_IF_ERROR(Search(task_id, overlays, [&](ExecutionState& st) {
      auto it = st.index.task_by_id.find(task_id);
      if (it == st.index.task_by_id.end()) return false;
      size_t ti = it->second;
      out.emplace(std::move(st), ti);
      return true;
    }));
    return out;
  }

  struct ActionRef {
    ExecutionState state;
    size_t task = 0;
    size_t action = 0;
  };

  Result<std::optional<ActionRef>> FindAction(const std::string& action_id, const Overlays& overlays) {
    std::optional<ActionRef> out;
    BORA_RETURN_IF_ERROR(Search(action_id, overlays, [&](ExecutionState& st) {
      for (size_t ti = 0; ti < st.tasks.size(); ++ti) {
        const auto& actions = st.tasks[ti].actions;
        for (size_t ai = 0; ai < actions.size(); ++ai) {
          if (actions[ai].id == action_id && !actions[ai].is_workflow) {
            out = ActionRef{std::move(st), ti, ai};
            return true;
          }
        }
      }
      return false;
    }));
    return out;
  }

  // Reads the execution until `done` holds or options_.change_wait passes; the last state read (or nullopt).
  // `head_only`: reads it without its tasks (StateStore::ReadExecutionHead), for conditions on the
  // execution itself: cheap however many tasks and actions it has.
  std::optional<ExecutionState> WaitFor(const std::string& id,
                                        const std::function<bool(const ExecutionState&)>& done,
                                        bool head_only = false) {
    auto deadline = std::chrono::steady_clock::now() + options_.change_wait;
    std::optional<ExecutionState> last;
    std::mutex mu;
    std::condition_variable cv;  // never notified: a bounded pause between reads
    // The first reads come quickly (an embedded orchestrator applies a change in well under a
    // millisecond), then the pause doubles up to poll_interval.
    std::chrono::microseconds pause{250};
    while (true) {
      auto st = head_only ? ctx_.states->ReadExecutionHead(PartitionOf(id), id) : ReadRaw(id);
      if (st.ok() && st->has_value()) {
        last = std::move(**st);
        if (done(*last)) return last;
      }
      if (std::chrono::steady_clock::now() >= deadline) return last;
      std::unique_lock lock(mu);
      cv.wait_for(lock, pause);
      pause = std::min<std::chrono::microseconds>(pause * 2, options_.poll_interval);
    }
  }

  TimestampUs Now() const {
    return ctx_.clock != nullptr ? ctx_.clock->NowUs() : SystemClock::Get()->NowUs();
  }

  // ---------------------------------------------------------------------------------- records
  Json ExecutionRecord(MistralViews& views, const ExecutionState& st, bool include_output,
                       const Overlays& overlays) {
    Json rec = views.Execution(st, include_output);
    auto it = overlays.meta.find(st.id);
    if (it != overlays.meta.end() && it->second.is_object()) {
      if (const Json* d = it->second.as_object().if_contains("description")) {
        rec.as_object()["description"] = *d;
      }
    }
    return rec;
  }

  static HttpResponse Reply(int status, const Json& v) { return JsonReply(status, v); }

  HttpResponse ListReply(std::vector<Json> records, const ListQuery& q, const std::string& collection,
                         const HttpRequest& request) {
    auto reply = TryApplyListQuery(std::move(records), q, collection, request);
    if (!reply.ok()) return FaultFrom(reply.status());
    return Reply(200, *reply);
  }

  // ------------------------------------------------------------------------------- /v2/executions
  HttpResponse ListExecutions(const HttpRequest& request) {
    auto q = ParseListQuery(request, kExecutionFilters, ctx_.limits.max_limit, kNonFilters);
    if (!q.ok()) return FaultFrom(q.status());
    auto include_output = QueryBool(request, "include_output", false);
    if (!include_output.ok()) return FaultFrom(include_output.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    // The default order is the store's listing order: read as far as the page needs only.
    MistralViews views(ctx_);
    auto page = Page(*q, *overlays, views);
    if (!page.ok()) return FaultFrom(page.status());
    ListQuery query = *q;
    std::vector<Json> records;
    if (*page) {
      records = std::move(**page);
      query.marker.reset();  // the page starts after it
      query.filters.clear();  // and passed them
    } else {
      auto all = AllHeads(*overlays);  // an execution record shows no task
      if (!all.ok()) return FaultFrom(all.status());
      records.reserve(all->size());
      for (const auto& st : *all) records.push_back(ExecutionRecord(views, st, true, *overlays));
    }
    auto reply = TryApplyListQuery(std::move(records), query, "executions", request);
    if (!reply.ok()) return FaultFrom(reply.status());
    // Mistral defers `output` in lists unless include_output=true (or it is asked for in `fields`).
    bool output_in_fields =
        std::find(q->fields.begin(), q->fields.end(), "output") != q->fields.end();
    if (!*include_output && !output_in_fields) {
      for (auto& r : reply->as_object()["executions"].as_array()) r.as_object().erase("output");
    }
    return Reply(200, *reply);
  }

  HttpResponse GetExecution(const HttpRequest&, const std::string& id) {
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto st = FindHead(id, *overlays);  // an execution record shows no task
    if (!st.ok()) return FaultFrom(st.status());
    if (!*st) return Fault(404, NotFoundMessage("WorkflowExecution", id));
    MistralViews views(ctx_);
    return Reply(200, ExecutionRecord(views, **st, true, *overlays));
  }

  // Params.env as Mistral resolves it: a dict, or the name of a stored environment (its variables).
  Result<Json> ResolveEnv(const Json& env) {
    if (env.is_null()) return Json(JsonObject());
    if (env.is_object()) return env;
    if (env.is_string()) {
      std::string name(env.get_string());
      if (name.empty()) return Json(JsonObject());
      if (ctx_.catalog == nullptr) return InvalidArgument("Environment is not found: " + name);
      BORA_ASSIGN_OR_RETURN(auto rec, ctx_.catalog->GetEnvironment(name));
      if (!rec || !rec->is_object()) return InvalidArgument("Environment is not found: " + name);
      const Json* vars = rec->as_object().if_contains("variables");
      if (vars == nullptr || vars->is_null()) return Json(JsonObject());
      BORA_ASSIGN_OR_RETURN(Json v, JsonFromField(*vars, "variables"));
      if (!v.is_object()) return InvalidArgument("Environment variables of " + name + " are not a dict");
      return v;
    }
    return InvalidArgument("Unexpected value type for environment [env=" + PythonStr(env) +
                           ", type=" + std::string(PythonTypeName(env)) + "]");
  }

  HttpResponse CreateExecution(const HttpRequest& request) {
    auto body_r = ParseJsonBody(request);
    if (!body_r.ok()) return FaultFrom(body_r.status());
    JsonObject& body = *body_r;
    if (Status s = CheckBackend(); !s.ok()) return FaultFrom(s);
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());

    auto id_r = StringField(body, "id");
    if (!id_r.ok()) return FaultFrom(id_r.status());
    std::string id = *id_r;
    MistralViews views(ctx_);
    if (!id.empty()) {
      // Idempotent create: an existing id answers the existing execution.
      if (overlays->deleted.count(id)) {
        return Fault(409, "Execution " + id + " was deleted; its id cannot be reused");
      }
      auto existing = FindHead(id, *overlays);
      if (!existing.ok()) return FaultFrom(existing.status());
      if (*existing) return Reply(201, ExecutionRecord(views, **existing, true, *overlays));
    }

    auto wf_id = StringField(body, "workflow_id");
    auto wf_name = StringField(body, "workflow_name");
    auto wf_ns = StringField(body, "workflow_namespace");
    auto description = StringField(body, "description");
    auto source_id = StringField(body, "source_execution_id");
    for (const auto* r : {&wf_id, &wf_name, &wf_ns, &description, &source_id}) {
      if (!r->ok()) return FaultFrom(r->status());
    }
    auto input = ObjectField(body, "input");
    if (!input.ok()) return FaultFrom(input.status());
    auto params = ObjectField(body, "params");
    if (!params.ok()) return FaultFrom(params.status());

    std::string name = *wf_name, ns = *wf_ns, desc = *description;
    bool ns_given = Field(body, "workflow_namespace") != nullptr;
    Json in = *input, pr = *params;
    if (!source_id->empty()) {
      // Mistral: the source execution's workflow, input and params, overridden by the request.
      auto src = Find(*source_id, *overlays);
      if (!src.ok()) return FaultFrom(src.status());
      if (!*src) return Fault(404, NotFoundMessage("WorkflowExecution", *source_id));
      if (name.empty() && wf_id->empty()) name = (*src)->workflow_name;
      if (!ns_given) ns = (*src)->workflow_namespace;
      Json merged_in = (*src)->input.is_object() ? (*src)->input : Json(JsonObject());
      if (Field(body, "input") != nullptr) DeepMerge(merged_in, in);
      in = merged_in;
      Json merged_params = (*src)->params.is_object() ? (*src)->params : Json(JsonObject());
      DeepMerge(merged_params, pr);
      pr = merged_params;
      desc = desc + " Based on the execution '" + *source_id + "'";
      size_t b = desc.find_first_not_of(' ');
      desc = b == std::string::npos ? std::string() : desc.substr(b);
      pr.as_object()["source_execution_id"] = *source_id;
    }
    if (!ns_given && pr.as_object().contains("namespace") && pr.as_object()["namespace"].is_string()) {
      ns = std::string(pr.as_object()["namespace"].get_string());
    }
    if (!wf_id->empty()) {
      if (ctx_.catalog != nullptr) {
        auto rec = ctx_.catalog->GetWorkflow(*wf_id, ns);
        if (!rec.ok()) return FaultFrom(rec.status());
        if (!*rec || !(*rec)->is_object()) {
          return Fault(404, "Workflow not found [workflow_identifier=" + *wf_id + "]");
        }
        const auto& o = (*rec)->as_object();
        if (const Json* n = o.if_contains("name"); n && n->is_string()) name = std::string(n->get_string());
        if (const Json* n = o.if_contains("namespace"); n && n->is_string()) {
          ns = std::string(n->get_string());
        }
      } else {
        name = *wf_id;  // no catalog: the id is taken as a name
      }
    }
    if (name.empty()) {
      return Fault(400, "Workflow ID or workflow name must be provided. Workflow ID is recommended.");
    }
    {
      // Mistral's params order: namespace, env, then the rest.
      Json env = pr.as_object().contains("env") ? pr.as_object()["env"] : Json(nullptr);
      auto resolved = ResolveEnv(env);
      if (!resolved.ok()) return FaultFrom(resolved.status());
      JsonObject ordered;
      ordered["namespace"] = ns;
      ordered["env"] = std::move(*resolved);
      for (const auto& kv : pr.as_object()) {
        if (kv.key() != "namespace" && kv.key() != "env") ordered[kv.key()] = kv.value();
      }
      pr = std::move(ordered);
    }

    runtime::StartRequest start;
    start.workflow_name = name;
    start.workflow_namespace = ns;
    start.input = in;
    start.params = pr;
    start.description = desc;
    start.execution_id = id.empty() ? NewUuid() : id;
    auto started = ctx_.executions->Start(start);
    if (!started.ok()) return FaultFrom(started.status());
    const std::string exec_id = *started;

    auto st = WaitFor(exec_id, [](const ExecutionState&) { return true; }, /*head_only=*/true);
    if (st) return Reply(201, ExecutionRecord(views, *st, true, *overlays));
    // Not visible yet: the record as the orchestrator will create it.
    ExecutionState synth;
    synth.id = exec_id;
    synth.workflow_name = name;
    synth.workflow_namespace = ns;
    synth.description = desc;
    synth.input = in;
    synth.params = pr;
    synth.params.as_object()["namespace"] = ns;
    synth.state = State::kRunning;
    synth.output = JsonObject();
    synth.created_at = synth.updated_at = Now();
    return Reply(201, ExecutionRecord(views, synth, true, *overlays));
  }

  HttpResponse UpdateExecution(const HttpRequest& request, const std::string& id) {
    auto body_r = ParseJsonBody(request);
    if (!body_r.ok()) return FaultFrom(body_r.status());
    JsonObject& body = *body_r;
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindHead(id, *overlays);  // the record and the checks need no task
    if (!found.ok()) return FaultFrom(found.status());
    if (!*found) return Fault(404, NotFoundMessage("WorkflowExecution", id));
    ExecutionState st = std::move(**found);

    auto state_name = StringField(body, "state");
    auto state_info = StringField(body, "state_info");
    auto description = StringField(body, "description");
    for (const auto* r : {&state_name, &state_info, &description}) {
      if (!r->ok()) return FaultFrom(r->status());
    }
    // env: top-level "env" or Mistral's params.env (params may be a JSON string).
    std::optional<Json> env;
    if (const Json* e = Field(body, "env")) {
      auto v = JsonFromField(*e, "env");
      if (!v.ok()) return FaultFrom(v.status());
      env = *v;
    } else if (Field(body, "params") != nullptr) {
      auto p = ObjectField(body, "params");
      if (!p.ok()) return FaultFrom(p.status());
      if (const Json* e = Field(p->as_object(), "env")) env = *e;
    }
    if (env && env->is_object() && env->as_object().empty()) env.reset();
    if (env && !env->is_object()) {
      auto resolved = ResolveEnv(*env);
      if (!resolved.ok()) return FaultFrom(resolved.status());
      env = *resolved;
    }

    if (state_name->empty() && description->empty() && !env) {
      return Fault(400, "The property state, description, or env is not provided for update.");
    }
    if (!description->empty() && !state_name->empty()) {
      return Fault(400, "The property description must be updated separately from state.");
    }
    std::optional<State> target;
    if (!state_name->empty()) {
      target = engine::StateFromName(*state_name);
      static const std::set<std::string> kAllowed = {"IDLE",   "RUNNING", "SUCCESS",
                                                     "ERROR",  "PAUSED",  "CANCELLED"};
      if (!target || !kAllowed.count(*state_name)) {
        return Fault(400, "Invalid input for field/attribute state. Value: '" + *state_name +
                              "'. Value should be one of: CANCELLED, ERROR, IDLE, PAUSED, RUNNING, "
                              "SUCCESS");
      }
    }
    if (env && target && *target != State::kRunning) {
      return Fault(400,
                   "The property env can only be updated when workflow execution is not running or on "
                   "resume from pause.");
    }
    MistralViews views(ctx_);

    if (!description->empty()) {
      if (ctx_.resources == nullptr) {
        return Fault(500, "updating a description needs a resource store, none is configured");
      }
      Json meta = JsonObject{{"description", *description}};
      if (Status s = ctx_.resources->Put(kMetaKind, id, meta); !s.ok()) return FaultFrom(s);
      overlays->meta[id] = meta;
      if (!target && !env) return Reply(200, ExecutionRecord(views, st, true, *overlays));
    }
    if (!target) {
      // env alone: Mistral updates a paused/idle execution's env in place; Bora only on resume.
      return Fault(400,
                   "Updating env without a state change is not supported; resume the execution with "
                   "{\"state\": \"RUNNING\", \"params\": {\"env\": {...}}}");
    }

    State to = *target;
    Status sent = Status::Ok();
    std::optional<std::string> info =
        state_info->empty() ? std::nullopt : std::optional<std::string>(*state_info);
    if (to == State::kRunning) {
      // Mistral's resume_workflow: only paused or idle executions resume; others are returned unchanged.
      if (st.state != State::kPaused && st.state != State::kIdle) {
        return Reply(200, ExecutionRecord(views, st, true, *overlays));
      }
      sent = ctx_.executions->Resume(id, env);
    } else if (to == State::kPaused) {
      if (!IsValidTransition(st.state, to)) return Fault(400, TransitionError(st, to));
      if (st.state == State::kPaused) return Reply(200, ExecutionRecord(views, st, true, *overlays));
      sent = ctx_.executions->Pause(id);
    } else if (to == State::kSuccess || to == State::kError || to == State::kCancelled) {
      if (!IsValidTransition(st.state, to)) return Fault(400, TransitionError(st, to));
      if (st.state == to) return Reply(200, ExecutionRecord(views, st, true, *overlays));
      sent = to == State::kCancelled ? ctx_.executions->Cancel(id, info)
                                     : ctx_.executions->Stop(id, to, info);
    } else {
      return Fault(400, "Cannot change state to " + *state_name +
                            ". Allowed states are: 'RUNNING, PAUSED, SUCCESS, ERROR, CANCELLED");
    }
    if (!sent.ok()) return FaultFrom(sent);
    auto after = WaitFor(id, [to](const ExecutionState& s) { return s.state == to; }, /*head_only=*/true);
    if (after && after->state == to) return Reply(200, ExecutionRecord(views, *after, true, *overlays));
    // Not applied yet: answer with the state asked for (as Mistral's synchronous engine call would).
    if (after) st = std::move(*after);
    st.state = to;
    if (to != State::kRunning && info) st.state_info = info;
    if (to == State::kRunning) st.state_info.reset();
    st.updated_at = Now();
    return Reply(200, ExecutionRecord(views, st, true, *overlays));
  }

  // Ids of `st` and every execution below it (sub-workflows, recursively).
  void Descendants(const ExecutionState& st, const Overlays& overlays, std::vector<std::string>* out,
                   int depth = 0) {
    if (depth > 64) return;
    for (const auto& t : st.tasks) {
      for (const auto& a : t.actions) {
        if (!a.is_workflow) continue;
        out->push_back(a.id);
        auto child = Find(a.id, overlays);
        if (child.ok() && *child) Descendants(**child, overlays, out, depth + 1);
      }
    }
  }

  HttpResponse DeleteExecution(const HttpRequest& request, const std::string& id) {
    auto force = QueryBool(request, "force", false);
    if (!force.ok()) return FaultFrom(force.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = Find(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    if (!*found) return Fault(404, NotFoundMessage("WorkflowExecution", id));
    const ExecutionState& st = **found;
    if (!*force && !engine::IsCompleted(st.state)) {
      return Fault(403, "Only completed executions can be deleted. Execution " + id + " is in " +
                            std::string(engine::StateName(st.state)) + " state");
    }
    if (ctx_.resources == nullptr) {
      return Fault(500, "deleting executions needs a resource store, none is configured");
    }
    if (!engine::IsCompleted(st.state)) {
      // Forced delete of a live execution: stop it so it does not keep running unseen.
      if (Status s = ctx_.executions->Cancel(id, std::string("Deleted")); !s.ok()) return FaultFrom(s);
    }
    std::vector<std::string> ids = {id};
    Descendants(st, *overlays, &ids);
    Json tomb = JsonObject{{"deleted_at", MistralTime(Now())}};
    for (const auto& d : ids) {
      if (Status s = ctx_.resources->Put(kDeletedKind, d, tomb); !s.ok()) return FaultFrom(s);
    }
    // The tombstones hide it at once (and keep its id from being reused); the purge deletes the stored
    // state with its sub-workflow executions (after the cancel above, in order, for a forced delete).
    if (Status s = ctx_.executions->Send(engine::PurgeExecution{id}); !s.ok()) return FaultFrom(s);
    return NoContent();
  }

  HttpResponse ListExecutionTasks(const HttpRequest& request, const std::string& id) {
    auto q = ParseListQuery(request, kTaskFilters, ctx_.limits.max_limit, kNonFilters);
    if (!q.ok()) return FaultFrom(q.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto st = Find(id, *overlays);
    if (!st.ok()) return FaultFrom(st.status());
    std::vector<Json> records;
    MistralViews views(ctx_);
    if (*st) {
      for (const auto& t : (*st)->tasks) records.push_back(views.Task(**st, t));
    }
    return ListReply(std::move(records), *q, "tasks", request);
  }

  struct SubFilters {
    bool errors_only = false;
    int64_t max_depth = -1;
    bool include_output = false;
  };

  Result<SubFilters> ParseSubFilters(const HttpRequest& request) {
    SubFilters f;
    BORA_ASSIGN_OR_RETURN(f.errors_only, QueryBool(request, "errors_only", false));
    BORA_ASSIGN_OR_RETURN(f.max_depth, QueryInt(request, "max_depth", -1));
    BORA_ASSIGN_OR_RETURN(f.include_output, QueryBool(request, "include_output", false));
    return f;
  }

  // Mistral's sub_execution.get_execution_sub_executions_list: the execution itself, then the executions
  // of its tasks, depth first.
  void ExecutionSubs(const ExecutionState& st, const SubFilters& f, int64_t depth, MistralViews& views,
                     const Overlays& overlays, JsonArray* out) {
    if (f.max_depth >= 0 && f.max_depth < depth) return;
    if (depth > 64) return;
    out->push_back(ExecutionRecord(views, st, f.include_output, overlays));
    for (const auto& t : st.tasks) TaskSubs(t, f, depth + 1, views, overlays, out);
  }

  void TaskSubs(const engine::TaskExecution& t, const SubFilters& f, int64_t depth, MistralViews& views,
                const Overlays& overlays, JsonArray* out) {
    if (f.errors_only && t.state != State::kError) return;
    for (const auto& a : t.actions) {
      if (!a.is_workflow) continue;
      auto child = Find(a.id, overlays);
      if (child.ok() && *child) ExecutionSubs(**child, f, depth, views, overlays, out);
    }
  }

  HttpResponse ListSubExecutions(const HttpRequest& request, const std::string& id) {
    auto f = ParseSubFilters(request);
    if (!f.ok()) return FaultFrom(f.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto st = Find(id, *overlays);
    if (!st.ok()) return FaultFrom(st.status());
    if (!*st) return Fault(404, NotFoundMessage("WorkflowExecution", id));
    MistralViews views(ctx_);
    JsonArray out;
    ExecutionSubs(**st, *f, 0, views, *overlays, &out);
    return Reply(200, JsonObject{{"executions", std::move(out)}});
  }

  // ------------------------------------------------------------------------------------- report
  Json ReportWorkflow(const ExecutionState& st, const SubFilters& f, int64_t depth,
                      ReportStatistics* stats, const Overlays& overlays) {
    JsonObject e;
    e["id"] = st.id;
    e["name"] = st.workflow_name;
    e["state"] = engine::StateName(st.state);
    e["state_info"] = st.state_info ? Json(*st.state_info) : Json(nullptr);
    e["created_at"] = MistralTime(st.created_at);
    e["updated_at"] = MistralTime(st.updated_at);
    if (f.max_depth >= 0 && f.max_depth < depth) return e;
    JsonArray tasks;
    for (const auto& t : st.tasks) {
      if (f.errors_only && t.state != State::kError) continue;
      stats->Count(t.state);
      JsonObject te;
      te["id"] = t.id;
      te["name"] = t.name;
      te["type"] = t.type == engine::TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
      te["state"] = engine::StateName(t.state);
      te["state_info"] = t.state_info ? Json(*t.state_info) : Json(nullptr);
      te["created_at"] = MistralTime(t.created_at);
      te["updated_at"] = MistralTime(t.updated_at);
      if (t.retry_started) te["retry_count"] = t.retry_no;
      JsonArray actions, workflows;
      for (const auto& a : t.actions) {
        if (a.is_workflow) {
          auto child = Find(a.id, overlays);
          if (child.ok() && *child && depth < 64) {
            workflows.push_back(ReportWorkflow(**child, f, depth + 1, stats, overlays));
          }
          continue;
        }
        actions.push_back(JsonObject{{"id", a.id},
                                     {"name", a.adhoc_name.empty() ? a.name : a.adhoc_name},
                                     {"state", engine::StateName(a.state)},
                                     {"state_info", a.state_info ? Json(*a.state_info) : Json(nullptr)},
                                     {"created_at", MistralTime(a.created_at)},
                                     {"updated_at", MistralTime(a.updated_at)},
                                     {"last_heartbeat", nullptr}});
      }
      te["action_executions"] = std::move(actions);
      te["workflow_executions"] = std::move(workflows);
      tasks.push_back(std::move(te));
    }
    e["task_executions"] = std::move(tasks);
    return e;
  }

  HttpResponse GetReport(const HttpRequest& request, const std::string& id) {
    auto f = ParseSubFilters(request);
    if (!f.ok()) return FaultFrom(f.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto st = Find(id, *overlays);
    if (!st.ok()) return FaultFrom(st.status());
    if (!*st) return Fault(404, NotFoundMessage("WorkflowExecution", id));
    ReportStatistics stats;
    Json root = ReportWorkflow(**st, *f, 0, &stats, *overlays);
    return Reply(200, JsonObject{{"root_workflow_execution", std::move(root)},
                                 {"statistics", stats.ToJson()}});
  }

  // ------------------------------------------------------------------------------------ /v2/tasks
  HttpResponse ListTasks(const HttpRequest& request) {
    auto q = ParseListQuery(request, kTaskFilters, ctx_.limits.max_limit, kNonFilters);
    if (!q.ok()) return FaultFrom(q.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto all = All(*overlays);
    if (!all.ok()) return FaultFrom(all.status());
    MistralViews views(ctx_);
    std::vector<Json> records;
    for (const auto& st : *all)
      for (const auto& t : st.tasks) records.push_back(views.Task(st, t));
    return ListReply(std::move(records), *q, "tasks", request);
  }

  HttpResponse GetTask(const HttpRequest&, const std::string& id) {
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindTask(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    if (!*found) return Fault(404, NotFoundMessage("TaskExecution", id));
    MistralViews views(ctx_);
    const auto& [st, ti] = **found;
    return Reply(200, views.Task(st, st.tasks[ti]));
  }

  HttpResponse UpdateTask(const HttpRequest& request, const std::string& id) {
    auto body_r = ParseJsonBody(request);
    if (!body_r.ok()) return FaultFrom(body_r.status());
    JsonObject& body = *body_r;
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindTask(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    if (!*found) return Fault(404, NotFoundMessage("TaskExecution", id));
    ExecutionState st = std::move((*found)->first);
    size_t ti = (*found)->second;
    const engine::TaskExecution& task = st.tasks[ti];

    auto state_name = StringField(body, "state");
    auto name = StringField(body, "name");
    auto wf_name = StringField(body, "workflow_name");
    for (const auto* r : {&state_name, &name, &wf_name}) {
      if (!r->ok()) return FaultFrom(r->status());
    }
    if (!name->empty() && *name != task.name) return Fault(400, "Task name does not match.");
    if (!wf_name->empty() && *wf_name != st.workflow_name) {
      return Fault(400, "Workflow name does not match.");
    }
    MistralViews views(ctx_);
    State to;
    if (*state_name == "RUNNING") {
      auto reset = BoolValue(Field(body, "reset"), "reset");
      if (!reset.ok()) return FaultFrom(reset.status());
      if (!reset->has_value()) return Fault(400, "Mandatory field missing: reset");
      std::optional<Json> env;
      if (const Json* e = Field(body, "env")) {
        auto v = JsonFromField(*e, "env");
        if (!v.ok()) return FaultFrom(v.status());
        if (!v->is_object()) return Fault(400, "Invalid input for field/attribute env: expected a dict");
        if (!v->as_object().empty()) env = *v;
      }
      if (task.state != State::kError) {
        return Fault(400,
                     "The current task execution must be in ERROR for rerun. Only updating task to "
                     "rerun is supported.");
      }
      if (!task.with_items.enabled && !**reset) {
        return Fault(400, "Only with-items task has the option to not reset.");
      }
      if (st.state == State::kPaused) {
        // Mistral: a paused workflow ignores the rerun.
        return Reply(200, views.Task(st, task));
      }
      if (Status s = ctx_.executions->RerunTask(st.id, id, **reset, env); !s.ok()) return FaultFrom(s);
      to = State::kRunning;
    } else if (*state_name == "SKIPPED") {
      if (task.state != State::kError) {
        return Fault(400, "The current task execution must be in ERROR for skip.");
      }
      if (st.state == State::kPaused) return Reply(200, views.Task(st, task));
      if (Status s = ctx_.executions->SkipTask(st.id, id); !s.ok()) return FaultFrom(s);
      to = State::kSkipped;
    } else {
      return Fault(400, "Invalid task state. Only updating task to rerun or skip is supported.");
    }
    // Wait until the task left ERROR (rerun/skip applied), else answer with the state asked for.
    auto after = WaitFor(st.id, [&id](const ExecutionState& s) {
      const auto* t = s.FindTaskById(id);
      return t != nullptr && t->state != State::kError;
    });
    if (after) {
      EnsureIndex(*after);
      const auto* t = after->FindTaskById(id);
      if (t != nullptr && t->state != State::kError) return Reply(200, views.Task(*after, *t));
    }
    engine::TaskExecution copy = task;
    copy.state = to;
    copy.state_info.reset();
    copy.updated_at = Now();
    return Reply(200, views.Task(st, copy));
  }

  HttpResponse ListTaskActionExecutions(const HttpRequest& request, const std::string& id) {
    auto q = ParseListQuery(request, kActionFilters, ctx_.limits.max_limit, kNonFilters);
    if (!q.ok()) return FaultFrom(q.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindTask(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    std::vector<Json> records;
    MistralViews views(ctx_);
    if (*found) {
      const auto& [st, ti] = **found;
      for (const auto& a : st.tasks[ti].actions) {
        if (!a.is_workflow) records.push_back(views.ActionExecution(st, st.tasks[ti], a));
      }
    }
    return ListReply(std::move(records), *q, "action_executions", request);
  }

  HttpResponse GetTaskActionExecution(const HttpRequest&, const std::string& task_id,
                                      const std::string& action_id) {
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindTask(task_id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    if (*found) {
      const auto& [st, ti] = **found;
      for (const auto& a : st.tasks[ti].actions) {
        if (a.id == action_id && !a.is_workflow) {
          MistralViews views(ctx_);
          return Reply(200, views.ActionExecution(st, st.tasks[ti], a));
        }
      }
    }
    return Fault(404, NotFoundMessage("ActionExecution", action_id));
  }

  HttpResponse ListTaskSubExecutions(const HttpRequest& request, const std::string& id) {
    auto f = ParseSubFilters(request);
    if (!f.ok()) return FaultFrom(f.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindTask(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    if (!*found) return Fault(404, NotFoundMessage("TaskExecution", id));
    const auto& [st, ti] = **found;
    MistralViews views(ctx_);
    JsonArray out;
    TaskSubs(st.tasks[ti], *f, 0, views, *overlays, &out);
    return Reply(200, JsonObject{{"executions", std::move(out)}});
  }

  // --------------------------------------------------------------------------- /v2/action_executions
  HttpResponse ListActionExecutions(const HttpRequest& request) {
    auto q = ParseListQuery(request, kActionFilters, ctx_.limits.max_limit, kNonFilters);
    if (!q.ok()) return FaultFrom(q.status());
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto all = All(*overlays);
    if (!all.ok()) return FaultFrom(all.status());
    MistralViews views(ctx_);
    std::vector<Json> records;
    for (const auto& st : *all)
      for (const auto& t : st.tasks)
        for (const auto& a : t.actions)
          if (!a.is_workflow) records.push_back(views.ActionExecution(st, t, a));
    if (ctx_.resources != nullptr) {
      auto stored = ctx_.resources->List(kActionKind);
      if (!stored.ok()) return FaultFrom(stored.status());
      for (auto& [k, v] : *stored) records.push_back(std::move(v));
    }
    return ListReply(std::move(records), *q, "action_executions", request);
  }

  HttpResponse GetActionExecution(const HttpRequest&, const std::string& id) {
    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindAction(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    if (*found) {
      MistralViews views(ctx_);
      const auto& t = (*found)->state.tasks[(*found)->task];
      return Reply(200, views.ActionExecution((*found)->state, t, t.actions[(*found)->action]));
    }
    if (ctx_.resources != nullptr) {
      auto stored = ctx_.resources->Get(kActionKind, id);
      if (!stored.ok()) return FaultFrom(stored.status());
      if (*stored) return Reply(200, **stored);
    }
    return Fault(404, NotFoundMessage("ActionExecution", id));
  }

  HttpResponse CreateActionExecution(const HttpRequest& request) {
    auto body_r = ParseJsonBody(request);
    if (!body_r.ok()) return FaultFrom(body_r.status());
    JsonObject& body = *body_r;
    auto name = StringField(body, "name");
    auto description = StringField(body, "description");
    auto ns = StringField(body, "workflow_namespace");
    for (const auto* r : {&name, &description, &ns}) {
      if (!r->ok()) return FaultFrom(r->status());
    }
    if (name->empty()) return Fault(400, "Please provide at least action name to run action.");
    auto input = ObjectField(body, "input");
    if (!input.ok()) return FaultFrom(input.status());
    auto params = ObjectField(body, "params");
    if (!params.ok()) return FaultFrom(params.status());
    const JsonObject& p = params->as_object();
    auto save_result = BoolValue(Field(p, "save_result"), "save_result");
    auto run_sync = BoolValue(Field(p, "run_sync"), "run_sync");
    if (!save_result.ok()) return FaultFrom(save_result.status());
    if (!run_sync.ok()) return FaultFrom(run_sync.status());
    bool save = save_result->value_or(false);

    const workers::ActionSignature* sig =
        ctx_.actions != nullptr ? ctx_.actions->FindSignature(*name) : nullptr;
    workers::Action* action = ctx_.actions != nullptr ? ctx_.actions->FindAction(*name) : nullptr;
    if (sig == nullptr || action == nullptr) {
      return Fault(400, "Failed to find action [action_name=" + *name + "]");
    }
    if (run_sync->value_or(false) && sig->is_async) {
      return Fault(400, "Action does not support synchronous execution.");
    }
    auto validated = ctx_.actions->ValidateInput(*name, *input);
    if (!validated.ok()) return FaultFrom(validated.status());

    workers::ActionRequest req;
    req.action_name = *name;
    req.input = *validated;
    req.action_execution_id = NewUuid();
    if (const Json* t = Field(p, "timeout"); t && t->is_number()) {
      double secs = t->is_double() ? t->get_double()
                                   : static_cast<double>(t->is_int64() ? t->get_int64() : 0);
      if (secs > 0) req.timeout_ms = static_cast<int64_t>(secs * 1000);
    }
    TimestampUs created = Now();
    // Runs in this API thread (both run_sync and save_result-without-run_sync; see the README).
    workers::CancelToken cancel;
    workers::ActionResult result = action->Run(req, cancel);

    JsonObject rec;
    rec["id"] = req.action_execution_id;
    rec["workflow_name"] = nullptr;
    rec["workflow_namespace"] = *ns;
    rec["task_name"] = nullptr;
    rec["task_execution_id"] = nullptr;
    switch (result.kind) {
      case workers::ActionResult::Kind::kSuccess: rec["state"] = "SUCCESS"; break;
      case workers::ActionResult::Kind::kError: rec["state"] = "ERROR"; break;
      case workers::ActionResult::Kind::kCancelled: rec["state"] = "CANCELLED"; break;
      case workers::ActionResult::Kind::kAsync: rec["state"] = "RUNNING"; break;
    }
    rec["state_info"] = nullptr;
    rec["tags"] = nullptr;
    rec["name"] = *name;
    rec["description"] = *description;
    rec["project_id"] = ctx_.project_id;
    rec["accepted"] = true;
    rec["input"] = JsonString(*input);
    rec["output"] = result.kind == workers::ActionResult::Kind::kAsync
                        ? JsonString(JsonObject())
                        : JsonString(JsonObject{{"result", result.data}});
    rec["created_at"] = MistralTime(created);
    rec["updated_at"] = MistralTime(Now());
    rec["params"] = JsonString(*params);
    if (save) {
      if (ctx_.resources == nullptr) {
        return Fault(500, "save_result needs a resource store, none is configured");
      }
      if (Status s = ctx_.resources->Put(kActionKind, req.action_execution_id, rec); !s.ok()) {
        return FaultFrom(s);
      }
    }
    return Reply(201, rec);
  }

  HttpResponse UpdateActionExecution(const HttpRequest& request, const std::string& id) {
    auto body_r = ParseJsonBody(request);
    if (!body_r.ok()) return FaultFrom(body_r.status());
    JsonObject& body = *body_r;
    auto state_name = StringField(body, "state");
    if (!state_name.ok()) return FaultFrom(state_name.status());
    Json output = nullptr;
    if (const Json* o = Field(body, "output")) {
      auto v = JsonFromField(*o, "output");
      if (!v.ok()) return FaultFrom(v.status());
      output = *v;
    }
    engine::ActionCompleted::Kind kind;
    State to;
    Json data;
    if (*state_name == "SUCCESS") {
      kind = engine::ActionCompleted::Kind::kSuccess;
      to = State::kSuccess;
      data = output;
    } else if (*state_name == "ERROR") {
      kind = engine::ActionCompleted::Kind::kError;
      to = State::kError;
      data = IsTruthy(output) ? output : Json("Unknown error");
    } else if (*state_name == "CANCELLED") {
      kind = engine::ActionCompleted::Kind::kCancelled;
      to = State::kCancelled;
      data = nullptr;
    } else {
      return Fault(400, "Error. Expected one of ['SUCCESS', 'ERROR', 'CANCELLED'], actual: " +
                            (state_name->empty() ? std::string("None") : *state_name));
    }

    auto overlays = LoadOverlays();
    if (!overlays.ok()) return FaultFrom(overlays.status());
    auto found = FindAction(id, *overlays);
    if (!found.ok()) return FaultFrom(found.status());
    MistralViews views(ctx_);
    if (*found) {
      ExecutionState st = std::move((*found)->state);
      size_t ti = (*found)->task, ai = (*found)->action;
      const engine::TaskExecution& task = st.tasks[ti];
      const engine::ActionExecution& action = task.actions[ai];
      if (engine::IsCompleted(action.state)) {
        return Fault(400, "Action execution [id=" + id + "] is already completed [state=" +
                              std::string(engine::StateName(action.state)) + "]");
      }
      if (Status s = ctx_.executions->CompleteAction(st.id, task.id, id, kind, data); !s.ok()) {
        return FaultFrom(s);
      }
      std::string task_id = task.id;
      auto after = WaitFor(st.id, [&](const ExecutionState& s) {
        for (const auto& t : s.tasks)
          for (const auto& a : t.actions)
            if (a.id == id) return engine::IsCompleted(a.state);
        return false;
      });
      if (after) {
        EnsureIndex(*after);
        const auto* t = after->FindTaskById(task_id);
        if (t != nullptr) {
          for (const auto& a : t->actions) {
            if (a.id == id && engine::IsCompleted(a.state)) {
              return Reply(200, views.ActionExecution(*after, *t, a));
            }
          }
        }
      }
      engine::ActionExecution copy = action;
      copy.state = to;
      copy.output = to == State::kCancelled ? Json(JsonObject()) : Json(JsonObject{{"result", data}});
      copy.updated_at = Now();
      return Reply(200, views.ActionExecution(st, task, copy));
    }
    // A directly run (POST /v2/action_executions) async action kept in the resource store.
    if (ctx_.resources != nullptr) {
      auto stored = ctx_.resources->Get(kActionKind, id);
      if (!stored.ok()) return FaultFrom(stored.status());
      if (*stored && (*stored)->is_object()) {
        JsonObject rec = (*stored)->as_object();
        const Json* cur = rec.if_contains("state");
        std::string cur_state = cur && cur->is_string() ? std::string(cur->get_string()) : "";
        auto cur_s = engine::StateFromName(cur_state);
        if (cur_s && engine::IsCompleted(*cur_s)) {
          return Fault(400, "Action execution [id=" + id + "] is already completed [state=" +
                                cur_state + "]");
        }
        rec["state"] = std::string(engine::StateName(to));
        rec["output"] = to == State::kCancelled ? JsonString(JsonObject())
                                                : JsonString(JsonObject{{"result", data}});
        rec["updated_at"] = MistralTime(Now());
        auto swapped = ctx_.resources->CompareAndSwap(kActionKind, id, **stored, Json(rec));
        if (!swapped.ok()) return FaultFrom(swapped.status());
        if (!*swapped) return Fault(409, "Action execution [id=" + id + "] was changed concurrently");
        return Reply(200, rec);
      }
    }
    return Fault(404, NotFoundMessage("ActionExecution", id));
  }

 private:
  ApiContext& ctx_;
  ExecutionsApiOptions options_;
};

// ------------------------------------------------------------------------------------------------------
ExecutionsApi::ExecutionsApi(ApiContext& context, ExecutionsApiOptions options)
    : impl_(std::make_shared<Impl>(context, options)) {}

HttpResponse ExecutionsApi::ListExecutions(const HttpRequest& r) { return impl_->ListExecutions(r); }
HttpResponse ExecutionsApi::CreateExecution(const HttpRequest& r) { return impl_->CreateExecution(r); }
HttpResponse ExecutionsApi::GetExecution(const HttpRequest& r, const std::string& id) {
  return impl_->GetExecution(r, id);
}
HttpResponse ExecutionsApi::UpdateExecution(const HttpRequest& r, const std::string& id) {
  return impl_->UpdateExecution(r, id);
}
HttpResponse ExecutionsApi::DeleteExecution(const HttpRequest& r, const std::string& id) {
  return impl_->DeleteExecution(r, id);
}
HttpResponse ExecutionsApi::ListExecutionTasks(const HttpRequest& r, const std::string& id) {
  return impl_->ListExecutionTasks(r, id);
}
HttpResponse ExecutionsApi::ListSubExecutions(const HttpRequest& r, const std::string& id) {
  return impl_->ListSubExecutions(r, id);
}
HttpResponse ExecutionsApi::GetReport(const HttpRequest& r, const std::string& id) {
  return impl_->GetReport(r, id);
}
HttpResponse ExecutionsApi::ListTasks(const HttpRequest& r) { return impl_->ListTasks(r); }
HttpResponse ExecutionsApi::GetTask(const HttpRequest& r, const std::string& id) {
  return impl_->GetTask(r, id);
}
HttpResponse ExecutionsApi::UpdateTask(const HttpRequest& r, const std::string& id) {
  return impl_->UpdateTask(r, id);
}
HttpResponse ExecutionsApi::ListTaskActionExecutions(const HttpRequest& r, const std::string& id) {
  return impl_->ListTaskActionExecutions(r, id);
}
HttpResponse ExecutionsApi::GetTaskActionExecution(const HttpRequest& r, const std::string& task_id,
                                                   const std::string& action_id) {
  return impl_->GetTaskActionExecution(r, task_id, action_id);
}
HttpResponse ExecutionsApi::DeleteActionExecution(const HttpRequest&, const std::string&) {
  return Fault(403, "Action execution deletion is not allowed.");
}
HttpResponse ExecutionsApi::ListTaskSubExecutions(const HttpRequest& r, const std::string& id) {
  return impl_->ListTaskSubExecutions(r, id);
}
HttpResponse ExecutionsApi::ListActionExecutions(const HttpRequest& r) {
  return impl_->ListActionExecutions(r);
}
HttpResponse ExecutionsApi::GetActionExecution(const HttpRequest& r, const std::string& id) {
  return impl_->GetActionExecution(r, id);
}
HttpResponse ExecutionsApi::CreateActionExecution(const HttpRequest& r) {
  return impl_->CreateActionExecution(r);
}
HttpResponse ExecutionsApi::UpdateActionExecution(const HttpRequest& r, const std::string& id) {
  return impl_->UpdateActionExecution(r, id);
}

void RegisterExecutionsRoutes(http::Router& router, ApiContext& context) {
  RegisterExecutionsRoutes(router, context, ExecutionsApiOptions{});
}

void RegisterExecutionsRoutes(http::Router& router, ApiContext& context,
                              const ExecutionsApiOptions& options) {
  auto impl = std::make_shared<ExecutionsApi>(context, options);
  using P = http::PathParams;
  auto id_of = [](const P& p, const char* key) {
    auto it = p.find(key);
    return it == p.end() ? std::string() : it->second;
  };
  router.Add("GET", "/v2/executions",
             [impl](const HttpRequest& r, const P&) { return impl->ListExecutions(r); });
  router.Add("POST", "/v2/executions",
             [impl](const HttpRequest& r, const P&) { return impl->CreateExecution(r); });
  router.Add("GET", "/v2/executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetExecution(r, id_of(p, "id"));
  });
  router.Add("PUT", "/v2/executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->UpdateExecution(r, id_of(p, "id"));
  });
  router.Add("DELETE", "/v2/executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->DeleteExecution(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/executions/{id}/tasks", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListExecutionTasks(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/executions/{id}/executions", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListSubExecutions(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/executions/{id}/report", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetReport(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks", [impl](const HttpRequest& r, const P&) { return impl->ListTasks(r); });
  router.Add("GET", "/v2/tasks/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetTask(r, id_of(p, "id"));
  });
  router.Add("PUT", "/v2/tasks/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->UpdateTask(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks/{id}/action_executions", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListTaskActionExecutions(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks/{id}/action_executions/{aid}",
             [impl, id_of](const HttpRequest& r, const P& p) {
               return impl->GetTaskActionExecution(r, id_of(p, "id"), id_of(p, "aid"));
             });
  router.Add("GET", "/v2/tasks/{id}/executions", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListTaskSubExecutions(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/tasks/{id}/workflow_executions", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->ListTaskSubExecutions(r, id_of(p, "id"));
  });
  router.Add("GET", "/v2/action_executions",
             [impl](const HttpRequest& r, const P&) { return impl->ListActionExecutions(r); });
  router.Add("POST", "/v2/action_executions",
             [impl](const HttpRequest& r, const P&) { return impl->CreateActionExecution(r); });
  router.Add("GET", "/v2/action_executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->GetActionExecution(r, id_of(p, "id"));
  });
  router.Add("PUT", "/v2/action_executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->UpdateActionExecution(r, id_of(p, "id"));
  });
  // Mistral's default ([api] allow_action_execution_deletion = False).
  router.Add("DELETE", "/v2/action_executions/{id}", [impl, id_of](const HttpRequest& r, const P& p) {
    return impl->DeleteActionExecution(r, id_of(p, "id"));
  });
}

}  // namespace bora::api
