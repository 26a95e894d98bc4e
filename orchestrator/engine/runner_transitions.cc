// The Runner (runner.h): transitions of a completed task and their dispatch (engine commands
// included), joins, reverse workflows.

#include "common/check.h"
#include "orchestrator/engine/runner.h"

namespace bora::engine {

// ------------------------------------------------------------------------------- inbound tasks
// Inbound task names of `name` (tasks naming it in any on-* clause), in document order. The map
// is built lazily once per Apply, so events that need no graph queries (most completions) do not
// pay for it.
const std::vector<std::string>& Runner::InboundOf(const std::string& name) {
  static const std::vector<std::string> kNone;
  if (!inbound_) {
    inbound_.emplace();
    for (const auto& t : spec_->tasks) {
      std::set<std::string> targets;
      for (const auto* c : {&t.on_success, &t.on_error, &t.on_complete, &t.on_skip}) {
        if (!c->has_value()) continue;
        for (const auto& item : (*c)->next) {
          if (item.kind == TransitionItem::Kind::kTask && targets.insert(item.task_name).second) {
            (*inbound_)[item.task_name].push_back(t.name);
          }
        }
      }
    }
  }
  auto it = inbound_->find(name);
  return it == inbound_->end() ? kNone : it->second;
}

// --------------------------------------------------------------------------------- transitions
Result<std::vector<FiredItem>> Runner::EvalClause(const std::optional<lang::OnClause>& clause,
                                                  const char* event, const Json& data, size_t ti) {
  std::vector<FiredItem> out;
  if (!clause) return out;
  for (const auto& item : clause->next) {
    if (item.condition) {
      BORA_ASSIGN_OR_RETURN(Json c, Eval(*item.condition, data, ti));
      if (!IsTruthy(c)) continue;
    }
    FiredItem f{item.kind, item.task_name, std::nullopt, event};
    if (item.msg) {
      BORA_ASSIGN_OR_RETURN(Json m, Eval(*item.msg, data, ti));
      f.msg = MessageText(m);
    }
    out.push_back(std::move(f));
  }
  return out;
}

void Runner::ProcessTransitions(size_t ti) {
  const lang::TaskSpec& ts = *spec_->FindTask(MutTask(ti).name);
  State s = MutTask(ti).state;
  Json data = TaskData(ti, nullptr, /*outbound=*/true);
  std::vector<FiredItem> fired;
  bool error_handled = false;
  auto add = [&](const std::optional<lang::OnClause>& c, const char* ev) -> Status {
    BORA_ASSIGN_OR_RETURN(auto items, EvalClause(c, ev, data, ti));
    for (auto& i : items) fired.push_back(std::move(i));
    return Status::Ok();
  };
  Status status;
  if (s == State::kError) {
    status = add(ts.on_error, "on-error");
    error_handled = !fired.empty();
    if (status.ok()) status = add(ts.on_complete, "on-complete");
  } else if (s == State::kSuccess) {
    status = add(ts.on_success, "on-success");
    if (status.ok()) status = add(ts.on_complete, "on-complete");
  } else if (s == State::kSkipped) {
    status = add(ts.on_skip, "on-skip");
    if (status.ok() && fired.empty()) status = add(ts.on_success, "on-success");
  }
  if (!status.ok()) return ForceFail(ti, CompleteError(ti, status.message()));
  TaskExecution& t = MutTask(ti);
  t.processed = true;
  t.error_handled = error_handled;
  t.next_task_names.clear();
  t.has_next_tasks = false;
  for (const auto& f : fired) {
    if (f.kind == TransitionItem::Kind::kTask) {
      t.next_task_names.push_back(f.task_name);
      t.has_next_tasks = true;
    }
  }
  Dispatch(ti, fired);
}

// Mistral's dispatcher: tasks start in order until a state command; fail/succeed drop the rest,
// pause backlogs the rest.
void Runner::Dispatch(size_t ti, const std::vector<FiredItem>& fired) {
  std::string from_id = MutTask(ti).id;
  bool paused_by_cmd = false;
  for (const auto& f : fired) {
    switch (f.kind) {
      case TransitionItem::Kind::kNoop:
        break;
      case TransitionItem::Kind::kTask:
        if (paused_by_cmd || st_.state == State::kPaused) {
          st_.backlog.push_back({f.task_name, from_id, f.event});
        } else if (WfRunning()) {
          StartNext(f.task_name, from_id, f.event);
        }
        break;
      case TransitionItem::Kind::kFail:
        if (WfRunning() || st_.state == State::kPaused) {
          CompleteWorkflow(State::kError, f.msg ? f.msg : DefaultFailInfo());
        }
        return;
      case TransitionItem::Kind::kSucceed:
        if (WfRunning() || st_.state == State::kPaused) CompleteWorkflow(State::kSuccess, f.msg);
        return;
      case TransitionItem::Kind::kPause:
        if (WfRunning()) {
          EnterPaused();
          st_.state_info = f.msg;
          paused_by_cmd = true;
        }
        break;
    }
  }
}

void Runner::StartNext(const std::string& name, const std::string& from_task_id,
                       const std::string& event) {
  const TaskExecution* from = st_.FindTaskById(from_task_id);
  Json ctx = from ? from->OutboundContext() : Json(JsonObject());
  std::map<std::string, int64_t> versions =
      from ? from->context_versions : std::map<std::string, int64_t>();
  std::optional<TriggeredBy> trig;
  if (from) trig = TriggeredBy{from_task_id, event};
  StartTask(name, std::move(ctx), std::move(versions), std::move(trig));
}

// --------------------------------------------------------------------------------------- joins
// Induced state of one inbound task for join `join_name`: kRunning (satisfied), kWaiting, kError.
State Runner::InducedJoinState(const std::string& inbound, const std::string& join_name) {
  const TaskExecution* t = st_.FindLatestTask(inbound);
  if (t == nullptr) {
    std::set<std::string> visited;
    return PossibleRoute(inbound, visited) ? State::kWaiting : State::kError;
  }
  if (!IsCompleted(t->state) || !t->processed) return State::kWaiting;
  if (std::find(t->next_task_names.begin(), t->next_task_names.end(), join_name) ==
      t->next_task_names.end()) {
    return State::kError;
  }
  return State::kRunning;
}

// Whether a not-yet-started task may still run (Mistral's _possible_route).
// `visited` makes it linear in the graph size (a task already explored adds no new route).
bool Runner::PossibleRoute(const std::string& name, std::set<std::string>& visited) {
  if (!visited.insert(name).second) return false;
  std::vector<std::string> in = InboundOf(name);
  if (in.empty()) return false;  // a start task that did not run will never run
  for (const auto& n : in) {
    const TaskExecution* t = st_.FindLatestTask(n);
    if (t == nullptr) {
      if (PossibleRoute(n, visited)) return true;
    } else if (!IsCompleted(t->state) || !t->processed ||
               std::find(t->next_task_names.begin(), t->next_task_names.end(), name) !=
                   t->next_task_names.end()) {
      return true;
    }
  }
  return false;
}

void Runner::EvaluateJoins() {
  if (spec_->type != lang::WorkflowType::kDirect || !WfRunning()) return;
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<std::pair<std::string, size_t>> waiting;
    for (const auto& [name, ti] : st_.index.join_task_by_name) {
      if (MutTask(ti).state == State::kWaiting) waiting.emplace_back(name, ti);
    }
    std::sort(waiting.begin(), waiting.end(), [](auto& a, auto& b) { return a.second < b.second; });
    for (const auto& [name, ti] : waiting) {
      if (MutTask(ti).state != State::kWaiting) continue;
      if (EvaluateJoin(ti, /*force=*/false)) changed = true;
    }
  }
}

