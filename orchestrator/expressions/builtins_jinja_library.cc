// Jinja2 3.x builtin filters, tests and globals (jinja2/filters.py FILTERS, jinja2/tests.py TESTS,
// jinja2/defaults.py DEFAULT_NAMESPACE) on JSON values, as Mistral 15's environment runs them
// (SandboxedEnvironment, StrictUndefined, no autoescape). Each follows the Python source of Jinja2
// 3.1; testdata/jinja_library.txt holds a case per name, printed by Jinja2 itself.
#include "orchestrator/expressions/builtins_jinja_library.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"

namespace bora::expr::internal {
namespace {

// ------------------------------------------------------------------------------------------------
// Helpers.

std::u32string Decode(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len && i + k < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out += static_cast<char32_t>(cp);
    i += len;
  }
  return out;
}

std::string Encode(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char32_t c : s) AppendUtf8(out, static_cast<uint32_t>(c));
  return out;
}

// soft_str(): strings as they are, anything else Python's str().
std::string SoftStr(const Json& v) { return v.is_string() ? std::string(SV(v)) : PythonStr(v); }

// Python's str.split() without a separator (ASCII whitespace).
std::vector<std::string> PySplitWhitespace(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t j = i;
    while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsSpace32(char32_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
// Python's \w on ASCII; every non-ASCII code point counts as a letter (approximation).
bool IsWord32(char32_t c) {
  return c == '_' || c >= 0x80 || (c < 0x80 && std::isalnum(static_cast<int>(c)));
}
bool IsLetter32(char32_t c) { return IsWord32(c) && !(c >= '0' && c <= '9'); }

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Jinja's ignore_case postprocess: strings lower-cased.
Json IgnoreCase(const Json& v) { return v.is_string() ? Str(Lower(std::string(SV(v)))) : v; }

// environment.getitem(item, part) for one part of an attribute path: dict keys, list indexes for
// digit parts, and `grouper` / `list` of a groupby() group (a [grouper, list] pair here).
const Json* GetItem(const Json& v, std::string_view part) {
  if (v.is_object()) {
    auto it = v.get_object().find(part);
    return it == v.get_object().end() ? nullptr : &it->value();
  }
  if (v.is_array()) {
    const JsonArray& a = v.get_array();
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      size_t i = std::strtoul(std::string(part).c_str(), nullptr, 10);
      return i < a.size() ? &a[i] : nullptr;
    }
    if (a.size() == 2 && part == "grouper") return &a[0];
    if (a.size() == 2 && part == "list") return &a[1];
  }
  return nullptr;
}

// make_attrgetter(): a dotted path ("a.b", "0"); null when a part is missing (Undefined).
const Json* GetPath(const Json& v, std::string_view path) {
  const Json* cur = &v;
  while (cur) {
    size_t dot = path.find('.');
    cur = GetItem(*cur, path.substr(0, dot));
    if (dot == std::string_view::npos) break;
    path = path.substr(dot + 1);
  }
  return cur;
}

Status NoAttribute(const Json& v, std::string_view path) {
  std::string part(path.substr(0, path.find('.')));
  return InvalidArgument("'" + TypeName(v) + " object' has no attribute '" + part + "'");
}

// The optional attribute parameter as a path string (ints as their digits).
Result<std::optional<std::string>> AttributeParam(Call& c, size_t i) {
  BORA_ASSIGN_OR_RETURN(std::optional<Val> a, c.Opt(i, "attribute"));
  if (!a || (*a)->is_null()) return std::optional<std::string>();
  if ((*a)->is_string()) return std::optional<std::string>(std::string(SV(a->get())));
  if (IsIntJ(a->get())) return std::optional<std::string>(std::to_string(NumI(a->get())));
  return c.TypeErr(a->get(), "an attribute name");
}

Result<bool> BoolParam(Call& c, size_t i, std::string_view name, bool dflt) {
  BORA_ASSIGN_OR_RETURN(std::optional<Val> v, c.Opt(i, name));
  return v ? IsTruthy(v->get()) : dflt;
}

// Iterating a value in Python: lists, dict keys, string characters.
Result<Val> Iterable(Call& c, size_t i) { return ListArg(c, i, true); }

Status SortPairs(Evaluator& ev, std::vector<std::pair<Json, Json>>& items, bool reverse) {
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
    return reverse ? *o > 0 : *o < 0;
  });
  BORA_RETURN_IF_ERROR(err);
  return ev.Step(comparisons);
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

// Filters whose result is a Markup string in Jinja (already escaped: escaping it again is a no-op).
bool IsMarkupNode(const Node* n) {
  if (!n || n->op != Op::kFilter) return false;
  return n->name == "e" || n->name == "escape" || n->name == "forceescape" || n->name == "safe" ||
         n->name == "xmlattr" || n->name == "tojson";
}

// Python's repr with dict keys sorted (pprint's sort_dicts=True).
Json SortedKeys(const Json& v, int depth) {
  if (depth > 256) return v;
  if (v.is_array()) {
    JsonArray out;
    for (const Json& e : v.get_array()) out.push_back(SortedKeys(e, depth + 1));
    return Json(std::move(out));
  }
  if (!v.is_object()) return v;
  std::vector<std::string_view> keys;
  for (const auto& kv : v.get_object()) keys.push_back(kv.key());
  std::sort(keys.begin(), keys.end());
  JsonObject out;
  for (std::string_view k : keys) out[k] = SortedKeys(v.get_object().at(k), depth + 1);
  return Json(std::move(out));
}

// ------------------------------------------------------------------------------------------------
// pprint.pformat(value) (width 80, indent 1, sort_dicts, not compact).

class PrettyPrinter {
 public:
  std::string Format(const Json& v) {
    Fmt(v, 0, 0, 0);
    return out_;
  }

 private:
  static size_t Width(const std::string& s) { return Utf8Len(s); }

  void Fmt(const Json& v, size_t indent, size_t allowance, int level) {
    std::string rep = PythonRepr(v);
    size_t max_width = 80 > indent + allowance ? 80 - indent - allowance : 0;
    if (Width(rep) > max_width && level < 64) {
      if (v.is_object() && !v.get_object().empty()) return Dict(v, indent, allowance, level + 1);
      if (v.is_array() && !v.get_array().empty()) return List(v, indent, allowance, level + 1);
      if (v.is_string() && !v.get_string().empty()) return String(v, indent, allowance, level + 1);
    }
    out_ += rep;
  }

