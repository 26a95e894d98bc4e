#pragma once
// KafkaBus: the Bus on Apache Kafka through librdkafka (C API).
//
// Producer: idempotent (enable.idempotence=true, acks=all), Kafka's murmur2 partitioner for keyed messages (the
// same placement as MemoryBus and Java clients). Publish() enqueues; Flush() waits until every enqueued message
// is acknowledged and reports any delivery failure since the previous Flush — callers that need durability
// (the orchestrator before acknowledging its outbox) call Flush.
// Consumers: a consumer group with cooperative-sticky assignment; offsets are never committed to Kafka (the
// owner stores them with its state and seeks on assignment); auto.offset.reset=earliest.
//
// Thread-safety: Publish/Flush/CreateTopic/PartitionCount from any thread. A Consumer from one thread at a
// time; its RebalanceListener runs inside Poll on that thread.
#include <memory>
#include <string>

#include "common/bus/bus.h"

namespace bora {

struct KafkaBusOptions {
  std::string brokers;                 // "host:port[,host:port]"
  std::string client_id = "bora";
  int linger_ms = 0;                   // producer batching delay (librdkafka still batches what queues while
                                       // requests are in flight; 1 ms cost ~1 ms per produce leg at low load)
  int session_timeout_ms = 10000;      // consumer group session timeout (failure detection)
  int max_poll_interval_ms = 300000;
  // Replication factor of the topics CreateTopic makes (when they are missing); kAutoReplication:
  // min(3, brokers the cluster's metadata lists). From 3 on the topics get min.insync.replicas=2,
  // so with acks=all an acknowledged message is on two brokers at least, and one broker may fail
  // without stopping producers.
  static constexpr int kAutoReplication = 0;
  int replication_factor = kAutoReplication;
  // Topic-level max.message.bytes of the topics CreateTopic makes: the bus message limit
  // (sdk/protocol kMaxMessageBytes, 8 MiB) plus room for the record batch's own bytes. The
  // broker's default (1 MiB) would refuse results the protocol accepts.
  int64_t topic_max_message_bytes = (8 << 20) + (64 << 10);
};

class KafkaBus final : public Bus {
 public:
  // Creates the producer. Errors (bad configuration) are reported by Create, never by a crash.
  static Result<std::unique_ptr<KafkaBus>> Create(const KafkaBusOptions& options);
  ~KafkaBus() override;

  Status CreateTopic(std::string_view topic, int partitions) override;
  Result<int> PartitionCount(std::string_view topic) override;
  Status Publish(std::string_view topic, std::string_view key, std::string value) override;
  Status PublishWithHeaders(std::string_view topic, std::string_view key, std::string value,
                            const BusHeaders& headers) override;
  Status Flush(std::chrono::milliseconds timeout) override;
  // Waits for these records' own delivery reports (not for the whole producer queue).
  Status PublishAndWait(std::string_view topic, std::vector<Record> records,
                        std::chrono::milliseconds timeout) override;
  Status PublishTracked(std::string_view topic, std::string_view key, std::string value,
                        const BusHeaders& headers,
                        const std::shared_ptr<DeliveryTracker>& tracker) override;
  void ServeDeliveries() override;
  Result<std::unique_ptr<Consumer>> Subscribe(const ConsumerOptions& options) override;

  struct Impl;
  // One producev with retries while the local queue is full; `opaque` is handed to the delivery report.
  Status Produce(const std::string& topic, std::string_view key, std::string_view value,
                 const BusHeaders& headers, void* opaque);

 private:
  explicit KafkaBus(std::unique_ptr<Impl> impl);
  // Waits (at most 30 s) until every partition of `topic` has a leader that serves requests.
  Status WaitForLeaders(const std::string& topic, int partitions);
  // The replication factor a new topic gets (options' replication_factor, or the auto rule).
  Result<int> TopicReplicationFactor();
  std::unique_ptr<Impl> impl_;
};

}  // namespace bora
