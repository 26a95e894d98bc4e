// Tests of the bounded YAML loader: PyYAML (YAML 1.1) scalar typing, locations, merge keys and
// limits.
#include "orchestrator/language/yaml_loader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <regex>
#include <string>

#include "orchestrator/language/parser.h"

namespace bora::lang {
namespace {

Json LoadValue(const std::string& scalar_text) {
  auto r = LoadYaml("a: " + scalar_text + "\n", YamlLimits{});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return nullptr;
  return YamlToJson(**r).as_object().at("a");
}

struct TypingCase {
  const char* text;
  const char* expected_json;  // compact JSON of the PyYAML safe_load value
};

// Expected values checked against PyYAML 6.0 safe_load.
const TypingCase kTypingCases[] = {
    {"1e3", R"("1e3")"},
    {"1.0e3", R"("1.0e3")"},
    {"1.0e+3", "1E3"},
    {".5", "5E-1"},
    {"0o17", R"("0o17")"},
    {"017", "15"},
    {"0x1F", "31"},
    {"0b101", "5"},
    {"1_000", "1000"},
    {"1:30", "90"},
    {"1:30.5", "9.05E1"},
    {"yes", "true"},
    {"Yes", "true"},
    {"YES", "true"},
    {"yEs", R"("yEs")"},
    {"on", "true"},
    {"Off", "false"},
    {"NO", "false"},
    {"y", R"("y")"},
    {"n", R"("n")"},
    {"~", "null"},
    {"null", "null"},
    {"Null", "null"},
    {"nUll", R"("nUll")"},
    {"", "null"},
    {"1.", "1E0"},
    {"+1", "1"},
    {"-0", "0"},
    {"0_", "0"},
    {"08", R"("08")"},
    {"1__0", "10"},
    {"._5", R"("._5")"},
    {".5e+3", "5E2"},
    {"1.5_0", "1.5E0"},
    {"-.5", R"("-.5")"},
    {"12e+3", R"("12e+3")"},
    {"1.2.3", R"("1.2.3")"},
    {"0b", R"("0b")"},
    {"0x", R"("0x")"},
    {"'yes'", R"("yes")"},
    {"\"1\"", R"("1")"},
    {"!!str 12", R"("12")"},
    {"!!int '12'", "12"},
    {"!!float 1", "1E0"},
    {"-17", "-17"},
    {"true", "true"},
    {"FALSE", "false"},
    {"2.0", "2E0"},
    {"hello world", R"("hello world")"},
    {"<% $.x %>", R"("<% $.x %>")"},
    {"9223372036854775807", "9223372036854775807"},
    {"18446744073709551615", "18446744073709551615"},
    {"2001-12-14", R"("2001-12-14")"},  // PyYAML makes a date; JSON has none, kept as text
};

TEST(YamlLoaderTest, ScalarTypingFollowsPyYaml) {
  for (const auto& c : kTypingCases) {
    Json v = LoadValue(c.text);
    auto expected = ParseJson(c.expected_json);
    ASSERT_TRUE(expected.ok()) << c.expected_json;
    EXPECT_TRUE(
        (JsonEquals(v, *expected) && v.kind() == expected->kind()) ||
        (v.is_double() && expected->is_double() && v.get_double() == expected->get_double()))
        << "'" << c.text << "' -> " << DumpJson(v) << ", expected " << c.expected_json;
  }
}

// Differential check of the hand-written int/float matchers against PyYAML's resolver regexes.
TEST(YamlLoaderTest, NumberResolutionMatchesPyYamlRegexes) {
  const std::regex int_re(
      "^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
      "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$");
  const std::regex float_re(
      "^(?:[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$");
  const std::string alphabet = "0123456789_:.-+eEbx7";
  std::mt19937 rng(42);
  int numbers = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    size_t len = 1 + rng() % 7;
    for (size_t i = 0; i < len; ++i) s.push_back(alphabet[rng() % alphabet.size()]);
    if (s[0] == '.' && n % 5 == 0) s += "inf";
    bool is_int = std::regex_match(s, int_re);
    bool is_float = std::regex_match(s, float_re);
    Json v = ResolvePlainScalar(s);
    bool numeric = v.is_int64() || v.is_uint64() || v.is_double();
    bool digitless =
        s.find_first_of("123456789") == std::string::npos && s.find('0') == std::string::npos;
    if ((is_int || is_float) && !numeric &&
        (digitless || s.find("0b") != std::string::npos || s.find("0x") != std::string::npos)) {
      continue;  // e.g. "0b_": PyYAML's constructor raises; we keep the text
    }
    numbers += numeric;
    EXPECT_EQ(numeric, is_int || is_float) << "'" << s << "' -> " << DumpJson(v);
    if (is_float) {
      EXPECT_TRUE(v.is_double()) << s;
    }
    if (is_int && numeric) {
      EXPECT_FALSE(v.is_double() && v.as_double() < 1e18) << s;
    }
  }
  EXPECT_GT(numbers, 1000);
}

// JSON numbers are finite: PyYAML's .inf and .nan, and floats beyond a double, are refused with
// their location (they were loaded as infinity and NaN, which no JSON writer can carry).
TEST(YamlLoaderTest, SpecialFloatsAreRefused) {
  for (const char* text : {".inf", "-.inf", ".nan", ".NaN", "1.0e+309", "!!float 1.0e+400"}) {
    int line = 0, column = 0;
    auto r = LoadYaml(std::string("a: ") + text + "\n", YamlLimits{}, &line, &column);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find("is out of range: JSON numbers must be finite"),
              std::string::npos)
        << r.status().message();
    EXPECT_EQ(line, 1);
    EXPECT_EQ(column, 4);
  }
  EXPECT_EQ(LoadValue("1.0e-400"), Json(0.0));  // an underflow is 0.0, as in Python
  EXPECT_EQ(LoadValue("1.5e+308"), Json(1.5e308));
}

