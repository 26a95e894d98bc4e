// Option precedence (flag > environment > file > default), the config file's checks and `bora
// config show`, on a CLI11 app shaped like bora's.
#include "cli/option_sources.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace bora::cli {
namespace {

class OptionSourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_.option_defaults()->always_capture_default();
    app_.set_config("--config", "", "config file");
    app_.allow_config_extras(CLI::config_extras_mode::error);
    app_.fallthrough();
    serve_ = app_.add_subcommand("serve", "serve");
    serve_->add_option("--port", port_, "port");
    serve_->add_option("--data-dir", data_dir_, "data");
    serve_->add_option("--log-level", log_level_, "level");
    serve_->add_option("--kafka", kafka_, "brokers");
    serve_->add_option("--load", load_, "files")->take_all()->allow_extra_args(false);
    serve_->add_flag("--allow-shell", allow_shell_, "shell");
    serve_->add_option("--keystone-service-password", password_, "secret");
    app_.add_subcommand("workflow", "a client command")->add_option("--url", url_, "url");
    file_ = (std::filesystem::temp_directory_path() /
             ("bora-option-sources-" + std::to_string(::getpid()) + ".toml"))
                .string();
  }
  void TearDown() override { std::remove(file_.c_str()); }

  void WriteConfig(const std::string& text) {
    std::ofstream out(file_);
    out << text;
  }

  // Applies the environment `env`, checks the file, parses. The parse error or "".
  std::string Parse(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    env_ = std::move(env);
    auto with_env = sources_.Apply(std::move(args), [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
    if (!with_env.ok()) return with_env.status().message();
    if (Status s = sources_.CheckConfigFile(*with_env); !s.ok()) return s.message();
    std::vector<std::string> reversed(with_env->rbegin(), with_env->rend());
    try {
      app_.parse(reversed);
    } catch (const CLI::ParseError& e) {
      return e.what();
    }
    return "";
  }

  CLI::App app_{"test"};
  std::string password_;
  CLI::App* serve_ = nullptr;
  OptionSources sources_{app_};
  std::map<std::string, std::string> env_;
  std::string file_;
  int port_ = 8989;
  std::string data_dir_ = "./bora-data";
  std::string log_level_ = "info";
  std::string kafka_;
  std::string url_;
  std::vector<std::string> load_;
  bool allow_shell_ = false;
};

TEST_F(OptionSourcesTest, EnvironmentNames) {
  EXPECT_EQ(EnvironmentName("data-dir"), "BORA_DATA_DIR");
  EXPECT_EQ(EnvironmentName("port"), "BORA_PORT");
}

TEST_F(OptionSourcesTest, FlagBeatsEnvironmentBeatsFileBeatsDefault) {
  WriteConfig("# comment\n[serve]\nport = 7000\ndata-dir = \"/from/file\"\nlog-level = \"warn\"\n");
  ASSERT_EQ(Parse({"serve", "--config", file_, "--port", "6000"},
                  {{"BORA_PORT", "5000"},
                   {"BORA_DATA_DIR", "/from/env"},
                   {"BORA_KEYSTONE_SERVICE_PASSWORD", "hunter2"}}),
            "");
  EXPECT_EQ(port_, 6000);             // flag over environment and file
  EXPECT_EQ(data_dir_, "/from/env");  // environment over file
  EXPECT_EQ(log_level_, "warn");      // file over default
  EXPECT_FALSE(allow_shell_);         // default

  const std::string shown = sources_.Show(*serve_);
  EXPECT_NE(shown.find("[serve]"), std::string::npos) << shown;
  auto line = [&](const std::string& key) {
    size_t at = shown.find("\n" + key + " = ");
    EXPECT_NE(at, std::string::npos) << key << " in\n" << shown;
    return shown.substr(at + 1, shown.find('\n', at + 1) - at - 1);
  };
  EXPECT_NE(line("port").find("6000"), std::string::npos);
  EXPECT_NE(line("port").find("# flag"), std::string::npos) << line("port");
  EXPECT_NE(line("data-dir").find("# env BORA_DATA_DIR"), std::string::npos) << line("data-dir");
  EXPECT_NE(line("log-level").find("\"warn\""), std::string::npos);
  EXPECT_NE(line("log-level").find("# file " + file_), std::string::npos) << line("log-level");
  EXPECT_EQ(password_, "hunter2");  // from BORA_KEYSTONE_SERVICE_PASSWORD, shown masked
  EXPECT_EQ(shown.find("hunter2"), std::string::npos) << shown;
  EXPECT_NE(line("keystone-service-password").find("\"***\""), std::string::npos) << shown;
  EXPECT_NE(line("allow-shell").find("false"), std::string::npos);
  EXPECT_NE(line("allow-shell").find("# default"), std::string::npos);
}

TEST_F(OptionSourcesTest, ConfigFileFromTheEnvironment) {
  WriteConfig("[serve]\nport = 7001\n");
  ASSERT_EQ(Parse({"serve"}, {{"BORA_CONFIG", file_}}), "");
  EXPECT_EQ(port_, 7001);
}

TEST_F(OptionSourcesTest, FlagsAndListsFromTheEnvironment) {
  ASSERT_EQ(Parse({"serve"}, {{"BORA_ALLOW_SHELL", "yes"}, {"BORA_LOAD", "a.yaml, b.yaml"}}), "");
  EXPECT_TRUE(allow_shell_);
  EXPECT_EQ(load_, (std::vector<std::string>{"a.yaml", "b.yaml"}));
}

TEST_F(OptionSourcesTest, AFlagRefusesAnotherWord) {
  EXPECT_EQ(Parse({"serve"}, {{"BORA_ALLOW_SHELL", "maybe"}}),
            "BORA_ALLOW_SHELL=maybe: --allow-shell is a flag: the variable must be 1/true/yes/on "
            "or 0/false/no/off");
}

TEST_F(OptionSourcesTest, ServeIgnoresKafkaAndClientCommandsIgnoreTheEnvironment) {
  ASSERT_EQ(Parse({"serve"}, {{"BORA_KAFKA", "broker:9092"}}), "");
  EXPECT_EQ(kafka_, "");  // would switch `bora serve` to distributed mode
}

TEST_F(OptionSourcesTest, ClientCommandsAreNotRewritten) {
  ASSERT_EQ(Parse({"workflow"}, {{"BORA_URL", "http://x"}}), "");
  EXPECT_EQ(url_, "");  // the client reads BORA_URL itself
}

TEST_F(OptionSourcesTest, ConfigFileMistakesNameFileAndLine) {
  WriteConfig("[serve]\nport = 1\nprot = 2\n");
  EXPECT_EQ(Parse({"serve", "--config", file_}),
            file_ +
                ":3: 'prot' is not an option of bora serve (keys are the long option names "
                "without dashes)");
}

TEST_F(OptionSourcesTest, UnknownSectionNamesFileAndLine) {
  WriteConfig("\n[server]\nport = 1\n");
  std::string error = Parse({"serve", "--config", file_});
  EXPECT_EQ(error.rfind(file_ + ":2: [server] is not a command", 0), 0u) << error;
}

TEST_F(OptionSourcesTest, MissingConfigFileIsAnError) {
  std::string error = Parse({"serve", "--config", file_ + ".absent"});
  EXPECT_EQ(error, file_ + ".absent: cannot read the config file");
}

}  // namespace
}  // namespace bora::cli
