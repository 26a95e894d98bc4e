#include "orchestrator/expressions/regex.h"

#include <re2/re2.h>

#include <list>
#include <memory>
#include <unordered_map>

namespace bora::expr::internal {

namespace {

constexpr std::string_view kMarker = "__yaql_regex__";

std::string WithFlags(const RegexSpec& spec) {
  std::string flags;
  if (spec.flags & kIgnoreCase) flags += 'i';
  if (spec.flags & kMultiLine) flags += 'm';
  if (spec.flags & kDotAll) flags += 's';
  return flags.empty() ? spec.pattern : "(?" + flags + ")" + spec.pattern;
}

// Compiled patterns of this thread, the most recent 64.
class Cache {
 public:
  const RE2* Get(const std::string& full) {
    auto it = map_.find(full);
    if (it != map_.end()) {
      order_.splice(order_.begin(), order_, it->second.second);
      return it->second.first.get();
    }
    RE2::Options o;
    o.set_log_errors(false);
    o.set_max_mem(8 << 20);
    auto re = std::make_unique<RE2>(full, o);
    const RE2* raw = re.get();
    order_.push_front(full);
    map_.emplace(full, std::make_pair(std::move(re), order_.begin()));
    if (map_.size() > 64) {
      map_.erase(order_.back());
      order_.pop_back();
    }
    return raw;
  }

 private:
  std::list<std::string> order_;
  std::unordered_map<std::string, std::pair<std::unique_ptr<RE2>, std::list<std::string>::iterator>>
      map_;
};

Result<const RE2*> Compile(const RegexSpec& spec) {
  thread_local Cache cache;
  const RE2* re = cache.Get(WithFlags(spec));
  if (!re->ok()) {
    return InvalidArgument("invalid regular expression '" + spec.pattern + "': " + re->error() +
                           " (Bora's regular expressions are RE2's: no look-around, no "
                           "backreferences in patterns)");
  }
  return re;
}

// Length of the UTF-8 character at s[i] (1 for a stray byte).
size_t CharLen(std::string_view s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  return std::min(n, s.size() - i);
}

// Calls `on(groups)` for each match in Python's finditer order (groups[0] is the whole match) until
// it returns false.
template <typename F>
Status ForEachMatch(const RE2& re, std::string_view s, F on) {
  const int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(n));
  size_t pos = 0;
  while (pos <= s.size()) {
    if (!re.Match(re2::StringPiece(s.data(), s.size()), pos, s.size(), RE2::UNANCHORED,
                  groups.data(), n)) {
      break;
    }
    const size_t start = static_cast<size_t>(groups[0].data() - s.data());
    const size_t end = start + groups[0].size();
    if (!on(groups, start, end)) break;
    // After an empty match the next search starts one character later (no second empty match
    // there); after a non-empty one at its end.
    pos = end > start ? end : (end < s.size() ? end + CharLen(s, end) : s.size() + 1);
  }
  return Status::Ok();
}

}  // namespace

Json MakeRegexValue(const RegexSpec& spec) {
  JsonObject inner;
  inner["pattern"] = spec.pattern;
  inner["flags"] = spec.flags;
  JsonObject out;
  out[kMarker] = std::move(inner);
  return out;
}

bool IsRegexValue(const Json& v) {
  if (!v.is_object() || v.get_object().size() != 1) return false;
  const auto* inner = v.get_object().if_contains(kMarker);
  return inner != nullptr && inner->is_object() && inner->get_object().contains("pattern");
}

RegexSpec RegexOfValue(const Json& v) {
  const auto& inner = v.get_object().at(kMarker).get_object();
  RegexSpec spec;
  if (const auto* p = inner.if_contains("pattern"); p && p->is_string()) {
    spec.pattern = std::string(p->get_string());
  }
  if (const auto* f = inner.if_contains("flags"); f && f->is_int64()) {
    spec.flags = static_cast<int>(f->get_int64());
  }
  return spec;
}

Status CheckRegex(const RegexSpec& spec) { return Compile(spec).status(); }

Result<bool> RegexSearch(const RegexSpec& spec, std::string_view s) {
  BORA_ASSIGN_OR_RETURN(const RE2* re, Compile(spec));
  return RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re);
}

Result<std::optional<std::string>> RegexFirst(const RegexSpec& spec, std::string_view s) {
  BORA_ASSIGN_OR_RETURN(const RE2* re, Compile(spec));
  re2::StringPiece m;
  if (!re->Match(re2::StringPiece(s.data(), s.size()), 0, s.size(), RE2::UNANCHORED, &m, 1)) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::string(m.data(), m.size()));
}

