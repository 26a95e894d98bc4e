// Built-in functions: the YAQL standard functions workflows use, Mistral's own functions (uuid,
// json_dump, json_parse, yaml_dump, yaml_parse), Jinja globals, filters, tests and the Python
// methods Jinja templates call on dicts, strings and lists. Host functions (task, tasks, execution,
// executions, env, global) are not here: they are routed to the Host by the evaluator.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/ids.h"
#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtins_jinja_library.h"
#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/regex.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr::internal {
namespace {

// ------------------------------------------------------------------------------------------------
// Conversions and Python-style formatting.

Result<Json> ToInt(const Json& v, const std::string& fn) {
  if (v.is_null()) return Json(int64_t{0});
  if (v.is_bool()) return Json(int64_t{v.as_bool() ? 1 : 0});
  if (IsIntJ(v)) return v;
  if (v.is_double()) {
    double d = v.as_double();
    if (!std::isfinite(d))
      return InvalidArgument("cannot convert float " + PythonStr(v) + " to integer");
    return Json(NumI(v));
  }
  if (v.is_string()) {
    std::string s(SV(v));
    size_t b = s.find_first_not_of(" \t\n\r"), e = s.find_last_not_of(" \t\n\r");
    if (b != std::string::npos) {
      s = s.substr(b, e - b + 1);
      errno = 0;
      char* end = nullptr;
      long long x = std::strtoll(s.c_str(), &end, 10);
      if (end && *end == '\0' && errno == 0 && !s.empty()) return Json(static_cast<int64_t>(x));
    }
    return InvalidArgument("invalid literal for int() with base 10: " + PythonRepr(v));
  }
  return InvalidArgument(fn + " argument must be a string or a number, not '" + TypeName(v) + "'");
}

Result<Json> ToFloat(const Json& v) {
  if (v.is_null()) return Json(0.0);
  if (v.is_bool() || IsNumJ(v)) return Json(NumD(v));
  if (v.is_string()) {
    std::string s(SV(v));
    size_t b = s.find_first_not_of(" \t\n\r"), e = s.find_last_not_of(" \t\n\r");
    if (b != std::string::npos) {
      s = s.substr(b, e - b + 1);
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end && *end == '\0' && !s.empty()) return Json(d);
    }
    return InvalidArgument("could not convert string to float: " + PythonRepr(v));
  }
  return InvalidArgument("float() argument must be a string or a number, not '" + TypeName(v) +
                         "'");
}

// Python's str.format with positional ({}, {0}) and named ({name}) fields; format specs: s, d, .Nf,
// >N, <N.
Result<std::string> PyFormat(std::string_view fmt, const std::vector<Json>& args,
                             const KwArgs& kwargs, bool yaql_str) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
        out += '{';
        ++i;
        continue;
      }
      size_t close = fmt.find('}', i);
      if (close == std::string_view::npos)
        return InvalidArgument("Single '{' encountered in format string");
      std::string_view field = fmt.substr(i + 1, close - i - 1);
      std::string_view spec;
      size_t colon = field.find(':');
      if (colon != std::string_view::npos) {
        spec = field.substr(colon + 1);
        field = field.substr(0, colon);
      }
      const Json* value = nullptr;
      if (field.empty()) {
        if (auto_index >= args.size())
          return InvalidArgument("Replacement index " + std::to_string(auto_index) +
                                 " out of range");
        value = &args[auto_index++];
      } else if (std::isdigit(static_cast<unsigned char>(field[0]))) {
        size_t k = std::strtoul(std::string(field).c_str(), nullptr, 10);
        if (k >= args.size())
          return InvalidArgument("Replacement index " + std::to_string(k) + " out of range");
        value = &args[k];
      } else {
        for (const auto& [k, v] : kwargs)
          if (k == field) value = &v;
        if (!value) return InvalidArgument("KeyError: '" + std::string(field) + "'");
      }
      std::string text;
      if (!spec.empty() && spec.back() == 'f' && IsNumJ(*value)) {
        int prec = 6;
        size_t dot = spec.find('.');
        if (dot != std::string_view::npos)
          prec = std::atoi(std::string(spec.substr(dot + 1)).c_str());
        prec = std::clamp(prec, 0, 50);
        char buf[512];
        std::snprintf(buf, sizeof(buf), "%.*f", prec, NumD(*value));
        text = buf;
      } else {
        text = yaql_str ? YaqlStr(*value) : PythonStr(*value);
      }
      if (!spec.empty() &&
          (spec[0] == '>' || spec[0] == '<' || std::isdigit(static_cast<unsigned char>(spec[0])))) {
        bool left = spec[0] == '<' ||
                    (std::isdigit(static_cast<unsigned char>(spec[0])) && value->is_string());
        size_t width = std::strtoul(
            std::string(spec.substr(std::isdigit(static_cast<unsigned char>(spec[0])) ? 0 : 1))
                .c_str(),
            nullptr, 10);
        width = std::min<size_t>(width, 4096);
        if (text.size() < width) {
          if (left)
            text.append(width - text.size(), ' ');
          else
            text.insert(0, width - text.size(), ' ');
        }
      }
      out += text;
      i = close;
    } else if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}')
        ++i;
      else
        return InvalidArgument("Single '}' encountered in format string");
      out += '}';
    } else {
      out += c;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// YAML conversion (yaml-cpp); exceptions converted here.

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

// ------------------------------------------------------------------------------------------------
// Shared implementations.

ValResult FnLen(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  if (j.is_string()) return Val::Own(Json(static_cast<int64_t>(Utf8Len(SV(j)))));
  if (j.is_array()) return Val::Own(Json(static_cast<int64_t>(j.get_array().size())));
  if (j.is_object()) return Val::Own(Json(static_cast<int64_t>(j.get_object().size())));
  return InvalidArgument("object of type '" + TypeName(j) + "' has no len()");
}

ValResult FnStr(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_string()) return v;
  return Val::Own(Str(IsYaql(c) ? YaqlStr(v.get()) : PythonStr(v.get())));
}

ValResult FnInt(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (!IsYaql(c) && node.op == Op::kFilter) {
    // Jinja's int filter: default 0 on failure.
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
    BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(1, "default"));
    if (v->is_string()) {
      auto f = ToFloat(v.get());
      auto i = ToInt(v.get(), "int()");
      if (i.ok()) return Val::Own(std::move(i).value());
      if (f.ok()) return Val::Own(Json(NumI(*f)));
      return dflt ? std::move(*dflt) : Val::Own(Json(int64_t{0}));
    }
    auto i = ToInt(v.get(), "int()");
    if (!i.ok() || v->is_null()) return dflt ? std::move(*dflt) : Val::Own(Json(int64_t{0}));
    return Val::Own(std::move(i).value());
  }
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Json r, ToInt(v.get(), "int()"));
  return Val::Own(std::move(r));
}

ValResult FnFloat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (!IsYaql(c) && node.op == Op::kFilter) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
    BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(1, "default"));
    auto f = ToFloat(v.get());
    if (!f.ok() || v->is_null()) return dflt ? std::move(*dflt) : Val::Own(Json(0.0));
    return Val::Own(std::move(f).value());
  }
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Json r, ToFloat(v.get()));
  return Val::Own(std::move(r));
}

ValResult FnBool(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!IsYaql(c) && v->is_string()) {  // Ansible-style bool filter
    std::string s(SV(v.get()));
    std::transform(s.begin(), s.end(), s.begin(), ::tolower);
    return Val::Own(Json(s == "true" || s == "yes" || s == "on" || s == "1" || s == "y"));
  }
  return Val::Own(Json(IsTruthy(v.get())));
}

ValResult FnDict(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  JsonObject obj;
  for (size_t i = 0; i < c.size(); ++i) {
    const Node* n = c.node(i);
    if (n && n->op == Op::kPair) {  // dict('key with space' => 1) / dict($x => 1)
      BORA_ASSIGN_OR_RETURN(Val k, ev.Eval(*n->kids[0]));
      BORA_ASSIGN_OR_RETURN(Val v, ev.Eval(*n->kids[1]));
      obj[k->is_string() ? std::string(k->get_string()) : PythonStr(k.get())] = std::move(v).Take();
      continue;
    }
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    const Json& j = v.get();
    if (j.is_object()) {
      for (const auto& kv : j.get_object()) obj[kv.key()] = kv.value();
    } else if (j.is_array()) {
      for (const Json& e : j.get_array()) {
        BORA_RETURN_IF_ERROR(ev.Step());
        if (!e.is_array() || e.get_array().size() != 2)
          return InvalidArgument("dict() needs [key, value] pairs, got " + PythonRepr(e));
        const Json& k = e.get_array()[0];
        obj[k.is_string() ? std::string(k.get_string()) : PythonStr(k)] = e.get_array()[1];
      }
    } else {
      return c.TypeErr(j, "a dict or a list of pairs");
    }
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Val v, ev.Eval(*k->kids[1]));
    BORA_RETURN_IF_ERROR(ev.CheckDefined(v));
    obj[k->name] = std::move(v).Take();
  }
  return Val::Own(Json(std::move(obj)));
}

ValResult FnList(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  if (c.size() == 1) {  // list(collection): a copy (Jinja: list(dict) = keys, list(str) = chars)
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
    if (v->is_array()) return v;
    if (IsYaql(c) && !v->is_object() && !v->is_string()) return Val::Own(Json(JsonArray{v.get()}));
    return AsList(c, std::move(v), true);
  }
  ListBuilder out(ev);
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
  }
  return out.Done();
}

ValResult FnRange(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  int64_t start = 0, stop = 0, step = 1;
  if (c.size() == 1) {
    BORA_ASSIGN_OR_RETURN(stop, IntArg(c, 0));
  } else {
    BORA_ASSIGN_OR_RETURN(start, IntArg(c, 0));
    BORA_ASSIGN_OR_RETURN(stop, IntArg(c, 1));
    if (c.size() == 3) {
      BORA_ASSIGN_OR_RETURN(step, IntArg(c, 2));
    }
  }
  if (step == 0) return InvalidArgument("range() arg 3 must not be zero");
  long double count_ld = step > 0 ? (static_cast<long double>(stop) - start) / step
                                  : (static_cast<long double>(start) - stop) / -step;
  uint64_t count = count_ld <= 0 ? 0 : static_cast<uint64_t>(std::ceil(count_ld));
  // Check the size before allocating anything.
  if (count > ev.ctx().limits.max_output_bytes / 16) return ev.SizeExceeded(count * 16);
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(count)));
  JsonArray arr;
  arr.reserve(count);
  int64_t x = start;
  for (uint64_t i = 0; i < count; ++i, x += step) arr.push_back(x);
  return Val::Own(Json(std::move(arr)));
}

ValResult FnKeys(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
  JsonArray arr;
  for (const auto& kv : v->get_object()) arr.push_back(Str(kv.key()));
  return Val::Own(Json(std::move(arr)));
}

