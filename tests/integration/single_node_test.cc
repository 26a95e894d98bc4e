// The durable single node (`bora serve --data-dir`), real processes and real signals, no Kafka or
// Redis: kill -9 in the middle of 1,000 executions and of a 20,000-item with-items, restarted on
// the same directory; a second process on the directory; everything the API stored comes back after
// a restart. Each kill test asserts every execution ends SUCCESS with exactly its tasks and one
// applied result per action execution, reading the directory itself once the process stopped.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <set>
#include <thread>

#include "common/bus/bus.h"
#include "common/disk/disk_db.h"
#include "orchestrator/store/rocksdb_state_store.h"
#include "tests/integration/serve_process.h"

namespace bora::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

constexpr int kPartitions = 4;
constexpr int kChainLength = 5;

std::string Chain() {
  std::string y = "version: '2.0'\nchain:\n  tasks:\n";
  for (int i = 1; i <= kChainLength; ++i) {
    // 20 ms per step on 32 worker threads: 1,000 chains take seconds, so the kill lands mid-run.
    y += "    t" + std::to_string(i) + ":\n      action: std.echo output=" + std::to_string(i) +
         " delay=0.02\n";
    if (i < kChainLength) y += "      on-success: t" + std::to_string(i + 1) + "\n";
  }
  return y;
}

std::vector<std::string> NodeArgs(const std::string& dir) {
  return {"--data-dir", dir, "--partitions", std::to_string(kPartitions), "--concurrency", "32"};
}

Result<std::string> StartExecution(ServeProcess& p, const std::string& workflow) {
  BORA_ASSIGN_OR_RETURN(
      Json r, p.Call("POST", "/v2/executions", R"({"workflow_name": ")" + workflow + R"("})"));
  return std::string(r.at("id").as_string());
}

