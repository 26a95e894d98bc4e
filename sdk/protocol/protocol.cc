#include "sdk/protocol/protocol.h"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/stream_parser.hpp>
#include <algorithm>
#include <charconv>
#include <optional>
#include <type_traits>

#include "common/json_text.h"

namespace bora::protocol {

namespace {

using engine::State;

// Reads typed fields out of a JSON object, remembering the first problem.
class Reader {
 public:
  Reader(const JsonObject& o, std::string_view type) : o_(o), type_(type) {}

  std::string Str(std::string_view key, bool required = true) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) {
      if (required) Fail(std::string("missing field '") + std::string(key) + "'");
      return {};
    }
    if (!it->value().is_string()) {
      Fail(std::string("field '") + std::string(key) + "' must be a string");
      return {};
    }
    return std::string(it->value().get_string());
  }
  std::optional<std::string> OptStr(std::string_view key) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return std::nullopt;
    return Str(key);
  }
  int64_t Int(std::string_view key, int64_t fallback = 0) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return fallback;
    if (it->value().is_int64()) return it->value().get_int64();
    if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
    Fail(std::string("field '") + std::string(key) + "' must be an integer");
    return fallback;
  }
  bool Bool(std::string_view key, bool fallback = false) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return fallback;
    if (!it->value().is_bool()) {
      Fail(std::string("field '") + std::string(key) + "' must be a boolean");
      return fallback;
    }
    return it->value().get_bool();
  }
  // Sub-values are deep-copied into the default storage: the parsed tree may live in a scratch arena.
  Json Any(std::string_view key, Json fallback = nullptr) {
    auto it = o_.find(key);
    return it == o_.end() ? fallback : Json(it->value(), boost::json::storage_ptr());
  }
  Json Obj(std::string_view key) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return JsonObject();
    if (!it->value().is_object()) {
      Fail(std::string("field '") + std::string(key) + "' must be an object");
      return JsonObject();
    }
    return Json(it->value(), boost::json::storage_ptr());
  }
  std::optional<Json> OptObj(std::string_view key) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) return std::nullopt;
    return Obj(key);
  }
  State StateField(std::string_view key) {
    std::string s = Str(key);
    auto st = engine::StateFromName(s);
    if (!st && ok()) Fail(std::string("field '") + std::string(key) + "' is not a state: '" + s + "'");
    return st.value_or(State::kError);
  }

  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
  }
  bool ok() const { return error_.empty(); }
  Status status() const {
    return InvalidArgument("bad " + std::string(type_) + " message: " + error_);
  }

 private:
  const JsonObject& o_;
  std::string_view type_;
  std::string error_;
};

// Two sinks for one field list (WriteEvent / WriteRunAction): ObjectSink builds a JsonObject, TextSink
// writes the compact JSON text directly (byte-identical to DumpJson of the object, without building it:
// the encoders are on the hot path).
class ObjectSink {
 public:
  explicit ObjectSink(JsonObject& o) : o_(o) {}
  void Str(std::string_view key, std::string_view v) { o_[key] = v; }
  void Int(std::string_view key, int64_t v) { o_[key] = v; }
  void Bool(std::string_view key, bool v) { o_[key] = v; }
  void Value(std::string_view key, const Json& v) { o_[key] = v; }

 private:
  JsonObject& o_;
};

using TextSink = JsonTextSink;

template <typename Sink>
void PutOpt(Sink& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o.Str(key, *v);
}

std::string_view ActionKindName(engine::ActionCompleted::Kind k) {
  switch (k) {
    case engine::ActionCompleted::Kind::kSuccess: return "success";
    case engine::ActionCompleted::Kind::kError: return "error";
    case engine::ActionCompleted::Kind::kCancelled: return "cancelled";
  }
  return "error";
}

}  // namespace

std::string EventsTopic(std::string_view prefix) {
  return std::string(prefix) + std::string(kEventsTopic);
}

std::string ActionsTopic(std::string_view pool, std::string_view prefix) {
  return std::string(prefix) + std::string(kActionsTopicPrefix) + std::string(pool.empty() ? "default" : pool);
}

