#include <gtest/gtest.h>

#include <cmath>

#include "common/check.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/json_text.h"
#include "common/status.h"

namespace bora {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  BORA_ASSIGN_OR_RETURN(int h, Half(x));
  return Half(h);
}

TEST(StatusTest, ResultCarriesValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().ToString(), "INVALID_ARGUMENT: odd: 3");
  EXPECT_EQ(r.status().WithContext("task t1").message(), "task t1: odd: 3");
}

TEST(ClockTest, ManualClockAdvancesAndFormats) {
  ManualClock clock;
  EXPECT_EQ(FormatMistralTime(clock.NowUs()), "2026-01-01 00:00:00");
  clock.AdvanceSeconds(61.5);
  EXPECT_EQ(FormatMistralTime(clock.NowUs()), "2026-01-01 00:01:01");
  EXPECT_EQ(FormatIsoTime(clock.NowUs()), "2026-01-01T00:01:01.500000Z");
}

// A broken invariant aborts naming the place, the condition and the message; a kept one costs the
// condition only (the message is not built).
TEST(CheckDeathTest, BrokenCheckAbortsWithFileLineConditionAndMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int three = 3;
  EXPECT_DEATH(BORA_CHECK(three == 4) << "three is " << three,
               "common_test\\.cc:[0-9]+: check failed: three == 4: three is 3");
  EXPECT_DEATH(BORA_CHECK(three < 0), "check failed: three < 0");
}

TEST(CheckTest, KeptCheckEvaluatesTheConditionOnceAndNotTheMessage) {
  int evaluated = 0, streamed = 0;
  BORA_CHECK(++evaluated == 1) << ++streamed;
  EXPECT_EQ(evaluated, 1);
  EXPECT_EQ(streamed, 0);
}

TEST(CheckDeathTest, DcheckIsCompiledOutInReleaseBuildsOnly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int evaluated = 0;
#ifdef NDEBUG
  BORA_DCHECK(++evaluated == 5) << "never built";
  EXPECT_EQ(evaluated, 0);
#else
  EXPECT_DEATH(BORA_DCHECK(++evaluated == 5) << "debug build", "check failed: .*: debug build");
  BORA_DCHECK(++evaluated == 1);
  EXPECT_EQ(evaluated, 1);
#endif
}

TEST(IdsTest, UuidV4Shape) {
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_NE(a, b);
  EXPECT_TRUE(IsUuidLike(a));
  EXPECT_EQ(a[14], '4');
  EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
  EXPECT_FALSE(IsUuidLike("my_workflow"));
  SequentialIdGenerator gen;
  EXPECT_EQ(gen.Next(), "00000000-0000-4000-8000-000000000001");
}

