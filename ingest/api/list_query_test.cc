#include "ingest/api/list_query.h"

#include <gtest/gtest.h>

namespace bora::api {
namespace {

Json Parse(const std::string& s) { return ParseJson(s).value(); }

http::HttpRequest Get(const std::string& path,
                      std::vector<std::pair<std::string, std::string>> query = {}) {
  http::HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.query = std::move(query);
  r.headers["host"] = "evil.example";  // never used for links
  r.base_url = "http://localhost:8989";
  return r;
}

// Five executions with mixed field types.
std::vector<Json> Records() {
  return {
      Parse(R"({"id":"e1","state":"SUCCESS","workflow_name":"wf","count":10,"created_at":"2026-01-01 10:00:01","tags":["a","b"],"flag":true,"task_execution_id":null})"),
      Parse(R"({"id":"e2","state":"ERROR","workflow_name":"wf2","count":9,"created_at":"2026-01-01 10:00:02","tags":[],"flag":false,"task_execution_id":"t1"})"),
      Parse(R"({"id":"e3","state":"RUNNING","workflow_name":"wf","count":100,"created_at":"2026-01-01 10:00:03","tags":["b"],"flag":true,"task_execution_id":null})"),
      Parse(R"({"id":"e4","state":"SUCCESS","workflow_name":"other","count":2.5,"created_at":"2026-01-01 10:00:03","tags":["c"],"flag":false,"task_execution_id":null})"),
      Parse(R"({"id":"e5","state":"PAUSED","workflow_name":"wf","count":-1,"created_at":"2026-01-01 10:00:00","tags":null,"flag":true,"task_execution_id":"t2"})"),
  };
}

const std::set<std::string> kFilterable = {"state", "workflow_name", "count", "created_at", "tags",
                                           "flag", "task_execution_id", "id"};

std::vector<std::string> Ids(const Json& reply, const std::string& collection = "executions") {
  std::vector<std::string> ids;
  for (const auto& r : reply.at(collection).as_array())
    ids.emplace_back(r.at("id").as_string().c_str());
  return ids;
}

Json List(std::vector<std::pair<std::string, std::string>> query) {
  auto req = Get("/v2/executions", std::move(query));
  auto q = ParseListQuery(req, kFilterable);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  if (!q.ok()) return Json();
  auto r = TryApplyListQuery(Records(), *q, "executions", req);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Json();
}

TEST(ListQueryTest, Filters) {
  struct Case {
    std::string key, value;
    std::vector<std::string> ids;  // sorted by created_at, id
  };
  const Case cases[] = {
      {"state", "SUCCESS", {"e1", "e4"}},
      {"state", "eq:SUCCESS", {"e1", "e4"}},
      {"state", "neq:SUCCESS", {"e5", "e2", "e3"}},
      {"state", "in:ERROR,PAUSED", {"e5", "e2"}},
      {"state", "nin:ERROR,PAUSED", {"e1", "e3", "e4"}},
      {"workflow_name", "has:wf", {"e5", "e1", "e2", "e3"}},
      {"workflow_name", "has:2", {"e2"}},
      {"count", "gt:9", {"e1", "e3"}},             // numeric: 10 and 100 (not "9" < "10" as text)
      {"count", "gte:9", {"e1", "e2", "e3"}},
      {"count", "lt:3", {"e5", "e4"}},
      {"count", "lte:2.5", {"e5", "e4"}},
      {"count", "eq:10", {"e1"}},
      {"count", "eq:abc", {}},
      {"created_at", "gte:2026-01-01 10:00:02", {"e2", "e3", "e4"}},
      {"created_at", "lt:2026-01-01 10:00:01", {"e5"}},
      {"created_at", "2026-01-01 10:00:03", {"e3", "e4"}},
      {"tags", "b", {"e1", "e3"}},
      {"tags", "in:c,a", {"e1", "e4"}},
      {"tags", "has:c", {"e4"}},
      {"flag", "true", {"e5", "e1", "e3"}},
      {"flag", "eq:false", {"e2", "e4"}},
      {"task_execution_id", "null", {"e1", "e3", "e4"}},
      {"task_execution_id", "neq:null", {"e5", "e2"}},
      {"task_execution_id", "t2", {"e5"}},
      {"state", "eq:nope", {}},
  };
  for (const auto& c : cases) {
    Json reply = List({{c.key, c.value}});
    EXPECT_EQ(Ids(reply), c.ids) << c.key << "=" << c.value;
    EXPECT_FALSE(reply.as_object().contains("next"));
  }
}

TEST(ListQueryTest, SeveralFiltersAreAnded) {
  Json reply = List({{"workflow_name", "wf"}, {"state", "neq:PAUSED"}, {"count", "gte:10"}});
  EXPECT_EQ(Ids(reply), (std::vector<std::string>{"e1", "e3"}));
  reply = List({{"created_at", "gte:2026-01-01 10:00:01"}, {"created_at", "lt:2026-01-01 10:00:03"}});
  EXPECT_EQ(Ids(reply), (std::vector<std::string>{"e1", "e2"}));
}

TEST(ListQueryTest, Sorting) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> query;
    std::vector<std::string> ids;
  };
  const Case cases[] = {
      {{}, {"e5", "e1", "e2", "e3", "e4"}},  // created_at asc, id breaks the tie
      {{{"sort_keys", "created_at"}, {"sort_dirs", "desc"}}, {"e3", "e4", "e2", "e1", "e5"}},
      {{{"sort_keys", "count"}}, {"e5", "e4", "e2", "e1", "e3"}},
      {{{"sort_keys", "count"}, {"sort_dirs", "desc"}}, {"e3", "e1", "e2", "e4", "e5"}},
      {{{"sort_keys", "state,created_at"}, {"sort_dirs", "asc,desc"}}, {"e2", "e5", "e3", "e4", "e1"}},
      {{{"sort_keys", "workflow_name,count"}, {"sort_dirs", "desc"}}, {"e2", "e5", "e1", "e3", "e4"}},
      {{{"sort_keys", "id"}, {"sort_dirs", "desc"}}, {"e5", "e4", "e3", "e2", "e1"}},
      {{{"sort_keys", "tags"}}, {"e5", "e1", "e3", "e4", "e2"}},  // null first, then JSON text
  };
  for (const auto& c : cases) {
    Json reply = List(c.query);
    EXPECT_EQ(Ids(reply), c.ids) << DumpJson(reply);
  }
}

