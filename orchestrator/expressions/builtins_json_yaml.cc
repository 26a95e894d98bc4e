// Mistral's functions uuid, json_dump, json_parse, yaml_dump, yaml_parse, and Jinja's tojson: JSON
// through Python's json.dumps rules, YAML through an emitter of PyYAML's safe_dump and yaml-cpp
// with PyYAML's YAML 1.1 implicit types.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/ids.h"
#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/builtins.h"

namespace bora::expr::internal {
namespace {

// PyYAML's yaml.safe_dump(data, default_flow_style=False): block style, keys sorted, sequences
// inside mappings not indented, plain scalars when they read back as the same string, single quotes
// otherwise, double quotes for strings with control characters or line breaks (PyYAML would fold
// those differently).
bool YamlPlainOk(std::string_view s) {
  if (s.empty()) return false;
  // PyYAML's implicit resolvers (bool, null) match these exact spellings.
  static const char* kReserved[] = {"yes",  "Yes",   "YES",   "no",    "No",   "NO", "true", "True",
                                    "TRUE", "false", "False", "FALSE", "on",   "On", "ON",   "off",
                                    "Off",  "OFF",   "null",  "Null",  "NULL", "~"};
  for (const char* r : kReserved)
    if (s == r) return false;
  std::string lower(s);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s[0]) != std::string_view::npos) {
    if (!((s[0] == '-' || s[0] == '?' || s[0] == ':') && s.size() > 1 && s[1] != ' ')) return false;
  }
  if (s.front() == ' ' || s.back() == ' ' || s.back() == ':') return false;
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos)
    return false;
  for (unsigned char ch : s)
    if (ch < 0x20 || ch == 0x7f || ch >= 0x80) return false;
  // Numbers, dates and the like would read back as another type.
  char* end = nullptr;
  std::string str(s);
  std::strtod(str.c_str(), &end);
  if (end && *end == '\0') return false;
  if (s.find_first_not_of("0123456789-:.+_ eEoxXTtZz") == std::string_view::npos &&
      std::isdigit(static_cast<unsigned char>(s[0])))
    return false;
  if (lower == ".inf" || lower == "-.inf" || lower == ".nan" || lower == "=" || lower == "<<")
    return false;
  return true;
}

std::string YamlScalar(const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return "null";
    case boost::json::kind::bool_:
      return v.as_bool() ? "true" : "false";
    case boost::json::kind::int64:
      return std::to_string(v.as_int64());
    case boost::json::kind::uint64:
      return std::to_string(v.as_uint64());
    case boost::json::kind::double_: {
      double d = v.as_double();
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      std::string r = PythonFloatRepr(d);
      size_t e = r.find('e');
      if (e != std::string::npos && r.find('.') == std::string::npos) r.insert(e, ".0");
      return r;
    }
    case boost::json::kind::string: {
      std::string_view s = SV(v);
      if (YamlPlainOk(s)) return std::string(s);
      bool needs_double = false;
      for (unsigned char ch : s)
        if (ch < 0x20 || ch == 0x7f) needs_double = true;
      if (!needs_double) {
        std::string out = "'";
        for (char ch : s) {
          if (ch == '\'')
            out += "''";
          else
            out += ch;
        }
        return out + "'";
      }
      std::string out = "\"";
      for (unsigned char ch : s) {
        switch (ch) {
          case '\n':
            out += "\\n";
            break;
          case '\t':
            out += "\\t";
            break;
          case '\r':
            out += "\\r";
            break;
          case '"':
            out += "\\\"";
            break;
          case '\\':
            out += "\\\\";
            break;
          default:
            if (ch < 0x20 || ch == 0x7f) {
              char buf[8];
              std::snprintf(buf, sizeof(buf), "\\x%02X", ch);
              out += buf;
            } else {
              out += static_cast<char>(ch);
            }
        }
      }
      return out + "\"";
    }
    case boost::json::kind::array:
      return "[]";
    case boost::json::kind::object:
      return "{}";
  }
  return "null";
}

bool YamlIsBlock(const Json& v) {
  return (v.is_array() && !v.get_array().empty()) || (v.is_object() && !v.get_object().empty());
}

// Appends `v` as a block node whose first line continues the current line; `indent` is the column
// of the node's own entries.
void EmitYamlBlock(std::string& out, const Json& v, size_t indent, bool first_inline, int depth) {
  std::string pad(indent, ' ');
  bool first = true;
  auto start_line = [&]() {
    if (first && first_inline) {
      first = false;
      return;
    }
    first = false;
    out += pad;
  };
  if (v.is_object()) {
    std::vector<std::string_view> keys;
    for (const auto& kv : v.get_object()) keys.push_back(kv.key());
    std::sort(keys.begin(), keys.end());
    for (std::string_view k : keys) {
      const Json& value = v.get_object().at(k);
      start_line();
      out += YamlScalar(Str(k));
      out += ':';
      if (YamlIsBlock(value) && depth < 64) {
        out += '\n';
        // PyYAML does not indent a sequence inside a mapping.
        size_t child = value.is_array() ? indent : indent + 2;
        EmitYamlBlock(out, value, child, false, depth + 1);
      } else {
        out += ' ';
        out += YamlScalar(value);
        out += '\n';
      }
    }
    return;
  }
  for (const Json& item : v.get_array()) {
    start_line();
    out += "- ";
    if (YamlIsBlock(item) && depth < 64) {
      EmitYamlBlock(out, item, indent + 2, true, depth + 1);
    } else {
      out += YamlScalar(item);
      out += '\n';
    }
  }
}

