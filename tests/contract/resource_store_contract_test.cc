// The ResourceStore contract: every implementation (MemoryResourceStore over a ManualClock, and
// RedisResourceStore against the real redis-server that scripts/services.sh starts; its address
// comes from $BORA_REDIS, and the Redis cases fail without it). Each Redis case uses its own key
// prefix, so the server is shared. Dedupe expiry is checked without sleeping: the memory store's
// clock is advanced; on Redis the key's PTTL is checked and the key is then expired with PEXPIRE 0
// (what Redis does when the TTL runs out).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include "common/disk/disk_db.h"
#include "common/ids.h"
#include "common/redis/redis_client.h"
#include "orchestrator/store/memory_resource_store.h"
#include "orchestrator/store/redis_resource_store.h"
#include "orchestrator/store/rocksdb_resource_store.h"
#ifdef BORA_REDIS_CLUSTER_DIR
#include "tests/redis_cluster/redis_cluster_support.h"
#endif

namespace bora::store {
namespace {

// A store plus a way to make a remembered key's TTL run out.
struct Harness {
  std::unique_ptr<ResourceStore> store;
  // Makes `key` (remembered with `ttl`) expire; checks the TTL the store set on the way.
  std::function<void(const std::string& key, std::chrono::milliseconds ttl)> expire;
  std::shared_ptr<void> keep_alive;
};

struct StoreFactory {
  std::string name;
  std::function<Harness()> make;
};
void PrintTo(const StoreFactory& f, std::ostream* os) { *os << f.name; }

[[maybe_unused]] Harness MakeMemory() {
  auto clock = std::make_shared<ManualClock>();
  Harness h;
  h.store = std::make_unique<MemoryResourceStore>(clock.get());
  h.expire = [clock](const std::string&, std::chrono::milliseconds ttl) {
    clock->AdvanceUs(ttl.count() * 1000 - 1);  // not yet
    clock->AdvanceUs(1);                       // exactly at the TTL: expired
  };
  h.keep_alive = clock;
  return h;
}

// On disk: a DiskDb in a temporary directory (removed with the harness), over a ManualClock.
[[maybe_unused]] Harness MakeDisk() {
  struct Keep {
    std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
    std::filesystem::path dir;
    ~Keep() {
      std::error_code ec;
      if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    }
  };
  auto keep = std::make_shared<Keep>();
  std::string tmpl = (std::filesystem::temp_directory_path() / "bora-res-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) return {};
  keep->dir = tmpl;
  disk::DiskDbOptions options;
  options.path = (keep->dir / "data").string();
  auto db = disk::DiskDb::Open(options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return {};
  Harness h;
  h.store = std::make_unique<RocksDbResourceStore>(*db, keep->clock.get());
  h.expire = [clock = keep->clock](const std::string&, std::chrono::milliseconds ttl) {
    clock->AdvanceUs(ttl.count() * 1000 - 1);  // not yet
    clock->AdvanceUs(1);                       // exactly at the TTL: expired
  };
  h.keep_alive = keep;
  return h;
}

Harness MakeRedisAt(const std::string& url) {
  Harness h;
  if (url.empty()) return h;
  std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
  auto store = RedisResourceStore::Connect(url, prefix);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return h;
  auto raw = RedisClient::Connect(url);
  EXPECT_TRUE(raw.ok()) << raw.status().ToString();
  if (!raw.ok()) return h;
  std::shared_ptr<RedisClient> client(std::move(*raw));
  RedisResourceStore* rs = store->get();
  h.expire = [client, rs](const std::string& key, std::chrono::milliseconds ttl) {
    auto pttl = client->Command({"PTTL", rs->DedupeKey(key)});
    ASSERT_TRUE(pttl.ok()) << pttl.status().ToString();
    long long left = std::stoll((*pttl)->Str());
    EXPECT_GT(left, 0);
    EXPECT_LE(left, ttl.count());
    ASSERT_TRUE(client->Command({"PEXPIRE", rs->DedupeKey(key), "0"}).ok());
  };
  h.store = std::move(*store);
  h.keep_alive = client;
  return h;
}
[[maybe_unused]] Harness MakeRedis() {
  const char* url = std::getenv("BORA_REDIS");
  return MakeRedisAt(url == nullptr ? "" : url);
}

class ResourceStoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override {
    h_ = GetParam().make();
    ASSERT_NE(h_.store, nullptr)
        << "no store: for Redis run scripts/services.sh start and export BORA_REDIS";
    store_ = h_.store.get();
  }
  void TearDown() override { h_.store.reset(); }  // closes a disk store before its directory goes
  Json J(const char* text) { return *ParseJson(text); }

  Harness h_;
  ResourceStore* store_ = nullptr;
};

TEST_P(ResourceStoreContractTest, PutGetDeleteRoundTrip) {
  EXPECT_FALSE(store_->Get("workflows", "a")->has_value());
  Json record = J(R"({"id": "1", "name": "a", "n": 1.5, "l": [1, "x", null], "o": {"k": true}})");
  ASSERT_TRUE(store_->Put("workflows", "a", record).ok());
  auto got = store_->Get("workflows", "a");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(DumpJson(**got), DumpJson(record));
  // Kinds are separate.
  EXPECT_FALSE(store_->Get("actions", "a")->has_value());
  // Put replaces.
  ASSERT_TRUE(store_->Put("workflows", "a", J(R"({"v": 2})")).ok());
  EXPECT_EQ(DumpJson(**store_->Get("workflows", "a")), R"({"v":2})");
  EXPECT_TRUE(*store_->Delete("workflows", "a"));
  EXPECT_FALSE(*store_->Delete("workflows", "a"));
  EXPECT_FALSE(store_->Get("workflows", "a")->has_value());
}

TEST_P(ResourceStoreContractTest, CreateOnlyWhenAbsent) {
  EXPECT_TRUE(*store_->Create("env", "k", J(R"({"v": 1})")));
  EXPECT_FALSE(*store_->Create("env", "k", J(R"({"v": 2})")));
  EXPECT_EQ(DumpJson(**store_->Get("env", "k")), R"({"v":1})");
}

TEST_P(ResourceStoreContractTest, ListIsSortedByKeyAndPerKind) {
  EXPECT_TRUE(store_->List("cron")->empty());
  for (const char* key : {"b",
                          "ns\x1f"
                          "a",
                          "a", "c"}) {
    ASSERT_TRUE(store_->Put("cron", key, Json(JsonObject{{"key", key}})).ok());
  }
  ASSERT_TRUE(store_->Put("other", "z", Json(JsonObject{})).ok());
  auto list = store_->List("cron");
  ASSERT_TRUE(list.ok());
  std::vector<std::string> keys;
  for (const auto& [k, v] : *list) {
    keys.push_back(k);
    EXPECT_EQ(v.as_object().at("key").as_string(), k);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "c",
                                            "ns\x1f"
                                            "a"}));
}

TEST_P(ResourceStoreContractTest, CompareAndSwapReplacesOnlyTheExpectedValue) {
  struct Case {
    const char* name;
    const char* stored;  // nullptr: absent
    const char* expected;
    const char* replacement;  // nullptr: delete
    bool swapped;
    const char* after;  // nullptr: absent
  };
  const Case cases[] = {
      {"absent", nullptr, R"({"n":1})", R"({"n":2})", false, nullptr},
      {"equal", R"({"n":1})", R"({"n":1})", R"({"n":2})", true, R"({"n":2})"},
      {"differs", R"({"n":1})", R"({"n":3})", R"({"n":2})", false, R"({"n":1})"},
      {"same value other key order", R"({"a":1,"b":2})", R"({"b":2,"a":1})", R"({"c":3})", true,
       R"({"c":3})"},
      {"int equals float", R"({"n":1})", R"({"n":1.0})", R"({"n":2})", true, R"({"n":2})"},
      {"delete", R"({"n":1})", R"({"n":1})", nullptr, true, nullptr},
      {"delete differs", R"({"n":1})", R"({"n":2})", nullptr, false, R"({"n":1})"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string key = std::string("k-") + c.name;
    if (c.stored) {
      ASSERT_TRUE(store_->Put("cas", key, J(c.stored)).ok());
    }
    std::optional<Json> replacement;
    if (c.replacement) replacement = J(c.replacement);
    auto swapped = store_->CompareAndSwap("cas", key, J(c.expected), replacement);
    ASSERT_TRUE(swapped.ok()) << swapped.status().ToString();
    EXPECT_EQ(*swapped, c.swapped);
    auto after = *store_->Get("cas", key);
    if (c.after) {
      ASSERT_TRUE(after.has_value());
      EXPECT_TRUE(JsonEquals(*after, J(c.after))) << DumpJson(*after);
    } else {
      EXPECT_FALSE(after.has_value());
    }
  }
}

TEST_P(ResourceStoreContractTest, ConcurrentCompareAndSwapLosesNoUpdate) {
  // Several threads increment one counter with read + CAS; each successful CAS is one increment, so
  // the final value equals the number of successes, and exactly one thread wins each round of a
  // contended value.
  ASSERT_TRUE(store_->Put("cas", "counter", J(R"({"n":0})")).ok());
  constexpr int kThreads = 4, kPerThread = 25;
  std::atomic<int> successes{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int done = 0;
      while (done < kPerThread) {
        auto cur = store_->Get("cas", "counter");
        if (!cur.ok() || !cur->has_value()) {
          failures++;
          return;
        }
        int64_t n = (**cur).as_object().at("n").as_int64();
        auto ok = store_->CompareAndSwap("cas", "counter", **cur, Json(JsonObject{{"n", n + 1}}));
        if (!ok.ok()) {
          failures++;
          return;
        }
        if (*ok) {
          ++done;
          successes++;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(successes.load(), kThreads * kPerThread);
  EXPECT_EQ((**store_->Get("cas", "counter")).as_object().at("n").as_int64(),
            kThreads * kPerThread);
}

TEST_P(ResourceStoreContractTest, ConcurrentCreateHasOneWinner) {
  constexpr int kThreads = 6;
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto r = store_->Create("race", "one", Json(JsonObject{{"by", t}}));
      if (r.ok() && *r) created++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_TRUE(store_->Get("race", "one")->has_value());
}

TEST_P(ResourceStoreContractTest, RememberDeduplicatesUntilTheTtlRunsOut) {
  using std::chrono::milliseconds;
  EXPECT_TRUE(*store_->Remember("src/id-1", milliseconds(60000)));
  EXPECT_FALSE(*store_->Remember("src/id-1", milliseconds(60000)));
  EXPECT_TRUE(*store_->Remember("src/id-2", milliseconds(60000)));
  h_.expire("src/id-1", milliseconds(60000));
  EXPECT_TRUE(*store_->Remember("src/id-1", milliseconds(60000))) << "remembered past its TTL";
  EXPECT_FALSE(*store_->Remember("src/id-1", milliseconds(60000)));
  EXPECT_EQ(store_->Remember("x", milliseconds(0)).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(ResourceStoreContractTest, ConcurrentRememberHasOneFirst) {
  constexpr int kThreads = 6;
  std::atomic<int> first{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto r = store_->Remember("dup", std::chrono::milliseconds(60000));
      if (r.ok() && *r) first++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(first.load(), 1);
}

#ifdef BORA_REDIS_CLUSTER_DIR
// The same suite on a Redis Cluster (tests/redis_cluster/CMakeLists.txt builds this file a second
// time).
INSTANTIATE_TEST_SUITE_P(Cluster, ResourceStoreContractTest,
                         ::testing::Values(StoreFactory{
                             "redis_cluster",
                             [] { return MakeRedisAt(bora::testing::RedisClusterUrl()); }}),
                         [](const auto& info) { return info.param.name; });
#else
INSTANTIATE_TEST_SUITE_P(AllStores, ResourceStoreContractTest,
                         ::testing::Values(StoreFactory{"memory", MakeMemory},
                                           StoreFactory{"disk", MakeDisk},
                                           StoreFactory{"redis", MakeRedis}),
                         [](const auto& info) { return info.param.name; });
#endif

}  // namespace
}  // namespace bora::store
