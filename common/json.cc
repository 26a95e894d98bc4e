#include "common/json.h"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "common/json_text.h"

namespace bora {

namespace {

// Line and column (1-based) of byte offset `pos` in `text`.
std::pair<size_t, size_t> LineCol(std::string_view text, size_t pos) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

void AppendEscapedJsonString(std::string& out, std::string_view s, bool ensure_ascii) {
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else if (c >= 0x80 && ensure_ascii) {
          // Decode one UTF-8 sequence; emit \uXXXX (surrogate pairs above the BMP).
          uint32_t cp = 0;
          int extra = 0;
          if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; extra = 1; }
          else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; extra = 2; }
          else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; extra = 3; }
          else { cp = 0xFFFD; }
          for (int k = 0; k < extra && i + 1 < s.size(); ++k) {
            ++i;
            cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
          }
          char buf[16];
          if (cp >= 0x10000) {
            cp -= 0x10000;
            std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
          } else {
            std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
          }
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void AppendPythonNumber(std::string& out, const Json& v) {
  if (v.is_int64()) {
    out += std::to_string(v.get_int64());
  } else if (v.is_uint64()) {
    out += std::to_string(v.get_uint64());
  } else {
    out += PythonFloatRepr(v.get_double());
  }
}

void DumpsImpl(std::string& out, const Json& v, int indent, int level) {
  auto newline = [&](int lvl) {
    out.push_back('\n');
    out.append(static_cast<size_t>(indent * lvl), ' ');
  };
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64:
    case boost::json::kind::uint64: AppendPythonNumber(out, v); break;
    case boost::json::kind::double_: {
      double d = v.get_double();
      if (std::isfinite(d)) {
        out += PythonFloatRepr(d);
      } else {
        out += "null";  // never Infinity/NaN (json.dumps would): no JSON reader takes them
      }
      break;
    }
    case boost::json::kind::string: AppendEscapedJsonString(out, v.get_string(), true); break;
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) { out += "[]"; break; }
      out.push_back('[');
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += indent > 0 ? "," : ", ";
        first = false;
        if (indent > 0) newline(level + 1);
        DumpsImpl(out, e, indent, level + 1);
      }
      if (indent > 0) newline(level);
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) { out += "{}"; break; }
      out.push_back('{');
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += indent > 0 ? "," : ", ";
        first = false;
        if (indent > 0) newline(level + 1);
        AppendEscapedJsonString(out, kv.key(), true);
        out += ": ";
        DumpsImpl(out, kv.value(), indent, level + 1);
      }
      if (indent > 0) newline(level);
      out.push_back('}');
      break;
    }
  }
}

void AppendPythonStringRepr(std::string& out, std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  out.push_back(q);
  for (unsigned char c : s) {
    if (c == static_cast<unsigned char>(q) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back(q);
}

void ReprImpl(std::string& out, const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "None"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "True" : "False"; break;
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::double_: AppendPythonNumber(out, v); break;
    case boost::json::kind::string: AppendPythonStringRepr(out, v.get_string()); break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ", ";
        first = false;
        ReprImpl(out, e);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ", ";
        first = false;
        AppendPythonStringRepr(out, kv.key());
        out += ": ";
        ReprImpl(out, kv.value());
      }
      out.push_back('}');
      break;
    }
  }
}

double AsDouble(const Json& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  if (v.is_bool()) return v.get_bool() ? 1.0 : 0.0;
  return 0.0;
}

bool IsNumberOrBool(const Json& v) { return v.is_number() || v.is_bool(); }

constexpr std::string_view kNonFinitePrefix = "number out of range at ";

// Without the path, and without recursion (for values nested deeper than kMaxPathDepth).
bool HasNonFinite(const Json& root) {
  std::vector<const Json*> todo{&root};
  while (!todo.empty()) {
    const Json* x = todo.back();
    todo.pop_back();
    if (x->is_double() && !std::isfinite(x->get_double())) return true;
    if (x->is_array()) {
      for (const Json& e : x->get_array()) todo.push_back(&e);
    } else if (x->is_object()) {
      for (const auto& kv : x->get_object()) todo.push_back(&kv.value());
    }
  }
  return false;
}

