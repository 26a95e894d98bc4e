#include "common/json_text.h"

#include <boost/json/serializer.hpp>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

namespace bora {

namespace {

constexpr std::string_view kComma = ",";
constexpr std::string_view kNothing = "";

size_t CleanPrefix(std::string_view v);
void AppendQuoted(std::string& out, std::string_view before, std::string_view v,
                  std::string_view after);

// Containers nested deeper than this are handed to Boost's (non-recursive) serializer.
constexpr int kMaxRecursion = 32;

// Appends what boost::json::serializer produces for `v`.
void AppendWithBoost(std::string& out, const Json& v) {
  boost::json::serializer sr;
  sr.reset(&v);
  char buf[4096];
  while (!sr.done()) {
    auto part = sr.read(buf, sizeof(buf));
    out.append(part.data(), part.size());
  }
}

// Deep containers: Boost's serializer when every number is finite (the usual case), else a copy
// with null in place of each non-finite number.
bool AppendDeep(std::string& out, const Json& v) {
  if (!FindNonFiniteNumber(v)) {
    AppendWithBoost(out, v);
    return true;
  }
  Json copy = v;
  std::vector<Json*> todo{&copy};
  while (!todo.empty()) {
    Json* x = todo.back();
    todo.pop_back();
    if (x->is_double() && !std::isfinite(x->get_double())) *x = nullptr;
    if (x->is_array()) {
      for (Json& e : x->get_array()) todo.push_back(&e);
    } else if (x->is_object()) {
      for (auto& kv : x->get_object()) todo.push_back(&kv.value());
    }
  }
  AppendWithBoost(out, copy);
  return false;
}

template <typename T>
void AppendNumber(std::string& out, T v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Returns false when `v` holds a non-finite double (written as null).
bool AppendJsonAt(std::string& out, const Json& v, int depth) {
  switch (v.kind()) {
    case boost::json::kind::null:
      out.append("null", 4);
      return true;
    case boost::json::kind::bool_:
      out.append(v.get_bool() ? std::string_view("true") : std::string_view("false"));
      return true;
    case boost::json::kind::int64:
      AppendNumber(out, v.get_int64());
      return true;
    case boost::json::kind::uint64:
      AppendNumber(out, v.get_uint64());
      return true;
    case boost::json::kind::double_:
      if (!std::isfinite(v.get_double())) {
        out.append("null", 4);  // Boost would write Infinity/NaN, which no reader accepts
        return false;
      }
      AppendWithBoost(out, v);  // Boost's own shortest round-trip format (1e+16, -0E0, ...)
      return true;
    case boost::json::kind::string:
      AppendJsonString(out, v.get_string());
      return true;
    case boost::json::kind::array: {
      if (depth >= kMaxRecursion) return AppendDeep(out, v);
      const JsonArray& a = v.get_array();
      out.push_back('[');
      bool first = true;
      bool finite = true;
      for (const Json& x : a) {
        if (!first) out.push_back(',');
        first = false;
        finite &= AppendJsonAt(out, x, depth + 1);
      }
      out.push_back(']');
      return finite;
    }
    case boost::json::kind::object: {
      if (depth >= kMaxRecursion) return AppendDeep(out, v);
      const JsonObject& o = v.get_object();
      out.push_back('{');
      bool first = true;
      bool finite = true;
      for (const auto& kv : o) {
        const std::string_view key = kv.key();
        if (CleanPrefix(key) == key.size()) {
          AppendQuoted(out, first ? kNothing : kComma, key, "\":");
        } else {
          if (!first) out.push_back(',');
          AppendJsonString(out, key);
          out.push_back(':');
        }
        first = false;
        finite &= AppendJsonAt(out, kv.value(), depth + 1);
      }
      out.push_back('}');
      return finite;
    }
  }
  return true;
}

// Length of the prefix of `v` that needs no escaping.
// kEscaped[c]: Boost.JSON's serializer escapes byte c (controls, '"' and '\\').
constexpr auto kEscaped = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  return t;
}();

size_t CleanPrefix(std::string_view v) {
  const auto* d = reinterpret_cast<const unsigned char*>(v.data());
  size_t i = 0;
  while (i < v.size() && !kEscaped[d[i]]) ++i;
  return i;
}

// Appends before + '"' + v + after in one step (v needs no escaping).
void AppendQuoted(std::string& out, std::string_view before, std::string_view v,
                  std::string_view after) {
  const size_t at = out.size();
  out.resize(at + before.size() + 1 + v.size() + after.size());
  char* p = out.data() + at;
  std::memcpy(p, before.data(), before.size());
  p += before.size();
  *p++ = '"';
  std::memcpy(p, v.data(), v.size());
  std::memcpy(p + v.size(), after.data(), after.size());
}

}  // namespace

void JsonTextWriter::Key(std::string_view key) {
  if (CleanPrefix(key) == key.size()) {
    AppendQuoted(out_, comma_ ? kComma : kNothing, key, "\":");
  } else {
    if (comma_) out_.push_back(',');
    AppendJsonString(out_, key);
    out_.push_back(':');
  }
  comma_ = false;
}

void JsonTextWriter::Str(std::string_view v) {
  if (CleanPrefix(v) == v.size()) {
    AppendQuoted(out_, comma_ ? kComma : kNothing, v, "\"");
  } else {
    if (comma_) out_.push_back(',');
    AppendJsonString(out_, v);
  }
  comma_ = true;
}

void JsonTextWriter::Value(const Json& v) {
  if (comma_) out_.push_back(',');
  finite_ &= AppendJson(out_, v);
  comma_ = true;
}

void AppendJsonString(std::string& out, std::string_view v) {
  size_t i = CleanPrefix(v);
  if (i == v.size()) return AppendQuoted(out, "", v, "\"");  // the usual case: nothing to escape
  out.push_back('"');
  const auto* d = reinterpret_cast<const unsigned char*>(v.data());
  static constexpr char kHex[] = "0123456789abcdef";
  size_t run = 0;
  for (; i < v.size(); ++i) {
    unsigned char c = d[i];
    if (!kEscaped[c]) continue;
    out.append(v.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\t':
        out.push_back('t');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\r':
        out.push_back('r');
        break;
      default:
        out.append("u00", 3);
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(v.data() + run, v.size() - run);
  out.push_back('"');
}

bool AppendJson(std::string& out, const Json& v) { return AppendJsonAt(out, v, 0); }

}  // namespace bora