namespace {

template <typename Sink>
void WriteEvent(const engine::Event& event, Sink& o) {
  o.Int("schema_version", kSchemaVersion);
  o.Str("type", EventName(event));
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        o.Str("execution_id", e.execution_id);
        if constexpr (std::is_same_v<T, engine::StartExecution>) {
          o.Str("workflow_name", e.workflow_name);
          o.Str("workflow_namespace", e.workflow_namespace);
          o.Value("input", e.input);
          o.Value("params", e.params);
          o.Str("description", e.description);
          if (!e.parent_execution_id.empty()) {
            o.Str("parent_execution_id", e.parent_execution_id);
            o.Str("parent_task_execution_id", e.parent_task_execution_id);
            o.Str("root_execution_id", e.root_execution_id);
            o.Int("parent_item_index", e.parent_item_index);
            o.Int("depth", e.depth);
            if (e.report_tasks) o.Bool("report_tasks", true);
          }
        } else if constexpr (std::is_same_v<T, engine::ActionCompleted>) {
          o.Str("task_execution_id", e.task_execution_id);
          o.Str("action_execution_id", e.action_execution_id);
          o.Str("result", ActionKindName(e.kind));
          o.Value("data", e.data);
        } else if constexpr (std::is_same_v<T, engine::SubWorkflowCompleted>) {
          o.Str("task_execution_id", e.task_execution_id);
          o.Str("sub_execution_id", e.sub_execution_id);
          o.Str("state", engine::StateName(e.state));
          o.Value("output", e.output);
          PutOpt(o, "state_info", e.state_info);
          if (!e.tasks.is_null()) o.Value("tasks", e.tasks);
        } else if constexpr (std::is_same_v<T, engine::TimerFired>) {
          o.Str("timer_id", e.timer_id);
        } else if constexpr (std::is_same_v<T, engine::ResumeExecution>) {
          if (e.env) o.Value("env", *e.env);
        } else if constexpr (std::is_same_v<T, engine::CancelExecution>) {
          PutOpt(o, "state_info", e.state_info);
        } else if constexpr (std::is_same_v<T, engine::StopExecution>) {
          o.Str("state", engine::StateName(e.state));
          PutOpt(o, "state_info", e.state_info);
        } else if constexpr (std::is_same_v<T, engine::RerunTask>) {
          o.Str("task_execution_id", e.task_execution_id);
          o.Bool("reset", e.reset);
          if (e.env) o.Value("env", *e.env);
        } else if constexpr (std::is_same_v<T, engine::SkipTask>) {
          o.Str("task_execution_id", e.task_execution_id);
        } else if constexpr (std::is_same_v<T, engine::SubWorkflowUpdated>) {
          o.Str("task_execution_id", e.task_execution_id);
          o.Str("sub_execution_id", e.sub_execution_id);
          o.Str("state", engine::StateName(e.state));
        }
      },
      event);
}

template <typename Sink>
void WriteRunAction(const engine::RunAction& run, Sink& o) {
  o.Int("schema_version", kSchemaVersion);
  o.Str("type", "RunAction");
  o.Str("execution_id", run.execution_id);
  o.Str("workflow_name", run.workflow_name);
  o.Str("task_execution_id", run.task_execution_id);
  o.Str("task_name", run.task_name);
  o.Str("action_execution_id", run.action_execution_id);
  o.Str("action_name", run.action_name);
  o.Value("input", run.input);
  o.Str("target", run.target);
  o.Int("timeout_s", run.timeout_s);
  o.Bool("safe_rerun", run.safe_rerun);
  o.Bool("is_async", run.is_async);
  o.Int("attempt", run.attempt);
}

// Parses a hot-path message into a scratch arena (no per-node malloc); the Reader copies what it keeps.
class ScratchParse {
 public:
  Status Parse(std::string_view text) {
    boost::json::parse_options opts;
    opts.max_depth = 64;
    boost::json::stream_parser p(boost::json::storage_ptr(&arena_), opts, parser_buf_,
                                 sizeof(parser_buf_));
    boost::system::error_code ec;
    size_t n = p.write_some(text.data(), text.size(), ec);
    if (!ec && n < text.size()) ec = boost::json::make_error_code(boost::json::error::extra_data);
    if (!ec) p.finish(ec);
    if (ec) return ParseJson(text).status();  // the same error text as everywhere else
    value_.emplace(p.release());  // move construction keeps the arena storage (no copy)
    return CheckFiniteNumbers(*value_);
  }
  const Json& value() const { return *value_; }

