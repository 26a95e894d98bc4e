#include "orchestrator/language/yaml_loader.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <new>
#include <sstream>
#include <unordered_map>

namespace bora::lang {
namespace {

// Thrown from inside the yaml-cpp event callbacks to abort loading; caught in LoadYaml.
struct LoadAbort {
  Status status;
  int line = 0;
  int column = 0;
};

constexpr std::string_view kYamlTagPrefix = "tag:yaml.org,2002:";

std::string KeyText(const Json& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (v.is_null()) return "null";
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) return PythonFloatRepr(v.get_double());
  return DumpJson(v);
}

bool ParseBigInt(const std::string& digits, int base, int sign, Json* out) {
  if (digits.empty()) return false;
  // Accumulate in unsigned 64 bits; fall back to double on overflow (Python ints are unbounded).
  uint64_t acc = 0;
  double dacc = 0;
  bool overflow = false;
  for (char c : digits) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else
      return false;
    if (d >= base) return false;
    dacc = dacc * base + d;
    if (!overflow) {
      if (acc > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) / base) {
        overflow = true;
      } else {
        acc = acc * base + d;
      }
    }
  }
  if (overflow) {
    *out = sign * dacc;
  } else if (sign > 0) {
    if (acc <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(acc);
    } else {
      *out = acc;
    }
  } else {
    if (acc <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
      *out = static_cast<int64_t>(0 - acc);
    } else {
      *out = -dacc;
    }
  }
  return true;
}

bool ConstructInt(std::string value, Json* out) {
  std::string v;
  for (char c : value) {
    if (c != '_') v.push_back(c);
  }
  int sign = 1;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    if (v[0] == '-') sign = -1;
    v.erase(0, 1);
  }
  if (v.empty()) return false;
  if (v == "0") {
    *out = static_cast<int64_t>(0);
    return true;
  }
  if (v.rfind("0b", 0) == 0) return ParseBigInt(v.substr(2), 2, sign, out);
  if (v.rfind("0x", 0) == 0) return ParseBigInt(v.substr(2), 16, sign, out);
  if (v[0] == '0') return ParseBigInt(v, 8, sign, out);
  if (v.find(':') != std::string::npos) {
    int64_t total = 0;
    std::stringstream ss(v);
    std::string part;
    while (std::getline(ss, part, ':')) {
      if (part.empty() || part.size() > 12 || total > (int64_t{1} << 50)) return false;
      total = total * 60 + std::stoll(part);
    }
    *out = sign * total;
    return true;
  }
  return ParseBigInt(v, 10, sign, out);
}

