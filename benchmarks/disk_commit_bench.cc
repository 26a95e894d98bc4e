// disk_commit_bench: RocksDB vs SQLite (WAL mode) for the single node's commit pattern (issue 15).
// One "commit" is what a partition writes after a poll: 50 task states of ~500 B, the partition's
// next offset and 5 outbox entries, in one atomic write. Three durability modes per engine:
//   sync    an fsync per commit (RocksDB: a WriteBatch per commit, WriteOptions::sync;
//           SQLite: a transaction per commit, synchronous=FULL)
//   group   an fsync per 10 commits, as a poll of 10 partitions committed together would do
//           (RocksDB: the 10 commits in one synced WriteBatch; SQLite: in one transaction, FULL)
//   nosync  no fsync (RocksDB: a WriteBatch per commit written to the WAL in the OS page cache;
//           SQLite: WAL with synchronous=NORMAL, the same): survives kill -9, not a power loss
// Prints commits/s and state updates/s.
// Usage: disk_commit_bench [dir] [commits] [hot|growing] (dir must be on the disk the store will
// use, not tmpfs; default /var/tmp 2000 hot).
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr int kStatesPerCommit = 50;
constexpr int kOutboxPerCommit = 5;
constexpr size_t kStateBytes = 500;
constexpr int kGroup = 10;

std::string BigEndian(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

// Working set: "hot" rewrites the states of 1,000 executions in turn; "growing" writes new
// executions only (the table keeps growing, as on a server that starts executions all the time).
bool g_growing = false;

// The keys and values of commit `n`.
struct Commit {
  std::vector<std::pair<std::string, std::string>> puts;
};
Commit MakeCommit(uint64_t n, const std::string& payload) {
  Commit c;
  for (int i = 0; i < kStatesPerCommit; ++i) {
    uint64_t exec = n * kStatesPerCommit + static_cast<uint64_t>(i);
    if (!g_growing) exec %= 1000;
    c.puts.emplace_back("s" + BigEndian(0) + "exec-" + std::to_string(exec), payload);
  }
  c.puts.emplace_back("m" + BigEndian(0) + "next_offset", BigEndian(n + 1));
  for (int i = 0; i < kOutboxPerCommit; ++i) {
    c.puts.emplace_back(
        "o" + BigEndian(0) + BigEndian(n * kOutboxPerCommit + static_cast<uint64_t>(i)),
        payload.substr(0, 200));
  }
  return c;
}

void Report(const char* engine, const char* mode, int commits, double seconds) {
  std::printf("%-8s %-7s %7d commits in %7.3f s: %9.0f commits/s %10.0f updates/s\n", engine, mode,
              commits, seconds, commits / seconds, commits * kStatesPerCommit / seconds);
  std::fflush(stdout);
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int RunRocks(const std::string& dir, const char* mode, int commits, const std::string& payload) {
  std::filesystem::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb open %s: %s\n", dir.c_str(), s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string m = mode;
  auto start = std::chrono::steady_clock::now();
  rocksdb::WriteBatch batch;
  for (int n = 0; n < commits; ++n) {
    for (const auto& [k, v] : MakeCommit(static_cast<uint64_t>(n), payload).puts) batch.Put(k, v);
    if (m == "group" && (n + 1) % kGroup != 0 && n + 1 != commits) continue;
    rocksdb::WriteOptions wo;
    wo.sync = m != "nosync";
    s = db->Write(wo, &batch);
    if (!s.ok()) {
      std::fprintf(stderr, "rocksdb write: %s\n", s.ToString().c_str());
      return 1;
    }
    batch.Clear();
  }
  Report("rocksdb", mode, commits, Seconds(start));
  db.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

int Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return 1;
  }
  return 0;
}

int RunSqlite(const std::string& dir, const char* mode, int commits, const std::string& payload) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  sqlite3* db = nullptr;
  if (sqlite3_open((dir + "/state.db").c_str(), &db) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite open: %s\n", sqlite3_errmsg(db));
    return 1;
  }
  const std::string m = mode;
  if (Exec(db, "PRAGMA journal_mode=WAL") ||
      Exec(db, m != "nosync" ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ||
      Exec(db, "CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID")) {
    return 1;
  }
  sqlite3_stmt* put = nullptr;
  sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", -1, &put, nullptr);
  auto start = std::chrono::steady_clock::now();
  for (int n = 0; n < commits; ++n) {
    const bool begin = m != "group" || n % kGroup == 0;
    const bool end = m != "group" || (n + 1) % kGroup == 0 || n + 1 == commits;
    if (begin && Exec(db, "BEGIN")) return 1;
    for (const auto& [k, v] : MakeCommit(static_cast<uint64_t>(n), payload).puts) {
      sqlite3_bind_blob(put, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      sqlite3_bind_blob(put, 2, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
      if (sqlite3_step(put) != SQLITE_DONE) {
        std::fprintf(stderr, "sqlite put: %s\n", sqlite3_errmsg(db));
        return 1;
      }
      sqlite3_reset(put);
    }
    if (end && Exec(db, "COMMIT")) return 1;
  }
  Report("sqlite", mode, commits, Seconds(start));
  sqlite3_finalize(put);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string base = argc > 1 ? argv[1] : "/var/tmp";
  const int commits = argc > 2 ? std::atoi(argv[2]) : 2000;
  g_growing = argc > 3 && std::string(argv[3]) == "growing";
  g_growing = argc > 3 && std::string(argv[3]) == "growing";
  const std::string dir = base + "/disk_commit_bench." + std::to_string(::getpid());
  std::string payload(kStateBytes, 'x');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::printf(
      "%d states of %zu B (%s) + offset + %d outbox entries per commit; group = %d commits per "
      "fsync\n",
      kStatesPerCommit, kStateBytes, g_growing ? "new executions" : "1,000 executions rewritten",
      kOutboxPerCommit, kGroup);
  for (const char* mode : {"sync", "group", "nosync"}) {
    if (RunRocks(dir + ".rocks", mode, commits, payload) != 0) return 1;
    if (RunSqlite(dir + ".sqlite", mode, commits, payload) != 0) return 1;
  }
  return 0;
}
