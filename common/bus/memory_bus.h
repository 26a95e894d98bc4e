#pragma once
// MemoryBus: an in-process Bus for embedded mode and tests. Each partition is an append-only vector
// of messages (offsets are indexes); consumers of a group split the partitions of their topics
// (range assignment, rebalanced when a consumer joins or leaves). Messages are kept until the bus
// is destroyed, unless TrimBefore() drops a consumed prefix.
//
// With a BusJournal (MemoryBus::Open) the bus is also a log on disk: every topic, message, trim and
// group position is written to the journal before it is visible, and the bus starts from what the
// journal holds (the durable single node: common/disk/disk_bus_journal.h). Publish returns once the
// journal has the message; Flush / PublishAndWait once it is durable (BusJournal::Sync).
//
// Thread-safety: every method may be called from any thread (one mutex; Poll waits on a condition
// variable).
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/bus/bus.h"
#include "common/thread_annotations.h"

namespace bora {

// Where a MemoryBus keeps its log beyond the process. The write methods are called with the bus's
// lock held, in the order the bus applies them; an error refuses the operation (nothing is
// visible).
class BusJournal {
 public:
  virtual ~BusJournal() = default;
  // What the journal holds, for the bus to start from.
  struct PartitionLog {
    TopicPartition tp;
    int64_t first_offset = 0;          // offsets below were trimmed
    std::vector<BusMessage> messages;  // from first_offset on, in order
  };
  struct GroupPosition {
    std::string group;
    TopicPartition tp;
    int64_t offset = 0;
  };
  struct Contents {
    std::vector<std::pair<std::string, int>> topics;  // name, partitions
    std::vector<PartitionLog> logs;
    std::vector<GroupPosition> positions;
  };
  virtual Result<Contents> Load() = 0;
  virtual Status CreateTopic(std::string_view topic, int partitions) = 0;
  virtual Status Append(const std::vector<const BusMessage*>& messages) = 0;
  virtual Status Commit(const std::string& group, const TopicPartition& tp, int64_t offset) = 0;
  // Messages of `tp` below `offset` are no longer needed (a journal may drop them lazily).
  virtual void Trim(const TopicPartition& tp, int64_t offset) = 0;
  // Called after each publish, without the bus's lock (a journal whose every write must be on disk
  // waits here).
  virtual Status AfterPublish() { return Status::Ok(); }
  // Waits until everything journalled so far is durable (Flush, PublishAndWait).
  virtual Status Sync() = 0;
};

class MemoryBus final : public Bus {
 public:
  MemoryBus();
  ~MemoryBus() override;
  // A bus whose log is `journal`'s: starts from what it holds, writes everything to it.
  static Result<std::unique_ptr<MemoryBus>> Open(std::unique_ptr<BusJournal> journal);

  Status CreateTopic(std::string_view topic, int partitions) override;
  Result<int> PartitionCount(std::string_view topic) override;
  Status Publish(std::string_view topic, std::string_view key, std::string value) override;
  Status PublishMany(std::vector<TopicRecord>& records) override;
  // All or nothing (one journal write).
  Status PublishManyTracked(const std::vector<TrackedRecord>& records,
                            const std::shared_ptr<DeliveryTracker>& tracker,
                            size_t* published) override;
  Status PublishWithHeaders(std::string_view topic, std::string_view key, std::string value,
                            const BusHeaders& headers) override;
  Status Flush(std::chrono::milliseconds timeout) override;
  Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerOptions& options) override;

  // Messages published to `tp` so far (its end offset).
  int64_t EndOffset(const TopicPartition& tp);
  // Frees messages of `tp` below `offset`, to bound memory in long runs (consumers positioned below it
  // continue at `offset`).
  void TrimBefore(const TopicPartition& tp, int64_t offset);

 private:
  class MemoryConsumer;
  struct Partition {
    // Messages from offset `trimmed` on (a deque: appending never moves the log under mu_, and trimming
    // frees the consumed prefix).
    std::deque<BusMessage> log;
    int64_t trimmed = 0;  // messages below this offset were freed
    int64_t end() const { return trimmed + static_cast<int64_t>(log.size()); }
  };
  struct Topic {
    std::vector<Partition> partitions;
  };
  struct Group {
    std::vector<MemoryConsumer*> members;  // in join order
    std::map<TopicPartition, int64_t> committed;
  };

  void Rebalance(const std::string& group) REQUIRES(mu_);
  void Leave(MemoryConsumer* consumer);

  // A message of a batch: views of its topic and key, its value (moved in), its headers (or null).
  struct Outgoing {
    std::string_view topic;
    std::string_view key;
    std::string value;
    const BusHeaders* headers;
  };
  // Publishes `batch` in order under one lock; `*appended` counts the messages published. With a
  // journal: one journal write, all or nothing (on an error the values are left in `batch`).
  Status PublishBatch(std::vector<Outgoing>& batch, size_t* appended);
  // Appends one message to its partition.
  Status AppendLocked(std::string_view topic, std::string_view key, std::string&& value,
                      const BusHeaders& headers) REQUIRES(mu_);

  std::unique_ptr<BusJournal> journal_;  // null: memory only
  Mutex mu_;
  CondVar cv_;
  // Bumped on every publish and rebalance; pollers wait for a change.
  uint64_t version_ GUARDED_BY(mu_) = 0;
  int waiters_ GUARDED_BY(mu_) = 0;  // pollers blocked on cv_
  std::map<std::string, Topic, std::less<>> topics_ GUARDED_BY(mu_);
  std::map<std::string, Group> groups_ GUARDED_BY(mu_);
};

}  // namespace bora
