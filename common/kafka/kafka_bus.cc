#include "common/kafka/kafka_bus.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "common/log.h"
#include "common/metrics/metrics.h"
#include "common/thread_annotations.h"

namespace bora {

namespace {

using namespace std::chrono_literals;

// Reconnection to a broker backs off exponentially up to this (librdkafka's default is 10 s): a restarted
// broker is found again within a second.
constexpr char kReconnectBackoffMaxMs[] = "1000";

std::string ErrName(rd_kafka_resp_err_t err) { return rd_kafka_err2str(err); }

// Sets `key=value` on `conf`; returns an error naming the property.
Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
    return InvalidArgument("kafka config " + key + "=" + value + ": " + errstr);
  }
  return Status::Ok();
}

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const {
    if (c) rd_kafka_conf_destroy(c);
  }
};

}  // namespace

// What PublishAndWait waits on and PublishTracked counts in: delivery reports count `pending` down.
using DeliveryWaiter = Bus::DeliveryTracker;

struct KafkaBus::Impl {
  KafkaBusOptions options;
  rd_kafka_t* producer = nullptr;
  Mutex mu;
  std::string first_delivery_error GUARDED_BY(mu);  // since the last Flush
  uint64_t delivery_errors GUARDED_BY(mu) = 0;

  ~Impl() {
    if (producer) {
      rd_kafka_flush(producer, 5000);
      rd_kafka_destroy(producer);
    }
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->_private != nullptr) {  // a PublishAndWait record
      auto* handle = static_cast<std::shared_ptr<DeliveryWaiter>*>(m->_private);
      {
        MutexLock lock((*handle)->mu);
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && (*handle)->error.empty()) {
          (*handle)->error = std::string("delivery to ") + rd_kafka_topic_name(m->rkt) +
                             " failed: " + ErrName(m->err);
        }
        --(*handle)->pending;
      }
      delete handle;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) metrics::KafkaProduceError();
      return;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    metrics::KafkaProduceError();
    auto* self = static_cast<Impl*>(opaque);
    MutexLock lock(self->mu);
    if (self->delivery_errors++ == 0) {
      self->first_delivery_error = std::string("delivery to ") + rd_kafka_topic_name(m->rkt) + " failed: " +
                                   ErrName(m->err);
    }
  }
};

namespace {

class KafkaConsumer final : public Consumer {
 public:
  KafkaConsumer(ConsumerOptions options) : options_(std::move(options)) {}
  ~KafkaConsumer() override {
    if (rk_ == nullptr) return;
    closing_ = true;  // no listener callbacks while closing: the listener may already be gone
    AwaitFirstAssignment();
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }

