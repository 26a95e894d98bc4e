// DiskDb and the bus journal on it: what a restart gives back (messages, offsets, group positions,
// trims), the lock, the format version, group fsync, and recovery from a torn write-ahead log tail.
#include "common/disk/disk_db.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "common/disk/disk_bus_journal.h"

namespace bora::disk {
namespace {

using namespace std::chrono_literals;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bora-disk-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::shared_ptr<DiskDb> OpenOrDie(const std::string& path,
                                  FsyncPolicy fsync = FsyncPolicy::kNever) {
  DiskDbOptions o;
  o.path = path;
  o.fsync = fsync;
  auto db = DiskDb::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? *db : nullptr;
}

std::vector<BusMessage> Drain(MemoryBus& bus, const std::string& group,
                              const std::vector<std::string>& topics) {
  auto consumer = bus.Subscribe({group, topics, nullptr});
  EXPECT_TRUE(consumer.ok());
  std::vector<BusMessage> out;
  while (true) {
    auto r = (*consumer)->Poll(1000, 0ms);
    EXPECT_TRUE(r.ok());
    if (!r.ok() || r->empty()) break;
    out.insert(out.end(), r->begin(), r->end());
  }
  return out;
}

TEST(DiskBusTest, ARestartGivesBackMessagesOffsetsAndGroupPositions) {
  TempDir dir;
  {
    auto bus = OpenDiskBus(OpenOrDie(dir.Sub("d")));
    ASSERT_TRUE(bus.ok()) << bus.status().ToString();
    ASSERT_TRUE((*bus)->CreateTopic("a", 2).ok());
    ASSERT_TRUE((*bus)->CreateTopic("b", 1).ok());
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE((*bus)->Publish("a", "k" + std::to_string(i), "a" + std::to_string(i)).ok());
    }
    ASSERT_TRUE(
        (*bus)->PublishWithHeaders("b", "x", "with headers", {{"ce_id", "1"}, {"h", ""}}).ok());
    auto c = (*bus)->Subscribe({"g", {"b"}, nullptr});
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Commit({"b", 0}, 1).ok());
  }
  auto bus = OpenDiskBus(OpenOrDie(dir.Sub("d")));
  ASSERT_TRUE(bus.ok()) << bus.status().ToString();
  EXPECT_EQ(*(*bus)->PartitionCount("a"), 2);
  auto a = Drain(**bus, "fresh", {"a"});
  ASSERT_EQ(a.size(), 10u);
  for (const auto& m : a) {
    EXPECT_EQ(m.topic, "a");
    EXPECT_EQ(m.partition, PartitionForKey(m.key, 2));
    EXPECT_EQ(m.value, "a" + m.key.substr(1));
  }
  auto b = Drain(**bus, "fresh", {"b"});
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].value, "with headers");
  EXPECT_EQ(b[0].headers, (BusHeaders{{"ce_id", "1"}, {"h", ""}}));
  // Group "g" committed 1: it starts after the message.
  EXPECT_TRUE(Drain(**bus, "g", {"b"}).empty());
  // Offsets continue.
  ASSERT_TRUE((*bus)->Publish("b", "x", "next").ok());
  auto again = Drain(**bus, "g", {"b"});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].offset, 1);
}

TEST(DiskBusTest, TrimmedMessagesStayGoneAndOffsetsDoNotRestart) {
  TempDir dir;
  const int n = static_cast<int>(DiskBusJournal::kTrimStep) * 2 + 10;
  {
    auto bus = OpenDiskBus(OpenOrDie(dir.Sub("d")));
    ASSERT_TRUE(bus.ok());
    ASSERT_TRUE((*bus)->CreateTopic("t", 1).ok());
    for (int i = 0; i < n; ++i) ASSERT_TRUE((*bus)->Publish("t", "k", std::to_string(i)).ok());
    (*bus)->TrimBefore({"t", 0}, n);  // everything consumed
  }
  auto bus = OpenDiskBus(OpenOrDie(dir.Sub("d")));
  ASSERT_TRUE(bus.ok());
  auto left = Drain(**bus, "g", {"t"});
  // Trims reach the disk in steps of kTrimStep messages: at most that many come back.
  EXPECT_LT(left.size(), static_cast<size_t>(DiskBusJournal::kTrimStep));
  if (!left.empty()) {
    EXPECT_EQ(left.back().offset, n - 1);
  }
  EXPECT_EQ((*bus)->EndOffset({"t", 0}), n);
  ASSERT_TRUE((*bus)->Publish("t", "k", "after").ok());
  EXPECT_EQ((*bus)->EndOffset({"t", 0}), n + 1);
}