bool ConstructFloat(const std::string& value, Json* out) {
  std::string v;
  for (char c : value) {
    if (c != '_') v.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  double sign = 1;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    if (v[0] == '-') sign = -1;
    v.erase(0, 1);
  }
  if (v == ".inf") {
    *out = sign * std::numeric_limits<double>::infinity();
    return true;
  }
  if (v == ".nan") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  try {
    if (v.find(':') != std::string::npos) {
      double total = 0;
      std::stringstream ss(v);
      std::string part;
      while (std::getline(ss, part, ':')) total = total * 60 + std::stod(part.empty() ? "0" : part);
      *out = sign * total;
      return true;
    }
    // strtod, not stod: an out-of-range value must come back as infinity (refused by the caller,
    // not kept as a string); an underflow is 0 or a denormal, as Python gives.
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || end != v.c_str() + v.size()) return false;
    *out = sign * d;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool IsBoolWord(const std::string& s, bool* value) {
  static const char* const kTrue[] = {"yes",  "Yes", "YES", "true", "True",
                                      "TRUE", "on",  "On",  "ON"};
  static const char* const kFalse[] = {"no",    "No",  "NO",  "false", "False",
                                       "FALSE", "off", "Off", "OFF"};
  for (const char* t : kTrue) {
    if (s == t) {
      *value = true;
      return true;
    }
  }
  for (const char* f : kFalse) {
    if (s == f) {
      *value = false;
      return true;
    }
  }
  return false;
}

bool IsNullWord(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

// Hand-written equivalents of PyYAML's YAML 1.1 int and float resolver regexes (std::regex is
// slow):
//   int:   [-+]?0b[0-1_]+ | [-+]?0[0-7_]+ | [-+]?(0|[1-9][0-9_]*) | [-+]?0x[0-9a-fA-F_]+
//          | [-+]?[1-9][0-9_]*(:[0-5]?[0-9])+
//   float: [-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)? | \.[0-9][0-9_]*([eE][-+][0-9]+)?
//          | [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]* | [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN)
class Matcher {
 public:
  explicit Matcher(std::string_view s) : s_(s) {}
  bool AtEnd() const { return i_ == s_.size(); }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool EatSign() { return Eat('-') || Eat('+'); }
  template <typename Pred>
  size_t EatWhile(Pred p) {
    size_t start = i_;
    while (i_ < s_.size() && p(s_[i_])) ++i_;
    return i_ - start;
  }
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  std::string_view Rest() const { return s_.substr(i_); }
  size_t pos() const { return i_; }
  void Reset(size_t pos) { i_ = pos; }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsDigitU(char c) { return IsDigit(c) || c == '_'; }

// (:[0-5]?[0-9])+, at least one group.
bool EatSexagesimal(Matcher& m) {
  size_t groups = 0;
  while (m.Peek() == ':') {
    size_t save = m.pos();
    m.Eat(':');
    std::string_view rest = m.Rest();
    size_t digits = m.EatWhile(IsDigit);
    if (digits == 0 || digits > 2 || (digits == 2 && rest[0] > '5')) {
      m.Reset(save);
      break;
    }
    ++groups;
  }
  return groups > 0;
}

bool MatchesYamlInt(std::string_view s) {
  Matcher m(s);
  m.EatSign();
  size_t after_sign = m.pos();
  if (m.Eat('0')) {
    if (m.AtEnd()) return true;
    size_t p = m.pos();
    if (m.Eat('b'))
      return m.EatWhile([](char c) { return c == '0' || c == '1' || c == '_'; }) > 0 && m.AtEnd();
    m.Reset(p);
    if (m.Eat('x')) {
      return m.EatWhile([](char c) {
        return std::isxdigit(static_cast<unsigned char>(c)) || c == '_';
      }) > 0 &&
             m.AtEnd();
    }
    m.Reset(p);
    return m.EatWhile([](char c) { return (c >= '0' && c <= '7') || c == '_'; }) > 0 && m.AtEnd();
  }
  m.Reset(after_sign);
  char c = m.Peek();
  if (c < '1' || c > '9') return false;
  m.EatWhile(IsDigitU);
  if (m.AtEnd()) return true;
  return EatSexagesimal(m) && m.AtEnd();
}

bool EatExponent(Matcher& m) {
  size_t save = m.pos();
  if (m.Eat('e') || m.Eat('E')) {
    if (m.EatSign() && m.EatWhile(IsDigit) > 0) return true;
    m.Reset(save);
    return false;
  }
  return true;  // optional
}

bool MatchesYamlFloat(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  Matcher m(s);
  bool signed_ = m.EatSign();
  size_t after_sign = m.pos();
  if (m.Eat('.')) {
    std::string_view rest = m.Rest();
    if (rest == "inf" || rest == "Inf" || rest == "INF") return true;
    if (signed_) return false;
    if (!IsDigit(m.Peek())) return false;
    m.EatWhile(IsDigitU);
    size_t p = m.pos();
    if (m.AtEnd()) return true;
    m.Reset(p);
    return EatExponent(m) && m.AtEnd();
  }
  m.Reset(after_sign);
  if (!IsDigit(m.Peek())) return false;
  m.EatWhile(IsDigitU);
  if (m.Eat('.')) {
    m.EatWhile(IsDigitU);
    if (m.AtEnd()) return true;
    return EatExponent(m) && m.AtEnd();
  }
  if (!EatSexagesimal(m)) return false;
  if (!m.Eat('.')) return false;
  m.EatWhile(IsDigitU);
  return m.AtEnd();
}

class TreeBuilder final : public YAML::EventHandler {
  struct Frame {
    std::shared_ptr<YamlNode> node;
    YAML::anchor_t anchor = 0;
    bool have_key = false;
    YamlNode::Entry pending;
    bool pending_is_merge = false;
    std::vector<std::pair<YamlNodePtr, YAML::Mark>> merges;
    std::unordered_map<std::string, size_t> key_index;  // key -> position in node->entries
  };

 public:
  TreeBuilder(const YamlLimits& limits, std::string_view text) : limits_(limits), text_(text) {}

  YamlNodePtr TakeRoot() { return std::move(root_); }
  bool saw_document() const { return documents_ > 0; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ > 1) {
      Abort(InvalidArgument("expected a single YAML document, found a second one"), mark);
    }
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto node = NewNode(YamlNode::Kind::kScalar, mark);
    node->scalar = nullptr;
    Finish(node, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (++aliases_ > limits_.max_aliases) {
      Abort(ResourceExhausted("too many YAML aliases (more than " +
                              std::to_string(limits_.max_aliases) + ", ParseOptions::max_aliases)"),
            mark);
    }
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      Abort(InvalidArgument(
                "YAML alias refers to an anchor whose node is not complete (recursive alias)"),
            mark);
    }
    CountNodes(it->second->expanded_size, mark);
    Attach(it->second, mark, /*is_alias=*/true);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    auto node = NewNode(YamlNode::Kind::kScalar, mark);
    if (tag == "?") {
      node->scalar = ResolvePlainScalar(value);
      node->plain = true;
      CheckFinite(node->scalar, value, mark);
    } else if (tag == "!" || tag.empty()) {
      CheckQuotedScalarClosed(mark);
      node->scalar = boost::json::string(value);
      node->plain = false;
    } else if (tag.rfind(kYamlTagPrefix, 0) == 0) {
      std::string_view kind = std::string_view(tag).substr(kYamlTagPrefix.size());
      if (kind != "str" && kind != "int" && kind != "float" && kind != "bool" && kind != "null") {
        Abort(InvalidArgument(
                  "unsupported YAML tag '!!" + std::string(kind) +
                  "' (only !!str, !!int, !!float, !!bool and !!null are accepted on scalars)"),
              mark);
      }
      node->plain = false;
      Json typed = ResolvePlainScalar(value);
      if (kind == "str") {
        node->scalar = boost::json::string(value);
      } else if (kind == "int" && (typed.is_int64() || typed.is_uint64() ||
                                   (typed.is_double() && MatchesYamlInt(value)))) {
        node->scalar = typed;
        CheckFinite(node->scalar, value, mark);
      } else if (kind == "float" && (typed.is_double() || typed.is_int64() || typed.is_uint64())) {
        node->scalar = typed.is_double() ? typed.get_double() : typed.to_number<double>();
        CheckFinite(node->scalar, value, mark);
      } else if (kind == "bool" && typed.is_bool()) {
        node->scalar = typed;
      } else if (kind == "null" && typed.is_null()) {
        node->scalar = nullptr;
      } else {
        Abort(InvalidArgument("cannot construct YAML tag '!!" + std::string(kind) + "' from '" +
                              value.substr(0, 40) + "'"),
              mark);
      }
    } else {
      Abort(InvalidArgument("unsupported YAML tag '" + tag +
                            "' (safe_load accepts only standard tags)"),
            mark);
    }
    Finish(node, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    CheckContainerTag(tag, "seq", mark);
    auto node = NewNode(YamlNode::Kind::kSequence, mark);
    Push(node, anchor, mark);
  }
  void OnSequenceEnd() override { Pop(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    CheckContainerTag(tag, "map", mark);
    auto node = NewNode(YamlNode::Kind::kMapping, mark);
    Push(node, anchor, mark);
  }
  void OnMapEnd() override { Pop(); }

 private:
  // yaml-cpp accepts a quoted scalar left open at the end of the stream; PyYAML does not.
  void CheckQuotedScalarClosed(const YAML::Mark& mark) {
    if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= text_.size()) return;
    char quote = text_[static_cast<size_t>(mark.pos)];
    if (quote != '"' && quote != '\'') return;
    for (size_t i = static_cast<size_t>(mark.pos) + 1; i < text_.size(); ++i) {
      char c = text_[i];
      if (quote == '"' && c == '\\') {
        ++i;
      } else if (c == quote) {
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;  // '' is an escaped single quote
        } else {
          return;
        }
      }
    }
    Abort(
        InvalidArgument("invalid YAML: quoted scalar is not closed before the end of the document"),
        mark);
  }

  [[noreturn]] void Abort(Status status, const YAML::Mark& mark) {
    throw LoadAbort{std::move(status), mark.line + 1, mark.column + 1};
  }

  // JSON numbers are finite: .inf, .nan and literals beyond a double (1e309) are refused.
  void CheckFinite(const Json& scalar, const std::string& text, const YAML::Mark& mark) {
    if (!scalar.is_double() || std::isfinite(scalar.get_double())) return;
    Abort(InvalidArgument("number " + text.substr(0, 40) +
                          " is out of range: JSON numbers must be finite (at most "
                          "1.7976931348623157e+308; no .inf or .nan)"),
          mark);
  }

  void CheckContainerTag(const std::string& tag, std::string_view expected,
                         const YAML::Mark& mark) {
    if (tag.empty() || tag == "?" || tag == "!") return;
    if (tag.rfind(kYamlTagPrefix, 0) == 0 && tag.substr(kYamlTagPrefix.size()) == expected) return;
    Abort(InvalidArgument("unsupported YAML tag '" + tag +
                          "' (safe_load accepts only standard tags)"),
          mark);
  }

  void CountNodes(size_t n, const YAML::Mark& mark) {
    nodes_ += n;
    if (nodes_ > limits_.max_nodes) {
      Abort(ResourceExhausted("YAML document has too many nodes after alias expansion (more than " +
                              std::to_string(limits_.max_nodes) + ", ParseOptions::max_nodes)"),
            mark);
    }
  }

  std::shared_ptr<YamlNode> NewNode(YamlNode::Kind kind, const YAML::Mark& mark) {
    CountNodes(1, mark);
    auto node = std::make_shared<YamlNode>();
    node->kind = kind;
    node->line = mark.line + 1;
    node->column = mark.column + 1;
    return node;
  }

  void Push(std::shared_ptr<YamlNode> node, YAML::anchor_t anchor, const YAML::Mark& mark) {
    if (static_cast<int>(stack_.size()) + 1 > limits_.max_depth) {
      Abort(ResourceExhausted("YAML nesting is deeper than " + std::to_string(limits_.max_depth) +
                              " levels (ParseOptions::max_depth)"),
            mark);
    }
    Frame frame;
    frame.node = std::move(node);
    frame.anchor = anchor;
    stack_.push_back(std::move(frame));
  }

  void Pop() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    auto& node = frame.node;
    if (node->kind == YamlNode::Kind::kMapping && !frame.merges.empty()) ApplyMerges(frame);
    size_t size = 1;
    for (const auto& item : node->items) size += item->expanded_size;
    for (const auto& entry : node->entries) size += 1 + entry.value->expanded_size;
    node->expanded_size = size;
    YAML::Mark mark;
    mark.line = node->line - 1;
    mark.column = node->column - 1;
    if (frame.anchor != 0) anchors_[frame.anchor] = node;
    Attach(node, mark, false);
  }

  // PyYAML merge keys: `<<: *base` or `<<: [*a, *b]`; explicit keys win, then earlier merged maps.
  void ApplyMerges(Frame& frame) {
    std::vector<YamlNode::Entry> merged;
    std::unordered_map<std::string, size_t> index;
    auto add_from = [&](const YamlNode& src, const YAML::Mark& mark) {
      if (src.kind != YamlNode::Kind::kMapping) {
        Abort(InvalidArgument("a YAML merge key '<<' needs a mapping or a list of mappings"), mark);
      }
      for (const auto& e : src.entries) {
        if (index.emplace(e.key, merged.size()).second) {
          CountNodes(1 + e.value->expanded_size, mark);
          merged.push_back(e);
        }
      }
    };
    for (const auto& [value, mark] : frame.merges) {
      if (value->kind == YamlNode::Kind::kSequence) {
        for (const auto& item : value->items) add_from(*item, mark);
      } else {
        add_from(*value, mark);
      }
    }
    for (auto& own : frame.node->entries) {
      auto [it, inserted] = index.emplace(own.key, merged.size());
      if (inserted) {
        merged.push_back(own);
      } else {
        merged[it->second] = own;
      }
    }
    frame.node->entries = std::move(merged);
  }

  void Finish(const std::shared_ptr<YamlNode>& node, YAML::anchor_t anchor) {
    if (anchor != 0) anchors_[anchor] = node;
    YAML::Mark mark;
    mark.line = node->line - 1;
    mark.column = node->column - 1;
    Attach(node, mark, false);
  }

  void Attach(const YamlNodePtr& node, const YAML::Mark& mark, bool is_alias) {
    if (stack_.empty()) {
      root_ = node;
      return;
    }
    Frame& top = stack_.back();
    if (top.node->kind == YamlNode::Kind::kSequence) {
      top.node->items.push_back(node);
      return;
    }
    if (!top.have_key) {
      if (node->kind != YamlNode::Kind::kScalar) {
        Abort(InvalidArgument("a mapping key must be a scalar, not a " +
                              std::string(YamlTypeName(*node))),
              mark);
      }
      top.have_key = true;
      top.pending = YamlNode::Entry{};
      top.pending.key = KeyText(node->scalar);
      top.pending.key_line = node->line;
      top.pending.key_column = node->column;
      // A plain `<<` key is a YAML 1.1 merge key.
      top.pending_is_merge =
          !is_alias && node->plain && node->scalar.is_string() && node->scalar.get_string() == "<<";
      return;
    }
    top.have_key = false;
    if (top.pending_is_merge) {
      top.merges.emplace_back(node, mark);
      return;
    }
    top.pending.value = node;
    auto [it, inserted] = top.key_index.emplace(top.pending.key, top.node->entries.size());
    if (!inserted) {
      // PyYAML (and so Mistral) silently keeps the last value: a task or a workflow defined twice would
      // lose the first definition without a word. Refused, at the second key.
      const YamlNode::Entry& first = top.node->entries[it->second];
      throw LoadAbort{InvalidArgument("duplicate key '" + top.pending.key + "' in a mapping (first at " +
                                      std::to_string(first.key_line) + ":" +
                                      std::to_string(first.key_column) + ")"),
                      top.pending.key_line, top.pending.key_column};
    }
    top.node->entries.push_back(std::move(top.pending));
  }

  const YamlLimits& limits_;
  std::string_view text_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, YamlNodePtr> anchors_;
  YamlNodePtr root_;
  size_t nodes_ = 0;
  size_t aliases_ = 0;
  int documents_ = 0;
};

}  // namespace