  // librdkafka before 2.3 (Debian 12 has 2.0.2) aborts in rd_kafka_destroy (assertion `assignor_state` in
  // rd_kafka_sticky_assignor_state_destroy, librdkafka issue #4312) when a cooperative-sticky consumer is
  // destroyed after joining its group but before its first assignment. So a consumer that has a member id
  // and has not been assigned yet waits (at most 10 s) for that assignment before closing; messages polled
  // meanwhile are dropped (offsets are not committed: the next owner reads them again).
  void AwaitFirstAssignment() {
    if (assigned_once_) return;
    char* member = rd_kafka_memberid(rk_);
    const bool joined = member != nullptr && *member != 0;
    if (member) rd_kafka_mem_free(rk_, member);
    if (!joined) return;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!assigned_once_ && std::chrono::steady_clock::now() < deadline) {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 50)) rd_kafka_message_destroy(m);
    }
  }

  Status Init(const KafkaBusOptions& bus) {
    std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
    BORA_RETURN_IF_ERROR(Set(conf.get(), "bootstrap.servers", bus.brokers));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "client.id", bus.client_id));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "group.id", options_.group));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "enable.auto.commit", "false"));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "enable.auto.offset.store", "false"));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "auto.offset.reset", "earliest"));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "partition.assignment.strategy", "cooperative-sticky"));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "session.timeout.ms", std::to_string(bus.session_timeout_ms)));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "heartbeat.interval.ms",
                             std::to_string(std::max(100, bus.session_timeout_ms / 5))));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "max.poll.interval.ms", std::to_string(bus.max_poll_interval_ms)));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "fetch.wait.max.ms", "10"));
    // Small request/response messages: without this, Nagle plus delayed ACKs add ~40 ms per hop.
    BORA_RETURN_IF_ERROR(Set(conf.get(), "socket.nagle.disable", "true"));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "reconnect.backoff.max.ms", kReconnectBackoffMaxMs));
    BORA_RETURN_IF_ERROR(Set(conf.get(), "allow.auto.create.topics", "false"));
    rd_kafka_conf_set_rebalance_cb(conf.get(), &KafkaConsumer::OnRebalance);
    rd_kafka_conf_set_opaque(conf.get(), this);
    char errstr[512];
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof(errstr));
    if (rk_ == nullptr) return InvalidArgument(std::string("kafka consumer: ") + errstr);
    conf.release();  // owned by rk_ now
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics =
        rd_kafka_topic_partition_list_new(static_cast<int>(options_.topics.size()));
    for (const auto& t : options_.topics) {
      rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) return Unavailable("kafka subscribe: " + ErrName(err));
    return Status::Ok();
  }

  Result<std::vector<BusMessage>> Poll(size_t max_messages, std::chrono::milliseconds timeout) override {
    std::vector<BusMessage> out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < max_messages) {
      auto now = std::chrono::steady_clock::now();
      int wait_ms = 0;
      if (out.empty() && now < deadline && !woken_) {
        wait_ms = static_cast<int>(std::min<int64_t>(
            100, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count()));
      }
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, wait_ms);
      if (m == nullptr) {
        if (!out.empty() || woken_ || std::chrono::steady_clock::now() >= deadline) break;
        continue;
      }
      if (m->err) {
        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          metrics::KafkaConsumeError();
          BORA_LOG_WARN("kafka consumer: {}", rd_kafka_message_errstr(m));
        }
        rd_kafka_message_destroy(m);
        continue;
      }
      BusMessage bm;
      bm.topic = rd_kafka_topic_name(m->rkt);
      bm.partition = m->partition;
      bm.offset = m->offset;
      if (m->key) bm.key.assign(static_cast<const char*>(m->key), m->key_len);
      if (m->payload) bm.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* hdrs = nullptr;
      if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs != nullptr) {
        const char* name = nullptr;
        const void* val = nullptr;
        size_t size = 0;
        for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) ==
                           RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          bm.headers.emplace_back(name, val ? std::string(static_cast<const char*>(val), size)
                                            : std::string());
        }
      }
      rd_kafka_message_destroy(m);
      out.push_back(std::move(bm));
    }
    woken_ = false;
    UpdateLagMetrics();
    return out;
  }

  Status Seek(const TopicPartition& tp, int64_t offset) override {
    if (in_rebalance_) {
      pending_seeks_[tp] = offset;  // applied to the assignment being made
      return Status::Ok();
    }
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)->offset = offset;
    rd_kafka_error_t* error = rd_kafka_seek_partitions(rk_, list, 10000);
    rd_kafka_topic_partition_list_destroy(list);
    if (error) {
      std::string msg = rd_kafka_error_string(error);
      rd_kafka_error_destroy(error);
      return Unavailable("kafka seek " + tp.topic + "/" + std::to_string(tp.partition) + ": " + msg);
    }
    return Status::Ok();
  }

  std::vector<TopicPartition> Assignment() const override {
    std::vector<TopicPartition> out;
    rd_kafka_topic_partition_list_t* list = nullptr;
    if (rd_kafka_assignment(rk_, &list) != RD_KAFKA_RESP_ERR_NO_ERROR || list == nullptr) return out;
    for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
    rd_kafka_topic_partition_list_destroy(list);
    return out;
  }

  void Wakeup() override { woken_ = true; }

  Status Commit(const TopicPartition& tp, int64_t offset) override {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition)->offset = offset;
    rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list, /*async=*/1);
    rd_kafka_topic_partition_list_destroy(list);
    if (err) return Unavailable("kafka commit " + tp.topic + ": " + ErrName(err));
    return Status::Ok();
  }

 private:
  // bora_kafka_consumer_lag_messages per assigned partition (high watermark - position), from librdkafka's
  // cached watermarks (no broker round trip), at most once a second.
  void UpdateLagMetrics() {
    auto now = std::chrono::steady_clock::now();
    if (now < next_lag_update_) return;
    next_lag_update_ = now + 1s;
    rd_kafka_topic_partition_list_t* list = nullptr;
    if (rd_kafka_assignment(rk_, &list) != RD_KAFKA_RESP_ERR_NO_ERROR || list == nullptr) return;
    rd_kafka_position(rk_, list);
    std::set<std::pair<std::string, int>> reported;
    for (int i = 0; i < list->cnt; ++i) {
      const auto& e = list->elems[i];
      reported.emplace(e.topic, e.partition);
      int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(rk_, e.topic, e.partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        continue;
      }
      int64_t position = e.offset >= 0 ? e.offset : low;
      metrics::SetConsumerLag(e.topic, e.partition, high - position);
    }
    rd_kafka_topic_partition_list_destroy(list);
    // Partitions given away: their lag is the new owner's to report.
    for (const auto& [topic, partition] : lag_reported_) {
      if (!reported.contains({topic, partition})) metrics::SetConsumerLag(topic, partition, 0);
    }
    lag_reported_ = std::move(reported);
  }

  static std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
    std::vector<TopicPartition> out;
    for (int i = 0; i < list->cnt; ++i) out.push_back({list->elems[i].topic, list->elems[i].partition});
    return out;
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<KafkaConsumer*>(opaque);
    const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    RebalanceListener* listener = self->closing_ ? nullptr : self->options_.listener;
    metrics::KafkaRebalance(err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS   ? "assign"
                            : err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? "revoke"
                                                                          : "error");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->assigned_once_ = true;
      self->in_rebalance_ = true;
      self->pending_seeks_.clear();
      if (listener) listener->OnAssigned(ToVector(partitions));
      self->in_rebalance_ = false;
      for (int i = 0; i < partitions->cnt; ++i) {
        auto it = self->pending_seeks_.find({partitions->elems[i].topic, partitions->elems[i].partition});
        if (it != self->pending_seeks_.end()) partitions->elems[i].offset = it->second;
      }
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) {
          BORA_LOG_ERROR("kafka incremental assign: {}", rd_kafka_error_string(e));
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, partitions);
      }
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      if (listener) listener->OnRevoked(ToVector(partitions));
      if (cooperative) {
        if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) {
          rd_kafka_error_destroy(e);
        }
      } else {
        rd_kafka_assign(rk, nullptr);
      }
    } else {
      BORA_LOG_WARN("kafka rebalance error: {}", ErrName(err));
      if (listener) listener->OnRevoked(ToVector(partitions));
      rd_kafka_assign(rk, nullptr);
    }
  }

  ConsumerOptions options_;
  rd_kafka_t* rk_ = nullptr;
  std::atomic<bool> woken_{false};
  bool closing_ = false;
  bool assigned_once_ = false;  // an assignment (even an empty one) came: see AwaitFirstAssignment
  bool in_rebalance_ = false;
  std::map<TopicPartition, int64_t> pending_seeks_;
  std::chrono::steady_clock::time_point next_lag_update_;
  std::set<std::pair<std::string, int>> lag_reported_;
};

}  // namespace