  void Dict(const Json& v, size_t indent, size_t allowance, int level) {
    out_ += '{';
    indent += 1;
    allowance += 1;
    const JsonObject& o = v.get_object();
    size_t i = 0;
    for (const auto& kv : o) {
      bool last = ++i == o.size();
      std::string key = PythonRepr(Str(kv.key()));
      out_ += key;
      out_ += ": ";
      Fmt(kv.value(), indent + Width(key) + 2, last ? allowance : 1, level);
      if (!last) out_ += ",\n" + std::string(indent, ' ');
    }
    out_ += '}';
  }

  void List(const Json& v, size_t indent, size_t allowance, int level) {
    out_ += '[';
    indent += 1;
    allowance += 1;
    const JsonArray& a = v.get_array();
    for (size_t i = 0; i < a.size(); ++i) {
      bool last = i + 1 == a.size();
      if (i > 0) out_ += ",\n" + std::string(indent, ' ');
      Fmt(a[i], indent, last ? allowance : 1, level);
    }
    out_ += ']';
  }

  void String(const Json& v, size_t indent, size_t allowance, int level) {
    std::string_view s = SV(v);
    // str.splitlines(keepends=True) on \n (other separators are rare in workflow data).
    std::vector<std::string_view> lines;
    for (size_t p = 0; p < s.size();) {
      size_t nl = s.find('\n', p);
      size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
      lines.push_back(s.substr(p, end - p));
      p = end;
    }
    if (level == 1) {
      indent += 1;
      allowance += 1;
    }
    size_t max_width = 80 > indent ? 80 - indent : 0;
    size_t max_width1 = max_width;
    std::vector<std::string> chunks;
    std::string rep;
    for (size_t i = 0; i < lines.size(); ++i) {
      rep = PythonRepr(Str(lines[i]));
      if (i + 1 == lines.size()) max_width1 -= std::min(max_width1, allowance);
      if (Width(rep) <= max_width1) {
        chunks.push_back(rep);
        continue;
      }
      // Alternating (non-space, space) parts: re.findall(r'\S*\s*', line).
      std::vector<std::string_view> parts;
      std::string_view line = lines[i];
      for (size_t p = 0; p < line.size();) {
        size_t q = p;
        while (q < line.size() && !std::isspace(static_cast<unsigned char>(line[q]))) ++q;
        while (q < line.size() && std::isspace(static_cast<unsigned char>(line[q]))) ++q;
        parts.push_back(line.substr(p, q - p));
        p = q;
      }
      size_t max_width2 = max_width;
      std::string current;
      for (size_t j = 0; j < parts.size(); ++j) {
        std::string candidate = current + std::string(parts[j]);
        if (j + 1 == parts.size() && i + 1 == lines.size())
          max_width2 -= std::min(max_width2, allowance);
        if (Width(PythonRepr(Str(candidate))) > max_width2) {
          if (!current.empty()) chunks.push_back(PythonRepr(Str(current)));
          current = std::string(parts[j]);
        } else {
          current = std::move(candidate);
        }
      }
      if (!current.empty()) chunks.push_back(PythonRepr(Str(current)));
    }
    if (chunks.size() == 1) {
      out_ += rep;
      return;
    }
    if (level == 1) out_ += '(';
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i > 0) out_ += "\n" + std::string(indent, ' ');
      out_ += chunks[i];
    }
    if (level == 1) out_ += ')';
  }

  std::string out_;
};

// ------------------------------------------------------------------------------------------------
// textwrap.wrap(width, expand_tabs=False, replace_whitespace=False, break_long_words,
// break_on_hyphens), as Jinja's wordwrap calls it for each line.

std::vector<std::u32string> SplitChunks(const std::u32string& s, bool on_hyphens) {
  std::vector<std::u32string> chunks;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    if (IsSpace32(s[i])) {
      while (j < s.size() && IsSpace32(s[j])) ++j;
      chunks.push_back(s.substr(i, j - i));
      i = j;
      continue;
    }
    auto is_wp = [](char32_t c) {  // textwrap's word punctuation [\w!"'&.,?]
      return IsWord32(c) || c == '!' || c == '"' || c == '\'' || c == '&' || c == '.' || c == ',' ||
             c == '?';
    };
    // Dashes [2+] before a word character after word punctuation: an em-dash chunk of its own.
    auto em_dash_at = [&](size_t k) -> size_t {
      if (!on_hyphens || k == 0 || !is_wp(s[k - 1])) return 0;
      size_t e = k;
      while (e < s.size() && s[e] == '-') ++e;
      return e - k >= 2 && e < s.size() && IsWord32(s[e]) ? e - k : 0;
    };
    if (size_t n = em_dash_at(i)) {
      chunks.push_back(s.substr(i, n));
      i += n;
      continue;
    }
    // A word; with break_on_hyphens it ends after a hyphen between letters (`well-known`:
    // `well-` `known`), as textwrap's wordsep_re does, and before an em-dash.
    while (j < s.size() && !IsSpace32(s[j])) {
      if (j > i && em_dash_at(j)) break;
      if (on_hyphens && s[j] == '-' && j + 1 < s.size()) {
        bool before =
            (j >= i + 2 && IsLetter32(s[j - 1]) && IsLetter32(s[j - 2])) ||
            (j >= i + 4 && IsLetter32(s[j - 1]) && s[j - 2] == '-' && IsLetter32(s[j - 3]));
        size_t k = j + 1;
        bool after = k < s.size() && IsLetter32(s[k]);
        if (!after && k + 1 < s.size() && s[k] == '-') after = IsLetter32(s[k + 1]);
        if (after && k + 1 < s.size())
          after = IsLetter32(s[k + 1]) ||
                  (s[k + 1] == '-' && k + 2 < s.size() && IsLetter32(s[k + 2])) || IsLetter32(s[k]);
        if (before && after) {
          ++j;
          break;
        }
      }
      ++j;
    }
    chunks.push_back(s.substr(i, j - i));
    i = j;
  }
  return chunks;
}

bool AllSpace(const std::u32string& s) { return std::all_of(s.begin(), s.end(), IsSpace32); }

