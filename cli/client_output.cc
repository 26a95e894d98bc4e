#include "cli/client_output.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <ostream>
#include <sstream>

namespace bora::cli {
namespace {

std::string Cell(const JsonObject& o, const Column& c, bool list) {
  auto it = o.find(c.key);
  if (it == o.end() || it->value().is_null()) return "<none>";
  const Json& v = it->value();
  std::string s;
  if (v.is_string()) {
    s = std::string(v.as_string());
  } else if (v.is_array()) {
    for (const Json& item : v.as_array()) s += (s.empty() ? "" : ", ") + PythonStr(item);
  } else {
    s = PythonStr(v);
  }
  if (list && c.cut && s.size() > 25) s = s.substr(0, 25) + "...";
  return s;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  if (out.empty()) out.emplace_back();
  return out;
}

// True when a YAML reader would take `s`, written plain, for a null, a bool or a number.
bool ReadsAsOtherType(const std::string& s) {
  if (s.empty()) return true;
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  static const char* kWords[] = {"~",   "null", "true", "false", "yes",   "no",    "on",
                                 "off", "y",    "n",    ".inf",  "-.inf", "+.inf", ".nan"};
  for (const char* w : kWords)
    if (lower == w) return true;
  const unsigned char first = static_cast<unsigned char>(s[0]);
  // Numbers in any notation (1, -2.5, 1e3, 0x1f, 0o7, .5) start like this.
  return std::isdigit(first) || ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s.size() > 1 &&
                                 (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.'));
}

void EmitYaml(YAML::Emitter& e, const Json& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      e << YAML::Null;
      break;
    case boost::json::kind::bool_:
      e << v.get_bool();
      break;
    case boost::json::kind::int64:
      e << v.get_int64();
      break;
    case boost::json::kind::uint64:
      e << v.get_uint64();
      break;
    case boost::json::kind::double_:
      e << PythonFloatRepr(v.get_double());  // the shortest text that reads back the same
      break;
    case boost::json::kind::string: {
      std::string s(v.get_string());
      if (ReadsAsOtherType(s)) {
        e << YAML::DoubleQuoted << s;
      } else {
        e << s;  // yaml-cpp quotes what cannot be plain (": ", leading "-", ...)
      }
      break;
    }
    case boost::json::kind::array:
      if (v.get_array().empty()) e << YAML::Flow;  // "[]" on the key's line
      e << YAML::BeginSeq;
      for (const Json& item : v.get_array()) EmitYaml(e, item);
      e << YAML::EndSeq;
      break;
    case boost::json::kind::object:
      if (v.get_object().empty()) e << YAML::Flow;  // "{}" on the key's line
      e << YAML::BeginMap;
      for (const auto& kv : v.get_object()) {
        e << YAML::Key << std::string(kv.key()) << YAML::Value;
        EmitYaml(e, kv.value());
      }
      e << YAML::EndMap;
      break;
  }
}

Json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() != "?") return Json(text);  // quoted, or tagged: a string
  if (ReadsAsOtherType(text)) {
    std::string lower;
    for (char c : text)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (text.empty() || lower == "~" || lower == "null") return nullptr;
    if (lower == "true" || lower == "yes" || lower == "on" || lower == "y") return true;
    if (lower == "false" || lower == "no" || lower == "off" || lower == "n") return false;
    auto number = ParseJson(text);  // JSON's number syntax covers what the emitter writes
    if (number.ok() && number->is_number()) return *number;
  }
  return Json(text);
}

Json NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      JsonArray a;
      for (const YAML::Node& item : node) a.push_back(NodeToJson(item));
      return a;
    }
    case YAML::NodeType::Map: {
      JsonObject o;
      for (const auto& kv : node) o[kv.first.as<std::string>()] = NodeToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    default:
      return nullptr;
  }
}

}  // namespace

Result<Json> YamlToJson(const std::string& text) {
  try {
    return NodeToJson(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    return InvalidArgument("invalid YAML at line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

void PrintTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) width[i] = headers[i].size();
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size() && i < width.size(); ++i)
      for (const std::string& line : Lines(row[i])) width[i] = std::max(width[i], line.size());
  auto rule = [&] {
    out << '+';
    for (size_t w : width) out << std::string(w + 2, '-') << '+';
    out << '\n';
  };
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> lines;
    size_t height = 1;
    for (const std::string& c : cells) {
      lines.push_back(Lines(c));
      height = std::max(height, lines.back().size());
    }
    for (size_t l = 0; l < height; ++l) {
      out << '|';
      for (size_t i = 0; i < width.size(); ++i) {
        std::string text = i < lines.size() && l < lines[i].size() ? lines[i][l] : "";
        out << ' ' << text << std::string(width[i] - text.size(), ' ') << " |";
      }
      out << '\n';
    }
  };
  rule();
  print_row(headers);
  rule();
  for (const auto& row : rows) print_row(row);
  rule();
}

void PrintList(std::ostream& out, const std::vector<Column>& columns, const JsonArray& items) {
  std::vector<std::string> headers;
  for (const Column& c : columns) headers.push_back(c.header);
  std::vector<std::vector<std::string>> rows;
  for (const Json& item : items) {
    if (!item.is_object()) continue;
    std::vector<std::string> row;
    for (const Column& c : columns) row.push_back(Cell(item.as_object(), c, true));
    rows.push_back(std::move(row));
  }
  PrintTable(out, headers, rows);
}

const JsonArray& ArrayAt(const Json& body, const std::string& key) {
  static const JsonArray kEmpty;
  const Json* v = body.is_object() ? body.as_object().if_contains(key) : nullptr;
  return v != nullptr && v->is_array() ? v->as_array() : kEmpty;
}

void PrintObject(std::ostream& out, const std::vector<Column>& columns, const JsonObject& o) {
  std::vector<std::vector<std::string>> rows;
  for (const Column& c : columns) rows.push_back({c.header, Cell(o, c, false)});
  PrintTable(out, {"Field", "Value"}, rows);
}

void PrintAnyObject(std::ostream& out, const JsonObject& o) {
  std::vector<Column> columns;
  for (const auto& kv : o) columns.push_back({std::string(kv.key()), std::string(kv.key())});
  PrintObject(out, columns, o);
}

std::string JsonToYaml(const Json& v) {
  YAML::Emitter e;
  EmitYaml(e, v);
  std::string text = e.c_str();
  if (text.empty() || text.back() != '\n') text += '\n';
  return text;
}

}  // namespace bora::cli
