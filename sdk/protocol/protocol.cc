#include "sdk/protocol/protocol.h"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <optional>
#include <type_traits>

#include "common/fields.h"
#include "common/json_text.h"
#include "sdk/messages/message_fields.h"

namespace bora::protocol {

namespace {

// The sinks of the field-list writer: compact text on the hot path, a Json tree for EventToJson.
using TextSink = JsonTextSink;
using TreeSink = fields::JsonTreeSink;

}  // namespace

std::string EventsTopic(std::string_view prefix) {
  return std::string(prefix) + std::string(kEventsTopic);
}

std::string ActionsTopic(std::string_view pool, std::string_view prefix) {
  return std::string(prefix) + std::string(kActionsTopicPrefix) + std::string(pool.empty() ? "default" : pool);
}

namespace {

// The message header, then the message's field list (sdk/messages/message_fields.h).
template <typename Sink>
void WriteEvent(const engine::Event& event, Sink& o) {
  o.Int("schema_version", kSchemaVersion);
  o.Str("type", EventName(event));
  fields::JsonWriter<Sink> w(o);
  std::visit([&](const auto& e) { VisitFields(e, w); }, event);
}

template <typename Sink>
void WriteRunAction(const engine::RunAction& run, Sink& o) {
  o.Int("schema_version", kSchemaVersion);
  o.Str("type", "RunAction");
  fields::JsonWriter<Sink> w(o);
  VisitFields(run, w);
}

// Calls `f(std::in_place_type<T>)` for the Event alternative T named `type`; false when none is.
template <typename F>
bool WithEventType(std::string_view type, F&& f) {
  return [&]<size_t... I>(std::index_sequence<I...>) {
    return ((type == engine::kEventNames[I]
                 ? (f(std::in_place_type<std::variant_alternative_t<I, engine::Event>>), true)
                 : false) ||
            ...);
  }
  (std::make_index_sequence<std::variant_size_v<engine::Event>>{});
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

  // Nested values the decoder did not read must still be valid JSON (the general path checks the
  // whole document); those it read were parsed. "{}" needs no check.
  bool UnreadNestedValid() const {
    for (size_t i = 0; i < count_; ++i) {
      const Field& f = fields_[i];
      if (f.kind != Kind::kNested || f.text == "{}" || (read_ & (1u << i)) != 0) continue;
      if (!ParseJson(f.text, 63).ok()) return false;
    }
    return true;
  }

  // Keys are unique (Parse checks). Lookups usually come in the order the fields were written, so
  // the search starts after the previous hit. A field found counts as read.
  const Field* Find(std::string_view key) const {
    const uint32_t sig = Signature(key);
    for (size_t n = 0; n < count_; ++n) {
      size_t i = cursor_ + n < count_ ? cursor_ + n : cursor_ + n - count_;
      if (fields_[i].sig == sig && fields_[i].key == key) {
        cursor_ = i + 1 < count_ ? i + 1 : 0;
        read_ |= 1u << i;
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
  mutable uint32_t read_ = 0;  // bit i: fields_[i] was found
};
static_assert(sizeof(uint32_t) * 8 >= 24, "one bit of FlatMessage::read_ per field");

// The field-list visitor over a FlatMessage (common/fields.h): the same reading rules as
// fields::JsonReader, but it gives up (ok() false) wherever that reader could fail or the message
// is not flat, and the caller then decodes with the general path.
class FlatReader {
 public:
  static constexpr bool kWrites = false;
  using Kind = FlatMessage::Kind;

  explicit FlatReader(const FlatMessage& m) : m_(m) {}
  bool ok() const { return ok_; }

  void Str(std::string_view key, std::string& out, fields::Opt o = fields::kOptional) {
    const FlatMessage::Field* f = Present(key, o);
    if (f == nullptr) return;
    if (f->kind != Kind::kString) return Fail();
    out.assign(f->text);
  }
  void OptStr(std::string_view key, std::optional<std::string>& out) {
    const FlatMessage::Field* f = Present(key, fields::kOptional);
    if (f == nullptr) return;
    if (f->kind != Kind::kString) return Fail();
    out.emplace(f->text);
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void Int(std::string_view key, T& out,
                                            fields::Opt o = fields::kOptional, T def = 0) {
    out = def;
    const FlatMessage::Field* f = Present(key, o);
    if (f == nullptr) return;
    if (f->kind != Kind::kInt) return Fail();
    out = static_cast<T>(f->number);
  }
  void Bool(std::string_view key, bool& out, fields::Opt o = fields::kOptional, bool def = false) {
    out = def;
    const FlatMessage::Field* f = Present(key, o);
    if (f == nullptr) return;
    if (f->kind != Kind::kBool) return Fail();
    out = f->number != 0;
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void OptInt(std::string_view key, std::optional<T>& out,
                                               fields::Opt o = fields::kOptional) {
    out.reset();
    if (Present(key, o) == nullptr) return;
    Int(key, out.emplace(), o);
  }
  void Value(std::string_view key, Json& out, fields::JsonOpt o) {
    const FlatMessage::Field* f = m_.Find(key);
    if (f == nullptr || (o.object_only && f->kind == Kind::kNull)) {
      out = o.empty_object_default ? Json(JsonObject()) : Json(nullptr);
      return;
    }
    if (o.object_only && (f->kind != Kind::kNested || f->text.front() != '{')) return Fail();
    if (!FlatMessage::ToJson(*f, &out)) return Fail();
  }
  void OptValue(std::string_view key, std::optional<Json>& out) {
    const FlatMessage::Field* f = Present(key, fields::kOptional);
    if (f == nullptr) return;
    if (f->kind != Kind::kNested || f->text.front() != '{') return Fail();
    Json v;
    if (!FlatMessage::ToJson(*f, &v)) return Fail();
    out.emplace(std::move(v));
  }
  template <typename E>
  void Enum(std::string_view key, E& out, const fields::EnumCodec<E>& codec,
            fields::Opt o = fields::kRequired, E def = E{}) {
    out = def;
    const FlatMessage::Field* f = Present(key, o);
    if (f == nullptr) return;
    if (f->kind != Kind::kString) return Fail();
    if (auto e = codec.parse(f->text)) {
      out = *e;
    } else {
      Fail();
    }
  }
  void Fail(std::string = {}) { ok_ = false; }

 private:
  // The field, or nullptr when missing or null (giving up when required).
  const FlatMessage::Field* Present(std::string_view key, fields::Opt o) {
    const FlatMessage::Field* f = m_.Find(key);
    if (f == nullptr || f->kind == Kind::kNull) {
      if (o.required) Fail();
      return nullptr;
    }
    return f;
  }

  const FlatMessage& m_;
  bool ok_ = true;
};

// The header of a flat message: schema_version 1 and the type.
bool FlatHeader(const FlatMessage& m, std::string_view* type) {
  const FlatMessage::Field* v = m.Find("schema_version");
  const FlatMessage::Field* t = m.Find("type");
  if (v == nullptr || v->kind != FlatMessage::Kind::kInt || v->number != kSchemaVersion) return false;
  if (t == nullptr || t->kind != FlatMessage::Kind::kString) return false;
  *type = t->text;
  return true;
}

// Any event in the flat shape, read by its field list.
bool FastEvent(const FlatMessage& m, engine::Event* out) {
  std::string_view type;
  if (!FlatHeader(m, &type)) return false;
  bool ok = false;
  WithEventType(type, [&]<typename T>(std::in_place_type_t<T>) {
    T e;
    FlatReader r(m);
    VisitFields(e, r);
    ok = r.ok() && m.UnreadNestedValid();
    if (ok) *out = std::move(e);
  });
  return ok;
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
  std::string_view type;
  if (!FlatHeader(m, &type) || type != "RunAction") return false;
  FlatReader r(m);
  VisitFields(*run, r);
  return r.ok() && m.UnreadNestedValid();
}

}  // namespace

Json EventToJson(const engine::Event& event) {
  Json o = JsonObject();
  TreeSink sink(o);
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
  fields::JsonReader r(o);
  engine::Event out;
  if (!WithEventType(type, [&]<typename T>(std::in_place_type_t<T>) {
        T e;
        VisitFields(e, r);
        out = std::move(e);
      })) {
    return InvalidArgument("bad event message: unknown type '" + type + "'");
  }
  if (!r.ok()) return InvalidArgument("bad " + type + " message: " + r.error());
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
    if (flat.Parse(text) && FastEvent(flat, &fast)) return fast;
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
  Json o = JsonObject();
  TreeSink sink(o);
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
    if (flat.Parse(text) && FastRunAction(flat, &fast)) return fast;
  }
  ScratchParse parsed;
  if (Status s = parsed.Parse(text); !s.ok()) return s.WithContext("bad RunAction message");
  if (!parsed.value().is_object()) return InvalidArgument("bad RunAction message: not a JSON object");
  const JsonObject& o = parsed.value().get_object();
  fields::JsonReader r(o);
  int64_t version = -1;
  r.Int("schema_version", version, fields::kOptional, int64_t{-1});
  if (!r.ok() || version != kSchemaVersion) {
    return InvalidArgument("bad RunAction message: missing or unsupported schema_version");
  }
  std::string type;
  r.Str("type", type, fields::kRequired);
  if (r.ok() && type != "RunAction") r.Fail("field 'type' must be 'RunAction'");
  engine::RunAction run;
  VisitFields(run, r);
  if (!r.ok()) return InvalidArgument("bad RunAction message: " + r.error());
  return run;
}

}  // namespace bora::protocol
