// Per-project isolation of every REST resource (caller.h): requests carry the Keystone identity the
// authenticator would set (alpha's and beta's members, alpha's admin), dispatched through the
// Router over a deterministic EmbeddedRuntime with the real Catalog and stores.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/http/router.h"
#include "ingest/api/api_test_support.h"
#include "ingest/api/catalog.h"
#include "ingest/api/cron_triggers_api.h"
#include "ingest/api/definitions_api.h"
#include "ingest/api/events_api.h"
#include "ingest/api/executions_api.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "orchestrator/triggers/cron.h"
#include "orchestrator/triggers/cron_scheduler.h"
#include "workers/action.h"

namespace bora::api {
namespace {

constexpr char kWorkflows[] = R"(
version: '2.0'
wf:
  tasks:
    t:
      action: std.echo output=<% $.who %>
      publish:
        who: <% task().result %>
  input:
    - who: alpha
  output:
    who: <% $.who %>
parent:
  tasks:
    call:
      workflow: wf
)";

constexpr char kBetaWorkflow[] = R"(
version: '2.0'
wf:
  tasks:
    t:
      action: std.echo output=beta
      publish:
        who: <% task().result %>
  output:
    who: <% $.who %>
)";

constexpr char kActions[] = R"(
version: '2.0'
my_echo:
  base: std.echo
  base-input:
    output: hi
)";

constexpr char kWorkbook[] = R"(
version: '2.0'
name: wb
workflows:
  inner:
    tasks:
      t:
        action: std.noop
)";

http::Identity Member(const std::string& project, const std::string& user) {
  http::Identity id;
  id.project_id = project + "-id";
  id.project_name = project;
  id.user_id = user + "-id";
  id.user_name = user;
  id.roles = {"member"};
  return id;
}

class ProjectsApiTest : public ::testing::Test {
 protected:
  ProjectsApiTest() {
    runtime_.manual_clock()->Set(*triggers::ParseMinuteTime("2026-01-01 10:00"));
    admin_ = Member("alpha", "root");
    admin_.roles = {"admin"};
    admin_.is_admin = true;
    RegisterDefinitionsRoutes(router_, backend_.context());
    ExecutionsApiOptions opts;
    opts.change_wait = std::chrono::milliseconds(0);
    RegisterExecutionsRoutes(router_, backend_.context(), opts);
    RegisterCronTriggersRoutes(router_, backend_.context());
    RegisterEventsRoutes(router_, backend_.context());
  }

  http::HttpResponse Call(const http::Identity& who, const std::string& method,
                          const std::string& target, const std::string& body = "") {
    http::HttpRequest r =
        MakeRequest(method, target, body, body.empty() || body[0] == '{' ? "" : "text/plain");
    r.identity = who;
    return router_.Dispatch(r);
  }

