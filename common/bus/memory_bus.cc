#include "common/bus/memory_bus.h"

#include <algorithm>

namespace bora {

class MemoryBus::MemoryConsumer final : public Consumer {
 public:
  MemoryConsumer(MemoryBus* bus, ConsumerOptions options) : bus_(bus), options_(std::move(options)) {}
  ~MemoryConsumer() override { bus_->Leave(this); }

  Result<std::vector<BusMessage>> Poll(size_t max_messages,
                                       std::chrono::milliseconds timeout) override {
    DeliverRebalance();
    std::vector<BusMessage> out;
    MutexLock lock(bus_->mu_);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      uint64_t seen = bus_->version_;
      Collect(max_messages, &out);
      if (!out.empty() || woken_ || RebalancePending()) break;
      ++bus_->waiters_;
      bool changed = bus_->cv_.WaitUntil(bus_->mu_, deadline, [&] {
        bus_->mu_.AssertHeld();
        return bus_->version_ != seen || woken_;
      });
      --bus_->waiters_;
      if (changed) continue;
      break;  // timed out
    }
    woken_ = false;
    return out;
  }

  Status Seek(const TopicPartition& tp, int64_t offset) override {
    MutexLock lock(bus_->mu_);
    positions_[tp] = offset;
    return Status::Ok();
  }

  std::vector<TopicPartition> Assignment() const override {
    MutexLock lock(bus_->mu_);
    return {assigned_.begin(), assigned_.end()};
  }

  void Wakeup() override {
    MutexLock lock(bus_->mu_);
    woken_ = true;
    bus_->cv_.NotifyAll();
  }

  Status Commit(const TopicPartition& tp, int64_t offset) override {
    MutexLock lock(bus_->mu_);
    auto& committed = bus_->groups_[options_.group].committed;
    if (auto it = committed.find(tp); it != committed.end() && it->second == offset) {
      return Status::Ok();
    }
    if (bus_->journal_) BORA_RETURN_IF_ERROR(bus_->journal_->Commit(options_.group, tp, offset));
    committed[tp] = offset;
    return Status::Ok();
  }

  const ConsumerOptions& options() const { return options_; }

  // Requires bus_->mu_. Not annotated: MemoryBus::Rebalance calls it through the group's member
  // list, where the analysis cannot see that each member's bus_ is `this`.
  void SetAssignment(const std::set<TopicPartition>& next) NO_THREAD_SAFETY_ANALYSIS {
    for (const auto& tp : assigned_) {
      if (!next.contains(tp)) positions_.erase(tp);
    }
    const auto& committed = bus_->groups_[options_.group].committed;
    for (const auto& tp : next) {
      if (assigned_.contains(tp)) continue;
      auto it = committed.find(tp);
      positions_.emplace(tp, it == committed.end() ? 0 : it->second);
    }
    assigned_ = next;
  }

  // Requires bus_->mu_: true when the listener has not yet been told about the current assignment.
  bool RebalancePending() const REQUIRES(bus_->mu_) { return delivered_ != assigned_; }

 private:
  // Tells the listener the difference between what it was told last and the current assignment, without
  // holding the bus lock (it may Seek).
  void DeliverRebalance() {
    std::vector<TopicPartition> assigned, revoked;
    {
      MutexLock lock(bus_->mu_);
      for (const auto& tp : delivered_) {
        if (!assigned_.contains(tp)) revoked.push_back(tp);
      }
      for (const auto& tp : assigned_) {
        if (!delivered_.contains(tp)) assigned.push_back(tp);
      }
      delivered_ = assigned_;
    }
    if (options_.listener == nullptr) return;
    if (!revoked.empty()) options_.listener->OnRevoked(revoked);
    if (!assigned.empty()) options_.listener->OnAssigned(assigned);
  }

