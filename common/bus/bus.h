#pragma once
// Bus: the seam between Bora and its message log. Topics are split into partitions; a message's partition is
// chosen from its key with Kafka's default (murmur2) partitioner, so the in-memory bus and Kafka place a key on
// the same partition. Implementations: MemoryBus (common/bus/memory_bus.h) and KafkaBus (later, on
// librdkafka). Messages are bytes (JSON, see sdk/protocol) so both behave alike.
//
// Thread-safety: Publish may be called from any thread. A Consumer is used by one thread at a time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/thread_annotations.h"

namespace bora {

// Message headers (Kafka record headers): name/value pairs in order; a name may repeat.
using BusHeaders = std::vector<std::pair<std::string, std::string>>;

struct BusMessage {
  std::string topic;
  int partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  BusHeaders headers;  // empty for most messages (Bora's own messages carry none)
};

struct TopicPartition {
  std::string topic;
  int partition = 0;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
};

// Told when the set of partitions a consumer owns changes. Called on the consumer's polling thread, inside
// Poll(), before any message of a newly assigned partition is returned.
class RebalanceListener {
 public:
  virtual ~RebalanceListener() = default;
  virtual void OnAssigned(const std::vector<TopicPartition>& partitions) = 0;
  virtual void OnRevoked(const std::vector<TopicPartition>& partitions) = 0;
};

struct ConsumerOptions {
  std::string group;                // consumers of one group share the partitions
  std::vector<std::string> topics;  // subscribed topics
  RebalanceListener* listener = nullptr;  // not owned; may be null
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Returns up to `max_messages` messages from assigned partitions, waiting at most `timeout` when none is
  // ready. Offsets are NOT committed by the bus: the owner stores them (with the state) and seeks on assignment.
  virtual Result<std::vector<BusMessage>> Poll(size_t max_messages, std::chrono::milliseconds timeout) = 0;
  // The next Poll of `tp` starts at `offset`.
  virtual Status Seek(const TopicPartition& tp, int64_t offset) = 0;
  // Partitions currently assigned.
  virtual std::vector<TopicPartition> Assignment() const = 0;
  // Wakes a blocked Poll (returns early with what it has). Thread-safe.
  virtual void Wakeup() = 0;
  // Records `offset` (the next offset to read) as the group's position in `tp`, so a member that gets the
  // partition later starts there. For consumers that do not keep offsets with their own state (workers).
  virtual Status Commit(const TopicPartition& tp, int64_t offset) = 0;
};

class Bus {
 public:
  virtual ~Bus() = default;
  // Creates the topic if missing (idempotent). `partitions` >= 1.
  virtual Status CreateTopic(std::string_view topic, int partitions) = 0;
  virtual Result<int> PartitionCount(std::string_view topic) = 0;
  // Appends a message to the partition of `key`. Durable (acknowledged) when it returns OK, unless the
  // implementation documents batching; then Flush() waits for acknowledgements.
  virtual Status Publish(std::string_view topic, std::string_view key, std::string value) = 0;
  // Publish with record headers (CloudEvents' Kafka binary mode). Both real buses implement it; a bus
  // that cannot carry headers answers kUnimplemented.
  virtual Status PublishWithHeaders(std::string_view topic, std::string_view key, std::string value,
                                    const BusHeaders& headers) {
    if (headers.empty()) return Publish(topic, key, std::move(value));
    return Unimplemented("this bus does not carry message headers");
  }
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;
  // Publishes `records` in order, each to its topic, without waiting, as one step where a bus can
  // do better than one Publish each (MemoryBus takes its lock and wakes its consumers once). Stops
  // at the first error; the values of the records published are moved out (or cleared); those not
  // published keep theirs.
  struct TopicRecord {
    std::string topic;
    std::string key;
    std::string value;
  };
  virtual Status PublishMany(std::vector<TopicRecord>& records) {
    for (auto& r : records) {
      BORA_RETURN_IF_ERROR(Publish(r.topic, r.key, r.value));  // a refused value stays
      r.value.clear();
    }
    return Status::Ok();
  }
  // Publishes `records` to `topic` and returns once each of them is durable (acknowledged), without waiting
  // for other publishers' messages (Flush waits for everything in flight, which under steady concurrent
  // traffic may never drain). What an API uses before it answers "accepted".
  struct Record {
    std::string key;
    std::string value;
    BusHeaders headers;
  };
  virtual Status PublishAndWait(std::string_view topic, std::vector<Record> records,
                                std::chrono::milliseconds timeout) {
    for (auto& r : records) {
      BORA_RETURN_IF_ERROR(PublishWithHeaders(topic, r.key, std::move(r.value), r.headers));
    }
    return Flush(timeout);
  }

  // Counts the acknowledgements of tracked publishes without waiting for them: `pending` goes back to 0 when
  // every tracked message was acknowledged; `error` holds the first failed delivery. Shared between the
  // publisher and the bus's delivery reports (hence the mutex).
  struct DeliveryTracker {
    mutable Mutex mu;
    size_t pending GUARDED_BY(mu) = 0;
    std::string error GUARDED_BY(mu);
    bool Done() const {
      MutexLock lock(mu);
      return pending == 0;
    }
    std::string Error() const {
      MutexLock lock(mu);
      return error;
    }
  };
  // Publishes and counts the message in `tracker` until it is acknowledged (ServeDeliveries serves the
  // acknowledgements that arrived). Buses whose Publish is durable when it returns (MemoryBus) count nothing.
  virtual Status PublishTracked(std::string_view topic, std::string_view key, std::string value,
                                const BusHeaders& headers,
                                const std::shared_ptr<DeliveryTracker>& tracker) {
    return PublishWithHeaders(topic, key, std::move(value), headers);
  }
  // PublishTracked of each record in order, as one step where a bus can do better (MemoryBus: one
  // lock, one journal write). Stops at the first error; `*published` counts the records published
  // before it. A record whose headers this bus cannot carry (kUnimplemented) goes without them.
  struct TrackedRecord {
    std::string_view topic;
    std::string_view key;
    std::string_view value;
    const BusHeaders* headers = nullptr;  // null: none
  };
  virtual Status PublishManyTracked(const std::vector<TrackedRecord>& records,
                                    const std::shared_ptr<DeliveryTracker>& tracker,
                                    size_t* published) {
    static const BusHeaders kNone;
    *published = 0;
    for (const auto& r : records) {
      const BusHeaders& headers = r.headers != nullptr ? *r.headers : kNone;
      Status s = PublishTracked(r.topic, r.key, std::string(r.value), headers, tracker);
      if (s.code() == StatusCode::kUnimplemented && !headers.empty()) {
        s = PublishTracked(r.topic, r.key, std::string(r.value), kNone, tracker);
      }
      BORA_RETURN_IF_ERROR(s);
      ++*published;
    }
    return Status::Ok();
  }
  // Serves the acknowledgements (delivery reports) that arrived since the last call; never blocks.
  virtual void ServeDeliveries() {}
  virtual Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerOptions& options) = 0;
};

// Kafka's default partitioner for keyed messages: toPositive(murmur2(key)) % partitions.
int PartitionForKey(std::string_view key, int partitions);

}  // namespace bora
