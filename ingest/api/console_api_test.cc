// Bora's endpoints for live views (console_api.cc, execution_stream.cc): execution counts and
// search, task items, and the execution stream.
#include <gtest/gtest.h>

#include "ingest/api/executions_api_test_fixture.h"

namespace bora::api {
namespace {

TEST_F(ExecutionsApiTest, CountsByStateWithTheListsFiltersAndSearch) {
  std::string ok1 = StartAndRun(R"({"workflow_name": "wf", "input": {"num1": 1}})");
  std::string ok2 = StartAndRun(
      R"({"workflow_name": "wf", "input": {"num1": 2}, "description": "Nightly Backup"})");
  std::string failed = StartAndRun(R"({"workflow_name": "wf_fail"})");
  std::string running = StartAndRun(R"({"workflow_name": "wf_async"})");

  Reply all = Call("GET", "/v2/executions/counts");
  ASSERT_EQ(all.status, 200) << DumpJson(all.body);
  EXPECT_EQ(DumpJson(all.body),
            R"({"counts":{"CANCELLED":0,"ERROR":1,"IDLE":0,"PAUSED":0,"RUNNING":1,"SUCCESS":2},)"
            R"("total":4})");
  Reply wf = Call("GET", "/v2/executions/counts?workflow_name=wf");
  EXPECT_EQ(wf.body.at("total"), 2);
  EXPECT_EQ(wf.body.at("counts").at("SUCCESS"), 2);
  EXPECT_EQ(wf.body.at("counts").at("ERROR"), 0);
  EXPECT_EQ(Call("GET", "/v2/executions/counts?state=ERROR").body.at("total"), 1);
  EXPECT_EQ(Call("GET", "/v2/executions/counts?nope=1").status, 400);

  // search: a case-insensitive part of the id, workflow name, description or state_info.
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?search=backup"), "executions"),
            std::vector<std::string>{ok2});
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?search=WF_FAIL"), "executions"),
            std::vector<std::string>{failed});
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?search=" + running.substr(0, 8)), "executions"),
            std::vector<std::string>{running});
  EXPECT_EQ(Call("GET", "/v2/executions/counts?search=backup").body.at("total"), 1);
  // With other filters, and paged: the next page keeps the search.
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?search=backup&state=ERROR"), "executions"),
            std::vector<std::string>{});
  Reply page = Call("GET", "/v2/executions?search=wf&limit=1");
  ASSERT_EQ(page.body.at("executions").as_array().size(), 1u);
  EXPECT_NE(page.Str("next").find("search=wf"), std::string::npos) << page.Str("next");
  EXPECT_EQ(Call("GET", "/v2/executions?search=" + std::string(1001, 'x')).status, 400);

  // A time range: Mistral's created_at filter for one end, created_before for the other.
  std::string t2 = Call("GET", "/v2/executions/" + ok2).Str("created_at");
  std::string t3 = Call("GET", "/v2/executions/" + failed).Str("created_at");
  ASSERT_LT(t2, t3);
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?created_at=gte:" + t2 + "&created_before=" + t2),
                "executions"),
            std::vector<std::string>{ok2});
  EXPECT_EQ(Ids(Call("GET", "/v2/executions?created_before=" + t2), "executions"),
            (std::vector<std::string>{ok1, ok2}));
  EXPECT_EQ(Call("GET", "/v2/executions/counts?created_at=gte:" + t2 + "&created_before=" + t3)
                .body.at("total"),
            2);
}

