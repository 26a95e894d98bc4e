#include "orchestrator/runtime/retention.h"

#include <algorithm>
#include <unordered_set>

#include "common/ids.h"
#include "common/log.h"

namespace bora::runtime {

Status RetentionPolicy::Validate() const {
  if (evaluation_interval.count() < 0 || older_than.count() < 0) {
    return InvalidArgument("execution expiration policy: durations must not be negative");
  }
  for (engine::State s : ignored_states) {
    if (!engine::IsCompleted(s)) {
      return InvalidArgument("execution expiration policy: ignored state " +
                             std::string(engine::StateName(s)) +
                             " is not a completed state (SUCCESS, ERROR or CANCELLED)");
    }
  }
  return Status::Ok();
}

ExecutionRetention::ExecutionRetention(RetentionPolicy policy, store::ExecutionReader* store,
                                       ExecutionClient* client, const Clock* clock, int partitions)
    : policy_(std::move(policy)),
      store_(store),
      client_(client),
      clock_(clock),
      partitions_(std::max(1, partitions)) {}

RetentionStats ExecutionRetention::stats() const {
  MutexLock lock(mu_);
  return stats_;
}

Result<size_t> ExecutionRetention::RunOwned(const std::vector<PartitionId>& owned) {
  if (!policy_.enabled()) return size_t{0};
  const TimestampUs now = clock_->NowUs();
  const TimestampUs interval =
      std::chrono::duration_cast<std::chrono::microseconds>(policy_.evaluation_interval).count();
  std::vector<PartitionId> due;
  {
    MutexLock lock(mu_);
    for (PartitionId p : owned) {
      auto it = next_due_.find(p);
      if (it != next_due_.end() && it->second > now) continue;
      due.push_back(p);
      next_due_[p] = now + interval;
    }
  }
  if (due.empty()) return size_t{0};
  auto expired = Expired(due, now);
  if (!expired.ok()) {
    MutexLock lock(mu_);
    for (PartitionId p : due) next_due_.erase(p);  // evaluated again at the next call
    return expired.status().WithContext("execution retention");
  }
  size_t sent = 0;
  for (const auto& id : *expired) {
    if (policy_.batch_size > 0 && sent >= policy_.batch_size) break;
    BORA_RETURN_IF_ERROR(client_->Send(engine::PurgeExecution{id}));
    ++sent;
  }
  if (sent > 0) BORA_LOG_INFO("execution retention: purging {} execution(s)", sent);
  MutexLock lock(mu_);
  ++stats_.evaluations;
  stats_.purges_requested += sent;
  return sent;
}

Result<std::vector<std::string>> ExecutionRetention::Expired(const std::vector<PartitionId>& due,
                                                             TimestampUs now) {
  const bool by_count = policy_.max_finished_executions > 0;
  const bool by_age = policy_.older_than.count() > 0;
  const TimestampUs cutoff =
      now - std::chrono::duration_cast<std::chrono::microseconds>(policy_.older_than).count();
  const std::set<PartitionId> due_set(due.begin(), due.end());
  // The count rule ranks every partition's executions; the age rule needs only the due partitions.
  std::vector<engine::ExecutionState> heads;
  for (int p = 0; p < partitions_; ++p) {
    if (!by_count && !due_set.count(PartitionId(p))) continue;
    BORA_ASSIGN_OR_RETURN(auto part, store_->ReadExecutionHeads(PartitionId(p)));
    for (auto& h : part) heads.push_back(std::move(h));
  }
  auto purgeable = [&](const engine::ExecutionState& h) {
    return engine::IsCompleted(h.state) && !policy_.ignored_states.count(h.state);
  };
  auto in_due = [&](const std::string& id) {
    return due_set.count(PartitionId(PartitionForKey(id, partitions_))) > 0;
  };

  std::vector<std::string> out;
  std::unordered_set<std::string> chosen;
  auto choose = [&](const std::string& id) {
    if (chosen.insert(id).second) out.push_back(id);
  };
  // Top-level executions past the age limit.
  if (by_age) {
    for (const auto& h : heads) {
      if (h.parent_execution_id.empty() && purgeable(h) && h.updated_at < cutoff && in_due(h.id))
        choose(h.id);
    }
  }
  // The completed top-level executions beyond the newest max_finished_executions.
  if (by_count) {
    std::vector<const engine::ExecutionState*> finished;
    for (const auto& h : heads) {
      if (h.parent_execution_id.empty() && purgeable(h)) finished.push_back(&h);
    }
    std::sort(finished.begin(), finished.end(), [](const auto* a, const auto* b) {
      return a->updated_at != b->updated_at ? a->updated_at > b->updated_at : a->id > b->id;
    });
    for (size_t i = finished.size(); i > policy_.max_finished_executions; --i) {  // oldest first
      if (in_due(finished[i - 1]->id)) choose(finished[i - 1]->id);
    }
  }
  // Sub-workflow executions whose root is gone (purged while they still ran), once completed and
  // past the age limit (any age under the count rule alone).
  std::unordered_set<std::string> known;
  if (by_count) {
    for (const auto& h : heads) known.insert(h.id);
  }
  for (const auto& h : heads) {
    if (h.parent_execution_id.empty() || !purgeable(h) || !in_due(h.id)) continue;
    if (by_age && h.updated_at >= cutoff) continue;
    const std::string& root =
        h.root_execution_id.empty() ? h.parent_execution_id : h.root_execution_id;
    bool root_exists;
    if (by_count) {
      root_exists = known.count(root) > 0;
    } else {
      BORA_ASSIGN_OR_RETURN(
          auto r, store_->ReadExecutionHead(PartitionId(PartitionForKey(root, partitions_)),
                                            ExecutionId(root)));
      root_exists = r.has_value();
    }
    if (!root_exists) choose(h.id);
  }
  return out;
}

}  // namespace bora::runtime
