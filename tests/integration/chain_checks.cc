#include "tests/integration/chain_checks.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace bora::testing {

using namespace std::chrono_literals;

std::string Chain(const std::string& name, const std::string& action) {
  std::string y = "version: '2.0'\n" + name + ":\n  tasks:\n";
  for (int i = 1; i <= kChainLength; ++i) {
    y += "    t" + std::to_string(i) + ":\n      action: " + action + "\n";
    if (i < kChainLength) y += "      on-success: t" + std::to_string(i + 1) + "\n";
  }
  return y;
}

void ExpectIntact(Cluster& cluster, const std::vector<std::string>& ids) {
  int bad = 0;
  for (const auto& id : ids) {
    auto s = cluster.client().Get(ExecutionId(id));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(s->has_value()) << "execution " << id << " is missing";
    const auto& st = **s;
    bool ok = st.state == engine::State::kSuccess && st.tasks.size() == kChainLength;
    for (const auto& t : st.tasks) {
      ok = ok && t.state == engine::State::kSuccess && t.actions.size() == 1 &&
           t.actions[0].accepted;
    }
    if (!ok && ++bad <= 3) {
      ADD_FAILURE() << "execution " << id << " is " << engine::StateName(st.state) << " with "
                    << st.tasks.size() << " tasks: " << DumpJson(st.ToJson()).substr(0, 2000);
    }
  }
  EXPECT_EQ(bad, 0) << bad << " of " << ids.size() << " executions are not intact";
}

size_t TasksDone(Cluster& cluster, const std::vector<std::string>& ids) {
  size_t done = 0;
  for (const auto& id : ids) {
    auto s = cluster.client().Get(ExecutionId(id));
    if (!s.ok() || !s->has_value()) continue;
    for (const auto& t : (**s).tasks) done += engine::IsCompleted(t.state) ? 1 : 0;
  }
  return done;
}

void WaitProgress(Cluster& cluster, const std::vector<std::string>& ids, double fraction,
                  size_t* done_out) {
  const size_t total = ids.size() * kChainLength;
  const auto want = static_cast<size_t>(fraction * static_cast<double>(total));
  auto deadline = std::chrono::steady_clock::now() + 60s;
  size_t done = 0;
  while (std::chrono::steady_clock::now() < deadline && (done = TasksDone(cluster, ids)) < want) {
    Status alive = cluster.CheckProcesses();
    ASSERT_TRUE(alive.ok()) << alive.ToString();
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(done, want) << "the run made no progress";
  ASSERT_LT(done, total) << "the run finished before the fault: it would test nothing";
  if (done_out != nullptr) *done_out = done;
}

}  // namespace bora::testing