KafkaBus::KafkaBus(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaBus::~KafkaBus() = default;

Result<std::unique_ptr<KafkaBus>> KafkaBus::Create(const KafkaBusOptions& options) {
  if (options.brokers.empty()) return InvalidArgument("kafka: no brokers given");
  if (options.replication_factor < 0) {
    return InvalidArgument("kafka: the replication factor is a positive number (or auto)");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::unique_ptr<rd_kafka_conf_t, ConfDeleter> conf(rd_kafka_conf_new());
  BORA_RETURN_IF_ERROR(Set(conf.get(), "bootstrap.servers", options.brokers));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "client.id", options.client_id));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "enable.idempotence", "true"));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "acks", "all"));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "linger.ms", std::to_string(options.linger_ms)));
  // One produce request in flight per broker connection: a batch the broker refuses is retried before the
  // next one is sent. With several in flight, librdkafka 2.0 counts a refused batch as acknowledged when a
  // later batch of the same partition succeeds ("implicitly acked"), which loses it when a partition's leader
  // is not serving yet or changes (see WaitForLeaders). Batching still happens: what queues while a request is
  // in flight goes in the next one. (Measured: no throughput or latency difference against 5 in flight.)
  BORA_RETURN_IF_ERROR(Set(conf.get(), "max.in.flight.requests.per.connection", "1"));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "partitioner", "murmur2_random"));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "socket.nagle.disable", "true"));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "reconnect.backoff.max.ms", kReconnectBackoffMaxMs));
  BORA_RETURN_IF_ERROR(Set(conf.get(), "message.max.bytes", std::to_string(16 << 20)));
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &Impl::OnDelivery);
  rd_kafka_conf_set_opaque(conf.get(), impl.get());
  char errstr[512];
  impl->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr));
  if (impl->producer == nullptr) return InvalidArgument(std::string("kafka producer: ") + errstr);
  conf.release();
  return std::unique_ptr<KafkaBus>(new KafkaBus(std::move(impl)));
}

