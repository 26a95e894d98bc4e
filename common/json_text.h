#pragma once
// Compact JSON text written straight into a std::string, byte-identical to DumpJson() (Boost.JSON's
// serializer) of the equivalent Json tree, but without building the tree: for hot-path encoders
// (execution states stored in Redis, bus messages). The escaping rules of that text live here,
// once.
//
// JsonTextWriter appends to a caller-owned string; it does not own it and keeps no other state than
// "a comma is due". Not thread-safe (one writer, one thread); the free functions are pure.
//
// Usage (the writer does not check nesting; callers pair Begin/End and put a Key before each object
// member):
//   JsonTextWriter w(out);
//   w.BeginObject(); w.Key("a"); w.Int(1); w.Key("b"); w.BeginArray(); w.Str("x"); w.EndArray();
//   w.EndObject();   // {"a":1,"b":["x"]}
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.h"

namespace bora {

// Appends `s` as a JSON string literal escaped like Boost.JSON's serializer: \" \\ \b \t \n \f \r,
// other control characters (< 0x20) as \u00xx; everything else (0x7f, non-ASCII bytes, invalid
// UTF-8) is copied as is.
void AppendJsonString(std::string& out, std::string_view s);

// Appends DumpJson(v) (objects in insertion order, integers exactly, doubles as Boost.JSON formats
// them). A non-finite double (which ParseJson and the expression evaluator keep out) is written as
// null, never as Infinity/NaN, and the result is false: encoders that must not alter a value
// (the bus messages) fail on it.
bool AppendJson(std::string& out, const Json& v);

class JsonTextWriter {
 public:
  explicit JsonTextWriter(std::string& out) : out_(out) {}

  // The name of the next object member (escaped); the member's value follows.
  void Key(std::string_view key);
  void Str(std::string_view v);
  void Int(int64_t v) { Number(v); }
  void UInt(uint64_t v) { Number(v); }
  void Bool(bool v) { Raw(v ? std::string_view(",true") : std::string_view(",false")); }
  void Null() { Raw(",null"); }
  // Any Json value (DumpJson(v)); a non-finite number in it is written as null and clears finite().
  void Value(const Json& v);
  // False once Value() met a non-finite number.
  bool finite() const { return finite_; }
  void BeginObject() { Open(",{"); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open(",["); }
  void EndArray() { Close(']'); }

  std::string& out() { return out_; }

 private:
  // `text` starts with the ',' to write when a value came before at this level.
  void Raw(std::string_view text) {
    out_.append(comma_ ? text : text.substr(1));
    comma_ = true;
  }
  void Open(std::string_view text) {
    out_.append(comma_ ? text : text.substr(1));
    comma_ = false;
  }
  void Close(char c) {
    out_.push_back(c);
    comma_ = true;
  }
  template <typename T>
  void Number(T v) {
    char buf[24];
    buf[0] = ',';
    auto r = std::to_chars(buf + 1, buf + sizeof(buf), v);
    out_.append(comma_ ? buf : buf + 1, r.ptr);
    comma_ = true;
  }

  std::string& out_;
  bool comma_ = false;  // a value was written at this level: the next one needs a ','
  bool finite_ = true;
};

// A keyed front end of JsonTextWriter for templated field lists that also feed an object-building sink
// (ExecutionState::ToJson/ToJsonText, the bus message encoders): it opens the root object on construction;
// keyed methods add an object member, Elem* methods add an array element; Finish() closes the root.
class JsonTextSink {
 public:
  explicit JsonTextSink(std::string& out) : w_(out) { w_.BeginObject(); }
  void Finish() { w_.EndObject(); }
  // False when a Value() held a non-finite number (written as null).
  bool finite() const { return w_.finite(); }

  void Str(std::string_view key, std::string_view v) {
    w_.Key(key);
    w_.Str(v);
  }
  void Int(std::string_view key, int64_t v) {
    w_.Key(key);
    w_.Int(v);
  }
  void UInt(std::string_view key, uint64_t v) {
    w_.Key(key);
    w_.UInt(v);
  }
  void Bool(std::string_view key, bool v) {
    w_.Key(key);
    w_.Bool(v);
  }
  void Null(std::string_view key) {
    w_.Key(key);
    w_.Null();
  }
  void Value(std::string_view key, const Json& v) {
    w_.Key(key);
    w_.Value(v);
  }
  void BeginObject(std::string_view key) {
    w_.Key(key);
    w_.BeginObject();
  }
  void BeginArray(std::string_view key, size_t /*size_hint*/) {
    w_.Key(key);
    w_.BeginArray();
  }
  void EndObject() { w_.EndObject(); }
  void EndArray() { w_.EndArray(); }

  void ElemStr(std::string_view v) { w_.Str(v); }
  void ElemInt(int64_t v) { w_.Int(v); }
  void BeginElemObject() { w_.BeginObject(); }

 private:
  JsonTextWriter w_;
};

}  // namespace bora
