#pragma once
// Field lists: a serialised struct declares its members once, and every encoder and decoder of it
// walks that one list, so they cannot drift apart.
//
// A struct's list is a function template found by argument-dependent lookup, written for both a
// const struct (writers) and a mutable one (readers):
//
//   template <typename S, typename V>  // S: Thing or const Thing
//   void VisitFields(S& x, V& v) {
//     v.Str("id", x.id, fields::kRequired);
//     v.Int("attempt", x.attempt, fields::kOmitDefault);
//     v.OptInt("limit", x.limit);  // a std::optional integer: null (or left out) when absent
//     v.Value("input", x.input, fields::kObjectOmitEmpty);
//     v.Array("steps", x.steps);  // a vector of structs with their own VisitFields, or of scalars
//   }
//
// Visitors (each has `static constexpr bool kWrites`):
//  - JsonWriter<Sink>: writes the members into a sink: JsonTextSink (compact text,
//  common/json_text.h)
//    or JsonTreeSink (a Json tree); both give the same document.
//  - JsonReader: reads a Boost.JSON object into the struct; the first problem (a missing required
//    member, a wrong type, an unknown enum name) becomes the reader's error, named with its path
//    ("tasks[2].actions[0]: field 'state' ...").
//  - others for special cases, e.g. the bus's one-pass reader of flat messages (sdk/protocol).
// A list may branch on `V::kWrites` for a member whose written form is not the struct's (see
// orchestrator/engine/state.cc, with-items pending indexes).
//
// Reading rules, the same for every reader: a missing member, or a null one, takes the struct's
// default (an error when the member is required); a member of the wrong type is an error. Writing:
// every member is written, except those marked omit-default when they equal the default (readers
// take the default for a missing member, so the text is shorter and reads back the same).
//
// Why hand-written rather than a reflection library: Boost.Describe gives names only, and these
// lists need per-member options (required, left out when default, enum names, objects only) and a
// text writer byte-identical to Boost.JSON's serializer on the hot path.
//
// Pure templates; visitors are single-threaded values.
#include <array>
#include <concepts>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/json.h"
#include "common/json_text.h"
#include "common/status.h"

namespace bora::fields {

// Options of a scalar member.
struct Opt {
  bool required = false;      // reading: missing or null is an error
  bool omit_default = false;  // writing: left out when equal to the default
};
inline constexpr Opt kRequired{true, false};
inline constexpr Opt kOptional{false, false};
inline constexpr Opt kOmitDefault{false, true};

// Options of a Json member: its default (null or {}), whether it must be an object, and whether
// the writer leaves it out when it equals the default.
struct JsonOpt {
  bool empty_object_default = false;  // missing: {} (else null)
  bool object_only = false;           // must be an object; null reads as missing (the default {})
  bool omit_default = false;
};
inline constexpr JsonOpt kAny{false, false, false};              // missing: null
inline constexpr JsonOpt kAnyOmitNull{false, false, true};       // missing: null; null not written
inline constexpr JsonOpt kAnyOrEmptyObject{true, false, false};  // missing: {}
inline constexpr JsonOpt kAnyOmitEmptyObject{true, false, true};
inline constexpr JsonOpt kObject{true, true, false};  // an object; missing or null: {}
inline constexpr JsonOpt kObjectOmitEmpty{true, true, true};

// Names of an enum's values: `name` for writing, `parse` for reading, `bad` words the error for a
// name `parse` refuses ("field '<key>' " is put before it).
template <typename E>
struct EnumCodec {
  std::string_view (*name)(E);
  std::optional<E> (*parse)(std::string_view);
  std::string (*bad)(std::string_view value);
};

// Whether `v` is what a missing member with options `o` reads as.
inline bool IsJsonDefault(const Json& v, JsonOpt o) {
  if (o.empty_object_default) return v.is_object() && v.get_object().empty();
  return v.is_null();
}

// ---------------------------------------------------------------------------------------------
// Sinks for JsonWriter. Keyed methods add an object member, Elem* methods an array element; both
// start inside the root object. JsonTextSink (common/json_text.h) writes text; JsonTreeSink builds
// the equivalent Json tree.
class JsonTreeSink {
 public:
  explicit JsonTreeSink(Json& root) {
    if (!root.is_object()) root.emplace_object();
    stack_.push_back(&root);
  }

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
  // Json trees hold any number; only the text sink reports non-finite ones.
  bool finite() const { return true; }

 private:
  Json& Slot(std::string_view key) { return stack_.back()->get_object()[key]; }
  // The parent container is not touched while a child is being filled: the pointer stays valid.
  void OpenObject(Json& slot) {
    slot.emplace_object();
    stack_.push_back(&slot);
  }