  // The ids of a list reply's `collection`.
  std::vector<std::string> Ids(const http::HttpResponse& r, const char* collection) {
    std::vector<std::string> out;
    JsonObject o = BodyObject(r);
    if (!o.contains(collection)) return out;
    for (const auto& v : o.at(collection).as_array()) out.emplace_back(v.at("id").as_string());
    return out;
  }
  static bool Has(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
  // The id of the first record a create reply holds (`collection` for multi-entity replies).
  static std::string CreatedId(const http::HttpResponse& r, const char* collection = nullptr) {
    JsonObject o = BodyObject(r);
    if (collection != nullptr)
      return std::string(o.at(collection).as_array()[0].at("id").as_string());
    return Field(o, "id");
  }

  std::string StartAndRun(const http::Identity& who, const std::string& workflow) {
    auto r = Call(who, "POST", "/v2/executions", R"({"workflow_name": ")" + workflow + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_TRUE(runtime_.RunUntilIdle().ok());
    return Field(BodyObject(r), "id");
  }

  ApiTestBackend backend_;
  runtime::EmbeddedRuntime& runtime_ = backend_.runtime();
  http::Router router_;
  http::Identity alpha_ = Member("alpha", "alice");
  http::Identity beta_ = Member("beta", "bob");
  http::Identity gamma_ = Member("gamma", "carol");
  http::Identity admin_;
};

// For each definition kind: beta cannot list, get, update or delete alpha's private record; alpha
// can; the admin sees it with all_projects only.
TEST_F(ProjectsApiTest, PrivateDefinitionsAreInvisibleToOtherProjects) {
  struct Kind {
    const char* collection;
    std::string create_body;
    std::string item;  // path of the record
    std::string put_target, put_body;
  };
  std::vector<Kind> kinds = {
      {"workflows", kWorkflows, "/v2/workflows/wf", "/v2/workflows", kWorkflows},
      {"actions", kActions, "/v2/actions/my_echo", "/v2/actions", kActions},
      {"workbooks", kWorkbook, "/v2/workbooks/wb", "/v2/workbooks", kWorkbook},
      {"environments", R"({"name": "env1", "variables": {"a": 1}})", "/v2/environments/env1",
       "/v2/environments", R"({"name": "env1", "description": "changed"})"},
  };
  for (const auto& k : kinds) {
    SCOPED_TRACE(k.collection);
    const std::string list = std::string("/v2/") + k.collection;
    auto created = Call(alpha_, "POST", list, k.create_body);
    ASSERT_EQ(created.status, 201) << created.body;
    JsonObject body = BodyObject(created);
    std::string id = body.contains(k.collection)
                         ? std::string(body.at(k.collection).as_array()[0].at("id").as_string())
                         : Field(body, "id");
    auto one = body.contains(k.collection) ? body.at(k.collection).as_array()[0].as_object() : body;
    EXPECT_EQ(Field(one, "project_id"), "alpha-id");

    EXPECT_TRUE(Has(Ids(Call(alpha_, "GET", list), k.collection), id));
    EXPECT_FALSE(Has(Ids(Call(beta_, "GET", list), k.collection), id));
    EXPECT_EQ(Call(alpha_, "GET", k.item).status, 200);
    EXPECT_EQ(Call(beta_, "GET", k.item).status, 404);
    EXPECT_EQ(Call(beta_, "PUT", k.put_target, k.put_body).status, 404);
    EXPECT_EQ(Call(beta_, "DELETE", k.item).status, 404);
    // Not even by id.
    if (k.collection != std::string("workbooks")) {
      EXPECT_EQ(Call(beta_, "GET", list + "/" + id).status, 404);
    }
    // The admin: its own project's list does not show beta's, all_projects does; beta may not
    // ask for all_projects.
    EXPECT_EQ(Call(beta_, "GET", list + "?all_projects=true").status, 403);
    EXPECT_TRUE(Has(Ids(Call(admin_, "GET", list + "?all_projects=true"), k.collection), id));
    EXPECT_TRUE(Has(Ids(Call(admin_, "GET", list + "?project_id=alpha-id"), k.collection), id));
    // Still there for alpha after beta's attempts.
    EXPECT_EQ(Call(alpha_, "PUT", k.put_target, k.put_body).status, 200);
    EXPECT_EQ(Call(alpha_, "GET", k.item).status, 200);
  }
  // Beta's own records are not listed for alpha's admin without all_projects.
  auto beta_env = Call(beta_, "POST", "/v2/environments", R"({"name": "benv"})");
  ASSERT_EQ(beta_env.status, 201);
  EXPECT_FALSE(
      Has(Ids(Call(admin_, "GET", "/v2/environments"), "environments"), CreatedId(beta_env)));
  EXPECT_TRUE(Has(Ids(Call(admin_, "GET", "/v2/environments?all_projects=true"), "environments"),
                  CreatedId(beta_env)));
  // Alpha deletes its own.
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/workbooks/wb").status, 204);
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/environments/env1").status, 204);
}

TEST_F(ProjectsApiTest, PublicDefinitionsAreReadableButNotChangeable) {
  ASSERT_EQ(Call(alpha_, "POST", "/v2/workflows?scope=public", kWorkflows).status, 201);
  ASSERT_EQ(Call(alpha_, "POST", "/v2/actions?scope=public", kActions).status, 201);
  ASSERT_EQ(
      Call(alpha_, "POST", "/v2/environments", R"({"name": "penv", "scope": "public"})").status,
      201);
  auto list = Call(beta_, "GET", "/v2/workflows");
  JsonObject o = BodyObject(list);
  ASSERT_EQ(o.at("workflows").as_array().size(), 2u);
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/wf").status, 200);
  EXPECT_EQ(Call(beta_, "GET", "/v2/actions/my_echo").status, 200);
  EXPECT_EQ(Call(beta_, "GET", "/v2/environments/penv").status, 200);

  auto del = Call(beta_, "DELETE", "/v2/workflows/wf");
  EXPECT_EQ(del.status, 403) << del.body;
  EXPECT_NE(del.body.find("Can not access WorkflowDefinition resource of other projects"),
            std::string::npos)
      << del.body;
  EXPECT_EQ(Call(beta_, "PUT", "/v2/workflows?scope=public", kWorkflows).status, 403);
  EXPECT_EQ(Call(beta_, "DELETE", "/v2/actions/my_echo").status, 403);
  EXPECT_EQ(
      Call(beta_, "PUT", "/v2/environments", R"({"name": "penv", "description": "x"})").status,
      403);
  EXPECT_EQ(Call(beta_, "DELETE", "/v2/environments/penv").status, 403);

  // Beta may run alpha's public workflow: the execution is beta's, the definitions alpha's.
  const std::string exec = StartAndRun(beta_, "parent");
  auto got = Call(beta_, "GET", "/v2/executions/" + exec);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Field(BodyObject(got), "project_id"), "beta-id");
  EXPECT_EQ(Field(BodyObject(got), "state"), "SUCCESS") << got.body;
  EXPECT_EQ(Field(BodyObject(got), "workflow_namespace"), "");
  EXPECT_EQ(Call(alpha_, "GET", "/v2/executions/" + exec).status, 404);
}