// Polls the process (a real one: there is nothing to wait on but its API) until `done` or
// `timeout`.
bool PollUntil(const std::function<bool()>& done, std::chrono::seconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

// How many of `ids` the API lists as SUCCESS.
size_t CountSuccess(ServeProcess& p, const std::set<std::string>& ids) {
  auto r = p.Call("GET", "/v2/executions?limit=100000&fields=state");
  if (!r.ok()) return 0;
  size_t n = 0;
  for (const auto& e : r->at("executions").as_array()) {
    if (ids.contains(std::string(e.at("id").as_string())) && e.at("state").as_string() == "SUCCESS")
      ++n;
  }
  return n;
}

// Opens the directory of a stopped process and reads the executions from it.
std::unique_ptr<store::RocksDbStateStore> OpenStopped(const std::string& dir) {
  disk::DiskDbOptions o;
  o.path = dir;
  o.create_if_missing = false;
  auto db = disk::DiskDb::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return nullptr;
  store::RocksDbStoreOptions so;
  so.db = *db;
  so.partitions = kPartitions;
  auto store = store::RocksDbStateStore::Open(so);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// Reads the directory of a stopped process: every execution of `ids` SUCCESS with exactly its
// kChainLength tasks, each SUCCESS with one action execution whose result was applied (accepted).
void ExpectChainsIntact(const std::string& data, const std::vector<std::string>& ids) {
  auto store = OpenStopped(data);
  ASSERT_NE(store, nullptr);
  int bad = 0;
  for (const auto& id : ids) {
    auto st = store->ReadExecution(PartitionId(PartitionForKey(id, kPartitions)), ExecutionId(id));
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE(st->has_value()) << "execution " << id << " is missing";
    bool ok = (*st)->state == engine::State::kSuccess && (*st)->tasks.size() == kChainLength;
    for (const auto& t : (*st)->tasks) {
      ok = ok && t.state == engine::State::kSuccess && t.actions.size() == 1 &&
           t.actions[0].accepted && t.actions[0].state == engine::State::kSuccess;
    }
    if (!ok && ++bad <= 3) {
      ADD_FAILURE() << "execution " << id << ": " << DumpJson((*st)->ToJson()).substr(0, 2000);
    }
  }
  EXPECT_EQ(bad, 0) << bad << " of " << ids.size() << " executions are not intact";
}

TEST(SingleNodeTest, KillNineMidThousandChainsLosesNothing) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto node = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", Chain(), "text/plain").ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    auto id = StartExecution(**node, "chain");
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  const std::set<std::string> all(ids.begin(), ids.end());
  // Kill once a quarter of the ~6,000 events were applied.
  ASSERT_TRUE(PollUntil(
      [&] {
        auto applied = (*node)->Metric("bora_orchestrator_events_applied_total");
        return applied.ok() && *applied >= 1500;
      },
      60s));
  const size_t before = CountSuccess(**node, all);
  (*node)->Kill9();
  ASSERT_LT(before, all.size()) << "the run ended before the kill: nothing was tested";
  const auto restarted_at = SteadyClock::now();
  auto again = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  const bool finished = PollUntil([&] { return CountSuccess(**again, all) == all.size(); }, 120s);
  std::printf("killed with %zu of %zu executions SUCCESS; all SUCCESS %.2f s after the restart\n",
              before, all.size(), Seconds(SteadyClock::now() - restarted_at));
  EXPECT_TRUE(finished) << CountSuccess(**again, all) << " of " << all.size() << " SUCCESS\n"
                        << (*again)->Output();
  EXPECT_EQ((*again)->Stop(), 0);
  ExpectChainsIntact(data, ids);
}

// kill -9 mid-run, then the newest write-ahead log loses its last bytes (a write torn by the kill,
// a disk that kept only part of it): the restart recovers to the last complete write, and every
// execution still ends SUCCESS with its tasks (what the cut took is replayed from the log before
// it).
TEST(SingleNodeTest, ATornLogTailAfterAKillRecoversAndLosesNoExecution) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto node = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", Chain(), "text/plain").ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 300; ++i) {
    auto id = StartExecution(**node, "chain");
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.push_back(*id);
  }
  const std::set<std::string> all(ids.begin(), ids.end());
  ASSERT_TRUE(PollUntil(
      [&] {
        auto applied = (*node)->Metric("bora_orchestrator_events_applied_total");
        return applied.ok() && *applied >= 600;
      },
      60s));
  (*node)->Kill9();
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(data)) {
    if (e.path().extension() == ".log" &&
        (newest.empty() || e.path().filename() > newest.filename())) {
      newest = e.path();
    }
  }
  ASSERT_FALSE(newest.empty()) << "no write-ahead log in " << data;
  const auto size = std::filesystem::file_size(newest);
  ASSERT_GT(size, 100u);
  std::filesystem::resize_file(newest, size - 100);
  auto again = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(PollUntil([&] { return CountSuccess(**again, all) == all.size(); }, 120s))
      << CountSuccess(**again, all) << " of " << all.size() << " SUCCESS\n"
      << (*again)->Output();
  EXPECT_EQ((*again)->Stop(), 0);
  ExpectChainsIntact(data, ids);
}