ValResult FnValues(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
  ListBuilder out(ev);
  for (const auto& kv : v->get_object()) BORA_RETURN_IF_ERROR(out.Push(kv.value()));
  return out.Done();
}

ValResult FnItems(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
  ListBuilder out(ev);
  for (const auto& kv : v->get_object())
    BORA_RETURN_IF_ERROR(out.Push(Json(JsonArray{Str(kv.key()), kv.value()})));
  return out.Done();
}

ValResult FnGet(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val k, c.Arg(1));
  if (d->is_object()) {
    if (k->is_string()) {
      auto it = d->get_object().find(k->get_string());
      if (it != d->get_object().end()) return Child(d, it->value());
    }
  } else if (d->is_array() && IsIntJ(k.get())) {
    int64_t i = NumI(k.get()), n = static_cast<int64_t>(d->get_array().size());
    if (i < 0) i += n;
    if (i >= 0 && i < n) return Child(d, d->get_array()[i]);
  } else if (!d->is_null()) {
    return c.TypeErr(d.get(), "a dict");
  }
  if (c.size() == 3) return c.Arg(2);
  return Val::Own(Json());
}

ValResult FirstLast(Evaluator& ev, const Node& node, Val* recv, bool first) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(v, AsList(c, std::move(v), !IsYaql(c)));
  const JsonArray& arr = v->get_array();
  if (arr.empty()) {
    if (c.has(1, "default")) {
      BORA_ASSIGN_OR_RETURN(std::optional<Val> d, c.Opt(1, "default"));
      return std::move(*d);
    }
    if (!IsYaql(c)) return Val::Undefined("No first item, sequence was empty.");
    return InvalidArgument("collection is empty");
  }
  return Child(v, first ? arr.front() : arr.back());
}
ValResult FnFirst(Evaluator& ev, const Node& node, Val* recv) {
  return FirstLast(ev, node, recv, true);
}
ValResult FnLast(Evaluator& ev, const Node& node, Val* recv) {
  return FirstLast(ev, node, recv, false);
}

ValResult FnJoin(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  Val b = Val::Own(Str(""));
  if (c.size() == 2) {
    BORA_ASSIGN_OR_RETURN(b, c.Arg(1));
  } else if (c.kw_node("d")) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> d, c.Opt(1, "d"));
    b = std::move(*d);
  }
  // YAQL: join(sequence, separator) and also separator.join(sequence) forms.
  if (a->is_string() && b->is_array()) std::swap(a, b);
  BORA_ASSIGN_OR_RETURN(Val list, AsList(c, std::move(a), !IsYaql(c)));
  if (!b->is_string()) return c.TypeErr(b.get(), "a string separator");
  std::string out;
  bool first = true;
  std::optional<Val> attr;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    if (!first) out += SV(b.get());
    first = false;
    if (e.is_string())
      out += SV(e);
    else if (IsYaql(c))
      out += YaqlStr(e);  // yaql's join converts with str()
    else
      out += PythonStr(e);
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}

// Python's str.split(sep=None, maxsplit=-1).
JsonArray PySplit(std::string_view s, const std::optional<std::string>& sep, int64_t max_splits) {
  JsonArray out;
  if (!sep) {
    size_t i = 0;
    int64_t splits = 0;
    while (true) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      if (i >= s.size()) break;
      if (max_splits >= 0 && splits >= max_splits) {
        size_t e = s.size();
        while (e > i && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
        out.push_back(Str(s.substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back(Str(s.substr(i, j - i)));
      ++splits;
      i = j;
    }
    return out;
  }
  size_t i = 0;
  int64_t splits = 0;
  while (true) {
    size_t p = (max_splits >= 0 && splits >= max_splits) ? std::string_view::npos : s.find(*sep, i);
    if (p == std::string_view::npos) {
      out.push_back(Str(s.substr(i)));
      break;
    }
    out.push_back(Str(s.substr(i, p - i)));
    i = p + sep->size();
    ++splits;
  }
  return out;
}

// regex.split(string, maxSplit) / string.split(regex, maxSplit) (yaql's regex.py): `s` is split by
// `spec`; the max split is parameter `max_at` / maxSplit.
ValResult RegexSplitCall(Call& c, const RegexSpec& spec, std::string_view s, size_t max_at) {
  int64_t max_split = 0;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(max_at, "maxSplit"));
  if (mv) {
    if (!IsIntJ(mv->get())) return c.TypeErr(mv->get(), "an integer");
    max_split = NumI(mv->get());
  }
  BORA_RETURN_IF_ERROR(c.ev().Step(static_cast<int64_t>(s.size() / 16)));
  const size_t max_pieces = std::max<size_t>(16, c.ev().ctx().limits.max_output_bytes / 16);
  BORA_ASSIGN_OR_RETURN(std::vector<Json> pieces, RegexSplit(spec, s, max_split, max_pieces));
  JsonArray out;
  out.reserve(pieces.size());
  for (auto& p : pieces) out.push_back(std::move(p));
  return Val::Own(Json(std::move(out)));
}

ValResult FnSplit(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val first, c.Arg(0));
  if (IsYaql(c) && IsRegexValue(first.get())) {  // regex(...).split(string, maxSplit)
    BORA_RETURN_IF_ERROR(c.Arity(2, 3));
    BORA_ASSIGN_OR_RETURN(std::string text, StrArg(c, 1));
    return RegexSplitCall(c, RegexOfValue(first.get()), text, 2);
  }
  if (!first->is_string()) return c.TypeErr(first.get(), "a string");
  std::string s(first->get_string());
  std::optional<std::string> sep;
  int64_t max_splits = -1;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> sv, c.Opt(1, IsYaql(c) ? "separator" : "sep"));
  if (IsYaql(c) && sv && IsRegexValue(sv->get())) {  // string.split(regex(...), maxSplit)
    return RegexSplitCall(c, RegexOfValue(sv->get()), s, 2);
  }
  if (sv && !(*sv)->is_null()) {
    if (!(*sv)->is_string()) return c.TypeErr(sv->get(), "a string separator");
    sep = std::string((*sv)->get_string());
    if (sep->empty()) return InvalidArgument("empty separator");
  }
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, IsYaql(c) ? "max_splits" : "maxsplit"));
  if (mv) {
    if (!IsIntJ(mv->get())) return c.TypeErr(mv->get(), "an integer");
    max_splits = NumI(mv->get());
  }
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(s.size() / 16)));
  return Val::Own(Json(PySplit(s, sep, max_splits)));
}

std::string ReplaceAll(std::string_view s, std::string_view old, std::string_view neu,
                       int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python: inserts `neu` between every character (and at both ends).
    int64_t n = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (count < 0 || n < count) {
        out += neu;
        ++n;
      }
      if (i < s.size()) out += s[i];
    }
    return out;
  }
  size_t i = 0;
  int64_t n = 0;
  while (true) {
    size_t p = (count >= 0 && n >= count) ? std::string_view::npos : s.find(old, i);
    if (p == std::string_view::npos) {
      out += s.substr(i);
      break;
    }
    out += s.substr(i, p - i);
    out += neu;
    i = p + old.size();
    ++n;
  }
  return out;
}

// Fails before building a replacement result that would exceed the output limit.
Status CheckReplaceSize(const Evaluator& ev, std::string_view s, std::string_view old,
                        std::string_view neu, int64_t count) {
  if (neu.size() <= old.size()) return Status::Ok();
  size_t max_occurrences = old.empty() ? s.size() + 1 : s.size() / old.size();
  if (s.size() + max_occurrences * (neu.size() - old.size()) <= ev.ctx().limits.max_output_bytes)
    return Status::Ok();
  size_t actual = 0;
  if (old.empty()) {
    actual = s.size() + 1;
  } else {
    for (size_t p = s.find(old); p != std::string_view::npos; p = s.find(old, p + old.size()))
      ++actual;
  }
  if (count >= 0) actual = std::min<size_t>(actual, static_cast<size_t>(count));
  return ev.CheckSize(s.size() + actual * (neu.size() - old.size()));
}

// regex.replace(string, repl, count) / string.replace(regex, repl, count) (yaql's regex.py): the
// replacement is parameter `repl_at`, the count the next one (0: every match).
ValResult RegexReplaceCall(Call& c, const RegexSpec& spec, std::string_view s, size_t repl_at) {
  BORA_ASSIGN_OR_RETURN(std::string repl, StrArg(c, repl_at));
  int64_t count = 0;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(repl_at + 1, "count"));
  if (cv) {
    if (!IsIntJ(cv->get())) return c.TypeErr(cv->get(), "an integer");
    count = NumI(cv->get());
  }
  BORA_RETURN_IF_ERROR(c.ev().Step(static_cast<int64_t>(s.size() / 16)));
  BORA_ASSIGN_OR_RETURN(std::string out,
                        RegexReplace(spec, s, repl, count, c.ev().ctx().limits.max_output_bytes));
  return Val::Own(Str(out));
}

ValResult FnReplace(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 4));
  BORA_ASSIGN_OR_RETURN(Val sv, c.Arg(0));
  if (IsYaql(c) && IsRegexValue(sv.get())) {  // regex(...).replace(string, repl, count)
    BORA_RETURN_IF_ERROR(c.Arity(3, 4));
    BORA_ASSIGN_OR_RETURN(std::string text, StrArg(c, 1));
    return RegexReplaceCall(c, RegexOfValue(sv.get()), text, 2);
  }
  std::string s = sv->is_string() ? std::string(sv->get_string()) : PythonStr(sv.get());
  BORA_ASSIGN_OR_RETURN(Val old, c.Arg(1));
  if (IsYaql(c) && IsRegexValue(old.get())) {  // string.replace(regex(...), repl, count)
    BORA_RETURN_IF_ERROR(c.Arity(3, 4));
    return RegexReplaceCall(c, RegexOfValue(old.get()), s, 2);
  }
  if (old->is_object()) {  // replace({old => new, ...}, count)
    int64_t count = -1;
    if (c.size() >= 3) {
      BORA_ASSIGN_OR_RETURN(count, IntArg(c, 2));
    }
    for (const auto& kv : old->get_object()) {
      BORA_RETURN_IF_ERROR(ev.Step());
      std::string neu =
          kv.value().is_string() ? std::string(kv.value().get_string()) : YaqlStr(kv.value());
      BORA_RETURN_IF_ERROR(CheckReplaceSize(ev, s, kv.key(), neu, count));
      s = ReplaceAll(s, kv.key(), neu, count);
      BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
    }
    return Val::Own(Str(s));
  }
  if (c.size() < 3) return c.Arity(3, 4);
  BORA_ASSIGN_OR_RETURN(Val neu, c.Arg(2));
  if (!old->is_string() || !neu->is_string())
    return c.TypeErr(old->is_string() ? neu.get() : old.get(), "a string");
  int64_t count = -1;
  if (c.size() == 4) {
    BORA_ASSIGN_OR_RETURN(count, IntArg(c, 3));
  }
  BORA_RETURN_IF_ERROR(CheckReplaceSize(ev, s, SV(old.get()), SV(neu.get()), count));
  std::string out = ReplaceAll(s, SV(old.get()), SV(neu.get()), count);
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(out.size() / 64)));
  return Val::Own(Str(out));
}

