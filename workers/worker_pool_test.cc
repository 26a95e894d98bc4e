#include "workers/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <stdexcept>

#include "workers/std_actions.h"

namespace bora::workers {
namespace {

// Blocks until released or cancelled; tells the test when it has started.
class GateAction final : public Action {
 public:
  ActionResult Run(const ActionRequest& request, const CancelToken& cancel) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      started_.push_back(request.action_execution_id);
    }
    cv_.notify_all();
    std::unique_lock<std::mutex> lock(mu_);
    // Cancellation is a plain atomic flag, so wake up periodically to look at it.
    while (!released_ && !cancel.cancelled.load()) cv_.wait_for(lock, std::chrono::milliseconds(5));
    return released_ ? ActionResult::Success("released") : ActionResult::Error("stopped");
  }
  void WaitStarted(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return started_.size() >= n; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> started_;
  bool released_ = false;
};

class ThrowingAction final : public Action {
 public:
  ActionResult Run(const ActionRequest&, const CancelToken&) override {
    throw std::runtime_error("kaboom");
  }
};

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterStdActions(registry_, StdActionOptions{});
    gate_ = std::make_shared<GateAction>();
    registry_.Register(ActionSignature{"test.gate", {}, true, false, "test", ""}, gate_);
    registry_.Register(ActionSignature{"test.throw", {}, true, false, "test", ""},
                       std::make_shared<ThrowingAction>());
  }

  static ActionRequest Req(std::string action, std::string id, Json input = JsonObject{}) {
    ActionRequest r;
    r.action_name = std::move(action);
    r.action_execution_id = std::move(id);
    r.input = std::move(input);
    return r;
  }

  ActionRegistry registry_;
  std::shared_ptr<GateAction> gate_;
};