  std::vector<Json*> stack_;  // innermost open container last
};

// ---------------------------------------------------------------------------------------------
// Writes a field list into a sink. `head` selects the split form of a document a store writes in
// parts: Parts() members are written as their count, Split() members as a marker (see
// ExecutionState::AppendHeadJsonText).
template <typename Sink>
class JsonWriter {
 public:
  static constexpr bool kWrites = true;

  explicit JsonWriter(Sink& sink, bool head = false) : sink_(sink), head_(head) {}

  void Str(std::string_view key, std::string_view v, Opt o = kOptional) {
    if (o.omit_default && v.empty()) return;
    sink_.Str(key, v);
  }
  void OptStr(std::string_view key, const std::optional<std::string>& v) {
    if (v) sink_.Str(key, *v);
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void Int(std::string_view key, T v, Opt o = kOptional,
                                            T def = 0) {
    if (o.omit_default && v == def) return;
    if constexpr (std::is_unsigned_v<T> && sizeof(T) == 8) {
      sink_.UInt(key, v);
    } else {
      sink_.Int(key, static_cast<int64_t>(v));
    }
  }
  void Bool(std::string_view key, bool v, Opt o = kOptional, bool def = false) {
    if (o.omit_default && v == def) return;
    sink_.Bool(key, v);
  }
  // An integer that may be absent: nullopt is written as null, or left out when omit-default.
  template <std::integral T>
  requires(!std::same_as<T, bool>) void OptInt(std::string_view key, const std::optional<T>& v,
                                               Opt o = kOptional) {
    if (v) return Int(key, *v);
    if (!o.omit_default) sink_.Null(key);
  }
  void Value(std::string_view key, const Json& v, JsonOpt o) {
    if (o.omit_default && IsJsonDefault(v, o)) return;
    sink_.Value(key, v);
  }
  void OptValue(std::string_view key, const std::optional<Json>& v) {
    if (v) sink_.Value(key, *v);
  }
  template <typename E>
  void Enum(std::string_view key, E v, const EnumCodec<E>& codec, Opt o = kRequired, E def = E{}) {
    if (o.omit_default && v == def) return;
    sink_.Str(key, codec.name(v));
  }
  // A nested struct, written when `write` (the list says when it differs from its default).
  template <typename T>
  void Object(std::string_view key, const T& sub, bool write = true) {
    if (!write) return;
    sink_.BeginObject(key);
    VisitFields(sub, *this);
    sink_.EndObject();
  }
  // A sequence of structs, strings or integers; left out when empty (readers read none).
  template <typename T>
  void Array(std::string_view key, std::span<const T> xs) {
    if (xs.empty()) return;
    sink_.BeginArray(key, xs.size());
    for (const T& x : xs) {
      if constexpr (std::is_same_v<T, std::string>) {
        sink_.ElemStr(x);
      } else if constexpr (std::is_integral_v<T>) {
        sink_.ElemInt(static_cast<int64_t>(x));
      } else {
        sink_.BeginElemObject();
        VisitFields(x, *this);
        sink_.EndObject();
      }
    }
    sink_.EndArray();
  }
  template <typename T>
  void Array(std::string_view key, const std::vector<T>& xs) {
    Array(key, std::span<const T>(xs));
  }
  // A map keyed by string of structs or integers; left out when empty.
  template <typename T>
  void Map(std::string_view key, const std::map<std::string, T>& m) {
    if (m.empty()) return;
    sink_.BeginObject(key);
    for (const auto& [k, x] : m) {
      if constexpr (std::is_integral_v<T>) {
        sink_.Int(k, static_cast<int64_t>(x));
      } else {
        sink_.BeginObject(k);
        VisitFields(x, *this);
        sink_.EndObject();
      }
    }
    sink_.EndObject();
  }
  // An array a store may keep apart: the head form writes its size as `count_key` instead.
  template <typename T>
  void Parts(std::string_view key, std::string_view count_key, const std::vector<T>& xs) {
    if (head_) {
      sink_.UInt(count_key, xs.size());
    } else {
      Array(key, xs);
    }
  }
  // A value a store may keep apart: when `split` is true the head form writes `marker_key: true`.
  void Split(std::string_view key, std::string_view marker_key, const Json& v, bool split,
             JsonOpt o) {
    if (head_ && split) {
      sink_.Bool(marker_key, true);
    } else {
      Value(key, v, o);
    }
  }

 private:
  Sink& sink_;
  const bool head_;
};

// ---------------------------------------------------------------------------------------------
// Reads a field list out of a Boost.JSON object. Sub-values are copied into the default storage
// (the parsed tree may live in a scratch arena). The first problem is kept; later reads still run
// but change nothing that matters (the caller discards the struct on error).
class JsonReader {
 public:
  static constexpr bool kWrites = false;