template <int (*F)(int)>
ValResult CaseMap(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = v->is_string() ? std::string(v->get_string()) : PythonStr(v.get());
  if (IsYaql(c) && !v->is_string()) return c.TypeErr(v.get(), "a string");
  for (char& ch : s) ch = static_cast<char>(F(static_cast<unsigned char>(ch)));
  return Val::Own(Str(s));
}

ValResult TrimImpl(Evaluator& ev, const Node& node, Val* recv, bool left, bool right) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = v->is_string() ? std::string(v->get_string()) : PythonStr(v.get());
  if (IsYaql(c) && !v->is_string()) return c.TypeErr(v.get(), "a string");
  std::string chars = " \t\n\r\f\v";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(1, "chars"));
  if (cv && (*cv)->is_string()) chars = std::string((*cv)->get_string());
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && chars.find(s[b]) != std::string::npos) ++b;
  if (right)
    while (e > b && chars.find(s[e - 1]) != std::string::npos) --e;
  return Val::Own(Str(std::string_view(s).substr(b, e - b)));
}
ValResult FnTrim(Evaluator& ev, const Node& n, Val* r) { return TrimImpl(ev, n, r, true, true); }
ValResult FnTrimLeft(Evaluator& ev, const Node& n, Val* r) {
  return TrimImpl(ev, n, r, true, false);
}
ValResult FnTrimRight(Evaluator& ev, const Node& n, Val* r) {
  return TrimImpl(ev, n, r, false, true);
}

// distinct / unique: keeps the first occurrence (optionally by a key lambda in YAQL).
ValResult FnDistinct(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, !IsYaql(c)));
  const Node* key_fn = IsYaql(c) ? c.param_node(1, "keySelector") : nullptr;
  std::optional<Val> attribute;
  if (!IsYaql(c)) {
    BORA_ASSIGN_OR_RETURN(attribute, c.Opt(2, "attribute"));
  }
  ListBuilder out(ev);
  std::vector<Json> seen;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(seen.size() / 8 + 1)));
    Json key;
    if (key_fn) {
      BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
      key = std::move(k).Take();
    } else if (attribute && (*attribute)->is_string() && e.is_object()) {
      auto it = e.get_object().find((*attribute)->get_string());
      key = it == e.get_object().end() ? Json() : it->value();
    } else {
      key = e;
    }
    bool dup = false;
    for (const Json& s : seen)
      if (JsonEquals(s, key)) {
        dup = true;
        break;
      }
    if (dup) continue;
    seen.push_back(std::move(key));
    BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}

Status SortBy(Evaluator& ev, std::vector<std::pair<Json, Json>>& items, bool descending) {
  Status err;
  int64_t comparisons = 0;
  std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
    if (!err.ok()) return false;
    ++comparisons;
    auto o = Order(a.first, b.first);
    if (!o.ok()) {
      err = o.status();
      return false;
    }
    return descending ? *o > 0 : *o < 0;
  });
  BORA_RETURN_IF_ERROR(err);
  return ev.Step(comparisons);
}

ValResult OrderByImpl(Evaluator& ev, const Node& node, Val* recv, bool descending) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* key_fn = c.param_node(1, "selector");
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    Json key = e;
    if (key_fn) {
      BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
      key = std::move(k).Take();
    }
    items.emplace_back(std::move(key), e);
  }
  BORA_RETURN_IF_ERROR(SortBy(ev, items, descending));
  JsonArray out;
  for (auto& kv : items) out.push_back(std::move(kv.second));
  return Val::Own(Json(std::move(out)));
}
ValResult FnOrderBy(Evaluator& ev, const Node& n, Val* r) { return OrderByImpl(ev, n, r, false); }
ValResult FnOrderByDesc(Evaluator& ev, const Node& n, Val* r) {
  return OrderByImpl(ev, n, r, true);
}

ValResult FnContains(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val coll, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val item, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(coll.get())));
  BORA_ASSIGN_OR_RETURN(bool r, Contains(coll.get(), item.get()));
  return Val::Own(Json(r));
}

// min/max: of one collection, or of several arguments.
ValResult MinMax(Evaluator& ev, const Node& node, Val* recv, bool is_max) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 8));
  std::vector<Json> values;
  Val holder;
  const JsonArray* arr = nullptr;
  JsonArray own;
  if (c.size() == 1) {
    BORA_ASSIGN_OR_RETURN(holder, ListArg(c, 0, !IsYaql(c)));
    arr = &holder->get_array();
  } else {
    for (size_t i = 0; i < c.size(); ++i) {
      BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
      own.push_back(std::move(v).Take());
    }
    arr = &own;
  }
  std::optional<Val> attribute;
  if (!IsYaql(c)) {
    BORA_ASSIGN_OR_RETURN(attribute, c.Opt(99, "attribute"));
  }
  if (arr->empty()) {
    if (!IsYaql(c)) return Val::Undefined("No aggregated item, sequence was empty.");
    return InvalidArgument(std::string(is_max ? "max" : "min") + "() arg is an empty sequence");
  }
  auto key_of = [&](const Json& e) -> const Json& {
    if (attribute && (*attribute)->is_string() && e.is_object()) {
      auto it = e.get_object().find((*attribute)->get_string());
      if (it != e.get_object().end()) return it->value();
    }
    return e;
  };
  size_t best = 0;
  for (size_t i = 1; i < arr->size(); ++i) {
    BORA_RETURN_IF_ERROR(ev.Step());
    BORA_ASSIGN_OR_RETURN(int o, Order(key_of((*arr)[i]), key_of((*arr)[best])));
    if (is_max ? o > 0 : o < 0) best = i;
  }
  return Val::Own((*arr)[best]);
}
ValResult FnMin(Evaluator& ev, const Node& n, Val* r) { return MinMax(ev, n, r, false); }
ValResult FnMax(Evaluator& ev, const Node& n, Val* r) { return MinMax(ev, n, r, true); }

ValResult FnSum(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, !IsYaql(c)));
  Json acc = int64_t{0};
  const Node* selector = nullptr;
  std::optional<Val> attribute;
  if (IsYaql(c)) {
    // sum(collection, initial) or, as an extension, sum(collection, selector-lambda using `$`).
    const Node* second = c.param_node(1, "initial");
    if (second) {
      bool uses_root = false;
      std::vector<const Node*> stack{second};
      while (!stack.empty()) {
        const Node* n = stack.back();
        stack.pop_back();
        if (n->op == Op::kRoot) uses_root = true;
        for (const auto& k : n->kids)
          if (k) stack.push_back(k.get());
      }
      if (uses_root) {
        selector = second;
      } else {
        BORA_ASSIGN_OR_RETURN(std::optional<Val> init, c.Opt(1, "initial"));
        acc = std::move(*init).Take();
      }
    }
  } else {
    BORA_ASSIGN_OR_RETURN(attribute, c.Opt(99, "attribute"));
    BORA_ASSIGN_OR_RETURN(std::optional<Val> start, c.Opt(99, "start"));
    if (start) acc = std::move(*start).Take();
  }
  if (IsYaql(c) && list->get_array().empty() && !c.has(1, "initial"))
    return InvalidArgument("reduce() of empty sequence with no initial value");
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* x = &e;
    Val tmp;
    if (selector) {
      BORA_ASSIGN_OR_RETURN(tmp, c.Lambda(selector, e));
      x = &tmp.get();
    } else if (attribute && (*attribute)->is_string()) {
      if (!e.is_object() || !e.get_object().contains((*attribute)->get_string()))
        return InvalidArgument("item has no attribute '" + std::string((*attribute)->get_string()) +
                               "'");
      x = &e.get_object().at((*attribute)->get_string());
    }
    BORA_ASSIGN_OR_RETURN(acc, Arith(Op::kAdd, acc, *x, ev.lang(), ev));
  }
  return Val::Own(std::move(acc));
}

ValResult FnIsEmpty(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  if (j.is_null()) return Val::Own(Json(true));
  if (j.is_string()) {
    std::string_view s = SV(j);
    bool empty = s.find_first_not_of(" \t\n\r\f\v") == std::string_view::npos;
    return Val::Own(Json(empty));
  }
  if (j.is_array()) return Val::Own(Json(j.get_array().empty()));
  if (j.is_object()) return Val::Own(Json(j.get_object().empty()));
  return c.TypeErr(j, "a string or a collection");
}

ValResult FnConcat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  std::vector<Val> args;
  bool all_lists = c.size() > 0;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    all_lists &= v->is_array();
    args.push_back(std::move(v));
  }
  if (all_lists) {
    ListBuilder out(ev);
    for (const Val& v : args)
      for (const Json& e : v->get_array()) BORA_RETURN_IF_ERROR(out.Push(e));
    return out.Done();
  }
  std::string s;
  for (const Val& v : args) {
    if (!v->is_string()) return c.TypeErr(v.get(), "strings");
    s += SV(v.get());
    BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  }
  return Val::Own(Str(s));
}

ValResult FnFormat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(std::string fmt, StrArg(c, 0));
  std::vector<Json> args;
  KwArgs kwargs;
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    args.push_back(std::move(v).Take());
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Json v, ev.EvalJson(*k->kids[1]));
    kwargs.emplace_back(k->name, std::move(v));
  }
  BORA_ASSIGN_OR_RETURN(std::string out, PyFormat(fmt, args, kwargs, false));
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

// YAQL queries with lambdas.
ValResult FnSelect(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
    BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
  }
  return out.Done();
}

ValResult FnSelectMany(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
    if (v->is_array()) {
      for (const Json& x : v->get_array()) BORA_RETURN_IF_ERROR(out.Push(x));
    } else {
      BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
    }
  }
  return out.Done();
}

ValResult FnWhere(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
    if (IsTruthy(v.get())) BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}

ValResult AnyAll(Evaluator& ev, const Node& node, Val* recv, bool any) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  const Node* fn = c.node(1);
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    bool t;
    if (fn) {
      BORA_ASSIGN_OR_RETURN(Val v, c.Lambda(fn, e));
      t = IsTruthy(v.get());
    } else {
      t = IsTruthy(e);
    }
    if (any && t) return Val::Own(Json(true));
    if (!any && !t) return Val::Own(Json(false));
  }
  return Val::Own(Json(!any));
}
ValResult FnAny(Evaluator& ev, const Node& n, Val* r) { return AnyAll(ev, n, r, true); }
ValResult FnAll(Evaluator& ev, const Node& n, Val* r) { return AnyAll(ev, n, r, false); }

ValResult FnCount(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_array()) {
    if (v->is_string()) return Val::Own(Json(static_cast<int64_t>(Utf8Len(SV(v.get())))));
    if (v->is_object()) return Val::Own(Json(static_cast<int64_t>(v->get_object().size())));
    return c.TypeErr(v.get(), "a collection");
  }
  const Node* fn = c.node(1);
  if (!fn) return Val::Own(Json(static_cast<int64_t>(v->get_array().size())));
  int64_t n = 0;
  for (const Json& e : v->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(fn, e));
    if (IsTruthy(t.get())) ++n;
  }
  return Val::Own(Json(n));
}

