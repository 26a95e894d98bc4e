// The Bus contract: every implementation (MemoryBus now; KafkaBus joins the parameter list when it lands)
// must pass these. No sleeps: Poll's timeout bounds every wait.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <set>

#include "common/bus/bus.h"
#include "common/bus/memory_bus.h"

namespace bora {
namespace {

using namespace std::chrono_literals;

struct BusFactory {
  std::string name;
  std::function<std::unique_ptr<Bus>()> make;
};

class RecordingListener : public RebalanceListener {
 public:
  void OnAssigned(const std::vector<TopicPartition>& p) override {
    assigned.insert(p.begin(), p.end());
  }
  void OnRevoked(const std::vector<TopicPartition>& p) override {
    for (const auto& tp : p) assigned.erase(tp);
    ++revocations;
  }
  std::set<TopicPartition> assigned;
  int revocations = 0;
};

class BusContractTest : public ::testing::TestWithParam<BusFactory> {
 protected:
  void SetUp() override { bus_ = GetParam().make(); }

  // Polls until `n` messages arrived or a poll returns nothing for 2 s (then the test fails on the count).
  std::vector<BusMessage> PollN(Consumer& c, size_t n) {
    std::vector<BusMessage> out;
    while (out.size() < n) {
      auto r = c.Poll(n - out.size(), 2000ms);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->empty()) break;
      out.insert(out.end(), r->begin(), r->end());
    }
    return out;
  }

  std::unique_ptr<Bus> bus_;
};

TEST_P(BusContractTest, KeyedMessagesKeepOrderWithinPartition) {
  ASSERT_TRUE(bus_->CreateTopic("t.order", 4).ok());
  for (int i = 0; i < 40; ++i) {
    std::string key = "exec-" + std::to_string(i % 5);
    ASSERT_TRUE(bus_->Publish("t.order", key, key + ":" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(bus_->Flush(5000ms).ok());
  auto consumer = *bus_->Subscribe({"g-order", {"t.order"}, nullptr});
  auto messages = PollN(*consumer, 40);
  ASSERT_EQ(messages.size(), 40u);
  std::map<std::string, int> last_seen;
  for (const auto& m : messages) {
    EXPECT_EQ(m.partition, PartitionForKey(m.key, 4)) << "key " << m.key;
    int n = std::stoi(m.value.substr(m.value.find(':') + 1));
    auto it = last_seen.find(m.key);
    if (it != last_seen.end()) {
      EXPECT_LT(it->second, n) << "out of order for " << m.key;
    }
    last_seen[m.key] = n;
  }
  EXPECT_EQ(last_seen.size(), 5u);
}

TEST_P(BusContractTest, SeekReplaysFromOffset) {
  ASSERT_TRUE(bus_->CreateTopic("t.seek", 1).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus_->Publish("t.seek", "k", std::to_string(i)).ok());
  auto consumer = *bus_->Subscribe({"g-seek", {"t.seek"}, nullptr});
  auto first = PollN(*consumer, 10);
  ASSERT_EQ(first.size(), 10u);
  EXPECT_EQ(first[3].offset + 1, first[4].offset);
  ASSERT_TRUE(consumer->Seek({"t.seek", 0}, first[7].offset).ok());
  auto again = PollN(*consumer, 3);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].value, "7");
  EXPECT_EQ(again[2].value, "9");
}

TEST_P(BusContractTest, PollTimesOutEmptyAndWakeupReturnsEarly) {
  ASSERT_TRUE(bus_->CreateTopic("t.empty", 1).ok());
  auto consumer = *bus_->Subscribe({"g-empty", {"t.empty"}, nullptr});
  auto r = consumer->Poll(10, 50ms);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  consumer->Wakeup();
  auto w = consumer->Poll(10, 60000ms);  // would block a minute without the wakeup
  ASSERT_TRUE(w.ok());
}

TEST_P(BusContractTest, GroupMembersSplitPartitionsAndRebalanceOnLeave) {
  ASSERT_TRUE(bus_->CreateTopic("t.group", 4).ok());
  RecordingListener la, lb;
  auto a = *bus_->Subscribe({"g-split", {"t.group"}, &la});
  auto b = *bus_->Subscribe({"g-split", {"t.group"}, &lb});
  ASSERT_TRUE(a->Poll(1, 10ms).ok());
  ASSERT_TRUE(b->Poll(1, 10ms).ok());
  EXPECT_EQ(la.assigned.size() + lb.assigned.size(), 4u);
  EXPECT_FALSE(la.assigned.empty());
  EXPECT_FALSE(lb.assigned.empty());
  for (const auto& tp : la.assigned) EXPECT_FALSE(lb.assigned.contains(tp));
  b.reset();
  ASSERT_TRUE(a->Poll(1, 10ms).ok());
  EXPECT_EQ(la.assigned.size(), 4u);
}

TEST_P(BusContractTest, UnknownTopicIsAnError) {
  EXPECT_FALSE(bus_->Publish("t.missing", "k", "v").ok());
  EXPECT_FALSE(bus_->PartitionCount("t.missing").ok());
  EXPECT_FALSE(bus_->CreateTopic("t.bad", 0).ok());
}

INSTANTIATE_TEST_SUITE_P(AllBuses, BusContractTest,
                         ::testing::Values(BusFactory{"memory", [] {
                                                        return std::unique_ptr<Bus>(
                                                            std::make_unique<MemoryBus>());
                                                      }}),
                         [](const auto& info) { return info.param.name; });

TEST(PartitionForKeyTest, StableAndSpread) {
  EXPECT_EQ(PartitionForKey("abc", 1), 0);
  EXPECT_EQ(PartitionForKey("exec-1", 16), PartitionForKey("exec-1", 16));
  std::set<int> used;
  for (int i = 0; i < 200; ++i) used.insert(PartitionForKey("k" + std::to_string(i), 8));
  EXPECT_EQ(used.size(), 8u);
}

}  // namespace
}  // namespace bora
