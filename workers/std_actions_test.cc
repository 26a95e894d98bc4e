// The simple std actions, signatures and input validation, std.shell, std.email (fake SMTP server),
// std.ssh (error paths) and std.javascript.
#include "workers/std_actions.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>

#include "workers/testing/fake_servers.h"

namespace bora::workers {
namespace {

class StdActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StdActionOptions defaults;
    defaults.clock = SystemClock::Get();  // std.email's Date header
    RegisterStdActions(registry_, defaults);
    StdActionOptions shell;
    shell.allow_shell = true;
    shell.max_shell_output_bytes = 4096;
    shell.javascript_time_limit_seconds = 0.3;
    shell.javascript_max_heap_bytes = 8 * 1024 * 1024;
    RegisterStdActions(allowing_, shell);
  }

  ActionResult Run(const std::string& name, Json input, const ActionRegistry* registry = nullptr,
                   const CancelToken* cancel = nullptr) {
    const ActionRegistry& reg = registry ? *registry : registry_;
    Result<Json> validated = reg.ValidateInput(name, input);
    EXPECT_TRUE(validated.ok()) << validated.status().ToString();
    if (!validated.ok()) return ActionResult::Error("invalid input");
    ActionRequest req;
    req.action_name = name;
    req.input = *validated;
    CancelToken local;
    return reg.FindAction(name)->Run(req, cancel ? *cancel : local);
  }

  ActionRegistry registry_;
  ActionRegistry allowing_;
};

const Json& At(const Json& v, std::string_view key) { return v.as_object().at(key); }

TEST_F(StdActionsTest, AllStdActionsAreRegistered) {
  for (const char* name : {"std.noop", "std.async_noop", "std.echo", "std.fail", "std.sleep",
                           "std.test_dict", "std.http", "std.mistral_http", "std.email", "std.ssh",
                           "std.shell", "std.javascript", "std.js", "std.ssh_proxied"}) {
    EXPECT_NE(registry_.FindSignature(name), nullptr) << name;
    EXPECT_NE(registry_.FindAction(name), nullptr) << name;
  }
  EXPECT_TRUE(registry_.FindSignature("std.async_noop")->is_async);
  EXPECT_FALSE(registry_.FindSignature("std.echo")->is_async);
}