ValResult SkipTake(Evaluator& ev, const Node& node, Val* recv, bool skip) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  BORA_ASSIGN_OR_RETURN(int64_t n, IntArg(c, 1));
  const JsonArray& arr = list->get_array();
  size_t k = static_cast<size_t>(std::clamp<int64_t>(n, 0, static_cast<int64_t>(arr.size())));
  JsonArray out;
  if (skip)
    out = JsonArray(arr.begin() + k, arr.end());
  else
    out = JsonArray(arr.begin(), arr.begin() + k);
  return Val::Own(Json(std::move(out)));
}
ValResult FnSkip(Evaluator& ev, const Node& n, Val* r) { return SkipTake(ev, n, r, true); }
ValResult FnTake(Evaluator& ev, const Node& n, Val* r) { return SkipTake(ev, n, r, false); }

ValResult WhileImpl(Evaluator& ev, const Node& node, Val* recv, bool take) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  ListBuilder out(ev);
  bool passing = true;
  for (const Json& e : list->get_array()) {
    if (passing) {
      BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(fn, e));
      passing = IsTruthy(t.get());
    }
    if (passing == take) BORA_RETURN_IF_ERROR(out.Push(e));
    if (take && !passing) break;
  }
  return out.Done();
}
ValResult FnTakeWhile(Evaluator& ev, const Node& n, Val* r) { return WhileImpl(ev, n, r, true); }
ValResult FnSkipWhile(Evaluator& ev, const Node& n, Val* r) { return WhileImpl(ev, n, r, false); }

ValResult FnIndexWhere(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* fn = c.node(1);
  int64_t i = 0;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val t, c.Lambda(fn, e));
    if (IsTruthy(t.get())) return Val::Own(Json(i));
    ++i;
  }
  return Val::Own(Json(int64_t{-1}));
}

ValResult FnLastIndexOf(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val coll, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val item, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(coll.get())));
  if (coll->is_string() && item->is_string()) {
    size_t p = SV(coll.get()).rfind(SV(item.get()));
    return Val::Own(Json(p == std::string_view::npos ? int64_t{-1} : static_cast<int64_t>(p)));
  }
  if (!coll->is_array()) return c.TypeErr(coll.get(), "a string or a list");
  const JsonArray& arr = coll->get_array();
  for (size_t i = arr.size(); i-- > 0;)
    if (JsonEquals(arr[i], item.get())) return Val::Own(Json(static_cast<int64_t>(i)));
  return Val::Own(Json(int64_t{-1}));
}

ValResult FnSingle(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  if (list->get_array().size() != 1)
    return InvalidArgument(list->get_array().empty() ? "collection is empty"
                                                     : "Collection contains more than one item");
  return Child(list, list->get_array()[0]);
}

ValResult FnAppend(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) BORA_RETURN_IF_ERROR(out.Push(e));
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
  }
  return out.Done();
}

ValResult FnReverse(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_string()) {
    std::string s(SV(v.get()));
    std::reverse(s.begin(), s.end());
    return Val::Own(Str(s));
  }
  BORA_ASSIGN_OR_RETURN(Val list, AsList(c, std::move(v), !IsYaql(c)));
  JsonArray out(list->get_array().rbegin(), list->get_array().rend());
  return Val::Own(Json(std::move(out)));
}

void FlattenInto(const Json& v, ListBuilder& out, Status& st, int depth) {
  if (!st.ok()) return;
  if (!v.is_array() || depth > 64) {
    st = out.Push(v);
    return;
  }
  for (const Json& x : v.get_array()) FlattenInto(x, out, st, depth + 1);
}

// yaql's flatten is recursive; Jinja's (Ansible's) takes an optional levels argument.
ValResult FnFlatten(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  int64_t levels = 64;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> lv, c.Opt(1, "levels"));
  if (lv && IsIntJ(lv->get())) levels = std::clamp<int64_t>(NumI(lv->get()), 0, 64);
  ListBuilder out(ev);
  Status st;
  for (const Json& e : list->get_array())
    FlattenInto(e, out, st, 64 - static_cast<int>(levels) + 1);
  BORA_RETURN_IF_ERROR(st);
  return out.Done();
}

ValResult FnContainsKey(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val k, c.Arg(1));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  return Val::Own(Json(k->is_string() && d->get_object().contains(k->get_string())));
}

ValResult FnContainsValue(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(d.get())));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  for (const auto& kv : d->get_object())
    if (JsonEquals(kv.value(), v.get())) return Val::Own(Json(true));
  return Val::Own(Json(false));
}

ValResult FnIndexOf(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val coll, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val item, c.Arg(1));
  BORA_RETURN_IF_ERROR(ev.Step(WorkOf(coll.get())));
  if (coll->is_string() && item->is_string()) {
    size_t p = SV(coll.get()).find(SV(item.get()));
    return Val::Own(Json(p == std::string_view::npos ? int64_t{-1} : static_cast<int64_t>(p)));
  }
  if (coll->is_array()) {
    const JsonArray& arr = coll->get_array();
    for (size_t i = 0; i < arr.size(); ++i)
      if (JsonEquals(arr[i], item.get())) return Val::Own(Json(static_cast<int64_t>(i)));
    if (!IsYaql(c)) return InvalidArgument(PythonRepr(item.get()) + " is not in list");
    return Val::Own(Json(int64_t{-1}));
  }
  return c.TypeErr(coll.get(), "a string or a list");
}

ValResult StartsEnds(Evaluator& ev, const Node& node, Val* recv, bool starts) {
  Call c(ev, node, recv);
  if (c.size() < 2) return c.Arity(2, 16);
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val p, c.Arg(i));
    std::vector<std::string> prefixes;
    if (p->is_string())
      prefixes.emplace_back(SV(p.get()));
    else if (p->is_array())
      for (const Json& e : p->get_array())
        if (e.is_string()) prefixes.emplace_back(SV(e));
    for (const std::string& x : prefixes) {
      if (starts ? std::string_view(s).starts_with(x) : std::string_view(s).ends_with(x))
        return Val::Own(Json(true));
    }
  }
  return Val::Own(Json(false));
}
ValResult FnStartsWith(Evaluator& ev, const Node& n, Val* r) { return StartsEnds(ev, n, r, true); }
ValResult FnEndsWith(Evaluator& ev, const Node& n, Val* r) { return StartsEnds(ev, n, r, false); }

ValResult FnSubstring(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  BORA_ASSIGN_OR_RETURN(int64_t start, IntArg(c, 1));
  int64_t length = -1;
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(length, IntArg(c, 2));
  }
  int64_t n = static_cast<int64_t>(s.size());
  if (length < 0) length = n;
  if (start < 0) start += n;
  start = std::clamp<int64_t>(start, 0, n);
  int64_t end = std::clamp<int64_t>(start + std::min(length, n), start, n);
  return Val::Own(Str(std::string_view(s).substr(start, end - start)));
}

ValResult TypeCheck(Evaluator& ev, const Node& node, Val* recv, int kind) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  bool r = false;
  switch (kind) {
    case 0:
      r = j.is_string();
      break;
    case 1:
      r = j.is_array();
      break;
    case 2:
      r = j.is_object();
      break;
    case 3:
      r = IsIntJ(j);
      break;
    case 4:
      r = IsNumJ(j);
      break;
    case 5:
      r = j.is_bool();
      break;
  }
  return Val::Own(Json(r));
}
ValResult FnIsString(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 0); }
ValResult FnIsList(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 1); }
ValResult FnIsDict(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 2); }
ValResult FnIsInteger(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 3); }
ValResult FnIsNumber(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 4); }
ValResult FnIsBoolean(Evaluator& ev, const Node& n, Val* r) { return TypeCheck(ev, n, r, 5); }

ValResult FnAbs(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (IsIntJ(v.get())) {
    int64_t x = NumI(v.get());
    if (x == INT64_MIN) return Val::Own(Json(-static_cast<double>(x)));
    return Val::Own(Json(x < 0 ? -x : x));
  }
  if (v->is_double()) return Val::Own(Json(std::fabs(v->as_double())));
  return c.TypeErr(v.get(), "a number");
}

// Python's round(): half to even for round(x) / round(x, n). Jinja's round filter rounds half away
// from zero
// ('common') and always returns a float.
ValResult FnRound(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!IsNumJ(v.get())) return c.TypeErr(v.get(), "a number");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> nd, c.Opt(1, IsYaql(c) ? "ndigits" : "precision"));
  int64_t digits = 0;
  if (nd) {
    if (!IsIntJ(nd->get())) return c.TypeErr(nd->get(), "an integer");
    digits = std::clamp<int64_t>(NumI(nd->get()), -20, 20);
  }
  double x = NumD(v.get());
  double scale = std::pow(10.0, static_cast<double>(digits));
  if (IsYaql(c)) {
    if (IsIntJ(v.get()) && digits >= 0) return v;
    double r = std::nearbyint(x * scale) / scale;  // banker's rounding (FE_TONEAREST)
    if (!nd) return Val::Own(Json(static_cast<int64_t>(r)));
    return Val::Own(Json(r));
  }
  std::string method = "common";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, "method"));
  if (mv && (*mv)->is_string()) method = std::string((*mv)->get_string());
  double y = x * scale;
  double r = method == "ceil" ? std::ceil(y) : method == "floor" ? std::floor(y) : std::round(y);
  return Val::Own(Json(r / scale));
}

ValResult FnSwitch(Evaluator& ev, const Node& node, Val* recv) {
  for (size_t i = Evaluator::FirstArg(node); i < node.kids.size(); ++i) {
    const Node& arg = *node.kids[i];
    if (arg.op != Op::kPair)
      return InvalidArgument("switch() needs 'condition => value' arguments");
    BORA_ASSIGN_OR_RETURN(Val cond, ev.Eval(*arg.kids[0]));
    BORA_RETURN_IF_ERROR(ev.CheckDefined(cond));
    if (IsTruthy(cond.get())) return ev.Eval(*arg.kids[1]);
  }
  return Val::Own(Json());
}

ValResult FnLet(Evaluator& ev, const Node& node, Val* recv) {
  // `let(...)` without `->`: the variables would go out of scope immediately; returns `$`.
  if (recv) return std::move(*recv);
  return Val::Ref(*ev.root());
}

ValResult FnCoalesce(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (!v->is_null()) return v;
  }
  return Val::Own(Json());
}

ValResult FnToDict(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* key_fn = c.node(1);
  const Node* value_fn = c.node(2);
  JsonObject out;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
    Json v = e;
    if (value_fn) {
      BORA_ASSIGN_OR_RETURN(Val vv, c.Lambda(value_fn, e));
      v = std::move(vv).Take();
    }
    out[k->is_string() ? std::string(k->get_string()) : PythonStr(k.get())] = std::move(v);
  }
  return Val::Own(Json(std::move(out)));
}