const YamlNode::Entry* YamlNode::Find(std::string_view key) const {
  if (kind != Kind::kMapping) return nullptr;
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

Json YamlToJson(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kScalar:
      return node.scalar;
    case YamlNode::Kind::kSequence: {
      JsonArray arr;
      arr.reserve(node.items.size());
      for (const auto& item : node.items) arr.push_back(YamlToJson(*item));
      return arr;
    }
    case YamlNode::Kind::kMapping: {
      JsonObject obj;
      obj.reserve(node.entries.size());
      for (const auto& e : node.entries) obj[e.key] = YamlToJson(*e.value);
      return obj;
    }
  }
  return nullptr;
}

std::string_view YamlTypeName(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::kSequence:
      return "list";
    case YamlNode::Kind::kMapping:
      return "mapping";
    case YamlNode::Kind::kScalar:
      break;
  }
  const Json& v = node.scalar;
  if (v.is_null()) return "null";
  if (v.is_bool()) return "bool";
  if (v.is_int64() || v.is_uint64()) return "int";
  if (v.is_double()) return "float";
  return "string";
}

Json ResolvePlainScalar(const std::string& text) {
  if (IsNullWord(text)) return nullptr;
  char c = text[0];
  bool b;
  if (std::strchr("yYnNtTfFoO", c) != nullptr && IsBoolWord(text, &b)) return b;
  if (std::strchr("-+0123456789.", c) != nullptr && text.size() < 400) {
    Json out;
    if (MatchesYamlFloat(text) && ConstructFloat(text, &out)) return out;
    if (MatchesYamlInt(text) && ConstructInt(text, &out)) return out;
  }
  return boost::json::string(text);
}