TEST_F(ProjectsApiTest, TwoProjectsMayHaveTheSameNames) {
  ASSERT_EQ(Call(alpha_, "POST", "/v2/workflows", kWorkflows).status, 201);
  auto dup = Call(alpha_, "POST", "/v2/workflows", kWorkflows);
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(dup.body.find("wf, , alpha-id"), std::string::npos) << dup.body;
  ASSERT_EQ(Call(beta_, "POST", "/v2/workflows", kBetaWorkflow).status, 201);
  ASSERT_EQ(Call(alpha_, "POST", "/v2/environments", R"({"name": "e"})").status, 201);
  ASSERT_EQ(Call(beta_, "POST", "/v2/environments", R"({"name": "e"})").status, 201);

  // Each project runs its own `wf`.
  const std::string a = StartAndRun(alpha_, "wf");
  const std::string b = StartAndRun(beta_, "wf");
  auto ra = BodyObject(Call(alpha_, "GET", "/v2/executions/" + a));
  auto rb = BodyObject(Call(beta_, "GET", "/v2/executions/" + b));
  EXPECT_EQ(Field(ra, "output"), R"({"who": "alpha"})");
  EXPECT_EQ(Field(rb, "output"), R"({"who": "beta"})");
  EXPECT_EQ(Field(ra, "workflow_id"),
            Field(BodyObject(Call(alpha_, "GET", "/v2/workflows/wf")), "id"));
  EXPECT_EQ(Field(rb, "workflow_id"),
            Field(BodyObject(Call(beta_, "GET", "/v2/workflows/wf")), "id"));

  // Deleting alpha's leaves beta's.
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/workflows/parent").status, 204);
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/workflows/wf").status, 204);
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/wf").status, 200);
  EXPECT_EQ(StartAndRun(beta_, "wf").empty(), false);
}

