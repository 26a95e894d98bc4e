#include "workers/external_actions.h"

#include <gtest/gtest.h>

#include "workers/action.h"

namespace bora::workers {
namespace {

ActionSignature Reverse() {
  ActionSignature s;
  s.name = "py.reverse";
  s.pool = "python";
  s.description = "reverses text";
  s.params = {{"text", true, nullptr}, {"suffix", false, Json("!")}};
  return s;
}

TEST(ExternalActionsTest, RecordRoundTripAndBadRecordsNameTheirMember) {
  Json record = ExternalActionRecord(Reverse());
  EXPECT_EQ(DumpJson(record),
            R"({"name":"py.reverse","pool":"python","params":[{"name":"text","required":true,)"
            R"("default":null},{"name":"suffix","required":false,"default":"!"}],)"
            R"("accepts_any_params":false,"description":"reverses text"})");
  auto back = ExternalActionFromRecord(record);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(DumpJson(ExternalActionRecord(*back)), DumpJson(record));

  auto bad = ExternalActionFromRecord(*ParseJson(R"({"name": "x", "pool": 3})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("pool"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(ExternalActionFromRecord(*ParseJson(R"({"name": "", "pool": "p"})")).ok());
}

TEST(ExternalActionsTest, RegistryDeclaresLooksUpOncePerSecondAndKeepsBuiltIns) {
  ActionRegistry registry;
  ActionSignature echo;
  echo.name = "std.echo";
  registry.Register(echo, nullptr);
  ActionSignature taken = Reverse();
  taken.name = "std.echo";
  EXPECT_FALSE(registry.DeclareExternal(taken)) << "a built-in name cannot be taken over";

  int lookups = 0;
  std::optional<ActionSignature> stored;
  registry.SetExternalLookup([&](std::string_view name) -> std::optional<ActionSignature> {
    ++lookups;
    if (stored && stored->name == name) return stored;
    return std::nullopt;
  });
  EXPECT_EQ(registry.FindSignature("py.reverse"), nullptr);
  EXPECT_EQ(registry.FindSignature("py.reverse"), nullptr);
  EXPECT_EQ(lookups, 1) << "a miss is looked up at most once a second";

  ASSERT_TRUE(registry.DeclareExternal(Reverse()));
  const ActionSignature* found = registry.FindSignature("py.reverse");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->pool, "python");
  // A new declaration replaces it; the old pointer stays valid.
  ActionSignature again = Reverse();
  again.description = "v2";
  ASSERT_TRUE(registry.DeclareExternal(again));
  EXPECT_EQ(found->description, "reverses text");
  EXPECT_EQ(registry.FindSignature("py.reverse")->description, "v2");

  stored = Reverse();
  stored->name = "py.other";
  const ActionSignature* other = registry.FindSignature("py.other");
  ASSERT_NE(other, nullptr) << "declared in another process: found through the lookup";
  EXPECT_EQ(lookups, 2);
  EXPECT_EQ(registry.FindSignature("py.other"), other);
  EXPECT_EQ(lookups, 2) << "then known here";
  EXPECT_EQ(registry.ExternalSignatures().size(), 2u);
  auto names = registry.Names();
  EXPECT_EQ(names.size(), 3u);
}

}  // namespace
}  // namespace bora::workers

namespace bora::workers {
namespace {

TEST(ExternalActionsTest, InputSpecs) {
  auto p = ParseActionInputSpec(
      "text, suffix='!', n=1, opts={\"a\": [1, 2]}, flag=True, none=None, raw=x y");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 7u);
  EXPECT_TRUE((*p)[0].required);
  EXPECT_EQ((*p)[1].default_value, Json("!"));
  EXPECT_EQ((*p)[2].default_value, Json(1));
  EXPECT_EQ(DumpJson((*p)[3].default_value), R"({"a":[1,2]})");
  EXPECT_EQ((*p)[4].default_value, Json(true));
  EXPECT_TRUE((*p)[5].default_value.is_null());
  EXPECT_EQ((*p)[6].default_value, Json("x y"));
  EXPECT_TRUE(ParseActionInputSpec("").ok());
  EXPECT_TRUE(ParseActionInputSpec("  ")->empty());
  for (const char* bad : {"1abc", "a b", "=1", "a, , b"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseActionInputSpec(bad).ok());
  }
}

// Mistral's generated OpenStack actions list a Python signature's variadic parameters: with a place
// for it, `**kwargs` says "any further input" and `*args` is left out; without, both are errors.
TEST(ExternalActionsTest, InputSpecsWithVariadicParameters) {
  bool any = false;
  auto p = ParseActionInputSpec("image_id, remove_props=null, *args, **kwargs", &any);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].name, "image_id");
  EXPECT_EQ((*p)[1].name, "remove_props");
  EXPECT_TRUE(any);
  any = false;
  ASSERT_TRUE(ParseActionInputSpec("queue_name, *messages", &any).ok());
  EXPECT_FALSE(any);
  EXPECT_FALSE(ParseActionInputSpec("image_id, **kwargs").ok());
  EXPECT_FALSE(ParseActionInputSpec("*args").ok());
}

}  // namespace
}  // namespace bora::workers
