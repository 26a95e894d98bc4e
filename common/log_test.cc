// Structured log lines (LogLine / LogValue, common/log.h) in both formats.
#include <gtest/gtest.h>

#include <limits>

#include "common/json.h"
#include "common/log_line.h"

namespace bora {
namespace {

TEST(LogLine, TextHasKeyValuesThenScopeFields) {
  EXPECT_EQ(FormatTextLogLine("access", {},
                              {LogValue::Str("method", "GET"), LogValue::Int("status", 200),
                               LogValue::Fixed("duration_ms", 1.23456)}),
            "access method=GET status=200 duration_ms=1.235");
  EXPECT_EQ(FormatTextLogLine("execution started", {"e-1", {}, 2}, {LogValue::Str("id", "e-1")}),
            "execution started id=e-1 [execution_id=e-1 partition=2]");
  EXPECT_EQ(FormatTextLogLine("plain", {}, {}), "plain");
}

TEST(LogLine, TextQuotesValuesThatAreNotOneWord) {
  EXPECT_EQ(FormatTextLogLine(
                "x", {},
                {LogValue::Str("reason", "Failed: \"boom\"\nnext"), LogValue::Str("empty", ""),
                 LogValue::Str("eq", "a=b"), LogValue::Str("path", "/v2/executions?limit=1&x")}),
            "x reason=\"Failed: \\\"boom\\\"\\nnext\" empty=\"\" eq=a=b "
            "path=/v2/executions?limit=1&x");
}

TEST(LogLine, JsonHasValuesAsFieldsNumbersUnquoted) {
  std::string line = FormatJsonLogLine(
      "info", "access", {"e-9", {}, -1},
      {LogValue::Str("method", "POST"), LogValue::Str("path", "/v2/x?\"q\""),
       LogValue::Int("status", 201), LogValue::Int("bytes", 0), LogValue::Fixed("duration_ms", 2.5),
       LogValue::Str("reason", "line1\nline2")});
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto json = ParseJson(line);
  ASSERT_TRUE(json.ok()) << line;
  const auto& obj = json->get_object();
  EXPECT_EQ(DumpJson(obj.at("msg")), "\"access\"");
  EXPECT_EQ(DumpJson(obj.at("method")), "\"POST\"");
  EXPECT_EQ(DumpJson(obj.at("path")), R"("/v2/x?\"q\"")");
  ASSERT_TRUE(obj.at("status").is_int64()) << line;
  EXPECT_EQ(obj.at("status").as_int64(), 201);
  EXPECT_EQ(obj.at("bytes").as_int64(), 0);
  ASSERT_TRUE(obj.at("duration_ms").is_double()) << line;
  EXPECT_DOUBLE_EQ(obj.at("duration_ms").as_double(), 2.5);
  EXPECT_EQ(obj.at("reason").as_string(), "line1\nline2");
  EXPECT_EQ(obj.at("execution_id").as_string(), "e-9");
}

TEST(LogLine, NonFiniteNumbersStayValidJson) {
  std::string line = FormatJsonLogLine(
      "info", "x", {}, {LogValue::Fixed("d", std::numeric_limits<double>::infinity())});
  EXPECT_TRUE(ParseJson(line).ok()) << line;
}

TEST(LogLine, ValuesDoNotLeakIntoLaterLines) {
  (void)FormatJsonLogLine("info", "x", {}, {LogValue::Str("k", "v")});
  std::string later = FormatJsonLogLine("info", "y", {}, {});
  EXPECT_EQ(later.find("\"k\""), std::string::npos) << later;
  EXPECT_EQ(FormatTextLogLine("y", {}, {}), "y");
}

}  // namespace
}  // namespace bora
