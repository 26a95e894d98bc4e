// Bora's own read endpoints for live views (the web console): execution counts by state, task
// summaries and change markers for the execution stream, and a task's action executions by item
// index. Mistral has none of them; their shapes are in openapi.json.
#include <algorithm>

#include "ingest/api/executions_internal.h"

namespace bora::api {
namespace {

constexpr engine::State kCountedStates[] = {State::kIdle,    State::kRunning, State::kPaused,
                                            State::kSuccess, State::kError,   State::kCancelled};

}  // namespace

namespace executions_internal {

Result<std::vector<Filter>> ConsoleFilters(const HttpRequest& request) {
  std::vector<Filter> out;
  if (const std::string text = request.Query("search"); !text.empty()) {
    if (text.size() > 1000) return InvalidArgument("search: longer than 1000 characters");
    Filter f;
    f.op = "search";
    f.values = {AsciiLower(text)};
    f.search_fields = {"id", "workflow_name", "description", "state_info"};
    out.push_back(std::move(f));
  }
  // Mistral's filters take one condition per field: a time range needs a second one.
  if (const std::string before = request.Query("created_before"); !before.empty()) {
    out.push_back(Filter{"created_at", "lte", {before}, {}});
  }
  return out;
}

}  // namespace executions_internal

Result<HttpResponse> ExecutionsApi::Impl::CountExecutions(const HttpRequest& request) {
  BORA_ASSIGN_OR_RETURN(auto q, ParseListQuery(request, kExecutionFilters, ctx_.limits.max_limit,
                                               kExecutionNonFilters));
  BORA_ASSIGN_OR_RETURN(auto more, ConsoleFilters(request));
  for (auto& f : more) q.filters.push_back(std::move(f));
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto all, AllHeads(overlays));
  MistralViews views(ctx_);
  std::map<std::string, int64_t> counts;
  for (State s : kCountedStates) counts[std::string(engine::StateName(s))] = 0;
  int64_t total = 0;
  for (const auto& st : all) {
    if (!q.filters.empty()) {
      Json record = ExecutionRecord(views, st, false, overlays);
      bool pass = true;
      for (const auto& f : q.filters) pass = pass && MatchesFilter(record, f);
      if (!pass) continue;
    }
    ++counts[std::string(engine::StateName(st.state))];
    ++total;
  }
  JsonObject by_state;
  for (const auto& [name, n] : counts) by_state[name] = n;
  return Reply(200, JsonObject{{"counts", std::move(by_state)}, {"total", total}});
}

Result<std::string> ExecutionsApi::Impl::ChangeMarker(const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays());
  BORA_ASSIGN_OR_RETURN(auto st, FindHead(id, overlays));
  if (!st) return NotFound(NotFoundMessage("WorkflowExecution", id));
  // Every applied event sets updated_at; a new task or action takes an id from id_counter.
  auto meta = overlays.meta.find(id);
  return std::to_string(st->updated_at) + "/" + std::to_string(st->id_counter) + "/" +
         std::string(engine::StateName(st->state)) + "/" +
         (meta == overlays.meta.end() ? std::string() : DumpJson(meta->second));
}

Json ExecutionsApi::Impl::TaskSummary(const engine::TaskExecution& t) {
  JsonObject o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["state"] = engine::StateName(t.state);
  o["state_info"] = t.state_info ? Json(*t.state_info) : Json(nullptr);
  o["type"] = t.type == engine::TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
  o["created_at"] = MistralTime(t.created_at);
  o["started_at"] = MistralTime(t.started_at);
  o["finished_at"] = MistralTime(t.finished_at);
  o["updated_at"] = MistralTime(t.updated_at);
  o["retry_no"] = t.retry_no;
  o["actions"] = static_cast<int64_t>(t.actions.size());
  if (t.with_items.enabled) {
    o["items"] = JsonObject{{"total", t.with_items.count},
                            {"success", t.with_items.succeeded},
                            {"error", t.with_items.failed},
                            {"running", t.with_items.running}};
  } else {
    o["items"] = nullptr;
  }
  JsonArray subs;
  for (const auto& a : t.actions) {
    if (a.is_workflow) subs.push_back(Json(a.id));
  }
  o["sub_executions"] = std::move(subs);
  // An external action's pool (its workers pull it over the worker API): where the task waits when
  // no worker takes it (GET /v2/workers says how many wait there).
  std::string pool;
  if (ctx_.actions != nullptr && !t.actions.empty() && !t.actions.back().is_workflow) {
    if (const auto* sig = ctx_.actions->FindSignature(t.actions.back().name)) pool = sig->pool;
  }
  o["worker_pool"] = pool.empty() ? Json(nullptr) : Json(pool);
  return o;
}

