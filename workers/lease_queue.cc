#include "workers/lease_queue.h"

#include <algorithm>

namespace bora::workers {
namespace {

// What a completion is, to tell a retry of it from a different one.
std::string CompletionKey(const ActionResult& result) {
  return std::string(ActionResultName(result.kind)) + ":" + DumpJson(result.data);
}

}  // namespace

LeaseQueue::LeaseQueue(const Clock* clock, std::function<std::string()> new_id,
                       LeaseQueueOptions options)
    : clock_(clock), new_id_(std::move(new_id)), options_(options) {}

void LeaseQueue::Add(ActionRequest request, Done done) {
  MutexLock lock(mu_);
  if (shut_down_) return;  // dropped: see Shutdown()
  queue_.push_back(Entry{std::move(request), std::move(done), 0});
  added_.NotifyAll();
}

bool LeaseQueue::Withdraw(const std::string& action_execution_id) {
  MutexLock lock(mu_);
  ExpireLocked(clock_->NowUs());
  auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Entry& e) {
    return e.request.action_execution_id == action_execution_id;
  });
  if (it == queue_.end()) return false;
  queue_.erase(it);
  return true;
}

void LeaseQueue::ExpireLocked(TimestampUs now) {
  std::vector<std::pair<TimestampUs, std::string>> gone;
  for (const auto& [id, held] : leases_) {
    if (held.expires_at <= now) gone.emplace_back(held.expires_at, id);
  }
  // Pushed to the front latest first, so the one that ran out first is taken first.
  std::sort(gone.begin(), gone.end(), std::greater<>());
  for (const auto& [at, id] : gone) {
    auto it = leases_.find(id);
    RememberLocked(expired_, expired_order_, id, it->second.entry.request.action_execution_id);
    queue_.push_front(std::move(it->second.entry));
    leases_.erase(it);
  }
  if (!gone.empty()) added_.NotifyAll();
}

void LeaseQueue::RememberLocked(std::map<std::string, std::string>& m,
                                std::deque<std::string>& order, const std::string& id,
                                std::string value) {
  m[id] = std::move(value);
  order.push_back(id);
  while (order.size() > options_.remembered) {
    m.erase(order.front());
    order.pop_front();
  }
}

std::vector<Lease> LeaseQueue::Take(const std::set<std::string>& actions, size_t max,
                                    std::chrono::milliseconds length,
                                    std::chrono::milliseconds wait) {
  std::vector<Lease> out;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  MutexLock lock(mu_);
  for (;;) {
    ExpireLocked(clock_->NowUs());
    const TimestampUs now = clock_->NowUs();
    for (auto it = queue_.begin(); it != queue_.end() && out.size() < max;) {
      if (!actions.empty() && !actions.count(it->request.action_name)) {
        ++it;
        continue;
      }
      Entry entry = std::move(*it);
      it = queue_.erase(it);
      ++entry.delivery;
      Lease lease{new_id_(), entry.request, now + static_cast<TimestampUs>(length.count()) * 1000,
                  entry.delivery};
      leases_.emplace(lease.lease_id, Held{std::move(entry), lease.expires_at});
      out.push_back(std::move(lease));
    }
    if (!out.empty() || shut_down_) return out;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return out;
    // Woken by Add(); leases running out are seen at the next check.
    added_.WaitFor(mu_, std::min<std::chrono::steady_clock::duration>(left, options_.check_every));
  }
}

Status LeaseQueue::GoneLocked(const std::string& lease_id) const {
  if (expired_.count(lease_id)) {
    return FailedPrecondition("lease " + lease_id +
                              " ran out: its action went back to the queue for another worker");
  }
  if (auto f = finished_.find(lease_id); f != finished_.end()) {
    return FailedPrecondition(
        "lease " + lease_id + " is over (" +
        (f->second == "released" ? std::string("released") : std::string("completed")) + ")");
  }
  return NotFound("no lease " + lease_id);
}

Result<TimestampUs> LeaseQueue::Heartbeat(const std::string& lease_id,
                                          std::chrono::milliseconds length) {
  MutexLock lock(mu_);
  ExpireLocked(clock_->NowUs());
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return GoneLocked(lease_id);
  it->second.expires_at = clock_->NowUs() + static_cast<TimestampUs>(length.count()) * 1000;
  return it->second.expires_at;
}

Result<bool> LeaseQueue::Complete(const std::string& lease_id, const ActionResult& result) {
  Done done;
  {
    MutexLock lock(mu_);
    ExpireLocked(clock_->NowUs());
    auto it = leases_.find(lease_id);
    if (it == leases_.end()) {
      auto f = finished_.find(lease_id);
      if (f != finished_.end() && f->second == CompletionKey(result)) return true;
      if (f != finished_.end()) {
        return FailedPrecondition("lease " + lease_id + " was completed differently before");
      }
      return GoneLocked(lease_id);
    }
    done = std::move(it->second.entry.done);
    leases_.erase(it);
    RememberLocked(finished_, finished_order_, lease_id, CompletionKey(result));
  }
  done(result);
  return false;
}

Status LeaseQueue::Release(const std::string& lease_id) {
  MutexLock lock(mu_);
  ExpireLocked(clock_->NowUs());
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return GoneLocked(lease_id);
  queue_.push_front(std::move(it->second.entry));
  leases_.erase(it);
  RememberLocked(finished_, finished_order_, lease_id, "released");
  added_.NotifyAll();
  return Status::Ok();
}

bool LeaseQueue::Knows(const std::string& lease_id) const {
  MutexLock lock(mu_);
  return leases_.count(lease_id) || finished_.count(lease_id) || expired_.count(lease_id);
}

size_t LeaseQueue::queued() const {
  MutexLock lock(mu_);
  return queue_.size();
}

size_t LeaseQueue::leased() const {
  MutexLock lock(mu_);
  return leases_.size();
}

void LeaseQueue::Shutdown() {
  MutexLock lock(mu_);
  shut_down_ = true;
  queue_.clear();
  leases_.clear();
  added_.NotifyAll();
}

}  // namespace bora::workers
