#pragma once
// The fixture of executions_api_test and console_api_test: the executions routes over an
// EmbeddedRuntime in deterministic mode (nothing runs until Run()), a Catalog holding kWorkflows.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>

#include "common/http/router.h"
#include "ingest/api/api_test_support.h"
#include "ingest/api/catalog.h"
#include "ingest/api/executions_api.h"
#include "orchestrator/runtime/embedded_runtime.h"
#include "sdk/protocol/protocol.h"
#include "workers/action.h"

namespace bora::api {
namespace {

constexpr const char* kWorkflows = R"(
version: '2.0'
wf:
  input:
    - num1
    - num2: 1
  tasks:
    task1:
      action: std.echo output=<% $.num1 + $.num2 %>
      publish:
        result: <% task().result %>
      on-success: [task2]
    task2:
      action: std.noop
  output:
    result: <% $.result %>

wf_fail:
  tasks:
    t1:
      action: std.fail

wf_async:
  tasks:
    wait:
      action: std.async_noop

wf_env:
  tasks:
    greet:
      action: std.echo output=<% env().greeting %>
      publish:
        greeting: <% task().result %>
  output:
    greeting: <% $.greeting %>

wf_parent:
  tasks:
    call:
      workflow: wf
      input:
        num1: 10

wf_big_result:
  tasks:
    big:
      action: std.test_dict size=400000 key_prefix=key val=xxxxxxxxxxxxxxxxxxxxxxxx

wf_infinity:
  tasks:
    inf:
      action: test.infinity

wf_big_input:
  tasks:
    big:
      action: std.echo
      input:
        output: [<% 'x' * 3000000 %>, <% 'x' * 3000000 %>, <% 'x' * 3000000 %>]

wf_big_child:
  tasks:
    t:
      action: std.noop
  output:
    o: [<% 'x' * 3000000 %>, <% 'x' * 3000000 %>, <% 'x' * 3000000 %>]

wf_big_parent:
  tasks:
    call:
      workflow: wf_big_child

wf_then_async:
  tasks:
    first:
      action: std.noop
      on-success: [wait]
    wait:
      action: std.async_noop

wf_items:
  tasks:
    each:
      with-items: x in <% [1, 2, 3] %>
      action: std.echo output=<% $.x %>
)";

// An action whose result holds a number JSON cannot carry (as a C++ action could return).
class InfinityAction final : public workers::Action {
 public:
  workers::ActionResult Run(const workers::ActionRequest&, const workers::CancelToken&) override {
    return workers::ActionResult::Success(JsonObject{{"x", HUGE_VAL}});
  }
};

struct Reply {
  int status = 0;
  Json body;
  std::string Fault() const {
    if (!body.is_object()) return "";
    const Json* f = body.as_object().if_contains("faultstring");
    return f && f->is_string() ? std::string(f->get_string()) : "";
  }
  std::string Str(const char* key) const {
    const Json* v = body.is_object() ? body.as_object().if_contains(key) : nullptr;
    return v && v->is_string() ? std::string(v->get_string()) : "";
  }
};

class ExecutionsApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    workers::ActionSignature infinity;
    infinity.name = "test.infinity";
    rt_->actions().Register(std::move(infinity), std::make_shared<InfinityAction>());
    auto created = catalog_->CreateWorkflows(kWorkflows, DefinitionScope{});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    for (const auto& w : *created) {
      workflow_ids_[std::string(w.at("name").as_string())] = std::string(w.at("id").as_string());
    }
    JsonObject env;
    env["name"] = "myenv";
    env["variables"] = JsonObject{{"greeting", "hello from env"}};
    ASSERT_TRUE(catalog_->CreateEnvironment(env).ok());
    ExecutionsApiOptions opts;
    opts.change_wait =
        std::chrono::milliseconds(0);  // deterministic: nothing runs until RunUntilIdle
    RegisterExecutionsRoutes(router_, ctx_, opts);
  }

  Reply Call(const std::string& method, const std::string& target, const std::string& body = "") {
    http::HttpResponse resp = router_.Dispatch(MakeRequest(method, target, body));
    Reply r;
    r.status = resp.status;
    if (!resp.body.empty()) {
      auto parsed = ParseJson(resp.body);
      EXPECT_TRUE(parsed.ok()) << resp.body;
      if (parsed.ok()) r.body = *parsed;
    }
    return r;
  }

  void Run() {
    Status s = rt_->RunUntilIdle();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Starts `body`, runs to idle, returns the execution id.
  std::string StartAndRun(const std::string& body) {
    rt_->manual_clock()->AdvanceSeconds(1);
    Reply r = Call("POST", "/v2/executions", body);
    EXPECT_EQ(r.status, 201) << DumpJson(r.body);
    Run();
    return r.Str("id");
  }

  std::vector<std::string> Ids(const Reply& r, const char* collection) {
    std::vector<std::string> out;
    for (const auto& v : r.body.at(collection).as_array()) out.emplace_back(v.at("id").as_string());
    return out;
  }

  ApiTestBackend backend_;
  runtime::EmbeddedRuntime* rt_ = &backend_.runtime();
  Catalog* catalog_ = &backend_.catalog();
  ApiContext& ctx_ = backend_.context();
  std::map<std::string, std::string> workflow_ids_;
  http::Router router_;
};

}  // namespace
}  // namespace bora::api
