#include "orchestrator/store/memory_state_store.h"

#include <algorithm>

namespace bora::store {

MemoryStateStore::MemoryStateStore(int partitions) {
  for (int i = 0; i < partitions; ++i) parts_.push_back(std::make_unique<Part>());
}

Result<MemoryStateStore::Part*> MemoryStateStore::Get(PartitionId partition) {
  const int p = partition.value();
  if (p < 0 || p >= static_cast<int>(parts_.size())) {
    return InvalidArgument("no partition " + std::to_string(p) + " (the store has " +
                           std::to_string(parts_.size()) + ")");
  }
  return parts_[static_cast<size_t>(p)].get();
}

Status MemoryStateStore::CheckEpoch(const Part& p, PartitionId partition, Epoch epoch) {
  if (p.epoch != epoch.value()) {
    return Aborted("partition " + std::to_string(partition.value()) + " is fenced: epoch " +
                   std::to_string(epoch.value()) + " is stale (current " + std::to_string(p.epoch) +
                   ")");
  }
  return Status::Ok();
}

std::unique_lock<std::mutex> MemoryStateStore::WriterLock(PartitionId partition) {
  const int p = partition.value();
  if (p < 0 || p >= static_cast<int>(parts_.size())) return {};
  return std::unique_lock<std::mutex>(parts_[static_cast<size_t>(p)]->mu.native());
}

Result<PartitionClaim> MemoryStateStore::ClaimPartition(PartitionId partition) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  PartitionClaim claim;
  claim.epoch = Epoch(++p->epoch);
  claim.next_offset = p->next_offset;
  claim.outbox.assign(p->outbox.begin(), p->outbox.end());
  return claim;
}

Result<std::shared_ptr<engine::ExecutionState>> MemoryStateStore::LoadExecution(
    PartitionId partition, const ExecutionId& execution_id) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  auto it = p->states.find(execution_id.value());
  if (it == p->states.end()) return std::shared_ptr<engine::ExecutionState>();
  return it->second;
}

Status MemoryStateStore::Commit(PartitionId partition, Epoch epoch, CommitBatch* batch) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  BORA_RETURN_IF_ERROR(CheckEpoch(*p, partition, epoch));
  for (const auto& d : batch->deleted) p->states.erase(d.execution_id);
  for (const auto& state : batch->states) p->states[state->id] = state;
  p->next_offset = batch->next_offset;
  for (auto& entry : batch->outbox) {
    entry.seq = p->next_seq++;
    p->outbox.push_back(entry);
  }
  for (const auto& t : batch->timers_cancelled) {
    auto it = p->timer_at.find({t.execution_id, t.timer_id});
    if (it == p->timer_at.end()) continue;
    p->timers.erase({it->second, it->first});
    p->timer_at.erase(it);
  }
  for (const auto& t : batch->timers_set) {
    auto key = std::make_pair(t.execution_id, t.timer_id);
    auto it = p->timer_at.find(key);
    if (it != p->timer_at.end()) p->timers.erase({it->second, key});
    p->timer_at[key] = t.fire_at;
    p->timers.insert({t.fire_at, key});
  }
  return Status::Ok();
}

Status MemoryStateStore::AckOutbox(PartitionId partition, Epoch epoch, uint64_t up_to_seq) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  BORA_RETURN_IF_ERROR(CheckEpoch(*p, partition, epoch));
  while (!p->outbox.empty() && p->outbox.front().seq <= up_to_seq) p->outbox.pop_front();
  return Status::Ok();
}

Result<std::vector<TimerEntry>> MemoryStateStore::DueTimers(PartitionId partition, TimestampUs now,
                                                            size_t max) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  std::vector<TimerEntry> out;
  for (const auto& [at, ids] : p->timers) {
    if (at > now || out.size() >= max) break;
    out.push_back({ids.first, ids.second, at});
  }
  return out;
}

Status MemoryStateStore::RemoveTimer(PartitionId partition, Epoch epoch, const TimerEntry& timer) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  BORA_RETURN_IF_ERROR(CheckEpoch(*p, partition, epoch));
  auto key = std::make_pair(timer.execution_id, timer.timer_id);
  auto it = p->timer_at.find(key);
  if (it != p->timer_at.end() && it->second == timer.fire_at) {
    p->timers.erase({it->second, key});
    p->timer_at.erase(it);
  }
  return Status::Ok();
}