TEST_F(WorkerPoolTest, ManySubmissionsCompleteExactlyOnce) {
  constexpr int kRuns = 2000;
  std::vector<std::atomic<int>> calls(kRuns);
  std::latch done(kRuns);
  {
    WorkerPool pool(&registry_, WorkerPoolOptions{4, kRuns});
    for (int i = 0; i < kRuns; ++i) {
      Status st = pool.Submit(Req("std.echo", "a" + std::to_string(i), JsonObject{{"output", i}}),
                              [&](const ActionRequest& req, ActionResult r) {
                                int idx = std::stoi(req.action_execution_id.substr(1));
                                EXPECT_EQ(r.kind, ActionResult::Kind::kSuccess);
                                EXPECT_EQ(r.data, Json(idx));
                                calls[idx].fetch_add(1);
                                done.count_down();
                              });
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    done.wait();
  }
  for (int i = 0; i < kRuns; ++i) EXPECT_EQ(calls[i].load(), 1) << i;
}

TEST_F(WorkerPoolTest, UnknownActionAndExceptionsBecomeErrors) {
  WorkerPool pool(&registry_, WorkerPoolOptions{2, 16});
  std::promise<ActionResult> unknown, thrown;
  ASSERT_TRUE(
      pool.Submit(Req("std.nope", "u"),
                  [&](const ActionRequest&, ActionResult r) { unknown.set_value(std::move(r)); })
          .ok());
  ASSERT_TRUE(
      pool.Submit(Req("test.throw", "t"),
                  [&](const ActionRequest&, ActionResult r) { thrown.set_value(std::move(r)); })
          .ok());
  ActionResult u = unknown.get_future().get();
  EXPECT_EQ(u.kind, ActionResult::Kind::kError);
  EXPECT_EQ(u.data, Json("Failed to find action [action_name=std.nope]"));
  ActionResult t = thrown.get_future().get();
  EXPECT_EQ(t.kind, ActionResult::Kind::kError);
  EXPECT_EQ(t.data, Json("kaboom"));
}

TEST_F(WorkerPoolTest, CancelQueuedAndRunning) {
  WorkerPool pool(&registry_, WorkerPoolOptions{1, 16});
  std::promise<ActionResult> first, second;
  ASSERT_TRUE(
      pool.Submit(Req("test.gate", "running"),
                  [&](const ActionRequest&, ActionResult r) { first.set_value(std::move(r)); })
          .ok());
  ASSERT_TRUE(
      pool.Submit(Req("std.noop", "queued"),
                  [&](const ActionRequest&, ActionResult r) { second.set_value(std::move(r)); })
          .ok());
  gate_->WaitStarted(1);
  EXPECT_EQ(pool.RunningCount(), 1u);
  EXPECT_EQ(pool.QueuedCount(), 1u);
  EXPECT_TRUE(pool.Submit(Req("std.noop", "queued"), nullptr).code() == StatusCode::kAlreadyExists);
  EXPECT_TRUE(pool.Cancel("queued"));
  EXPECT_EQ(second.get_future().get().kind, ActionResult::Kind::kCancelled);
  EXPECT_TRUE(pool.Cancel("running"));
  EXPECT_EQ(first.get_future().get().kind, ActionResult::Kind::kCancelled);
  EXPECT_FALSE(pool.Cancel("running"));
  EXPECT_FALSE(pool.Cancel("never-submitted"));
}

TEST_F(WorkerPoolTest, CancelRunningSleep) {
  WorkerPool pool(&registry_, WorkerPoolOptions{2, 16});
  std::promise<ActionResult> result;
  ASSERT_TRUE(
      pool.Submit(Req("std.sleep", "s", JsonObject{{"seconds", 600}}),
                  [&](const ActionRequest&, ActionResult r) { result.set_value(std::move(r)); })
          .ok());
  // Queued or running, the run completes as cancelled.
  auto fut = result.get_future();
  ASSERT_TRUE(pool.Cancel("s"));
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(fut.get().kind, ActionResult::Kind::kCancelled);
}

TEST_F(WorkerPoolTest, QueueBoundIsEnforced) {
  WorkerPool pool(&registry_, WorkerPoolOptions{1, 2});
  std::atomic<int> completions{0};
  auto count = [&](const ActionRequest&, ActionResult) { completions.fetch_add(1); };
  ASSERT_TRUE(pool.Submit(Req("test.gate", "g"), count).ok());
  gate_->WaitStarted(1);
  ASSERT_TRUE(pool.Submit(Req("std.noop", "q1"), count).ok());
  ASSERT_TRUE(pool.Submit(Req("std.noop", "q2"), count).ok());
  Status full = pool.Submit(Req("std.noop", "q3"), count);
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  gate_->Release();
  pool.Shutdown(/*cancel_running=*/false);
  EXPECT_EQ(completions.load(), 3);
}

TEST_F(WorkerPoolTest, ShutdownCancelsQueuedAndRunningAndRefusesNewWork) {
  WorkerPool pool(&registry_, WorkerPoolOptions{1, 16});
  std::vector<ActionResult::Kind> kinds;
  std::mutex mu;
  auto record = [&](const ActionRequest&, ActionResult r) {
    std::lock_guard<std::mutex> lock(mu);
    kinds.push_back(r.kind);
  };
  ASSERT_TRUE(pool.Submit(Req("test.gate", "g"), record).ok());
  gate_->WaitStarted(1);
  ASSERT_TRUE(pool.Submit(Req("std.noop", "n1"), record).ok());
  ASSERT_TRUE(pool.Submit(Req("std.noop", "n2"), record).ok());
  pool.Shutdown();
  ASSERT_EQ(kinds.size(), 3u);
  for (auto k : kinds) EXPECT_EQ(k, ActionResult::Kind::kCancelled);
  EXPECT_EQ(pool.Submit(Req("std.noop", "late"), record).code(), StatusCode::kFailedPrecondition);
  pool.Shutdown();  // idempotent
}

TEST_F(WorkerPoolTest, AsyncResultIsPassedThrough) {
  WorkerPool pool(&registry_, WorkerPoolOptions{1, 4});
  std::promise<ActionResult> result;
  ASSERT_TRUE(
      pool.Submit(Req("std.async_noop", "a"),
                  [&](const ActionRequest&, ActionResult r) { result.set_value(std::move(r)); })
          .ok());
  EXPECT_EQ(result.get_future().get().kind, ActionResult::Kind::kAsync);
}

}  // namespace
}  // namespace bora::workers