TEST(DiskDbTest, ASecondOpenIsRefusedNamingTheDirectory) {
  TempDir dir;
  auto first = OpenOrDie(dir.Sub("d"));
  ASSERT_NE(first, nullptr);
  DiskDbOptions o;
  o.path = dir.Sub("d");
  auto second = DiskDb::Open(o);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use by another bora process"), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find(dir.Sub("d")), std::string::npos);
  first.reset();
  EXPECT_TRUE(DiskDb::Open(o).ok());
}

// RocksDB writes no LOG file into the data directory: its messages go to Bora's log (a LOG line
// that did not fit on a full disk made RocksDB abort the process at its next line).
TEST(DiskDbTest, RocksDbKeepsNoLogFileInTheDataDirectory) {
  TempDir dir;
  auto db = OpenOrDie(dir.Sub("d"));
  ASSERT_NE(db, nullptr);
  db.reset();
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.Sub("d"))) {
    names.push_back(entry.path().filename().string());
  }
  EXPECT_FALSE(names.empty());
  for (const auto& name : names) EXPECT_NE(name.rfind("LOG", 0), 0u) << name;
}

TEST(DiskDbTest, ANewerFormatIsRefused) {
  TempDir dir;
  {
    auto db = OpenOrDie(dir.Sub("d"));
    ASSERT_NE(db, nullptr);
    const auto key = DiskDb::kFormatKey;
    ASSERT_TRUE(db->db()
                    ->Put(rocksdb::WriteOptions(), rocksdb::Slice(key.data(), key.size()),
                          std::to_string(DiskDb::kFormatVersion + 1))
                    .ok());
  }
  DiskDbOptions o;
  o.path = dir.Sub("d");
  auto refused = DiskDb::Open(o);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("written by a newer bora"), std::string::npos)
      << refused.status().ToString();
}

TEST(DiskDbTest, ConcurrentWaitersShareFsyncsAndEveryWriteIsCovered) {
  TempDir dir;
  auto db = OpenOrDie(dir.Sub("d"), FsyncPolicy::kAlways);
  ASSERT_NE(db, nullptr);
  auto bus = OpenDiskBus(db);
  ASSERT_TRUE(bus.ok());
  ASSERT_TRUE((*bus)->CreateTopic("t", 4).ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!(*bus)->Publish("t", std::to_string(t), std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Drain(**bus, "g", {"t"}).size(), 800u);
}

// A process killed while writing leaves a torn last record in the write-ahead log; the database
// recovers to the last complete write. The writer runs in a child process that exits without
// closing (as kill -9 would leave it); the test then cuts bytes off the end of the log.
TEST(DiskDbTest, ATornLogTailRecoversToTheLastCompleteWrite) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // the child re-runs this test in a new process
  TempDir dir;
  // The child's own TempDir differs: it writes where the parent says.
  if (std::getenv("BORA_TORN_LOG_DIR") == nullptr)
    setenv("BORA_TORN_LOG_DIR", dir.Sub("d").c_str(), 1);
  const std::string path = std::getenv("BORA_TORN_LOG_DIR");
  constexpr int kMessages = 50;
  EXPECT_EXIT(
      {
        auto db = OpenOrDie(path);
        auto bus = OpenDiskBus(db);
        if (!bus.ok() || !(*bus)->CreateTopic("t", 1).ok()) _exit(1);
        for (int i = 0; i < kMessages; ++i) {
          if (!(*bus)->Publish("t", "k", std::string(100, 'x') + std::to_string(i)).ok()) _exit(1);
        }
        _exit(0);  // no close, no flush: the writes are in the log only
      },
      ::testing::ExitedWithCode(0), "");
  unsetenv("BORA_TORN_LOG_DIR");
  std::filesystem::path newest;
  for (const auto& e : std::filesystem::directory_iterator(path)) {
    if (e.path().extension() == ".log" &&
        (newest.empty() || e.path().filename() > newest.filename())) {
      newest = e.path();
    }
  }
  ASSERT_FALSE(newest.empty()) << "no write-ahead log in " << path;
  const auto size = std::filesystem::file_size(newest);
  std::filesystem::resize_file(newest, size - 20);  // the last record loses its end
  auto bus = OpenDiskBus(OpenOrDie(path));
  ASSERT_TRUE(bus.ok()) << bus.status().ToString();
  auto got = Drain(**bus, "g", {"t"});
  ASSERT_EQ(got.size(), static_cast<size_t>(kMessages - 1));
  for (int i = 0; i < kMessages - 1; ++i) {
    EXPECT_EQ(got[static_cast<size_t>(i)].offset, i);
    EXPECT_EQ(got[static_cast<size_t>(i)].value, std::string(100, 'x') + std::to_string(i));
  }
}