 private:
  unsigned char arena_buf_[8192];
  unsigned char parser_buf_[2048];
  boost::json::monotonic_resource arena_{arena_buf_, sizeof(arena_buf_)};
  std::optional<Json> value_;  // declared last: destroyed before the arena
};


// Fast path for the two hot messages (ActionCompleted events and RunAction requests): one pass over a
// flat object whose strings are plain printable ASCII without escapes, integers, booleans, null and nested
// values (parsed on their own). Anything else — escapes, non-ASCII, floats, duplicate keys, a missing or
// mistyped field, any syntax error — makes it give up, and the caller decodes with the general path, which
// also produces the error message. So it accepts exactly what the general path accepts, with the same
// result, only for well-formed common messages.
class FlatMessage {
 public:
  enum class Kind { kString, kInt, kBool, kNull, kNested };
  struct Field {
    std::string_view key;
    Kind kind = Kind::kNull;
    std::string_view text;  // string contents, or the nested value's JSON text
    int64_t number = 0;     // kInt; kBool: 0/1
    uint32_t sig = 0;       // Signature(key)
  };

  // False when the text is not in the simple shape (the caller falls back). With `stop_key`, stops
  // (true) on reaching that key: only the fields before it are read.
  bool Parse(std::string_view text, std::string_view stop_key = {}) {
    p_ = text.data();
    end_ = p_ + text.size();
    SkipWs();
    if (!Eat('{')) return false;
    SkipWs();
    if (Eat('}')) return Tail();
    while (true) {
      SkipWs();
      Field f;
      if (!String(&f.key)) return false;
      if (!stop_key.empty() && f.key == stop_key) return true;
      f.sig = Signature(f.key);
      for (size_t i = 0; i < count_; ++i) {
        if (fields_[i].sig == f.sig && fields_[i].key == f.key) return false;  // duplicate key
      }
      SkipWs();
      if (!Eat(':')) return false;
      SkipWs();
      if (!Value(&f)) return false;
      if (count_ == kMaxFields) return false;
      fields_[count_++] = f;
      SkipWs();
      if (Eat(',')) continue;
      if (Eat('}')) return Tail();
      return false;
    }
  }

  // Nested values the decoder does not read must still be valid JSON (the general path checks the
  // whole document). Used ones are parsed anyway; "{}" needs no check.
  bool NestedValid(std::string_view read_key) const {
    for (size_t i = 0; i < count_; ++i) {
      const Field& f = fields_[i];
      if (f.kind != Kind::kNested || f.text == "{}" || f.key == read_key) continue;
      if (!ParseJson(f.text, 63).ok()) return false;
    }
    return true;
  }

  // Keys are unique (Parse checks). Lookups usually come in the order the fields were written, so the
  // search starts after the previous hit.
  const Field* Find(std::string_view key) const {
    const uint32_t sig = Signature(key);
    for (size_t n = 0; n < count_; ++n) {
      size_t i = cursor_ + n < count_ ? cursor_ + n : cursor_ + n - count_;
      if (fields_[i].sig == sig && fields_[i].key == key) {
        cursor_ = i + 1 < count_ ? i + 1 : 0;
        return &fields_[i];
      }
    }
    return nullptr;
  }
  // Required string field.
  bool Str(std::string_view key, std::string* out) const {
    const Field* f = Find(key);
    if (f == nullptr || f->kind != Kind::kString) return false;
    out->assign(f->text);
    return true;
  }
  // Optional string field: missing or null gives "".
  bool OptStr(std::string_view key, std::string* out) const {
    const Field* f = Find(key);
    if (f == nullptr || f->kind == Kind::kNull) return true;
    if (f->kind != Kind::kString) return false;
    out->assign(f->text);
    return true;
  }
  // Optional integer field: missing or null keeps `*out`.
  bool Int(std::string_view key, int64_t* out) const {
    const Field* f = Find(key);
    if (f == nullptr || f->kind == Kind::kNull) return true;
    if (f->kind != Kind::kInt) return false;
    *out = f->number;
    return true;
  }
  bool Bool(std::string_view key, bool* out) const {
    const Field* f = Find(key);
    if (f == nullptr || f->kind == Kind::kNull) return true;
    if (f->kind != Kind::kBool) return false;
    *out = f->number != 0;
    return true;
  }
  // Any JSON value: missing gives `fallback`.
  bool Any(std::string_view key, Json* out, Json fallback) const {
    const Field* f = Find(key);
    if (f == nullptr) {
      *out = std::move(fallback);
      return true;
    }
    return ToJson(*f, out);
  }
  // Object field: missing or null gives {}.
  bool Obj(std::string_view key, Json* out) const {
    const Field* f = Find(key);
    if (f == nullptr || f->kind == Kind::kNull) {
      *out = JsonObject();
      return true;
    }
    if (f->kind != Kind::kNested || f->text.front() != '{') return false;
    return ToJson(*f, out) && out->is_object();
  }

