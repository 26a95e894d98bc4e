#pragma once
// ScriptedStream: an EventStream for tests of the HTTP server (http_test, access_log_test).
//
// Thread-safety: Next() from the server's stream thread, the rest from the test's.
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http/http_types.h"
#include "common/thread_annotations.h"

namespace bora::http {

// An event stream for the tests: sends `pieces` in order ("" = nothing yet), then ends; with
// `hold`, keeps answering "" until Release(). Started() waits until the server asked it once.
class ScriptedStream final : public EventStream {
 public:
  explicit ScriptedStream(std::vector<std::string> pieces, bool hold = false)
      : pieces_(std::move(pieces)), hold_(hold) {}

  std::optional<std::string> Next(std::chrono::milliseconds wait) override {
    MutexLock lock(mu_);
    started_ = true;
    cv_.NotifyAll();
    if (hold_) {
      cv_.WaitFor(mu_, wait, [this] {
        mu_.AssertHeld();
        return !hold_;
      });
      if (hold_) return std::string();
    }
    if (next_ == pieces_.size()) return std::nullopt;
    return pieces_[next_++];
  }
  void WaitStarted() {
    MutexLock lock(mu_);
    cv_.Wait(mu_, [this] {
      mu_.AssertHeld();
      return started_;
    });
  }
  void Release() {
    MutexLock lock(mu_);
    hold_ = false;
    cv_.NotifyAll();
  }

 private:
  Mutex mu_;
  CondVar cv_;
  std::vector<std::string> pieces_ GUARDED_BY(mu_);
  size_t next_ GUARDED_BY(mu_) = 0;
  bool hold_ GUARDED_BY(mu_);
  bool started_ GUARDED_BY(mu_) = false;
};

}  // namespace bora::http