Result<std::optional<TimestampUs>> MemoryStateStore::NextTimer(PartitionId partition) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  if (p->timers.empty()) return std::optional<TimestampUs>();
  return std::optional<TimestampUs>(p->timers.begin()->first);
}

template <typename Copy>
Result<std::optional<engine::ExecutionState>> MemoryStateStore::ReadWith(
    PartitionId partition, const ExecutionId& execution_id, Copy copy) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock owner(p->mu);
  MutexLock lock(p->meta_mu);
  auto it = p->states.find(execution_id.value());
  if (it == p->states.end()) return std::optional<engine::ExecutionState>();
  return std::optional<engine::ExecutionState>(copy(*it->second));
}

Result<std::optional<engine::ExecutionState>> MemoryStateStore::ReadExecution(
    PartitionId partition, const ExecutionId& execution_id) {
  return ReadWith(partition, execution_id, [](const engine::ExecutionState& st) { return st; });
}

Result<std::optional<engine::ExecutionState>> MemoryStateStore::ReadExecutionHead(
    PartitionId partition, const ExecutionId& execution_id) {
  return ReadWith(partition, execution_id,
                  [](const engine::ExecutionState& st) { return st.CopyHead(); });
}

Result<std::vector<engine::ExecutionState>> MemoryStateStore::ReadExecutionHeads(
    PartitionId partition) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock owner(p->mu);
  MutexLock lock(p->meta_mu);
  std::vector<engine::ExecutionState> out;
  out.reserve(p->states.size());
  for (const auto& [id, st] : p->states) out.push_back(st->CopyHead());
  return out;
}

Result<std::optional<ExecutionKey>> MemoryStateStore::FindExecutionOf(const std::string& id) {
  for (size_t partition = 0; partition < parts_.size(); ++partition) {
    Part* p = parts_[partition].get();
    MutexLock owner(p->mu);
    MutexLock lock(p->meta_mu);
    for (const auto& [exec_id, st] : p->states) {
      if (st->index.task_by_id.count(id) || st->index.action_by_id.count(id)) {
        return std::optional<ExecutionKey>(
            ExecutionKey{PartitionId(static_cast<int>(partition)), ExecutionId(exec_id)});
      }
    }
  }
  return std::optional<ExecutionKey>();
}

Result<std::vector<ExecutionId>> MemoryStateStore::ListExecutionIds(PartitionId partition) {
  BORA_ASSIGN_OR_RETURN(Part * p, Get(partition));
  MutexLock lock(p->meta_mu);
  std::vector<ExecutionId> ids;
  ids.reserve(p->states.size());
  for (const auto& [id, _] : p->states) ids.emplace_back(id);
  return ids;
}

Result<std::vector<engine::ExecutionState>> MemoryStateStore::ReadExecutionHeadsPage(
    const std::optional<ListCursor>& after, size_t limit) {
  using Key = std::pair<int64_t, const std::string*>;
  auto less = [](const Key& a, const Key& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  };
  // Per partition (under its locks, as ReadExecutionHeads): the first `limit` after the cursor, copied
  // without their tasks; then the first `limit` of those.
  std::vector<engine::ExecutionState> candidates;
  for (auto& part : parts_) {
    MutexLock owner(part->mu);
    MutexLock lock(part->meta_mu);
    std::vector<std::pair<Key, const engine::ExecutionState*>> keys;
    for (const auto& [id, st] : part->states) {
      Key k{ListSecond(st->created_at), &st->id};
      if (after && !less(Key{after->created_s, &after->id}, k)) continue;
      keys.emplace_back(k, st.get());
    }
    const size_t n = std::min(limit, keys.size());
    std::partial_sort(keys.begin(), keys.begin() + static_cast<long>(n), keys.end(),
                      [&](const auto& a, const auto& b) { return less(a.first, b.first); });
    for (size_t i = 0; i < n; ++i) {
      candidates.push_back(keys[i].second->CopyHead());
    }
  }
  std::sort(candidates.begin(), candidates.end(), [&](const auto& a, const auto& b) {
    return less(Key{ListSecond(a.created_at), &a.id}, Key{ListSecond(b.created_at), &b.id});
  });
  if (candidates.size() > limit) candidates.resize(limit);
  return candidates;
}

}  // namespace bora::store