TEST_F(ProjectsApiTest, ExecutionsTasksAndActionsStayInTheirProject) {
  ASSERT_EQ(Call(alpha_, "POST", "/v2/workflows", kWorkflows).status, 201);
  const std::string exec = StartAndRun(alpha_, "parent");
  auto mine = Call(alpha_, "GET", "/v2/executions/" + exec);
  ASSERT_EQ(mine.status, 200);
  EXPECT_EQ(Field(BodyObject(mine), "project_id"), "alpha-id");
  EXPECT_EQ(Field(BodyObject(mine), "state"), "SUCCESS") << mine.body;

  // Alpha's: the execution, its sub-execution (inherits the project), tasks, action executions.
  auto all = Ids(Call(alpha_, "GET", "/v2/executions"), "executions");
  ASSERT_EQ(all.size(), 2u);
  for (const auto& id : all) {
    EXPECT_EQ(Field(BodyObject(Call(alpha_, "GET", "/v2/executions/" + id)), "project_id"),
              "alpha-id");
  }
  auto tasks = Ids(Call(alpha_, "GET", "/v2/tasks"), "tasks");
  ASSERT_EQ(tasks.size(), 2u);
  auto actions = Ids(Call(alpha_, "GET", "/v2/action_executions"), "action_executions");
  ASSERT_EQ(actions.size(), 1u);

  // Beta sees none of it.
  EXPECT_TRUE(Ids(Call(beta_, "GET", "/v2/executions"), "executions").empty());
  EXPECT_TRUE(Ids(Call(beta_, "GET", "/v2/tasks"), "tasks").empty());
  EXPECT_TRUE(Ids(Call(beta_, "GET", "/v2/action_executions"), "action_executions").empty());
  for (const auto& id : all) {
    EXPECT_EQ(Call(beta_, "GET", "/v2/executions/" + id).status, 404);
    // As for an unknown execution (Mistral filters tasks by execution): an empty list.
    EXPECT_TRUE(Ids(Call(beta_, "GET", "/v2/executions/" + id + "/tasks"), "tasks").empty());
    EXPECT_FALSE(Ids(Call(alpha_, "GET", "/v2/executions/" + id + "/tasks"), "tasks").empty());
    EXPECT_EQ(Call(beta_, "PUT", "/v2/executions/" + id, R"({"state": "PAUSED"})").status, 404);
    EXPECT_EQ(Call(beta_, "DELETE", "/v2/executions/" + id).status, 404);
  }
  for (const auto& id : tasks) EXPECT_EQ(Call(beta_, "GET", "/v2/tasks/" + id).status, 404);
  for (const auto& id : actions) {
    EXPECT_EQ(Call(beta_, "GET", "/v2/action_executions/" + id).status, 404);
    EXPECT_EQ(Call(beta_, "PUT", "/v2/action_executions/" + id, R"({"state": "SUCCESS"})").status,
              404);
  }
  // Beta cannot take the id either.
  EXPECT_EQ(
      Call(beta_, "POST", "/v2/executions", R"({"workflow_name": "wf", "id": ")" + exec + "\"}")
          .status,
      409);
  // The admin reads it by id and lists it with all_projects; beta may not ask for that.
  EXPECT_EQ(Call(admin_, "GET", "/v2/executions/" + exec).status, 200);
  EXPECT_EQ(Ids(Call(admin_, "GET", "/v2/executions?all_projects=true"), "executions").size(), 2u);
  EXPECT_EQ(Call(beta_, "GET", "/v2/executions?all_projects=true").status, 403);
  EXPECT_EQ(Call(beta_, "GET", "/v2/tasks?all_projects=true").status, 403);
  // Alpha deletes its execution.
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/executions/" + exec).status, 204);
}

