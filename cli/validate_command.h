#pragma once
// `bora validate FILE...`: parses and validates Workflow Language v2 files.
#include <string>
#include <vector>

namespace bora::cli {

// Prints "<file>: OK" per valid file, or the errors (one per line, with file:line:column). Returns the process
// exit code: 0 when all files are valid, 2 otherwise.
int RunValidate(const std::vector<std::string>& files);

}  // namespace bora::cli
