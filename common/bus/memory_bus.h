#pragma once
// MemoryBus: an in-process Bus for embedded mode and tests. Each partition is an append-only vector of
// messages (offsets are indexes); consumers of a group split the partitions of their topics (range
// assignment, rebalanced when a consumer joins or leaves). Messages are kept until the bus is destroyed, unless
// TrimBefore() drops a consumed prefix.
//
// Thread-safety: every method may be called from any thread (one mutex; Poll waits on a condition variable).
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/bus/bus.h"

namespace bora {

class MemoryBus final : public Bus {
 public:
  MemoryBus();
  ~MemoryBus() override;

  Status CreateTopic(std::string_view topic, int partitions) override;
  Result<int> PartitionCount(std::string_view topic) override;
  Status Publish(std::string_view topic, std::string_view key, std::string value) override;
  Status PublishMany(std::vector<TopicRecord>& records) override;
  Status PublishWithHeaders(std::string_view topic, std::string_view key, std::string value,
                            const BusHeaders& headers) override;
  Status Flush(std::chrono::milliseconds timeout) override { return Status::Ok(); }
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

  void Rebalance(const std::string& group);  // requires mu_
  void Leave(MemoryConsumer* consumer);

  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t version_ = 0;  // bumped on every publish and rebalance; pollers wait for a change
  int waiters_ = 0;       // pollers blocked on cv_ (guarded by mu_)
  std::map<std::string, Topic, std::less<>> topics_;
  std::map<std::string, Group> groups_;
};

}  // namespace bora
