#include "orchestrator/engine/state.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <span>

#include "common/fields.h"
#include "common/json_text.h"
#include "sdk/messages/message_fields.h"

namespace bora::engine {

// ---------------------------------------------------------------------------------------------
// The stored form: ONE field list per struct (common/fields.h) drives ToJson (a Json tree),
// ToJsonText / the split texts (written straight as text, on every store commit) and FromJson.
// Members equal to their default are left out (format 2): most of a task's members keep their
// defaults, and the whole state is written on every commit, so this halves the text; FromJson reads
// format 1 (every member written) the same way. These lists are the storage format of Redis and the
// on-disk store: renaming a key or changing a default changes what a restarted process reads.

namespace {

using fields::kAnyOmitEmptyObject;
using fields::kAnyOmitNull;
using fields::kObjectOmitEmpty;
using fields::kOmitDefault;
using fields::kRequired;

constexpr int64_t kStateFormat = 2;

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
    case TimerInfo::Kind::kAwaitAction:
      return "await-action";
  }
  return "wait-before";
}
std::optional<TimerInfo::Kind> TimerKindFromName(std::string_view s) {
  for (auto k : {TimerInfo::Kind::kWaitBefore, TimerInfo::Kind::kWaitAfter, TimerInfo::Kind::kRetry,
                 TimerInfo::Kind::kTimeout, TimerInfo::Kind::kAwaitAction}) {
    if (TimerKindName(k) == s) return k;
  }
  return std::nullopt;
}
std::string BadTimerKind(std::string_view v) {
  return "must be wait-before, wait-after, retry, timeout or await-action, not '" + std::string(v) +
         "'";
}
constexpr fields::EnumCodec<TimerInfo::Kind> kTimerKind{TimerKindName, TimerKindFromName,
                                                        BadTimerKind};

std::string_view TaskTypeName(TaskExecution::Type t) {
  return t == TaskExecution::Type::kWorkflow ? "WORKFLOW" : "ACTION";
}
std::optional<TaskExecution::Type> TaskTypeFromName(std::string_view s) {
  if (s == "WORKFLOW") return TaskExecution::Type::kWorkflow;
  if (s == "ACTION") return TaskExecution::Type::kAction;
  return std::nullopt;
}
std::string BadTaskType(std::string_view v) {
  return "must be ACTION or WORKFLOW, not '" + std::string(v) + "'";
}
constexpr fields::EnumCodec<TaskExecution::Type> kTaskType{TaskTypeName, TaskTypeFromName,
                                                           BadTaskType};

bool IsDefault(const WithItemsState& wi) {
  return !wi.enabled && wi.items.is_null() && wi.count == 0 && wi.concurrency == 0 &&
         wi.pending_pos >= wi.pending.size() && wi.running == 0 && wi.succeeded == 0 &&
         wi.failed == 0 && wi.cancelled == 0;
}

// Every item array of an enabled with-items task as long as `count`, pending indexes within range.
Status CheckWithItems(const WithItemsState& wi) {
  if (!wi.enabled || (wi.items.is_null() && wi.count == 0)) return Status::Ok();
  if (!wi.items.is_object()) return InvalidArgument("bad with-items items");
  for (const auto& kv : wi.items.get_object()) {
    if (!kv.value().is_array() || static_cast<int64_t>(kv.value().get_array().size()) != wi.count) {
      return InvalidArgument("bad with-items array '" + std::string(kv.key()) + "'");
    }
  }
  for (int64_t idx : wi.pending) {
    if (idx < 0 || idx >= wi.count) return InvalidArgument("bad with-items pending index");
  }
  return Status::Ok();
}

}  // namespace

template <typename S, typename V>
void VisitFields(S& a, V& v) requires std::same_as<std::remove_const_t<S>, ActionExecution> {
  v.Str("id", a.id);
  v.Str("name", a.name);
  v.Str("adhoc_name", a.adhoc_name, kOmitDefault);
  v.Bool("is_workflow", a.is_workflow, kOmitDefault);
  v.Int("index", a.index, kOmitDefault);
  v.Enum("state", a.state, message_fields::kState, kRequired);
  v.Bool("accepted", a.accepted, kOmitDefault, /*def=*/true);
  v.Value("input", a.input, kAnyOmitNull);
  v.Value("output", a.output, kAnyOmitNull);
  v.OptStr("state_info", a.state_info);
  v.Int("attempt", a.attempt, kOmitDefault);
  v.Int("created_at", a.created_at, kOmitDefault);
  v.Int("updated_at", a.updated_at, kOmitDefault);
  v.Value("sub_tasks", a.sub_tasks, kAnyOmitNull);
}