constexpr int kMaxPathDepth = 64;

// Leaves in `path` the path of the first non-finite number below `v` (".key" and "[i]" steps).
bool FindNonFiniteAt(const Json& v, std::string& path, int depth = 0) {
  if (depth > kMaxPathDepth && v.is_structured()) {
    if (!HasNonFinite(v)) return false;
    path += "...";
    return true;
  }
  switch (v.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(v.get_double());
    case boost::json::kind::array: {
      const JsonArray& a = v.get_array();
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_structured() && !a[i].is_double()) continue;
        const size_t at = path.size();
        path += "[" + std::to_string(i) + "]";
        if (FindNonFiniteAt(a[i], path, depth + 1)) return true;
        path.resize(at);
      }
      return false;
    }
    case boost::json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!kv.value().is_structured() && !kv.value().is_double()) continue;
        const size_t at = path.size();
        if (!path.empty()) path.push_back('.');
        path.append(kv.key().data(), kv.key().size());
        if (FindNonFiniteAt(kv.value(), path, depth + 1)) return true;
        path.resize(at);
      }
      return false;
    default:
      return false;
  }
}

}  // namespace

namespace {

// The quick check (no path) every parse and write pays; recursion ends at kMaxPathDepth.
bool HasNonFiniteAt(const Json& v, int depth) {
  switch (v.kind()) {
    case boost::json::kind::double_:
      return !std::isfinite(v.get_double());
    case boost::json::kind::array:
      if (depth > kMaxPathDepth) return HasNonFinite(v);
      for (const Json& e : v.get_array()) {
        if (HasNonFiniteAt(e, depth + 1)) return true;
      }
      return false;
    case boost::json::kind::object:
      if (depth > kMaxPathDepth) return HasNonFinite(v);
      for (const auto& kv : v.get_object()) {
        if (HasNonFiniteAt(kv.value(), depth + 1)) return true;
      }
      return false;
    default:
      return false;
  }
}

}  // namespace

std::optional<std::string> FindNonFiniteNumber(const Json& v) {
  if (!HasNonFiniteAt(v, 0)) return std::nullopt;
  std::string path;
  if (FindNonFiniteAt(v, path)) return path;
  return std::nullopt;
}

Status NonFiniteNumberError(std::string_view path) {
  return InvalidArgument(std::string(kNonFinitePrefix) + "'" +
                         std::string(path.empty() ? "(the value itself)" : path) +
                         "': JSON numbers must be finite (at most 1.7976931348623157e+308 in "
                         "magnitude; no Infinity or NaN)");
}

Status CheckFiniteNumbers(const Json& v, std::string_view name) {
  std::optional<std::string> path = FindNonFiniteNumber(v);
  if (!path) return Status::Ok();
  if (name.empty()) return NonFiniteNumberError(*path);
  std::string full(name);
  if (!path->empty()) full += (path->front() == '[' ? "" : ".") + *path;
  return NonFiniteNumberError(full);
}

bool IsNonFiniteNumberError(const Status& s) {
  return !s.ok() && s.message().find(kNonFinitePrefix) != std::string::npos;
}

Result<Json> ParseJson(std::string_view text, int max_depth) {
  boost::json::parse_options opts;
  opts.max_depth = static_cast<std::size_t>(max_depth);
  boost::json::stream_parser p({}, opts);
  boost::system::error_code ec;
  size_t n = p.write_some(text.data(), text.size(), ec);
  if (!ec && n < text.size()) {
    ec = boost::json::make_error_code(boost::json::error::extra_data);
  }
  if (!ec) p.finish(ec);
  if (ec) {
    auto [line, col] = LineCol(text, n);
    return InvalidArgument("invalid JSON at line " + std::to_string(line) + ", column " +
                           std::to_string(col) + ": " + ec.message());
  }
  Json v = p.release();
  BORA_RETURN_IF_ERROR(CheckFiniteNumbers(v));
  return v;
}

