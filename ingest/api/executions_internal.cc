// Shared parts of the executions resources (executions_internal.h): request helpers and
// ExecutionsApi::Impl's state access, overlays, waits and records.
#include "ingest/api/executions_internal.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "common/bus/bus.h"
#include "common/thread_annotations.h"

namespace bora::api {
namespace executions_internal {

const std::set<std::string> kTaskFilters = {"id",
                                            "name",
                                            "type",
                                            "workflow_name",
                                            "workflow_namespace",
                                            "workflow_id",
                                            "workflow_execution_id",
                                            "tags",
                                            "state",
                                            "state_info",
                                            "project_id",
                                            "runtime_context",
                                            "result",
                                            "published",
                                            "published_global",
                                            "processed",
                                            "created_at",
                                            "updated_at",
                                            "started_at",
                                            "finished_at"};

const std::set<std::string> kActionFilters = {"id",
                                              "workflow_name",
                                              "workflow_namespace",
                                              "task_name",
                                              "task_execution_id",
                                              "state",
                                              "state_info",
                                              "tags",
                                              "name",
                                              "description",
                                              "project_id",
                                              "accepted",
                                              "input",
                                              "output",
                                              "created_at",
                                              "updated_at",
                                              "params"};

const std::set<std::string> kNonFilters = {"include_output", "all_projects"};
const std::set<std::string> kExecutionFilters = {"id",
                                                 "workflow_id",
                                                 "workflow_name",
                                                 "workflow_namespace",
                                                 "description",
                                                 "tags",
                                                 "params",
                                                 "task_execution_id",
                                                 "root_execution_id",
                                                 "source_execution_id",
                                                 "state",
                                                 "state_info",
                                                 "input",
                                                 "output",
                                                 "created_at",
                                                 "updated_at",
                                                 "project_id",
                                                 "published_global"};
const std::set<std::string> kExecutionNonFilters = {"include_output", "all_projects", "search",
                                                    "created_before"};

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

void EnsureIndex(ExecutionState& st) {
  if (st.index.task_by_id.size() != st.tasks.size()) st.RebuildIndex();
}

}  // namespace executions_internal

PartitionId ExecutionsApi::Impl::PartitionOf(const std::string& id) const {
  return PartitionId(ctx_.partitions > 0 ? PartitionForKey(id, ctx_.partitions) : 0);
}

Status ExecutionsApi::Impl::CheckBackend() const {
  if (ctx_.states == nullptr || ctx_.executions == nullptr) {
    return Internal("the executions API has no state store / execution client configured");
  }
  return Status::Ok();
}

Result<ExecutionsApi::Impl::Overlays> ExecutionsApi::Impl::LoadOverlays(
    const HttpRequest& request) {
  HttpRequest scoped = request;
  // ProjectScoped over no records: only its all_projects check and rule are wanted.
  BORA_ASSIGN_OR_RETURN(auto o, LoadOverlays());
  o.caller = CallerOf(request, ctx_.project_id);
  BORA_RETURN_IF_ERROR(ProjectScoped(o.caller, &scoped, {}).status());
  o.list_all = false;
  for (const auto& [k, v] : request.query) {
    if (k == "project_id" && o.caller.is_admin) o.list_all = true;
    if (k == "all_projects") {
      Json b(v);
      auto all = BoolValue(&b, "all_projects");
      if (all.ok() && all->value_or(false)) o.list_all = true;
    }
  }
  return o;
}

Result<ExecutionsApi::Impl::Overlays> ExecutionsApi::Impl::LoadOverlays() {
  Overlays o;
  o.default_project = ctx_.project_id;
  if (ctx_.resources == nullptr) return o;
  BORA_ASSIGN_OR_RETURN(auto deleted, ctx_.resources->List(kDeletedKind));
  for (auto& [k, v] : deleted) o.deleted.insert(k);
  BORA_ASSIGN_OR_RETURN(auto meta, ctx_.resources->List(kMetaKind));
  for (auto& [k, v] : meta) o.meta.emplace(k, std::move(v));
  return o;
}

Result<std::optional<ExecutionState>> ExecutionsApi::Impl::ReadRaw(const std::string& id) {
  BORA_RETURN_IF_ERROR(CheckBackend());
  if (id.empty()) return std::optional<ExecutionState>();
  BORA_ASSIGN_OR_RETURN(auto st, ctx_.states->ReadExecution(PartitionOf(id), ExecutionId(id)));
  if (st) EnsureIndex(*st);
  return st;
}

Result<std::optional<ExecutionState>> ExecutionsApi::Impl::Find(const std::string& id,
                                                                const Overlays& overlays) {
  if (overlays.deleted.count(id)) return std::optional<ExecutionState>();
  BORA_ASSIGN_OR_RETURN(auto st, ReadRaw(id));
  if (st && !overlays.Readable(*st)) return std::optional<ExecutionState>();
  return st;
}

Result<std::optional<ExecutionState>> ExecutionsApi::Impl::FindHead(const std::string& id,
                                                                    const Overlays& overlays) {
  BORA_RETURN_IF_ERROR(CheckBackend());
  if (id.empty() || overlays.deleted.count(id)) return std::optional<ExecutionState>();
  BORA_ASSIGN_OR_RETURN(auto st, ctx_.states->ReadExecutionHead(PartitionOf(id), ExecutionId(id)));
  if (st && !overlays.Readable(*st)) return std::optional<ExecutionState>();
  return st;
}

Result<std::vector<ExecutionState>> ExecutionsApi::Impl::All(const Overlays& overlays) {
  BORA_RETURN_IF_ERROR(CheckBackend());
  std::vector<ExecutionState> out;
  int parts = std::max(1, ctx_.partitions);
  for (int p = 0; p < parts; ++p) {
    BORA_ASSIGN_OR_RETURN(auto ids, ctx_.states->ListExecutionIds(PartitionId(p)));
    std::vector<store::ExecutionKey> keys;
    keys.reserve(ids.size());
    for (auto& id : ids) {
      if (!overlays.deleted.count(id.value())) keys.push_back({PartitionId(p), std::move(id)});
    }
    for (auto& st : ctx_.states->ReadExecutions(keys)) {
      if (!st.ok()) return st.status();
      if (!st->has_value()) continue;  // gone since it was listed
      if (!overlays.Listed(**st)) continue;
      EnsureIndex(**st);
      out.push_back(std::move(**st));
    }
  }
  return out;
}

Result<std::vector<ExecutionState>> ExecutionsApi::Impl::AllHeads(const Overlays& overlays) {
  BORA_RETURN_IF_ERROR(CheckBackend());
  std::vector<ExecutionState> out;
  int parts = std::max(1, ctx_.partitions);
  for (int p = 0; p < parts; ++p) {
    BORA_ASSIGN_OR_RETURN(auto heads, ctx_.states->ReadExecutionHeads(PartitionId(p)));
    for (auto& st : heads) {
      if (!overlays.deleted.count(st.id) && overlays.Listed(st)) out.push_back(std::move(st));
    }
  }
  return out;
}

Result<std::optional<std::vector<Json>>> ExecutionsApi::Impl::Page(const ListQuery& q,
                                                                   const Overlays& overlays,
                                                                   MistralViews& views) {
  using Out = std::optional<std::vector<Json>>;
  BORA_RETURN_IF_ERROR(CheckBackend());
  if (q.sort_keys != std::vector<std::string>{"created_at"} ||
      q.sort_dirs != std::vector<std::string>{"asc"}) {
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
      if (overlays.deleted.count(h.id) || !overlays.Listed(h) || out.size() >= want) continue;
      Json record = ExecutionRecord(views, h, true, overlays);
      bool pass = true;
      for (const auto& f : q.filters) pass = pass && MatchesFilter(record, f);
      if (pass) out.push_back(std::move(record));
    }
    if (heads.empty()) break;  // (a short page may only mean an execution deleted meanwhile)
  }
  return Out(std::move(out));
}