template <typename S, typename V>
void VisitFields(S& wi, V& v) requires std::same_as<std::remove_const_t<S>, WithItemsState> {
  v.Bool("enabled", wi.enabled, kOmitDefault);
  // The head of a split task leaves the (large, set-once) items out (AppendItemsJsonText).
  v.Split("items", "items_split", wi.items, wi.enabled && !wi.items.is_null(), kAnyOmitNull);
  v.Int("count", wi.count, kOmitDefault);
  v.Int("concurrency", wi.concurrency, kOmitDefault);
  if constexpr (V::kWrites) {
    // Only the part still to launch (a reader restarts at position 0); a contiguous ascending run
    // of more than two (what a with-items task starts with: 0..count-1) as "pending_range": [first,
    // end).
    const size_t from = std::min(wi.pending_pos, wi.pending.size());
    const std::span<const int64_t> rest(wi.pending.data() + from, wi.pending.size() - from);
    bool run = true;
    for (size_t i = 1; run && i < rest.size(); ++i) run = rest[i] == rest[i - 1] + 1;
    if (run && rest.size() > 2) {
      const std::array<int64_t, 2> range{rest.front(), rest.back() + 1};
      v.Array("pending_range", std::span<const int64_t>(range));
    } else {
      v.Array("pending", rest);
    }
  } else {
    v.Array("pending", wi.pending);
    std::vector<int64_t> range;
    v.Array("pending_range", range);
    if (!range.empty()) {
      if (range.size() != 2 || range[0] < 0 || range[1] < range[0] || range[1] > wi.count) {
        v.Fail("bad pending_range");
      } else {
        for (int64_t i = range[0]; i < range[1]; ++i) wi.pending.push_back(i);
      }
    }
  }
  v.Int("running", wi.running, kOmitDefault);
  v.Int("succeeded", wi.succeeded, kOmitDefault);
  v.Int("failed", wi.failed, kOmitDefault);
  v.Int("cancelled", wi.cancelled, kOmitDefault);
  if constexpr (!V::kWrites) {
    if (Status s = CheckWithItems(wi); !s.ok()) v.Fail(s.message());
  }
}

template <typename S, typename V>
void VisitFields(S& tb, V& v) requires std::same_as<std::remove_const_t<S>, TriggeredBy> {
  v.Str("task_id", tb.task_id);
  v.Str("event", tb.event);
}

template <typename S, typename V>
void VisitFields(S& t, V& v) requires std::same_as<std::remove_const_t<S>, TaskExecution> {
  v.Str("id", t.id);
  v.Str("name", t.name);
  v.Enum("type", t.type, kTaskType, kOmitDefault);
  v.Bool("is_join", t.is_join, kOmitDefault);
  v.Enum("state", t.state, message_fields::kState, kRequired);
  v.OptStr("state_info", t.state_info);
  v.Value("in_context", t.in_context, kObjectOmitEmpty);
  v.Value("published", t.published, kObjectOmitEmpty);
  v.Value("published_global", t.published_global, kObjectOmitEmpty);
  v.Map("context_versions", t.context_versions);
  v.Parts("actions", "action_count", t.actions);  // a split task's head: their count
  v.Object("with_items", t.with_items, !IsDefault(t.with_items));
  v.Int("retry_no", t.retry_no, kOmitDefault);
  v.Bool("retry_started", t.retry_started, kOmitDefault);
  v.Array("triggered_by", t.triggered_by);
  v.Bool("keep_result", t.keep_result, kOmitDefault, /*def=*/true);
  v.Bool("safe_rerun", t.safe_rerun, kOmitDefault);
  v.Bool("processed", t.processed, kOmitDefault);
  v.Bool("error_handled", t.error_handled, kOmitDefault);
  v.Bool("has_next_tasks", t.has_next_tasks, kOmitDefault);
  v.Bool("force_failed", t.force_failed, kOmitDefault);
  v.Array("next_task_names", t.next_task_names);
  v.Enum("final_state", t.final_state, message_fields::kState, kRequired);
  v.Bool("paused_before", t.paused_before, kOmitDefault);
  v.Str("pending_timer_id", t.pending_timer_id, kOmitDefault);
  v.Str("timeout_timer_id", t.timeout_timer_id, kOmitDefault);
  v.Int("awaiting_action_since", t.awaiting_action_since, kOmitDefault);
  v.Int("created_at", t.created_at, kOmitDefault);
  v.Int("started_at", t.started_at, kOmitDefault);
  v.Int("finished_at", t.finished_at, kOmitDefault);
  v.Int("updated_at", t.updated_at, kOmitDefault);
}

template <typename S, typename V>
void VisitFields(S& ti, V& v) requires std::same_as<std::remove_const_t<S>, TimerInfo> {
  v.Enum("kind", ti.kind, kTimerKind, kRequired);
  v.Str("task_execution_id", ti.task_execution_id, kOmitDefault);
  v.Int("fire_at", ti.fire_at, kOmitDefault);
  v.Bool("fired", ti.fired, kOmitDefault);
}

