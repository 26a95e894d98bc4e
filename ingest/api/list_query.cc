#include "ingest/api/list_query.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace bora::api {

namespace {

const std::set<std::string>& ListParams() {
  static const std::set<std::string> kParams = {"marker", "limit", "sort_keys", "sort_dirs", "fields"};
  return kParams;
}

const std::set<std::string>& Operators() {
  static const std::set<std::string> kOps = {"eq", "neq", "gt", "gte", "lt", "lte", "in", "nin", "has"};
  return kOps;
}

std::vector<std::string> SplitComma(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    std::string item(s.substr(start, comma - start));
    // Trim spaces ("created_at, id").
    size_t b = item.find_first_not_of(' ');
    size_t e = item.find_last_not_of(' ');
    item = b == std::string::npos ? std::string() : item.substr(b, e - b + 1);
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

Filter ParseFilter(const std::string& field, const std::string& raw) {
  Filter f;
  f.field = field;
  std::string value = raw;
  size_t colon = raw.find(':');
  if (colon != std::string::npos && Operators().count(raw.substr(0, colon))) {
    f.op = raw.substr(0, colon);
    value = raw.substr(colon + 1);
  }
  if (f.op == "in" || f.op == "nin") {
    f.values = SplitComma(value);
  } else {
    f.values.push_back(value);
  }
  return f;
}

std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  const char* begin = s.c_str();
  char* end = nullptr;
  double d = std::strtod(begin, &end);
  if (end != begin + s.size() || std::isnan(d)) return std::nullopt;
  return d;
}

double AsDouble(const Json& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.get_double();
}

std::string TextOf(const Json& v) {
  if (v.is_string()) return std::string(v.get_string());
  return PythonJsonDumps(v);
}

const Json& FieldOf(const Json& record, const std::string& field) {
  static const Json kNull = nullptr;
  if (!record.is_object()) return kNull;
  const auto* p = record.as_object().if_contains(field);
  return p ? *p : kNull;
}

// Compares a field value with a filter operand: <0, 0, >0, or nullopt when they cannot be ordered.
std::optional<int> CompareOperand(const Json& field, const std::string& operand) {
  if (field.is_null()) {
    if (operand == "null" || operand == "None" || operand.empty()) return 0;
    return std::nullopt;
  }
  if (field.is_bool()) {
    std::string lower = operand;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == "true" || lower == "1") return field.get_bool() ? 0 : -1;
    if (lower == "false" || lower == "0") return field.get_bool() ? 1 : 0;
    return std::nullopt;
  }
  if (field.is_number()) {
    auto d = ParseNumber(operand);
    if (!d) return std::nullopt;
    double x = AsDouble(field);
    return x < *d ? -1 : (x > *d ? 1 : 0);
  }
  std::string text = TextOf(field);
  int c = text.compare(operand);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

bool MatchOne(const Json& field, const std::string& op, const std::string& operand) {
  if (op == "has") {
    if (field.is_null()) return false;
    return TextOf(field).find(operand) != std::string::npos;
  }
  auto c = CompareOperand(field, operand);
  if (op == "eq") return c && *c == 0;
  if (op == "neq") return !c || *c != 0;
  if (!c) return false;
  if (op == "gt") return *c > 0;
  if (op == "gte") return *c >= 0;
  if (op == "lt") return *c < 0;
  if (op == "lte") return *c <= 0;
  return false;
}

int TypeRank(const Json& v) {
  if (v.is_null()) return 0;
  if (v.is_bool()) return 1;
  if (v.is_number()) return 2;
  if (v.is_string()) return 3;
  return 4;
}

int CompareValues(const Json& a, const Json& b) {
  int ra = TypeRank(a), rb = TypeRank(b);
  if (ra != rb) return ra < rb ? -1 : 1;
  switch (ra) {
    case 0: return 0;
    case 1: return a.get_bool() == b.get_bool() ? 0 : (a.get_bool() ? 1 : -1);
    case 2: {
      double x = AsDouble(a), y = AsDouble(b);
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    default: {
      // Strings compare in place (this runs O(n log n) times per sorted listing); other values by text.
      int c = a.is_string() && b.is_string()
                  ? std::string_view(a.get_string()).compare(std::string_view(b.get_string()))
                  : TextOf(a).compare(TextOf(b));
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
  }
}

// Sort order of the query, with `id` ascending as the final tie-breaker (as Mistral's paginate_query).
struct Order {
  std::vector<std::pair<std::string, bool>> keys;  // field, descending

  explicit Order(const ListQuery& q) {
    bool has_id = false;
    for (size_t i = 0; i < q.sort_keys.size(); ++i) {
      bool desc = i < q.sort_dirs.size() && q.sort_dirs[i] == "desc";
      keys.emplace_back(q.sort_keys[i], desc);
      if (q.sort_keys[i] == "id") has_id = true;
    }
    if (!has_id) keys.emplace_back("id", false);
  }
  int Compare(const Json& a, const Json& b) const {
    for (const auto& [field, desc] : keys) {
      int c = CompareValues(FieldOf(a, field), FieldOf(b, field));
      if (c != 0) return desc ? -c : c;
    }
    return 0;
  }
};

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ',' || c == ':';
}

std::string Encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ",";
    out += v[i];
  }
  return out;
}

