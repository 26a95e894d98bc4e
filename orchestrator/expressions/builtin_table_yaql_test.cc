// The README's "YAQL standard library (yaql 2.0)" table (header `| function | module | status |
// notes |`) against the code: each `implemented` row's name occurs in a case of testdata/*.txt;
// each `refused` function fails with an error when called (operator rows are exempt: they are not
// callable by name); every entry of builtins_tables.cc's kYaql table has a row.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "orchestrator/expressions/expressions.h"
#include "orchestrator/expressions/internal.h"
#include "orchestrator/expressions/yaql_library.h"

namespace bora::expr {
namespace {

struct YaqlRow {
  std::string function, module, status, notes;
  int line = 0;
};

std::filesystem::path Dir() {
  for (std::filesystem::path p : {std::filesystem::path("orchestrator/expressions"),
                                  std::filesystem::path(__FILE__).parent_path()}) {
    if (std::filesystem::exists(p / "README.md")) return p;
  }
  return {};
}

std::string Cell(std::string s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  return s;
}

// Splits a markdown table row on unescaped '|'.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (line[i] == '|') {
      out.push_back(Cell(cur));
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  return out;
}

// Rows of every table whose header is exactly `| function | module | status | notes |`.
std::vector<YaqlRow> ReadTable(const std::filesystem::path& readme) {
  std::ifstream in(readme);
  std::vector<YaqlRow> rows;
  std::string line;
  bool in_table = false;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line == "| function | module | status | notes |") {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.rfind("|", 0) != 0) {
      in_table = false;
      continue;
    }
    if (line.rfind("|---", 0) == 0) continue;
    auto c = Cells(line);
    if (c.size() < 4) {
      ADD_FAILURE() << "README.md:" << n << ": row with fewer than 4 cells";
      continue;
    }
    rows.push_back({c[0], c[1], c[2], c[3], n});
  }
  return rows;
}

std::string AllCases() {
  std::string all;
  for (const auto& e : std::filesystem::directory_iterator(Dir() / "testdata")) {
    if (e.path().extension() != ".txt") continue;
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line[0] == '@') continue;
      size_t sep = line.rfind(" ==> ");
      if (sep != std::string::npos) all += line.substr(0, sep) + "\n";
    }
  }
  return all;
}

bool IsOperatorRow(const YaqlRow& r) { return r.function.rfind("operator ", 0) == 0; }

// What must occur in a case for the row to count as tested.
std::string Needle(const YaqlRow& r) {
  if (!IsOperatorRow(r)) return r.function;
  std::string op = r.function.substr(r.function.rfind(' ') + 1);
  if (op == "[...]") return "[";
  if (op == "{...}") return "{";
  if (op == "$name") return "$";
  return op;
}

TEST(YaqlBuiltinTable, ReadmeTableMatchesCodeAndTests) {
  ASSERT_FALSE(Dir().empty());
  std::vector<YaqlRow> rows = ReadTable(Dir() / "README.md");
  ASSERT_GT(rows.size(), 200u) << "README table `| function | module | status | notes |` missing";
  std::string cases = AllCases();
  std::set<std::string> names;
  static const std::set<std::string> kModules = {"queries", "strings",     "regex",   "date_time",
                                                 "math",    "collections", "boolean", "branching",
                                                 "common",  "system",      "mistral"};
  int implemented = 0, refused = 0;
  for (const YaqlRow& r : rows) {
    names.insert(r.function);
    std::string where = "README.md:" + std::to_string(r.line) + " (" + r.function + ")";
    EXPECT_TRUE(kModules.count(r.module)) << where << ": unknown module '" << r.module << "'";
    if (r.status == "implemented") {
      ++implemented;
      EXPECT_NE(cases.find(Needle(r)), std::string::npos)
          << where << ": implemented but no case in testdata/*.txt uses it";
    } else if (r.status == "refused") {
      ++refused;
      EXPECT_FALSE(r.notes.empty()) << where << ": a refused row must give the reason";
      if (IsOperatorRow(r)) continue;  // operators are not callable by name
      Json data = JsonObject();
      auto got = EvaluateOnce("<% " + r.function + "() %>", data, nullptr, Limits());
      EXPECT_FALSE(got.ok()) << where << ": refused but `" << r.function << "()` gave "
                             << DumpJson(*got);
      if (!got.ok()) {
        EXPECT_NE(got.status().message().find(r.function), std::string::npos)
            << where << ": the error should name the function: " << got.status().ToString();
      }
    } else {
      ADD_FAILURE() << where << ": status must be 'implemented' or 'refused', got '" << r.status
                    << "'";
    }
  }
  EXPECT_GT(implemented, 0);
  EXPECT_GT(refused, 0);
  for (size_t i = 0; i < internal::YaqlBuiltinCount(); ++i) {
    std::string name = internal::YaqlBuiltin(static_cast<int>(i)).name;
    EXPECT_TRUE(names.count(name)) << "kYaql entry '" << name << "' has no README row";
  }
}

// Every refused function that has a kYaql entry gives its reason.
TEST(YaqlBuiltinTable, RefusedFunctionsExplainWhy) {
  for (const char* name :
       {"sequence", "cycle", "generateMany", "isSet", "def", "call", "unpack", "replaceBy"}) {
    Json data = JsonObject();
    auto got = EvaluateOnce(std::string("<% ") + name + "(1) %>", data, nullptr, Limits());
    ASSERT_FALSE(got.ok()) << name;
    EXPECT_NE(
        got.status().message().find(std::string("function '") + name + "' is not supported: " +
                                    std::string(internal::RefusalReason(name))),
        std::string::npos)
        << got.status().ToString();
  }
}

}  // namespace
}  // namespace bora::expr
