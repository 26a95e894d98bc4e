// The Bus contract: every implementation (MemoryBus, and KafkaBus against the real broker that
// scripts/services.sh starts; its address comes from $BORA_KAFKA) must pass these. Each test uses its own topic
// and group names, so the broker is shared. No sleeps: Poll's timeout bounds every wait.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "common/bus/bus.h"
#include "common/bus/memory_bus.h"
#include "common/disk/disk_bus_journal.h"
#include "common/ids.h"
#include "common/kafka/kafka_bus.h"
#ifdef BORA_BUS_CONTRACT_KAFKA_CLUSTER
#include "tests/integration/kafka_cluster_service.h"
#endif

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
  void SetUp() override {
    bus_ = GetParam().make();
    ASSERT_NE(bus_, nullptr) << "no bus: for Kafka run scripts/services.sh start and export BORA_KAFKA";
    prefix_ = "t" + NewUuid().substr(0, 8) + ".";
  }
  std::string T(const std::string& name) { return prefix_ + name; }

  // Polls `consumers` in turn until `done()` or 60 s pass (group rebalances on a real broker take seconds).
  bool PollUntil(std::vector<Consumer*> consumers, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      for (auto* c : consumers) {
        if (!c->Poll(1, 100ms).ok()) return false;
      }
    }
    return done();
  }

  // Polls until `n` messages arrived or a poll returns nothing for 15 s (then the test fails on the count).
  std::vector<BusMessage> PollN(Consumer& c, size_t n) {
    std::vector<BusMessage> out;
    while (out.size() < n) {
      auto r = c.Poll(n - out.size(), 15000ms);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || r->empty()) break;
      out.insert(out.end(), r->begin(), r->end());
    }
    return out;
  }

  std::unique_ptr<Bus> bus_;
  std::string prefix_;
};

TEST_P(BusContractTest, KeyedMessagesKeepOrderWithinPartition) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.order"), 4).ok());
  for (int i = 0; i < 40; ++i) {
    std::string key = "exec-" + std::to_string(i % 5);
    ASSERT_TRUE(bus_->Publish(T("t.order"), key, key + ":" + std::to_string(i)).ok());
  }
  ASSERT_TRUE(bus_->Flush(5000ms).ok());
  auto consumer = *bus_->Subscribe({T("g-order"), {T("t.order")}, nullptr});
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

// PublishMany: every record reaches its topic and its key's partition, in order per key.
TEST_P(BusContractTest, PublishManyDeliversEveryRecordInOrder) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.many.a"), 3).ok());
  ASSERT_TRUE(bus_->CreateTopic(T("t.many.b"), 1).ok());
  std::vector<Bus::TopicRecord> records;
  for (int i = 0; i < 30; ++i) {
    records.push_back({T(i % 3 == 0 ? "t.many.b" : "t.many.a"), "k" + std::to_string(i % 4),
                       std::to_string(i)});
  }
  ASSERT_TRUE(bus_->PublishMany(records).ok());
  ASSERT_TRUE(bus_->Flush(5000ms).ok());
  auto a = *bus_->Subscribe({T("g-many-a"), {T("t.many.a")}, nullptr});
  auto b = *bus_->Subscribe({T("g-many-b"), {T("t.many.b")}, nullptr});
  auto from_a = PollN(*a, 20);
  auto from_b = PollN(*b, 10);
  ASSERT_EQ(from_a.size(), 20u);
  ASSERT_EQ(from_b.size(), 10u);
  std::map<std::string, int> last;
  for (const auto* list : {&from_a, &from_b}) {
    for (const auto& m : *list) {
      int n = std::stoi(m.value);
      EXPECT_EQ(m.topic, T(n % 3 == 0 ? "t.many.b" : "t.many.a")) << n;
      EXPECT_EQ(m.key, "k" + std::to_string(n % 4));
      EXPECT_EQ(m.partition, PartitionForKey(m.key, n % 3 == 0 ? 1 : 3));
      std::string order_key = m.topic + "/" + m.key;
      if (last.count(order_key)) EXPECT_LT(last[order_key], n) << "out of order: " << order_key;
      last[order_key] = n;
    }
  }
}

TEST_P(BusContractTest, SeekReplaysFromOffset) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.seek"), 1).ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(bus_->Publish(T("t.seek"), "k", std::to_string(i)).ok());
  auto consumer = *bus_->Subscribe({T("g-seek"), {T("t.seek")}, nullptr});
  auto first = PollN(*consumer, 10);
  ASSERT_EQ(first.size(), 10u);
  EXPECT_EQ(first[3].offset + 1, first[4].offset);
  ASSERT_TRUE(consumer->Seek({T("t.seek"), 0}, first[7].offset).ok());
  auto again = PollN(*consumer, 3);
  ASSERT_EQ(again.size(), 3u);
  EXPECT_EQ(again[0].value, "7");
  EXPECT_EQ(again[2].value, "9");
}

