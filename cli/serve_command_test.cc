// `--expiration-*` flags into a RetentionPolicy: minutes as Mistral's options, bad values refused
// with a message naming the flag (never a crash: NaN and huge numbers included); `bora run`
// refusing numbers beyond a double in --input/--env/--param.
#include "cli/serve_command.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>

#include "cli/run_command.h"
#include "cli/validate_command.h"

namespace bora::cli {
namespace {

TEST(RetentionArgsTest, MinutesBecomeAPolicy) {
  RetentionArgs args;
  args.evaluation_interval_min = 60;
  args.older_than_min = 10080;
  args.max_finished_executions = 500;
  args.batch_size = 100;
  args.ignored_states = {"ERROR", "CANCELLED"};
  auto p = ToRetentionPolicy(args);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->enabled());
  EXPECT_EQ(p->evaluation_interval, std::chrono::seconds(3600));
  EXPECT_EQ(p->older_than, std::chrono::seconds(604800));
  EXPECT_EQ(p->max_finished_executions, 500u);
  EXPECT_EQ(p->batch_size, 100u);
  EXPECT_EQ(p->ignored_states, (std::set<engine::State>{engine::State::kError, engine::State::kCancelled}));
  // A positive fraction of a second is one second, not "off".
  args.evaluation_interval_min = 0.001;
  args.older_than_min = 0.001;
  p = ToRetentionPolicy(args);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->evaluation_interval, std::chrono::seconds(1));
  EXPECT_EQ(p->older_than, std::chrono::seconds(1));
  // Nothing given: off.
  p = ToRetentionPolicy(RetentionArgs{});
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->enabled());
}

TEST(RetentionArgsTest, BadValuesAreRefused) {
  for (double bad : {-1.0, std::nan(""), 1e300, std::numeric_limits<double>::infinity()}) {
    RetentionArgs args;
    args.evaluation_interval_min = 1;
    args.older_than_min = bad;
    auto p = ToRetentionPolicy(args);
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(p.status().message().find("--expiration-older-than"), std::string::npos) << bad;
  }
  RetentionArgs args;
  args.ignored_states = {"RUNNING"};
  EXPECT_NE(ToRetentionPolicy(args).status().message().find("RUNNING is not a completed state"),
            std::string::npos);
  args.ignored_states = {"DONE"};
  EXPECT_NE(ToRetentionPolicy(args).status().message().find("unknown state 'DONE'"), std::string::npos);
}

// --public-url and --allowed-origin reach the HTTP server's options; a public URL must be http(s).
TEST(ApiArgsTest, PublicUrlAndAllowedOrigins) {
  ApiArgs args;
  args.public_url = "https://bora.example.com";
  args.allowed_origins = {"https://ui.example.com", "http://localhost:3000"};
  api::ApiServiceOptions options;
  ASSERT_TRUE(ApplyApiArgs(args, &options).ok());
  EXPECT_EQ(options.http.public_url, "https://bora.example.com");
  EXPECT_EQ(options.http.allowed_origins, args.allowed_origins);
  args.public_url = "bora.example.com";
  Status s = ApplyApiArgs(args, &options);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--public-url"), std::string::npos) << s.message();
}