std::vector<std::u32string> TextWrap(const std::u32string& text, size_t width, bool break_long,
                                     bool on_hyphens) {
  std::vector<std::u32string> chunks = SplitChunks(text, on_hyphens);
  std::reverse(chunks.begin(), chunks.end());
  std::vector<std::u32string> lines;
  while (!chunks.empty()) {
    std::vector<std::u32string> cur;
    size_t cur_len = 0;
    if (AllSpace(chunks.back()) && !lines.empty()) chunks.pop_back();
    while (!chunks.empty()) {
      size_t l = chunks.back().size();
      if (cur_len + l > width) break;
      cur.push_back(std::move(chunks.back()));
      chunks.pop_back();
      cur_len += l;
    }
    if (!chunks.empty() && chunks.back().size() > width) {
      size_t space_left = width < 1 ? 1 : width - cur_len;
      if (break_long) {
        std::u32string& chunk = chunks.back();
        size_t end = space_left;
        if (on_hyphens && chunk.size() > space_left) {
          size_t hyphen = chunk.rfind(U'-', space_left == 0 ? 0 : space_left - 1);
          if (space_left == 0) hyphen = std::u32string::npos;
          if (hyphen != std::u32string::npos && hyphen > 0 &&
              std::any_of(chunk.begin(), chunk.begin() + hyphen,
                          [](char32_t c) { return c != '-'; }))
            end = hyphen + 1;
        }
        cur.push_back(chunk.substr(0, end));
        chunk = chunk.substr(end);
      } else if (cur.empty()) {
        cur.push_back(std::move(chunks.back()));
        chunks.pop_back();
      }
    }
    if (!cur.empty() && AllSpace(cur.back())) cur.pop_back();
    if (!cur.empty()) {
      std::u32string line;
      for (auto& c : cur) line += c;
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

// ------------------------------------------------------------------------------------------------
// urllib.parse.quote_from_bytes(bytes, safe).

std::string UrlQuote(std::string_view s, bool for_qs) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    bool keep = std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '~' ||
                (ch == '/' && !for_qs);
    if (keep && ch < 0x80) {
      out += static_cast<char>(ch);
    } else if (ch == ' ' && for_qs) {
      out += '+';
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

// html.unescape for the entities workflow text uses: &amp; &lt; &gt; &quot; &apos; &nbsp; and
// numeric references. Other named entities stay as written.
std::string HtmlUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += s[i];
      continue;
    }
    std::string_view name = s.substr(i + 1, semi - i - 1);
    static const std::pair<const char*, uint32_t> kNamed[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"nbsp", 0xA0}};
    bool done = false;
    for (auto& [n, cp] : kNamed) {
      if (name == n) {
        AppendUtf8(out, cp);
        done = true;
      }
    }
    if (!done && name.size() >= 2 && name[0] == '#') {
      bool hex = name[1] == 'x' || name[1] == 'X';
      std::string digits(name.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long cp = digits.empty() ? 0 : std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (!digits.empty() && end && *end == '\0' && cp > 0 && cp < 0x110000) {
        AppendUtf8(out, static_cast<uint32_t>(cp));
        done = true;
      }
    }
    if (!done) {
      out += s[i];
      continue;
    }
    i = semi;
  }
  return out;
}

// Python's round(x, n) for floats: correctly rounded, ties to even.
double PyRoundFloat(double x, int64_t n) {
  if (!std::isfinite(x)) return x;
  if (n >= 0) {
    if (n > 300) return x;
    char buf[512];
    std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(n), x);
    return std::strtod(buf, nullptr);
  }
  if (n < -308) return 0.0 * x;
  double pow1 = std::pow(10.0, static_cast<double>(-n));
  double y = x / pow1;
  double z = std::round(y);
  if (std::fabs(y - z) == 0.5) z = 2.0 * std::round(y / 2.0);
  return z * pow1;
}

// Python's round(int, n) for n < 0: ties to even.
int64_t PyRoundInt(int64_t x, int64_t n) {
  if (n >= 0) return x;
  if (n < -18) return 0;
  int64_t p = 1;
  for (int64_t k = 0; k < -n; ++k) p *= 10;
  int64_t q = x / p, r = x % p;
  if (r < 0) {
    r += p;
    --q;
  }
  if (2 * r > p || (2 * r == p && (q & 1))) ++q;
  return q * p;
}

// Python's int(text, base) (base 0: prefix decides; underscores between digits allowed).
std::optional<int64_t> ParseIntBase(std::string_view text, int64_t base) {
  std::string s(text);
  size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
  if (b == std::string::npos) return std::nullopt;
  s = s.substr(b, e - b + 1);
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s = s.substr(1);
  }
  auto prefix = [&](char p) {
    return s.size() > 2 && s[0] == '0' && std::tolower(static_cast<unsigned char>(s[1])) == p;
  };
  if (base == 0) {
    base = prefix('x') ? 16 : prefix('o') ? 8 : prefix('b') ? 2 : 10;
    if (base == 10 && s.size() > 1 && s[0] == '0' && s.find_first_not_of("0_") != std::string::npos)
      return std::nullopt;
  }
  if ((base == 16 && prefix('x')) || (base == 8 && prefix('o')) || (base == 2 && prefix('b')))
    s = s.substr(2);
  if (base < 2 || base > 36 || s.empty() || s.front() == '_' || s.back() == '_')
    return std::nullopt;
  int64_t v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char ch = s[i];
    if (ch == '_') {
      if (s[i - 1] == '_') return std::nullopt;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0'
            : std::isalpha(static_cast<unsigned char>(ch))
                ? std::tolower(static_cast<unsigned char>(ch)) - 'a' + 10
                : 99;
    if (d >= base) return std::nullopt;
    if (v > (INT64_MAX - d) / base) return std::nullopt;
    v = v * base + d;
  }
  return neg ? -v : v;
}