TEST_P(BusContractTest, HeadersTravelWithTheMessage) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.headers"), 2).ok());
  BusHeaders headers = {{"ce_type", "com.example.created"}, {"ce_id", "1"}, {"empty", ""},
                        {"ce_id", "repeated"}};
  ASSERT_TRUE(bus_->PublishWithHeaders(T("t.headers"), "k", "{\"a\":1}", headers).ok());
  ASSERT_TRUE(bus_->Publish(T("t.headers"), "k", "plain").ok());
  ASSERT_TRUE(bus_->Flush(5000ms).ok());
  auto consumer = *bus_->Subscribe({T("g-headers"), {T("t.headers")}, nullptr});
  auto messages = PollN(*consumer, 2);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].value, "{\"a\":1}");
  EXPECT_EQ(messages[0].headers, headers);
  EXPECT_EQ(messages[1].value, "plain");
  EXPECT_TRUE(messages[1].headers.empty());
}

// A message of the protocol's size limit (8 MiB, sdk/protocol kMaxMessageBytes) travels: Kafka's
// default topic limit (1 MiB) refused action results the protocol accepts, and their tasks hung.
TEST_P(BusContractTest, MessagesUpToTheProtocolLimitTravel) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.big"), 1).ok());
  const std::string big(8 << 20, 'x');
  ASSERT_TRUE(bus_->PublishAndWait(T("t.big"), {{"k", big, {}}}, 30000ms).ok());
  auto consumer = *bus_->Subscribe({T("g-big"), {T("t.big")}, nullptr});
  auto messages = PollN(*consumer, 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].value.size(), big.size());
}

TEST_P(BusContractTest, PublishAndWaitReturnsOnceItsOwnRecordsAreDurable) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.wait"), 2).ok());
  // Another publisher keeps messages in flight the whole time: PublishAndWait must not wait for them
  // (a Flush could wait for a moment with nothing in flight).
  std::atomic<bool> stop{false};
  std::thread noise([&] {
    while (!stop) (void)bus_->Publish(T("t.wait"), "noise", "n");
  });
  std::vector<Bus::Record> records = {{"a", "1", {}}, {"b", "2", {{"h", "v"}}}, {"a", "3", {}}};
  Status s = bus_->PublishAndWait(T("t.wait"), records, 10000ms);
  stop = true;
  noise.join();
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(bus_->Flush(10000ms).ok());
  auto consumer = *bus_->Subscribe({T("g-wait"), {T("t.wait")}, nullptr});
  std::map<std::string, std::vector<std::string>> by_key;
  std::map<std::string, BusHeaders> headers;
  while (by_key["a"].size() < 2 || by_key["b"].size() < 1) {
    auto r = consumer->Poll(1000, 15000ms);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_FALSE(r->empty()) << "records missing";
    for (const auto& m : *r) {
      if (m.key == "noise") continue;
      by_key[m.key].push_back(m.value);
      headers[m.value] = m.headers;
    }
  }
  EXPECT_EQ(by_key["a"], (std::vector<std::string>{"1", "3"}));
  EXPECT_EQ(by_key["b"], (std::vector<std::string>{"2"}));
  EXPECT_EQ(headers["2"], (BusHeaders{{"h", "v"}}));
  EXPECT_FALSE(bus_->PublishAndWait(T("no.such.topic.") + NewUuid(), {{"k", "v", {}}}, 2000ms).ok());
}

TEST_P(BusContractTest, PollTimesOutEmptyAndWakeupReturnsEarly) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.empty"), 1).ok());
  auto consumer = *bus_->Subscribe({T("g-empty"), {T("t.empty")}, nullptr});
  auto r = consumer->Poll(10, 50ms);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  consumer->Wakeup();
  auto w = consumer->Poll(10, 60000ms);  // would block a minute without the wakeup
  ASSERT_TRUE(w.ok());
}

TEST_P(BusContractTest, GroupMembersSplitPartitionsAndRebalanceOnLeave) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.group"), 4).ok());
  RecordingListener la, lb;
  auto a = *bus_->Subscribe({T("g-split"), {T("t.group")}, &la});
  auto b = *bus_->Subscribe({T("g-split"), {T("t.group")}, &lb});
  ASSERT_TRUE(PollUntil({a.get(), b.get()}, [&] {
    return la.assigned.size() + lb.assigned.size() == 4 && !la.assigned.empty() && !lb.assigned.empty();
  }));
  EXPECT_EQ(la.assigned.size() + lb.assigned.size(), 4u);
  EXPECT_FALSE(la.assigned.empty());
  EXPECT_FALSE(lb.assigned.empty());
  for (const auto& tp : la.assigned) EXPECT_FALSE(lb.assigned.contains(tp));
  b.reset();
  ASSERT_TRUE(PollUntil({a.get()}, [&] { return la.assigned.size() == 4; }));
  EXPECT_EQ(la.assigned.size(), 4u);
}

