#include "orchestrator/engine/state.h"

#include <atomic>

#include <algorithm>
#include <cstdio>

#include "common/json_text.h"

namespace bora::engine {

namespace {

// Reading helpers: tolerant of missing keys (defaults), strict about types where it matters.
const Json* Get(const JsonObject& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}
std::string GetString(const JsonObject& o, std::string_view key) {
  const Json* v = Get(o, key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}
std::optional<std::string> GetOptString(const JsonObject& o, std::string_view key) {
  const Json* v = Get(o, key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}
int64_t GetInt(const JsonObject& o, std::string_view key, int64_t def = 0) {
  const Json* v = Get(o, key);
  if (!v) return def;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return def;
}
bool GetBool(const JsonObject& o, std::string_view key, bool def = false) {
  const Json* v = Get(o, key);
  return v && v->is_bool() ? v->get_bool() : def;
}
Json GetJson(const JsonObject& o, std::string_view key, Json def = nullptr) {
  const Json* v = Get(o, key);
  return v ? *v : def;
}
Result<State> GetState(const JsonObject& o, std::string_view key) {
  auto s = StateFromName(GetString(o, key));
  if (!s) return InvalidArgument("execution state JSON: bad state in '" + std::string(key) + "'");
  return *s;
}

std::string_view TimerKindName(TimerInfo::Kind k) {
  switch (k) {
    case TimerInfo::Kind::kWaitBefore:
      return "wait-before";
    case TimerInfo::Kind::kWaitAfter:
      return "wait-after";
    case TimerInfo::Kind::kRetry:
      return "retry";
    case TimerInfo::Kind::kTimeout:
      return "timeout";
  }
  return "wait-before";
}

// Serialisation: ONE field list (WriteState / WriteTask / WriteAction, templated on the sink) feeds
// two sinks. ObjectSink builds the Json tree (ToJson); TextSink writes the same members as compact
// JSON text (ToJsonText), byte-identical to DumpJson(ToJson()) without building the tree (this runs
// for every changed execution of every store commit). Keyed methods add an object member; Elem*
// methods add an array element. Both sinks start inside the root object.
class ObjectSink {
 public:
  explicit ObjectSink(Json& root) { stack_.push_back(&root); }

  void Str(std::string_view key, std::string_view v) { Slot(key) = v; }
  void Int(std::string_view key, int64_t v) { Slot(key) = v; }
  void UInt(std::string_view key, uint64_t v) { Slot(key) = v; }
  void Bool(std::string_view key, bool v) { Slot(key) = v; }
  void Null(std::string_view key) { Slot(key) = nullptr; }
  void Value(std::string_view key, const Json& v) { Slot(key) = v; }
  void BeginObject(std::string_view key) { OpenObject(Slot(key)); }
  void BeginArray(std::string_view key, size_t size_hint) {
    Json& slot = Slot(key);
    slot.emplace_array().reserve(size_hint);
    stack_.push_back(&slot);
  }
  void EndObject() { stack_.pop_back(); }
  void EndArray() { stack_.pop_back(); }

  void ElemStr(std::string_view v) { stack_.back()->get_array().emplace_back(v); }
  void ElemInt(int64_t v) { stack_.back()->get_array().emplace_back(v); }
  void BeginElemObject() { OpenObject(stack_.back()->get_array().emplace_back(nullptr)); }

 private:
  Json& Slot(std::string_view key) { return stack_.back()->get_object()[key]; }
  // The parent container is not touched while a child is being filled: the pointer stays valid.
  void OpenObject(Json& slot) {
    slot.emplace_object();
    stack_.push_back(&slot);
  }

  std::vector<Json*> stack_;  // innermost open container last
};

using TextSink = JsonTextSink;

// Members equal to what FromJson assumes for a missing key are left out (format 2): most of a task's
// fields keep their defaults, and the whole state is written on every commit, so this halves the text.
// FromJson reads format 1 (every member written) the same way.
template <typename Sink>
void PutOptStr(Sink& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o.Str(key, *v);
}
template <typename Sink>
void PutStr(Sink& o, std::string_view key, std::string_view v) {
  if (!v.empty()) o.Str(key, v);
}
template <typename Sink>
void PutInt(Sink& o, std::string_view key, int64_t v) {
  if (v != 0) o.Int(key, v);
}
template <typename Sink>
void PutBool(Sink& o, std::string_view key, bool v, bool missing_means = false) {
  if (v != missing_means) o.Bool(key, v);
}
// A Json member FromJson reads as {} when missing.
template <typename Sink>
void PutObject(Sink& o, std::string_view key, const Json& v) {
  if (!(v.is_object() && v.get_object().empty())) o.Value(key, v);
}
// A Json member FromJson reads as null when missing.
template <typename Sink>
void PutNullable(Sink& o, std::string_view key, const Json& v) {
  if (!v.is_null()) o.Value(key, v);
}

template <typename Sink>
void WriteAction(const ActionExecution& a, Sink& o) {
  o.Str("id", a.id);
  o.Str("name", a.name);
  PutStr(o, "adhoc_name", a.adhoc_name);
  PutBool(o, "is_workflow", a.is_workflow);
  PutInt(o, "index", a.index);
  o.Str("state", StateName(a.state));
  PutBool(o, "accepted", a.accepted, true);
  PutNullable(o, "input", a.input);
  PutNullable(o, "output", a.output);
  PutOptStr(o, "state_info", a.state_info);
  PutInt(o, "attempt", a.attempt);
  PutInt(o, "created_at", a.created_at);
  PutInt(o, "updated_at", a.updated_at);
  PutNullable(o, "sub_tasks", a.sub_tasks);
}

bool IsDefault(const WithItemsState& wi) {
  return !wi.enabled && wi.items.is_null() && wi.count == 0 && wi.concurrency == 0 &&
         wi.pending_pos >= wi.pending.size() && wi.running == 0 && wi.succeeded == 0 &&
         wi.failed == 0 && wi.cancelled == 0;
}

// `with_actions` false: the head of a split task (AppendTaskHeadJsonText), "action_count" for "actions".
template <typename Sink>
void WriteTask(const TaskExecution& t, Sink& o, bool with_actions = true) {
  o.Str("id", t.id);
  o.Str("name", t.name);
  if (t.type == TaskExecution::Type::kWorkflow) o.Str("type", "WORKFLOW");
  PutBool(o, "is_join", t.is_join);
  o.Str("state", StateName(t.state));
  PutOptStr(o, "state_info", t.state_info);
  PutObject(o, "in_context", t.in_context);
  PutObject(o, "published", t.published);
  PutObject(o, "published_global", t.published_global);
  if (!t.context_versions.empty()) {
    o.BeginObject("context_versions");
    for (const auto& [k, v] : t.context_versions) o.Int(k, v);
    o.EndObject();
  }
  if (!with_actions) {
    o.UInt("action_count", t.actions.size());
  } else if (!t.actions.empty()) {
    o.BeginArray("actions", t.actions.size());
    for (const auto& a : t.actions) {
      o.BeginElemObject();
      WriteAction(a, o);
      o.EndObject();
    }
    o.EndArray();
  }
  const WithItemsState& wi = t.with_items;
  if (!IsDefault(wi)) {
    o.BeginObject("with_items");
    PutBool(o, "enabled", wi.enabled);
    if (!with_actions && ExecutionState::ItemsSplit(t)) {
      o.Bool("items_split", true);  // AppendItemsJsonText
    } else {
      PutNullable(o, "items", wi.items);
    }
    PutInt(o, "count", wi.count);
    PutInt(o, "concurrency", wi.concurrency);
    // Only the part still to launch (FromJson restarts at position 0); a contiguous ascending run (what a
    // with-items task starts with: 0..count-1) as "pending_range": [first, end).
    const size_t pending_from = std::min(wi.pending_pos, wi.pending.size());
    if (pending_from < wi.pending.size()) {
      bool run = true;
      for (size_t i = pending_from + 1; run && i < wi.pending.size(); ++i) {
        run = wi.pending[i] == wi.pending[i - 1] + 1;
      }
      if (run && wi.pending.size() - pending_from > 2) {
        o.BeginArray("pending_range", 2);
        o.ElemInt(wi.pending[pending_from]);
        o.ElemInt(wi.pending.back() + 1);
        o.EndArray();
      } else {
        o.BeginArray("pending", wi.pending.size() - pending_from);
        for (size_t i = pending_from; i < wi.pending.size(); ++i) o.ElemInt(wi.pending[i]);
        o.EndArray();
      }
    }
    PutInt(o, "running", wi.running);
    PutInt(o, "succeeded", wi.succeeded);
    PutInt(o, "failed", wi.failed);
    PutInt(o, "cancelled", wi.cancelled);
    o.EndObject();
  }
  PutInt(o, "retry_no", t.retry_no);
  PutBool(o, "retry_started", t.retry_started);
  if (!t.triggered_by.empty()) {
    o.BeginArray("triggered_by", t.triggered_by.size());
    for (const auto& tb : t.triggered_by) {
      o.BeginElemObject();
      o.Str("task_id", tb.task_id);
      o.Str("event", tb.event);
      o.EndObject();
    }
    o.EndArray();
  }
  PutBool(o, "keep_result", t.keep_result, true);
  PutBool(o, "safe_rerun", t.safe_rerun);
  PutBool(o, "processed", t.processed);
  PutBool(o, "error_handled", t.error_handled);
  PutBool(o, "has_next_tasks", t.has_next_tasks);
  PutBool(o, "force_failed", t.force_failed);
  if (!t.next_task_names.empty()) {
    o.BeginArray("next_task_names", t.next_task_names.size());
    for (const auto& n : t.next_task_names) o.ElemStr(n);
    o.EndArray();
  }
  o.Str("final_state", StateName(t.final_state));
  PutBool(o, "paused_before", t.paused_before);
  PutStr(o, "pending_timer_id", t.pending_timer_id);
  PutStr(o, "timeout_timer_id", t.timeout_timer_id);
  PutInt(o, "created_at", t.created_at);
  PutInt(o, "started_at", t.started_at);
  PutInt(o, "finished_at", t.finished_at);
  PutInt(o, "updated_at", t.updated_at);
}

// `with_tasks` false: the head of a split state (AppendHeadJsonText), "task_count" for "tasks".
template <typename Sink>
void WriteState(const ExecutionState& s, Sink& o, bool with_tasks = true) {
  o.Int("format", 2);
  o.Str("id", s.id);
  PutStr(o, "workflow_name", s.workflow_name);
  PutStr(o, "workflow_namespace", s.workflow_namespace);
  PutStr(o, "description", s.description);
  PutStr(o, "parent_execution_id", s.parent_execution_id);
  PutStr(o, "parent_task_execution_id", s.parent_task_execution_id);
  PutStr(o, "root_execution_id", s.root_execution_id);
  PutInt(o, "parent_item_index", s.parent_item_index);
  PutInt(o, "depth", s.depth);
  PutBool(o, "report_tasks", s.report_tasks);
  PutObject(o, "input", s.input);
  PutObject(o, "params", s.params);
  o.Str("state", StateName(s.state));
  PutOptStr(o, "state_info", s.state_info);
  PutObject(o, "output", s.output);
  PutObject(o, "global_context", s.global_context);
  if (!with_tasks) {
    o.UInt("task_count", s.tasks.size());
  } else if (!s.tasks.empty()) {
    o.BeginArray("tasks", s.tasks.size());
    for (const auto& t : s.tasks) {
      o.BeginElemObject();
      WriteTask(t, o);
      o.EndObject();
    }
    o.EndArray();
  }
  if (!s.timers.empty()) {
    o.BeginObject("timers");
    for (const auto& [tid, ti] : s.timers) {
      o.BeginObject(tid);
      o.Str("kind", TimerKindName(ti.kind));
      PutStr(o, "task_execution_id", ti.task_execution_id);
      PutInt(o, "fire_at", ti.fire_at);
      PutBool(o, "fired", ti.fired);
      o.EndObject();
    }
    o.EndObject();
  }
  if (!s.backlog.empty()) {
    o.BeginArray("backlog", s.backlog.size());
    for (const auto& b : s.backlog) {
      o.BeginElemObject();
      o.Str("task_name", b.task_name);
      o.Str("triggered_by_task_id", b.triggered_by_task_id);
      o.Str("event", b.event);
      o.EndObject();
    }
    o.EndArray();
  }
  PutBool(o, "finished_notified", s.finished_notified);
  if (s.id_counter != 0) o.UInt("id_counter", s.id_counter);
  PutInt(o, "created_at", s.created_at);
  PutInt(o, "updated_at", s.updated_at);
}

// A first guess of the text size (Json members and long strings can only be guessed; the string
// grows geometrically past it).
size_t EstimateTextSize(const ExecutionState& s) {
  size_t n = 320 + s.timers.size() * 120 + s.backlog.size() * 120;
  for (const auto& t : s.tasks) n += 420 + t.actions.size() * 240 + t.context_versions.size() * 24;
  return n;
}

Result<ActionExecution> ActionFromJson(const Json& j) {
  if (!j.is_object())
    return InvalidArgument("execution state JSON: action execution is not an object");
  const JsonObject& o = j.get_object();
  ActionExecution a;
  a.id = GetString(o, "id");
  a.name = GetString(o, "name");
  a.adhoc_name = GetString(o, "adhoc_name");
  a.is_workflow = GetBool(o, "is_workflow");
  a.index = static_cast<int>(GetInt(o, "index"));
  BORA_ASSIGN_OR_RETURN(a.state, GetState(o, "state"));
  a.accepted = GetBool(o, "accepted", true);
  a.input = GetJson(o, "input");
  a.output = GetJson(o, "output");
  a.state_info = GetOptString(o, "state_info");
  a.attempt = static_cast<int>(GetInt(o, "attempt"));
  a.created_at = GetInt(o, "created_at");
  a.updated_at = GetInt(o, "updated_at");
  a.sub_tasks = GetJson(o, "sub_tasks");
  return a;
}

Result<TaskExecution> TaskFromJson(const Json& j) {
  if (!j.is_object())
    return InvalidArgument("execution state JSON: task execution is not an object");
  const JsonObject& o = j.get_object();
  TaskExecution t;
  t.id = GetString(o, "id");
  t.name = GetString(o, "name");
  t.type = GetString(o, "type") == "WORKFLOW" ? TaskExecution::Type::kWorkflow
                                              : TaskExecution::Type::kAction;
  t.is_join = GetBool(o, "is_join");
  BORA_ASSIGN_OR_RETURN(t.state, GetState(o, "state"));
  t.state_info = GetOptString(o, "state_info");
  t.in_context = GetJson(o, "in_context", JsonObject());
  t.published = GetJson(o, "published", JsonObject());
  t.published_global = GetJson(o, "published_global", JsonObject());
  if (!t.in_context.is_object() || !t.published.is_object() || !t.published_global.is_object()) {
    return InvalidArgument("execution state JSON: task contexts must be objects");
  }
  if (const Json* v = Get(o, "context_versions"); v && v->is_object()) {
    for (const auto& kv : v->get_object()) {
      t.context_versions[std::string(kv.key())] =
          kv.value().is_int64() ? kv.value().get_int64() : 0;
    }
  }
  if (const Json* v = Get(o, "actions"); v && v->is_array()) {
    t.actions.reserve(v->get_array().size());
    for (const auto& a : v->get_array()) {
      BORA_ASSIGN_OR_RETURN(auto ax, ActionFromJson(a));
      t.actions.push_back(std::move(ax));
    }
  }
  if (const Json* v = Get(o, "with_items"); v && v->is_object()) {
    const JsonObject& wi = v->get_object();
    t.with_items.enabled = GetBool(wi, "enabled");
    t.with_items.items = GetJson(wi, "items");
    t.with_items.count = GetInt(wi, "count");
    t.with_items.concurrency = GetInt(wi, "concurrency");
    if (const Json* p = Get(wi, "pending"); p && p->is_array()) {
      for (const auto& x : p->get_array())
        t.with_items.pending.push_back(x.is_int64() ? x.get_int64() : 0);
    }
    if (const Json* r = Get(wi, "pending_range"); r && r->is_array()) {
      const JsonArray& a = r->get_array();
      if (a.size() != 2 || !a[0].is_int64() || !a[1].is_int64() || a[0].get_int64() < 0 ||
          a[1].get_int64() < a[0].get_int64() || a[1].get_int64() > t.with_items.count) {
        return InvalidArgument("execution state JSON: bad with-items pending_range");
      }
      for (int64_t i = a[0].get_int64(); i < a[1].get_int64(); ++i) t.with_items.pending.push_back(i);
    }
    t.with_items.running = GetInt(wi, "running");
    t.with_items.succeeded = GetInt(wi, "succeeded");
    t.with_items.failed = GetInt(wi, "failed");
    t.with_items.cancelled = GetInt(wi, "cancelled");
    if (t.with_items.enabled && !(t.with_items.items.is_null() && t.with_items.count == 0)) {
      // Every item array must be as long as `count`, and pending indexes within range.
      if (!t.with_items.items.is_object())
        return InvalidArgument("execution state JSON: bad with-items items");
      for (const auto& kv : t.with_items.items.get_object()) {
        if (!kv.value().is_array() ||
            static_cast<int64_t>(kv.value().get_array().size()) != t.with_items.count) {
          return InvalidArgument("execution state JSON: bad with-items array '" +
                                 std::string(kv.key()) + "'");
        }
      }
      for (int64_t idx : t.with_items.pending) {
        if (idx < 0 || idx >= t.with_items.count)
          return InvalidArgument("execution state JSON: bad pending index");
      }
    }
  }
  t.retry_no = static_cast<int>(GetInt(o, "retry_no"));
  t.retry_started = GetBool(o, "retry_started");
  if (const Json* v = Get(o, "triggered_by"); v && v->is_array()) {
    for (const auto& x : v->get_array()) {
      if (!x.is_object()) continue;
      t.triggered_by.push_back(
          {GetString(x.get_object(), "task_id"), GetString(x.get_object(), "event")});
    }
  }
  t.keep_result = GetBool(o, "keep_result", true);
  t.safe_rerun = GetBool(o, "safe_rerun");
  t.processed = GetBool(o, "processed");
  t.error_handled = GetBool(o, "error_handled");
  t.has_next_tasks = GetBool(o, "has_next_tasks");
  t.force_failed = GetBool(o, "force_failed");
  if (const Json* v = Get(o, "next_task_names"); v && v->is_array()) {
    for (const auto& x : v->get_array()) {
      if (x.is_string()) t.next_task_names.emplace_back(x.get_string());
    }
  }
  BORA_ASSIGN_OR_RETURN(t.final_state, GetState(o, "final_state"));
  t.paused_before = GetBool(o, "paused_before");
  t.pending_timer_id = GetString(o, "pending_timer_id");
  t.timeout_timer_id = GetString(o, "timeout_timer_id");
  t.created_at = GetInt(o, "created_at");
  t.started_at = GetInt(o, "started_at");
  t.finished_at = GetInt(o, "finished_at");
  t.updated_at = GetInt(o, "updated_at");
  return t;
}

TimerInfo::Kind TimerKindFromName(std::string_view s) {
  if (s == "wait-after") return TimerInfo::Kind::kWaitAfter;
  if (s == "retry") return TimerInfo::Kind::kRetry;
  if (s == "timeout") return TimerInfo::Kind::kTimeout;
  return TimerInfo::Kind::kWaitBefore;
}

// 64-bit FNV-1a.
uint64_t Fnv1a(std::string_view s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

std::string DeriveId(std::string_view seed, uint64_t counter) {
  uint64_t h1 = Fnv1a(seed, 14695981039346656037ULL);
  uint64_t h2 = Fnv1a(seed, 0x84222325cbf29ce4ULL ^ 0x5bd1e995ULL);
  uint64_t a = Mix(h1 ^ Mix(counter));
  uint64_t b = Mix(h2 + counter * 0x9e3779b97f4a7c15ULL);
  // Version 4 layout: xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx with y in 8..b. Hand-formatted (this is on
  // the hot path: several ids per task); same digits as "%08x-%04x-4%03x-%04x-%012llx".
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  auto put = [&](size_t pos, uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) {
      out[pos + static_cast<size_t>(i)] = kHex[v & 0xf];
      v >>= 4;
    }
  };
  put(0, a >> 32, 8);
  put(9, (a >> 16) & 0xffff, 4);
  out[14] = '4';
  put(15, a & 0xfff, 3);
  put(19, 0x8000 | ((b >> 48) & 0x3fff), 4);
  put(24, b & 0xffffffffffffULL, 12);
  return out;
}

Json TaskExecution::Result() const {
  if (!keep_result) return nullptr;
  if (with_items.enabled) {
    std::vector<const ActionExecution*> acc;
    acc.reserve(static_cast<size_t>(with_items.count));
    for (const auto& a : actions) {
      if (a.accepted && IsCompleted(a.state)) acc.push_back(&a);
    }
    std::stable_sort(
        acc.begin(), acc.end(),
        [](const ActionExecution* x, const ActionExecution* y) { return x->index < y->index; });
    JsonArray out;
    out.reserve(acc.size());
    for (const auto* a : acc) {
      if (a->is_workflow) {
        out.push_back(a->output);
      } else if (a->output.is_object() && a->output.get_object().contains("result")) {
        out.push_back(a->output.get_object().at("result"));
      } else {
        out.push_back(nullptr);
      }
    }
    return out;
  }
  std::vector<const ActionExecution*> acc;
  for (const auto& a : actions) {
    if (a.accepted && IsCompleted(a.state)) acc.push_back(&a);
  }
  auto one = [](const ActionExecution* a) -> Json {
    if (a->is_workflow) return a->output;
    if (a->output.is_object() && a->output.get_object().contains("result")) {
      return a->output.get_object().at("result");
    }
    return nullptr;
  };
  if (acc.empty()) return nullptr;
  if (acc.size() == 1) return one(acc[0]);
  JsonArray out;
  for (const auto* a : acc) out.push_back(one(a));
  return out;
}

Json TaskExecution::RuntimeContextJson() const {
  JsonObject o;
  if (retry_started) {
    o["retry_task_policy"] =
        retry_no > 0 ? Json(JsonObject{{"retry_no", retry_no}}) : Json(JsonObject());
  }
  if (!triggered_by.empty()) {
    JsonArray trig;
    for (const auto& tb : triggered_by) {
      trig.push_back(JsonObject{{"task_id", tb.task_id}, {"event", tb.event}});
    }
    o["triggered_by"] = std::move(trig);
  }
  if (with_items.enabled) {
    o["with_items"] = JsonObject{
        {"count", with_items.count},
        {"concurrency", with_items.concurrency},
        {"capacity", with_items.concurrency > 0 ? with_items.concurrency - with_items.running
                                                : with_items.count}};
  }
  return o;
}

Json TaskExecution::OutboundContext() const {
  Json out = in_context.is_object() ? in_context : Json(JsonObject());
  if (published.is_object()) {
    for (const auto& kv : published.get_object()) out.get_object()[kv.key()] = kv.value();
  }
  return out;
}

void ExecutionState::ListChangedAction(size_t ti, size_t ai) {
  TaskExecution& t = tasks[ti];
  if (t.all_actions_changed) return;
  if (t.changed_actions.empty()) tasks_with_change_lists.push_back(static_cast<uint32_t>(ti));
  t.changed_actions.push_back(static_cast<uint32_t>(ai));
}

void ExecutionState::ListAllActionsChanged(size_t ti) {
  TaskExecution& t = tasks[ti];
  if (t.changed_actions.empty() && !t.all_actions_changed) {
    tasks_with_change_lists.push_back(static_cast<uint32_t>(ti));
  }
  t.all_actions_changed = true;
  t.changed_actions.clear();
}

void ExecutionState::ClearChangeLists() {
  for (uint32_t ti : tasks_with_change_lists) {
    if (ti >= tasks.size()) continue;
    tasks[ti].changed_actions.clear();
    tasks[ti].all_actions_changed = false;
  }
  tasks_with_change_lists.clear();
}

void ExecutionState::RebuildIndex() {
  index = ExecutionIndex();
  for (size_t i = 0; i < tasks.size(); ++i) {
    const TaskExecution& t = tasks[i];
    index.task_by_id[t.id] = i;
    index.latest_task_by_name[t.name] = i;
    index.tasks_by_name[t.name].push_back(i);
    for (size_t k = 0; k < t.actions.size(); ++k) index.action_by_id[t.actions[k].id] = {i, k};
    if (t.is_join) index.join_task_by_name[t.name] = i;
    if (!IsCompleted(t.state)) ++index.incomplete_tasks;
  }
}

const TaskExecution* ExecutionState::FindLatestTask(std::string_view name) const {
  auto it = index.latest_task_by_name.find(std::string(name));
  return it == index.latest_task_by_name.end() ? nullptr : &tasks[it->second];
}

uint64_t NextRevision() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

TaskExecution* ExecutionState::FindTaskById(std::string_view task_id) {
  auto it = index.task_by_id.find(std::string(task_id));
  return it == index.task_by_id.end() ? nullptr : &tasks[it->second];
}

const TaskExecution* ExecutionState::FindTaskById(std::string_view task_id) const {
  auto it = index.task_by_id.find(std::string(task_id));
  return it == index.task_by_id.end() ? nullptr : &tasks[it->second];
}

std::string ExecutionState::NextId() { return DeriveId(id, ++id_counter); }

const Json& ExecutionState::Env() const {
  static const Json kEmpty = JsonObject();
  if (params.is_object()) {
    auto it = params.get_object().find("env");
    if (it != params.get_object().end() && it->value().is_object()) return it->value();
  }
  return kEmpty;
}

Json ExecutionState::ToJson() const {
  Json root = JsonObject();
  ObjectSink sink(root);
  WriteState(*this, sink);
  return root;
}

std::string ExecutionState::ToJsonText() const {
  std::string out;
  out.reserve(EstimateTextSize(*this));
  AppendJsonText(out);
  return out;
}

void ExecutionState::AppendJsonText(std::string& out) const {
  TextSink sink(out);
  WriteState(*this, sink);
  sink.Finish();
}

void ExecutionState::AppendHeadJsonText(std::string& out) const {
  TextSink sink(out);
  WriteState(*this, sink, /*with_tasks=*/false);
  sink.Finish();
}

void ExecutionState::AppendTaskJsonText(const TaskExecution& task, std::string& out) {
  TextSink sink(out);
  WriteTask(task, sink);
  sink.Finish();
}

void ExecutionState::AppendTaskHeadJsonText(const TaskExecution& task, std::string& out) {
  TextSink sink(out);
  WriteTask(task, sink, /*with_actions=*/false);
  sink.Finish();
}

bool ExecutionState::ItemsSplit(const TaskExecution& task) {
  return task.with_items.enabled && !task.with_items.items.is_null();
}

void ExecutionState::AppendItemsJsonText(const TaskExecution& task, std::string& out) {
  AppendJson(out, task.with_items.items);
}

void ExecutionState::AppendActionJsonText(const ActionExecution& action, std::string& out) {
  TextSink sink(out);
  WriteAction(action, sink);
  sink.Finish();
}

namespace {
// Joins a split head and its parts: `head[count_key]` must equal parts.size(); the parts become
// `head[array_key]` (left out when empty, as the writer does). `what` names the document in errors.
Result<Json> JoinParts(Json head, std::vector<Json> parts, std::string_view count_key,
                       std::string_view array_key, std::string_view what) {
  const std::string doc(what);
  if (!head.is_object()) return InvalidArgument(doc + " JSON: not an object");
  JsonObject& o = head.get_object();
  const Json* count = Get(o, count_key);
  if (count == nullptr || !count->is_number()) {
    return InvalidArgument(doc + " JSON: the head has no '" + std::string(count_key) + "'");
  }
  const int64_t n = GetInt(o, count_key);
  if (n != static_cast<int64_t>(parts.size())) {
    return InvalidArgument(doc + " JSON: the head counts " + std::to_string(n) + " " +
                           std::string(array_key) + ", " + std::to_string(parts.size()) +
                           " were given");
  }
  o.erase(count_key);
  if (!parts.empty()) {
    JsonArray arr;
    arr.reserve(parts.size());
    for (auto& p : parts) arr.push_back(std::move(p));
    o[array_key] = std::move(arr);
  }
  return head;
}
}  // namespace

Result<Json> ExecutionState::TaskFromJsonParts(Json head, std::vector<Json> actions,
                                               std::optional<Json> items) {
  BORA_ASSIGN_OR_RETURN(Json task, JoinParts(std::move(head), std::move(actions), "action_count", "actions",
                                             "task execution"));
  if (Json* wi = task.get_object().if_contains("with_items"); wi != nullptr && wi->is_object()) {
    JsonObject& w = wi->get_object();
    if (w.erase("items_split") > 0) {
      if (!items) return InvalidArgument("task execution JSON: its with-items items are missing");
      w["items"] = std::move(*items);
    }
  }
  return task;
}

Result<ExecutionState> ExecutionState::FromJsonParts(Json head, std::vector<Json> tasks) {
  BORA_ASSIGN_OR_RETURN(Json joined, JoinParts(std::move(head), std::move(tasks), "task_count", "tasks",
                                                "execution state"));
  return FromJson(joined);
}

Result<ExecutionState> ExecutionState::FromJson(const Json& json) {
  if (!json.is_object()) return InvalidArgument("execution state JSON: not an object");
  const JsonObject& o = json.get_object();
  ExecutionState s;
  s.id = GetString(o, "id");
  if (s.id.empty()) return InvalidArgument("execution state JSON: missing 'id'");
  s.workflow_name = GetString(o, "workflow_name");
  s.workflow_namespace = GetString(o, "workflow_namespace");
  s.description = GetString(o, "description");
  s.parent_execution_id = GetString(o, "parent_execution_id");
  s.parent_task_execution_id = GetString(o, "parent_task_execution_id");
  s.root_execution_id = GetString(o, "root_execution_id");
  s.parent_item_index = static_cast<int>(GetInt(o, "parent_item_index"));
  s.depth = static_cast<int>(GetInt(o, "depth"));
  s.report_tasks = GetBool(o, "report_tasks");
  s.input = GetJson(o, "input", JsonObject());
  s.params = GetJson(o, "params", JsonObject());
  BORA_ASSIGN_OR_RETURN(s.state, GetState(o, "state"));
  s.state_info = GetOptString(o, "state_info");
  s.output = GetJson(o, "output", JsonObject());
  s.global_context = GetJson(o, "global_context", JsonObject());
  if (!s.input.is_object() || !s.params.is_object() || !s.global_context.is_object()) {
    return InvalidArgument(
        "execution state JSON: input, params and global_context must be objects");
  }
  if (const Json* v = Get(o, "tasks"); v && v->is_array()) {
    s.tasks.reserve(v->get_array().size());
    for (const auto& t : v->get_array()) {
      BORA_ASSIGN_OR_RETURN(auto tx, TaskFromJson(t));
      s.tasks.push_back(std::move(tx));
    }
  }
  if (const Json* v = Get(o, "timers"); v && v->is_object()) {
    for (const auto& kv : v->get_object()) {
      if (!kv.value().is_object()) continue;
      const JsonObject& t = kv.value().get_object();
      s.timers[std::string(kv.key())] =
          TimerInfo{TimerKindFromName(GetString(t, "kind")), GetString(t, "task_execution_id"),
                    GetInt(t, "fire_at"), GetBool(t, "fired")};
    }
  }
  if (const Json* v = Get(o, "backlog"); v && v->is_array()) {
    for (const auto& b : v->get_array()) {
      if (!b.is_object()) continue;
      const JsonObject& bo = b.get_object();
      s.backlog.push_back({GetString(bo, "task_name"), GetString(bo, "triggered_by_task_id"),
                           GetString(bo, "event")});
    }
  }
  s.finished_notified = GetBool(o, "finished_notified");
  if (const Json* v = Get(o, "id_counter"); v) {
    s.id_counter =
        v->is_uint64() ? v->get_uint64() : static_cast<uint64_t>(GetInt(o, "id_counter"));
  }
  s.created_at = GetInt(o, "created_at");
  s.updated_at = GetInt(o, "updated_at");
  s.RebuildIndex();
  return s;
}

}  // namespace bora::engine