TEST_F(ProjectsApiTest, CronTriggersStartExecutionsInTheirCreatorsProject) {
  ASSERT_EQ(Call(alpha_, "POST", "/v2/workflows", kWorkflows).status, 201);
  ASSERT_EQ(Call(beta_, "POST", "/v2/workflows", kBetaWorkflow).status, 201);
  auto created = Call(alpha_, "POST", "/v2/cron_triggers",
                      R"({"name": "tick", "workflow_name": "wf", "pattern": "*/5 * * * *"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Field(BodyObject(created), "id");
  EXPECT_EQ(Field(BodyObject(created), "project_id"), "alpha-id");
  // Beta: same name is free in its project; alpha's is invisible.
  ASSERT_EQ(Call(beta_, "POST", "/v2/cron_triggers",
                 R"({"name": "tick", "workflow_name": "wf", "pattern": "0 0 1 1 *"})")
                .status,
            201);
  EXPECT_FALSE(Has(Ids(Call(beta_, "GET", "/v2/cron_triggers"), "cron_triggers"), id));
  EXPECT_EQ(Call(beta_, "GET", "/v2/cron_triggers/" + id).status, 404);
  EXPECT_EQ(Call(beta_, "DELETE", "/v2/cron_triggers/" + id).status, 404);
  EXPECT_EQ(Call(alpha_, "GET", "/v2/cron_triggers/tick").status, 200);
  EXPECT_EQ(Ids(Call(admin_, "GET", "/v2/cron_triggers?all_projects=true"), "cron_triggers").size(),
            2u);

  triggers::CronScheduler scheduler(&backend_.resources(), &runtime_.client(), runtime_.clock(),
                                    runtime_.partitions());
  runtime_.manual_clock()->Set(*triggers::ParseMinuteTime("2026-01-01 10:05"));
  auto fired = scheduler.RunDue({PartitionId(0), PartitionId(1), PartitionId(2), PartitionId(3)});
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  EXPECT_EQ(*fired, 1u);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  const std::string exec =
      triggers::CronExecutionId(id, *triggers::ParseMinuteTime("2026-01-01 10:05"));
  auto got = Call(alpha_, "GET", "/v2/executions/" + exec);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(Field(BodyObject(got), "project_id"), "alpha-id");
  EXPECT_EQ(Field(BodyObject(got), "output"), R"({"who": "alpha"})");  // alpha's `wf`
  EXPECT_EQ(Call(beta_, "GET", "/v2/executions/" + exec).status, 404);
  auto st = runtime_.client().Get(ExecutionId(exec));
  ASSERT_TRUE(st.ok() && st->has_value());
  EXPECT_EQ((*st)->user_id, "alice-id");
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/cron_triggers/tick").status, 204);
  EXPECT_EQ(Call(beta_, "GET", "/v2/cron_triggers/tick").status, 200);  // beta's own
}

TEST_F(ProjectsApiTest, EventTriggersBelongToTheirProject) {
  ASSERT_EQ(Call(alpha_, "POST", "/v2/workflows", kWorkflows).status, 201);
  auto created = Call(alpha_, "POST", "/v2/event_triggers",
                      R"({"name": "on", "workflow_id": "wf", "type": "com.example"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = Field(BodyObject(created), "id");
  EXPECT_EQ(Field(BodyObject(created), "project_id"), "alpha-id");
  EXPECT_FALSE(Has(Ids(Call(beta_, "GET", "/v2/event_triggers"), "event_triggers"), id));
  EXPECT_EQ(Call(beta_, "GET", "/v2/event_triggers/" + id).status, 404);
  EXPECT_EQ(Call(beta_, "PUT", "/v2/event_triggers/" + id, R"({"name": "x"})").status, 404);
  EXPECT_EQ(Call(beta_, "DELETE", "/v2/event_triggers/" + id).status, 404);
  // Beta cannot point a trigger at alpha's private workflow.
  EXPECT_EQ(Call(beta_, "POST", "/v2/event_triggers",
                 R"({"name": "on", "workflow_id": "wf", "type": "com.example"})")
                .status,
            404);
  EXPECT_TRUE(
      Has(Ids(Call(admin_, "GET", "/v2/event_triggers?all_projects=true"), "event_triggers"), id));
  EXPECT_EQ(Call(alpha_, "GET", "/v2/event_triggers/" + id).status, 200);
  EXPECT_EQ(Call(alpha_, "DELETE", "/v2/event_triggers/" + id).status, 204);
}

TEST_F(ProjectsApiTest, ActionsGetTheCallersSecurityContext) {
  std::vector<Json> seen;
  workers::ActionSignature probe;
  probe.name = "test.security_probe";
  runtime_.actions().Register(std::move(probe), std::make_shared<SecurityProbe>(&seen));
  ASSERT_EQ(Call(alpha_, "POST", "/v2/workflows", R"(
version: '2.0'
leaf:
  tasks:
    t:
      action: test.security_probe
top:
  tasks:
    own:
      action: test.security_probe
    sub:
      workflow: leaf
)")
                .status,
            201);
  http::HttpRequest r = MakeRequest("POST", "/v2/executions", R"({"workflow_name": "top"})", "",
                                    {{"x-auth-token", "alpha-token"}});
  r.identity = alpha_;
  auto created = router_.Dispatch(r);
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  // Its own action and its sub-workflow's: the caller's context, token included.
  ASSERT_EQ(seen.size(), 2u);
  for (const auto& s : seen) {
    EXPECT_EQ(DumpJson(s),
              R"({"project_id":"alpha-id","project_name":"alpha","user_id":"alice-id",)"
              R"("user_name":"alice","auth_token":"alpha-token"})");
  }
  // Never in the execution's JSON.
  auto got = Call(alpha_, "GET", "/v2/executions/" + Field(BodyObject(created), "id"));
  EXPECT_EQ(got.body.find("alpha-token"), std::string::npos) << got.body;

  // Without an identity (--auth none|token): none.
  seen.clear();
  ASSERT_EQ(router_
                .Dispatch(MakeRequest("POST", "/v2/workflows", R"(
version: '2.0'
plain:
  tasks:
    t:
      action: test.security_probe
)",
                                      "text/plain"))
                .status,
            201);
  ASSERT_EQ(router_.Dispatch(MakeRequest("POST", "/v2/executions", R"({"workflow_name": "plain"})"))
                .status,
            201);
  ASSERT_TRUE(runtime_.RunUntilIdle().ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0].is_null()) << DumpJson(seen[0]);
}