TEST_F(ExecutionsApiTest, TaskItemsInIndexOrderWithStateFilterAndPaging) {
  std::string id = StartAndRun(R"({"workflow_name": "wf_items"})");
  ASSERT_EQ(Call("GET", "/v2/executions/" + id).Str("state"), "SUCCESS");
  Reply tasks = Call("GET", "/v2/executions/" + id + "/tasks");
  std::string task(tasks.body.at("tasks").as_array()[0].at("id").as_string());

  Reply items = Call("GET", "/v2/tasks/" + task + "/items");
  ASSERT_EQ(items.status, 200) << DumpJson(items.body);
  EXPECT_EQ(items.body.at("total"), 3);
  const auto& list = items.body.at("items").as_array();
  ASSERT_EQ(list.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(list[i].at("index"), i);
    EXPECT_EQ(list[i].at("state"), "SUCCESS");
    EXPECT_EQ(list[i].at("name"), "std.echo");
    EXPECT_EQ(list[i].at("is_workflow"), false);
    EXPECT_EQ(Call("GET", "/v2/action_executions/" +
                              std::string(list[i].at("action_execution_id").as_string()))
                  .status,
              200);
  }
  Reply second = Call("GET", "/v2/tasks/" + task + "/items?offset=1&limit=1");
  EXPECT_EQ(second.body.at("total"), 3);
  ASSERT_EQ(second.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(second.body.at("items").as_array()[0].at("index"), 1);
  EXPECT_EQ(Call("GET", "/v2/tasks/" + task + "/items?state=ERROR").body.at("total"), 0);

  EXPECT_EQ(Call("GET", "/v2/tasks/nope/items").status, 404);
  for (const char* bad : {"?state=DONE", "?limit=0", "?limit=100000", "?offset=-1", "?x=1"}) {
    SCOPED_TRACE(bad);
    Reply r = Call("GET", "/v2/tasks/" + task + "/items" + bad);
    EXPECT_EQ(r.status, 400);
    EXPECT_FALSE(r.Fault().empty());
  }
}

// The events of one Next() call, by name, each with its data parsed.
std::vector<std::pair<std::string, Json>> Events(const std::string& text) {
  std::vector<std::pair<std::string, Json>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string frame = text.substr(pos, end - pos);
    pos = end + 2;
    size_t nl = frame.find('\n');
    if (frame.rfind("event: ", 0) != 0 || nl == std::string::npos) continue;
    std::string name = frame.substr(7, nl - 7);
    auto data = ParseJson(frame.substr(nl + 7));  // "\ndata: "
    out.emplace_back(name, data.ok() ? *data : Json(nullptr));
  }
  return out;
}

// GET /v2/executions/{id}/stream: the current execution and every task's summary first, then only
// what changed, then `end` once it is finished; a deleted execution ends its stream with `gone`.
TEST_F(ExecutionsApiTest, StreamShowsChangesThenEnds) {
  EXPECT_EQ(Call("GET", "/v2/executions/nope/stream").status, 404);
  std::string id = StartAndRun(R"({"workflow_name": "wf_async"})");
  http::HttpResponse resp =
      router_.Dispatch(MakeRequest("GET", "/v2/executions/" + id + "/stream"));
  ASSERT_EQ(resp.status, 200) << resp.body;
  EXPECT_EQ(resp.content_type, "text/event-stream");
  ASSERT_NE(resp.stream, nullptr);
  const auto now = std::chrono::milliseconds(0);

  std::optional<std::string> first = resp.stream->Next(now);
  ASSERT_TRUE(first.has_value());
  auto events = Events(*first);
  ASSERT_EQ(events.size(), 2u) << *first;
  EXPECT_EQ(events[0].first, "execution");
  EXPECT_EQ(events[0].second.at("state"), "RUNNING");
  EXPECT_EQ(events[1].first, "tasks");
  const auto& tasks = events[1].second.at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(DumpJson(tasks[0].as_object().at("name")), R"("wait")");
  EXPECT_EQ(tasks[0].at("state"), "RUNNING");
  EXPECT_EQ(tasks[0].at("type"), "ACTION");
  EXPECT_EQ(tasks[0].at("actions"), 1);
  EXPECT_TRUE(tasks[0].at("items").is_null());
  EXPECT_TRUE(tasks[0].at("finished_at").is_null());
  EXPECT_EQ(resp.stream->Next(now), std::string()) << "nothing changed";

  Reply running = Call("GET", "/v2/action_executions?state=RUNNING");
  ASSERT_EQ(running.body.at("action_executions").as_array().size(), 1u);
  std::string aid(running.body.at("action_executions").as_array()[0].at("id").as_string());
  ASSERT_EQ(
      Call("PUT", "/v2/action_executions/" + aid, R"({"state": "SUCCESS", "output": "1"})").status,
      200);
  Run();
  std::optional<std::string> last = resp.stream->Next(now);
  ASSERT_TRUE(last.has_value());
  events = Events(*last);
  ASSERT_EQ(events.size(), 3u) << *last;
  EXPECT_EQ(events[0].second.at("state"), "SUCCESS");
  EXPECT_EQ(events[1].second.at("tasks").as_array()[0].at("state"), "SUCCESS");
  EXPECT_FALSE(events[1].second.at("tasks").as_array()[0].at("finished_at").is_null());
  EXPECT_EQ(events[2].first, "end");
  EXPECT_EQ(DumpJson(events[2].second), R"({"state":"SUCCESS"})");
  EXPECT_EQ(resp.stream->Next(now), std::nullopt);

  http::HttpResponse again =
      router_.Dispatch(MakeRequest("GET", "/v2/executions/" + id + "/stream"));
  ASSERT_NE(again.stream, nullptr);
  ASSERT_EQ(Call("DELETE", "/v2/executions/" + id).status, 204);
  Run();
  std::optional<std::string> gone = again.stream->Next(now);
  ASSERT_TRUE(gone.has_value());
  EXPECT_EQ(gone->rfind("event: gone\ndata: {\"faultstring\":", 0), 0u) << *gone;
  EXPECT_EQ(again.stream->Next(now), std::nullopt);
}