std::string DumpJson(const Json& v) {
  if (!HasNonFiniteAt(v, 0)) return boost::json::serialize(v);
  std::string out;
  AppendJson(out, v);  // null in place of each non-finite number
  return out;
}

std::string PythonJsonDumps(const Json& v, int indent) {
  std::string out;
  DumpsImpl(out, v, indent, 0);
  return out;
}

std::string PythonStr(const Json& v) {
  if (v.is_string()) return std::string(v.get_string());
  std::string out;
  ReprImpl(out, v);
  return out;
}

std::string PythonRepr(const Json& v) {
  std::string out;
  ReprImpl(out, v);
  return out;
}

std::string PythonFloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form, then laid out by Python's repr rules:
  // fixed notation when -4 <= exponent < 16, else d.ddde+XX.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  bool neg = false;
  if (s[0] == '-') {
    neg = true;
    s.erase(0, 1);
  }
  size_t epos = s.find('e');
  std::string mant = s.substr(0, epos);
  int exp = std::stoi(s.substr(epos + 1));
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string ip, fp;
      if (static_cast<int>(digits.size()) <= exp + 1) {
        ip = digits + std::string(static_cast<size_t>(exp + 1 - static_cast<int>(digits.size())), '0');
        fp = "0";
      } else {
        ip = digits.substr(0, static_cast<size_t>(exp + 1));
        fp = digits.substr(static_cast<size_t>(exp + 1));
      }
      out += ip + "." + fp;
    } else {
      out += "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  return out;
}

bool IsTruthy(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return false;
    case boost::json::kind::bool_: return v.get_bool();
    case boost::json::kind::int64: return v.get_int64() != 0;
    case boost::json::kind::uint64: return v.get_uint64() != 0;
    case boost::json::kind::double_: return v.get_double() != 0.0;
    case boost::json::kind::string: return !v.get_string().empty();
    case boost::json::kind::array: return !v.get_array().empty();
    case boost::json::kind::object: return !v.get_object().empty();
  }
  return false;
}

void DeepMerge(Json& base, const Json& overlay) {
  if (base.is_object() && overlay.is_object()) {
    auto& b = base.get_object();
    for (const auto& kv : overlay.get_object()) {
      auto it = b.find(kv.key());
      if (it != b.end()) {
        DeepMerge(it->value(), kv.value());
      } else {
        b.emplace(kv.key(), kv.value());
      }
    }
    return;
  }
  base = overlay;
}

bool JsonEquals(const Json& a, const Json& b) {
  if (IsNumberOrBool(a) && IsNumberOrBool(b)) {
    if (a.is_bool() != b.is_bool()) {
      // Python: True == 1. Keep that.
    }
    if ((a.is_int64() || a.is_bool()) && (b.is_int64() || b.is_bool())) {
      int64_t x = a.is_bool() ? a.get_bool() : a.get_int64();
      int64_t y = b.is_bool() ? b.get_bool() : b.get_int64();
      return x == y;
    }
    if (a.is_uint64() && b.is_uint64()) return a.get_uint64() == b.get_uint64();
    return AsDouble(a) == AsDouble(b);
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case boost::json::kind::null: return true;
    case boost::json::kind::string: return a.get_string() == b.get_string();
    case boost::json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!JsonEquals(x[i], y[i])) return false;
      }
      return true;
    }
    case boost::json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        auto it = y.find(kv.key());
        if (it == y.end() || !JsonEquals(kv.value(), it->value())) return false;
      }
      return true;
    }
    default: return false;
  }
}

std::string_view PythonTypeName(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null: return "NoneType";
    case boost::json::kind::bool_: return "bool";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "int";
    case boost::json::kind::double_: return "float";
    case boost::json::kind::string: return "str";
    case boost::json::kind::array: return "list";
    case boost::json::kind::object: return "dict";
  }
  return "object";
}

}  // namespace bora