// --auth: none and token as before (token by default with --auth-token-file); keystone builds a
// KeystoneAuthenticator (without calling Keystone) and refuses missing settings, naming them.
TEST(ApiArgsTest, AuthModes) {
  const std::string token_file = ::testing::TempDir() + "/api_token";
  std::ofstream(token_file) << "s3cret\n";
  const std::string password_file = ::testing::TempDir() + "/keystone_password";
  std::ofstream(password_file) << "pw\n";
  {
    ApiArgs args;
    api::ApiServiceOptions options;
    ASSERT_TRUE(ApplyApiArgs(args, &options).ok());
    EXPECT_EQ(options.http.auth_token, "");
    EXPECT_EQ(options.http.authenticator, nullptr);
    args.auth_token_file = token_file;
    ASSERT_TRUE(ApplyApiArgs(args, &options).ok());
    EXPECT_EQ(options.http.auth_token, "s3cret");
  }
  ApiArgs args;
  args.auth = "keystone";
  args.keystone_url = "http://127.0.0.1:5000/v3";
  args.keystone_service_user = "bora";
  args.keystone_service_project = "service";
  args.keystone_service_password_file = password_file;
  api::ApiServiceOptions options;
  Status ok = ApplyApiArgs(args, &options);
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  EXPECT_NE(options.http.authenticator, nullptr);
  EXPECT_NE(options.trusts, nullptr);  // cron triggers' trusts, same service user
  EXPECT_EQ(api::ExposureWarning(options.http), "");
  // `bora orchestrator --keystone-*`: the trusts alone, from the same options.
  auto trusts = KeystoneTrustsFrom(args);
  ASSERT_TRUE(trusts.ok()) << trusts.status().ToString();
  EXPECT_NE(*trusts, nullptr);
  ApiArgs no_user = args;
  no_user.keystone_service_user.clear();
  EXPECT_EQ(KeystoneTrustsFrom(no_user).status().code(), StatusCode::kInvalidArgument);

  struct Case {
    std::function<void(ApiArgs&)> change;
    std::string needle;  // in the error
  };
  const std::vector<Case> cases = {
      {[](ApiArgs& a) { a.keystone_url = ""; }, "--keystone-url"},
      {[](ApiArgs& a) { a.keystone_service_user = ""; }, "--keystone-service-user"},
      {[](ApiArgs& a) { a.keystone_service_password_file = ""; }, "BORA_KEYSTONE_SERVICE_PASSWORD"},
      {[](ApiArgs& a) { a.keystone_service_password = "pw"; }, "not both"},
      {[&](ApiArgs& a) { a.auth_token_file = token_file; },
       "--auth-token-file is only used with --auth token"},
      {[](ApiArgs& a) { a = ApiArgs(), a.auth = "token"; }, "--auth token needs --auth-token-file"},
      {[](ApiArgs& a) { a.auth = "ldap"; }, "--auth takes none, token or keystone"},
  };
  for (const Case& c : cases) {
    ApiArgs a = args;
    c.change(a);
    api::ApiServiceOptions o;
    Status s = ApplyApiArgs(a, &o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.needle;
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
  }
}

// The start-up warning: listening beyond loopback without a token.
TEST(ApiArgsTest, ExposureWarningBeyondLoopbackWithoutToken) {
  http::HttpServerOptions o;
  for (const char* loopback : {"127.0.0.1", "127.0.0.2", "::1"}) {
    o.address = loopback;
    EXPECT_EQ(api::ExposureWarning(o), "") << loopback;
  }
  for (const char* exposed : {"0.0.0.0", "::", "192.168.1.10"}) {
    o.address = exposed;
    EXPECT_NE(api::ExposureWarning(o).find("without an auth token"), std::string::npos) << exposed;
  }
  o.auth_token = "t";
  EXPECT_EQ(api::ExposureWarning(o), "");
}

// JSON numbers are finite: `bora run --input/--env/--param` refuse a number beyond a double,
// naming the flag and the field (exit 2, nothing runs); a finite one runs.
TEST(RunCommandTest, NumbersBeyondADoubleAreRefusedNamingTheField) {
  const std::string file = ::testing::TempDir() + "/numbers_wf.yaml";
  std::ofstream(file) << "version: '2.0'\nwf:\n  input: [x]\n  tasks:\n"
                         "    t:\n      action: std.echo output=<% $.x %>\n";
  struct Case {
    std::string input, env, param;
    std::string message;
  };
  const Case cases[] = {
      {R"({"x": 1e309})", "", "", "--input: number out of range at 'x'"},
      {R"({"x": 1})", R"({"k": [-1e999]})", "", "--env: number out of range at 'k[0]'"},
      {R"({"x": 1})", "", "n=1e309", "--param n: number out of range"},
  };
  for (const Case& c : cases) {
    RunArgs args;
    args.file = file;
    args.input = c.input;
    args.env = c.env;
    if (!c.param.empty()) args.params = {c.param};
    ::testing::internal::CaptureStderr();
    ::testing::internal::CaptureStdout();
    int code = RunRun(args);
    std::string err = ::testing::internal::GetCapturedStderr();
    std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(code, 2) << c.input << " " << c.env << " " << c.param << "\n" << err << out;
    EXPECT_NE((err + out).find(c.message), std::string::npos) << err << out;
  }
  RunArgs ok;
  ok.file = file;
  ok.input = R"({"x": 123456789012345678901234567890})";
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int code = RunRun(ok);
  std::string out =
      ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 0) << out;
}

