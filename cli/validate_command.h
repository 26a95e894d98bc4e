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
  // Action catalogs (JSON: {"actions": [{"name", "input", "description"}, ...]} or that list, as
  // sdk/openstack's actions.json) whose actions count as known, with their input specs. Empty: the
  // installed OpenStack catalog (kDefaultActionCatalog) when the file exists.
  std::vector<std::string> action_catalogs;
};

// Where the .deb installs the OpenStack action pack's catalog (sdk/openstack).
inline constexpr char kDefaultActionCatalog[] = "/usr/share/bora/openstack-actions.json";

// Prints "<file>: OK" per valid file, or the errors (one per line, with file:line:column). Returns
// the process exit code: 0 when all files are valid, 2 otherwise (3 when `url` or a catalog given
// cannot be read).
int RunValidate(const std::vector<std::string>& files, const ValidateArgs& args = {});

}  // namespace bora::cli
