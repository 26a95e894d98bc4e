#pragma once
// The local Redis Cluster of the cluster tests (scripts/redis_cluster.sh: 3 masters + 3 replicas).
// ctest starts it once before them (fixture redis_cluster, in BORA_REDIS_CLUSTER_DIR) and stops it
// after; a test binary run by hand starts it itself. Nothing is skipped: no cluster is a failure.
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

namespace bora::testing {

// Runs `scripts/redis_cluster.sh <args>` from the source tree: its standard output, or nothing when
// it failed.
inline std::optional<std::string> RunRedisClusterScript(const std::string& args) {
  std::string command = "env BORA_REDIS_CLUSTER_DIR=" BORA_REDIS_CLUSTER_DIR
                        " bash " BORA_SOURCE_DIR "/scripts/redis_cluster.sh " +
                        args;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  if (pclose(pipe) != 0) return std::nullopt;
  return out;
}

// The cluster's `redis+cluster://...` URL, starting the cluster when it is not running.
inline std::string RedisClusterUrl() {
  static const std::string url = [] {
    std::string out = RunRedisClusterScript("env").value_or("");
    if (out.empty()) out = RunRedisClusterScript("start").value_or("");
    const std::string mark = "BORA_REDIS_CLUSTER=";
    auto at = out.find(mark);
    if (at == std::string::npos) return std::string();
    std::string u = out.substr(at + mark.size());
    return u.substr(0, u.find_first_of("\r\n"));
  }();
  return url;
}

}  // namespace bora::testing