 private:
  static constexpr size_t kMaxFields = 24;

  // Cheap filter before comparing keys: length and three characters.
  static uint32_t Signature(std::string_view key) {
    if (key.empty()) return 0;
    return static_cast<uint32_t>(key.size()) ^
           (static_cast<uint32_t>(static_cast<unsigned char>(key.front())) << 8) ^
           (static_cast<uint32_t>(static_cast<unsigned char>(key[key.size() / 2])) << 16) ^
           (static_cast<uint32_t>(static_cast<unsigned char>(key.back())) << 24);
  }

  static bool ToJson(const Field& f, Json* out) {
    switch (f.kind) {
      case Kind::kString: *out = Json(f.text); return true;
      case Kind::kInt: *out = Json(f.number); return true;
      case Kind::kBool: *out = Json(f.number != 0); return true;
      case Kind::kNull: *out = Json(nullptr); return true;
      case Kind::kNested: {
        if (f.text == "{}") {
          *out = JsonObject();
          return true;
        }
        auto v = ParseJson(f.text, 63);  // one level is the message itself
        if (!v.ok()) return false;
        *out = std::move(v).value();
        return true;
      }
    }
    return false;
  }

  void SkipWs() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }
  bool Eat(char c) {
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }
  bool Tail() {
    SkipWs();
    return p_ == end_;
  }
  // A string of printable ASCII without escapes.
  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    const char* start = p_;
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        *out = std::string_view(start, static_cast<size_t>(p_ - start));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
      ++p_;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }
  bool Value(Field* f) {
    if (p_ >= end_) return false;
    char c = *p_;
    if (c == '"') {
      f->kind = Kind::kString;
      return String(&f->text);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      const char* start = p_;
      if (*p_ == '-') ++p_;
      if (p_ >= end_ || *p_ < '0' || *p_ > '9') return false;
      if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') return false;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;  // a double
      auto r = std::from_chars(start, p_, f->number);
      if (r.ec != std::errc() || r.ptr != p_) return false;  // e.g. beyond int64
      f->kind = Kind::kInt;
      return true;
    }
    if (c == 't' || c == 'f') {
      f->kind = Kind::kBool;
      f->number = c == 't';
      return Literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      f->kind = Kind::kNull;
      return Literal("null");
    }
    if (c == '{' || c == '[') {
      // The extent of the nested value; it is parsed (and validated) on its own when used.
      const char* start = p_;
      int depth = 0;
      while (p_ < end_) {
        char d = *p_;
        if (d == '"') {
          ++p_;
          while (p_ < end_ && *p_ != '"') {
            if (*p_ == '\\' && p_ + 1 >= end_) return false;
            p_ += (*p_ == '\\') ? 2 : 1;
          }
          if (p_ >= end_) return false;
        } else if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) {
            ++p_;
            f->kind = Kind::kNested;
            f->text = std::string_view(start, static_cast<size_t>(p_ - start));
            return true;
          }
        }
        ++p_;
      }
      return false;
    }
    return false;
  }

  const char* p_ = nullptr;
  const char* end_ = nullptr;
  Field fields_[kMaxFields];
  size_t count_ = 0;
  mutable size_t cursor_ = 0;
};