TEST(YamlLoaderTest, BlockScalarsAreStrings) {
  auto r = LoadYaml("a: |\n  yes\nb: >\n  12\n", YamlLimits{});
  ASSERT_TRUE(r.ok());
  Json v = YamlToJson(**r);
  EXPECT_EQ(v.at("a"), Json("yes\n"));
  EXPECT_EQ(v.at("b"), Json("12\n"));
}

TEST(YamlLoaderTest, NonStringKeysBecomeJsonText) {
  auto r = LoadYaml("on: 1\n1: 2\n~: 3\n", YamlLimits{});
  ASSERT_TRUE(r.ok());
  Json v = YamlToJson(**r);
  EXPECT_EQ(v.at("true"), Json(1));
  EXPECT_EQ(v.at("1"), Json(2));
  EXPECT_EQ(v.at("null"), Json(3));
}

TEST(YamlLoaderTest, LocationsAreOneBased) {
  auto r = LoadYaml("a:\n  b: [1, x]\n", YamlLimits{});
  ASSERT_TRUE(r.ok());
  const YamlNode& root = **r;
  const auto* a = root.Find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->key_line, 1);
  EXPECT_EQ(a->key_column, 1);
  const auto* b = a->value->Find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->key_line, 2);
  EXPECT_EQ(b->key_column, 3);
  EXPECT_EQ(b->value->line, 2);
  EXPECT_EQ(b->value->column, 6);
  EXPECT_EQ(b->value->items[1]->column, 10);
}

// PyYAML keeps the last of two equal keys silently; a definition must not lose a task that way.
TEST(YamlLoaderTest, DuplicateKeyIsRefusedAtTheSecondKey) {
  int line = 0, column = 0;
  auto r = LoadYaml("a: 1\nb:\n  c: 2\n  c: 3\n", YamlLimits{}, &line, &column);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "duplicate key 'c' in a mapping (first at 3:3)");
  EXPECT_EQ(line, 4);
  EXPECT_EQ(column, 3);
  // A merge key's values may be overridden by the mapping's own keys: not a duplicate.
  auto merged = LoadYaml("base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\n", YamlLimits{});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
}