Result<std::vector<std::string>> RegexAll(const RegexSpec& spec, std::string_view s,
                                          size_t max_matches) {
  BORA_ASSIGN_OR_RETURN(const RE2* re, Compile(spec));
  std::vector<std::string> out;
  bool over = false;
  BORA_RETURN_IF_ERROR(ForEachMatch(*re, s, [&](const auto& g, size_t, size_t) {
    if (out.size() >= max_matches) {
      over = true;
      return false;
    }
    out.emplace_back(g[0].data(), g[0].size());
    return true;
  }));
  if (over) return ResourceExhausted("more than " + std::to_string(max_matches) + " matches");
  return out;
}

Result<std::vector<Json>> RegexSplit(const RegexSpec& spec, std::string_view s, int64_t max_split,
                                     size_t max_pieces) {
  BORA_ASSIGN_OR_RETURN(const RE2* re, Compile(spec));
  std::vector<Json> out;
  size_t last = 0;
  int64_t splits = 0;
  bool over = false;
  BORA_RETURN_IF_ERROR(ForEachMatch(*re, s, [&](const auto& g, size_t start, size_t end) {
    if (max_split > 0 && splits >= max_split) return false;
    if (out.size() + g.size() >= max_pieces) {
      over = true;
      return false;
    }
    out.emplace_back(boost::json::string(s.substr(last, start - last)));
    for (size_t i = 1; i < g.size(); ++i) {
      if (g[i].data() == nullptr) {
        out.emplace_back(nullptr);
      } else {
        out.emplace_back(boost::json::string(std::string_view(g[i].data(), g[i].size())));
      }
    }
    last = end;
    ++splits;
    return true;
  }));
  if (over) return ResourceExhausted("more than " + std::to_string(max_pieces) + " pieces");
  out.emplace_back(boost::json::string(s.substr(last)));
  return out;
}

namespace {

// Expands Python's replacement template for one match.
Status Expand(const RE2& re, std::string_view repl, const std::vector<re2::StringPiece>& g,
              std::string& out) {
  auto group = [&](size_t i) -> Status {
    if (i >= g.size()) return InvalidArgument("invalid group reference " + std::to_string(i));
    if (g[i].data() != nullptr) out.append(g[i].data(), g[i].size());
    return Status::Ok();
  };
  for (size_t i = 0; i < repl.size(); ++i) {
    const char c = repl[i];
    if (c != '\\' || i + 1 == repl.size()) {
      out += c;
      continue;
    }
    const char e = repl[++i];
    if (e >= '0' && e <= '9') {
      size_t n = static_cast<size_t>(e - '0');
      if (i + 1 < repl.size() && repl[i + 1] >= '0' && repl[i + 1] <= '9') {
        n = n * 10 + static_cast<size_t>(repl[++i] - '0');
      }
      BORA_RETURN_IF_ERROR(group(n));
      continue;
    }
    if (e == 'g') {
      const size_t close = repl.find('>', i);
      if (i + 1 >= repl.size() || repl[i + 1] != '<' || close == std::string_view::npos) {
        return InvalidArgument("missing group name in replacement at position " +
                               std::to_string(i - 1));
      }
      std::string name(repl.substr(i + 2, close - i - 2));
      i = close;
      if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
        BORA_RETURN_IF_ERROR(group(std::stoul(name)));
        continue;
      }
      const auto& names = re.NamedCapturingGroups();
      auto it = names.find(name);
      if (it == names.end()) return InvalidArgument("unknown group name '" + name + "'");
      BORA_RETURN_IF_ERROR(group(static_cast<size_t>(it->second)));
      continue;
    }
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case '\\':
        out += '\\';
        break;
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
          return InvalidArgument(std::string("bad escape \\") + e + " in replacement");
        }
        out += '\\';
        out += e;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> RegexReplace(const RegexSpec& spec, std::string_view s, std::string_view repl,
                                 int64_t count, size_t max_bytes) {
  BORA_ASSIGN_OR_RETURN(const RE2* re, Compile(spec));
  std::string out;
  size_t last = 0;
  int64_t done = 0;
  Status failed;
  BORA_RETURN_IF_ERROR(ForEachMatch(*re, s, [&](const auto& g, size_t start, size_t end) {
    if (count > 0 && done >= count) return false;
    out.append(s.substr(last, start - last));
    failed = Expand(*re, repl, g, out);
    if (!failed.ok()) return false;
    if (out.size() > max_bytes) {
      failed = ResourceExhausted("the result of replace() exceeds " + std::to_string(max_bytes) +
                                 " bytes");
      return false;
    }
    last = end;
    ++done;
    return true;
  }));
  BORA_RETURN_IF_ERROR(failed);
  out.append(s.substr(last));
  if (out.size() > max_bytes) {
    return ResourceExhausted("the result of replace() exceeds " + std::to_string(max_bytes) +
                             " bytes");
  }
  return out;
}

std::string EscapeRegex(std::string_view s) {
  // Python 3.7+'s re.escape: the special characters only.
  static constexpr std::string_view kSpecial = "()[]{}?*+-|^$\\.&~# \t\n\r\v\f";
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) {
    if (kSpecial.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace bora::expr::internal
