#pragma once
// `bora validate FILE...`: parses and validates Workflow Language v2 files.
#include <string>
#include <vector>

namespace bora::cli {

struct ValidateArgs {
  // With a URL, the actions of that server count as known too: the external actions its workers
  // declared (GET /v2/actions), with their input specs. Empty: the std actions and the files'
  // ad-hoc actions only.
  std::string url;
  std::string token;  // for `url` (else $BORA_TOKEN)
};

// Prints "<file>: OK" per valid file, or the errors (one per line, with file:line:column). Returns
// the process exit code: 0 when all files are valid, 2 otherwise (3 when `url` is given and cannot
// be read).
int RunValidate(const std::vector<std::string>& files, const ValidateArgs& args = {});

}  // namespace bora::cli
