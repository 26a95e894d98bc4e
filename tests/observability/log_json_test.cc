// The JSON-lines log format (common/log.h): one valid JSON object per line, the message escaped,
// and the execution_id / task_id / partition fields of the logging thread's scope.
#include <gtest/gtest.h>

#include "common/json.h"
#include "common/log.h"

namespace bora {
namespace {

TEST(JsonLog, LinesAreJsonWithFields) {
  struct Case {
    std::string name;
    std::string message;
    LogFields fields;
    std::vector<std::pair<std::string, std::string>> want;  // key -> dumped value; "" = absent
  };
  const Case cases[] = {
      {"plain", "hello", {}, {{"msg", "\"hello\""}, {"execution_id", ""}, {"partition", ""}}},
      {"escapes",
       "a \"quoted\"\\ line\nnext\t\x01",
       {},
       {{"msg", R"("a \"quoted\"\\ line\nnext\t\u0001")"}}},
      {"fields",
       "x",
       {"e-1", "t-2", 3},
       {{"execution_id", "\"e-1\""}, {"task_id", "\"t-2\""}, {"partition", "3"}}},
      {"partition only", "x", {{}, {}, 0}, {{"partition", "0"}, {"task_id", ""}}},
      {"utf8", "h\xc3\xa9llo", {}, {{"msg", "\"h\xc3\xa9llo\""}}},
  };
  for (const auto& c : cases) {
    std::string line = FormatJsonLogLine("warn", c.message, c.fields);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n') << c.name;
    EXPECT_EQ(line.find('\n'), line.size() - 1) << c.name << ": one line";
    auto json = ParseJson(line);
    ASSERT_TRUE(json.ok()) << c.name << ": " << line;
    ASSERT_TRUE(json->is_object());
    const auto& obj = json->get_object();
    EXPECT_EQ(DumpJson(obj.at("level")), "\"warning\"") << c.name;
    EXPECT_TRUE(obj.contains("time")) << c.name;
    for (const auto& [key, value] : c.want) {
      if (value.empty()) {
        EXPECT_FALSE(obj.contains(key)) << c.name << ": " << key;
      } else {
        ASSERT_TRUE(obj.contains(key)) << c.name << ": " << key;
        EXPECT_EQ(DumpJson(obj.at(key)), value) << c.name << ": " << key;
      }
    }
  }
}

TEST(JsonLog, ScopedFieldsNestAndRestore) {
  EXPECT_TRUE(CurrentLogFields().execution_id.empty());
  {
    ScopedLogFields outer({"exec", {}, 5});
    EXPECT_EQ(CurrentLogFields().execution_id, "exec");
    {
      ScopedLogFields inner({{}, "task", -1});
      EXPECT_EQ(CurrentLogFields().execution_id, "exec");  // kept from the outer scope
      EXPECT_EQ(CurrentLogFields().task_id, "task");
      EXPECT_EQ(CurrentLogFields().partition, 5);
    }
    EXPECT_TRUE(CurrentLogFields().task_id.empty());
    EXPECT_EQ(CurrentLogFields().partition, 5);
  }
  EXPECT_TRUE(CurrentLogFields().execution_id.empty());
  EXPECT_EQ(CurrentLogFields().partition, -1);
}

TEST(JsonLog, ParseLogFormat) {
  LogFormat f = LogFormat::kText;
  EXPECT_TRUE(ParseLogFormat("json", &f));
  EXPECT_EQ(f, LogFormat::kJson);
  EXPECT_TRUE(ParseLogFormat("text", &f));
  EXPECT_EQ(f, LogFormat::kText);
  EXPECT_FALSE(ParseLogFormat("xml", &f));
}

}  // namespace
}  // namespace bora