ValResult FnGroupBy(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 4));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  const Node* key_fn = c.node(1);
  const Node* value_fn = c.node(2);
  const Node* agg_fn = c.node(3);
  std::vector<std::pair<Json, JsonArray>> groups;
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Lambda(key_fn, e));
    Json v = e;
    if (value_fn) {
      BORA_ASSIGN_OR_RETURN(Val vv, c.Lambda(value_fn, e));
      v = std::move(vv).Take();
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return JsonEquals(g.first, k.get()); });
    if (it == groups.end()) {
      groups.emplace_back(std::move(k).Take(), JsonArray{});
      it = groups.end() - 1;
    }
    it->second.push_back(std::move(v));
  }
  JsonArray out;
  for (auto& [k, vals] : groups) {
    Json items(std::move(vals));
    if (agg_fn) {
      BORA_ASSIGN_OR_RETURN(Val a, c.Lambda(agg_fn, items));
      items = std::move(a).Take();
    }
    out.push_back(Json(JsonArray{k, std::move(items)}));
  }
  return Val::Own(Json(std::move(out)));
}

ValResult FnMergeWith(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 16);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  Json r = std::move(a).Take();
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val b, c.Arg(i));
    if (!b->is_object()) return c.TypeErr(b.get(), "a dict");
    DeepMerge(r, b.get());
  }
  return Val::Own(std::move(r));
}

ValResult FnDelete(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 64);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  Json r = std::move(a).Take();
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Arg(i));
    if (k->is_string()) r.get_object().erase(k->get_string());
  }
  return Val::Own(std::move(r));
}

ValResult FnSet(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  if (c.size() < 1) return c.Arity(1, 3);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object() && !recv) return SetOfValues(c, std::move(a));  // yaql's set(1, 2)
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  Json r = std::move(a).Take();
  if (c.size() == 3) {
    BORA_ASSIGN_OR_RETURN(Val k, c.Arg(1));
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(2));
    r.get_object()[k->is_string() ? std::string(k->get_string()) : PythonStr(k.get())] =
        std::move(v).Take();
  } else if (c.size() == 2) {
    BORA_ASSIGN_OR_RETURN(Val d, c.Arg(1));
    if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
    for (const auto& kv : d->get_object()) r.get_object()[kv.key()] = kv.value();
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Json v, ev.EvalJson(*k->kids[1]));
    r.get_object()[k->name] = std::move(v);
  }
  return Val::Own(std::move(r));
}

ValResult FnZip(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  std::vector<Val> lists;
  size_t n = SIZE_MAX;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val l, ListArg(c, i, false));
    n = std::min(n, l->get_array().size());
    lists.push_back(std::move(l));
  }
  if (lists.empty()) n = 0;
  ListBuilder out(ev);
  for (size_t i = 0; i < n; ++i) {
    JsonArray row;
    for (const Val& l : lists) row.push_back(l->get_array()[i]);
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(row))));
  }
  return out.Done();
}

ValResult FnEnumerate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  int64_t start = 0;
  if (c.size() == 2) {
    BORA_ASSIGN_OR_RETURN(start, IntArg(c, 1));
  }
  ListBuilder out(ev);
  for (const Json& e : list->get_array())
    BORA_RETURN_IF_ERROR(out.Push(Json(JsonArray{start++, e})));
  return out.Done();
}

// Mistral functions.
ValResult FnUuid(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, node.op == Op::kFilter ? 1 : 0));
  return Val::Own(Str(NewUuid()));
}

ValResult FnJsonDump(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  // As a Jinja filter with an argument (`_ | json_dump(x)`), the piped value is Mistral's context.
  const size_t data_arg = c.size() == 2 && node.op == Op::kFilter ? 1 : 0;
  if (c.size() == 2 && data_arg == 0) return c.Arity(1, 1);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(data_arg));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(v.get()) * 2));
  std::string s = PythonJsonDumps(v.get(), 4);
  BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  return Val::Own(Str(s));
}

Json SortKeys(const Json& v, int depth) {
  if (depth > 256) return v;
  if (v.is_array()) {
    JsonArray out;
    for (const Json& e : v.get_array()) out.push_back(SortKeys(e, depth + 1));
    return Json(std::move(out));
  }
  if (!v.is_object()) return v;
  std::vector<std::string_view> keys;
  for (const auto& kv : v.get_object()) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  JsonObject out;
  for (std::string_view k : keys) out[k] = SortKeys(v.get_object().at(k), depth + 1);
  return Json(std::move(out));
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
  std::string s = PythonJsonDumps(SortKeys(v.get(), 0), static_cast<int>(indent));
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
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  // As a Jinja filter with an argument (`_ | json_dump(x)`), the piped value is Mistral's context.
  const size_t data_arg = c.size() == 2 && node.op == Op::kFilter ? 1 : 0;
  if (c.size() == 2 && data_arg == 0) return c.Arity(1, 1);
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, data_arg));
  auto r = ParseJson(s, std::min(ev.ctx().limits.max_depth, 64));
  if (!r.ok()) return InvalidArgument("json_parse: " + r.status().message());
  return Val::Own(std::move(r).value());
}

ValResult FnYamlDump(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  // As a Jinja filter with an argument (`_ | json_dump(x)`), the piped value is Mistral's context.
  const size_t data_arg = c.size() == 2 && node.op == Op::kFilter ? 1 : 0;
  if (c.size() == 2 && data_arg == 0) return c.Arity(1, 1);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(data_arg));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(v.get()) * 2));
  std::string s = PyYamlDump(v.get());
  BORA_RETURN_IF_ERROR(ev.CheckSize(s.size()));
  return Val::Own(Str(s));
}

ValResult FnYamlParse(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  // As a Jinja filter with an argument (`_ | json_dump(x)`), the piped value is Mistral's context.
  const size_t data_arg = c.size() == 2 && node.op == Op::kFilter ? 1 : 0;
  if (c.size() == 2 && data_arg == 0) return c.Arity(1, 1);
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

// ------------------------------------------------------------------------------------------------
// Jinja filters that differ from the YAQL functions.

ValResult FnDefault(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  bool boolean = false;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> bv, c.Opt(2, "boolean"));
  if (bv) boolean = IsTruthy(bv->get());
  bool use_default = recv->undefined() || (boolean && !IsTruthy(recv->get()));
  if (!use_default) return std::move(*recv);
  BORA_ASSIGN_OR_RETURN(std::optional<Val> d, c.Opt(1, "default_value"));
  if (!d) return Val::Own(Str(""));
  return std::move(*d);
}

ValResult FnString(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_string()) return v;
  return Val::Own(Str(PythonStr(v.get())));
}

// Looks up a dotted attribute path ("a.b", "0") in a value; null when missing.
const Json* AttrPath(const Json& v, std::string_view path) {
  const Json* cur = &v;
  while (true) {
    size_t dot = path.find('.');
    std::string_view part = path.substr(0, dot);
    if (cur->is_object()) {
      auto it = cur->get_object().find(part);
      if (it == cur->get_object().end()) return nullptr;
      cur = &it->value();
    } else if (cur->is_array() && !part.empty() &&
               std::isdigit(static_cast<unsigned char>(part[0]))) {
      size_t i = std::strtoul(std::string(part).c_str(), nullptr, 10);
      if (i >= cur->get_array().size()) return nullptr;
      cur = &cur->get_array()[i];
    } else if (cur->is_array() && cur->get_array().size() == 2 &&
               (part == "grouper" || part == "list")) {  // a groupby() group
      cur = &cur->get_array()[part == "grouper" ? 0 : 1];
    } else {
      return nullptr;
    }
    if (dot == std::string_view::npos) return cur;
    path = path.substr(dot + 1);
  }
}

ValResult FnSort(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  bool reverse = false, case_sensitive = false;
  std::optional<std::string> attribute;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> rv, c.Opt(1, "reverse"));
  if (rv) reverse = IsTruthy(rv->get());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> cv, c.Opt(2, "case_sensitive"));
  if (cv) case_sensitive = IsTruthy(cv->get());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> av, c.Opt(3, "attribute"));
  if (av && (*av)->is_string()) attribute = std::string((*av)->get_string());
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    Json key = e;
    if (attribute) {
      const Json* k = AttrPath(e, *attribute);
      if (!k) return InvalidArgument("'dict object' has no attribute '" + *attribute + "'");
      key = *k;
    }
    if (!case_sensitive && key.is_string()) {
      std::string s(SV(key));
      for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      key = Str(s);
    }
    items.emplace_back(std::move(key), e);
  }
  BORA_RETURN_IF_ERROR(SortBy(ev, items, reverse));
  JsonArray out;
  for (auto& kv : items) out.push_back(std::move(kv.second));
  return Val::Own(Json(std::move(out)));
}

ValResult RunTest(Evaluator& ev, std::string_view name, const Json& value, std::vector<Json> args,
                  bool* result);

// select/reject('test', args...) and selectattr/rejectattr('attr', 'test', args...).
ValResult SelectReject(Evaluator& ev, const Node& node, Val* recv, bool select, bool by_attr) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  size_t i = 1;
  std::string attr;
  if (by_attr) {
    BORA_ASSIGN_OR_RETURN(attr, StrArg(c, i));
    ++i;
  }
  std::string test;
  std::vector<Json> args;
  if (i < c.size()) {
    BORA_ASSIGN_OR_RETURN(test, StrArg(c, i));
    ++i;
    for (; i < c.size(); ++i) {
      BORA_ASSIGN_OR_RETURN(Val a, c.Arg(i));
      args.push_back(std::move(a).Take());
    }
  }
  ListBuilder out(ev);
  for (const Json& e : list->get_array()) {
    static const Json kNull;
    const Json* v = &e;
    bool missing = false;
    if (by_attr) {
      v = AttrPath(e, attr);
      if (!v) {
        v = &kNull;
        missing = true;
      }
    }
    bool t;
    if (test.empty()) {
      t = !missing && IsTruthy(*v);
    } else if (missing && test == "defined") {
      t = false;
    } else if (missing && test == "undefined") {
      t = true;
    } else {
      if (missing) return InvalidArgument("'dict object' has no attribute '" + attr + "'");
      BORA_RETURN_IF_ERROR(RunTest(ev, test, *v, args, &t).status());
    }
    if (t == select) BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}
ValResult FnSelectF(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, true, false);
}
ValResult FnRejectF(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, false, false);
}
ValResult FnSelectAttr(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, true, true);
}
ValResult FnRejectAttr(Evaluator& ev, const Node& n, Val* r) {
  return SelectReject(ev, n, r, false, true);
}

ValResult ApplyFilterByName(Evaluator& ev, std::string_view name, const Json& value,
                            const std::vector<Json>& args);