TEST(YamlLoaderTest, AnchorsAliasesAndMergeKeys) {
  auto r = LoadYaml(
      "base: &b {x: 1, y: 2}\n"
      "other: &o {z: 3}\n"
      "use: *b\n"
      "merged:\n"
      "  <<: [*b, *o]\n"
      "  y: 20\n",
      YamlLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Json v = YamlToJson(**r);
  EXPECT_EQ(DumpJson(v.at("use")), R"({"x":1,"y":2})");
  EXPECT_EQ(DumpJson(v.at("merged")), R"({"x":1,"y":20,"z":3})");
}

TEST(YamlLoaderTest, QuotedMergeKeyIsAnOrdinaryKey) {
  auto r = LoadYaml("a: &a {x: 1}\nb:\n  '<<': *a\n", YamlLimits{});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(DumpJson(YamlToJson(**r).at("b")), R"({"<<":{"x":1}})");
}

TEST(YamlLoaderTest, QuotedScalarsWithEscapedQuotes) {
  auto r = LoadYaml("a: 'it''s'\nb: \"say \\\"hi\\\"\"\nc: \"x\" # \"\n", YamlLimits{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(DumpJson(YamlToJson(**r)), R"({"a":"it's","b":"say \"hi\"","c":"x"})");
}

TEST(YamlLoaderTest, EmptyDocumentIsNull) {
  auto r = LoadYaml("# only a comment\n", YamlLimits{});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->IsNull());
}

struct ErrorCase {
  const char* name;
  std::string text;
  YamlLimits limits;
  StatusCode code;
  const char* message;
  int line;  // 0 = do not check
};

std::string Nested(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "[";
  for (int i = 0; i < depth; ++i) s += "]";
  return s;
}

std::string BillionLaughs() {
  std::string s = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  std::string prev = "a";
  for (int i = 0; i < 9; ++i) {
    std::string name(1, static_cast<char>('b' + i));
    s += name + ": &" + name + " [";
    for (int j = 0; j < 10; ++j) s += (j ? ", *" : "*") + prev;
    s += "]\n";
    prev = name;
  }
  return s;
}

TEST(YamlLoaderTest, ErrorsAndLimits) {
  YamlLimits small;
  small.max_document_bytes = 16;
  YamlLimits few_aliases;
  few_aliases.max_aliases = 2;
  YamlLimits many_aliases;
  many_aliases.max_aliases = 1000;
  const ErrorCase cases[] = {
      {"oversized", "a: 12345678901234567890", small, StatusCode::kResourceExhausted,
       "max_document_bytes", 0},
      {"deep flow", Nested(100), YamlLimits{}, StatusCode::kResourceExhausted, "max_depth", 1},
      {"very deep flow", Nested(5000), YamlLimits{}, StatusCode::kResourceExhausted, "deep", 0},
      {"aliases", "a: &a 1\nb: [*a, *a, *a]\n", few_aliases, StatusCode::kResourceExhausted,
       "max_aliases", 2},
      {"billion laughs", BillionLaughs(), many_aliases, StatusCode::kResourceExhausted, "max_nodes",
       0},
      {"syntax", "a: [1, 2\nb: 3\n", YamlLimits{}, StatusCode::kInvalidArgument, "invalid YAML", 0},
      {"two documents", "a: 1\n---\nb: 2\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "single YAML document", 2},
      {"undefined alias", "a: *nope\n", YamlLimits{}, StatusCode::kInvalidArgument, "invalid YAML",
       1},
      {"unsafe tag", "a: !!python/name:os.system x\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "unsupported YAML tag", 1},
      {"bad int tag", "a: !!int abc\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "cannot construct", 1},
      {"complex key", "? [1, 2]\n: x\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "must be a scalar", 0},
      {"open double quote", "a: 1\nb: \"open\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "not closed", 2},
      {"open single quote", "a: 'it''s\n", YamlLimits{}, StatusCode::kInvalidArgument, "not closed",
       1},
      {"merge of scalar", "a:\n  <<: 3\n", YamlLimits{}, StatusCode::kInvalidArgument, "merge key",
       0},
      {"invalid UTF-8 in a key", "version: '2.0'\nw\xff: {}\n", YamlLimits{},
       StatusCode::kInvalidArgument, "not valid UTF-8 (byte 0xff)", 2},
      {"truncated sequence", "a: \"\xc3\"\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "not valid UTF-8", 1},
      {"overlong encoding", "a: b\nc: \xc0\xaf\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "not valid UTF-8", 2},
      {"surrogate", "a: \xed\xa0\x80\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "not valid UTF-8", 1},
      {"beyond U+10FFFF", "# \xf4\x90\x80\x80\n", YamlLimits{}, StatusCode::kInvalidArgument,
       "not valid UTF-8", 1},
  };
  for (const auto& c : cases) {
    int line = -1, column = -1;
    auto r = LoadYaml(c.text, c.limits, &line, &column);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.status().code(), c.code) << c.name << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.name << ": " << r.status().message();
    if (c.line) {
      EXPECT_EQ(line, c.line) << c.name;
    }
  }
}

// The location of invalid UTF-8 is its line and column (in characters); valid multi-byte text
// loads.
TEST(YamlLoaderTest, InvalidUtf8IsRefusedWithItsLocation) {
  int line = 0, column = 0;
  auto r = LoadYaml("a: 1\nnäme\xe2\x82: x\n", YamlLimits{}, &line, &column);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(line, 2);
  EXPECT_EQ(column, 5);
  auto ok = LoadYaml("näme: \"€ 😀\"\n", YamlLimits{});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ((*ok)->Find("näme")->value->scalar, Json("€ 😀"));
}

TEST(YamlLoaderTest, DeepBlockNestingWithinLimitLoads) {
  std::string s;
  for (int i = 0; i < 60; ++i)
    s += std::string(static_cast<size_t>(i) * 2, ' ') + "k" + std::to_string(i) + ":\n";
  auto r = LoadYaml(s, YamlLimits{});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
}

TEST(YamlLoaderTest, ParseDocumentReportsLimitCodes) {
  ParseOptions options;
  options.max_depth = 4;
  auto r =
      ParseDocument("version: '2.0'\nwf:\n  tasks:\n    t1:\n      input: {a: {b: 1}}\n", options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("<input>:5:"), std::string::npos) << r.status().message();

  ParseOptions tiny;
  tiny.max_document_bytes = 10;
  auto big = ParseDocument(std::string(11, ' '), tiny);
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace bora::lang