ValResult MinMaxImpl(Evaluator& ev, const Node& node, Val* recv, bool is_max) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 1, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 2));
  const JsonArray& arr = list->get_array();
  if (arr.empty()) return Val::Undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Json& e) -> Result<Json> {
    const Json* k = attr ? GetPath(e, *attr) : &e;
    if (!k) return NoAttribute(e, *attr);
    return case_sensitive ? *k : IgnoreCase(*k);
  };
  size_t best = 0;
  BORA_ASSIGN_OR_RETURN(Json best_key, key(arr[0]));
  for (size_t i = 1; i < arr.size(); ++i) {
    BORA_RETURN_IF_ERROR(ev.Step());
    BORA_ASSIGN_OR_RETURN(Json k, key(arr[i]));
    BORA_ASSIGN_OR_RETURN(int o, Order(k, best_key));
    if (is_max ? o > 0 : o < 0) {
      best = i;
      best_key = std::move(k);
    }
  }
  return Child(list, arr[best]);
}

// Marker keys of the Jinja objects with state.
constexpr std::string_view kNamespaceKey = "__jinja_namespace__";
constexpr std::string_view kCyclerKey = "__jinja_cycler__";
constexpr std::string_view kJoinerKey = "__jinja_joiner__";

const Json* Marked(const Json& v, std::string_view key) {
  if (!v.is_object() || v.get_object().size() != 1) return nullptr;
  return v.get_object().if_contains(key);
}

}  // namespace

// ------------------------------------------------------------------------------------------------
// Filters.

// attr(name): Python's getattr; JSON values have no attributes (dict keys are items, not
// attributes), so the result is Undefined, as Jinja gives for a dict.
ValResult JFilterAttr(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::string name, StrArg(c, 1));
  return Val::Undefined("'" + TypeName(v.get()) + " object' has no attribute '" + name + "'");
}

// batch(linecount, fill_with=None)
ValResult JFilterBatch(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> nv, c.Opt(1, "linecount"));
  if (!nv || !IsIntJ(nv->get())) return InvalidArgument("batch() needs an integer linecount");
  int64_t n = NumI(nv->get());
  if (n <= 0) return InvalidArgument("batch() linecount must be positive");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> fill, c.Opt(2, "fill_with"));
  if (fill && (*fill)->is_null()) fill.reset();
  ListBuilder out(ev);
  JsonArray cur;
  for (const Json& e : list->get_array()) {
    if (static_cast<int64_t>(cur.size()) == n) {
      BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
      cur = JsonArray();
    }
    cur.push_back(e);
  }
  if (!cur.empty()) {
    if (fill) {  // the padding is charged before it is built
      size_t missing = static_cast<size_t>(n) - cur.size();
      size_t per_item = ApproxSize(fill->get()) + 16;
      BORA_RETURN_IF_ERROR(
          ev.CheckSize(missing > SIZE_MAX / per_item ? SIZE_MAX : missing * per_item));
      BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(missing)));
    }
    while (fill && static_cast<int64_t>(cur.size()) < n) cur.push_back(fill->get());
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(cur))));
  }
  return out.Done();
}

// center(width=80): Python's str.center.
ValResult JFilterCenter(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  int64_t width = 80;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wv, c.Opt(1, "width"));
  if (wv) {
    if (!IsIntJ(wv->get())) return c.TypeErr(wv->get(), "an integer");
    width = NumI(wv->get());
  }
  int64_t len = static_cast<int64_t>(Utf8Len(s));
  if (len >= width) return Val::Own(Str(s));
  BORA_RETURN_IF_ERROR(ev.CheckSize(static_cast<size_t>(width) + s.size()));
  int64_t marg = width - len;
  int64_t left = marg / 2 + (marg & width & 1);
  return Val::Own(Str(std::string(left, ' ') + s + std::string(marg - left, ' ')));
}

// dictsort(case_sensitive=False, by='key', reverse=False)
ValResult JFilterDictSort(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  if (!d->is_object())
    return InvalidArgument("dictsort needs a dict, got '" + TypeName(d.get()) + "'");
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 1, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> by, c.Opt(2, "by"));
  BORA_ASSIGN_OR_RETURN(bool reverse, BoolParam(c, 3, "reverse", false));
  size_t pos = 0;
  if (by) {
    if ((*by)->is_string() && SV(by->get()) == "value")
      pos = 1;
    else if (!((*by)->is_string() && SV(by->get()) == "key"))
      return InvalidArgument("You can only sort by either \"key\" or \"value\"");
  }
  std::vector<std::pair<Json, Json>> items;
  for (const auto& kv : d->get_object()) {
    Json pair(JsonArray{Str(kv.key()), kv.value()});
    const Json& k = pair.get_array()[pos];
    items.emplace_back(case_sensitive ? k : IgnoreCase(k), pair);
  }
  BORA_RETURN_IF_ERROR(SortPairs(ev, items, reverse));
  ListBuilder out(ev);
  for (auto& kv : items) BORA_RETURN_IF_ERROR(out.Push(std::move(kv.second)));
  return out.Done();
}

