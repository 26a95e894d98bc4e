// Jinja2 3.x text filters (jinja2/filters.py): center, escape/forceescape/safe, filesizeformat,
// pprint (pprint.pformat), striptags, title, urlencode, wordcount, wordwrap (textwrap), xmlattr.
// Each follows the Python source of Jinja2 3.1; testdata/jinja_library.txt holds a case per name,
// printed by Jinja2 itself.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "orchestrator/expressions/builtin_call.h"
#include "orchestrator/expressions/builtin_util.h"
#include "orchestrator/expressions/builtins_jinja_library.h"

namespace bora::expr::internal {
namespace {

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

}  // namespace

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

}  // namespace bora::expr::internal