// Fills the file system of `dir` with a file; its path.
std::string FillTheDisk(const std::string& dir) {
  const std::string filler = dir + "/filler";
  std::ofstream f(filler, std::ios::binary);
  const std::string block(1 << 16, 'x');
  while (f.write(block.data(), static_cast<std::streamsize>(block.size()))) {
  }
  return filler;
}

bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  return done();
}

Result<std::shared_ptr<DiskDb>> OpenWithoutSpaceCheck(const std::string& path, FsyncPolicy fsync) {
  DiskDbOptions o;
  o.path = path;
  o.fsync = fsync;
  o.fsync_interval = 1ms;
  o.check_space = false;  // the writes meet the full disk in RocksDB
  return DiskDb::Open(o);
}

Status PutOne(DiskDb& db, const std::string& key, size_t bytes, bool wait_for_disk = true) {
  rocksdb::WriteBatch batch;
  (void)batch.Put(db.state(), key, std::string(bytes, 'v'));
  return db.Write(&batch, "write", wait_for_disk);
}

// In the child of the test below, on a 64 MiB tmpfs of its own at `dir`.
void FillAndFreeTheDisk(const std::string& dir) {
  {
    // A write not yet on disk, then a write that fails: the fsync owed to the first must not touch
    // the log file the second failed on, neither when asked for nor when the database closes.
    auto db = OpenWithoutSpaceCheck(dir + "/a", FsyncPolicy::kAlways);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(PutOne(**db, "first", 100, /*wait_for_disk=*/false).ok());
    const std::string filler = FillTheDisk(dir);
    const Status second = PutOne(**db, "second", 1 << 20);
    EXPECT_FALSE(second.ok()) << "a 1 MiB write fit on a full disk";
    EXPECT_FALSE((*db)->WaitDurable().ok());
    EXPECT_FALSE((*db)->Healthy().ok());
    db->reset();  // closes on the full disk
    std::filesystem::remove(filler);
  }
  // Four writers (two waiting for the disk each time) and a thread syncing without pause, while a
  // file fills the disk and after it is removed: each write fails or succeeds, and writes succeed
  // again once there is space (RocksDB's own recovery retries every few seconds).
  auto db = OpenWithoutSpaceCheck(dir + "/b", FsyncPolicy::kInterval);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  std::atomic<bool> stop{false};
  std::atomic<int64_t> succeeded{0};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t i = 0; !stop; ++i) {
        const std::string key = std::to_string(t) + ":" + std::to_string(i % 100);
        (PutOne(**db, key, 256, t % 2 == 0).ok() ? succeeded : failed)++;
        std::this_thread::sleep_for(50us);  // about 20 MB/s in all: the data never fills the disk
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) (void)(*db)->WaitDurable();
  });
  const std::string filler = FillTheDisk(dir);
  EXPECT_TRUE(WaitFor([&] { return failed.load() > 100; })) << "the full disk failed no write";
  std::filesystem::remove(filler);
  const int64_t before = succeeded.load();
  EXPECT_TRUE(WaitFor([&] { return succeeded.load() > before + 100; }))
      << "no write succeeded after the space came back";
  stop = true;
  for (auto& th : threads) th.join();
  EXPECT_TRUE(PutOne(**db, "last", 10).ok());
  EXPECT_TRUE((*db)->WaitDurable().ok());
  EXPECT_TRUE((*db)->Healthy().ok());
}

// A full disk under concurrent writes and fsyncs: RocksDB's log file refuses any call after a
// failed append with an assertion (Debian's librocksdb keeps them); a sync racing a failing append
// aborted `bora serve`. The child runs in a user and mount namespace of its own (unshare) with a
// small tmpfs to fill.
TEST(DiskDbTest, WritesAndSyncsOnAFullDiskFailAndGoOnWhenSpaceReturns) {
  if (const char* child = std::getenv("BORA_FULL_DISK_DIR")) {
    FillAndFreeTheDisk(child);
    return;
  }
  TempDir dir;
  const std::string mount_point = dir.Sub("small");
  ASSERT_TRUE(std::filesystem::create_directory(mount_point));
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::string command =
      "unshare -rm --propagation private sh -c 'mount -t tmpfs -o size=64m tmpfs \"$1\" && "
      "BORA_FULL_DISK_DIR=\"$1\" exec \"$0\" "
      "--gtest_filter=DiskDbTest.WritesAndSyncsOnAFullDiskFailAndGoOnWhenSpaceReturns' '" +
      self + "' '" + mount_point + "'";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << "the child died (status " << status << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child failed: see its output above";
}

}  // namespace
}  // namespace bora::disk