bool FastActionCompleted(const FlatMessage& m, engine::Event* out) {
  const FlatMessage::Field* v = m.Find("schema_version");
  const FlatMessage::Field* t = m.Find("type");
  if (v == nullptr || v->kind != FlatMessage::Kind::kInt || v->number != kSchemaVersion) return false;
  if (t == nullptr || t->kind != FlatMessage::Kind::kString || t->text != "ActionCompleted") return false;
  engine::ActionCompleted e;
  std::string kind;
  if (!m.Str("execution_id", &e.execution_id) || !m.Str("task_execution_id", &e.task_execution_id) ||
      !m.Str("action_execution_id", &e.action_execution_id) || !m.Str("result", &kind)) {
    return false;
  }
  if (kind == "success") e.kind = engine::ActionCompleted::Kind::kSuccess;
  else if (kind == "error") e.kind = engine::ActionCompleted::Kind::kError;
  else if (kind == "cancelled") e.kind = engine::ActionCompleted::Kind::kCancelled;
  else return false;
  if (!m.Any("data", &e.data, nullptr)) return false;
  *out = std::move(e);
  return true;
}

// The ids of an ActionCompleted that cannot be decoded, from the fields before its `data` (within
// the first 64 KiB): an error result saying why, so the task fails rather than waits forever.
std::optional<engine::Event> SalvageActionCompleted(std::string_view text, const Status& why) {
  FlatMessage head;
  if (!head.Parse(text.substr(0, 64 << 10), "data")) return std::nullopt;
  const FlatMessage::Field* v = head.Find("schema_version");
  const FlatMessage::Field* t = head.Find("type");
  if (v == nullptr || v->kind != FlatMessage::Kind::kInt || v->number != kSchemaVersion) {
    return std::nullopt;
  }
  if (t == nullptr || t->kind != FlatMessage::Kind::kString || t->text != "ActionCompleted") {
    return std::nullopt;
  }
  engine::ActionCompleted e;
  if (!head.Str("execution_id", &e.execution_id) ||
      !head.Str("task_execution_id", &e.task_execution_id) ||
      !head.Str("action_execution_id", &e.action_execution_id)) {
    return std::nullopt;
  }
  e.kind = engine::ActionCompleted::Kind::kError;
  e.data = Json("the action's result message was refused: " + why.message());
  return engine::Event(std::move(e));
}

bool FastRunAction(const FlatMessage& m, engine::RunAction* run) {
  const FlatMessage::Field* v = m.Find("schema_version");
  const FlatMessage::Field* t = m.Find("type");
  if (v == nullptr || v->kind != FlatMessage::Kind::kInt || v->number != kSchemaVersion) return false;
  if (t == nullptr || t->kind != FlatMessage::Kind::kString || t->text != "RunAction") return false;
  int64_t attempt = 0;
  if (!m.Str("execution_id", &run->execution_id) || !m.OptStr("workflow_name", &run->workflow_name) ||
      !m.Str("task_execution_id", &run->task_execution_id) || !m.OptStr("task_name", &run->task_name) ||
      !m.Str("action_execution_id", &run->action_execution_id) ||
      !m.Str("action_name", &run->action_name) || !m.Obj("input", &run->input) ||
      !m.OptStr("target", &run->target) || !m.Int("timeout_s", &run->timeout_s) ||
      !m.Bool("safe_rerun", &run->safe_rerun) || !m.Bool("is_async", &run->is_async) ||
      !m.Int("attempt", &attempt)) {
    return false;
  }
  run->attempt = static_cast<int>(attempt);
  return true;
}

}  // namespace

Json EventToJson(const engine::Event& event) {
  JsonObject o;
  ObjectSink sink(o);
  WriteEvent(event, sink);
  return o;
}

namespace {

// The error of an encoder whose sink met a non-finite number, naming its field.
Status NotEncodable(std::string_view type, const Json& message) {
  return CheckFiniteNumbers(message).WithContext("cannot encode the " + std::string(type) +
                                                 " message");
}

}  // namespace

