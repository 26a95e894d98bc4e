#include "tests/integration/kafka_cluster_service.h"

#include <librdkafka/rdkafka.h>

#include <array>
#include <cstdio>
#include <memory>

namespace bora::testing {

namespace {

// Runs scripts/kafka_cluster.sh with `args` on the fixture's folder; its stdout.
Result<std::string> RunScript(const std::string& args) {
  const std::string cmd = "BORA_SERVICES_DIR='" BORA_KAFKA_CLUSTER_SERVICES_DIR
                          "' bash '" BORA_SOURCE_DIR "/scripts/kafka_cluster.sh' " +
                          args;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return Internal("popen failed: " + cmd);
  std::array<char, 512> buf;
  std::string out;
  while (fgets(buf.data(), static_cast<int>(buf.size()), p) != nullptr) out += buf.data();
  const int rc = pclose(p);
  if (rc != 0) {
    return Unavailable(
        "scripts/kafka_cluster.sh " + args + " failed (" + std::to_string(rc) +
        "); the CTest fixture kafka_cluster starts the cluster (ctest -R kafka_cluster), "
        "or run BORA_SERVICES_DIR=" BORA_KAFKA_CLUSTER_SERVICES_DIR
        " scripts/kafka_cluster.sh start");
  }
  return out;
}

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using RdKafka = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;

Result<RdKafka> Connect(const std::string& brokers) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(errstr);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(errstr);
  }
  return RdKafka(rk);
}

Status ReadPartitions(rd_kafka_t* rk, const std::string& topic, KafkaTopicInfo& info) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
  rd_kafka_topic_destroy(rkt);
  if (err) return Unavailable("metadata of " + topic + ": " + rd_kafka_err2str(err));
  Status result = NotFound("no topic " + topic);
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& mt = md->topics[t];
    if (topic != mt.topic || mt.err != RD_KAFKA_RESP_ERR_NO_ERROR || mt.partition_cnt == 0)
      continue;
    info.replicas.assign(static_cast<size_t>(mt.partition_cnt), 0);
    info.in_sync.assign(static_cast<size_t>(mt.partition_cnt), 0);
    info.leaders.assign(static_cast<size_t>(mt.partition_cnt), -1);
    for (int i = 0; i < mt.partition_cnt; ++i) {
      const rd_kafka_metadata_partition_t& p = mt.partitions[i];
      if (p.id < 0 || p.id >= mt.partition_cnt) continue;
      info.replicas[static_cast<size_t>(p.id)] = p.replica_cnt;
      info.in_sync[static_cast<size_t>(p.id)] = p.isr_cnt;
      info.leaders[static_cast<size_t>(p.id)] = p.leader;
    }
    result = Status::Ok();
  }
  rd_kafka_metadata_destroy(md);
  return result;
}

Status ReadMinInsync(rd_kafka_t* rk, const std::string& topic, KafkaTopicInfo& info) {
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_DescribeConfigs(rk, &resource, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  Status result = NotFound("no min.insync.replicas in the configuration of " + topic);
  if (ev == nullptr) {
    result = DeadlineExceeded("DescribeConfigs of " + topic + " timed out");
  } else if (rd_kafka_event_error(ev)) {
    result = Unavailable("DescribeConfigs of " + topic + ": " + rd_kafka_event_error_string(ev));
  } else {
    size_t resources = 0;
    const rd_kafka_ConfigResource_t** res = rd_kafka_DescribeConfigs_result_resources(
        rd_kafka_event_DescribeConfigs_result(ev), &resources);
    for (size_t r = 0; r < resources; ++r) {
      if (rd_kafka_ConfigResource_error(res[r])) {
        result = Unavailable("DescribeConfigs of " + topic + ": " +
                             rd_kafka_err2str(rd_kafka_ConfigResource_error(res[r])));
        continue;
      }
      size_t entries = 0;
      const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(res[r], &entries);
      for (size_t e = 0; e < entries; ++e) {
        if (std::string(rd_kafka_ConfigEntry_name(configs[e])) != "min.insync.replicas") continue;
        const char* value = rd_kafka_ConfigEntry_value(configs[e]);
        info.min_insync_replicas = value ? value : "";
        info.min_insync_on_topic =
            rd_kafka_ConfigEntry_source(configs[e]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
        result = Status::Ok();
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_ConfigResource_destroy(resource);
  return result;
}

}  // namespace

Result<std::string> KafkaClusterBrokers() {
  BORA_ASSIGN_OR_RETURN(std::string out, RunScript("env"));
  const std::string var = "BORA_KAFKA_CLUSTER=";
  const auto at = out.find(var);
  if (at == std::string::npos)
    return Unavailable("kafka_cluster.sh env printed no BORA_KAFKA_CLUSTER");
  const auto end = out.find('\n', at);
  return out.substr(at + var.size(),
                    end == std::string::npos ? std::string::npos : end - at - var.size());
}

Status KillKafkaNode(int node) { return RunScript("kill " + std::to_string(node)).status(); }

Status ReviveKafkaNode(int node) { return RunScript("revive " + std::to_string(node)).status(); }

Result<KafkaTopicInfo> DescribeKafkaTopic(const std::string& brokers, const std::string& topic) {
  BORA_ASSIGN_OR_RETURN(RdKafka rk, Connect(brokers));
  KafkaTopicInfo info;
  BORA_RETURN_IF_ERROR(ReadPartitions(rk.get(), topic, info));
  BORA_RETURN_IF_ERROR(ReadMinInsync(rk.get(), topic, info));
  return info;
}

Result<KafkaTopicInfo> DescribeKafkaPartitions(const std::string& brokers,
                                               const std::string& topic) {
  BORA_ASSIGN_OR_RETURN(RdKafka rk, Connect(brokers));
  KafkaTopicInfo info;
  BORA_RETURN_IF_ERROR(ReadPartitions(rk.get(), topic, info));
  return info;
}

}  // namespace bora::testing