TEST(ListQueryTest, PaginationWalksAllPagesWithNextLinks) {
  for (const auto& dir : {std::string("asc"), std::string("desc")}) {
    std::vector<std::string> seen;
    std::vector<std::pair<std::string, std::string>> query = {
        {"limit", "2"}, {"sort_keys", "created_at"}, {"sort_dirs", dir}, {"state", "neq:nope"}};
    for (int page = 0; page < 10; ++page) {
      Json reply = List(query);
      for (auto& id : Ids(reply)) seen.push_back(id);
      auto* next = reply.as_object().if_contains("next");
      if (!next) break;
      std::string link(next->as_string());
      EXPECT_EQ(link.rfind("http://localhost:8989/v2/executions?", 0), 0u) << link;
      EXPECT_NE(link.find("sort_keys=created_at"), std::string::npos) << link;
      EXPECT_NE(link.find("sort_dirs=" + dir), std::string::npos) << link;
      EXPECT_NE(link.find("state=neq:nope"), std::string::npos) << link;
      EXPECT_NE(link.find("limit=2"), std::string::npos) << link;
      std::string marker = link.substr(link.find("marker=") + 7);
      marker = marker.substr(0, marker.find('&'));
      EXPECT_EQ(marker, seen.back());
      query = {{"limit", "2"}, {"sort_keys", "created_at"}, {"sort_dirs", dir},
               {"state", "neq:nope"}, {"marker", marker}};
    }
    std::vector<std::string> expected = {"e5", "e1", "e2", "e3", "e4"};
    if (dir == "desc") expected = {"e3", "e4", "e2", "e1", "e5"};  // desc on created_at, id asc
    EXPECT_EQ(seen, expected) << dir;
  }
}