std::string NextLink(const http::HttpRequest& request, const ListQuery& query, size_t limit,
                     const std::string& marker) {
  std::string url = request.base_url + request.path;
  // As Mistral's ResourceList.get_next: the other arguments first, then limit, marker and fields.
  std::string args = "sort_keys=" + Encode(Join(query.sort_keys)) +
                     "&sort_dirs=" + Encode(Join(query.sort_dirs)) + "&";
  for (const auto& [k, v] : request.query) {
    if (ListParams().count(k)) continue;
    args += Encode(k) + "=" + Encode(v) + "&";
  }
  args += "limit=" + std::to_string(limit) + "&marker=" + Encode(marker);
  if (!query.fields.empty()) args += "&fields=" + Encode(Join(query.fields));
  return url + "?" + args;
}

struct Applied {
  Json reply;
  bool marker_unknown = false;
  std::vector<std::string> invalid_fields;
};

Applied Apply(std::vector<Json> records, const ListQuery& query, const std::string& collection,
              const http::HttpRequest& request) {
  Applied result;
  Order order(query);

  std::optional<Json> marker_record;
  if (query.marker) {
    for (const auto& r : records) {
      const Json& id = FieldOf(r, "id");
      if (id.is_string() && id.get_string() == *query.marker) {
        marker_record = r;
        break;
      }
    }
    if (!marker_record) result.marker_unknown = true;
  }

  if (!query.fields.empty() && !records.empty()) {
    for (const auto& f : query.fields) {
      bool seen = false;
      for (const auto& r : records) {
        if (r.is_object() && r.as_object().contains(f)) {
          seen = true;
          break;
        }
      }
      if (!seen) result.invalid_fields.push_back(f);
    }
  }

  std::vector<Json> kept;
  kept.reserve(records.size());
  for (auto& r : records) {
    bool ok = true;
    for (const auto& f : query.filters) {
      if (!MatchesFilter(r, f)) {
        ok = false;
        break;
      }
    }
    if (ok && marker_record && order.Compare(r, *marker_record) <= 0) ok = false;
    if (ok) kept.push_back(std::move(r));
  }
  if (result.marker_unknown) kept.clear();

  // Sort positions, not records: each record's sort fields are looked up once, ties keep the input
  // order (as a stable sort would), and with a limit only the first `limit` are ordered
  // (partial_sort: O(n log limit) for a listing of many thousand records).
  const size_t nkeys = order.keys.size();
  std::vector<const Json*> sort_fields(kept.size() * nkeys);
  for (size_t i = 0; i < kept.size(); ++i) {
    for (size_t k = 0; k < nkeys; ++k) sort_fields[i * nkeys + k] = &FieldOf(kept[i], order.keys[k].first);
  }
  auto before = [&](size_t i, size_t j) {
    for (size_t k = 0; k < nkeys; ++k) {
      int c = CompareValues(*sort_fields[i * nkeys + k], *sort_fields[j * nkeys + k]);
      if (c != 0) return order.keys[k].second ? c > 0 : c < 0;
    }
    return i < j;
  };
  std::vector<size_t> positions(kept.size());
  for (size_t i = 0; i < positions.size(); ++i) positions[i] = i;
  size_t limit = query.limit != 0 ? query.limit : query.max_limit;
  bool more = limit != 0 && kept.size() > limit;
  if (more) {
    std::partial_sort(positions.begin(), positions.begin() + static_cast<long>(limit), positions.end(),
                      before);
    positions.resize(limit);
  } else {
    std::sort(positions.begin(), positions.end(), before);
  }
  std::vector<Json> sorted;
  sorted.reserve(positions.size());
  for (size_t i : positions) sorted.push_back(std::move(kept[i]));
  kept = std::move(sorted);

  JsonArray items;
  items.reserve(kept.size());
  for (auto& r : kept) {
    if (query.fields.empty() || !r.is_object()) {
      items.push_back(std::move(r));
      continue;
    }
    JsonObject projected;
    projected["id"] = FieldOf(r, "id");
    for (const auto& f : query.fields) {
      if (f == "id") continue;
      projected[f] = FieldOf(r, f);
    }
    items.push_back(std::move(projected));
  }

  JsonObject reply;
  std::string last_id;
  if (more && !items.empty()) last_id = TextOf(FieldOf(items.back(), "id"));
  reply[collection] = std::move(items);
  if (more) reply["next"] = NextLink(request, query, limit, last_id);
  result.reply = std::move(reply);
  return result;
}

}  // namespace

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool MatchesFilter(const Json& record, const Filter& filter) {
  if (filter.op == "search") {
    const std::string& needle = filter.values.empty() ? std::string() : filter.values.front();
    for (const auto& name : filter.search_fields) {
      const Json& field = FieldOf(record, name);
      if (field.is_string() && AsciiLower(field.get_string()).find(needle) != std::string::npos)
        return true;
    }
    return false;
  }
  const Json& field = FieldOf(record, filter.field);
  if (filter.op == "in" || filter.op == "nin") {
    bool any = false;
    for (const auto& v : filter.values) {
      if (field.is_array()) {
        for (const auto& e : field.get_array()) any = any || MatchOne(e, "eq", v);
      } else {
        any = any || MatchOne(field, "eq", v);
      }
      if (any) break;
    }
    return filter.op == "in" ? any : !any;
  }
  const std::string operand = filter.values.empty() ? std::string() : filter.values.front();
  if (field.is_array() && (filter.op == "eq" || filter.op == "has")) {
    // Lists (tags): eq = one element equals, has = one element contains.
    for (const auto& e : field.get_array())
      if (MatchOne(e, filter.op, operand)) return true;
    return false;
  }
  return MatchOne(field, filter.op, operand);
}