std::string PyYamlDump(const Json& v) {
  std::string out;
  if (YamlIsBlock(v)) {
    EmitYamlBlock(out, v, 0, false, 0);
    return out;
  }
  out = YamlScalar(v) + "\n";
  if (!v.is_array() && !v.is_object()) out += "...\n";  // PyYAML ends a plain scalar document
  return out;
}

Result<Json> YamlToJson(const YAML::Node& n, int depth) {
  if (depth > 64) return InvalidArgument("YAML nested too deeply");
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Json();
    case YAML::NodeType::Sequence: {
      JsonArray arr;
      for (const auto& e : n) {
        BORA_ASSIGN_OR_RETURN(Json v, YamlToJson(e, depth + 1));
        arr.push_back(std::move(v));
      }
      return Json(std::move(arr));
    }
    case YAML::NodeType::Map: {
      JsonObject obj;
      for (const auto& kv : n) {
        BORA_ASSIGN_OR_RETURN(Json v, YamlToJson(kv.second, depth + 1));
        obj[kv.first.Scalar()] = std::move(v);
      }
      return Json(std::move(obj));
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str") return Str(s);
      // PyYAML (YAML 1.1) implicit types.
      static const char* kTrue[] = {"yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
      static const char* kFalse[] = {"no",    "No",  "NO",  "false", "False",
                                     "FALSE", "off", "Off", "OFF"};
      for (const char* t : kTrue)
        if (s == t) return Json(true);
      for (const char* f : kFalse)
        if (s == f) return Json(false);
      if (s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "~") return Json();
      if (s == ".inf" || s == "+.inf" || s == ".Inf") return Json(HUGE_VAL);
      if (s == "-.inf" || s == "-.Inf") return Json(-HUGE_VAL);
      std::string digits;
      for (char ch : s)
        if (ch != '_') digits += ch;
      char* end = nullptr;
      errno = 0;
      long long i = std::strtoll(digits.c_str(), &end, 10);
      if (!digits.empty() && *end == '\0' && errno == 0 &&
          digits.find_first_not_of("+-0123456789") == std::string::npos)
        return Json(static_cast<int64_t>(i));
      if (digits.find('.') != std::string::npos &&
          digits.find_first_not_of("+-0123456789.eE") == std::string::npos) {
        double d = std::strtod(digits.c_str(), &end);
        if (*end == '\0') return Json(d);
      }
      return Str(s);
    }
  }
  return Json();
}

// The position of the data argument of json_dump & co.: as a Jinja filter with an argument
// (`_ | json_dump(x)`), the piped value is Mistral's context and the data is the argument.
Result<size_t> DataArg(Call& c, const Node& node) {
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  if (c.size() == 2 && node.op != Op::kFilter) return c.Arity(1, 1);
  return c.size() == 2 ? size_t{1} : size_t{0};
}

}  // namespace

// Mistral functions.
ValResult FnUuid(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, node.op == Op::kFilter ? 1 : 0));
  return Val::Own(Str(NewUuid()));
}

ValResult FnJsonDump(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(const size_t data_arg, DataArg(c, node));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(data_arg));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(v.get()) * 2));
  std::string s = PythonJsonDumps(v.get(), 4);
  BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  return Val::Own(Str(s));
}

ValResult FnToJson(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  int64_t indent = 0;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> iv, c.Opt(1, "indent"));
  if (iv && IsIntJ(iv->get())) indent = std::clamp<int64_t>(NumI(iv->get()), 0, 16);
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(v.get()) * 2));
  // Jinja's tojson: json.dumps(sort_keys=True) with <, >, & and ' escaped for HTML.
  std::string s = PythonJsonDumps(SortedKeys(v.get(), 0), static_cast<int>(indent));
  std::string escaped;
  for (char ch : s) {
    switch (ch) {
      case '<':
        escaped += "\\u003c";
        break;
      case '>':
        escaped += "\\u003e";
        break;
      case '&':
        escaped += "\\u0026";
        break;
      case '\'':
        escaped += "\\u0027";
        break;
      default:
        escaped += ch;
    }
  }
  s = std::move(escaped);
  BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  return Val::Own(Str(s));
}

ValResult FnJsonParse(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(const size_t data_arg, DataArg(c, node));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, data_arg));
  auto r = ParseJson(s, std::min(ev.ctx().limits.max_depth, 64));
  if (!r.ok()) return InvalidArgument("json_parse: " + r.status().message());
  return Val::Own(std::move(r).value());
}

ValResult FnYamlDump(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(const size_t data_arg, DataArg(c, node));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(data_arg));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(v.get()) * 2));
  std::string s = PyYamlDump(v.get());
  BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  return Val::Own(Str(s));
}

ValResult FnYamlParse(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(const size_t data_arg, DataArg(c, node));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, data_arg));
  BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  try {
    YAML::Node n = YAML::Load(s);
    BORA_ASSIGN_OR_RETURN(Json j, YamlToJson(n, 0));
    return Val::Own(std::move(j));
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("yaml_parse: ") + ex.what());
  }
}

}  // namespace bora::expr::internal
