// The README's "Jinja2 builtins (Jinja2 3.x)" table against the code: every Jinja2 3.x filter,
// test and default global has a row; each `implemented` one is used by a case in testdata/*.txt;
// each `refused` one fails with an error naming it; every entry of the Jinja tables in
// builtins_tables.cc has a row.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/expressions/expressions.h"
#include "orchestrator/expressions/internal.h"

namespace bora::expr {
namespace {

struct Row {
  std::string name, kind, status, notes;
};

std::filesystem::path ExpressionsDir() {
  for (std::filesystem::path p : {std::filesystem::path("orchestrator/expressions"),
                                  std::filesystem::path(__FILE__).parent_path()}) {
    if (std::filesystem::exists(p / "README.md")) return p;
  }
  return {};
}

std::string TrimCell(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  return s;
}

// The rows of the table whose header is exactly `| name | kind | status | notes |`.
std::vector<Row> ReadTable(const std::filesystem::path& readme) {
  std::ifstream in(readme);
  std::string line;
  std::vector<Row> rows;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (!in_table) {
      if (line == "| name | kind | status | notes |") {
        in_table = true;
        std::getline(in, line);  // the |---| separator
      }
      continue;
    }
    if (line.empty() || line[0] != '|') break;
    std::vector<std::string> cells;
    std::string cell;
    // Cells are separated by " | "; a name itself never contains one.
    std::string body = line.substr(1, line.size() - (line.back() == '|' ? 2 : 1));
    size_t p = 0;
    while (true) {
      size_t bar = body.find(" | ", p);
      cells.push_back(
          TrimCell(body.substr(p, bar == std::string::npos ? std::string::npos : bar - p)));
      if (bar == std::string::npos) break;
      p = bar + 3;
      if (cells.size() == 3) {  // notes: the rest, `|` allowed
        cells.push_back(TrimCell(body.substr(p)));
        break;
      }
    }
    EXPECT_EQ(cells.size(), 4u) << "bad row: " << line;
    if (cells.size() != 4) continue;
    rows.push_back({cells[0], cells[1], cells[2], cells[3]});
  }
  return rows;
}

bool IsIdent(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `text` contains `word` not followed by an identifier character.
bool HasWord(const std::string& text, const std::string& word) {
  for (size_t p = text.find(word); p != std::string::npos; p = text.find(word, p + 1)) {
    size_t end = p + word.size();
    if (end < text.size() && IsIdent(text[end]) && IsIdent(word.back())) continue;
    return true;
  }
  return false;
}

bool HasCall(const std::string& text, const std::string& name) {
  std::string word = name + "(";
  for (size_t p = text.find(word); p != std::string::npos; p = text.find(word, p + 1)) {
    if (p > 0 && (IsIdent(text[p - 1]) || text[p - 1] == '.')) continue;
    return true;
  }
  return false;
}

// Jinja2 3.1's jinja2.filters.FILTERS, jinja2.tests.TESTS and jinja2.defaults.DEFAULT_NAMESPACE.
const char* kJinja2Filters[] = {
    "abs",       "attr",       "batch",       "capitalize", "center",  "count",
    "d",         "default",    "dictsort",    "e",          "escape",  "filesizeformat",
    "first",     "float",      "forceescape", "format",     "groupby", "indent",
    "int",       "join",       "last",        "length",     "list",    "lower",
    "items",     "map",        "min",         "max",        "pprint",  "random",
    "reject",    "rejectattr", "replace",     "reverse",    "round",   "safe",
    "select",    "selectattr", "slice",       "sort",       "string",  "striptags",
    "sum",       "title",      "trim",        "truncate",   "unique",  "upper",
    "urlencode", "urlize",     "wordcount",   "wordwrap",   "xmlattr", "tojson"};
const char* kJinja2Tests[] = {
    "odd",     "even",   "divisibleby", "defined",  "undefined", "filter", "test",    "none",
    "boolean", "false",  "true",        "integer",  "float",     "lower",  "upper",   "string",
    "mapping", "number", "sequence",    "iterable", "callable",  "sameas", "escaped", "in",
    "==",      "eq",     "equalto",     "!=",       "ne",        ">",      "gt",      "greaterthan",
    "ge",      ">=",     "<",           "lt",       "lessthan",  "<=",     "le"};
const char* kJinja2Globals[] = {"range", "dict", "lipsum", "cycler", "joiner", "namespace"};

TEST(JinjaBuiltinTable, MatchesCodeAndTests) {
  std::filesystem::path dir = ExpressionsDir();
  ASSERT_FALSE(dir.empty()) << "orchestrator/expressions not found";
  std::vector<Row> rows = ReadTable(dir / "README.md");
  ASSERT_GT(rows.size(), 90u) << "table '| name | kind | status | notes |' not found in README.md";

  std::map<std::pair<std::string, std::string>, Row> by_key;
  for (const Row& r : rows) {
    EXPECT_TRUE(r.kind == "filter" || r.kind == "test" || r.kind == "global")
        << r.name << ": kind '" << r.kind << "'";
    EXPECT_TRUE(r.status == "implemented" || r.status == "refused")
        << r.name << ": status '" << r.status << "'";
    EXPECT_TRUE(by_key.emplace(std::make_pair(r.kind, r.name), r).second)
        << "duplicate row " << r.kind << " " << r.name;
  }

  // Every Jinja2 builtin has a row.
  for (const char* n : kJinja2Filters) EXPECT_TRUE(by_key.count({"filter", n})) << "filter " << n;
  for (const char* n : kJinja2Tests) EXPECT_TRUE(by_key.count({"test", n})) << "test " << n;
  for (const char* n : kJinja2Globals) EXPECT_TRUE(by_key.count({"global", n})) << "global " << n;

  // Every entry of the code's tables has a row.
  for (const char* kind : {"filter", "test", "global"}) {
    for (const std::string& n : internal::JinjaBuiltinNames(kind))
      EXPECT_TRUE(by_key.count({kind, n}))
          << kind << " '" << n << "' of builtins_tables.cc has no row";
  }

  // The test cases.
  std::vector<std::string> cases;
  for (const auto& e : std::filesystem::directory_iterator(dir / "testdata")) {
    if (e.path().extension() != ".txt") continue;
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != '#' && line[0] != '@') cases.push_back(line);
  }
  ASSERT_FALSE(cases.empty());

  Json data = JsonObject();
  for (const Row& r : rows) {
    if (r.status == "implemented") {
      bool used = std::any_of(cases.begin(), cases.end(), [&](const std::string& c) {
        if (r.kind == "filter") return HasWord(c, "| " + r.name) || HasWord(c, "|" + r.name);
        if (r.kind == "global") return HasCall(c, r.name);
        if (!IsIdent(r.name[0])) {  // ==, <, ...: usable only by name in select() / reject()
          return c.find("'" + r.name + "'") != std::string::npos &&
                 (c.find("select") != std::string::npos || c.find("reject") != std::string::npos);
        }
        return HasWord(c, "is " + r.name) || HasWord(c, "is not " + r.name);
      });
      EXPECT_TRUE(used) << r.kind << " '" << r.name
                        << "' is implemented but no testdata case uses it";
      continue;
    }
    std::string text = r.kind == "filter" ? "{{ 1 | " + r.name + " }}"
                       : r.kind == "test" ? "{{ 1 is " + r.name + " }}"
                                          : "{{ " + r.name + "() }}";
    Result<Json> result = EvaluateOnce(text, data);
    ASSERT_FALSE(result.ok()) << text << " should fail: " << r.name << " is refused";
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << result.status().ToString();
    EXPECT_NE(result.status().message().find("'" + r.name + "'"), std::string::npos)
        << text << ": " << result.status().message();
    EXPECT_NE(result.status().message().find("not supported"), std::string::npos)
        << text << ": " << result.status().message();
  }
}

}  // namespace
}  // namespace bora::expr
