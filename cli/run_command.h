#pragma once
// `bora run FILE`: runs a workflow in embedded mode and prints the result.
#include <string>
#include <vector>

#include "orchestrator/engine/engine.h"

namespace bora::cli {

struct RunArgs {
  std::string file;
  std::string workflow;             // empty: the first workflow of the file
  std::string input = "{}";         // JSON text or @path
  std::string env;                  // JSON text or @path; empty = none
  std::vector<std::string> params;  // key=value (value JSON-decoded when it parses, else a string;
                                    // a number out of range is refused, as in --input)
  bool json = false;
  double timeout_seconds = 3600;
  int partitions = 4;
  int workers = 4;
  bool allow_shell = false;
  bool allow_loopback_http = false;
  engine::EngineLimits engine_limits;
};

// Exit code: 0 SUCCESS, 1 ERROR or CANCELLED, 2 invalid definition or input, 3 PAUSED, 4 timed out
// (--timeout), 130 interrupted (Ctrl-C or SIGTERM; both print where the run stopped). `file` "-"
// reads standard input. NO_COLOR (set, not empty) turns colours off.
int RunRun(const RunArgs& args);

}  // namespace bora::cli
