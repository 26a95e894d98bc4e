#include "tests/observability/dashboard_check.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/metrics/metrics.h"

namespace bora::observability {

namespace {

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

// `expr` without string literals and without what is between {} and [] (label matchers, ranges).
std::string StripLiteralsAndMatchers(const std::string& expr) {
  std::string out;
  int brace = 0, bracket = 0;
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      char quote = c;
      for (++i; i < expr.size() && expr[i] != quote; ++i) {
        if (expr[i] == '\\' && quote != '`') ++i;
      }
      out += ' ';
      continue;
    }
    if (c == '{') ++brace;
    if (c == '[') ++bracket;
    if (brace == 0 && bracket == 0) out += c;
    if (c == '}' && brace > 0) --brace;
    if (c == ']' && bracket > 0) --bracket;
    if ((c == '}' || c == ']') && brace == 0 && bracket == 0) out += ' ';
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

const Json* Find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.get_object().find(key);
  return it == obj.get_object().end() ? nullptr : &it->value();
}

std::string StringAt(const Json& obj, std::string_view key) {
  const Json* v = Find(obj, key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

void CollectPanels(const Json& panels, std::vector<const Json*>* out) {
  if (!panels.is_array()) return;
  for (const auto& p : panels.get_array()) {
    out->push_back(&p);
    if (const Json* nested = Find(p, "panels")) CollectPanels(*nested, out);
  }
}

}  // namespace

Result<std::vector<DashboardFile>> LoadDashboards(const std::string& dir) {
  std::vector<DashboardFile> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    auto json = ParseJson(text.str());
    if (!json.ok()) return json.status().WithContext(entry.path().string());
    out.push_back({entry.path().string(), std::move(*json)});
  }
  if (ec) return NotFound("cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

std::set<std::string> KnownMetricNames() {
  // `up`: Prometheus' own series per scrape target (0 when the scrape failed), which the
  // processes-up panel and the instance variable read so that a dead process shows instead of
  // vanishing.
  std::set<std::string> out = {"up"};
  for (const auto& f : metrics::Describe()) {
    out.insert(f.name);
    if (f.type == "histogram") {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) out.insert(f.name + suffix);
    }
  }
  return out;
}

std::set<std::string> MetricNamesInExpr(const std::string& raw) {
  static const std::set<std::string> kKeywords = {
      "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left",
      "group_right", "inf", "nan", "start", "end",
      // aggregation operators (may be followed by `by (...)`)
      "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
      "topk", "quantile"};
  static const std::set<std::string> kGrouping = {"by",       "without",    "on",
                                                  "ignoring", "group_left", "group_right"};
  const std::string e = StripLiteralsAndMatchers(raw);
  std::set<std::string> out;
  size_t i = 0;
  while (i < e.size()) {
    char c = e[i];
    if (c == '$') {  // Grafana variable: $name (the ${...} form lost its braces above)
      ++i;
      while (i < e.size() && IsIdentChar(e[i])) ++i;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {  // number or duration
      while (i < e.size() && (IsIdentChar(e[i]) || e[i] == '.')) ++i;
      continue;
    }
    if (!IsIdentStart(c)) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < e.size() && IsIdentChar(e[i])) ++i;
    std::string word = e.substr(start, i - start);
    size_t j = i;
    while (j < e.size() && std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    bool call = j < e.size() && e[j] == '(';
    if (kGrouping.contains(word)) {
      if (call) {  // skip the label list
        int depth = 0;
        for (i = j; i < e.size(); ++i) {
          if (e[i] == '(') ++depth;
          if (e[i] == ')' && --depth == 0) {
            ++i;
            break;
          }
        }
      }
      continue;
    }
    if (call || kKeywords.contains(Lower(word))) continue;
    out.insert(word);
  }
  return out;
}

std::vector<PanelExpr> PanelExprs(const Json& dashboard) {
  std::vector<PanelExpr> out;
  std::vector<const Json*> panels;
  if (const Json* p = Find(dashboard, "panels")) CollectPanels(*p, &panels);
  std::string uid = StringAt(dashboard, "uid");
  for (const Json* p : panels) {
    const Json* targets = Find(*p, "targets");
    if (!targets || !targets->is_array()) continue;
    for (const auto& t : targets->get_array()) {
      out.push_back({uid, StringAt(*p, "title"), StringAt(t, "refId"), StringAt(t, "expr")});
    }
  }
  return out;
}

std::vector<std::string> CheckDashboard(const Json& d, const std::set<std::string>& known) {
  std::vector<std::string> problems;
  auto problem = [&](std::string s) { problems.push_back(std::move(s)); };
  if (!d.is_object()) return {"not a JSON object"};
  if (StringAt(d, "uid").empty()) problem("no uid");
  if (StringAt(d, "uid").size() > 40) problem("uid longer than Grafana's 40 characters");
  if (StringAt(d, "title").empty()) problem("no title");
  std::string text = DumpJson(d);
  if (text.find("${DS_") != std::string::npos || Find(d, "__inputs") != nullptr) {
    problem("uses import inputs (${DS_...} / __inputs) instead of the datasource variable");
  }
  // The datasource variable.
  bool has_ds_var = false;
  std::vector<std::string> var_queries;
  if (const Json* templating = Find(d, "templating")) {
    if (const Json* list = Find(*templating, "list"); list && list->is_array()) {
      for (const auto& v : list->get_array()) {
        if (StringAt(v, "name") == "datasource" && StringAt(v, "type") == "datasource" &&
            StringAt(v, "query") == "prometheus") {
          has_ds_var = true;
        }
        if (StringAt(v, "type") == "query") {
          std::string q = StringAt(v, "definition");
          if (q.empty()) {
            if (const Json* query = Find(v, "query"))
              q = query->is_string() ? StringAt(v, "query") : StringAt(*query, "query");
          }
          var_queries.push_back(q);
        }
      }
    }
  }
  if (!has_ds_var)
    problem("no `datasource` template variable of type datasource (query: prometheus)");
  // Panels.
  std::vector<const Json*> panels;
  if (const Json* p = Find(d, "panels")) CollectPanels(*p, &panels);
  if (panels.empty()) problem("no panels");
  std::set<int64_t> ids;
  for (const Json* p : panels) {
    std::string title = StringAt(*p, "title");
    std::string where = "panel '" + title + "'";
    if (StringAt(*p, "type") == "row") continue;
    if (title.empty()) problem("a panel without a title");
    if (const Json* id = Find(*p, "id");
        !id || !id->is_int64() || !ids.insert(id->as_int64()).second) {
      problem(where + ": missing or duplicate id");
    }
    if (!Find(*p, "gridPos")) problem(where + ": no gridPos");
    const Json* ds = Find(*p, "datasource");
    if (!ds || StringAt(*ds, "uid") != "${datasource}" || StringAt(*ds, "type") != "prometheus") {
      problem(where + ": datasource is not {type: prometheus, uid: ${datasource}}");
    }
    const Json* targets = Find(*p, "targets");
    if (!targets || !targets->is_array() || targets->get_array().empty()) {
      problem(where + ": no targets");
      continue;
    }
    for (const auto& t : targets->get_array()) {
      std::string expr = StringAt(t, "expr");
      if (expr.empty()) {
        problem(where + ": a target without expr");
        continue;
      }
      if (StringAt(t, "refId").empty()) problem(where + ": a target without refId");
      for (const auto& name : MetricNamesInExpr(expr)) {
        if (!known.contains(name)) problem(where + ": unknown metric " + name + " in " + expr);
      }
    }
  }
  for (std::string q : var_queries) {
    // label_values(metric, label): only the first argument is PromQL.
    if (q.rfind("label_values(", 0) == 0) {
      q = q.substr(13);
      if (auto comma = q.rfind(','); comma != std::string::npos) q.resize(comma);
    }
    for (const auto& name : MetricNamesInExpr(q)) {
      if (!known.contains(name)) problem("variable query: unknown metric " + name + " in " + q);
    }
  }
  return problems;
}

std::string ExpandVariables(const std::string& expr, const std::string& interval) {
  static const std::set<std::string> kIntervals = {"__rate_interval", "__interval", "__range"};
  std::string out;
  for (size_t i = 0; i < expr.size();) {
    std::string name;
    size_t end = i;
    if (expr.compare(i, 2, "${") == 0) {
      end = expr.find('}', i);
      if (end == std::string::npos) break;
      name = expr.substr(i + 2, end - i - 2);
      if (auto colon = name.find(':'); colon != std::string::npos) name.resize(colon);
      ++end;
    } else if (expr.compare(i, 2, "[[") == 0 && expr.find("]]", i) != std::string::npos) {
      end = expr.find("]]", i);
      name = expr.substr(i + 2, end - i - 2);
      end += 2;
    } else if (expr[i] == '$' && i + 1 < expr.size() && IsIdentStart(expr[i + 1])) {
      end = i + 1;
      while (end < expr.size() && IsIdentChar(expr[end])) ++end;
      name = expr.substr(i + 1, end - i - 1);
    } else {
      out += expr[i++];
      continue;
    }
    out += kIntervals.contains(name) ? interval : std::string(".*");
    i = end;
  }
  return out;
}

}  // namespace bora::observability