Status ExecutionsApi::Impl::Search(const std::string& id, const Overlays& overlays,
                                   const std::function<bool(ExecutionState&)>& found) {
  BORA_RETURN_IF_ERROR(CheckBackend());
  BORA_ASSIGN_OR_RETURN(auto key, ctx_.states->FindExecutionOf(id));
  if (key && !overlays.deleted.count(key->execution_id.value())) {
    BORA_ASSIGN_OR_RETURN(auto st, ctx_.states->ReadExecution(key->partition, key->execution_id));
    if (st && overlays.Readable(*st)) {
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

Result<std::optional<std::pair<ExecutionState, size_t>>> ExecutionsApi::Impl::FindTask(
    const std::string& task_id, const Overlays& overlays) {
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

Result<std::optional<ExecutionsApi::Impl::ActionRef>> ExecutionsApi::Impl::FindAction(
    const std::string& action_id, const Overlays& overlays) {
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

std::optional<ExecutionState> ExecutionsApi::Impl::WaitFor(
    const std::string& id, const std::function<bool(const ExecutionState&)>& done, bool head_only) {
  auto deadline = std::chrono::steady_clock::now() + options_.change_wait;
  std::optional<ExecutionState> last;
  Mutex mu;
  CondVar cv;  // never notified: a bounded pause between reads
  // The first reads come quickly (an embedded orchestrator applies a change in well under a
  // millisecond), then the pause doubles up to poll_interval.
  std::chrono::microseconds pause{250};
  while (true) {
    auto st =
        head_only ? ctx_.states->ReadExecutionHead(PartitionOf(id), ExecutionId(id)) : ReadRaw(id);
    if (st.ok() && st->has_value()) {
      last = std::move(**st);
      if (done(*last)) return last;
    }
    if (std::chrono::steady_clock::now() >= deadline) return last;
    MutexLock lock(mu);
    cv.WaitFor(mu, pause);
    pause = std::min<std::chrono::microseconds>(pause * 2, options_.poll_interval);
  }
}

TimestampUs ExecutionsApi::Impl::Now() const { return ctx_.Now(); }

Json ExecutionsApi::Impl::ExecutionRecord(MistralViews& views, const ExecutionState& st,
                                          bool include_output, const Overlays& overlays) {
  Json rec = views.Execution(st, include_output);
  auto it = overlays.meta.find(st.id);
  if (it != overlays.meta.end() && it->second.is_object()) {
    if (const Json* d = it->second.as_object().if_contains("description")) {
      rec.as_object()["description"] = *d;
    }
  }
  return rec;
}

HttpResponse ExecutionsApi::Impl::ListReply(std::vector<Json> records, const ListQuery& q,
                                            const std::string& collection,
                                            const HttpRequest& request) {
  auto reply = TryApplyListQuery(std::move(records), q, collection, request);
  if (!reply.ok()) return FaultFrom(reply.status());
  return Reply(200, *reply);
}

Result<ExecutionsApi::Impl::SubFilters> ExecutionsApi::Impl::ParseSubFilters(
    const HttpRequest& request) {
  SubFilters f;
  BORA_ASSIGN_OR_RETURN(f.errors_only, QueryBool(request, "errors_only", false));
  BORA_ASSIGN_OR_RETURN(f.max_depth, QueryInt(request, "max_depth", -1));
  BORA_ASSIGN_OR_RETURN(f.include_output, QueryBool(request, "include_output", false));
  return f;
}

void ExecutionsApi::Impl::ExecutionSubs(const ExecutionState& st, const SubFilters& f,
                                        int64_t depth, MistralViews& views,
                                        const Overlays& overlays, JsonArray* out) {
  if (f.max_depth >= 0 && f.max_depth < depth) return;
  if (depth > 64) return;
  out->push_back(ExecutionRecord(views, st, f.include_output, overlays));
  for (const auto& t : st.tasks) TaskSubs(t, f, depth + 1, views, overlays, out);
}

void ExecutionsApi::Impl::TaskSubs(const engine::TaskExecution& t, const SubFilters& f,
                                   int64_t depth, MistralViews& views, const Overlays& overlays,
                                   JsonArray* out) {
  if (f.errors_only && t.state != State::kError) return;
  for (const auto& a : t.actions) {
    if (!a.is_workflow) continue;
    auto child = Find(a.id, overlays);
    if (child.ok() && *child) ExecutionSubs(**child, f, depth, views, overlays, out);
  }
}

}  // namespace bora::api