  explicit JsonReader(const JsonObject& o) : o_(o) {}

  void Str(std::string_view key, std::string& out, Opt o = kOptional) {
    const Json* v = Find(key, o);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(Field(key) + " must be a string");
    out.assign(v->get_string().data(), v->get_string().size());
  }
  void OptStr(std::string_view key, std::optional<std::string>& out) {
    const Json* v = Find(key, kOptional);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(Field(key) + " must be a string");
    out.emplace(v->get_string().data(), v->get_string().size());
  }
  template <std::integral T>
  requires(!std::same_as<T, bool>) void Int(std::string_view key, T& out, Opt o = kOptional,
                                            T def = 0) {
    out = def;
    const Json* v = Find(key, o);
    if (v == nullptr) return;
    if (v->is_int64()) {
      out = static_cast<T>(v->get_int64());
    } else if (v->is_uint64()) {
      out = static_cast<T>(v->get_uint64());
    } else {
      Fail(Field(key) + " must be an integer");
    }
  }
  void Bool(std::string_view key, bool& out, Opt o = kOptional, bool def = false) {
    out = def;
    const Json* v = Find(key, o);
    if (v == nullptr) return;
    if (!v->is_bool()) return Fail(Field(key) + " must be a boolean");
    out = v->get_bool();
  }
  // Missing or null: nullopt.
  template <std::integral T>
  requires(!std::same_as<T, bool>) void OptInt(std::string_view key, std::optional<T>& out,
                                               Opt o = kOptional) {
    out.reset();
    if (Find(key, o) == nullptr) return;
    Int(key, out.emplace(), o);
  }
  void Value(std::string_view key, Json& out, JsonOpt o) {
    auto it = o_.find(key);
    const bool missing = it == o_.end() || (o.object_only && it->value().is_null());
    if (missing) {
      out = o.empty_object_default ? Json(JsonObject()) : Json(nullptr);
      return;
    }
    if (o.object_only && !it->value().is_object()) {
      out = JsonObject();
      return Fail(Field(key) + " must be an object");
    }
    out = Json(it->value(), boost::json::storage_ptr());
  }
  // Missing or null: nullopt; otherwise an object.
  void OptValue(std::string_view key, std::optional<Json>& out) {
    const Json* v = Find(key, kOptional);
    if (v == nullptr) return;
    if (!v->is_object()) return Fail(Field(key) + " must be an object");
    out.emplace(*v, boost::json::storage_ptr());
  }
  template <typename E>
  void Enum(std::string_view key, E& out, const EnumCodec<E>& codec, Opt o = kRequired,
            E def = E{}) {
    out = def;
    const Json* v = Find(key, o);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(Field(key) + " must be a string");
    std::string_view name(v->get_string().data(), v->get_string().size());
    if (auto e = codec.parse(name)) {
      out = *e;
    } else {
      Fail(Field(key) + " " + codec.bad(name));
    }
  }
  template <typename T>
  void Object(std::string_view key, T& sub, bool /*write*/ = true) {
    const Json* v = Find(key, kOptional);
    if (v == nullptr) return;
    if (!v->is_object()) return Fail(Field(key) + " must be an object");
    JsonReader child(v->get_object(), this, key, -1);
    VisitFields(sub, child);
  }
  template <typename T>
  void Array(std::string_view key, std::vector<T>& xs) {
    const Json* v = Find(key, kOptional);
    if (v == nullptr) return;
    if (!v->is_array()) return Fail(Field(key) + " must be an array");
    const JsonArray& a = v->get_array();
    xs.clear();
    xs.reserve(a.size());
    for (size_t i = 0; i < a.size() && ok(); ++i) {
      const Json& e = a[i];
      if constexpr (std::is_same_v<T, std::string>) {
        if (!e.is_string()) return Fail(Element(key, i) + " must be a string");
        xs.emplace_back(e.get_string().data(), e.get_string().size());
      } else if constexpr (std::is_integral_v<T>) {
        if (e.is_int64()) {
          xs.push_back(static_cast<T>(e.get_int64()));
        } else if (e.is_uint64()) {
          xs.push_back(static_cast<T>(e.get_uint64()));
        } else {
          return Fail(Element(key, i) + " must be an integer");
        }
      } else {
        if (!e.is_object()) return Fail(Element(key, i) + " must be an object");
        JsonReader child(e.get_object(), this, key, static_cast<int64_t>(i));
        VisitFields(xs.emplace_back(), child);
      }
    }
  }
  template <typename T>
  void Map(std::string_view key, std::map<std::string, T>& m) {
    const Json* v = Find(key, kOptional);
    if (v == nullptr) return;
    if (!v->is_object()) return Fail(Field(key) + " must be an object");
    m.clear();
    for (const auto& kv : v->get_object()) {
      std::string k(kv.key());
      if constexpr (std::is_integral_v<T>) {
        if (kv.value().is_int64()) {
          m[k] = static_cast<T>(kv.value().get_int64());
        } else if (kv.value().is_uint64()) {
          m[k] = static_cast<T>(kv.value().get_uint64());
        } else {
          return Fail(Field(key) + " member '" + k + "' must be an integer");
        }
      } else {
        if (!kv.value().is_object())
          return Fail(Field(key) + " member '" + k + "' must be an object");
        JsonReader child(kv.value().get_object(), this, key, -1, k);
        VisitFields(m[k], child);
      }
      if (!ok()) return;
    }
  }
  template <typename T>
  void Parts(std::string_view key, std::string_view /*count_key*/, std::vector<T>& xs) {
    Array(key, xs);
  }
  void Split(std::string_view key, std::string_view /*marker_key*/, Json& v, bool /*split*/,
             JsonOpt o) {
    Value(key, v, o);
  }