TEST(ListQueryTest, ExactLastPageHasNoNext) {
  Json reply = List({{"limit", "5"}});
  EXPECT_EQ(Ids(reply).size(), 5u);
  EXPECT_FALSE(reply.as_object().contains("next"));
  reply = List({{"limit", "4"}});
  EXPECT_EQ(Ids(reply).size(), 4u);
  EXPECT_TRUE(reply.as_object().contains("next"));
}

TEST(ListQueryTest, MarkerOfFilteredOutRecordStillPositions) {
  // e2 is ERROR; listing SUCCESS after e2 (created 10:00:02) gives the later SUCCESS record only.
  Json reply = List({{"state", "SUCCESS"}, {"marker", "e2"}});
  EXPECT_EQ(Ids(reply), (std::vector<std::string>{"e4"}));
}

TEST(ListQueryTest, UnknownMarker) {
  auto req = Get("/v2/executions", {{"marker", "nope"}});
  auto q = ParseListQuery(req, kFilterable);
  ASSERT_TRUE(q.ok());
  auto r = TryApplyListQuery(Records(), *q, "executions", req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  Json plain = ApplyListQuery(Records(), *q, "executions", req);
  EXPECT_TRUE(plain.at("executions").as_array().empty());
}

TEST(ListQueryTest, FieldsProjectionKeepsId) {
  Json reply = List({{"fields", "state,workflow_name"}, {"limit", "1"}});
  const auto& first = reply.at("executions").as_array().at(0).as_object();
  ASSERT_EQ(first.size(), 3u);
  auto it = first.begin();
  EXPECT_EQ(it->key(), "id");
  EXPECT_EQ((++it)->key(), "state");
  EXPECT_EQ((++it)->key(), "workflow_name");
  EXPECT_NE(std::string(reply.at("next").as_string()).find("fields=id,state,workflow_name"),
            std::string::npos);
  reply = List({{"fields", "id"}});
  EXPECT_EQ(reply.at("executions").as_array().at(0).as_object().size(), 1u);
}

TEST(ListQueryTest, InvalidFields) {
  auto req = Get("/v2/executions", {{"fields", "state,bogus"}});
  auto q = ParseListQuery(req, kFilterable);
  ASSERT_TRUE(q.ok());
  auto r = TryApplyListQuery(Records(), *q, "executions", req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Field(s) bogus are invalid.");
}

TEST(ListQueryTest, ParseErrors) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> query;
    std::string error;
  };
  const Case cases[] = {
      {{{"limit", "0"}}, "Limit must be positive."},
      {{{"limit", "-3"}}, "Limit must be positive."},
      {{{"limit", "abc"}}, "limit"},
      {{{"sort_dirs", "up"}}, "Unknown sort direction, must be 'desc' or 'asc'."},
      {{{"sort_keys", "a"}, {"sort_dirs", "asc,desc"}},
       "Length of sort_keys must be equal or greater than sort_dirs."},
      {{{"bogus", "1"}}, "Unknown argument: \"bogus\""},
  };
  for (const auto& c : cases) {
    auto q = ParseListQuery(Get("/v2/executions", c.query), kFilterable);
    ASSERT_FALSE(q.ok()) << c.error;
    EXPECT_EQ(q.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find(c.error), std::string::npos) << q.status().message();
  }
}