// Metadata can name a new partition's leader a few ms before that broker serves it. A new producer whose first
// batch there is refused ("not leader") while its next, pipelined batch is accepted loses the first one: the
// broker takes any first sequence number from a producer it has no state for, and librdkafka 2.0 counts the
// refused batch as acknowledged by the later success ("implicitly acked"). So wait until every partition's
// leader answers ListOffsets before anyone produces.
Status KafkaBus::WaitForLeaders(const std::string& topic, int partitions) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    rd_kafka_resp_err_t err;
    while ((err = rd_kafka_query_watermark_offsets(impl_->producer, topic.c_str(), p, &low, &high, 1000)) !=
           RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (std::chrono::steady_clock::now() >= deadline) {
        return Unavailable("kafka topic " + topic + " partition " + std::to_string(p) +
                           " has no serving leader: " + ErrName(err));
      }
      std::this_thread::sleep_for(10ms);  // leader election in progress; bounded by the deadline
    }
  }
  return Status::Ok();
}

Result<int> KafkaBus::TopicReplicationFactor() {
  if (impl_->options.replication_factor != KafkaBusOptions::kAutoReplication) {
    return impl_->options.replication_factor;
  }
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->producer, 0, nullptr, &md, 10000);
  if (err) return Unavailable("kafka metadata (brokers): " + ErrName(err));
  const int brokers = md->broker_cnt;
  rd_kafka_metadata_destroy(md);
  return std::clamp(brokers, 1, 3);
}