// Returns true if the join left WAITING.
bool Runner::EvaluateJoin(size_t ti, bool force) {
  const std::string name = MutTask(ti).name;
  const lang::TaskSpec& ts = *spec_->FindTask(name);
  std::vector<std::string> inbound = InboundOf(name);
  std::vector<std::string> satisfied, errors, blocked;
  for (const auto& in : inbound) {
    State s = InducedJoinState(in, name);
    if (s == State::kRunning)
      satisfied.push_back(in);
    else if (s == State::kError)
      errors.push_back(in);
    else
      blocked.push_back(in);
  }
  int64_t total = static_cast<int64_t>(inbound.size());
  int64_t need = ts.join == lang::JoinKind::kAll
                     ? total
                     : (ts.join == lang::JoinKind::kOne ? 1 : ts.join_count);
  bool run = static_cast<int64_t>(satisfied.size()) >= need;
  if (ts.join == lang::JoinKind::kAll && !errors.empty()) run = false;
  bool fail = ts.join == lang::JoinKind::kAll ? !errors.empty()
                                              : static_cast<int64_t>(errors.size()) > total - need;
  if (force && !run) {
    fail = true;
    for (auto& b : blocked) errors.push_back(b);
  }
  if (run) {
    // Merge upstream outbound contexts with context versioning (higher version wins, ties keep
    // first).
    JsonObject ctx;
    std::map<std::string, int64_t> versions;
    for (const auto& in : satisfied) {
      const TaskExecution* u = st_.FindLatestTask(in);
      // InducedJoinState says kRunning only for an inbound task that ran.
      BORA_DCHECK(u != nullptr) << "join " << name << " satisfied by " << in << ", which never ran";
      Json out = u->OutboundContext();
      for (const auto& kv : out.get_object()) {
        std::string key(kv.key());
        auto vit = u->context_versions.find(key);
        int64_t v = vit == u->context_versions.end() ? 0 : vit->second;
        auto cur = versions.find(key);
        if (!ctx.contains(key) || (cur != versions.end() && v > cur->second) ||
            (cur == versions.end() && v > 0)) {
          ctx[key] = kv.value();
          versions[key] = v;
        }
      }
    }
    TaskExecution& t = MutTask(ti);
    t.in_context = std::move(ctx);
    t.context_versions = std::move(versions);
    SetTaskState(ti, State::kIdle);
    RunTaskPolicies(ti);
    return true;
  }
  if (fail) {
    Finalize(ti, State::kError, "Failed by tasks: " + PyList(errors));
    return true;
  }
  return false;
}