// map(attribute='x', default=...) or map('filter', args...).
ValResult FnMap(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, true));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> attr, c.Opt(99, "attribute"));
  ListBuilder out(ev);
  if (attr) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(99, "default"));
    std::string path =
        (*attr)->is_string() ? std::string((*attr)->get_string()) : PythonStr(attr->get());
    for (const Json& e : list->get_array()) {
      const Json* v = AttrPath(e, path);
      if (!v) {
        if (dflt) {
          BORA_RETURN_IF_ERROR(out.Push((*dflt).get()));
          continue;
        }
        return InvalidArgument("'" + TypeName(e) + " object' has no attribute '" + path + "'");
      }
      BORA_RETURN_IF_ERROR(out.Push(*v));
    }
    return out.Done();
  }
  BORA_ASSIGN_OR_RETURN(std::string filter, StrArg(c, 1));
  std::vector<Json> args;
  for (size_t i = 2; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val a, c.Arg(i));
    args.push_back(std::move(a).Take());
  }
  for (const Json& e : list->get_array()) {
    BORA_ASSIGN_OR_RETURN(Val v, ApplyFilterByName(ev, filter, e, args));
    BORA_RETURN_IF_ERROR(out.Push(std::move(v).Take()));
  }
  return out.Done();
}

ValResult FnDict2Items(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  if (!d->is_object()) return c.TypeErr(d.get(), "a dict");
  std::string key_name = "key", value_name = "value";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> kn, c.Opt(1, "key_name"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> vn, c.Opt(2, "value_name"));
  if (kn && (*kn)->is_string()) key_name = std::string((*kn)->get_string());
  if (vn && (*vn)->is_string()) value_name = std::string((*vn)->get_string());
  ListBuilder out(ev);
  for (const auto& kv : d->get_object()) {
    JsonObject o;
    o[key_name] = Str(kv.key());
    o[value_name] = kv.value();
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(o))));
  }
  return out.Done();
}

ValResult FnItems2Dict(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 0, false));
  std::string key_name = "key", value_name = "value";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> kn, c.Opt(1, "key_name"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> vn, c.Opt(2, "value_name"));
  if (kn && (*kn)->is_string()) key_name = std::string((*kn)->get_string());
  if (vn && (*vn)->is_string()) value_name = std::string((*vn)->get_string());
  JsonObject out;
  for (const Json& e : list->get_array()) {
    const Json* k = e.is_object() ? e.get_object().if_contains(key_name) : nullptr;
    const Json* v = e.is_object() ? e.get_object().if_contains(value_name) : nullptr;
    if (!k || !v)
      return InvalidArgument("items2dict: item " + PythonRepr(e) + " lacks '" + key_name +
                             "' or '" + value_name + "'");
    out[k->is_string() ? std::string(k->get_string()) : PythonStr(*k)] = *v;
  }
  return Val::Own(Json(std::move(out)));
}

ValResult FnCombine(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  if (!a->is_object()) return c.TypeErr(a.get(), "a dict");
  bool recursive = false;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> rv, c.Opt(99, "recursive"));
  if (rv) recursive = IsTruthy(rv->get());
  Json r = std::move(a).Take();
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val b, c.Arg(i));
    if (!b->is_object()) return c.TypeErr(b.get(), "a dict");
    if (recursive)
      DeepMerge(r, b.get());
    else
      for (const auto& kv : b->get_object()) r.get_object()[kv.key()] = kv.value();
  }
  return Val::Own(std::move(r));
}

// indent(width=4, first=False, blank=False)
ValResult FnIndent(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = v->is_string() ? std::string(v->get_string()) : PythonStr(v.get());
  std::string pad(4, ' ');
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wv, c.Opt(1, "width"));
  if (wv && IsIntJ(wv->get()))
    pad = std::string(std::clamp<int64_t>(NumI(wv->get()), 0, 256), ' ');
  else if (wv && (*wv)->is_string())
    pad = std::string((*wv)->get_string());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> fv, c.Opt(2, "first"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> bv, c.Opt(3, "blank"));
  bool first = fv && IsTruthy(fv->get()), blank = bv && IsTruthy(bv->get());
  std::string out;
  size_t start = 0, line_no = 0;
  while (start <= s.size()) {
    size_t nl = s.find('\n', start);
    std::string_view line =
        std::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    bool indent = (line_no > 0 || first) && (blank || !line.empty());
    if (indent) out += pad;
    out += line;
    if (nl == std::string::npos) break;
    out += '\n';
    start = nl + 1;
    ++line_no;
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}

// truncate(length=255, killwords=False, end="...", leeway=5)
ValResult FnTruncate(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = v->is_string() ? std::string(v->get_string()) : PythonStr(v.get());
  int64_t length = 255, leeway = 5;  // Jinja's default policy truncate.leeway = 5
  bool killwords = false;
  std::string end = "...";
  BORA_ASSIGN_OR_RETURN(std::optional<Val> lv, c.Opt(1, "length"));
  if (lv && IsIntJ(lv->get())) length = NumI(lv->get());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> kv, c.Opt(2, "killwords"));
  if (kv) killwords = IsTruthy(kv->get());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> ev2, c.Opt(3, "end"));
  if (ev2 && (*ev2)->is_string()) end = std::string((*ev2)->get_string());
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wv, c.Opt(4, "leeway"));
  if (wv && IsIntJ(wv->get())) leeway = NumI(wv->get());
  if (length < static_cast<int64_t>(Utf8Len(end)))
    return InvalidArgument("expected length >= " + std::to_string(Utf8Len(end)) + ", got " +
                           std::to_string(length));
  if (leeway < 0) return InvalidArgument("expected leeway >= 0, got " + std::to_string(leeway));
  if (static_cast<int64_t>(s.size()) <= length + leeway) return Val::Own(Str(s));
  std::string cut = s.substr(0, static_cast<size_t>(length) - end.size());
  if (!killwords) {
    size_t sp = cut.rfind(' ');
    if (sp != std::string::npos) cut.resize(sp);
  }
  return Val::Own(Str(cut + end));
}

// Jinja's format filter: printf-style, `"%s-%s" | format(a, b)`.
ValResult FnFormatFilter(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(std::string fmt, StrArg(c, 0));
  Json args;
  if (c.has_kw()) {
    JsonObject kw;
    for (const Node* k : c.kw_nodes()) {
      BORA_ASSIGN_OR_RETURN(Json v, ev.EvalJson(*k->kids[1]));
      kw[k->name] = std::move(v);
    }
    args = Json(std::move(kw));
  } else {
    JsonArray pos;
    for (size_t i = 1; i < c.size(); ++i) {
      BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
      pos.push_back(std::move(v).Take());
    }
    args = Json(std::move(pos));
  }
  BORA_ASSIGN_OR_RETURN(std::string out, PercentFormat(fmt, args));
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

ValResult FnCapitalize(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = v->is_string() ? std::string(v->get_string()) : PythonStr(v.get());
  for (size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<char>(i == 0 ? std::toupper(static_cast<unsigned char>(s[i]))
                                    : std::tolower(static_cast<unsigned char>(s[i])));
  return Val::Own(Str(s));
}

ValResult FnTitle(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = v->is_string() ? std::string(v->get_string()) : PythonStr(v.get());
  bool start = true;
  for (char& ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (std::isalpha(u)) {
      ch = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
      start = false;
    } else {
      start = !std::isalnum(u);
    }
  }
  return Val::Own(Str(s));
}

// ------------------------------------------------------------------------------------------------
// Jinja tests.

ValResult TestImpl(Evaluator& ev, const Node& node, Val* recv, std::string_view name) {
  Call c(ev, node, recv);
  if (name == "defined") return Val::Own(Json(!recv->undefined()));
  if (name == "undefined") return Val::Own(Json(recv->undefined()));
  if (recv->undefined()) return InvalidArgument(recv->undefined_message());
  std::vector<Json> args;
  for (size_t i = 1; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val a, c.Arg(i));
    args.push_back(std::move(a).Take());
  }
  bool r = false;
  BORA_RETURN_IF_ERROR(RunTest(ev, name, recv->get(), std::move(args), &r).status());
  return Val::Own(Json(r));
}

ValResult RunTest(Evaluator& ev, std::string_view name, const Json& v, std::vector<Json> args,
                  bool* result) {
  auto need = [&](size_t n) -> Status {
    if (args.size() < n)
      return InvalidArgument("test '" + std::string(name) + "' needs an argument");
    return Status::Ok();
  };
  bool& r = *result;
  if (name == "defined")
    r = true;
  else if (name == "undefined")
    r = false;
  else if (name == "none")
    r = v.is_null();
  else if (name == "number")
    r = IsNumJ(v);
  else if (name == "integer")
    r = IsIntJ(v);
  else if (name == "float")
    r = v.is_double();
  else if (name == "string")
    r = v.is_string();
  else if (name == "mapping")
    r = v.is_object();
  else if (name == "iterable")
    r = v.is_array() || v.is_object() || v.is_string();
  else if (name == "sequence")
    r = v.is_array() || v.is_object() || v.is_string();
  else if (name == "boolean")
    r = v.is_bool();
  else if (name == "true")
    r = v.is_bool() && v.as_bool();
  else if (name == "false")
    r = v.is_bool() && !v.as_bool();
  else if (name == "lower" || name == "upper") {
    if (!v.is_string()) return InvalidArgument("test '" + std::string(name) + "' needs a string");
    bool lower = name == "lower";
    r = true;
    for (unsigned char ch : SV(v))
      if (std::isalpha(ch) && (lower ? std::isupper(ch) : std::islower(ch))) r = false;
  } else if (name == "even" || name == "odd") {
    if (!IsIntJ(v)) return InvalidArgument("test '" + std::string(name) + "' needs an integer");
    bool even = NumI(v) % 2 == 0;
    r = name == "even" ? even : !even;
  } else if (name == "divisibleby") {
    BORA_RETURN_IF_ERROR(need(1));
    if (!IsIntJ(v) || !IsIntJ(args[0]) || NumI(args[0]) == 0)
      return InvalidArgument("divisibleby needs integers and a non-zero divisor");
    r = NumI(v) % NumI(args[0]) == 0;
  } else if (name == "eq" || name == "equalto" || name == "==" || name == "sameas") {
    BORA_RETURN_IF_ERROR(need(1));
    r = name == "sameas" ? (JsonEquals(v, args[0]) && v.kind() == args[0].kind())
                         : JsonEquals(v, args[0]);
  } else if (name == "ne" || name == "lt" || name == "gt" || name == "le" || name == "ge" ||
             name == "lessthan" || name == "greaterthan" || name == "!=" || name == "<" ||
             name == ">" || name == "<=" || name == ">=") {
    BORA_RETURN_IF_ERROR(need(1));
    Op op = (name == "ne" || name == "!=")                           ? Op::kNe
            : (name == "lt" || name == "lessthan" || name == "<")    ? Op::kLt
            : (name == "gt" || name == "greaterthan" || name == ">") ? Op::kGt
            : (name == "le" || name == "<=")                         ? Op::kLe
                                                                     : Op::kGe;
    BORA_ASSIGN_OR_RETURN(r, Compare(op, v, args[0], Lang::kJinja));
  } else if (name == "in") {
    BORA_RETURN_IF_ERROR(need(1));
    BORA_ASSIGN_OR_RETURN(r, Contains(args[0], v));
  } else {
    return InvalidArgument("no test named '" + std::string(name) + "'");
  }
  return Val::Own(Json(r));
}

#define BORA_TEST(fn_name, test_name) \
  ValResult fn_name(Evaluator& ev, const Node& n, Val* r) { return TestImpl(ev, n, r, test_name); }
BORA_TEST(TestDefined, "defined")
BORA_TEST(TestUndefined, "undefined")
BORA_TEST(TestGeneric, n.name)
#undef BORA_TEST

// ------------------------------------------------------------------------------------------------
// Jinja methods on Python objects (dict.get, str.upper, ...).

ValResult MethodDispatch(Evaluator& ev, const Node& node, Val* recv);

// ------------------------------------------------------------------------------------------------
// YAQL regular expressions (yaql's standard_library/regex.py on RE2; see regex.h).

// regex(pattern, ignoreCase => false, multiLine => false, dotAll => false)
ValResult FnRegex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 4));
  RegexSpec spec;
  BORA_ASSIGN_OR_RETURN(spec.pattern, StrArg(c, 0));
  static constexpr std::pair<const char*, int> kFlags[] = {
      {"ignoreCase", kIgnoreCase}, {"multiLine", kMultiLine}, {"dotAll", kDotAll}};
  for (size_t i = 0; i < 3; ++i) {
    BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(i + 1, kFlags[i].first));
    if (v && IsTruthy(v->get())) spec.flags |= kFlags[i].second;
  }
  BORA_RETURN_IF_ERROR(CheckRegex(spec));
  return Val::Own(MakeRegexValue(spec));
}

