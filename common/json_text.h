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
// them).
void AppendJson(std::string& out, const Json& v);

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
  // Any Json value (DumpJson(v)).
  void Value(const Json& v);
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
};

}  // namespace bora
