#pragma once
// Test support of the client tests (client_command_test, client_e2e_test): runs one `bora` client
// command line in process, as main.cc does, and captures its exit code and output.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/client_command.h"

namespace bora::cli {

struct CliResult {
  int code = -1;
  std::string out, err;
};

// Parses `args` (without the program name) and runs the selected client command; a parse error
// is exit code 2 with CLI11's message in `err`.
inline CliResult RunClient(const std::vector<std::string>& args) {
  CLI::App app{"bora"};
  app.require_subcommand(1);
  ClientCommands commands(app);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  CliResult result;
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    result.code = 2;
    result.err = e.what();
    return result;
  }
  EXPECT_TRUE(commands.parsed());
  std::ostringstream out, err;
  result.code = commands.Run(out, err);
  result.out = out.str();
  result.err = err.str();
  return result;
}

}  // namespace bora::cli