Result<std::vector<std::pair<std::string, Json>>> ExecutionsApi::Impl::TaskSummaries(
    const std::string& id) {
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays());
  BORA_ASSIGN_OR_RETURN(auto st, Find(id, overlays));
  if (!st) return NotFound(NotFoundMessage("WorkflowExecution", id));
  std::vector<std::pair<std::string, Json>> out;
  out.reserve(st->tasks.size());
  for (const auto& t : st->tasks) out.emplace_back(t.id, TaskSummary(t));
  return out;
}

Result<HttpResponse> ExecutionsApi::Impl::ListTaskItems(const HttpRequest& request,
                                                        const std::string& id) {
  for (const auto& [key, value] : request.query) {
    if (key != "offset" && key != "limit" && key != "state") {
      return Fault(400, "Unknown parameter '" + key + "' (offset, limit and state are)");
    }
  }
  BORA_ASSIGN_OR_RETURN(int64_t offset, QueryInt(request, "offset", 0));
  BORA_ASSIGN_OR_RETURN(int64_t limit, QueryInt(request, "limit", 100));
  if (offset < 0) return Fault(400, "offset: must be 0 or more");
  if (limit < 1 || limit > static_cast<int64_t>(ctx_.limits.max_limit)) {
    return Fault(400, "limit: must be 1.." + std::to_string(ctx_.limits.max_limit));
  }
  std::optional<State> state;
  if (request.HasQuery("state")) {
    const std::string name = request.Query("state");
    state = engine::StateFromName(name);
    if (!state) return Fault(400, "state: not a state: '" + name + "'");
  }
  BORA_ASSIGN_OR_RETURN(auto overlays, LoadOverlays(request));
  BORA_ASSIGN_OR_RETURN(auto found, FindTask(id, overlays));
  if (!found) return Fault(404, NotFoundMessage("TaskExecution", id));
  const engine::TaskExecution& t = found->first.tasks[found->second];
  // Item order; for one item, creation order (its attempts).
  std::vector<const engine::ActionExecution*> actions;
  actions.reserve(t.actions.size());
  for (const auto& a : t.actions) {
    if (!state || a.state == *state) actions.push_back(&a);
  }
  std::stable_sort(actions.begin(), actions.end(),
                   [](const auto* a, const auto* b) { return a->index < b->index; });
  JsonArray items;
  const size_t begin = std::min(actions.size(), static_cast<size_t>(offset));
  const size_t end = std::min(actions.size(), begin + static_cast<size_t>(limit));
  for (size_t i = begin; i < end; ++i) {
    const engine::ActionExecution& a = *actions[i];
    items.push_back(JsonObject{{"index", a.index},
                               {"action_execution_id", a.id},
                               {"name", a.adhoc_name.empty() ? a.name : a.adhoc_name},
                               {"state", engine::StateName(a.state)},
                               {"state_info", a.state_info ? Json(*a.state_info) : Json(nullptr)},
                               {"accepted", a.accepted},
                               {"attempt", a.attempt},
                               {"is_workflow", a.is_workflow},
                               {"created_at", MistralTime(a.created_at)},
                               {"updated_at", MistralTime(a.updated_at)}});
  }
  return Reply(200, JsonObject{{"total", static_cast<int64_t>(actions.size())},
                               {"items", std::move(items)}});
}

HttpResponse ExecutionsApi::CountExecutions(const HttpRequest& r) {
  return ReplyOrFault(impl_->CountExecutions(r));
}
HttpResponse ExecutionsApi::ListTaskItems(const HttpRequest& r, const std::string& id) {
  return ReplyOrFault(impl_->ListTaskItems(r, id));
}
Result<std::string> ExecutionsApi::ChangeMarker(const std::string& id) {
  return impl_->ChangeMarker(id);
}
Result<std::vector<std::pair<std::string, Json>>> ExecutionsApi::TaskSummaries(
    const std::string& id) {
  return impl_->TaskSummaries(id);
}

}  // namespace bora::api
