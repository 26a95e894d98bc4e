#pragma once
// RocksDbResourceStore: ResourceStore on local disk, in the "resources" column family of a DiskDb
// (the durable single node: workbooks, workflows, actions, environments, cron and event triggers
// and dedupe keys survive a restart). One mutex serialises the writes of the process, which makes
// Create and CompareAndSwap atomic (DiskDb's lock keeps other processes out of the directory).
// Dedupe keys expire by the injected Clock; expired ones are deleted lazily by the next Remember.
//
// Keys (<s> = a 2-byte big-endian length and the bytes; <t> = i64 big-endian, sign bit flipped):
//   'r' <s kind> <key>  -> the record (JSON text)
//   'd' <key>           -> the dedupe key's expiry <t>
//   'e' <t expiry> <key> -> "" (the dedupe keys in expiry order)
//
// Durability: a record write returns once it is on disk (DiskDb::WaitDurable; the API answers 201
// after it), except with FsyncPolicy::kNever; dedupe keys (Remember) as the DiskDb's policy.
// Thread-safety: any thread.
#include <memory>
#include <mutex>

#include "common/clock.h"
#include "common/thread_annotations.h"
#include "orchestrator/store/resource_store.h"

namespace bora::disk {
class DiskDb;
}

namespace bora::store {

class RocksDbResourceStore final : public ResourceStore {
 public:
  // `clock` (not owned; outlives the store) dates the dedupe keys' expiry.
  RocksDbResourceStore(std::shared_ptr<disk::DiskDb> db, const Clock* clock);

  Result<std::optional<Json>> Get(std::string_view kind, std::string_view key) override;
  Status Put(std::string_view kind, std::string_view key, const Json& record) override;
  Result<bool> Create(std::string_view kind, std::string_view key, const Json& record) override;
  Result<bool> Delete(std::string_view kind, std::string_view key) override;
  Result<std::vector<std::pair<std::string, Json>>> List(std::string_view kind) override;
  Result<bool> CompareAndSwap(std::string_view kind, std::string_view key, const Json& expected,
                              const std::optional<Json>& replacement) override;
  Result<bool> Remember(std::string_view key, std::chrono::milliseconds ttl) override;

 private:
  // A point read: needs no lock itself (read-modify-writes call it under mu_).
  Result<std::optional<Json>> GetLocked(std::string_view kind, std::string_view key);
  Status PutLocked(std::string_view kind, std::string_view key, const std::optional<Json>& record)
      REQUIRES(mu_);

  std::shared_ptr<disk::DiskDb> db_;
  const Clock* clock_;
  // Serialises writes (and the reads of a read-modify-write); the data it guards is on disk.
  Mutex mu_;
};

}  // namespace bora::store
