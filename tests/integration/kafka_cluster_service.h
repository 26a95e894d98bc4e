#pragma once
// The three-broker Kafka cluster of scripts/kafka_cluster.sh (KRaft, replication factor 3,
// min.insync.replicas=2) for tests: the CTest fixture `kafka_cluster`
// (tests/integration/CMakeLists.txt) starts it once, in the build folder's services directory, for
// every test that requires the fixture, and stops it after the last one. Also what the admin API
// says about a topic on it.
#include <string>
#include <vector>

#include "common/status.h"

namespace bora::testing {

// "host:port,host:port,host:port" of the running cluster (`kafka_cluster.sh env`).
Result<std::string> KafkaClusterBrokers();
// kill -9 of node `node` (1-3, which is also its Kafka node.id), keeping its ports and data.
Status KillKafkaNode(int node);
// Starts `node` again on the same ports with the same data; returns once the metadata lists 3
// brokers.
Status ReviveKafkaNode(int node);

struct KafkaTopicInfo {
  std::vector<int> replicas;        // replica count, per partition
  std::vector<int> in_sync;         // in-sync replica count, per partition
  std::vector<int> leaders;         // leader's node id, per partition (-1: none)
  std::string min_insync_replicas;  // the topic's effective min.insync.replicas
  bool min_insync_on_topic =
      false;  // set on the topic itself (not inherited from the broker default)
};
// The topic's partitions (metadata) and its min.insync.replicas (DescribeConfigs), through
// librdkafka's admin API.
Result<KafkaTopicInfo> DescribeKafkaTopic(const std::string& brokers, const std::string& topic);
// The partitions only (one metadata request; the min.insync.replicas fields stay empty).
Result<KafkaTopicInfo> DescribeKafkaPartitions(const std::string& brokers,
                                               const std::string& topic);

}  // namespace bora::testing
