#include "common/strong_id.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace bora {
namespace {

// No implicit conversion either way, and one kind of id is not another.
static_assert(!std::is_convertible_v<std::string, ExecutionId>);
static_assert(!std::is_convertible_v<const char*, ExecutionId>);
static_assert(!std::is_convertible_v<ExecutionId, std::string>);
static_assert(!std::is_convertible_v<int, PartitionId>);
static_assert(!std::is_convertible_v<PartitionId, int>);
static_assert(!std::is_convertible_v<uint64_t, Epoch>);
static_assert(!std::is_convertible_v<Epoch, uint64_t>);
static_assert(!std::is_convertible_v<ExecutionId, TaskExecutionId>);
static_assert(!std::is_constructible_v<TaskExecutionId, ExecutionId>);
static_assert(!std::is_constructible_v<ActionExecutionId, TaskExecutionId>);
static_assert(!std::is_constructible_v<Epoch, PartitionId>);
static_assert(std::is_constructible_v<ExecutionId, std::string>);
// Zero cost: the id is its value.
static_assert(sizeof(ExecutionId) == sizeof(std::string));
static_assert(sizeof(PartitionId) == sizeof(int));
static_assert(sizeof(Epoch) == sizeof(uint64_t));
static_assert(std::is_trivially_copyable_v<PartitionId>);
static_assert(std::is_trivially_copyable_v<Epoch>);
static_assert(std::is_nothrow_move_constructible_v<ExecutionId>);
// Usable in constant expressions.
static_assert(PartitionId(3).value() == 3);
static_assert(Epoch(1) < Epoch(2));

TEST(StrongIdTest, HoldsAndComparesItsValue) {
  ExecutionId a("a");
  EXPECT_EQ(a.value(), "a");
  EXPECT_EQ(a, ExecutionId("a"));
  EXPECT_NE(a, ExecutionId("b"));
  EXPECT_LT(a, ExecutionId("b"));
  EXPECT_TRUE(ExecutionId().value().empty());
  EXPECT_EQ(PartitionId().value(), 0);
  EXPECT_EQ(Epoch().value(), 0u);
  EXPECT_GT(Epoch(7), Epoch(6));
  EXPECT_LE(PartitionId(2), PartitionId(2));
}

TEST(StrongIdTest, MovesItsValueOut) {
  ExecutionId a(std::string(100, 'x'));
  std::string s = std::move(a).value();
  EXPECT_EQ(s.size(), 100u);
}

TEST(StrongIdTest, KeysOrderedAndUnorderedContainers) {
  std::unordered_map<ExecutionId, int> by_id;
  by_id[ExecutionId("x")] = 1;
  by_id[ExecutionId("y")] = 2;
  EXPECT_EQ(by_id.at(ExecutionId("y")), 2);
  std::unordered_set<PartitionId> parts{PartitionId(1), PartitionId(1), PartitionId(4)};
  EXPECT_EQ(parts.size(), 2u);
  std::map<Epoch, int> ordered{{Epoch(2), 2}, {Epoch(1), 1}};
  EXPECT_EQ(ordered.begin()->first, Epoch(1));
  EXPECT_EQ(std::hash<ExecutionId>()(ExecutionId("k")), std::hash<std::string>()("k"));
}

TEST(StrongIdTest, FormatsLikeItsValue) {
  EXPECT_EQ(fmt::format("{} {} {}", ExecutionId("e-1"), PartitionId(3), Epoch(42)), "e-1 3 42");
  EXPECT_EQ(fmt::format("[{:>4}]", PartitionId(7)), "[   7]");
  std::ostringstream os;
  os << TaskExecutionId("t") << '/' << ActionExecutionId("a") << '/' << Epoch(5);
  EXPECT_EQ(os.str(), "t/a/5");
  EXPECT_EQ(::testing::PrintToString(ExecutionId("p")), "p");
}

}  // namespace
}  // namespace bora