TEST_P(BusContractTest, ANewGroupMemberStartsAtTheCommittedOffset) {
  ASSERT_TRUE(bus_->CreateTopic(T("t.commit"), 1).ok());
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(bus_->Publish(T("t.commit"), "k", std::to_string(i)).ok());
  ASSERT_TRUE(bus_->Flush(5000ms).ok());
  {
    auto first = *bus_->Subscribe({T("g-commit"), {T("t.commit")}, nullptr});
    auto got = PollN(*first, 6);
    ASSERT_EQ(got.size(), 6u);
    ASSERT_TRUE(first->Commit({T("t.commit"), 0}, got[4].offset).ok());  // 0..3 done, 4 and 5 not
    ASSERT_TRUE(first->Poll(1, 200ms).ok());  // lets an asynchronous commit go out
  }
  auto second = *bus_->Subscribe({T("g-commit"), {T("t.commit")}, nullptr});
  auto again = PollN(*second, 2);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].value, "4");
  EXPECT_EQ(again[1].value, "5");
}

TEST_P(BusContractTest, UnknownTopicIsAnErrorAndCreateIsIdempotent) {
  EXPECT_FALSE(bus_->PartitionCount(T("missing")).ok());
  EXPECT_FALSE(bus_->CreateTopic(T("bad"), 0).ok());
  ASSERT_TRUE(bus_->CreateTopic(T("twice"), 2).ok());
  EXPECT_TRUE(bus_->CreateTopic(T("twice"), 2).ok()) << "CreateTopic must be idempotent";
}

std::unique_ptr<Bus> MakeKafkaOn(const std::string& brokers) {
  if (brokers.empty()) return nullptr;
  KafkaBusOptions options;
  options.brokers = brokers;
  options.session_timeout_ms = 6000;
  auto bus = KafkaBus::Create(options);
  EXPECT_TRUE(bus.ok()) << bus.status().ToString();
  return bus.ok() ? std::unique_ptr<Bus>(std::move(*bus)) : nullptr;
}

// Built a second time with BORA_BUS_CONTRACT_KAFKA_CLUSTER (bus_contract_kafka_cluster_test):
// KafkaBus on the three brokers of scripts/kafka_cluster.sh (replication factor 3,
// min.insync.replicas=2), and nothing else.
#ifdef BORA_BUS_CONTRACT_KAFKA_CLUSTER

std::unique_ptr<Bus> MakeKafkaCluster() {
  auto brokers = bora::testing::KafkaClusterBrokers();
  EXPECT_TRUE(brokers.ok()) << brokers.status().ToString();
  return MakeKafkaOn(brokers.ok() ? *brokers : "");
}

INSTANTIATE_TEST_SUITE_P(KafkaCluster, BusContractTest,
                         ::testing::Values(BusFactory{"kafka_cluster", MakeKafkaCluster}),
                         [](const auto& info) { return info.param.name; });

#else

std::unique_ptr<Bus> MakeKafka() {
  const char* brokers = std::getenv("BORA_KAFKA");
  return MakeKafkaOn(brokers != nullptr ? brokers : "");
}

// The single node's bus: a MemoryBus whose log is on disk (a DiskDb in a directory of its own under
// one temporary directory, removed when the test program exits).
std::unique_ptr<Bus> MakeDisk() {
  static struct Root {
    std::filesystem::path path;
    Root() {
      std::string tmpl = (std::filesystem::temp_directory_path() / "bora-bus-XXXXXX").string();
      path = mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
    }
    ~Root() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  } root;
  disk::DiskDbOptions options;
  options.path = (root.path / NewUuid()).string();
  auto db = disk::DiskDb::Open(options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  auto bus = disk::OpenDiskBus(*db);
  EXPECT_TRUE(bus.ok()) << bus.status().ToString();
  return bus.ok() ? std::unique_ptr<Bus>(std::move(*bus)) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    AllBuses, BusContractTest,
    ::testing::Values(
        BusFactory{"memory", [] { return std::unique_ptr<Bus>(std::make_unique<MemoryBus>()); }},
        BusFactory{"disk", MakeDisk}, BusFactory{"kafka", MakeKafka}),
    [](const auto& info) { return info.param.name; });

TEST(PartitionForKeyTest, StableAndSpread) {
  EXPECT_EQ(PartitionForKey("abc", 1), 0);
  EXPECT_EQ(PartitionForKey("exec-1", 16), PartitionForKey("exec-1", 16));
  std::set<int> used;
  for (int i = 0; i < 200; ++i) used.insert(PartitionForKey("k" + std::to_string(i), 8));
  EXPECT_EQ(used.size(), 8u);
}

#endif  // BORA_BUS_CONTRACT_KAFKA_CLUSTER

}  // namespace
}  // namespace bora