Result<ListQuery> ParseListQuery(const http::HttpRequest& request, const std::set<std::string>& filterable,
                                 size_t max_limit) {
  return ParseListQuery(request, filterable, max_limit, {});
}

Result<ListQuery> ParseListQuery(const http::HttpRequest& request, const std::set<std::string>& filterable,
                                 size_t max_limit, const std::set<std::string>& ignored) {
  ListQuery q;
  q.max_limit = max_limit;
  bool keys_given = false, dirs_given = false;
  for (const auto& [key, value] : request.query) {
    if (key == "marker") {
      if (!value.empty()) q.marker = value;
    } else if (key == "limit") {
      if (value.empty()) continue;
      long long n = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || ptr != value.data() + value.size()) {
        return InvalidArgument("Invalid input for field/attribute limit. Value: '" + value +
                               "'. unable to convert to int");
      }
      if (n <= 0) return InvalidArgument("Limit must be positive.");
      q.limit = std::min(static_cast<size_t>(n), std::max(max_limit, kMaxRecordsPerResponse));
    } else if (key == "sort_keys") {
      if (!keys_given) q.sort_keys.clear();
      keys_given = true;
      for (auto& k : SplitComma(value)) q.sort_keys.push_back(std::move(k));
    } else if (key == "sort_dirs") {
      if (!dirs_given) q.sort_dirs.clear();
      dirs_given = true;
      for (auto& d : SplitComma(value)) q.sort_dirs.push_back(std::move(d));
    } else if (key == "fields") {
      for (auto& f : SplitComma(value)) q.fields.push_back(std::move(f));
    } else if (ignored.count(key)) {
      continue;
    } else if (filterable.count(key)) {
      q.filters.push_back(ParseFilter(key, value));
    } else {
      return InvalidArgument("Unknown argument: \"" + key + "\"");
    }
  }
  if (q.sort_keys.empty()) q.sort_keys = {"created_at"};
  if (q.sort_keys.size() < q.sort_dirs.size()) {
    return InvalidArgument("Length of sort_keys must be equal or greater than sort_dirs.");
  }
  while (q.sort_dirs.size() < q.sort_keys.size()) q.sort_dirs.push_back("asc");
  for (const auto& d : q.sort_dirs) {
    if (d != "asc" && d != "desc") {
      return InvalidArgument("Unknown sort direction, must be 'desc' or 'asc'.");
    }
  }
  if (!q.fields.empty() && std::find(q.fields.begin(), q.fields.end(), "id") == q.fields.end()) {
    q.fields.insert(q.fields.begin(), "id");
  }
  return q;
}

Json ApplyListQuery(std::vector<Json> records, const ListQuery& query, const std::string& collection,
                    const http::HttpRequest& request) {
  return Apply(std::move(records), query, collection, request).reply;
}

Result<Json> TryApplyListQuery(std::vector<Json> records, const ListQuery& query,
                               const std::string& collection, const http::HttpRequest& request) {
  Applied a = Apply(std::move(records), query, collection, request);
  if (a.marker_unknown) return NotFound("Object not found [id=" + *query.marker + "]");
  if (!a.invalid_fields.empty()) {
    std::string names;
    for (const auto& f : a.invalid_fields) names += (names.empty() ? "" : ", ") + f;
    return InvalidArgument("Field(s) " + names + " are invalid.");
  }
  return std::move(a.reply);
}

}  // namespace bora::api