// escape / e: markupsafe.escape (& < > ' "). A value piped straight from a filter that makes
// Markup (e, escape, forceescape, safe, xmlattr, tojson) is not escaped again.
ValResult JFilterEscape(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (IsMarkupNode(node.kids.empty() ? nullptr : node.kids[0].get()) && v->is_string()) return v;
  std::string out = HtmlEscape(SoftStr(v.get()));
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

ValResult JFilterForceEscape(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string out = HtmlEscape(SoftStr(v.get()));
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

// safe: Markup(value) — the string itself (there is no autoescaping to protect it from).
ValResult JFilterSafe(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_string()) return v;
  return Val::Own(Str(PythonStr(v.get())));
}

// filesizeformat(binary=False)
ValResult JFilterFileSizeFormat(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(bool binary, BoolParam(c, 1, "binary", false));
  double bytes = 0;
  if (v->is_string()) {
    std::string s(SV(v.get()));
    char* end = nullptr;
    size_t b = s.find_first_not_of(" \t\n\r");
    bytes = b == std::string::npos ? 0 : std::strtod(s.c_str() + b, &end);
    size_t e = s.find_last_not_of(" \t\n\r");
    if (b == std::string::npos || end != s.c_str() + e + 1)
      return InvalidArgument("could not convert string to float: " + PythonRepr(v.get()));
  } else if (IsNumJ(v.get()) || v->is_bool()) {
    bytes = NumD(v.get());
  } else {
    return InvalidArgument("float() argument must be a string or a real number, not '" +
                           TypeName(v.get()) + "'");
  }
  const double base = binary ? 1024 : 1000;
  static const char* kDec[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  static const char* kBin[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  if (bytes == 1) return Val::Own(Str("1 Byte"));
  char buf[128];
  if (bytes < base) {
    std::snprintf(buf, sizeof(buf), "%lld Bytes", static_cast<long long>(bytes));
    return Val::Own(Str(buf));
  }
  double unit = 0;
  const char* prefix = "";
  for (int i = 0; i < 8; ++i) {
    unit = std::pow(base, i + 2);
    prefix = binary ? kBin[i] : kDec[i];
    if (bytes < unit) break;
  }
  std::snprintf(buf, sizeof(buf), "%.1f %s", base * bytes / unit, prefix);
  return Val::Own(Str(buf));
}

// groupby(attribute, default=None, case_sensitive=False): [[grouper, [items]], ...] sorted by the
// grouper; `group.grouper` / `group.list` read the pair's elements.
ValResult JFilterGroupBy(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 1));
  if (!attr) return InvalidArgument("groupby() needs an attribute");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(2, "default"));
  if (dflt && (*dflt)->is_null()) dflt.reset();
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 3, "case_sensitive", false));
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* k = GetPath(e, *attr);
    if (!k && dflt) k = &dflt->get();
    if (!k) return NoAttribute(e, *attr);
    items.emplace_back(case_sensitive ? *k : IgnoreCase(*k), e);
  }
  BORA_RETURN_IF_ERROR(SortPairs(ev, items, false));
  JsonArray out;
  Json last_key;
  for (auto& [k, e] : items) {
    if (out.empty() || !JsonEquals(last_key, k)) {
      // The group's key is the real value of its first item, not the lower-cased one.
      const Json* real = GetPath(e, *attr);
      Json grouper = real ? *real : dflt->get();
      out.push_back(Json(JsonArray{std::move(grouper), Json(JsonArray{})}));
      last_key = k;
    }
    out.back().get_array()[1].get_array().push_back(std::move(e));
  }
  return Val::Own(Json(std::move(out)));
}

// int(default=0, base=10): strings in `base`, else int(float(value)); `default` when neither works.
ValResult JFilterInt(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> dflt, c.Opt(1, "default"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> bv, c.Opt(2, "base"));
  int64_t base = 10;
  if (bv) {
    if (!IsIntJ(bv->get())) return c.TypeErr(bv->get(), "an integer base");
    base = NumI(bv->get());
  }
  auto fallback = [&]() -> Val { return dflt ? std::move(*dflt) : Val::Own(Json(int64_t{0})); };
  const Json& j = v.get();
  if (j.is_bool()) return Val::Own(Json(int64_t{j.as_bool() ? 1 : 0}));
  if (IsIntJ(j)) return Val::Own(j);
  if (j.is_double()) {
    if (!std::isfinite(j.as_double())) return fallback();
    return Val::Own(Json(NumI(j)));
  }
  if (j.is_string()) {
    if (auto i = ParseIntBase(SV(j), base)) return Val::Own(Json(*i));
    std::string s(SV(j));
    size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
    if (b != std::string::npos) {
      s = s.substr(b, e - b + 1);
      std::string digits;
      for (char ch : s)
        if (ch != '_') digits += ch;
      char* end = nullptr;
      double d = std::strtod(digits.c_str(), &end);
      bool hexy = digits.find_first_of("xXpP") != std::string::npos;
      if (end && *end == '\0' && !hexy && std::isfinite(d)) return Val::Own(Json(NumI(Json(d))));
    }
  }
  return fallback();
}

// items(): (key, value) pairs of a mapping; an Undefined value gives none.
ValResult JFilterItems(Evaluator& ev, const Node& node, Val* recv) {
  if (recv && recv->undefined()) return Val::Own(Json(JsonArray{}));
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_object()) return InvalidArgument("Can only get item pairs from a mapping.");
  ListBuilder out(ev);
  for (const auto& kv : v->get_object())
    BORA_RETURN_IF_ERROR(out.Push(Json(JsonArray{Str(kv.key()), kv.value()})));
  return out.Done();
}

// join(d='', attribute=None)
ValResult JFilterJoin(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> dv, c.Opt(1, "d"));
  std::string sep = dv ? SoftStr(dv->get()) : "";
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 2));
  std::string out;
  bool first = true;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* x = attr ? GetPath(e, *attr) : &e;
    if (!x) return NoAttribute(e, *attr);
    if (!first) out += sep;
    first = false;
    out += SoftStr(*x);
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}

// min / max(case_sensitive=False, attribute=None)
ValResult JFilterMin(Evaluator& ev, const Node& n, Val* r) { return MinMaxImpl(ev, n, r, false); }
ValResult JFilterMax(Evaluator& ev, const Node& n, Val* r) { return MinMaxImpl(ev, n, r, true); }

// pprint: pprint.pformat(value).
ValResult JFilterPprint(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(v.get()) * 3));
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(ApproxSize(v.get()) / 16)));
  std::string out = PrettyPrinter().Format(SortedKeys(v.get(), 0));
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

// random: random.choice(seq); Undefined when empty.
ValResult JFilterRandom(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (v->is_object()) return InvalidArgument("random: a dict is not a sequence");
  BORA_ASSIGN_OR_RETURN(Val list, AsList(c, std::move(v), true));
  const JsonArray& arr = list->get_array();
  if (arr.empty()) return Val::Undefined("No random item, sequence was empty.");
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, arr.size() - 1);
  return Child(list, arr[pick(rng)]);
}

// round(precision=0, method='common'): 'common' is Python's round() (ties to even: 2.5 -> 2.0;
// an int stays an int); 'ceil' / 'floor' give floats.
ValResult JFilterRound(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 3));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> pv, c.Opt(1, "precision"));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> mv, c.Opt(2, "method"));
  std::string method = "common";
  if (mv) method = SoftStr(mv->get());
  if (method != "common" && method != "ceil" && method != "floor")
    return InvalidArgument("method must be common, ceil or floor");
  int64_t precision = 0;
  if (pv) {
    if (!IsIntJ(pv->get()) && !(*pv)->is_bool())
      return InvalidArgument("'" + TypeName(pv->get()) +
                             "' object cannot be interpreted as an integer");
    precision = std::clamp<int64_t>(NumI(pv->get()), -400, 400);
  }
  const Json& x = v.get();
  if (!IsNumJ(x) && !x.is_bool())
    return InvalidArgument("type " + TypeName(x) + " doesn't define __round__ method");
  if (method == "common") {
    if (IsIntJ(x) || x.is_bool()) return Val::Own(Json(PyRoundInt(NumI(x), precision)));
    return Val::Own(Json(PyRoundFloat(x.as_double(), precision)));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  double y = NumD(x) * scale;
  double r = method == "ceil" ? std::ceil(y) : std::floor(y);
  return Val::Own(Json(r / scale));
}