// Only the tasks whose summary changed are sent again; a workflow task names its sub-executions; a
// with-items task carries its progress.
TEST_F(ExecutionsApiTest, StreamSendsChangedTasksOnlyWithSubExecutionsAndItems) {
  const auto now = std::chrono::milliseconds(0);
  std::string id = StartAndRun(R"({"workflow_name": "wf_then_async"})");
  http::HttpResponse resp =
      router_.Dispatch(MakeRequest("GET", "/v2/executions/" + id + "/stream"));
  ASSERT_NE(resp.stream, nullptr);
  auto events = Events(resp.stream->Next(now).value_or(""));
  ASSERT_EQ(events.size(), 2u);
  std::vector<std::string> sent;
  for (const auto& t : events[1].second.at("tasks").as_array())
    sent.push_back(std::string(t.at("name").as_string()) + ":" +
                   std::string(t.at("state").as_string()));
  EXPECT_EQ(sent, (std::vector<std::string>{"first:SUCCESS", "wait:RUNNING"}));
  Reply running = Call("GET", "/v2/action_executions?state=RUNNING");
  std::string aid(running.body.at("action_executions").as_array().at(0).at("id").as_string());
  ASSERT_EQ(Call("PUT", "/v2/action_executions/" + aid, R"({"state": "SUCCESS"})").status, 200);
  Run();
  events = Events(resp.stream->Next(now).value_or(""));
  ASSERT_EQ(events.size(), 3u);
  const auto& changed = events[1].second.at("tasks").as_array();
  ASSERT_EQ(changed.size(), 1u) << "only the task that changed";
  EXPECT_EQ(changed[0].at("name"), "wait");
  EXPECT_EQ(changed[0].at("state"), "SUCCESS");

  std::string parent = StartAndRun(R"({"workflow_name": "wf_parent"})");
  http::HttpResponse s2 =
      router_.Dispatch(MakeRequest("GET", "/v2/executions/" + parent + "/stream"));
  events = Events(s2.stream->Next(now).value_or(""));
  ASSERT_EQ(events.size(), 3u);
  const Json& call = events[1].second.at("tasks").as_array().at(0);
  EXPECT_EQ(call.at("type"), "WORKFLOW");
  ASSERT_EQ(call.at("sub_executions").as_array().size(), 1u);
  std::string child(call.at("sub_executions").as_array()[0].as_string());
  EXPECT_EQ(Call("GET", "/v2/executions/" + child).Str("workflow_name"), "wf");

  std::string items = StartAndRun(R"({"workflow_name": "wf_items"})");
  http::HttpResponse s3 =
      router_.Dispatch(MakeRequest("GET", "/v2/executions/" + items + "/stream"));
  events = Events(s3.stream->Next(now).value_or(""));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(DumpJson(events[1].second.at("tasks").as_array().at(0).at("items")),
            R"({"total":3,"success":3,"error":0,"running":0})");
}

}  // namespace
}  // namespace bora::api