Result<std::string> EncodeEvent(const engine::Event& event) {
  std::string out;
  out.reserve(320);
  TextSink sink(out);
  WriteEvent(event, sink);
  sink.Finish();
  if (!sink.finite()) return NotEncodable(EventName(event), EventToJson(event));
  return out;
}

Result<engine::Event> EventFromJson(const Json& json) {
  if (!json.is_object()) return InvalidArgument("bad event message: not a JSON object");
  const JsonObject& o = json.get_object();
  auto version = o.find("schema_version");
  if (version == o.end() || !version->value().is_int64()) {
    return InvalidArgument("bad event message: missing integer 'schema_version'");
  }
  if (version->value().get_int64() != kSchemaVersion) {
    return InvalidArgument("bad event message: unsupported schema_version " +
                           std::to_string(version->value().get_int64()) + " (this build reads " +
                           std::to_string(kSchemaVersion) + ")");
  }
  auto type_it = o.find("type");
  if (type_it == o.end() || !type_it->value().is_string()) {
    return InvalidArgument("bad event message: missing string 'type'");
  }
  std::string type(type_it->value().get_string());
  Reader r(o, type);
  engine::Event out;
  if (type == "StartExecution") {
    engine::StartExecution e;
    e.execution_id = r.Str("execution_id");
    e.workflow_name = r.Str("workflow_name");
    e.workflow_namespace = r.Str("workflow_namespace", false);
    e.input = r.Obj("input");
    e.params = r.Obj("params");
    e.description = r.Str("description", false);
    e.parent_execution_id = r.Str("parent_execution_id", false);
    e.parent_task_execution_id = r.Str("parent_task_execution_id", false);
    e.root_execution_id = r.Str("root_execution_id", false);
    e.parent_item_index = static_cast<int>(r.Int("parent_item_index"));
    e.depth = static_cast<int>(std::clamp<int64_t>(r.Int("depth"), 0, 1 << 20));
    e.report_tasks = r.Bool("report_tasks", false);
    out = std::move(e);
  } else if (type == "ActionCompleted") {
    engine::ActionCompleted e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.action_execution_id = r.Str("action_execution_id");
    std::string kind = r.Str("result");
    if (kind == "success") e.kind = engine::ActionCompleted::Kind::kSuccess;
    else if (kind == "error") e.kind = engine::ActionCompleted::Kind::kError;
    else if (kind == "cancelled") e.kind = engine::ActionCompleted::Kind::kCancelled;
    else if (r.ok()) r.Fail("field 'result' must be success, error or cancelled, not '" + kind + "'");
    e.data = r.Any("data");
    out = std::move(e);
  } else if (type == "SubWorkflowCompleted") {
    engine::SubWorkflowCompleted e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.sub_execution_id = r.Str("sub_execution_id");
    e.state = r.StateField("state");
    e.output = r.Any("output", JsonObject());
    e.state_info = r.OptStr("state_info");
    e.tasks = r.Any("tasks", Json());
    out = std::move(e);
  } else if (type == "TimerFired") {
    engine::TimerFired e;
    e.execution_id = r.Str("execution_id");
    e.timer_id = r.Str("timer_id");
    out = std::move(e);
  } else if (type == "PauseExecution") {
    out = engine::PauseExecution{r.Str("execution_id")};
  } else if (type == "ResumeExecution") {
    engine::ResumeExecution e;
    e.execution_id = r.Str("execution_id");
    e.env = r.OptObj("env");
    out = std::move(e);
  } else if (type == "CancelExecution") {
    engine::CancelExecution e;
    e.execution_id = r.Str("execution_id");
    e.state_info = r.OptStr("state_info");
    out = std::move(e);
  } else if (type == "StopExecution") {
    engine::StopExecution e;
    e.execution_id = r.Str("execution_id");
    e.state = r.StateField("state");
    e.state_info = r.OptStr("state_info");
    out = std::move(e);
  } else if (type == "RerunTask") {
    engine::RerunTask e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.reset = r.Bool("reset", true);
    e.env = r.OptObj("env");
    out = std::move(e);
  } else if (type == "SkipTask") {
    engine::SkipTask e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    out = std::move(e);
  } else if (type == "PurgeExecution") {
    out = engine::PurgeExecution{r.Str("execution_id")};
  } else if (type == "SubWorkflowUpdated") {
    engine::SubWorkflowUpdated e;
    e.execution_id = r.Str("execution_id");
    e.task_execution_id = r.Str("task_execution_id");
    e.sub_execution_id = r.Str("sub_execution_id");
    e.state = r.StateField("state");
    out = std::move(e);
  } else {
    return InvalidArgument("bad event message: unknown type '" + type + "'");
  }
  if (!r.ok()) return r.status();
  return out;
}