// The pattern of a regex() value or, with `strings`, of a pattern string; nullopt otherwise.
std::optional<RegexSpec> RegexOf(const Json& v, bool strings) {
  if (IsRegexValue(v)) return RegexOfValue(v);
  if (strings && v.is_string()) return RegexSpec{std::string(v.get_string()), 0};
  return std::nullopt;
}

// regex.matches(string) and string.matches(pattern or regex).
ValResult FnMatches(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val a, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(Val b, c.Arg(1));
  const bool regex_first = IsRegexValue(a.get());
  const Json& text = regex_first ? b.get() : a.get();
  if (!text.is_string()) return c.TypeErr(text, "a string");
  std::optional<RegexSpec> spec = RegexOf(regex_first ? a.get() : b.get(), !regex_first);
  if (!spec) return c.TypeErr(b.get(), "a regular expression (a string or regex())");
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(SV(text).size() / 16)));
  BORA_ASSIGN_OR_RETURN(bool found, RegexSearch(*spec, SV(text)));
  return Val::Own(Json(found));
}

// regex.search(string) -> the first match or null; regex.searchAll(string) -> every match. With a
// selector (a lambda over the match) they are refused.
template <bool kAll>
ValResult RegexSearchFn(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  if (c.size() > 2 || c.kw_node("selector") != nullptr) {
    return InvalidArgument(c.Signature() +
                           " with a selector is not supported: select from its result instead");
  }
  BORA_ASSIGN_OR_RETURN(Val re, c.Arg(0));
  if (!IsRegexValue(re.get())) return c.TypeErr(re.get(), "a regex() value");
  BORA_ASSIGN_OR_RETURN(std::string text, StrArg(c, 1));
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(text.size() / 16)));
  const RegexSpec spec = RegexOfValue(re.get());
  if constexpr (kAll) {
    const size_t max = std::max<size_t>(16, ev.ctx().limits.max_output_bytes / 16);
    BORA_ASSIGN_OR_RETURN(std::vector<std::string> all, RegexAll(spec, text, max));
    ListBuilder out(ev);
    for (auto& m : all) BORA_RETURN_IF_ERROR(out.Push(Str(m)));
    return out.Done();
  } else {
    BORA_ASSIGN_OR_RETURN(std::optional<std::string> first, RegexFirst(spec, text));
    return Val::Own(first ? Str(*first) : Json());
  }
}

ValResult FnEscapeRegex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
  std::string out = EscapeRegex(s);
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

ValResult FnIsRegex(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(IsRegexValue(v.get())));
}

// ------------------------------------------------------------------------------------------------
// Tables.

const Builtin kYaql[] = {
    {"len", FnLen},
    {"count", FnCount},
    {"str", FnStr},
    {"int", FnInt},
    {"float", FnFloat},
    {"bool", FnBool},
    {"dict", FnDict},
    {"list", FnList},
    {"toList", FnList},
    {"range", FnRange},
    {"keys", FnKeys},
    {"values", FnValues},
    {"items", FnItems},
    {"get", FnGet},
    {"first", FnFirst},
    {"last", FnLast},
    {"join", FnJoin},
    {"split", FnSplit},
    {"replace", FnReplace},
    {"toUpper", CaseMap<std::toupper>},
    {"toLower", CaseMap<std::tolower>},
    {"trim", FnTrim},
    {"trimLeft", FnTrimLeft},
    {"trimRight", FnTrimRight},
    {"distinct", FnDistinct},
    {"orderBy", FnOrderBy},
    {"orderByDescending", FnOrderByDesc},
    {"contains", FnContains},
    {"containsKey", FnContainsKey},
    {"containsValue", FnContainsValue},
    {"min", FnMin},
    {"max", FnMax},
    {"sum", FnSum},
    {"isEmpty", FnIsEmpty},
    {"concat", FnConcat},
    {"format", FnFormat},
    {"select", FnSelect},
    {"selectMany", FnSelectMany},
    {"where", FnWhere},
    {"filter", FnWhere},
    {"any", FnAny},
    {"all", FnAll},
    {"skip", FnSkip},
    {"take", FnTake},
    {"limit", FnTake},
    {"takeWhile", FnTakeWhile},
    {"skipWhile", FnSkipWhile},
    {"indexWhere", FnIndexWhere},
    {"lastIndexOf", FnLastIndexOf},
    {"single", FnSingle},
    {"append", FnAppend},
    {"reverse", FnReverse},
    {"flatten", FnFlatten},
    {"indexOf", FnIndexOf},
    {"startsWith", FnStartsWith},
    {"endsWith", FnEndsWith},
    {"substring", FnSubstring},
    {"isString", FnIsString},
    {"isList", FnIsList},
    {"isDict", FnIsDict},
    {"isInteger", FnIsInteger},
    {"isNumber", FnIsNumber},
    {"isBoolean", FnIsBoolean},
    {"abs", FnAbs},
    {"round", FnRound},
    {"switch", FnSwitch},
    {"let", FnLet},
    {"coalesce", FnCoalesce},
    {"toDict", FnToDict},
    {"groupBy", FnGroupBy},
    {"mergeWith", FnMergeWith},
    {"delete", FnDelete},
    {"set", FnSet},
    {"zip", FnZip},
    {"enumerate", FnEnumerate},
    {"uuid", FnUuid},
    {"json_dump", FnJsonDump},
    {"json_parse", FnJsonParse},
    {"yaml_dump", FnYamlDump},
    {"yaml_parse", FnYamlParse},
    {"regex", FnRegex},
    {"matches", FnMatches},
    {"search", RegexSearchFn<false>},
    {"searchAll", RegexSearchFn<true>},
    {"escapeRegex", FnEscapeRegex},
    {"isRegex", FnIsRegex},
    // yaql 2.0 standard library (yaql_library.h; README "YAQL standard library (yaql 2.0)").
    {"with", FnLet},
    {"pow", FnPow},
    {"sign", FnSign},
    {"bitwiseAnd", FnBitwiseAnd},
    {"bitwiseOr", FnBitwiseOr},
    {"bitwiseXor", FnBitwiseXor},
    {"bitwiseNot", FnBitwiseNot},
    {"shiftBitsLeft", FnShiftBitsLeft},
    {"shiftBitsRight", FnShiftBitsRight},
    {"random", FnRandom},
    {"hex", FnHex},
    {"norm", FnNorm},
    {"toCharArray", FnToCharArray},
    {"characters", FnCharacters},
    {"rightSplit", FnRightSplit},
    {"map", FnSelect},
    {"aggregate", FnAggregate},
    {"reduce", FnAggregate},
    {"accumulate", FnAccumulate},
    {"thenBy", FnThenBy},
    {"thenByDescending", FnThenBy},
    {"zipLongest", FnZipLongest},
    {"repeat", FnRepeat},
    {"memorize", FnMemorize},
    {"isIterable", FnIsIterable},
    {"defaultIfEmpty", FnDefaultIfEmpty},
    {"lastIndexWhere", FnLastIndexWhere},
    {"slice", FnSlice},
    {"splitAt", FnSplitAt},
    {"splitWhere", FnSplitWhere},
    {"sliceWhere", FnSliceWhere},
    {"generate", FnGenerate},
    {"toSet", FnToSet},
    {"union", FnUnion},
    {"intersect", FnIntersect},
    {"difference", FnDifference},
    {"symmetricDifference", FnSymmetricDifference},
    {"add", FnSetAdd},
    {"remove", FnSetRemove},
    {"deleteAll", FnDeleteAll},
    {"insert", FnInsert},
    {"insertMany", FnInsertMany},
    {"replaceMany", FnReplaceMany},
    {"selectCase", FnSelectCase},
    {"selectAllCases", FnSelectAllCases},
    {"examine", FnExamine},
    {"switchCase", FnSwitchCase},
    {"assert", FnAssert},
    {"json_pp", FnJsonPp},
    {"datetime", FnDateTime},
    {"timespan", FnTimespan},
    {"now", FnNow},
    {"localtz", FnLocalTz},
    {"utctz", FnUtcTz},
    {"isDatetime", FnIsDatetime},
    {"isTimespan", FnIsTimespan},
    {"sequence", FnRefused},
    {"cycle", FnRefused},
    {"generateMany", FnRefused},
    {"isSet", FnRefused},
    {"def", FnRefused},
    {"call", FnRefused},
    {"unpack", FnRefused},
    {"replaceBy", FnRefused},
};

const Builtin kJinjaGlobals[] = {
    {"range", FnRange},
    {"dict", FnDict},
    {"list", FnList},
    {"uuid", FnUuid},
    {"json_dump", FnJsonDump},
    {"json_parse", FnJsonParse},
    {"yaml_dump", FnYamlDump},
    {"yaml_parse", FnYamlParse},
    {"len", FnLen},
    {"str", FnStr},
    {"int", FnInt},
    {"float", FnFloat},
    {"bool", FnBool},
    {"min", FnMin},
    {"max", FnMax},
    {"sum", FnSum},
    {"abs", FnAbs},
    {"zip", FnZip},
    {"enumerate", FnEnumerate},
    {"sorted", FnSort},
    {"cycler", JGlobalCycler},
    {"joiner", JGlobalJoiner},
    {"namespace", JGlobalNamespace},
    {"lipsum", JRefused},
};