template <typename S, typename V>
void VisitFields(S& b, V& v) requires std::same_as<std::remove_const_t<S>, BackloggedStart> {
  v.Str("task_name", b.task_name);
  v.Str("triggered_by_task_id", b.triggered_by_task_id);
  v.Str("event", b.event);
}

template <typename S, typename V>
void VisitFields(S& s, V& v) requires std::same_as<std::remove_const_t<S>, ExecutionState> {
  int64_t format = kStateFormat;  // written; a reader reads formats 1 and 2 alike
  v.Int("format", format);
  v.Str("id", s.id, kRequired);
  v.Str("workflow_name", s.workflow_name, kOmitDefault);
  v.Str("workflow_namespace", s.workflow_namespace, kOmitDefault);
  // Absent in states written before projects existed: the default project.
  v.Str("project_id", s.project_id, kOmitDefault);
  v.Str("user_id", s.user_id, kOmitDefault);
  v.Value("security", s.security, fields::kAnyOmitNull);
  v.Str("description", s.description, kOmitDefault);
  v.Str("parent_execution_id", s.parent_execution_id, kOmitDefault);
  v.Str("parent_task_execution_id", s.parent_task_execution_id, kOmitDefault);
  v.Str("root_execution_id", s.root_execution_id, kOmitDefault);
  v.Int("parent_item_index", s.parent_item_index, kOmitDefault);
  v.Int("depth", s.depth, kOmitDefault);
  v.Bool("report_tasks", s.report_tasks, kOmitDefault);
  v.Value("input", s.input, kObjectOmitEmpty);
  v.Value("params", s.params, kObjectOmitEmpty);
  v.Enum("state", s.state, message_fields::kState, kRequired);
  v.OptStr("state_info", s.state_info);
  v.Value("output", s.output, kAnyOmitEmptyObject);
  v.Value("global_context", s.global_context, kObjectOmitEmpty);
  v.Parts("tasks", "task_count", s.tasks);  // a split state's head: their count
  v.Map("timers", s.timers);
  v.Array("backlog", s.backlog);
  v.Bool("finished_notified", s.finished_notified, kOmitDefault);
  v.Int("id_counter", s.id_counter, kOmitDefault);
  v.Int("created_at", s.created_at, kOmitDefault);
  v.Int("updated_at", s.updated_at, kOmitDefault);
}

namespace {

// A first guess of the text size (Json members and long strings can only be guessed; the string
// grows geometrically past it).
size_t EstimateTextSize(const ExecutionState& s) {
  size_t n = 320 + s.timers.size() * 120 + s.backlog.size() * 120;
  for (const auto& t : s.tasks) n += 420 + t.actions.size() * 240 + t.context_versions.size() * 24;
  return n;
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
Json ExecutionState::ToJson() const { return fields::ToJson(*this); }

std::string ExecutionState::ToJsonText() const {
  std::string out;
  out.reserve(EstimateTextSize(*this));
  AppendJsonText(out);
  return out;
}

void ExecutionState::AppendJsonText(std::string& out) const { fields::AppendText(*this, out); }

void ExecutionState::AppendHeadJsonText(std::string& out) const {
  fields::AppendText(*this, out, /*head=*/true);
}

void ExecutionState::AppendTaskJsonText(const TaskExecution& task, std::string& out) {
  fields::AppendText(task, out);
}

void ExecutionState::AppendTaskHeadJsonText(const TaskExecution& task, std::string& out) {
  fields::AppendText(task, out, /*head=*/true);
}

bool ExecutionState::ItemsSplit(const TaskExecution& task) {
  return task.with_items.enabled && !task.with_items.items.is_null();
}

void ExecutionState::AppendItemsJsonText(const TaskExecution& task, std::string& out) {
  AppendJson(out, task.with_items.items);
}

void ExecutionState::AppendActionJsonText(const ActionExecution& action, std::string& out) {
  fields::AppendText(action, out);
}

namespace {
// Joins a split head and its parts: `head[count_key]` must equal parts.size(); the parts become
// `head[array_key]` (left out when empty, as the writer does). `what` names the document in errors.
Result<Json> JoinParts(Json head, std::vector<Json> parts, std::string_view count_key,
                       std::string_view array_key, std::string_view what) {
  const std::string doc(what);
  if (!head.is_object()) return InvalidArgument(doc + " JSON: not an object");
  JsonObject& o = head.get_object();
  const Json* count = o.if_contains(count_key);
  if (count == nullptr || !(count->is_int64() || count->is_uint64())) {
    return InvalidArgument(doc + " JSON: the head has no '" + std::string(count_key) + "'");
  }
  const int64_t n =
      count->is_int64() ? count->get_int64() : static_cast<int64_t>(count->get_uint64());
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
  ExecutionState s;
  BORA_RETURN_IF_ERROR(fields::FromJson(json, s, "execution state JSON"));
  if (s.id.empty()) return InvalidArgument("execution state JSON: missing 'id'");
  s.RebuildIndex();
  return s;
}

}  // namespace bora::engine