// Mistral's resource sharing: alpha shares its private workflow with beta; beta sees it once it
// accepted, runs it in its own project, cannot change it; reject or removal hide it again.
TEST_F(ProjectsApiTest, MembersShareAPrivateWorkflowWithAnotherProject) {
  auto created = Call(alpha_, "POST", "/v2/workflows", kWorkflows);
  ASSERT_EQ(created.status, 201);
  const std::string wf = CreatedId(created, "workflows");
  const std::string members = "/v2/workflows/" + wf + "/members";
  const std::string beta_member = members + "/beta-id";

  // Errors first: not a UUID, no member_id, with itself, another project's workflow, public.
  EXPECT_EQ(Call(alpha_, "POST", "/v2/workflows/wf/members", R"({"member_id": "beta-id"})").status,
            400);
  EXPECT_EQ(Call(alpha_, "POST", members, "{}").status, 400);
  EXPECT_EQ(Call(alpha_, "POST", members, R"({"member_id": "alpha-id"})").status, 400);
  EXPECT_EQ(Call(beta_, "POST", members, R"({"member_id": "beta-id"})").status, 404);
  auto pub = Call(alpha_, "POST", "/v2/workflows?scope=public&namespace=p", kBetaWorkflow);
  ASSERT_EQ(pub.status, 201);
  auto refused = Call(alpha_, "POST", "/v2/workflows/" + CreatedId(pub, "workflows") + "/members",
                      R"({"member_id": "beta-id"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Field(BodyObject(refused), "faultstring"), "Only private resource could be shared.");

  // Shared: pending; beta does not see the workflow yet.
  auto shared = Call(alpha_, "POST", members, R"({"member_id": "beta-id"})");
  ASSERT_EQ(shared.status, 201) << shared.body;
  JsonObject m = BodyObject(shared);
  EXPECT_EQ(Field(m, "resource_id"), wf);
  EXPECT_EQ(Field(m, "resource_type"), "workflow");
  EXPECT_EQ(Field(m, "project_id"), "alpha-id");
  EXPECT_EQ(Field(m, "member_id"), "beta-id");
  EXPECT_EQ(Field(m, "status"), "pending");
  EXPECT_TRUE(m.at("updated_at").is_null());
  EXPECT_EQ(Call(alpha_, "POST", members, R"({"member_id": "beta-id"})").status, 409);
  ASSERT_EQ(Call(alpha_, "POST", members, R"({"member_id": "gamma-id"})").status, 201);
  EXPECT_FALSE(Has(Ids(Call(beta_, "GET", "/v2/workflows"), "workflows"), wf));
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/" + wf).status, 404);

  // The owner lists every member, a member its own, a stranger none; only the member answers.
  EXPECT_EQ(Ids(Call(alpha_, "GET", members), "members").size(), 2u);
  auto betas = Call(beta_, "GET", members);
  ASSERT_EQ(Ids(betas, "members").size(), 1u);
  EXPECT_EQ(Field(BodyObject(betas).at("members").as_array()[0].as_object(), "member_id"),
            "beta-id");
  EXPECT_TRUE(Ids(Call(Member("delta", "dave"), "GET", members), "members").empty());
  EXPECT_EQ(Call(beta_, "GET", beta_member).status, 200);
  EXPECT_EQ(Call(beta_, "GET", members + "/gamma-id").status, 404);
  EXPECT_EQ(Call(alpha_, "PUT", beta_member, R"({"status": "accepted"})").status, 404);
  EXPECT_EQ(Call(beta_, "PUT", beta_member, R"({"status": "maybe"})").status, 400);
  EXPECT_EQ(Call(beta_, "PUT", beta_member, "{}").status, 400);
  EXPECT_EQ(Call(beta_, "DELETE", beta_member).status, 404);

  // Accepted: beta lists it, reads it by id and by name, and runs it in its own project.
  auto accepted = Call(beta_, "PUT", beta_member, R"({"status": "accepted"})");
  ASSERT_EQ(accepted.status, 200) << accepted.body;
  EXPECT_EQ(Field(BodyObject(accepted), "status"), "accepted");
  EXPECT_FALSE(BodyObject(accepted).at("updated_at").is_null());
  EXPECT_TRUE(Has(Ids(Call(beta_, "GET", "/v2/workflows"), "workflows"), wf));
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/" + wf).status, 200);
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/wf").status, 200);
  const std::string exec = StartAndRun(beta_, "wf");
  auto run = Call(beta_, "GET", "/v2/executions/" + exec);
  ASSERT_EQ(run.status, 200);
  EXPECT_EQ(Field(BodyObject(run), "project_id"), "beta-id");
  EXPECT_EQ(Field(BodyObject(run), "state"), "SUCCESS") << run.body;
  EXPECT_EQ(Call(alpha_, "GET", "/v2/executions/" + exec).status, 404);
  auto by_id = Call(beta_, "POST", "/v2/executions", R"({"workflow_id": ")" + wf + R"("})");
  EXPECT_EQ(by_id.status, 201) << by_id.body;
  // Gamma (pending) still sees nothing.
  EXPECT_EQ(Call(gamma_, "GET", "/v2/workflows/" + wf).status, 404);
  EXPECT_EQ(Call(gamma_, "POST", "/v2/executions", R"({"workflow_id": ")" + wf + R"("})").status,
            404);
  // Beta cannot change or delete it.
  EXPECT_EQ(Call(beta_, "PUT", "/v2/workflows/" + wf, kBetaWorkflow).status, 403);
  EXPECT_EQ(Call(beta_, "DELETE", "/v2/workflows/" + wf).status, 403);
  EXPECT_EQ(Call(beta_, "POST", members, R"({"member_id": "gamma-id"})").status, 403);

  // Rejected: gone again.
  ASSERT_EQ(Call(beta_, "PUT", beta_member, R"({"status": "rejected"})").status, 200);
  EXPECT_FALSE(Has(Ids(Call(beta_, "GET", "/v2/workflows"), "workflows"), wf));
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/" + wf).status, 404);
  // Accepted again, then the owner removes the member: gone.
  ASSERT_EQ(Call(beta_, "PUT", beta_member, R"({"status": "accepted"})").status, 200);
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/" + wf).status, 200);
  EXPECT_EQ(Call(alpha_, "DELETE", beta_member).status, 204);
  EXPECT_EQ(Call(beta_, "GET", "/v2/workflows/" + wf).status, 404);
  EXPECT_EQ(Call(beta_, "GET", beta_member).status, 404);
  EXPECT_EQ(Call(alpha_, "DELETE", beta_member).status, 404);

  // Deleting the workflow deletes its members.
  ASSERT_EQ(Call(alpha_, "DELETE", "/v2/workflows/" + wf).status, 204);
  EXPECT_TRUE(Ids(Call(alpha_, "GET", members), "members").empty());
  EXPECT_EQ(Call(gamma_, "GET", members + "/gamma-id").status, 404);

  // Without an identity (--auth none|token) there is no sharing: 400, as Mistral without auth.
  auto anonymous = router_.Dispatch(MakeRequest("GET", members));
  EXPECT_EQ(anonymous.status, 400);
  EXPECT_EQ(Field(BodyObject(anonymous), "faultstring"),
            "Resource sharing feature can only be supported with authentication enabled.");
}

// No identity (--auth none|token): one tenant, the default project, as before projects existed.
TEST_F(ProjectsApiTest, WithoutAnIdentityEverythingIsTheDefaultProject) {
  http::HttpRequest r = MakeRequest("POST", "/v2/workflows", kWorkflows, "text/plain");
  auto created = router_.Dispatch(r);
  ASSERT_EQ(created.status, 201);
  EXPECT_EQ(Field(BodyObject(created).at("workflows").as_array()[0].as_object(), "project_id"),
            "<default-project>");
  auto list = router_.Dispatch(MakeRequest("GET", "/v2/executions?all_projects=true"));
  EXPECT_EQ(list.status, 200);
  // Keystone users do not see the default project's private records.
  EXPECT_EQ(Call(alpha_, "GET", "/v2/workflows/wf").status, 404);
}

}  // namespace
}  // namespace bora::api
