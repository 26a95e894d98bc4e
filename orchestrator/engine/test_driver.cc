#include "orchestrator/engine/test_driver.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "orchestrator/language/parser.h"
#include "workers/action.h"

namespace bora::engine::testing {

namespace {

workers::ActionParam Req(std::string name) { return {std::move(name), true, nullptr}; }
workers::ActionParam Opt(std::string name, Json def = nullptr) {
  return {std::move(name), false, std::move(def)};
}

void RegisterFakeSignatures(workers::ActionRegistry& r) {
  r.Register({"std.noop", {}, false, false, "", ""}, nullptr);
  r.Register({"std.echo", {Req("output"), Opt("delay", 0)}, false, false, "", ""}, nullptr);
  r.Register({"std.fail", {Opt("error_data")}, false, false, "", ""}, nullptr);
  r.Register({"std.sleep", {Opt("seconds", 1)}, false, false, "", ""}, nullptr);
  r.Register({"std.async_noop", {}, false, true, "", ""}, nullptr);
  r.Register({"std.http",
              {Req("url"), Opt("method", "GET"), Opt("params"), Opt("body"), Opt("json"),
               Opt("headers"), Opt("cookies"), Opt("auth"), Opt("timeout"), Opt("allow_redirects"),
               Opt("proxies"), Opt("verify")},
              false,
              false,
              "",
              ""},
             nullptr);
  r.Register({"test.script", {}, true, false, "", ""}, nullptr);
  r.Register({"test.async", {}, true, true, "", ""}, nullptr);
}

}  // namespace

TestDriver::TestDriver(EngineLimits limits) {
  RegisterFakeSignatures(registry_);
  engine_ = std::make_unique<Engine>(&definitions_, &registry_, limits);
}

Status TestDriver::LoadYaml(std::string_view yaml, const std::string& namespace_name) {
  return definitions_.AddYaml(yaml, namespace_name);
}

Result<std::string> TestDriver::Start(const std::string& workflow, const Json& input,
                                      const Json& params, const std::string& namespace_name) {
  StartExecution start;
  start.execution_id = DeriveId("test-driver", ++exec_counter_);
  start.workflow_name = workflow;
  start.workflow_namespace = namespace_name;
  start.input = input;
  start.params = params;
  ExecutionState st;
  std::vector<Command> cmds;
  BORA_RETURN_IF_ERROR(engine_->Apply(st, start, now_, &cmds));
  executions_[start.execution_id] = std::move(st);
  start_order_.push_back(start.execution_id);
  for (auto& c : cmds) Handle(c);
  BORA_RETURN_IF_ERROR(Run());
  return start.execution_id;
}

Status TestDriver::Send(const Event& event) {
  BORA_RETURN_IF_ERROR(ApplyNow(event));
  return Run();
}

Status TestDriver::ApplyNow(const Event& event) {
  std::vector<Command> cmds;
  Status status;
  if (const auto* start = std::get_if<StartExecution>(&event)) {
    ExecutionState st;
    status = engine_->Apply(st, event, now_, &cmds);
    if (status.ok()) {
      executions_[start->execution_id] = std::move(st);
      start_order_.push_back(start->execution_id);
    }
  } else {
    auto it = executions_.find(EventExecutionId(event));
    if (it == executions_.end()) return NotFound("no execution " + EventExecutionId(event));
    status = engine_->Apply(it->second, event, now_, &cmds);
  }
  if (round_trip_) {
    auto it = executions_.find(EventExecutionId(event));
    if (it != executions_.end()) {
      auto back = ExecutionState::FromJson(ParseJson(DumpJson(it->second.ToJson())).value());
      if (!back.ok()) {
        errors_.push_back("round trip: " + back.status().ToString());
      } else {
        it->second = std::move(back).value();
      }
    }
  }
  for (auto& c : cmds) Handle(c);
  return status;
}

Status TestDriver::Run() {
  for (int steps = 0; steps < 2000000; ++steps) {
    if (queue_pos_ < queue_.size()) {
      Event ev = std::move(queue_[queue_pos_++]);
      if (queue_pos_ == queue_.size()) {
        queue_.clear();
        queue_pos_ = 0;
      }
      Status s = ApplyNow(ev);
      if (!s.ok()) errors_.push_back(std::string(EventName(ev)) + ": " + s.ToString());
      continue;
    }
    if (timers_.empty()) return Status::Ok();
    auto it = timers_.begin();
    now_ = std::max(now_, it->first);
    auto [exec_id, timer_id] = it->second;
    timers_.erase(it);
    queue_.push_back(TimerFired{exec_id, timer_id});
  }
  return ResourceExhausted("test driver: step limit reached (infinite loop?)");
}

void TestDriver::Handle(const Command& cmd) {
  commands_.push_back(cmd);
  if (const auto* run = std::get_if<RunAction>(&cmd)) {
    ActionCompleted done;
    done.execution_id = run->execution_id;
    done.task_execution_id = run->task_execution_id;
    done.action_execution_id = run->action_execution_id;
    const std::string& n = run->action_name;
    const JsonObject& in = run->input.get_object();
    if (n == "std.echo") {
      done.data = in.at("output");
    } else if (n == "std.noop" || n == "std.sleep") {
      done.data = nullptr;
    } else if (n == "std.fail") {
      done.kind = ActionCompleted::Kind::kError;
      const Json* ed = in.if_contains("error_data");
      done.data =
          ed && !ed->is_null() ? *ed : Json(workers::StdFailMessage(run->action_execution_id));
    } else if (n == "std.http") {
      done.kind = ActionCompleted::Kind::kError;
      done.data = "Invalid URL '" + PythonStr(in.at("url")) + "': No scheme supplied.";
    } else if (n == "std.async_noop" || n == "test.async") {
      pending_async_.push_back(*run);
      return;
    } else if (script_) {
      auto r = script_(*run);
      if (!r) {
        pending_async_.push_back(*run);
        return;
      }
      done.kind = r->kind;
      done.data = r->data;
    } else {
      done.kind = ActionCompleted::Kind::kError;
      done.data = "no fake implementation for " + n;
    }
    queue_.push_back(std::move(done));
  } else if (const auto* sub = std::get_if<StartSubWorkflow>(&cmd)) {
    queue_.push_back(sub->start);
  } else if (const auto* t = std::get_if<SetTimer>(&cmd)) {
    timers_.emplace(t->fire_at, std::make_pair(t->execution_id, t->timer_id));
  } else if (const auto* c = std::get_if<CancelTimer>(&cmd)) {
    for (auto it = timers_.begin(); it != timers_.end(); ++it) {
      if (it->second.first == c->execution_id && it->second.second == c->timer_id) {
        timers_.erase(it);
        break;
      }
    }
  } else if (const auto* fin = std::get_if<ExecutionFinished>(&cmd)) {
    if (!fin->parent_execution_id.empty()) {
      SubWorkflowCompleted done;
      done.execution_id = fin->parent_execution_id;
      done.task_execution_id = fin->parent_task_execution_id;
      done.sub_execution_id = fin->execution_id;
      done.state = fin->state;
      done.output = fin->output;
      done.state_info = fin->state_info;
      done.tasks = fin->tasks;
      queue_.push_back(std::move(done));
    }
  } else if (const auto* ctl = std::get_if<ControlSubExecution>(&cmd)) {
    switch (ctl->op) {
      case ControlSubExecution::Op::kPause:
        queue_.push_back(PauseExecution{ctl->sub_execution_id});
        break;
      case ControlSubExecution::Op::kResume:
        queue_.push_back(ResumeExecution{ctl->sub_execution_id, {}});
        break;
      case ControlSubExecution::Op::kCancel:
        queue_.push_back(CancelExecution{ctl->sub_execution_id, std::nullopt});
        break;
      case ControlSubExecution::Op::kPurge:
        queue_.push_back(PurgeExecution{ctl->sub_execution_id});
        break;
    }
  } else if (const auto* del = std::get_if<DeleteExecution>(&cmd)) {
    executions_.erase(del->execution_id);
  } else if (const auto* np = std::get_if<NotifyParent>(&cmd)) {
    queue_.push_back(SubWorkflowUpdated{np->parent_execution_id, np->parent_task_execution_id,
                                        np->execution_id, np->state});
  }
}

ExecutionState* TestDriver::Find(const std::string& execution_id) {
  auto it = executions_.find(execution_id);
  return it == executions_.end() ? nullptr : &it->second;
}

std::vector<const ExecutionState*> TestDriver::Children(const std::string& execution_id) const {
  std::vector<const ExecutionState*> out;
  for (const auto& id : start_order_) {
    auto it = executions_.find(id);
    if (it != executions_.end() && it->second.parent_execution_id == execution_id)
      out.push_back(&it->second);
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// RunCase

namespace {

std::string Text(const Json& v) {
  return v.is_string() ? std::string(v.get_string()) : PythonJsonDumps(v);
}

// `_contains` semantics: a string must occur in the text, a list of strings must each occur, else
// equality.
bool Contains(const Json& actual, const Json& want) {
  std::string text = Text(actual);
  if (want.is_string()) return text.find(std::string(want.get_string())) != std::string::npos;
  if (want.is_array()) {
    for (const auto& w : want.get_array()) {
      if (!w.is_string()) {
        if (!JsonEquals(actual, want)) return false;
        continue;
      }
      if (text.find(std::string(w.get_string())) == std::string::npos) return false;
    }
    return true;
  }
  return JsonEquals(actual, want);
}

struct Checker {
  TestDriver& d;
  std::string exec_id;
  std::vector<std::string>& failures;

  ExecutionState& st() { return *d.Find(exec_id); }

  void Fail(std::string msg) { failures.push_back(std::move(msg)); }

  const TaskExecution* Latest(const std::string& name) { return st().FindLatestTask(name); }

  void CheckState(const Json& want, const char* what) {
    std::string got(StateName(st().state));
    if (got != Text(want)) {
      Fail(std::string(what) + ": state " + got + " != " + Text(want) +
           (st().state_info ? " (state_info: " + *st().state_info + ")" : ""));
    }
  }
  void CheckTasks(const Json& want, const char* what) {
    for (const auto& kv : want.get_object()) {
      const TaskExecution* t = Latest(std::string(kv.key()));
      std::string got = t ? std::string(StateName(t->state)) : "<absent>";
      if (got != Text(kv.value())) {
        Fail(std::string(what) + ": task " + std::string(kv.key()) + " " + got +
             " != " + Text(kv.value()) + (t && t->state_info ? " (" + *t->state_info + ")" : ""));
      }
    }
  }
  void CheckTaskCount(const Json& want, const char* what) {
    if (static_cast<int64_t>(st().tasks.size()) != want.as_int64()) {
      std::string names;
      for (const auto& t : st().tasks)
        names += t.name + "(" + std::string(StateName(t.state)) + ") ";
      Fail(std::string(what) + ": task_count " + std::to_string(st().tasks.size()) +
           " != " + Text(want) + " [" + names + "]");
    }
  }
  void CheckOutput(const Json& want, const std::string& match, const char* what) {
    const Json& out = st().output;
    if (match == "exact") {
      if (!JsonEquals(out, want))
        Fail(std::string(what) + ": output " + PythonJsonDumps(out) + " != " + Text(want));
      return;
    }
    for (const auto& kv : want.get_object()) {
      const Json* v = out.is_object() ? out.get_object().if_contains(kv.key()) : nullptr;
      if (!v || !JsonEquals(*v, kv.value())) {
        Fail(std::string(what) + ": output." + std::string(kv.key()) + " = " +
             (v ? PythonJsonDumps(*v) : "<absent>") + " != " + PythonJsonDumps(kv.value()));
      }
    }
  }
  void CheckPublished(const Json& want, const char* what) {
    for (const auto& kv : want.get_object()) {
      const TaskExecution* t = Latest(std::string(kv.key()));
      if (!t) {
        Fail(std::string(what) + ": task " + std::string(kv.key()) + " absent");
        continue;
      }
      for (const auto& pv : kv.value().get_object()) {
        const Json* v = t->published.get_object().if_contains(pv.key());
        if (!v || !JsonEquals(*v, pv.value())) {
          Fail(std::string(what) + ": " + std::string(kv.key()) + ".published." +
               std::string(pv.key()) + " = " + (v ? PythonJsonDumps(*v) : "<absent>") +
               " != " + PythonJsonDumps(pv.value()));
        }
      }
    }
  }
};

}  // namespace

EngineLimits LimitsOfCase(const Json& expect) {
  EngineLimits limits;
  const Json* l = expect.is_object() ? expect.get_object().if_contains("limits") : nullptr;
  if (l == nullptr || !l->is_object()) return limits;
  if (const Json* v = l->get_object().if_contains("max_tasks_per_execution"))
    limits.max_tasks_per_execution = v->to_number<int64_t>();
  if (const Json* v = l->get_object().if_contains("max_subworkflow_depth"))
    limits.max_subworkflow_depth = v->to_number<int>();
  return limits;
}

std::vector<std::string> RunCase(const std::string& yaml, const Json& expect, bool round_trip) {
  std::vector<std::string> failures;
  const JsonObject& e = expect.get_object();
  auto get = [&](std::string_view k) -> const Json* { return e.if_contains(k); };
  TestDriver d(LimitsOfCase(expect));
  d.SetRoundTrip(round_trip);
  if (Status s = d.LoadYaml(yaml); !s.ok()) return {"load: " + s.ToString()};
  JsonObject params;
  if (const Json* p = get("params")) params = p->get_object();
  if (const Json* env = get("env")) params["env"] = *env;
  Json input = get("input") ? *get("input") : Json(JsonObject());
  auto id = d.Start(Text(*get("workflow")), input, Json(params));
  if (!id.ok()) {
    if (const Json* want_err = get("start_error_contains")) {
      if (id.status().message().find(Text(*want_err)) == std::string::npos) {
        failures.push_back("start error '" + id.status().message() + "' lacks " + Text(*want_err));
      }
      return failures;
    }
    return {"start: " + id.status().ToString()};
  }
  Checker c{d, *id, failures};
  ExecutionState& st = c.st();
  static const std::set<std::string> kIgnored = {
      "workflow", "input", "env", "params", "notes", "source", "output_match", "description", "limits"};
  for (const auto& kv : e) {
    std::string key(kv.key());
    const Json& v = kv.value();
    if (kIgnored.contains(key)) continue;
    if (key == "state") {
      c.CheckState(v, "final");
    } else if (key == "tasks") {
      c.CheckTasks(v, "final");
    } else if (key == "task_count") {
      c.CheckTaskCount(v, "final");
    } else if (key == "task_counts") {
      for (const auto& tc : v.get_object()) {
        int64_t n = 0;
        for (const auto& t : st.tasks) n += t.name == tc.key() ? 1 : 0;
        if (n != tc.value().as_int64()) {
          c.Fail("task_counts." + std::string(tc.key()) + " " + std::to_string(n) +
                 " != " + Text(tc.value()));
        }
      }
    } else if (key == "execution_count") {
      if (static_cast<int64_t>(d.executions().size()) != v.to_number<int64_t>()) {
        c.Fail("execution_count " + std::to_string(d.executions().size()) + " != " + Text(v));
      }
    } else if (key == "all_tasks_state") {
      for (const auto& t : st.tasks) {
        if (StateName(t.state) != Text(v))
          c.Fail("all_tasks_state: " + t.name + " is " + std::string(StateName(t.state)));
      }
    } else if (key == "absent_tasks") {
      for (const auto& n : v.get_array()) {
        if (st.FindLatestTask(Text(n))) c.Fail("absent_tasks: " + Text(n) + " ran");
      }
    } else if (key == "output") {
      const Json* m = get("output_match");
      c.CheckOutput(v, m ? Text(*m) : "exact", "final");
    } else if (key == "output_keys" || key == "output_absent_keys") {
      for (const auto& k : v.get_array()) {
        bool has = st.output.is_object() && st.output.get_object().contains(Text(k));
        if (has != (key == "output_keys"))
          c.Fail(key + ": " + Text(k) + " in " + PythonJsonDumps(st.output));
      }
    } else if (key == "output_contains") {
      for (const auto& oc : v.get_object()) {
        const Json* o =
            st.output.is_object() ? st.output.get_object().if_contains(oc.key()) : nullptr;
        if (!o || !Contains(*o, oc.value())) c.Fail("output_contains." + std::string(oc.key()));
      }
    } else if (key == "published") {
      c.CheckPublished(v, "final");
    } else if (key == "published_contains") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        for (const auto& pv : tv.value().get_object()) {
          const Json* p = t ? t->published.get_object().if_contains(pv.key()) : nullptr;
          if (!p || !Contains(*p, pv.value())) {
            c.Fail("published_contains." + std::string(tv.key()) + "." + std::string(pv.key()) +
                   ": " + (p ? Text(*p) : "<absent>"));
          }
        }
      }
    } else if (key == "published_keys") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        std::set<std::string> got, want;
        if (t) {
          for (const auto& p : t->published.get_object()) got.insert(std::string(p.key()));
        }
        for (const auto& k : tv.value().get_array()) want.insert(Text(k));
        if (got != want)
          c.Fail("published_keys." + std::string(tv.key()) + ": " +
                 (t ? PythonJsonDumps(t->published) : "<absent>"));
      }
    } else if (key == "task_results") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        Json r = t ? t->Result() : Json("<absent>");
        if (!JsonEquals(r, tv.value())) {
          c.Fail("task_results." + std::string(tv.key()) + ": " + PythonJsonDumps(r) +
                 " != " + PythonJsonDumps(tv.value()));
        }
      }
    } else if (key == "task_result_contains") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        Json r = t ? t->Result() : Json(nullptr);
        for (const auto& item : tv.value().get_array()) {
          bool found = false;
          if (r.is_array()) {
            for (const auto& x : r.get_array()) found = found || JsonEquals(x, item);
          }
          if (!found)
            c.Fail("task_result_contains." + std::string(tv.key()) + ": " + PythonJsonDumps(item) +
                   " not in " + PythonJsonDumps(r));
        }
      }
    } else if (key == "state_info") {
      if (!st.state_info || *st.state_info != Text(v))
        c.Fail("state_info: " + st.state_info.value_or("<null>"));
    } else if (key == "state_info_contains") {
      if (!st.state_info || !Contains(Json(*st.state_info), v))
        c.Fail("state_info_contains: " + st.state_info.value_or("<null>"));
    } else if (key == "state_info_not_null") {
      if (st.state_info.has_value() != v.as_bool()) c.Fail("state_info_not_null");
    } else if (key == "state_info_contains_execution_id") {
      if (!st.state_info || st.state_info->find(st.id) == std::string::npos)
        c.Fail("state_info lacks execution id: " + st.state_info.value_or("<null>"));
    } else if (key == "task_state_info_not_null") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        if (!t || t->state_info.has_value() != tv.value().as_bool())
          c.Fail("task_state_info_not_null." + std::string(tv.key()));
      }
    } else if (key == "task_state_info_contains") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        if (!t || !t->state_info || !Contains(Json(*t->state_info), tv.value())) {
          c.Fail("task_state_info_contains." + std::string(tv.key()) + ": " +
                 (t && t->state_info ? *t->state_info : "<null>"));
        }
      }
    } else if (key == "elapsed_s") {
      int64_t got = (d.now() - st.created_at) / 1000000;
      if (got != v.as_int64()) c.Fail("elapsed_s " + std::to_string(got) + " != " + Text(v));
    } else if (key == "retry_no") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        if (!t || t->retry_no != tv.value().as_int64())
          c.Fail("retry_no." + std::string(tv.key()) + " = " +
                 (t ? std::to_string(t->retry_no) : "<absent>"));
      }
    } else if (key == "retry_policy_context") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        Json rc = t ? t->RuntimeContextJson() : Json(nullptr);
        const Json* p = rc.is_object() ? rc.get_object().if_contains("retry_task_policy") : nullptr;
        Json got = p ? *p : Json(JsonObject());
        if (!JsonEquals(got, tv.value()))
          c.Fail("retry_policy_context." + std::string(tv.key()) + " = " + PythonJsonDumps(got));
      }
    } else if (key == "action_states") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        JsonArray got;
        if (t) {
          for (const auto& a : t->actions) got.push_back(Json(StateName(a.state)));
        }
        if (!JsonEquals(Json(got), tv.value()))
          c.Fail("action_states." + std::string(tv.key()) + " = " + PythonJsonDumps(Json(got)));
      }
    } else if (key == "action_execution_counts" || key == "accepted_action_execution_counts") {
      bool only_accepted = key == "accepted_action_execution_counts";
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        int64_t n = 0;
        if (t) {
          for (const auto& a : t->actions) n += (!only_accepted || a.accepted) ? 1 : 0;
        }
        if (n != tv.value().as_int64())
          c.Fail(key + "." + std::string(tv.key()) + " = " + std::to_string(n));
      }
    } else if (key == "with_items_count") {
      for (const auto& tv : v.get_object()) {
        const TaskExecution* t = st.FindLatestTask(std::string(tv.key()));
        if (!t || t->with_items.count != tv.value().as_int64())
          c.Fail("with_items_count." + std::string(tv.key()));
      }
    } else if (key == "execution_params") {
      for (const auto& pv : v.get_object()) {
        const Json* p = st.params.get_object().if_contains(pv.key());
        if (!p || !JsonEquals(*p, pv.value()))
          c.Fail("execution_params." + std::string(pv.key()) + " = " +
                 (p ? PythonJsonDumps(*p) : "<absent>"));
      }
    } else if (key == "sub_executions") {
      for (const auto& sv : v.get_object()) {
        const ExecutionState* sub = nullptr;
        for (const auto* ch : d.Children(st.id)) {
          if (ch->workflow_name == sv.key()) sub = ch;
        }
        if (!sub) {
          c.Fail("sub_executions." + std::string(sv.key()) + " absent");
          continue;
        }
        const JsonObject& w = sv.value().get_object();
        if (const Json* x = w.if_contains("state"); x && StateName(sub->state) != Text(*x))
          c.Fail("sub state " + std::string(StateName(sub->state)));
        if (const Json* x = w.if_contains("input"); x && !JsonEquals(sub->input, *x))
          c.Fail("sub input " + PythonJsonDumps(sub->input));
        if (const Json* x = w.if_contains("output"); x && !JsonEquals(sub->output, *x))
          c.Fail("sub output " + PythonJsonDumps(sub->output));
        if (const Json* x = w.if_contains("params_subset")) {
          for (const auto& pv : x->get_object()) {
            const Json* p = sub->params.get_object().if_contains(pv.key());
            if (!p || !JsonEquals(*p, pv.value())) c.Fail("sub params." + std::string(pv.key()));
          }
        }
      }
    } else if (key == "steps") {
      // handled below, after the final-state checks
    } else if (key == "start_error_contains") {
      c.Fail("expected a start error, but the execution started");
    } else {
      c.Fail("unchecked key: " + key);
    }
  }
  if (const Json* steps = get("steps")) {
    int n = 0;
    for (const auto& step_json : steps->get_array()) {
      const JsonObject& step = step_json.get_object();
      std::string op = Text(step.at("op"));
      std::string what = "step " + std::to_string(++n) + " (" + op + ")";
      Status s;
      auto task_id = [&](const std::string& name) -> std::string {
        const TaskExecution* t = c.st().FindLatestTask(name);
        return t ? t->id : std::string("<no task " + name + ">");
      };
      if (op == "resume") {
        std::optional<Json> env;
        if (const Json* x = step.if_contains("env")) env = *x;
        s = d.Send(ResumeExecution{*id, env});
      } else if (op == "pause") {
        s = d.Send(PauseExecution{*id});
      } else if (op == "cancel") {
        s = d.Send(CancelExecution{*id, std::nullopt});
      } else if (op == "stop") {
        StopExecution stop{*id, StateFromName(Text(step.at("state"))).value_or(State::kCancelled),
                           std::nullopt};
        if (const Json* x = step.if_contains("state_info")) stop.state_info = Text(*x);
        s = d.Send(stop);
      } else if (op == "pause_sub" || op == "resume_sub") {
        // Pauses / resumes the (latest) sub-execution of workflow `workflow` from outside.
        const ExecutionState* sub = nullptr;
        for (const auto* ch : d.Children(*id)) {
          if (ch->workflow_name == Text(step.at("workflow"))) sub = ch;
        }
        if (!sub) {
          c.Fail(what + ": no sub-execution of " + Text(step.at("workflow")));
          continue;
        }
        if (op == "pause_sub")
          s = d.Send(PauseExecution{sub->id});
        else
          s = d.Send(ResumeExecution{sub->id, std::nullopt});
      } else if (op == "rerun_sub_task") {
        // Reruns `task` inside the (latest) sub-execution of workflow `workflow`.
        const ExecutionState* sub = nullptr;
        for (const auto* ch : d.Children(*id)) {
          if (ch->workflow_name == Text(step.at("workflow"))) sub = ch;
        }
        const TaskExecution* t = sub ? sub->FindLatestTask(Text(step.at("task"))) : nullptr;
        if (!t) {
          c.Fail(what + ": no such sub-execution task");
          continue;
        }
        RerunTask rr{sub->id, t->id, true, std::nullopt};
        if (const Json* x = step.if_contains("env")) rr.env = *x;
        s = d.Send(rr);
      } else if (op == "skip_task") {
        s = d.Send(SkipTask{*id, task_id(Text(step.at("task")))});
      } else if (op == "rerun_task") {
        RerunTask rr{*id, task_id(Text(step.at("task"))), true, std::nullopt};
        if (const Json* x = step.if_contains("reset")) rr.reset = x->as_bool();
        if (const Json* x = step.if_contains("env")) rr.env = *x;
        s = d.Send(rr);
      } else if (op == "complete_async") {
        // Completes the oldest pending async action of `task` (of the latest sub-execution of
        // `workflow` when given) with `result` (or `error`).
        std::string tid = task_id(Text(step.at("task")));
        if (const Json* wf = step.if_contains("workflow")) {
          tid = "<no sub-execution " + Text(*wf) + ">";
          for (const auto* ch : d.Children(*id)) {
            if (ch->workflow_name != Text(*wf)) continue;
            const TaskExecution* t = ch->FindLatestTask(Text(step.at("task")));
            tid = t ? t->id : "<no task " + Text(step.at("task")) + ">";
          }
        }
        const RunAction* pending = nullptr;
        for (const auto& p : d.pending_async()) {
          bool done = false;
          const ExecutionState* es = d.Find(p.execution_id);
          if (es) {
            auto it = es->index.action_by_id.find(p.action_execution_id);
            if (it != es->index.action_by_id.end()) {
              done = IsCompleted(es->tasks[it->second.first].actions[it->second.second].state);
            }
          }
          if (p.task_execution_id == tid && !done) {
            pending = &p;
            break;
          }
        }
        if (!pending) {
          c.Fail(what + ": no pending async action");
          continue;
        }
        ActionCompleted done{pending->execution_id, pending->task_execution_id,
                             pending->action_execution_id, ActionCompleted::Kind::kSuccess,
                             nullptr};
        if (const Json* x = step.if_contains("result")) done.data = *x;
        if (const Json* x = step.if_contains("error")) {
          done.kind = ActionCompleted::Kind::kError;
          done.data = *x;
        }
        if (const Json* x = step.if_contains("cancel"); x && x->is_bool() && x->get_bool()) {
          done.kind = ActionCompleted::Kind::kCancelled;
        }
        s = d.Send(done);
      } else {
        c.Fail(what + ": unknown op");
        continue;
      }
      if (const Json* x = step.if_contains("expect_status")) {
        std::string got(StatusCodeName(s.code()));
        if (got != Text(*x)) c.Fail(what + ": status " + s.ToString() + " != " + Text(*x));
      } else if (!s.ok()) {
        c.Fail(what + ": " + s.ToString());
      }
      for (const auto& kv : step) {
        std::string key(kv.key());
        if (key == "op" || key == "task" || key == "api" || key == "workflow" || key == "env" ||
            key == "reset" || key == "result" || key == "error" || key == "cancel" ||
            key == "state" || key == "state_info" || key == "expect_status") {
          continue;
        }
        if (key == "expect_state")
          c.CheckState(kv.value(), what.c_str());
        else if (key == "expect_task_count")
          c.CheckTaskCount(kv.value(), what.c_str());
        else if (key == "expect_tasks")
          c.CheckTasks(kv.value(), what.c_str());
        else if (key == "expect_published")
          c.CheckPublished(kv.value(), what.c_str());
        else if (key == "expect_output")
          c.CheckOutput(kv.value(), "subset", what.c_str());
        else if (key == "expect_sub_states") {
          for (const auto& sv : kv.value().get_object()) {
            std::string got = "<absent>";
            for (const auto* ch : d.Children(*id)) {
              if (ch->workflow_name == sv.key()) got = std::string(StateName(ch->state));
            }
            if (got != Text(sv.value()))
              c.Fail(what + ": sub " + std::string(sv.key()) + " is " + got);
          }
        } else if (key == "expect_state_info_contains") {
          if (!c.st().state_info || !Contains(Json(*c.st().state_info), kv.value())) {
            c.Fail(what + ": state_info " + c.st().state_info.value_or("<null>"));
          }
        } else
          c.Fail(what + ": unchecked key " + key);
      }
    }
  }
  for (const auto& err : d.errors()) failures.push_back("apply error: " + err);
  return failures;
}

std::vector<std::string> ListCaseStems(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 5 && name.ends_with(".yaml")) {
      std::string stem = name.substr(0, name.size() - 5);
      if (fs::exists(fs::path(dir) / (stem + ".expect.json"))) out.push_back(stem);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace bora::engine::testing
