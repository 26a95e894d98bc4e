// Conversions and Python-style formatting: YAQL's str/int/float/bool and format(), Jinja's
// string/format filters (Python's str.format and printf-style `%`).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtins.h"

namespace bora::expr::internal {
namespace {

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

}  // namespace

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

ValResult FnString(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_string()) return v;
  return Val::Own(Str(PythonStr(v.get())));
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

}  // namespace bora::expr::internal