const Builtin kJinjaFilters[] = {
    // Jinja2 3.x's FILTERS (README "Jinja2 builtins").
    {"abs", FnAbs},
    {"attr", JFilterAttr},
    {"batch", JFilterBatch},
    {"capitalize", FnCapitalize},
    {"center", JFilterCenter},
    {"count", FnLen},
    {"d", FnDefault},
    {"default", FnDefault},
    {"dictsort", JFilterDictSort},
    {"e", JFilterEscape},
    {"escape", JFilterEscape},
    {"filesizeformat", JFilterFileSizeFormat},
    {"first", FnFirst},
    {"float", FnFloat},
    {"forceescape", JFilterForceEscape},
    {"format", FnFormatFilter},
    {"groupby", JFilterGroupBy},
    {"indent", FnIndent},
    {"int", JFilterInt},
    {"join", JFilterJoin},
    {"last", FnLast},
    {"length", FnLen},
    {"list", FnList},
    {"lower", CaseMap<std::tolower>},
    {"items", JFilterItems},
    {"map", FnMap},
    {"min", JFilterMin},
    {"max", JFilterMax},
    {"pprint", JFilterPprint},
    {"random", JFilterRandom},
    {"reject", FnRejectF},
    {"rejectattr", FnRejectAttr},
    {"replace", FnReplace},
    {"reverse", FnReverse},
    {"round", JFilterRound},
    {"safe", JFilterSafe},
    {"select", FnSelectF},
    {"selectattr", FnSelectAttr},
    {"slice", JFilterSlice},
    {"sort", JFilterSort},
    {"string", FnString},
    {"striptags", JFilterStripTags},
    {"sum", JFilterSum},
    {"title", JFilterTitle},
    {"trim", FnTrim},
    {"truncate", FnTruncate},
    {"unique", JFilterUnique},
    {"upper", CaseMap<std::toupper>},
    {"urlencode", JFilterUrlEncode},
    {"urlize", JRefused},
    {"wordcount", JFilterWordCount},
    {"wordwrap", JFilterWordWrap},
    {"xmlattr", JFilterXmlAttr},
    {"tojson", FnToJson},
    // Mistral's functions and Bora's extensions (Ansible-style filters).
    {"to_json", FnToJson},
    {"dict2items", FnDict2Items},
    {"items2dict", FnItems2Dict},
    {"combine", FnCombine},
    {"bool", FnBool},
    {"json_dump", FnJsonDump},
    {"json_parse", FnJsonParse},
    {"from_json", FnJsonParse},
    {"yaml_dump", FnYamlDump},
    {"yaml_parse", FnYamlParse},
    {"flatten", FnFlatten},
    {"keys", FnKeys},
    {"values", FnValues},
};

const Builtin kJinjaTests[] = {
    {"defined", TestDefined},     {"undefined", TestUndefined}, {"none", TestGeneric},
    {"number", TestGeneric},      {"integer", TestGeneric},     {"float", TestGeneric},
    {"string", TestGeneric},      {"mapping", TestGeneric},     {"iterable", TestGeneric},
    {"sequence", TestGeneric},    {"boolean", TestGeneric},     {"true", TestGeneric},
    {"false", TestGeneric},       {"lower", TestGeneric},       {"upper", TestGeneric},
    {"even", TestGeneric},        {"odd", TestGeneric},         {"divisibleby", TestGeneric},
    {"eq", TestGeneric},          {"equalto", TestGeneric},     {"sameas", TestGeneric},
    {"ne", TestGeneric},          {"lt", TestGeneric},          {"gt", TestGeneric},
    {"le", TestGeneric},          {"ge", TestGeneric},          {"lessthan", TestGeneric},
    {"greaterthan", TestGeneric}, {"in", TestGeneric},          {"filter", JTestFilter},
    {"test", JTestTest},          {"callable", JTestCallable},  {"escaped", JRefused},
};

const Builtin kJinjaMethods[] = {
    {"get", MethodDispatch},      {"keys", MethodDispatch},       {"values", MethodDispatch},
    {"items", MethodDispatch},    {"upper", MethodDispatch},      {"lower", MethodDispatch},
    {"strip", MethodDispatch},    {"lstrip", MethodDispatch},     {"rstrip", MethodDispatch},
    {"split", MethodDispatch},    {"replace", MethodDispatch},    {"startswith", MethodDispatch},
    {"endswith", MethodDispatch}, {"format", MethodDispatch},     {"join", MethodDispatch},
    {"title", MethodDispatch},    {"capitalize", MethodDispatch}, {"index", MethodDispatch},
    {"count", MethodDispatch},    {"find", MethodDispatch},       {"isdigit", MethodDispatch},
    {"cycle", MethodDispatch},
};

template <size_t N>
int Find(const Builtin (&table)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i)
    if (name == table[i].name) return static_cast<int>(i);
  return -1;
}

ValResult MethodDispatch(Evaluator& ev, const Node& node, Val* recv) {
  const std::string& m = node.name;
  const Json& r = recv->get();
  if (r.is_object()) {
    if (m == "get") return FnGet(ev, node, recv);
    if (m == "keys") return FnKeys(ev, node, recv);
    if (m == "cycle" && r.get_object().contains("index0")) {  // loop.cycle('odd', 'even')
      Call c(ev, node, recv);
      if (c.size() < 2) return InvalidArgument("loop.cycle() needs at least one value");
      int64_t i = NumI(r.get_object().at("index0"));
      return c.Arg(1 + static_cast<size_t>(i % static_cast<int64_t>(c.size() - 1)));
    }
    if (m == "values") return FnValues(ev, node, recv);
    if (m == "items") return FnItems(ev, node, recv);
  }
  if (r.is_string()) {
    if (m == "upper") return CaseMap<std::toupper>(ev, node, recv);
    if (m == "lower") return CaseMap<std::tolower>(ev, node, recv);
    if (m == "strip") return FnTrim(ev, node, recv);
    if (m == "lstrip") return FnTrimLeft(ev, node, recv);
    if (m == "rstrip") return FnTrimRight(ev, node, recv);
    if (m == "split") return FnSplit(ev, node, recv);
    if (m == "replace") return FnReplace(ev, node, recv);
    if (m == "startswith") return FnStartsWith(ev, node, recv);
    if (m == "endswith") return FnEndsWith(ev, node, recv);
    if (m == "format") return FnFormat(ev, node, recv);
    if (m == "title") return FnTitle(ev, node, recv);
    if (m == "capitalize") return FnCapitalize(ev, node, recv);
    if (m == "find" || m == "index") {
      BORA_ASSIGN_OR_RETURN(Val p, FnIndexOf(ev, node, recv));
      if (m == "index" && p->is_int64() && p->as_int64() < 0)
        return InvalidArgument("substring not found");
      return p;
    }
    if (m == "count") {
      Call c(ev, node, recv);
      BORA_ASSIGN_OR_RETURN(std::string s, StrArg(c, 0));
      BORA_ASSIGN_OR_RETURN(std::string sub, StrArg(c, 1));
      if (sub.empty()) return Val::Own(Json(static_cast<int64_t>(s.size() + 1)));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Val::Own(Json(n));
    }
    if (m == "isdigit") {
      std::string_view s = SV(r);
      bool d = !s.empty() && std::all_of(s.begin(), s.end(), [](char ch) {
        return std::isdigit(static_cast<unsigned char>(ch)) != 0;
      });
      return Val::Own(Json(d));
    }
    if (m == "join") {  // ', '.join(list)
      Call c(ev, node, recv);
      BORA_ASSIGN_OR_RETURN(Val sep, c.Arg(0));
      BORA_ASSIGN_OR_RETURN(Val list, ListArg(c, 1, true));
      std::string out;
      bool first = true;
      for (const Json& e : list->get_array()) {
        if (!e.is_string())
          return InvalidArgument("sequence item: expected str instance, " + TypeName(e) + " found");
        if (!first) out += SV(sep.get());
        first = false;
        out += SV(e);
        BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
      }
      return Val::Own(Str(out));
    }
  }
  if (r.is_array()) {
    if (m == "index") return FnIndexOf(ev, node, recv);
    if (m == "count") {
      Call c(ev, node, recv);
      BORA_ASSIGN_OR_RETURN(Val list, c.Arg(0));
      BORA_ASSIGN_OR_RETURN(Val x, c.Arg(1));
      int64_t n = 0;
      for (const Json& e : list->get_array()) n += JsonEquals(e, x.get()) ? 1 : 0;
      return Val::Own(Json(n));
    }
  }
  return InvalidArgument("'" + TypeName(r) + " object' has no method '" + m + "'");
}

ValResult ApplyFilterByName(Evaluator& ev, std::string_view name, const Json& value,
                            const std::vector<Json>& args) {
  int i = Find(kJinjaFilters, name);
  if (i < 0) return InvalidArgument("no filter named '" + std::string(name) + "'");
  // Build a synthetic call node: value | name(args...).
  Node call;
  call.op = Op::kFilter;
  call.name = std::string(name);
  call.kids.push_back(nullptr);
  for (const Json& a : args) {
    auto lit = std::make_unique<Node>();
    lit->op = Op::kLiteral;
    lit->value = a;
    call.kids.push_back(std::move(lit));
  }
  Val recv = Val::Ref(value);
  ValResult r = kJinjaFilters[i].fn(ev, call, &recv);
  if (r.ok()) r->Materialize();
  return r;
}

}  // namespace

int FindYaqlBuiltin(std::string_view name) { return Find(kYaql, name); }
int FindJinjaGlobal(std::string_view name) { return Find(kJinjaGlobals, name); }
int FindJinjaFilter(std::string_view name) { return Find(kJinjaFilters, name); }
int FindJinjaTest(std::string_view name) { return Find(kJinjaTests, name); }
int FindJinjaMethod(std::string_view name) { return Find(kJinjaMethods, name); }
const Builtin& YaqlBuiltin(int i) { return kYaql[i]; }
size_t YaqlBuiltinCount() { return sizeof(kYaql) / sizeof(kYaql[0]); }
const Builtin& JinjaGlobal(int i) { return kJinjaGlobals[i]; }
const Builtin& JinjaFilter(int i) { return kJinjaFilters[i]; }
const Builtin& JinjaTest(int i) { return kJinjaTests[i]; }
const Builtin& JinjaMethod(int i) { return kJinjaMethods[i]; }

std::vector<std::string> JinjaBuiltinNames(std::string_view kind) {
  std::vector<std::string> out;
  auto add = [&](const auto& table) {
    for (const Builtin& b : table) out.emplace_back(b.name);
  };
  if (kind == "filter") add(kJinjaFilters);
  if (kind == "test") add(kJinjaTests);
  if (kind == "global") add(kJinjaGlobals);
  return out;
}

bool IsHostFunction(std::string_view name) {
  return name == "task" || name == "tasks" || name == "execution" || name == "executions" ||
         name == "env" || name == "global";
}

}  // namespace bora::expr::internal
