#pragma once
// What `bora --version` prints: the project version (CMake's project(VERSION)) and the git commit
// the binary was built from. The definitions are generated at build time
// (cmake/version_info.cmake -> <build>/cli/version_info.cc).
#include <string>
#include <string_view>

namespace bora::cli {

std::string_view Version();    // "0.1.0"
std::string_view GitCommit();  // 12 hex digits, "<commit>-dirty", or "unknown" (no git)

// "bora 0.1.0 (commit 0123456789ab)"
inline std::string VersionLine() {
  return "bora " + std::string(Version()) + " (commit " + std::string(GitCommit()) + ")";
}

}  // namespace bora::cli
