#pragma once
// What the fault tests run and check (tests/integration/fault_test.cc, kafka_cluster_test.cc):
// chains of paced tasks, progress while a fault is injected, and that every execution ended intact.
#include <string>
#include <vector>

#include "tests/integration/cluster_harness.h"

namespace bora::testing {

constexpr int kChainLength = 5;
// Each step waits 20 ms on a worker thread (32 per worker), so a run of hundreds of chains lasts
// seconds and the fault lands while executions are running (with std.noop a run of 1,000 chains
// ended in ~0.3 s, before the fault).
inline constexpr char kPacedAction[] = "std.echo output=x delay=0.02";
inline const std::vector<std::string> kPacedWorker = {"--concurrency", "32"};

// A workflow `name` of kChainLength tasks running `action` one after the other.
std::string Chain(const std::string& name, const std::string& action);

// Every execution SUCCESS with exactly kChainLength tasks, each SUCCESS with one action execution
// (gtest failures otherwise, naming up to three executions).
void ExpectIntact(Cluster& cluster, const std::vector<std::string>& ids);

// Tasks of `ids` that completed (chains run in near lockstep, so this grows steadily while the
// number of finished executions jumps from none to all at the end).
size_t TasksDone(Cluster& cluster, const std::vector<std::string>& ids);

// Waits until at least `fraction` of the run's tasks are done, and fails if all of them are: a
// fault injected after the run would test nothing. `done_out`: the tasks done it counted last (a
// count reads every execution: calling TasksDone again costs that time once more).
void WaitProgress(Cluster& cluster, const std::vector<std::string>& ids, double fraction,
                  size_t* done_out = nullptr);

}  // namespace bora::testing