Result<engine::Event> DecodeEvent(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    Status too_big = InvalidArgument("bad event message: " + std::to_string(text.size()) +
                                     " bytes, more than the bus message limit of " +
                                     std::to_string(kMaxMessageBytes) + " bytes (8 MiB)");
    if (auto salvaged = SalvageActionCompleted(text, too_big)) return *std::move(salvaged);
    return too_big;
  }
  {
    FlatMessage flat;
    engine::Event fast;
    if (flat.Parse(text) && flat.NestedValid("data") && FastActionCompleted(flat, &fast)) return fast;
  }
  ScratchParse parsed;
  if (Status s = parsed.Parse(text); !s.ok()) {
    s = s.WithContext("bad event message");
    if (auto salvaged = SalvageActionCompleted(text, s)) return *std::move(salvaged);
    return s;
  }
  return EventFromJson(parsed.value());
}

Json RunActionToJson(const engine::RunAction& run) {
  JsonObject o;
  ObjectSink sink(o);
  WriteRunAction(run, sink);
  return o;
}

Result<std::string> EncodeRunAction(const engine::RunAction& run) {
  std::string out;
  out.reserve(512);
  TextSink sink(out);
  WriteRunAction(run, sink);
  sink.Finish();
  if (!sink.finite()) return NotEncodable("RunAction", RunActionToJson(run));
  return out;
}

std::string WhyNotSendable(const Result<std::string>& encoded, std::string_view what) {
  if (!encoded.ok()) return encoded.status().message();
  if (encoded->size() <= kMaxMessageBytes) return {};
  return std::string(what) + " is " + std::to_string(encoded->size()) +
         " bytes encoded, more than the bus message limit of " + std::to_string(kMaxMessageBytes) +
         " bytes (8 MiB)";
}

Result<engine::RunAction> DecodeRunAction(std::string_view text) {
  if (text.size() > kMaxMessageBytes) {
    return InvalidArgument("bad RunAction message: " + std::to_string(text.size()) +
                           " bytes, more than the limit of " + std::to_string(kMaxMessageBytes));
  }
  {
    FlatMessage flat;
    engine::RunAction fast;
    if (flat.Parse(text) && flat.NestedValid("input") && FastRunAction(flat, &fast)) return fast;
  }
  ScratchParse parsed;
  if (Status s = parsed.Parse(text); !s.ok()) return s.WithContext("bad RunAction message");
  if (!parsed.value().is_object()) return InvalidArgument("bad RunAction message: not a JSON object");
  const JsonObject& o = parsed.value().get_object();
  Reader r(o, "RunAction");
  if (r.Int("schema_version", -1) != kSchemaVersion) {
    return InvalidArgument("bad RunAction message: missing or unsupported schema_version");
  }
  if (r.Str("type") != "RunAction" && r.ok()) r.Fail("field 'type' must be 'RunAction'");
  engine::RunAction run;
  run.execution_id = r.Str("execution_id");
  run.workflow_name = r.Str("workflow_name", false);
  run.task_execution_id = r.Str("task_execution_id");
  run.task_name = r.Str("task_name", false);
  run.action_execution_id = r.Str("action_execution_id");
  run.action_name = r.Str("action_name");
  run.input = r.Obj("input");
  run.target = r.Str("target", false);
  run.timeout_s = r.Int("timeout_s");
  run.safe_rerun = r.Bool("safe_rerun");
  run.is_async = r.Bool("is_async");
  run.attempt = static_cast<int>(r.Int("attempt"));
  if (!r.ok()) return r.status();
  return run;
}

}  // namespace bora::protocol