// ------------------------------------------------------------------------------------- reverse
// Starts every needed task whose requirements all succeeded.
void Runner::ReverseContinue() {
  std::string target;
  if (st_.params.is_object()) {
    if (const Json* v = st_.params.get_object().if_contains("task_name"); v && v->is_string()) {
      target = std::string(v->get_string());
    }
  }
  // DFS post-order over `requires` from the target.
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    if (!seen.insert(n).second) return;
    const lang::TaskSpec* ts = spec_->FindTask(n);
    if (!ts) return;
    for (const auto& r : ts->requires_tasks) visit(r);
    order.push_back(n);
  };
  visit(target);
  for (const auto& n : order) {
    if (!WfRunning()) return;
    if (st_.FindLatestTask(n) != nullptr) continue;
    const lang::TaskSpec* ts = spec_->FindTask(n);
    bool ready = true;
    JsonObject ctx;
    std::map<std::string, int64_t> versions;
    for (const auto& r : ts->requires_tasks) {
      const TaskExecution* rt = st_.FindLatestTask(r);
      if (rt == nullptr || rt->state != State::kSuccess || !rt->processed) {
        ready = false;
        break;
      }
      Overlay(ctx, rt->OutboundContext());
      for (const auto& [k, v] : rt->context_versions) versions[k] = std::max(versions[k], v);
    }
    if (!ready) continue;
    StartTask(n, Json(std::move(ctx)), std::move(versions), std::nullopt);
  }
}

}  // namespace bora::engine
