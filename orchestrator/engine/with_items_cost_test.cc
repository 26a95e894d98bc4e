// The cost of launching one with-items item must not grow with the size of the execution's context:
// a with-items over a list held in the input once copied the whole context for every item (O(n^2) for an
// n-item list). Measured deterministically, by the bytes allocated per item (this binary replaces the
// global operator new to count them), not by time.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "orchestrator/engine/test_driver.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<uint64_t> g_bytes{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace bora::engine::testing {
namespace {

// Bytes allocated per item by a whole with-items execution over an `items`-long input list.
double BytesPerItem(int items) {
  constexpr char kYaml[] = R"(
version: '2.0'
wf:
  input: [xs]
  tasks:
    each:
      with-items: x in <% $.xs %>
      action: std.echo output=<% $.x %>
)";
  TestDriver d;
  EXPECT_TRUE(d.LoadYaml(kYaml).ok());
  JsonArray xs;
  for (int i = 0; i < items; ++i) xs.push_back(Json(i));
  Json input = JsonObject{{"xs", std::move(xs)}};
  g_bytes = 0;
  g_counting = true;
  auto id = d.Start("wf", input);
  g_counting = false;
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  const ExecutionState* st = d.Find(*id);
  EXPECT_EQ(st->state, State::kSuccess) << st->state_info.value_or("");
  Json result = st->FindLatestTask("each")->Result();
  EXPECT_EQ(result.get_array().size(), static_cast<size_t>(items));
  EXPECT_TRUE(JsonEquals(result.get_array().back(), Json(items - 1)));
  return static_cast<double>(g_bytes.load()) / items;
}

TEST(WithItemsCostTest, BytesPerItemDoNotGrowWithTheList) {
  double small = BytesPerItem(1000);
  double large = BytesPerItem(8000);
  std::printf("bytes allocated per item: %.0f at 1,000 items, %.0f at 8,000 items\n", small, large);
  // Copying the 8,000-item list for each item alone would be ~128 KB per item.
  EXPECT_LT(large, small * 1.5);
}

}  // namespace
}  // namespace bora::engine::testing