// Mistral answers any limit (clients pass a large one to list everything): above the page size a limit is
// served in full up to kMaxRecordsPerResponse, then lowered to it (the response carries a `next` link).
TEST(ListQueryTest, LargeLimitsAreAnsweredNotRefused) {
  auto q = ParseListQuery(Get("/v2/executions", {{"limit", "100000"}}), kFilterable, 1000);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, 100000u);
  q = ParseListQuery(Get("/v2/executions", {{"limit", "99999999999"}}), kFilterable, 1000);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, kMaxRecordsPerResponse);
  std::vector<Json> records;
  for (int i = 0; i < 1500; ++i) {
    records.push_back(JsonObject{{"id", "e" + std::to_string(10000 + i)},
                                 {"created_at", "2026-01-01 00:00:00"}});
  }
  q = ParseListQuery(Get("/v2/executions", {{"limit", "5000"}}), kFilterable, 1000);
  ASSERT_TRUE(q.ok());
  Json page = ApplyListQuery(records, *q, "executions", Get("/v2/executions", {{"limit", "5000"}}));
  EXPECT_EQ(page.at("executions").as_array().size(), 1500u) << "every record, past the page size";
  EXPECT_FALSE(page.as_object().contains("next"));
}

TEST(ListQueryTest, ParseDefaultsAndIgnored) {
  auto q = ParseListQuery(Get("/v2/executions", {{"include_output", "true"}, {"limit", "7"}}),
                          kFilterable, 50, {"include_output"});
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->limit, 7u);
  EXPECT_EQ(q->max_limit, 50u);
  EXPECT_EQ(q->sort_keys, std::vector<std::string>{"created_at"});
  EXPECT_EQ(q->sort_dirs, std::vector<std::string>{"asc"});
  EXPECT_TRUE(q->filters.empty());
  EXPECT_FALSE(q->marker.has_value());

  q = ParseListQuery(Get("/v2/executions", {{"sort_keys", "a, b,c"}, {"sort_dirs", "desc"},
                                             {"state", "in:A, B"}, {"fields", "x"}}),
                     kFilterable);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->sort_keys, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(q->sort_dirs, (std::vector<std::string>{"desc", "asc", "asc"}));
  ASSERT_EQ(q->filters.size(), 1u);
  EXPECT_EQ(q->filters[0].op, "in");
  EXPECT_EQ(q->filters[0].values, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(q->fields, (std::vector<std::string>{"id", "x"}));

  // A value with a colon that is not an operator stays an eq value.
  q = ParseListQuery(Get("/v2/executions", {{"created_at", "2026-01-01 10:00:00"}}), kFilterable);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->filters[0].op, "eq");
  EXPECT_EQ(q->filters[0].values[0], "2026-01-01 10:00:00");
}

TEST(ListQueryTest, DefaultPageIsMaxLimit) {
  auto req = Get("/v2/executions");
  auto q = ParseListQuery(req, kFilterable, 3);
  ASSERT_TRUE(q.ok());
  Json reply = ApplyListQuery(Records(), *q, "executions", req);
  EXPECT_EQ(Ids(reply).size(), 3u);
  EXPECT_NE(std::string(reply.at("next").as_string()).find("limit=3"), std::string::npos);
}

TEST(ListQueryTest, NextLinkEncodesValuesAndIsRelativeWithoutBaseUrl) {
  http::HttpRequest req = Get("/v2/executions/abc/tasks", {{"limit", "1"}, {"workflow_name", "a b&c"}});
  req.base_url.clear();
  auto q = ParseListQuery(req, kFilterable);
  ASSERT_TRUE(q.ok());
  std::vector<Json> recs = {Parse(R"({"id":"x 1","workflow_name":"a b&c","created_at":"1"})"),
                            Parse(R"({"id":"y","workflow_name":"a b&c","created_at":"2"})")};
  Json reply = ApplyListQuery(recs, *q, "tasks", req);
  EXPECT_EQ(reply.at("next"),
            "/v2/executions/abc/tasks?sort_keys=created_at&sort_dirs=asc&workflow_name=a%20b%26c&"
            "limit=1&marker=x%201");
}

}  // namespace
}  // namespace bora::api