// slice(slices, fill_with=None): `slices` columns.
ValResult JFilterSlice(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(2, 3));
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(int64_t slices, IntArg(c, 1));
  if (slices <= 0) return InvalidArgument("slice() needs a positive number of slices");
  BORA_ASSIGN_OR_RETURN(std::optional<Val> fill, c.Opt(2, "fill_with"));
  if (fill && (*fill)->is_null()) fill.reset();
  const JsonArray& seq = list->get_array();
  const int64_t length = static_cast<int64_t>(seq.size());
  if (slices > length + 1 && static_cast<uint64_t>(slices) > ev.ctx().limits.max_output_bytes / 16)
    return ev.SizeExceeded(static_cast<size_t>(slices) * 16);
  const int64_t per = length / slices, extra = length % slices;
  int64_t offset = 0;
  ListBuilder out(ev);
  for (int64_t k = 0; k < slices; ++k) {
    int64_t start = offset + k * per;
    if (k < extra) ++offset;
    int64_t end = offset + (k + 1) * per;
    JsonArray tmp(seq.begin() + start, seq.begin() + end);
    if (fill && k >= extra) tmp.push_back(fill->get());
    BORA_RETURN_IF_ERROR(out.Push(Json(std::move(tmp))));
  }
  return out.Done();
}

// sort(reverse=False, case_sensitive=False, attribute=None); attribute may list several
// comma-separated paths.
ValResult JFilterSort(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(bool reverse, BoolParam(c, 1, "reverse", false));
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 2, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 3));
  std::vector<std::string> paths;
  if (attr) {
    for (size_t p = 0;;) {
      size_t comma = attr->find(',', p);
      paths.push_back(attr->substr(p, comma == std::string::npos ? std::string::npos : comma - p));
      if (comma == std::string::npos) break;
      p = comma + 1;
    }
  }
  std::vector<std::pair<Json, Json>> items;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    Json key;
    if (paths.empty()) {
      key = case_sensitive ? e : IgnoreCase(e);
    } else {
      JsonArray keys;
      for (const std::string& p : paths) {
        const Json* k = GetPath(e, p);
        if (!k) return NoAttribute(e, p);
        keys.push_back(case_sensitive ? *k : IgnoreCase(*k));
      }
      key = keys.size() == 1 ? std::move(keys[0]) : Json(std::move(keys));
    }
    items.emplace_back(std::move(key), e);
  }
  BORA_RETURN_IF_ERROR(SortPairs(ev, items, reverse));
  ListBuilder out(ev);
  for (auto& kv : items) BORA_RETURN_IF_ERROR(out.Push(std::move(kv.second)));
  return out.Done();
}

// striptags: Markup(value).striptags(): comments and tags removed, whitespace runs collapsed,
// entities unescaped.
ValResult JFilterStripTags(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(s.size() / 16)));
  auto strip = [](const std::string& in, std::string_view open, std::string_view close) {
    std::string out;
    size_t p = 0;
    while (true) {
      size_t a = in.find(open, p);
      size_t b = a == std::string::npos ? a : in.find(close, a + open.size());
      if (b == std::string::npos) {
        out += in.substr(p);
        return out;
      }
      out += in.substr(p, a - p);
      p = b + close.size();
    }
  };
  s = strip(strip(s, "<!--", "-->"), "<", ">");
  std::string joined;
  for (auto& w : PySplitWhitespace(s)) {
    if (!joined.empty()) joined += ' ';
    joined += w;
  }
  return Val::Own(Str(HtmlUnescape(joined)));
}

// sum(attribute=None, start=0)
ValResult JFilterSum(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 1));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> start, c.Opt(2, "start"));
  Json acc = start ? std::move(*start).Take() : Json(int64_t{0});
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step());
    const Json* x = attr ? GetPath(e, *attr) : &e;
    if (!x) return NoAttribute(e, *attr);
    BORA_ASSIGN_OR_RETURN(acc, Arith(Op::kAdd, acc, *x, Lang::kJinja, ev));
    BORA_RETURN_IF_ERROR(ev.CheckSize(ApproxSize(acc)));
  }
  return Val::Own(std::move(acc));
}

// title: words start after `-`, whitespace, `(`, `{`, `[` or `<` (not after an apostrophe, unlike
// str.title()); each word is upper-cased first, lower-cased after.
ValResult JFilterTitle(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  bool start = true;
  for (char& ch : s) {
    unsigned char u = static_cast<unsigned char>(ch);
    bool sep = std::isspace(u) || ch == '-' || ch == '(' || ch == '{' || ch == '[' || ch == '<';
    if (sep) {
      start = true;
      continue;
    }
    ch = static_cast<char>(start ? std::toupper(u) : std::tolower(u));
    start = false;
  }
  return Val::Own(Str(s));
}

// unique(case_sensitive=False, attribute=None): first occurrences.
ValResult JFilterUnique(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val list, Iterable(c, 0));
  BORA_ASSIGN_OR_RETURN(bool case_sensitive, BoolParam(c, 1, "case_sensitive", false));
  BORA_ASSIGN_OR_RETURN(std::optional<std::string> attr, AttributeParam(c, 2));
  ListBuilder out(ev);
  std::vector<Json> seen;
  for (const Json& e : list->get_array()) {
    BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(seen.size() / 8 + 1)));
    const Json* k = attr ? GetPath(e, *attr) : &e;
    if (!k) return NoAttribute(e, *attr);
    Json key = case_sensitive ? *k : IgnoreCase(*k);
    if (key.is_array() || key.is_object())
      return InvalidArgument("unhashable type: '" + TypeName(key) + "'");
    if (std::any_of(seen.begin(), seen.end(), [&](const Json& s) { return JsonEquals(s, key); }))
      continue;
    seen.push_back(std::move(key));
    BORA_RETURN_IF_ERROR(out.Push(e));
  }
  return out.Done();
}