TEST(SingleNodeTest, KillNineMidWithItemsOf20000LosesNothing) {
  constexpr int kItems = 20000;
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto node = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  const std::string yaml =
      "version: '2.0'\nwi:\n  tasks:\n    a:\n      with-items: i in <% range(" +
      std::to_string(kItems) +
      ") %>\n      action: std.echo output=<% $.i %> delay=0.002\n"
      "  output:\n    n: <% len(task(a).result) %>\n"
      "    sum: <% sum(task(a).result) %>\n";
  ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", yaml, "text/plain").ok());
  auto id = StartExecution(**node, "wi");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(PollUntil(
      [&] {
        auto applied = (*node)->Metric("bora_orchestrator_events_applied_total");
        return applied.ok() && *applied >= kItems / 4;
      },
      60s));
  auto head = (*node)->Call("GET", "/v2/executions/" + *id);
  ASSERT_TRUE(head.ok());
  (*node)->Kill9();
  ASSERT_EQ(head->at("state").as_string(), "RUNNING") << "the run ended before the kill";
  const auto restarted_at = SteadyClock::now();
  auto again = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  Json done;
  const bool finished = PollUntil(
      [&] {
        auto r = (*again)->Call("GET", "/v2/executions/" + *id);
        if (!r.ok() || r->at("state").as_string() == "RUNNING") return false;
        done = *r;
        return true;
      },
      120s);
  std::printf("with-items of %d: SUCCESS %.2f s after the restart\n", kItems,
              Seconds(SteadyClock::now() - restarted_at));
  ASSERT_TRUE(finished) << (*again)->Output();
  EXPECT_EQ(done.at("state").as_string(), "SUCCESS") << DumpJson(done);
  auto output = ParseJson(done.at("output").as_string());
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(DumpJson(*output), R"({"n":20000,"sum":199990000})");
  EXPECT_EQ((*again)->Stop(), 0);
  auto store = OpenStopped(data);
  ASSERT_NE(store, nullptr);
  auto st = store->ReadExecution(PartitionId(PartitionForKey(*id, kPartitions)), ExecutionId(*id));
  ASSERT_TRUE(st.ok() && st->has_value()) << st.status().ToString();
  ASSERT_EQ((*st)->tasks.size(), 1u);
  const auto& actions = (*st)->tasks[0].actions;
  ASSERT_EQ(actions.size(), static_cast<size_t>(kItems));
  int bad = 0;
  for (const auto& a : actions) {
    if (!(a.accepted && a.state == engine::State::kSuccess)) ++bad;
  }
  EXPECT_EQ(bad, 0) << bad << " action executions are not SUCCESS with their result applied";
}

TEST(SingleNodeTest, ASecondProcessOnTheSameDirectoryIsRefused) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto first = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto [code, out] = RunBora({"serve", "--port", "0", "--data-dir", data});
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("is in use by another bora process"), std::string::npos) << out;
  EXPECT_NE(out.find(data), std::string::npos) << out;
  // The first one is untouched.
  EXPECT_TRUE((*first)->Call("GET", "/v2/workflows").ok());
}

TEST(SingleNodeTest, WhatTheApiStoredComesBackAfterARestart) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  std::string id;
  {
    auto node = ServeProcess::Start(NodeArgs(data));
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", Chain(), "text/plain").ok());
    ASSERT_TRUE(
        (*node)
            ->Call("POST", "/v2/environments", R"({"name": "env1", "variables": {"k": "v"}})")
            .ok());
    ASSERT_TRUE(
        (*node)
            ->Call("POST", "/v2/cron_triggers",
                   R"({"name": "nightly", "workflow_name": "chain", "pattern": "0 3 * * *"})")
            .ok());
    auto started = StartExecution(**node, "chain");
    ASSERT_TRUE(started.ok());
    id = *started;
    ASSERT_TRUE(PollUntil(
        [&] {
          auto r = (*node)->Call("GET", "/v2/executions/" + id);
          return r.ok() && r->at("state").as_string() == "SUCCESS";
        },
        60s));
    EXPECT_EQ((*node)->Stop(), 0);
  }
  auto node = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto wf = (*node)->Call("GET", "/v2/workflows/chain");
  EXPECT_TRUE(wf.ok()) << wf.status().ToString();
  auto env = (*node)->Call("GET", "/v2/environments/env1");
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  auto cron = (*node)->Call("GET", "/v2/cron_triggers/nightly");
  EXPECT_TRUE(cron.ok()) << cron.status().ToString();
  auto ex = (*node)->Call("GET", "/v2/executions/" + id);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  EXPECT_EQ(ex->at("state").as_string(), "SUCCESS");
  auto tasks = (*node)->Call("GET", "/v2/executions/" + id + "/tasks");
  ASSERT_TRUE(tasks.ok());
  EXPECT_EQ(tasks->at("tasks").as_array().size(), static_cast<size_t>(kChainLength));
  // The restored definition runs.
  auto second = StartExecution(**node, "chain");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(PollUntil(
      [&] {
        auto r = (*node)->Call("GET", "/v2/executions/" + *second);
        return r.ok() && r->at("state").as_string() == "SUCCESS";
      },
      60s));
}