TEST_F(StdActionsTest, OnlyInstantActionsClaimTheyDoNotBlock) {
  auto may_block = [&](const std::string& name, const char* input) {
    ActionRequest req;
    req.action_name = name;
    req.input = *ParseJson(input);
    return registry_.FindAction(name)->MayBlock(req);
  };
  EXPECT_FALSE(may_block("std.noop", "{}"));
  EXPECT_FALSE(may_block("std.fail", "{}"));
  EXPECT_FALSE(may_block("std.echo", R"({"output": 1})"));
  EXPECT_FALSE(may_block("std.echo", R"({"output": 1, "delay": 0})"));
  EXPECT_TRUE(may_block("std.echo", R"({"output": 1, "delay": 0.5})"));
  EXPECT_TRUE(may_block("std.sleep", R"({"seconds": 1})"));
  EXPECT_TRUE(may_block("std.http", R"({"url": "http://example.invalid"})"));
}

TEST_F(StdActionsTest, SignaturesMatchMistral) {
  struct Case {
    const char* action;
    std::vector<std::string> required;
    std::vector<std::pair<std::string, Json>> defaults;
  };
  const std::vector<Case> cases = {
      {"std.noop", {}, {}},
      {"std.echo", {"output"}, {{"delay", 0}}},
      {"std.fail", {}, {{"error_data", nullptr}}},
      {"std.sleep", {}, {{"seconds", 1}}},
      {"std.test_dict", {}, {{"size", 0}, {"key_prefix", ""}, {"val", ""}}},
      {"std.http",
       {"url"},
       {{"method", "GET"},
        {"params", nullptr},
        {"body", nullptr},
        {"json", nullptr},
        {"headers", nullptr},
        {"cookies", nullptr},
        {"auth", nullptr},
        {"timeout", nullptr},
        {"allow_redirects", nullptr},
        {"proxies", nullptr},
        {"verify", nullptr}}},
      {"std.email",
       {"from_addr", "to_addrs", "smtp_server"},
       {{"reply_to", nullptr},
        {"cc_addrs", nullptr},
        {"bcc_addrs", nullptr},
        {"smtp_password", nullptr},
        {"subject", nullptr},
        {"body", nullptr},
        {"html_body", nullptr}}},
      {"std.ssh",
       {"cmd", "host", "username"},
       {{"password", ""},
        {"private_key_filename", nullptr},
        {"private_key", nullptr},
        {"return_result_on_error", false}}},
      {"std.javascript", {"script"}, {{"context", nullptr}}},
      {"std.shell",
       {"argv"},
       {{"env", nullptr}, {"cwd", nullptr}, {"timeout", nullptr}, {"stdin", nullptr}}},
  };
  for (const Case& c : cases) {
    const ActionSignature* sig = registry_.FindSignature(c.action);
    ASSERT_NE(sig, nullptr) << c.action;
    EXPECT_EQ(sig->params.size(), c.required.size() + c.defaults.size()) << c.action;
    for (const ActionParam& p : sig->params) {
      bool req = std::find(c.required.begin(), c.required.end(), p.name) != c.required.end();
      EXPECT_EQ(p.required, req) << c.action << "." << p.name;
      for (const auto& [name, value] : c.defaults) {
        if (name == p.name) {
          EXPECT_EQ(p.default_value, value) << c.action << "." << p.name;
        }
      }
    }
  }
}

TEST_F(StdActionsTest, ValidateInputRejectsMissingAndUnexpected) {
  auto missing = registry_.ValidateInput("std.echo", JsonObject{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("Invalid input"), std::string::npos);
  EXPECT_NE(missing.status().message().find("output"), std::string::npos);

  auto extra = registry_.ValidateInput("std.noop", JsonObject{{"x", 1}});
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("unexpected=[x]"), std::string::npos);

  auto filled = registry_.ValidateInput("std.echo", JsonObject{{"output", "hi"}});
  ASSERT_TRUE(filled.ok());
  EXPECT_EQ(At(*filled, "delay"), Json(0));

  EXPECT_EQ(registry_.ValidateInput("std.nope", JsonObject{}).status().code(),
            StatusCode::kNotFound);
  EXPECT_FALSE(registry_.ValidateInput("std.shell", JsonObject{{"env", JsonObject{}}}).ok());
}

TEST_F(StdActionsTest, SimpleActions) {
  struct Case {
    const char* action;
    Json input;
    ActionResult::Kind kind;
    Json data;
  };
  const std::vector<Case> cases = {
      {"std.noop", JsonObject{}, ActionResult::Kind::kSuccess, nullptr},
      {"std.async_noop", JsonObject{}, ActionResult::Kind::kAsync, nullptr},
      {"std.echo", JsonObject{{"output", JsonObject{{"a", JsonArray{1, 2}}}}},
       ActionResult::Kind::kSuccess, JsonObject{{"a", JsonArray{1, 2}}}},
      {"std.echo", JsonObject{{"output", "x"}, {"delay", 0.01}}, ActionResult::Kind::kSuccess, "x"},
      {"std.echo", JsonObject{{"output", "x"}, {"delay", "bad"}}, ActionResult::Kind::kSuccess,
       "x"},
      {"std.fail", JsonObject{}, ActionResult::Kind::kError, Json(StdFailMessage(""))},
      {"std.fail", JsonObject{{"error_data", JsonObject{{"code", 7}}}}, ActionResult::Kind::kError,
       JsonObject{{"code", 7}}},
      {"std.sleep", JsonObject{{"seconds", 0}}, ActionResult::Kind::kSuccess, nullptr},
      {"std.sleep", JsonObject{{"seconds", -3}}, ActionResult::Kind::kSuccess, nullptr},
      {"std.test_dict", JsonObject{{"size", 3}, {"key_prefix", "k"}, {"val", "v"}},
       ActionResult::Kind::kSuccess, JsonObject{{"k0", "v"}, {"k1", "v"}, {"k2", "v"}}},
      {"std.test_dict", JsonObject{}, ActionResult::Kind::kSuccess, JsonObject{}},
      {"std.test_dict", JsonObject{{"size", "3"}}, ActionResult::Kind::kError,
       "std.test_dict: 'size' must be an integer, got str"},
  };
  for (const Case& c : cases) {
    ActionResult r = Run(c.action, c.input);
    EXPECT_EQ(r.kind, c.kind) << c.action << " " << PythonStr(c.input);
    EXPECT_EQ(r.data, c.data) << c.action << " " << PythonStr(r.data);
  }
}

TEST_F(StdActionsTest, SleepHonoursCancellation) {
  CancelToken cancel;
  Result<Json> input = registry_.ValidateInput("std.sleep", JsonObject{{"seconds", 600}});
  ASSERT_TRUE(input.ok());
  ActionRequest req;
  req.action_name = "std.sleep";
  req.input = *input;
  auto fut = std::async(std::launch::async,
                        [&] { return registry_.FindAction("std.sleep")->Run(req, cancel); });
  cancel.cancelled.store(true);
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(fut.get().kind, ActionResult::Kind::kCancelled);

  CancelToken already;
  already.cancelled.store(true);
  EXPECT_EQ(Run("std.echo", JsonObject{{"output", 1}, {"delay", 600}}, nullptr, &already).kind,
            ActionResult::Kind::kCancelled);
}

// ---- std.shell ----

TEST_F(StdActionsTest, ShellIsRefusedWithoutTheAllowFlag) {
  ActionResult r = Run("std.shell", JsonObject{{"argv", JsonArray{"true"}}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("std.shell is disabled"), std::string::npos);
}

TEST_F(StdActionsTest, ShellRunsCommands) {
  struct Case {
    Json input;
    ActionResult::Kind kind;
    std::string stdout_text;
    int exit_code;
  };
  std::string tmp = std::filesystem::temp_directory_path().string();
  const std::vector<Case> cases = {
      {JsonObject{{"argv", JsonArray{"echo", "hello", "$HOME"}}}, ActionResult::Kind::kSuccess,
       "hello $HOME\n", 0},
      {JsonObject{{"argv", JsonArray{"sh", "-c", "echo $FOO-$BAR"}},
                  {"env", JsonObject{{"FOO", "f"}, {"BAR", 2}}}},
       ActionResult::Kind::kSuccess, "f-2\n", 0},
      {JsonObject{{"argv", JsonArray{"pwd"}}, {"cwd", tmp}}, ActionResult::Kind::kSuccess,
       tmp + "\n", 0},
      {JsonObject{{"argv", JsonArray{"cat"}}, {"stdin", "from stdin"}},
       ActionResult::Kind::kSuccess, "from stdin", 0},
      {JsonObject{{"argv", JsonArray{"sh", "-c", "echo out; echo err >&2; exit 3"}}},
       ActionResult::Kind::kError, "out\n", 3},
  };
  for (const Case& c : cases) {
    ActionResult r = Run("std.shell", c.input, &allowing_);
    ASSERT_EQ(r.kind, c.kind) << PythonStr(c.input) << " => " << PythonStr(r.data);
    EXPECT_EQ(At(r.data, "stdout").as_string(), c.stdout_text) << PythonStr(c.input);
    EXPECT_EQ(At(r.data, "exit_code").as_int64(), c.exit_code);
  }
  ActionResult err = Run(
      "std.shell", JsonObject{{"argv", JsonArray{"sh", "-c", "echo e >&2; exit 1"}}}, &allowing_);
  EXPECT_EQ(At(err.data, "stderr").as_string(), "e\n");
}

TEST_F(StdActionsTest, ShellErrorsAndLimits) {
  struct Case {
    Json input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {JsonObject{{"argv", JsonArray{"no-such-command-xyz"}}}, "command not found"},
      {JsonObject{{"argv", JsonArray{}}}, "non-empty list"},
      {JsonObject{{"argv", "echo hi"}}, "non-empty list"},
      {JsonObject{{"argv", JsonArray{"true"}}, {"cwd", "/no/such/dir"}}, "No such file"},
      {JsonObject{{"argv", JsonArray{"sleep", "60"}}, {"timeout", 0.2}}, "timed out"},
      {JsonObject{{"argv", JsonArray{"sh", "-c", "sleep 60 & wait"}}, {"timeout", 0.2}},
       "timed out"},
      {JsonObject{{"argv", JsonArray{"yes"}}}, "more than 4096 bytes"},
  };
  for (const Case& c : cases) {
    ActionResult r = Run("std.shell", c.input, &allowing_);
    ASSERT_EQ(r.kind, ActionResult::Kind::kError) << PythonStr(c.input);
    ASSERT_TRUE(r.data.is_string()) << PythonStr(r.data);
    EXPECT_NE(std::string(r.data.as_string()).find(c.message), std::string::npos)
        << PythonStr(c.input) << " => " << r.data.as_string();
  }
}

TEST_F(StdActionsTest, ShellBackgroundChildDoesNotHoldTheAction) {
  // The command exits while a child it started keeps stdout open; the group is ended, the run
  // returns.
  ActionResult r =
      Run("std.shell",
          JsonObject{{"argv", JsonArray{"sh", "-c", "sleep 60 & echo done"}}, {"timeout", 30}},
          &allowing_);
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  EXPECT_EQ(At(r.data, "stdout").as_string(), "done\n");
}

TEST_F(StdActionsTest, ShellCancellationKillsTheCommand) {
  CancelToken cancel;
  Result<Json> input =
      allowing_.ValidateInput("std.shell", JsonObject{{"argv", JsonArray{"sleep", "60"}}});
  ASSERT_TRUE(input.ok());
  ActionRequest req;
  req.action_name = "std.shell";
  req.input = *input;
  auto fut = std::async(std::launch::async,
                        [&] { return allowing_.FindAction("std.shell")->Run(req, cancel); });
  cancel.cancelled.store(true);
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_EQ(fut.get().kind, ActionResult::Kind::kCancelled);
}

// ---- std.email ----

TEST_F(StdActionsTest, EmailIsSentThroughSmtp) {
  testing::FakeSmtpServer smtp;
  ActionResult r =
      Run("std.email", JsonObject{{"from_addr", "bora@example.com"},
                                  {"to_addrs", JsonArray{"a@example.com", "b@example.com"}},
                                  {"cc_addrs", JsonArray{"c@example.com"}},
                                  {"bcc_addrs", JsonArray{"d@example.com"}},
                                  {"reply_to", JsonArray{"r@example.com"}},
                                  {"smtp_server", "127.0.0.1:" + std::to_string(smtp.port())},
                                  {"subject", "Workflow done"},
                                  {"body", "All tasks succeeded.\nBye."}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  ASSERT_TRUE(smtp.WaitForMessage(10000));
  EXPECT_EQ(smtp.mail_from(), "bora@example.com");
  EXPECT_EQ(smtp.rcpt_to(), (std::vector<std::string>{"c@example.com", "d@example.com",
                                                      "a@example.com", "b@example.com"}));
  std::string data = smtp.data();
  EXPECT_NE(data.find("Subject: Workflow done\r\n"), std::string::npos) << data;
  EXPECT_NE(data.find("From: bora@example.com\r\n"), std::string::npos);
  EXPECT_NE(data.find("To: a@example.com, b@example.com\r\n"), std::string::npos);
  EXPECT_NE(data.find("cc: c@example.com\r\n"), std::string::npos);
  EXPECT_NE(data.find("Reply-To: r@example.com\r\n"), std::string::npos);
  EXPECT_EQ(data.find("d@example.com"), std::string::npos) << "bcc must not appear in the headers";
  EXPECT_NE(data.find("Content-Type: text/plain; charset=\"utf-8\""), std::string::npos);
  std::string body_b64 = data.substr(data.find("\r\n\r\n") + 4);
  EXPECT_EQ(testing::Base64Decode(body_b64), "All tasks succeeded.\nBye.");
}

TEST_F(StdActionsTest, EmailHtmlIsMultipartAndDefaultsApply) {
  testing::FakeSmtpServer smtp;
  ActionResult r =
      Run("std.email", JsonObject{{"from_addr", "x@example.com"},
                                  {"to_addrs", "y@example.com"},
                                  {"smtp_server", "127.0.0.1:" + std::to_string(smtp.port())},
                                  {"html_body", "<b>hi</b>"}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kSuccess) << PythonStr(r.data);
  ASSERT_TRUE(smtp.WaitForMessage(10000));
  std::string data = smtp.data();
  EXPECT_NE(data.find("multipart/alternative"), std::string::npos);
  EXPECT_NE(data.find("Subject: <No subject>"), std::string::npos);
  EXPECT_NE(data.find("text/html"), std::string::npos);
  EXPECT_NE(data.find("PGI+aGk8L2I+"), std::string::npos);  // base64 of <b>hi</b>
}

TEST_F(StdActionsTest, EmailConnectionRefused) {
  int port = testing::UnusedLoopbackPort();
  ActionResult r =
      Run("std.email", JsonObject{{"from_addr", "x@example.com"},
                                  {"to_addrs", JsonArray{"y@example.com"}},
                                  {"smtp_server", "127.0.0.1:" + std::to_string(port)}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_EQ(std::string(r.data.as_string()).rfind("Failed to send an email message: ", 0), 0u);
}

// ---- std.ssh ----

TEST_F(StdActionsTest, SshConnectionRefusedGivesAClearError) {
  int port = testing::UnusedLoopbackPort();
  std::string host = "127.0.0.1:" + std::to_string(port);
  ActionResult r =
      Run("std.ssh",
          JsonObject{{"cmd", "uptime"}, {"host", host}, {"username", "u"}, {"password", "p"}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  std::string msg(r.data.as_string());
  EXPECT_NE(msg.find("Failed to execute ssh cmd 'uptime' on " + host), std::string::npos) << msg;
#if defined(BORA_TEST_EXPECT_LIBSSH)
  EXPECT_NE(msg.find("refused"), std::string::npos) << msg;
#endif
}

TEST_F(StdActionsTest, SshRejectsBadHostTypes) {
  ActionResult r = Run("std.ssh", JsonObject{{"cmd", "ls"}, {"host", 5}, {"username", "u"}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("'host'"), std::string::npos);
}

TEST_F(StdActionsTest, SshProxiedIsNotSupported) {
  ActionResult r = Run("std.ssh_proxied", JsonObject{{"cmd", "ls"},
                                                     {"host", "h"},
                                                     {"username", "u"},
                                                     {"private_key_filename", "k"},
                                                     {"gateway_host", "g"}});
  ASSERT_EQ(r.kind, ActionResult::Kind::kError);
  EXPECT_NE(std::string(r.data.as_string()).find("std.ssh_proxied is not supported"),
            std::string::npos);
}

// ---- std.javascript ----

TEST_F(StdActionsTest, JavaScript) {
  struct Case {
    const char* action;
    Json input;
    ActionResult::Kind kind;
    Json data;
  };
  const std::vector<Case> cases = {
      {"std.javascript",
       JsonObject{{"script", "return $.a + $.b.length;"},
                  {"context", JsonObject{{"a", 40}, {"b", JsonArray{1, 2}}}}},
       ActionResult::Kind::kSuccess, 42},
      {"std.js", JsonObject{{"script", "return {x: [1, 'two', null], y: true};"}},
       ActionResult::Kind::kSuccess, JsonObject{{"x", JsonArray{1, "two", nullptr}}, {"y", true}}},
      {"std.js", JsonObject{{"script", "var s = 'ab'; return s.toUpperCase();"}},
       ActionResult::Kind::kSuccess, "AB"},
      {"std.js", JsonObject{{"script", "var x = 1;"}}, ActionResult::Kind::kSuccess, nullptr},
      {"std.js", JsonObject{{"script", "return $;"}}, ActionResult::Kind::kSuccess, nullptr},
  };
  for (const Case& c : cases) {
    ActionResult r = Run(c.action, c.input, &allowing_);
    EXPECT_EQ(r.kind, c.kind) << PythonStr(c.input) << " => " << PythonStr(r.data);
    EXPECT_EQ(r.data, c.data) << PythonStr(c.input) << " => " << PythonStr(r.data);
  }
  struct ErrCase {
    const char* script;
    const char* message;
  };
  for (ErrCase c :
       {ErrCase{"return (;", "SyntaxError"}, ErrCase{"throw new Error('boom');", "boom"},
        ErrCase{"while (true) {}", "time limit"},
        ErrCase{"var s = 'x'; while (true) { s = s + s; }", "bytes of memory"},
        ErrCase{"return undefinedName.x;", "ReferenceError"}}) {
    ActionResult r = Run("std.javascript", JsonObject{{"script", c.script}}, &allowing_);
    ASSERT_EQ(r.kind, ActionResult::Kind::kError) << c.script;
    std::string msg(r.data.as_string());
    EXPECT_EQ(msg.rfind("JavaScriptAction failed: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.script << " => " << msg;
  }
}

// Duktape checks its deadline between bytecode instructions only; one long native call (this
// took 2.5 minutes) must still stop at the time limit. The heap limit is the default (64 MiB).
TEST_F(StdActionsTest, JavaScriptTimeLimitCoversNativeCalls) {
  StdActionOptions options;
  options.javascript_time_limit_seconds = 0.3;
  ActionRegistry registry;
  RegisterStdActions(registry, options);
  auto start = std::chrono::steady_clock::now();
  ActionResult r =
      Run("std.javascript", JsonObject{{"script", "return new Array(5e7).join('a').length;"}},
          &registry);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.kind, ActionResult::Kind::kError) << PythonStr(r.data);
  EXPECT_NE(std::string(r.data.as_string()).find("longer than the time limit of 0.3 s"),
            std::string::npos)
      << r.data;
  EXPECT_LT(seconds, 30) << "the limit is 0.3 s";
}

}  // namespace
}  // namespace bora::workers