Status KafkaBus::CreateTopic(std::string_view topic_view, int partitions) {
  if (partitions < 1) return InvalidArgument("a topic needs at least one partition");
  std::string topic(topic_view);
  BORA_ASSIGN_OR_RETURN(const int replication, TopicReplicationFactor());
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, replication, errstr, sizeof(errstr));
  if (nt == nullptr) return InvalidArgument("kafka topic " + topic + ": " + errstr);
  std::vector<std::pair<std::string, std::string>> configs = {
      {"max.message.bytes", std::to_string(impl_->options.topic_max_message_bytes)}};
  // An acknowledged (acks=all) message is then on two brokers at least, and one broker may be down.
  if (replication >= 3) configs.emplace_back("min.insync.replicas", "2");
  for (const auto& [key, value] : configs) {
    if (rd_kafka_NewTopic_set_config(nt, key.c_str(), value.c_str()) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(nt);
      return InvalidArgument("kafka topic " + topic + ": cannot set " + key);
    }
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(impl_->producer);
  rd_kafka_CreateTopics(impl_->producer, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  Status result = Status::Ok();
  if (ev == nullptr) {
    result = DeadlineExceeded("kafka: creating topic " + topic + " timed out");
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t** trs = res ? rd_kafka_CreateTopics_result_topics(res, &cnt) : nullptr;
    if (rd_kafka_event_error(ev)) {
      result = Unavailable("kafka create topic " + topic + ": " + rd_kafka_event_error_string(ev));
    } else if (cnt == 1) {
      rd_kafka_resp_err_t err = rd_kafka_topic_result_error(trs[0]);
      if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* detail = rd_kafka_topic_result_error_string(trs[0]);
        result =
            Unavailable("kafka create topic " + topic + " (replication factor " +
                        std::to_string(replication) + "): " + (detail ? detail : ErrName(err)));
      } else if (!err) {
        BORA_LOG_INFO("kafka: created topic {} ({} partitions, replication factor {})", topic,
                      partitions, replication);
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  BORA_RETURN_IF_ERROR(result);
  // Wait until metadata shows the partitions, so producers place keys right from the first message.
  for (int i = 0; i < 100; ++i) {
    auto n = PartitionCount(topic);
    if (n.ok() && *n >= 1) {
      if (*n != partitions) {
        return AlreadyExists("topic " + topic + " exists with " + std::to_string(*n) + " partitions");
      }
      return WaitForLeaders(topic, partitions);
    }
    std::this_thread::sleep_for(100ms);  // metadata propagation; bounded
  }
  return DeadlineExceeded("kafka: topic " + topic + " did not appear in metadata");
}

Result<int> KafkaBus::PartitionCount(std::string_view topic_view) {
  std::string topic(topic_view);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(impl_->producer, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(impl_->producer, 0, rkt, &md, 10000);
  rd_kafka_topic_destroy(rkt);
  if (err) return Unavailable("kafka metadata for " + topic + ": " + ErrName(err));
  Result<int> out = NotFound("no topic " + topic);
  for (int i = 0; i < md->topic_cnt; ++i) {
    if (topic == md->topics[i].topic && md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
        md->topics[i].partition_cnt > 0) {
      out = md->topics[i].partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

Status KafkaBus::Publish(std::string_view topic, std::string_view key, std::string value) {
  return PublishWithHeaders(topic, key, std::move(value), {});
}

Status KafkaBus::PublishWithHeaders(std::string_view topic, std::string_view key, std::string value,
                                    const BusHeaders& headers) {
  return Produce(std::string(topic), key, value, headers, nullptr);
}

Status KafkaBus::Produce(const std::string& t, std::string_view key, std::string_view value,
                         const BusHeaders& headers, void* opaque) {
  for (int attempt = 0; attempt < 600; ++attempt) {
    rd_kafka_resp_err_t err;
    if (headers.empty()) {
      err = rd_kafka_producev(impl_->producer, RD_KAFKA_V_TOPIC(t.c_str()),
                              RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_END);
    } else {
      // The producer takes ownership of the headers only on success.
      rd_kafka_headers_t* hdrs = rd_kafka_headers_new(headers.size());
      for (const auto& [name, val] : headers) {
        rd_kafka_header_add(hdrs, name.data(), static_cast<ssize_t>(name.size()), val.data(),
                            static_cast<ssize_t>(val.size()));
      }
      err = rd_kafka_producev(impl_->producer, RD_KAFKA_V_TOPIC(t.c_str()),
                              RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(opaque),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) rd_kafka_headers_destroy(hdrs);
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_poll(impl_->producer, 0);  // serve delivery reports
      return Status::Ok();
    }
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      metrics::KafkaProduceError();
      return Unavailable("kafka produce to " + t + ": " + ErrName(err));
    }
    rd_kafka_poll(impl_->producer, 100);  // queue full: wait for deliveries
  }
  return Unavailable("kafka produce to " + t + ": the local queue stayed full for 60 s");
}

Status KafkaBus::PublishTracked(std::string_view topic, std::string_view key, std::string value,
                                const BusHeaders& headers,
                                const std::shared_ptr<DeliveryTracker>& tracker) {
  {
    MutexLock lock(tracker->mu);
    ++tracker->pending;
  }
  // The delivery report owns (and deletes) this handle; if the produce fails there is no report.
  auto* handle = new std::shared_ptr<DeliveryTracker>(tracker);
  Status s = Produce(std::string(topic), key, value, headers, handle);
  if (!s.ok()) {
    delete handle;
    MutexLock lock(tracker->mu);
    --tracker->pending;
    if (tracker->error.empty()) tracker->error = s.message();
  }
  return s;
}

void KafkaBus::ServeDeliveries() {
  // Serves the delivery reports that arrived; does not wait. (A zero-timeout rd_kafka_flush does not send
  // before linger.ms either: librdkafka 2.0 clears its "flushing" flag before the broker thread wakes up.)
  rd_kafka_poll(impl_->producer, 0);
}

Status KafkaBus::PublishAndWait(std::string_view topic, std::vector<Record> records,
                                std::chrono::milliseconds timeout) {
  auto waiter = std::make_shared<DeliveryWaiter>();
  std::string t(topic);
  for (auto& r : records) {
    {
      MutexLock lock(waiter->mu);
      ++waiter->pending;
    }
    // The delivery report owns (and deletes) this handle; if the produce fails there is no report.
    auto* handle = new std::shared_ptr<DeliveryWaiter>(waiter);
    Status s = Produce(t, r.key, r.value, r.headers, handle);
    if (!s.ok()) {
      delete handle;
      return s;  // earlier records may still be delivered: the caller reports the failure, not success
    }
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    {
      MutexLock lock(waiter->mu);
      if (waiter->pending == 0) {
        if (!waiter->error.empty()) return Unavailable(waiter->error);
        return Status::Ok();
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded("kafka: " + std::to_string(records.size()) +
                              " message(s) still unacknowledged after " + std::to_string(timeout.count()) +
                              " ms");
    }
    // Serves delivery reports (any thread's); ours may also be served by another thread's poll.
    rd_kafka_poll(impl_->producer, 2);
  }
}

Status KafkaBus::Flush(std::chrono::milliseconds timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(impl_->producer, static_cast<int>(timeout.count()));
  MutexLock lock(impl_->mu);
  if (impl_->delivery_errors > 0) {
    std::string msg = impl_->first_delivery_error + " (" + std::to_string(impl_->delivery_errors) +
                      " failed deliveries)";
    impl_->delivery_errors = 0;
    impl_->first_delivery_error.clear();
    return Unavailable(msg);
  }
  if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return DeadlineExceeded("kafka flush: messages still unacknowledged after " +
                            std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

Result<std::unique_ptr<Consumer>> KafkaBus::Subscribe(const ConsumerOptions& options) {
  if (options.group.empty()) return InvalidArgument("a consumer needs a group");
  auto consumer = std::make_unique<KafkaConsumer>(options);
  BORA_RETURN_IF_ERROR(consumer->Init(impl_->options));
  return std::unique_ptr<Consumer>(std::move(consumer));
}

}  // namespace bora
