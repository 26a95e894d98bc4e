#pragma once
// DiskBusJournal: a MemoryBus's log on disk, in the "log" column family of a DiskDb. With it the
// single node's bus is a real log: topics, partitions, offsets and consumer-group positions survive
// a restart, and MemoryBus::Open(journal) starts from them. Retention: a partition's messages below
// what every consumer applied (MemoryBus::TrimBefore, which the runtime calls once an orchestrator
// committed or a worker finished them) are deleted in ranges of at least kTrimStep messages, with
// the partition's first offset, so offsets never restart at 0; RocksDB compaction reclaims the
// space.
//
// Keys (integers big-endian; <s> = a 2-byte length and the bytes):
//   't' <s topic>                         -> partition count (decimal)
//   'm' <s topic> <partition u32> <offset u64> -> a message: <u32 n>key <u16 h>(<u32 n>name <u32
//   n>value)*h value 'w' <s topic> <partition u32>         -> first offset kept (u64) 'g' <s group>
//   <s topic> <partition u32> -> the group's committed position (u64)
//
// Durability: Append writes without waiting for the disk (the WAL record is in the OS);
// AfterPublish waits for it under FsyncPolicy::kAlways, Sync (Flush, PublishAndWait: what the API
// waits for before it answers 201/202) under kAlways and kInterval.
//
// Thread-safety: MemoryBus calls the write methods under its lock; Sync and AfterPublish from any
// thread.
#include <map>
#include <memory>

#include "common/bus/memory_bus.h"
#include "common/disk/disk_db.h"

namespace bora::disk {

class DiskBusJournal final : public BusJournal {
 public:
  static constexpr int64_t kTrimStep = 256;

  explicit DiskBusJournal(std::shared_ptr<DiskDb> db) : db_(std::move(db)) {}

  Result<Contents> Load() override;
  Status CreateTopic(std::string_view topic, int partitions) override;
  Status Append(const std::vector<const BusMessage*>& messages) override;
  Status Commit(const std::string& group, const TopicPartition& tp, int64_t offset) override;
  void Trim(const TopicPartition& tp, int64_t offset) override;
  Status AfterPublish() override;
  Status Sync() override;

 private:
  std::shared_ptr<DiskDb> db_;
  std::map<TopicPartition, int64_t> first_;  // per partition, the first offset kept on disk
};

// A MemoryBus on `db`'s log (MemoryBus::Open with a DiskBusJournal).
Result<std::unique_ptr<MemoryBus>> OpenDiskBus(std::shared_ptr<DiskDb> db);

}  // namespace bora::disk
