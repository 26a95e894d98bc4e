// The conformance runner: one test per case of the Mistral conformance corpus
// (../shared/conformance, or $BORA_CONFORMANCE_DIR), and every key of its .expect.json checked as
// ../shared/conformance/README.md defines it. A key this runner does not know fails the case as
// "unchecked". Built three times, one per driver (driver.h):
// - conformance_test: the embedded runtime in deterministic mode (manual clock, actions inline, no
//   sleeps), through the same ExecutionClient operations the API uses;
// - conformance_distributed_test (BORA_DISTRIBUTED): separate `bora orchestrator` and `bora worker`
//   processes on the real Kafka and Redis;
// - conformance_cli_test (BORA_CLI): the built `bora run --json` per case, its printed execution
//   tree (sub-workflows nested) read back. `bora run` exits at the first stop, so the cases with
//   `steps` are checked up to there, then skipped: their steps run in the two other builds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/json.h"
#include "orchestrator/engine/state.h"
#include "tests/conformance/driver.h"

namespace bora {
namespace {

namespace fs = std::filesystem;

fs::path CorpusDir() {
  if (const char* env = std::getenv("BORA_CONFORMANCE_DIR"); env != nullptr && *env) return env;
  return fs::path(BORA_SOURCE_DIR) / ".." / "shared" / "conformance";
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  std::error_code ec;
  if (!fs::is_directory(CorpusDir(), ec)) return names;
  for (const auto& entry : fs::directory_iterator(CorpusDir(), ec)) {
    std::string file = entry.path().filename().string();
    const std::string suffix = ".expect.json";
    if (file.size() > suffix.size() && file.ends_with(suffix)) {
      names.push_back(file.substr(0, file.size() - suffix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Text form used by the `_contains` checks: strings as they are, anything else as JSON.
std::string AsText(const Json& v) { return v.is_string() ? std::string(v.get_string()) : DumpJson(v); }

// README: a string must occur as a substring of the actual value (as text), a list of strings must each
// occur, any other value must be equal.
bool ContainsCheck(const Json& actual, const Json& expected, std::string* why) {
  std::string text = AsText(actual);
  if (expected.is_string()) {
    if (text.find(expected.get_string()) != std::string::npos) return true;
    *why = "'" + std::string(expected.get_string()) + "' not in '" + text + "'";
    return false;
  }
  if (expected.is_array() && !expected.get_array().empty() &&
      std::all_of(expected.get_array().begin(), expected.get_array().end(),
                  [](const Json& e) { return e.is_string(); })) {
    for (const auto& e : expected.get_array()) {
      if (text.find(e.get_string()) == std::string::npos) {
        *why = "'" + std::string(e.get_string()) + "' not in '" + text + "'";
        return false;
      }
    }
    return true;
  }
  if (JsonEquals(actual, expected)) return true;
  *why = DumpJson(actual) + " != " + DumpJson(expected);
  return false;
}

class ConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = CorpusDir();
    auto expect = ParseJson(ReadText(dir_ / (GetParam() + ".expect.json")));
    ASSERT_TRUE(expect.ok()) << expect.status().ToString();
    ASSERT_TRUE(expect->is_object());
    expect_ = expect->get_object();
#ifdef BORA_DISTRIBUTED
    auto d = conformance::MakeDistributedDriver(GetParam().substr(0, 3));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    rt_ = std::move(*d);
#elif defined(BORA_CLI)
    rt_ = conformance::MakeCliDriver(BORA_BINARY);
#else
    rt_ = conformance::MakeEmbeddedDriver();
#endif
  }

  const Json* Key(std::string_view k) {
    checked_.insert(std::string(k));
    auto it = expect_.find(k);
    return it == expect_.end() ? nullptr : &it->value();
  }

  engine::ExecutionState State() {
    auto s = rt_->Get(execution_id_);
    EXPECT_TRUE(s.ok() && s->has_value()) << "execution " << execution_id_ << " not found";
    return s.ok() && s->has_value() ? **s : engine::ExecutionState();
  }

  const engine::TaskExecution* Latest(const engine::ExecutionState& s, const std::string& name) {
    return s.FindLatestTask(name);
  }

  // Every execution created by the run, found by walking workflow tasks' sub-executions.
  std::vector<engine::ExecutionState> SubExecutions(const engine::ExecutionState& root) {
    std::vector<engine::ExecutionState> out;
    std::vector<const engine::ExecutionState*> todo{&root};
    std::vector<std::unique_ptr<engine::ExecutionState>> keep;
    while (!todo.empty()) {
      const engine::ExecutionState* s = todo.back();
      todo.pop_back();
      for (const auto& t : s->tasks) {
        for (const auto& a : t.actions) {
          if (!a.is_workflow) continue;
          auto sub = rt_->Get(a.id);
          if (!sub.ok() || !sub->has_value()) continue;
          keep.push_back(std::make_unique<engine::ExecutionState>(**sub));
          out.push_back(**sub);
          todo.push_back(keep.back().get());
        }
      }
    }
    return out;
  }

  void CheckTaskStates(const engine::ExecutionState& s, const Json& tasks, const std::string& where) {
    for (const auto& kv : tasks.get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << where << ": task " << kv.key() << " never ran";
      EXPECT_EQ(engine::StateName(t->state), AsText(kv.value()))
          << where << ": task " << kv.key() << " state_info=" << t->state_info.value_or("");
    }
  }

  // `expected` = {task: {var: value}}: each listed variable was published with exactly this value.
  void CheckPublished(const engine::ExecutionState& s, const Json& expected, const std::string& where) {
    for (const auto& kv : expected.get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << where << ": task " << kv.key() << " never ran";
      for (const auto& var : kv.value().get_object()) {
        auto it = t->published.get_object().find(var.key());
        ASSERT_NE(it, t->published.get_object().end())
            << where << ": " << kv.key() << " did not publish " << var.key() << ": " << DumpJson(t->published);
        EXPECT_TRUE(JsonEquals(it->value(), var.value()))
            << where << ": " << kv.key() << "." << var.key() << ": " << DumpJson(it->value())
            << " != " << DumpJson(var.value());
      }
    }
  }

  void CheckOutcome(const engine::ExecutionState& s);
  void RunSteps(const Json& steps);

  fs::path dir_;
  JsonObject expect_;
  std::set<std::string> checked_;
  std::unique_ptr<conformance::Driver> rt_;
  std::string execution_id_;
  // Set when the driver cannot run the steps (the cli driver): the case ends skipped, once all else
  // is checked.
  std::string steps_not_run_;
};

void ConformanceTest::CheckOutcome(const engine::ExecutionState& s) {
  const std::string info = s.state_info.value_or("");
  if (const Json* v = Key("state")) {
    EXPECT_EQ(engine::StateName(s.state), AsText(*v)) << "state_info: " << info;
  }
  if (const Json* v = Key("tasks")) CheckTaskStates(s, *v, "tasks");
  if (const Json* v = Key("task_count")) {
    EXPECT_EQ(static_cast<int64_t>(s.tasks.size()), v->to_number<int64_t>());
  }
  if (const Json* v = Key("task_counts")) {
    for (const auto& kv : v->get_object()) {
      int64_t n = std::count_if(s.tasks.begin(), s.tasks.end(),
                                [&](const auto& t) { return t.name == kv.key(); });
      EXPECT_EQ(n, kv.value().to_number<int64_t>()) << "task_counts." << kv.key();
    }
  }
  if (const Json* v = Key("all_tasks_state")) {
    for (const auto& t : s.tasks) EXPECT_EQ(engine::StateName(t.state), AsText(*v)) << "task " << t.name;
  }
  if (const Json* v = Key("absent_tasks")) {
    for (const auto& name : v->get_array()) {
      EXPECT_EQ(Latest(s, AsText(name)), nullptr) << "task " << AsText(name) << " ran";
    }
  }
  const Json* output = Key("output");
  const Json* match = Key("output_match");
  if (output) {
    std::string mode = match ? AsText(*match) : "exact";
    if (mode == "subset") {
      ASSERT_TRUE(s.output.is_object()) << DumpJson(s.output);
      for (const auto& kv : output->get_object()) {
        auto it = s.output.get_object().find(kv.key());
        ASSERT_NE(it, s.output.get_object().end()) << "output lacks " << kv.key();
        EXPECT_TRUE(JsonEquals(it->value(), kv.value()))
            << "output." << kv.key() << ": " << DumpJson(it->value()) << " != " << DumpJson(kv.value());
      }
    } else {
      EXPECT_TRUE(JsonEquals(s.output, *output))
          << "output " << DumpJson(s.output) << " != " << DumpJson(*output);
    }
  }
  if (const Json* v = Key("output_keys")) {
    for (const auto& k : v->get_array()) {
      EXPECT_TRUE(s.output.is_object() && s.output.get_object().contains(AsText(k)))
          << "output lacks " << AsText(k) << ": " << DumpJson(s.output);
    }
  }
  if (const Json* v = Key("output_absent_keys")) {
    for (const auto& k : v->get_array()) {
      EXPECT_FALSE(s.output.is_object() && s.output.get_object().contains(AsText(k)))
          << "output has " << AsText(k);
    }
  }
  if (const Json* v = Key("output_contains")) {
    for (const auto& kv : v->get_object()) {
      ASSERT_TRUE(s.output.is_object() && s.output.get_object().contains(kv.key()))
          << "output lacks " << kv.key();
      std::string why;
      EXPECT_TRUE(ContainsCheck(s.output.get_object().at(kv.key()), kv.value(), &why))
          << "output_contains." << kv.key() << ": " << why;
    }
  }
  auto published_of = [&](const std::string& task) -> const Json* {
    const auto* t = Latest(s, task);
    EXPECT_NE(t, nullptr) << "task " << task << " never ran";
    return t ? &t->published : nullptr;
  };
  if (const Json* v = Key("published")) CheckPublished(s, *v, "published");
  if (const Json* v = Key("published_contains")) {
    for (const auto& kv : v->get_object()) {
      const Json* p = published_of(std::string(kv.key()));
      if (!p) continue;
      for (const auto& var : kv.value().get_object()) {
        auto it = p->get_object().find(var.key());
        ASSERT_NE(it, p->get_object().end()) << kv.key() << " did not publish " << var.key();
        std::string why;
        EXPECT_TRUE(ContainsCheck(it->value(), var.value(), &why)) << kv.key() << "." << var.key() << ": " << why;
      }
    }
  }
  if (const Json* v = Key("published_keys")) {
    for (const auto& kv : v->get_object()) {
      const Json* p = published_of(std::string(kv.key()));
      if (!p) continue;
      std::set<std::string> want, got;
      for (const auto& k : kv.value().get_array()) want.insert(AsText(k));
      for (const auto& k : p->get_object()) got.insert(std::string(k.key()));
      EXPECT_EQ(got, want) << "published keys of " << kv.key();
    }
  }
  if (const Json* v = Key("task_results")) {
    for (const auto& kv : v->get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << "task " << kv.key() << " never ran";
      Json result = t->Result();
      EXPECT_TRUE(JsonEquals(result, kv.value()))
          << "result of " << kv.key() << ": " << DumpJson(result) << " != " << DumpJson(kv.value());
    }
  }
  if (const Json* v = Key("task_result_contains")) {
    for (const auto& kv : v->get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << "task " << kv.key() << " never ran";
      Json result = t->Result();
      ASSERT_TRUE(result.is_array()) << "result of " << kv.key() << " is not a list: " << DumpJson(result);
      for (const auto& item : kv.value().get_array()) {
        bool found = std::any_of(result.get_array().begin(), result.get_array().end(),
                                 [&](const Json& r) { return JsonEquals(r, item); });
        EXPECT_TRUE(found) << "result of " << kv.key() << " lacks " << DumpJson(item) << ": "
                           << DumpJson(result);
      }
    }
  }
  if (const Json* v = Key("state_info")) {
    if (v->is_null()) {
      EXPECT_FALSE(s.state_info.has_value()) << info;
    } else {
      EXPECT_EQ(info, AsText(*v));
    }
  }
  if (const Json* v = Key("state_info_contains")) {
    std::string why;
    EXPECT_TRUE(ContainsCheck(Json(info), *v, &why)) << why;
  }
  if (const Json* v = Key("state_info_not_null")) {
    EXPECT_EQ(s.state_info.has_value(), v->as_bool()) << info;
  }
  if (const Json* v = Key("state_info_contains_execution_id")) {
    EXPECT_EQ(info.find(s.id) != std::string::npos, v->as_bool()) << "id " << s.id << " in: " << info;
  }
  if (const Json* v = Key("task_state_info_not_null")) {
    for (const auto& kv : v->get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << "task " << kv.key() << " never ran";
      EXPECT_EQ(t->state_info.has_value(), kv.value().as_bool()) << "task " << kv.key();
    }
  }
  if (const Json* v = Key("retry_no")) {
    for (const auto& kv : v->get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << "task " << kv.key() << " never ran";
      EXPECT_EQ(t->retry_no, kv.value().to_number<int64_t>()) << "retry_no of " << kv.key();
    }
  }
  if (const Json* v = Key("retry_policy_context")) {
    for (const auto& kv : v->get_object()) {
      const auto* t = Latest(s, std::string(kv.key()));
      ASSERT_NE(t, nullptr) << "task " << kv.key() << " never ran";
      Json rc = t->RuntimeContextJson();
      Json actual = JsonObject();
      if (rc.is_object() && rc.get_object().contains("retry_task_policy")) {
        actual = rc.get_object().at("retry_task_policy");
      }
      EXPECT_TRUE(JsonEquals(actual, kv.value()))
          << "retry context of " << kv.key() << ": " << DumpJson(actual) << " != " << DumpJson(kv.value());
    }
  }
  auto count_actions = [&](const std::string& task, bool accepted_only) {
    int64_t n = 0;
    for (const auto& t : s.tasks) {
      if (t.name != task) continue;
      for (const auto& a : t.actions) n += (!accepted_only || a.accepted) ? 1 : 0;
    }
    return n;
  };
  if (const Json* v = Key("action_states")) {
    for (const auto& kv : v->get_object()) {
      std::vector<std::string> got, want;
      for (const auto& t : s.tasks) {
        if (t.name != kv.key()) continue;
        for (const auto& a : t.actions) got.emplace_back(engine::StateName(a.state));
      }
      for (const auto& st : kv.value().get_array()) want.push_back(AsText(st));
      std::sort(got.begin(), got.end());
      std::sort(want.begin(), want.end());
      EXPECT_EQ(got, want) << "action states of " << kv.key();
    }
  }
  if (const Json* v = Key("action_execution_counts")) {
    for (const auto& kv : v->get_object()) {
      EXPECT_EQ(count_actions(std::string(kv.key()), false), kv.value().to_number<int64_t>())
          << "action executions of " << kv.key();
    }
  }
  if (const Json* v = Key("accepted_action_execution_counts")) {
    for (const auto& kv : v->get_object()) {
      EXPECT_EQ(count_actions(std::string(kv.key()), true), kv.value().to_number<int64_t>())
          << "accepted action executions of " << kv.key();
    }
  }
  if (const Json* v = Key("with_items_count")) {
    for (const auto& kv : v->get_object()) {
      EXPECT_EQ(count_actions(std::string(kv.key()), true), kv.value().to_number<int64_t>())
          << "with-items iterations of " << kv.key();
    }
  }
  if (const Json* v = Key("execution_params")) {
    for (const auto& kv : v->get_object()) {
      ASSERT_TRUE(s.params.is_object() && s.params.get_object().contains(kv.key()))
          << "params lack " << kv.key() << ": " << DumpJson(s.params);
      EXPECT_TRUE(JsonEquals(s.params.get_object().at(kv.key()), kv.value()))
          << "params." << kv.key() << ": " << DumpJson(s.params.get_object().at(kv.key()));
    }
  }
  if (const Json* v = Key("sub_executions")) {
    auto subs = SubExecutions(s);
    for (const auto& kv : v->get_object()) {
      auto it = std::find_if(subs.begin(), subs.end(),
                             [&](const auto& e) { return e.workflow_name == kv.key(); });
      ASSERT_NE(it, subs.end()) << "no sub-execution of " << kv.key();
      const JsonObject& want = kv.value().get_object();
      for (const auto& field : want) {
        if (field.key() == "state") {
          EXPECT_EQ(engine::StateName(it->state), AsText(field.value()));
        } else if (field.key() == "input") {
          EXPECT_TRUE(JsonEquals(it->input, field.value())) << "sub input " << DumpJson(it->input);
        } else if (field.key() == "output") {
          EXPECT_TRUE(JsonEquals(it->output, field.value())) << "sub output " << DumpJson(it->output);
        } else if (field.key() == "params_subset") {
          for (const auto& p : field.value().get_object()) {
            ASSERT_TRUE(it->params.is_object() && it->params.get_object().contains(p.key()))
                << "sub params lack " << p.key() << ": " << DumpJson(it->params);
            EXPECT_TRUE(JsonEquals(it->params.get_object().at(p.key()), p.value()));
          }
        } else {
          ADD_FAILURE() << "unchecked sub_executions key: " << field.key();
        }
      }
    }
  }
}

void ConformanceTest::RunSteps(const Json& steps) {
  int n = 0;
  for (const auto& step_value : steps.get_array()) {
    ++n;
    const JsonObject& step = step_value.get_object();
    std::string op = AsText(step.at("op"));
    std::string where = "step " + std::to_string(n) + " (" + op + ")";
    std::set<std::string> known = {"op",           "api",          "task",           "expect_state",
                                   "expect_task_count", "expect_tasks", "expect_published", "expect_output"};
    for (const auto& kv : step) {
      EXPECT_TRUE(known.contains(std::string(kv.key()))) << where << ": unchecked key " << kv.key();
    }
    Status done;
    if (op == "resume") {
      done = rt_->Resume(execution_id_);
    } else if (op == "skip_task") {
      auto s = State();
      const auto* t = Latest(s, AsText(step.at("task")));
      ASSERT_NE(t, nullptr) << where << ": no task " << AsText(step.at("task"));
      done = rt_->SkipTask(execution_id_, t->id);
    } else {
      FAIL() << where << ": unknown op";
    }
#ifdef BORA_CLI
    if (done.code() == StatusCode::kUnimplemented) {
      steps_not_run_ = where + " and after: " + done.message();
      return;
    }
#endif
    ASSERT_TRUE(done.ok()) << where << ": " << done.ToString();
    Status settled = rt_->Settle(execution_id_);
    ASSERT_TRUE(settled.ok()) << settled.ToString();
    auto s = State();
    if (auto it = step.find("expect_state"); it != step.end()) {
      EXPECT_EQ(engine::StateName(s.state), AsText(it->value())) << where << " " << s.state_info.value_or("");
    }
    if (auto it = step.find("expect_task_count"); it != step.end()) {
      EXPECT_EQ(static_cast<int64_t>(s.tasks.size()), it->value().to_number<int64_t>()) << where;
    }
    if (auto it = step.find("expect_tasks"); it != step.end()) CheckTaskStates(s, it->value(), where);
    if (auto it = step.find("expect_published"); it != step.end()) CheckPublished(s, it->value(), where);
    if (auto it = step.find("expect_output"); it != step.end()) {
      EXPECT_TRUE(JsonEquals(s.output, it->value()))
          << where << ": output " << DumpJson(s.output) << " != " << DumpJson(it->value());
    }
  }
}

TEST_P(ConformanceTest, Case) {
  const std::string yaml_file = (dir_ / (GetParam() + ".yaml")).string();
  Status loaded = rt_->Load(ReadText(yaml_file), yaml_file);
  ASSERT_TRUE(loaded.ok()) << loaded.ToString();

  runtime::StartRequest request;
  request.workflow_name = AsText(*Key("workflow"));
  if (const Json* v = Key("input")) request.input = *v;
  if (const Json* v = Key("params")) request.params = *v;
  if (const Json* v = Key("env")) request.params.get_object()["env"] = *v;
  Key("source");
  Key("notes");
  auto id = rt_->Start(request);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  execution_id_ = *id;
  Status settled = rt_->Settle(execution_id_);
  ASSERT_TRUE(settled.ok()) << settled.ToString();
  CheckOutcome(State());
  if (const Json* v = Key("steps")) RunSteps(*v);

  for (const auto& kv : expect_) {
    EXPECT_TRUE(checked_.contains(std::string(kv.key()))) << "unchecked key: " << kv.key();
  }
  // Only now, so a failure of any check before still fails the case.
  if (!steps_not_run_.empty() && !HasFailure()) {
    GTEST_SKIP() << "checked up to the first stop; " << steps_not_run_;
  }
}

std::string CaseTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = "c" + info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Mistral, ConformanceTest, ::testing::ValuesIn(CaseNames()), CaseTestName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(ConformanceTest);

TEST(ConformanceCorpus, Present) {
  if (CaseNames().empty()) {
    GTEST_SKIP() << "conformance corpus not found at " << CorpusDir()
                 << " (set BORA_CONFORMANCE_DIR); only the corpus cases are skipped";
  }
  EXPECT_GE(CaseNames().size(), 1u);
}

}  // namespace
}  // namespace bora