  // Requires bus_->mu_. Takes messages from each assigned partition in turn.
  void Collect(size_t max_messages, std::vector<BusMessage>* out) REQUIRES(bus_->mu_) {
    for (const auto& tp : assigned_) {
      if (out->size() >= max_messages) return;
      auto t = bus_->topics_.find(tp.topic);
      if (t == bus_->topics_.end() || tp.partition >= static_cast<int>(t->second.partitions.size())) {
        continue;
      }
      const Partition& p = t->second.partitions[static_cast<size_t>(tp.partition)];
      int64_t& pos = positions_[tp];
      if (pos < p.trimmed) pos = p.trimmed;
      while (pos < p.end() && out->size() < max_messages) {
        out->push_back(p.log[static_cast<size_t>(pos - p.trimmed)]);
        ++pos;
      }
    }
  }

  MemoryBus* bus_;
  ConsumerOptions options_;
  std::set<TopicPartition> assigned_ GUARDED_BY(bus_->mu_);
  std::map<TopicPartition, int64_t> positions_ GUARDED_BY(bus_->mu_);
  std::set<TopicPartition> delivered_ GUARDED_BY(bus_->mu_);  // the assignment the listener knows
  bool woken_ GUARDED_BY(bus_->mu_) = false;
};

MemoryBus::MemoryBus() = default;
MemoryBus::~MemoryBus() = default;

Result<std::unique_ptr<MemoryBus>> MemoryBus::Open(std::unique_ptr<BusJournal> journal) {
  BORA_ASSIGN_OR_RETURN(BusJournal::Contents contents, journal->Load());
  auto bus = std::make_unique<MemoryBus>();
  MutexLock lock(bus->mu_);  // no other thread sees the bus yet: taken for the analysis only
  for (const auto& [name, partitions] : contents.topics) {
    Topic t;
    t.partitions.resize(static_cast<size_t>(std::max(1, partitions)));
    bus->topics_.emplace(name, std::move(t));
  }
  for (auto& log : contents.logs) {
    auto it = bus->topics_.find(log.tp.topic);
    if (it == bus->topics_.end() ||
        log.tp.partition >= static_cast<int>(it->second.partitions.size())) {
      return Internal("bus journal: messages of unknown partition " + log.tp.topic + "/" +
                      std::to_string(log.tp.partition));
    }
    Partition& p = it->second.partitions[static_cast<size_t>(log.tp.partition)];
    p.trimmed = log.first_offset;
    for (auto& m : log.messages) {
      if (m.offset != p.end()) {
        return Internal("bus journal: " + log.tp.topic + "/" + std::to_string(log.tp.partition) +
                        " has offset " + std::to_string(m.offset) + " where " +
                        std::to_string(p.end()) + " was expected");
      }
      m.topic = it->first;
      p.log.push_back(std::move(m));
    }
  }
  for (const auto& g : contents.positions) bus->groups_[g.group].committed[g.tp] = g.offset;
  bus->journal_ = std::move(journal);
  return bus;
}

Status MemoryBus::Flush(std::chrono::milliseconds) {
  return journal_ ? journal_->Sync() : Status::Ok();
}

Status MemoryBus::CreateTopic(std::string_view topic, int partitions) {
  if (partitions < 1) return InvalidArgument("a topic needs at least one partition");
  MutexLock lock(mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    if (static_cast<int>(it->second.partitions.size()) != partitions) {
      return AlreadyExists("topic " + std::string(topic) + " exists with " +
                           std::to_string(it->second.partitions.size()) + " partitions");
    }
    return Status::Ok();
  }
  if (journal_) BORA_RETURN_IF_ERROR(journal_->CreateTopic(topic, partitions));
  Topic t;
  t.partitions.resize(static_cast<size_t>(partitions));
  topics_.emplace(std::string(topic), std::move(t));
  for (auto& [name, group] : groups_) Rebalance(name);
  return Status::Ok();
}