// `bora admin backup DIR` copies the directory while the server runs and executions go on; a server
// started on the copy has the definitions and the executions finished before the backup.
TEST(SingleNodeTest, AnOnlineBackupStartsAServerWithWhatItHeld) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  const std::string copy = dir.Sub("backup");
  auto node = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", Chain(), "text/plain").ok());
  std::vector<std::string> done;
  for (int i = 0; i < 20; ++i) {
    auto id = StartExecution(**node, "chain");
    ASSERT_TRUE(id.ok());
    done.push_back(*id);
  }
  const std::set<std::string> all(done.begin(), done.end());
  ASSERT_TRUE(PollUntil([&] { return CountSuccess(**node, all) == all.size(); }, 60s));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(StartExecution(**node, "chain").ok());  // running
  const std::string url = "http://127.0.0.1:" + std::to_string((*node)->port());
  auto [code, out] = RunBora({"admin", "backup", copy, "--url", url});
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Backup written to " + copy), std::string::npos) << out;
  auto [again_code, again_out] = RunBora({"admin", "backup", copy, "--url", url});
  EXPECT_EQ(again_code, 1) << again_out;
  EXPECT_NE(again_out.find("exists"), std::string::npos) << again_out;
  EXPECT_EQ((*node)->Stop(), 0);
  auto restored = ServeProcess::Start(NodeArgs(copy));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE((*restored)->Call("GET", "/v2/workflows/chain").ok());
  EXPECT_EQ(CountSuccess(**restored, all), all.size());
  // What was running at the backup runs on from the copy.
  auto listed = (*restored)->Call("GET", "/v2/executions?limit=1000");
  ASSERT_TRUE(listed.ok());
  EXPECT_GE(listed->at("executions").as_array().size(), all.size());
  EXPECT_TRUE(PollUntil(
      [&] {
        auto r = (*restored)->Call("GET", "/v2/executions?limit=1000&state=RUNNING");
        return r.ok() && r->at("executions").as_array().empty();
      },
      60s));
}

// `bora serve --in-memory` keeps nothing: a restart starts empty (and says so at start), and there
// is no data directory to back up.
TEST(SingleNodeTest, InMemoryKeepsNothingAndSaysSo) {
  TempDir dir;
  {
    auto first = ServeProcess::Start({"--in-memory"});
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    ASSERT_TRUE((*first)->Call("POST", "/v2/workflows", Chain(), "text/plain").ok());
    ASSERT_TRUE((*first)->Call("GET", "/v2/workflows/chain").ok());
    EXPECT_EQ((*first)->Stop(), 0);
  }
  auto node = ServeProcess::Start({"--in-memory"});
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  EXPECT_NE((*node)->Output().find("--in-memory: nothing is kept"), std::string::npos)
      << (*node)->Output();
  auto gone = (*node)->Raw("GET", "/v2/workflows/chain");
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->first, 404) << gone->second;
  auto backup =
      (*node)->Raw("POST", "/v2/admin/backup", R"({"directory": ")" + dir.Sub("b") + R"("})");
  ASSERT_TRUE(backup.ok());
  EXPECT_EQ(backup->first, 400) << backup->second;
}

// Executions of `workflow` the API lists.
std::vector<Json> ExecutionsOf(ServeProcess& p, const std::string& workflow) {
  std::vector<Json> out;
  auto r = p.Call("GET", "/v2/executions?limit=100000");
  if (!r.ok()) return out;
  for (const auto& e : r->at("executions").as_array()) {
    if (e.at("workflow_name").as_string() == workflow) out.push_back(e);
  }
  return out;
}