// urlencode: a string (or scalar) is quoted with `/` kept; a dict or a list of pairs becomes a
// query string (`+` for spaces).
ValResult JFilterUrlEncode(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  const Json& j = v.get();
  if (!j.is_object() && !j.is_array()) return Val::Own(Str(UrlQuote(SoftStr(j), false)));
  std::string out;
  auto add = [&](const Json& k, const Json& val) {
    if (!out.empty()) out += '&';
    out += UrlQuote(SoftStr(k), true) + "=" + UrlQuote(SoftStr(val), true);
  };
  if (j.is_object()) {
    for (const auto& kv : j.get_object()) add(Str(kv.key()), kv.value());
  } else {
    for (const Json& e : j.get_array()) {
      if (!e.is_array())
        return InvalidArgument("cannot unpack non-iterable " + TypeName(e) + " object");
      if (e.get_array().size() != 2)
        return InvalidArgument(e.get_array().size() < 2
                                   ? "not enough values to unpack (expected 2, got " +
                                         std::to_string(e.get_array().size()) + ")"
                                   : std::string("too many values to unpack (expected 2)"));
      add(e.get_array()[0], e.get_array()[1]);
    }
  }
  BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  return Val::Own(Str(out));
}

// wordcount: the number of \w+ runs.
ValResult JFilterWordCount(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::u32string s = Decode(SoftStr(v.get()));
  int64_t n = 0;
  bool in_word = false;
  for (char32_t ch : s) {
    bool w = IsWord32(ch);
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Val::Own(Json(n));
}

// wordwrap(width=79, break_long_words=True, wrapstring=None ("\n"), break_on_hyphens=True)
ValResult JFilterWordWrap(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  std::string s = SoftStr(v.get());
  int64_t width = 79;
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wv, c.Opt(1, "width"));
  if (wv) {
    if (!IsIntJ(wv->get())) return c.TypeErr(wv->get(), "an integer width");
    width = NumI(wv->get());
  }
  if (width <= 0)
    return InvalidArgument("invalid width " + std::to_string(width) + " (must be > 0)");
  BORA_ASSIGN_OR_RETURN(bool break_long, BoolParam(c, 2, "break_long_words", true));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> wsv, c.Opt(3, "wrapstring"));
  std::string wrap = wsv && !(*wsv)->is_null() ? SoftStr(wsv->get()) : "\n";
  BORA_ASSIGN_OR_RETURN(bool on_hyphens, BoolParam(c, 4, "break_on_hyphens", true));
  BORA_RETURN_IF_ERROR(ev.Step(static_cast<int64_t>(s.size() / 16)));
  // str.splitlines(): \n, \r\n and \r end lines (a trailing line break adds no empty line).
  std::vector<std::string> lines;
  for (size_t p = 0; p < s.size();) {
    size_t e = s.find_first_of("\r\n", p);
    if (e == std::string::npos) {
      lines.push_back(s.substr(p));
      break;
    }
    lines.push_back(s.substr(p, e - p));
    p = e + ((s[e] == '\r' && e + 1 < s.size() && s[e + 1] == '\n') ? 2 : 1);
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += wrap;
    std::vector<std::u32string> wrapped =
        TextWrap(Decode(lines[i]), static_cast<size_t>(width), break_long, on_hyphens);
    for (size_t k = 0; k < wrapped.size(); ++k) {
      if (k > 0) out += wrap;
      out += Encode(wrapped[k]);
    }
    BORA_RETURN_IF_ERROR(ev.CheckSize(out.size()));
  }
  return Val::Own(Str(out));
}

// xmlattr(autospace=True): ` key="value"` for each item whose value is not None.
ValResult JFilterXmlAttr(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 2));
  BORA_ASSIGN_OR_RETURN(Val d, c.Arg(0));
  if (!d->is_object())
    return InvalidArgument("xmlattr needs a dict, got '" + TypeName(d.get()) + "'");
  BORA_ASSIGN_OR_RETURN(bool autospace, BoolParam(c, 1, "autospace", true));
  std::string out;
  for (const auto& kv : d->get_object()) {
    if (kv.value().is_null()) continue;
    std::string_view key = kv.key();
    if (key.find_first_of(" \t\n\r\f\v/>=") != std::string_view::npos)
      return InvalidArgument("Invalid character in attribute name: " + PythonRepr(Str(key)));
    if (!out.empty()) out += ' ';
    out += HtmlEscape(key) + "=\"" + HtmlEscape(SoftStr(kv.value())) + "\"";
  }
  if (autospace && !out.empty()) out = " " + out;
  return Val::Own(Str(out));
}

std::string_view JinjaRefusalReason(std::string_view kind, std::string_view name) {
  if (kind == "filter" && name == "urlize")
    return "it turns URLs in text into HTML links by Jinja's own heuristics, which Bora does not "
           "reproduce";
  if (kind == "test" && name == "escaped")
    return "it asks whether a value is a Markup object; JSON values carry no Markup flag";
  if (kind == "global" && name == "lipsum")
    return "it generates random lorem-ipsum HTML, which has no use in a workflow";
  return {};
}

ValResult JRefused(Evaluator& ev, const Node& node, Val* recv) {
  std::string_view kind = node.op == Op::kFilter ? "filter"
                          : node.op == Op::kTest ? "test"
                                                 : "global";
  return InvalidArgument(std::string(kind) + " '" + node.name +
                         "' is not supported: " + std::string(JinjaRefusalReason(kind, node.name)));
}

// ------------------------------------------------------------------------------------------------
// Tests.

// `name is filter` / `name is test`: whether Bora has a filter / test of that name (the host
// functions task(), env(), ... are filters too, as Mistral registers its functions as filters).
ValResult JTestFilter(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_string()) return Val::Own(Json(false));
  std::string_view name = SV(v.get());
  return Val::Own(Json(FindJinjaFilter(name) >= 0 || IsHostFunction(name)));
}

ValResult JTestTest(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  if (!v->is_string()) return Val::Own(Json(false));
  static const char* kSymbols[] = {"==", "!=", "<", "<=", ">", ">="};
  std::string_view name = SV(v.get());
  bool found = FindJinjaTest(name) >= 0 || std::any_of(std::begin(kSymbols), std::end(kSymbols),
                                                       [&](const char* s) { return name == s; });
  return Val::Own(Json(found));
}