Result<int> MemoryBus::PartitionCount(std::string_view topic) {
  MutexLock lock(mu_);
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFound("no topic " + std::string(topic));
  return static_cast<int>(it->second.partitions.size());
}

Status MemoryBus::Publish(std::string_view topic, std::string_view key, std::string value) {
  return PublishWithHeaders(topic, key, std::move(value), {});
}

Status MemoryBus::AppendLocked(std::string_view topic, std::string_view key, std::string&& value,
                               const BusHeaders& headers) {
  auto it = topics_.find(topic);
  if (it == topics_.end()) return NotFound("no topic " + std::string(topic));
  int partition = PartitionForKey(key, static_cast<int>(it->second.partitions.size()));
  Partition& p = it->second.partitions[static_cast<size_t>(partition)];
  BusMessage m;
  m.topic = it->first;
  m.partition = partition;
  m.offset = p.end();
  m.key = std::string(key);
  m.value = std::move(value);
  m.headers = headers;
  if (journal_) BORA_RETURN_IF_ERROR(journal_->Append({&m}));
  p.log.push_back(std::move(m));
  ++version_;
  return Status::Ok();
}

Status MemoryBus::PublishWithHeaders(std::string_view topic, std::string_view key,
                                     std::string value, const BusHeaders& headers) {
  MutexLock lock(mu_);
  BORA_RETURN_IF_ERROR(AppendLocked(topic, key, std::move(value), headers));
  // Wake pollers only when one waits (most publishes find none: a wakeup per message would turn the
  // orchestrator/worker pair into a ping-pong of context switches).
  bool wake = waiters_ > 0;
  lock.Unlock();  // the woken poller need not block on mu_ right away
  if (wake) cv_.NotifyAll();
  if (journal_) return journal_->AfterPublish();
  return Status::Ok();
}

Status MemoryBus::PublishBatch(std::vector<Outgoing>& batch, size_t* appended) {
  *appended = 0;
  MutexLock lock(mu_);
  if (journal_) {
    // Journalled as one write: place every message first, then make them visible together.
    std::vector<std::pair<Partition*, BusMessage>> placed;
    placed.reserve(batch.size());
    std::map<Partition*, int64_t> next;
    for (auto& r : batch) {
      auto it = topics_.find(r.topic);
      if (it == topics_.end()) return NotFound("no topic " + std::string(r.topic));
      int partition = PartitionForKey(r.key, static_cast<int>(it->second.partitions.size()));
      Partition* p = &it->second.partitions[static_cast<size_t>(partition)];
      auto [at, fresh] = next.emplace(p, p->end());
      BusMessage m;
      m.topic = it->first;
      m.partition = partition;
      m.offset = at->second++;
      m.key = std::string(r.key);
      m.value = std::move(r.value);
      if (r.headers != nullptr) m.headers = *r.headers;
      placed.emplace_back(p, std::move(m));
    }
    std::vector<const BusMessage*> messages;
    messages.reserve(placed.size());
    for (const auto& [p, m] : placed) messages.push_back(&m);
    if (Status s = journal_->Append(messages); !s.ok()) {
      for (size_t i = 0; i < placed.size(); ++i) batch[i].value = std::move(placed[i].second.value);
      return s;
    }
    for (auto& [p, m] : placed) p->log.push_back(std::move(m));
    version_ += placed.size();
    *appended = placed.size();
  } else {
    static const BusHeaders kNone;
    for (auto& r : batch) {
      BORA_RETURN_IF_ERROR(
          AppendLocked(r.topic, r.key, std::move(r.value), r.headers ? *r.headers : kNone));
      ++*appended;
    }
  }
  // One wake-up for the whole batch (see PublishWithHeaders).
  bool wake = waiters_ > 0;
  lock.Unlock();
  if (wake) cv_.NotifyAll();
  if (journal_) return journal_->AfterPublish();
  return Status::Ok();
}