// A cron tick fires once although the process is killed right after it fired (before or after the
// trigger was advanced: a restart fires the same tick again under the same execution id, which the
// engine refuses). Waits for the next minute boundary (up to a minute).
TEST(SingleNodeTest, KillNineDuringACronTickFiresItOnce) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  auto node = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  const std::string yaml =
      "version: '2.0'\nticked:\n  tasks:\n    t:\n      action: std.echo output=tick\n";
  ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", yaml, "text/plain").ok());
  ASSERT_TRUE(
      (*node)
          ->Call("POST", "/v2/cron_triggers",
                 R"({"name": "every-minute", "workflow_name": "ticked", "pattern": "* * * * *",
                             "remaining_executions": 1})")
          .ok());
  // Kill as soon as the tick's execution exists (polled every 20 ms).
  ASSERT_TRUE(PollUntil([&] { return !ExecutionsOf(**node, "ticked").empty(); }, 75s))
      << (*node)->Output();
  (*node)->Kill9();
  auto again = ServeProcess::Start(NodeArgs(data));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  // The trigger (one execution left) is deleted once its tick is done, in either case.
  ASSERT_TRUE(PollUntil(
      [&] {
        auto r = (*again)->Raw("GET", "/v2/cron_triggers/every-minute");
        return r.ok() && r->first == 404;
      },
      30s))
      << (*again)->Output();
  ASSERT_TRUE(PollUntil(
      [&] {
        auto list = ExecutionsOf(**again, "ticked");
        return list.size() == 1 && list[0].at("state").as_string() == "SUCCESS";
      },
      30s));
  EXPECT_EQ(ExecutionsOf(**again, "ticked").size(), 1u);
}

// Disk full: the data directory on a small tmpfs of the test's own (a mount namespace made by
// `unshare`, so no root is needed), filled up through /proc/<pid>/root. Requests that must write
// get 503 naming the disk; nothing acknowledged is lost; once space returns the process goes on.
TEST(SingleNodeTest, DiskFullAnswers503AndTheProcessGoesOnWhenSpaceReturns) {
  TempDir dir;
  const std::string mount_point = dir.Sub("small");
  ASSERT_TRUE(std::filesystem::create_directory(mount_point));
  const std::string data = mount_point + "/data";
  const std::vector<std::string> wrapper = {
      "unshare",
      "-rm",
      "--propagation",
      "private",
      "sh",
      "-c",
      "mount -t tmpfs -o size=32m tmpfs '" + mount_point + "' && exec \"$0\" \"$@\""};
  auto node = ServeProcess::Start(NodeArgs(data), wrapper);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ASSERT_TRUE((*node)->Call("POST", "/v2/workflows", Chain(), "text/plain").ok());
  auto before = StartExecution(**node, "chain");
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  // Fill the tmpfs (as the process sees it).
  const std::string filler =
      "/proc/" + std::to_string((*node)->pid()) + "/root" + mount_point + "/filler";
  {
    FILE* f = std::fopen(filler.c_str(), "w");
    ASSERT_NE(f, nullptr) << "cannot write " << filler;
    std::string block(1 << 16, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size()) {
    }
    std::fclose(f);
  }
  // Writes now fail: starting executions answers 503 (a few may still fit in what RocksDB had).
  int refused = 0;
  std::string answer;
  for (int i = 0; i < 200 && refused == 0; ++i) {
    auto r = (*node)->Raw("POST", "/v2/executions", R"({"workflow_name": "chain"})");
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "\n" << (*node)->Output();
    if (r->first == 503) {
      ++refused;
      answer = r->second;
    } else {
      ASSERT_EQ(r->first, 201) << r->second;
    }
  }
  ASSERT_EQ(refused, 1) << "the full disk was never noticed";
  EXPECT_NE(answer.find("disk full"), std::string::npos) << answer;
  auto ready = (*node)->Raw("GET", "/health/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->first, 503) << ready->second;
  // Space returns: the process takes writes again and finishes what it had.
  ASSERT_EQ(std::remove(filler.c_str()), 0);
  Result<std::string> after = Internal("not tried");
  ASSERT_TRUE(PollUntil(
      [&] {
        after = StartExecution(**node, "chain");
        return after.ok();
      },
      30s))
      << after.status().ToString() << "\n"
      << (*node)->Output();
  for (const std::string* id : {&*before, &*after}) {
    EXPECT_TRUE(PollUntil(
        [&] {
          auto r = (*node)->Call("GET", "/v2/executions/" + *id);
          return r.ok() && r->at("state").as_string() == "SUCCESS";
        },
        60s))
        << *id << "\n"
        << (*node)->Output().substr(0, 5000);
  }
}

}  // namespace
}  // namespace bora::testing
