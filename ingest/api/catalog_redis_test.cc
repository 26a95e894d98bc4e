// The Catalog in distributed mode: RedisResourceStore records and RedisDefinitions documents on the
// real redis-server from scripts/services.sh ($BORA_REDIS; these tests fail without it). Two
// RedisDefinitions instances stand for two processes: what one process's Catalog writes or deletes,
// the other one resolves (or stops resolving) through the shared version counter.
#include <gtest/gtest.h>

#include <cstdlib>

#include "common/ids.h"
#include "ingest/api/catalog.h"
#include "orchestrator/store/redis_definitions.h"
#include "orchestrator/store/redis_resource_store.h"

namespace bora::api {
namespace {

constexpr const char* kWorkflows = R"(version: '2.0'
wf1:
  input: [a]
  tasks:
    t1:
      action: std.echo output=<% $.a %>
wf2:
  tasks:
    t1:
      action: std.noop
)";

constexpr const char* kWorkbook = R"(version: '2.0'
name: wb
workflows:
  main:
    tasks:
      t1:
        action: std.noop
)";

class CatalogRedisTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("BORA_REDIS");
    ASSERT_TRUE(url != nullptr && *url != 0)
        << "BORA_REDIS is not set: run eval \"$(scripts/services.sh start)\"";
    std::string prefix = "test-" + NewUuid().substr(0, 8) + ":";
    auto store = store::RedisResourceStore::Connect(url, prefix);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto a = store::RedisDefinitions::Connect(url, prefix);
    auto b = store::RedisDefinitions::Connect(url, prefix);
    ASSERT_TRUE(a.ok() && b.ok());
    writer_defs_ = std::move(*a);
    other_process_ = std::move(*b);
    sink_ = std::make_unique<RedisDefinitionsSink>(writer_defs_.get());
    catalog_ = std::make_unique<Catalog>(store_.get(), sink_.get(), &clock_);
  }

  ManualClock clock_;
  std::unique_ptr<store::RedisResourceStore> store_;
  std::unique_ptr<store::RedisDefinitions> writer_defs_, other_process_;
  std::unique_ptr<RedisDefinitionsSink> sink_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogRedisTest, WorkflowsAreSharedAndRemovedEverywhere) {
  auto created = catalog_->CreateWorkflows(kWorkflows, {"team", "public"});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_EQ(created->size(), 2u);
  EXPECT_NE(other_process_->FindWorkflow("wf1", "team"), nullptr);
  EXPECT_NE(other_process_->FindWorkflow("wf2", "team"), nullptr);
  EXPECT_EQ(other_process_->FindWorkflow("wf1", ""), nullptr);
  // A second Catalog (another API process) over the same store sees the records and refuses
  // duplicates.
  RedisDefinitionsSink other_sink(other_process_.get());
  Catalog other(store_.get(), &other_sink, &clock_);
  auto got = other.GetWorkflow("wf1", "team");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((**got).as_object().at("id"), (*created)[0].as_object().at("id"));
  EXPECT_EQ(other.CreateWorkflows(kWorkflows, {"team", "private"}).status().code(),
            StatusCode::kAlreadyExists);

  ASSERT_TRUE(catalog_->DeleteWorkflow("wf1", "team").ok());
  // The other process serves a cached hit until its next version check (at most a second later);
  // Refresh() is that check, done now.
  ASSERT_TRUE(other_process_->Refresh().ok());
  EXPECT_EQ(other_process_->FindWorkflow("wf1", "team"), nullptr);
  EXPECT_NE(other_process_->FindWorkflow("wf2", "team"), nullptr);
  EXPECT_FALSE(other.GetWorkflow("wf1", "team")->has_value());
  EXPECT_EQ(catalog_->DeleteWorkflow("wf1", "team").code(), StatusCode::kNotFound);
}

TEST_F(CatalogRedisTest, WorkbookUpdateAndDeleteReachOtherProcesses) {
  ASSERT_TRUE(catalog_->CreateWorkbook(kWorkbook, {}).ok());
  ASSERT_NE(other_process_->FindWorkflow("wb.main", ""), nullptr);
  std::string renamed = kWorkbook;
  renamed.replace(renamed.find("main:"), 5, "next:");
  ASSERT_TRUE(catalog_->UpdateWorkbook(renamed, {}).ok());
  // Another process holds a cached copy; a hit on a stale name is served until the next version
  // check (at most a second), but a miss on the new name reloads at once.
  EXPECT_NE(other_process_->FindWorkflow("wb.next", ""), nullptr);
  EXPECT_EQ(other_process_->FindWorkflow("wb.main", ""), nullptr);
  ASSERT_TRUE(catalog_->DeleteWorkbook("wb", "").ok());
  EXPECT_TRUE(other_process_->Refresh().ok());
  EXPECT_EQ(other_process_->FindWorkflow("wb.next", ""), nullptr);
  EXPECT_FALSE(catalog_->GetWorkflow("wb.next", "")->has_value());
}

TEST_F(CatalogRedisTest, RedisDefinitionsRemove) {
  ASSERT_TRUE(
      writer_defs_->Put("doc", "version: '2.0'\nx:\n  tasks:\n    t: {action: std.noop}\n", "ns")
          .ok());
  EXPECT_NE(other_process_->FindWorkflow("x", "ns"), nullptr);
  auto removed = writer_defs_->Remove("doc", "ns");
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(*removed);
  EXPECT_EQ(writer_defs_->FindWorkflow("x", "ns"), nullptr);
  EXPECT_TRUE(other_process_->Refresh().ok());
  EXPECT_EQ(other_process_->FindWorkflow("x", "ns"), nullptr);
  EXPECT_FALSE(*writer_defs_->Remove("doc", "ns"));
}

}  // namespace
}  // namespace bora::api