Status MemoryBus::PublishMany(std::vector<TopicRecord>& records) {
  std::vector<Outgoing> batch;
  batch.reserve(records.size());
  for (auto& r : records) batch.push_back({r.topic, r.key, std::move(r.value), nullptr});
  size_t appended = 0;
  Status s = PublishBatch(batch, &appended);
  if (!s.ok()) {
    for (size_t i = appended; i < records.size(); ++i) records[i].value = std::move(batch[i].value);
  }
  return s;
}

Status MemoryBus::PublishManyTracked(const std::vector<TrackedRecord>& records,
                                     const std::shared_ptr<DeliveryTracker>&, size_t* published) {
  std::vector<Outgoing> batch;
  batch.reserve(records.size());
  for (const auto& r : records) {
    batch.push_back({r.topic, r.key, std::string(r.value), r.headers});
  }
  // Journalled (or kept) when it returns: nothing to track.
  return PublishBatch(batch, published);
}

Result<std::unique_ptr<Consumer>> MemoryBus::Subscribe(const ConsumerOptions& options) {
  if (options.group.empty()) return InvalidArgument("a consumer needs a group");
  auto consumer = std::make_unique<MemoryConsumer>(this, options);
  MutexLock lock(mu_);
  groups_[options.group].members.push_back(consumer.get());
  Rebalance(options.group);
  return std::unique_ptr<Consumer>(std::move(consumer));
}

int64_t MemoryBus::EndOffset(const TopicPartition& tp) {
  MutexLock lock(mu_);
  auto it = topics_.find(tp.topic);
  if (it == topics_.end() || tp.partition >= static_cast<int>(it->second.partitions.size())) return 0;
  return it->second.partitions[static_cast<size_t>(tp.partition)].end();
}

void MemoryBus::TrimBefore(const TopicPartition& tp, int64_t offset) {
  MutexLock lock(mu_);
  auto it = topics_.find(tp.topic);
  if (it == topics_.end() || tp.partition >= static_cast<int>(it->second.partitions.size())) return;
  Partition& p = it->second.partitions[static_cast<size_t>(tp.partition)];
  offset = std::min<int64_t>(offset, p.end());
  if (offset <= p.trimmed) return;
  if (journal_) journal_->Trim(tp, offset);
  while (p.trimmed < offset) {
    p.log.pop_front();
    ++p.trimmed;
  }
}

void MemoryBus::Rebalance(const std::string& group_name) {
  Group& group = groups_[group_name];
  if (group.members.empty()) return;
  std::set<std::string> topics;
  for (auto* m : group.members) topics.insert(m->options().topics.begin(), m->options().topics.end());
  std::vector<TopicPartition> all;
  for (const auto& name : topics) {
    auto it = topics_.find(name);
    if (it == topics_.end()) continue;
    for (int p = 0; p < static_cast<int>(it->second.partitions.size()); ++p) all.push_back({name, p});
  }
  std::vector<std::set<TopicPartition>> next(group.members.size());
  size_t slot = 0;
  for (const auto& tp : all) {
    // Round-robin over the members that subscribe to the topic.
    for (size_t tries = 0; tries < group.members.size(); ++tries) {
      size_t i = (slot + tries) % group.members.size();
      const auto& subs = group.members[i]->options().topics;
      if (std::find(subs.begin(), subs.end(), tp.topic) != subs.end()) {
        next[i].insert(tp);
        slot = i + 1;
        break;
      }
    }
  }
  for (size_t i = 0; i < group.members.size(); ++i) group.members[i]->SetAssignment(next[i]);
  ++version_;
  cv_.NotifyAll();
}

void MemoryBus::Leave(MemoryConsumer* consumer) {
  MutexLock lock(mu_);
  auto& members = groups_[consumer->options().group].members;
  members.erase(std::remove(members.begin(), members.end(), consumer), members.end());
  Rebalance(consumer->options().group);
}

}  // namespace bora