TEST(IdsTest, NameBasedUuidMatchesRfc4122Version5) {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org"), and one in the events namespace.
  EXPECT_EQ(NameBasedUuid("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  EXPECT_EQ(NameBasedUuid("b07a0000-e7e1-5000-8000-000000000001", "x"),
            "4ca39f42-ec56-5cde-b3b0-bf64600bbb48");
  EXPECT_NE(NameBasedUuid("b07a0000-e7e1-5000-8000-000000000001", "y"),
            NameBasedUuid("b07a0000-e7e1-5000-8000-000000000001", "x"));
}

TEST(JsonTest, ParseErrorsSayWhere) {
  auto r = ParseJson("{\"a\": 1,\n \"b\": }");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  EXPECT_FALSE(ParseJson("[[[[1]]]]", 3).ok());
  EXPECT_FALSE(ParseJson("1 2").ok());
  EXPECT_TRUE(ParseJson("[[[1]]]", 3).ok());
}

// The one rule for numbers: JSON numbers are finite. Text beyond a double (which Boost.JSON turns
// into infinity) is refused naming the field; a finite integer beyond uint64 is a double.
TEST(JsonTest, NumbersBeyondADoubleAreRefusedNamingTheField) {
  const std::string digits400(400, '9');
  struct Case {
    std::string text;
    std::string path;
  } cases[] = {
      {"1e309", "(the value itself)"},
      {R"({"a": {"b": [0, -1e999]}})", "a.b[1]"},
      {R"({"n": )" + digits400 + "}", "n"},
      {"[[1], [2, 1E400]]", "[1][1]"},
  };
  for (const Case& c : cases) {
    auto r = ParseJson(c.text);
    ASSERT_FALSE(r.ok()) << c.text << " => " << DumpJson(*r);
    EXPECT_NE(r.status().message().find("number out of range at '" + c.path + "'"),
              std::string::npos)
        << r.status().message();
    EXPECT_TRUE(IsNonFiniteNumberError(r.status()));
  }
  EXPECT_EQ(DumpJson(*ParseJson("[1e308, 1e-400, 123456789012345678901234567890]")),
            "[1E308,0E0,1.2345678901234568E29]");
  EXPECT_EQ(CheckFiniteNumbers(JsonObject{{"x", std::nan("")}}, "input").message().substr(0, 34),
            "number out of range at 'input.x': ");
  EXPECT_TRUE(CheckFiniteNumbers(JsonObject{{"x", 1.5}}, "input").ok());
}

// Defence in depth: the writers never emit Infinity or NaN, which no JSON reader accepts.
TEST(JsonTest, WritersNeverEmitInfinityOrNaN) {
  Json v = JsonObject{{"a", HUGE_VAL}, {"b", JsonArray{-HUGE_VAL, std::nan(""), 1.5}}};
  EXPECT_EQ(DumpJson(v), R"({"a":null,"b":[null,null,1.5E0]})");
  EXPECT_EQ(PythonJsonDumps(v), R"({"a": null, "b": [null, null, 1.5]})");
  std::string out;
  EXPECT_FALSE(AppendJson(out, v));
  EXPECT_EQ(out, DumpJson(v));
  out.clear();
  EXPECT_TRUE(AppendJson(out, JsonArray{1.5}));
  Json deep = HUGE_VAL;  // deeper than the writer's recursion: Boost's serializer's part
  for (int i = 0; i < 40; ++i) deep = JsonArray{deep};
  out.clear();
  EXPECT_FALSE(AppendJson(out, deep));
  EXPECT_EQ(out, std::string(40, '[') + "null" + std::string(40, ']'));
  EXPECT_TRUE(ParseJson(out, 64).ok());
}

TEST(JsonTest, PythonFormatting) {
  Json v = *ParseJson(R"({"a": 1, "b": [true, null, "x'y", 2.5], "c": {"d": "é"}})");
  EXPECT_EQ(PythonStr(v), "{'a': 1, 'b': [True, None, \"x'y\", 2.5], 'c': {'d': 'é'}}");
  EXPECT_EQ(PythonJsonDumps(v), R"({"a": 1, "b": [true, null, "x'y", 2.5], "c": {"d": "\u00e9"}})");
  EXPECT_EQ(PythonJsonDumps(*ParseJson(R"({"a":[1]})"), 4), "{\n    \"a\": [\n        1\n    ]\n}");
  EXPECT_EQ(PythonStr(Json("plain")), "plain");
  EXPECT_EQ(PythonFloatRepr(1.0), "1.0");
  EXPECT_EQ(PythonFloatRepr(0.1), "0.1");
  EXPECT_EQ(PythonFloatRepr(1e16), "1e+16");
  EXPECT_EQ(PythonFloatRepr(123456789012345.0), "123456789012345.0");
  EXPECT_EQ(PythonFloatRepr(0.00001), "1e-05");
  EXPECT_EQ(PythonFloatRepr(0.0001), "0.0001");
  EXPECT_EQ(PythonFloatRepr(-2.5e-7), "-2.5e-07");
}

TEST(JsonTest, TruthinessEqualityMerge) {
  EXPECT_FALSE(IsTruthy(Json(nullptr)));
  EXPECT_FALSE(IsTruthy(Json("")));
  EXPECT_FALSE(IsTruthy(Json(JsonArray())));
  EXPECT_TRUE(IsTruthy(Json(0.5)));
  EXPECT_TRUE(JsonEquals(Json(1), Json(1.0)));
  EXPECT_FALSE(JsonEquals(Json(1), Json("1")));
  Json base = *ParseJson(R"({"a": {"x": 1, "y": 2}, "b": 1})");
  DeepMerge(base, *ParseJson(R"({"a": {"y": 3, "z": 4}, "c": [1]})"));
  EXPECT_EQ(DumpJson(base), R"({"a":{"x":1,"y":3,"z":4},"b":1,"c":[1]})");
  EXPECT_EQ(PythonTypeName(Json(1.5)), "float");
}

}  // namespace
}  // namespace bora