namespace {

// Length of the well-formed UTF-8 sequence at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xc2 && c <= 0xdf   ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  if (n == 0 || i + n > text.size()) return 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the second byte's range
  if (c == 0xe0) lo = 0xa0;
  if (c == 0xed) hi = 0x9f;
  if (c == 0xf0) lo = 0x90;
  if (c == 0xf4) hi = 0x8f;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  return n;
}

// kInvalidArgument at the first byte that is not valid UTF-8 (line and column in characters).
Status CheckUtf8(std::string_view text, int* line, int* column) {
  int l = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      *line = l;
      *column = col;
      static constexpr char kHex[] = "0123456789abcdef";
      unsigned char c = static_cast<unsigned char>(text[i]);
      return InvalidArgument(std::string("YAML text is not valid UTF-8 (byte 0x") + kHex[c >> 4] +
                             kHex[c & 15] + ")");
    }
    if (text[i] == '\n') {
      ++l;
      col = 1;
    } else {
      ++col;
    }
    i += n;
  }
  return Status::Ok();
}

}  // namespace

Result<YamlNodePtr> LoadYaml(std::string_view text, const YamlLimits& limits, int* error_line,
                             int* error_column) {
  auto set_location = [&](int line, int column) {
    if (error_line) *error_line = line;
    if (error_column) *error_column = column;
  };
  set_location(0, 0);
  if (text.size() > limits.max_document_bytes) {
    return ResourceExhausted(
        "YAML document is " + std::to_string(text.size()) + " bytes, more than the limit of " +
        std::to_string(limits.max_document_bytes) + " bytes (ParseOptions::max_document_bytes)");
  }
  // Names and strings end up in JSON replies and logs: refuse bytes that are not UTF-8 up front.
  int utf8_line = 0, utf8_column = 0;
  if (Status utf8 = CheckUtf8(text, &utf8_line, &utf8_column); !utf8.ok()) {
    set_location(utf8_line, utf8_column);
    return utf8;
  }
  try {
    std::istringstream stream{std::string(text)};
    YAML::Parser parser(stream);
    TreeBuilder builder(limits, text);
    parser.HandleNextDocument(builder);
    if (builder.saw_document()) {
      // Make sure nothing but comments follows; a second document aborts in OnDocumentStart.
      parser.HandleNextDocument(builder);
    }
    YamlNodePtr root = builder.TakeRoot();
    if (!root) {
      auto node = std::make_shared<YamlNode>();
      node->scalar = nullptr;
      node->line = 1;
      node->column = 1;
      root = node;
    }
    return root;
  } catch (const LoadAbort& abort) {
    set_location(abort.line, abort.column);
    return abort.status;
  } catch (const YAML::Exception& e) {
    set_location(e.mark.line + 1, e.mark.column + 1);
    if (dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr) {
      return ResourceExhausted("YAML nesting is too deep: " + e.msg);
    }
    return InvalidArgument("invalid YAML: " + e.msg);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while loading YAML");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("invalid YAML: ") + e.what());
  }
}

}  // namespace bora::lang