// `callable`: no JSON value is callable; a joiner() is, and so is an Undefined value (Jinja's
// StrictUndefined has __call__).
ValResult JTestCallable(Evaluator& ev, const Node& node, Val* recv) {
  if (recv && recv->undefined()) return Val::Own(Json(true));
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(1, 1));
  BORA_ASSIGN_OR_RETURN(Val v, c.Arg(0));
  return Val::Own(Json(Marked(v.get(), kJoinerKey) != nullptr));
}

// ------------------------------------------------------------------------------------------------
// Globals with state: namespace(), cycler(), joiner().

ValResult JGlobalNamespace(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  JsonObject attrs;
  for (size_t i = 0; i < c.size(); ++i) {  // namespace(dict) copies its items
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    if (!v->is_object()) return c.TypeErr(v.get(), "a dict");
    for (const auto& kv : v->get_object()) attrs[kv.key()] = kv.value();
  }
  for (const Node* k : c.kw_nodes()) {
    BORA_ASSIGN_OR_RETURN(Json v, ev.EvalJson(*k->kids[1]));
    attrs[k->name] = std::move(v);
  }
  JsonObject ns;
  ns[kNamespaceKey] = Json(std::move(attrs));
  return Val::Own(Json(std::move(ns)));
}

ValResult JGlobalCycler(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.NoKw());
  if (c.size() == 0) return InvalidArgument("at least one item has to be provided");
  JsonArray items;
  for (size_t i = 0; i < c.size(); ++i) {
    BORA_ASSIGN_OR_RETURN(Val v, c.Arg(i));
    items.push_back(std::move(v).Take());
  }
  JsonObject state;
  state["items"] = Json(std::move(items));
  state["pos"] = int64_t{0};
  JsonObject obj;
  obj[kCyclerKey] = Json(std::move(state));
  return Val::Own(Json(std::move(obj)));
}

ValResult JGlobalJoiner(Evaluator& ev, const Node& node, Val* recv) {
  Call c(ev, node, recv);
  BORA_RETURN_IF_ERROR(c.Arity(0, 1));
  BORA_ASSIGN_OR_RETURN(std::optional<Val> sv, c.Opt(0, "sep"));
  JsonObject state;
  state["sep"] = Str(sv ? SoftStr(sv->get()) : ", ");
  state["used"] = false;
  JsonObject obj;
  obj[kJoinerKey] = Json(std::move(state));
  return Val::Own(Json(std::move(obj)));
}

bool IsJinjaObject(const Json& v) {
  return Marked(v, kNamespaceKey) || Marked(v, kCyclerKey) || Marked(v, kJoinerKey);
}

std::optional<ValResult> JinjaObjectMember(const Val& obj, const std::string& name) {
  const Json& v = obj.get();
  if (const Json* ns = Marked(v, kNamespaceKey)) {
    if (!ns->is_object()) return std::nullopt;
    if (const Json* a = ns->get_object().if_contains(name)) return ValResult(Child(obj, *a));
    return ValResult(
        Val::Undefined("'jinja2.utils.Namespace object' has no attribute '" + name + "'"));
  }
  if (const Json* cy = Marked(v, kCyclerKey)) {
    if (name != "current" || !cy->is_object()) return std::nullopt;
    const Json* items = cy->get_object().if_contains("items");
    const Json* pos = cy->get_object().if_contains("pos");
    if (!items || !items->is_array() || !pos || items->get_array().empty()) return std::nullopt;
    size_t p = static_cast<size_t>(NumI(*pos)) % items->get_array().size();
    return ValResult(Val::Own(items->get_array()[p]));
  }
  return std::nullopt;
}

std::optional<ValResult> JinjaObjectMethod(Evaluator& ev, const Node& call, Val* recv) {
  if (!recv || !Marked(recv->get(), kCyclerKey)) return std::nullopt;
  if (call.name != "next" && call.name != "reset") return std::nullopt;
  if (call.kids.size() > 1)
    return ValResult(InvalidArgument("cycler." + call.name + "() takes no arguments"));
  // The state lives in the variable the method is called on (a temporary cycler has none).
  Json* state = nullptr;
  Json temp = recv->get();
  if (call.kids[0]->op == Op::kVar) {
    if (Var* var = ev.FindVarMut(call.kids[0]->name)) {
      if (Json* j = var->value.Mutable(); j && Marked(*j, kCyclerKey))
        state = &j->get_object()[kCyclerKey];
    }
  }
  if (!state) state = &temp.get_object()[kCyclerKey];
  JsonObject& st = state->get_object();
  const JsonArray& items = st["items"].get_array();
  int64_t pos = NumI(st["pos"]);
  if (call.name == "reset") {
    st["pos"] = int64_t{0};
    return ValResult(Val::Own(Json()));
  }
  Json current = items[static_cast<size_t>(pos) % items.size()];
  st["pos"] = static_cast<int64_t>((static_cast<size_t>(pos) + 1) % items.size());
  return ValResult(Val::Own(std::move(current)));
}

std::optional<ValResult> JinjaCallVariable(Evaluator& ev, const Node& call) {
  Var* var = ev.FindVarMut(call.name);
  if (!var || !Marked(var->value.get(), kJoinerKey)) return std::nullopt;
  if (call.kids.size() > 0) return ValResult(InvalidArgument("joiner() call takes no arguments"));
  Json* j = var->value.Mutable();
  JsonObject& st = j->get_object()[kJoinerKey].get_object();
  if (!IsTruthy(st["used"])) {
    st["used"] = true;
    return ValResult(Val::Own(Str("")));
  }
  return ValResult(Val::Own(st["sep"]));
}

Status JinjaSetAttribute(Evaluator& ev, const std::string& var_name, const std::string& attr,
                         Json value) {
  Var* var = ev.FindVarMut(var_name);
  if (!var || !Marked(var->value.get(), kNamespaceKey))
    return InvalidArgument("cannot assign attribute on non-namespace object");
  Json* j = var->value.Mutable();
  j->get_object()[kNamespaceKey].get_object()[attr] = std::move(value);
  return Status::Ok();
}

}  // namespace bora::expr::internal