// `on-complete: [t2, fail]` ends the workflow ERROR at once while t2 runs; Mistral 15 still finishes t2
// (SUCCESS). `bora run` waits for it (saying so on stderr) and prints the final tree, not t2 RUNNING.
TEST(RunCommandTest, WaitsForTasksStillRunningAfterTheWorkflowFinished) {
  const std::string file = ::testing::TempDir() + "/still_running_wf.yaml";
  std::ofstream(file) << "version: '2.0'\nwf:\n  tasks:\n"
                         "    t1:\n      action: std.noop\n      on-complete: [t2, fail]\n"
                         "    t2:\n      action: std.sleep seconds=1\n      publish:\n"
                         "        done: true\n";
  RunArgs args;
  args.file = file;
  args.json = true;
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  int code = RunRun(args);
  std::string out = ::testing::internal::GetCapturedStdout();
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(code, 1) << out << err;
  EXPECT_NE(err.find("waiting for 1 task(s) still running: t2"), std::string::npos) << err;
  auto view = ParseJson(out);
  ASSERT_TRUE(view.ok()) << out;
  EXPECT_EQ(view->at("state"), Json("ERROR"));
  std::map<std::string, std::string> states;
  for (const auto& t : view->at("tasks").as_array()) {
    states[std::string(t.at("name").as_string())] = std::string(t.at("state").as_string());
  }
  EXPECT_EQ(states["t1"], "SUCCESS");
  EXPECT_EQ(states["t2"], "SUCCESS") << out;
}

// `bora validate` reports what would otherwise only fail when the workflow runs, with file:line:column and
// the task: an unknown action, a missing or unknown action input, an unknown function, a duplicate key, a
// missing version. A definition without these is OK.
TEST(ValidateCommandTest, ReportsWhatWouldFailAtRunTime) {
  const std::string dir = ::testing::TempDir();
  struct Case {
    std::string name, yaml, message;
  };
  const Case cases[] = {
      {"typo.yaml", "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.ehco output=1\n",
       "typo.yaml:4:5: workflow 'wf', task 't1': unknown action 'std.ehco' (did you mean 'std.echo'?)"},
      {"missing.yaml", "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.echo\n",
       "missing.yaml:4:5: workflow 'wf', task 't1': action 'std.echo' needs the input 'output'"},
      {"extra.yaml",
       "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.echo output=1\n"
       "      input:\n        outptu: 2\n",
       "extra.yaml:4:5: workflow 'wf', task 't1': action 'std.echo' has no input 'outptu'"},
      {"fn.yaml",
       "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.echo output=<% nosuch(1) %>\n",
       "fn.yaml:5:15: workflow 'wf', task 't1': unknown function nosuch()"},
      {"dup.yaml",
       "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n    t1:\n      action: "
       "std.noop\n",
       "dup.yaml:6:5: duplicate key 't1' in a mapping (first at 4:5)"},
      {"noversion.yaml", "wf:\n  tasks:\n    t1:\n      action: std.noop\n",
       "noversion.yaml:1:1: 'version' is a required property"},
  };
  for (const Case& c : cases) {
    std::ofstream(dir + "/" + c.name) << c.yaml;
    ::testing::internal::CaptureStdout();
    int code = RunValidate({dir + "/" + c.name});
    std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_EQ(code, 2) << c.name << ": " << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
  }
  // Fine as written: an ad-hoc action from another file, its defaults, an action named by an expression.
  std::ofstream(dir + "/actions.yaml") << "version: '2.0'\ngreet:\n  base: std.echo\n  base-input:\n"
                                          "    output: hi <% $.who %>\n  input:\n    - who: you\n";
  std::ofstream(dir + "/uses.yaml")
      << "version: '2.0'\nwf:\n  tasks:\n    t1:\n      action: greet\n      on-success: t2\n"
         "    t2:\n      action: <% 'std.' + 'noop' %>\n";
  ::testing::internal::CaptureStdout();
  int code = RunValidate({dir + "/actions.yaml", dir + "/uses.yaml"});
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(code, 0) << out;
}

}  // namespace
}  // namespace bora::cli