  // Records a problem (a list's own validation, e.g. a value out of range), named with the path.
  void Fail(std::string why) {
    JsonReader* root = this;
    while (root->parent_ != nullptr) root = root->parent_;
    if (!root->error_.empty()) return;
    std::string path = Path();
    root->error_ = path.empty() ? std::move(why) : path + ": " + why;
  }
  bool ok() const {
    const JsonReader* root = this;
    while (root->parent_ != nullptr) root = root->parent_;
    return root->error_.empty();
  }
  // The first problem, "<path>: <what>" ("" when none).
  const std::string& error() const { return error_; }

 private:
  JsonReader(const JsonObject& o, JsonReader* parent, std::string_view key, int64_t index,
             std::string map_key = {})
      : o_(o), parent_(parent), key_(key), index_(index), map_key_(std::move(map_key)) {}

  // The member, or nullptr when missing or null (an error when required).
  const Json* Find(std::string_view key, Opt o) {
    auto it = o_.find(key);
    if (it == o_.end() || it->value().is_null()) {
      if (o.required) Fail("missing " + Field(key));
      return nullptr;
    }
    return &it->value();
  }
  static std::string Field(std::string_view key) { return "field '" + std::string(key) + "'"; }
  static std::string Element(std::string_view key, size_t i) {
    return "field '" + std::string(key) + "[" + std::to_string(i) + "]'";
  }
  // "tasks[2].actions[0]" / "timers.<id>": where this reader's object sits in the document.
  std::string Path() const {
    if (parent_ == nullptr) return {};
    std::string up = parent_->Path();
    std::string here(key_);
    if (index_ >= 0) here += "[" + std::to_string(index_) + "]";
    if (!map_key_.empty()) here += "." + map_key_;
    return up.empty() ? here : up + "." + here;
  }

  const JsonObject& o_;
  JsonReader* parent_ = nullptr;
  std::string_view key_;
  int64_t index_ = -1;
  std::string map_key_;
  std::string error_;  // the root's only
};

// Writes `x`'s field list as compact JSON text: appends one object to `out`. False when a Json
// member held a non-finite number (written as null).
template <typename T>
bool AppendText(const T& x, std::string& out, bool head = false) {
  JsonTextSink sink(out);
  JsonWriter<JsonTextSink> w(sink, head);
  VisitFields(x, w);
  sink.Finish();
  return sink.finite();
}

// `x`'s field list as a Json object (the same document as AppendText).
template <typename T>
Json ToJson(const T& x) {
  Json root = JsonObject();
  JsonTreeSink sink(root);
  JsonWriter<JsonTreeSink> w(sink);
  VisitFields(x, w);
  return root;
}

// Reads `x` from a Json object; the error (kInvalidArgument, "<what>: <problem>") names the path.
template <typename T>
Status FromJson(const Json& json, T& x, std::string_view what) {
  if (!json.is_object()) return InvalidArgument(std::string(what) + ": not a JSON object");
  JsonReader r(json.get_object());
  VisitFields(x, r);
  if (!r.ok()) return InvalidArgument(std::string(what) + ": " + r.error());
  return Status::Ok();
}

}  // namespace bora::fields
