#include "workers/lease_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace bora::workers {
namespace {

using std::chrono::milliseconds;

class LeaseQueueTest : public ::testing::Test {
 protected:
  LeaseQueueTest() : queue_(&clock_, [this] { return "lease-" + std::to_string(++ids_); }) {}

  // Queues an action request; its completions are recorded in done_.
  void Add(const std::string& action_execution_id, const std::string& action = "py.reverse") {
    ActionRequest r;
    r.action_execution_id = action_execution_id;
    r.action_name = action;
    r.input = JsonObject{{"text", "abc"}};
    queue_.Add(std::move(r), [this, action_execution_id](ActionResult result) {
      done_.emplace_back(action_execution_id, result);
    });
  }

  ManualClock clock_{1'000'000};
  int ids_ = 0;
  LeaseQueue queue_;
  std::vector<std::pair<std::string, ActionResult>> done_;
};

TEST_F(LeaseQueueTest, TakeCompleteOnceThenDuplicateOrConflict) {
  Add("a1");
  auto leases = queue_.Take({}, 10, milliseconds(2000), milliseconds(0));
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].lease_id, "lease-1");
  EXPECT_EQ(leases[0].request.action_execution_id, "a1");
  EXPECT_EQ(leases[0].delivery, 1);
  EXPECT_EQ(leases[0].expires_at, 1'000'000 + 2'000'000);
  EXPECT_EQ(queue_.leased(), 1u);
  EXPECT_TRUE(queue_.Take({}, 10, milliseconds(2000), milliseconds(0)).empty());

  auto first = queue_.Complete("lease-1", ActionResult::Success(Json("cba")));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(*first);
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0].second.data, Json("cba"));
  // The same completion again (a retry): a duplicate, nothing reported twice.
  auto again = queue_.Complete("lease-1", ActionResult::Success(Json("cba")));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(*again);
  EXPECT_EQ(done_.size(), 1u);
  // A different one: a conflict.
  auto other = queue_.Complete("lease-1", ActionResult::Error(Json("boom")));
  EXPECT_EQ(other.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue_.Heartbeat("lease-1", milliseconds(1000)).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue_.Complete("nope", ActionResult::Success(nullptr)).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(queue_.Heartbeat("nope", milliseconds(1000)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_.Release("nope").code(), StatusCode::kNotFound);
}

TEST_F(LeaseQueueTest, ALeaseThatRunsOutGoesBackForAnotherWorker) {
  Add("a1");
  auto first = queue_.Take({}, 1, milliseconds(2000), milliseconds(0));
  ASSERT_EQ(first.size(), 1u);
  clock_.AdvanceUs(1999 * 1000);
  EXPECT_TRUE(queue_.Take({}, 1, milliseconds(2000), milliseconds(0)).empty());
  clock_.AdvanceUs(1 * 1000);
  auto second = queue_.Take({}, 1, milliseconds(2000), milliseconds(0));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].request.action_execution_id, "a1");
  EXPECT_EQ(second[0].delivery, 2);
  EXPECT_NE(second[0].lease_id, first[0].lease_id);
  // The first worker comes back late: its lease is over, its result not taken.
  auto late = queue_.Complete(first[0].lease_id, ActionResult::Success(Json(1)));
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("ran out"), std::string::npos);
  EXPECT_TRUE(done_.empty());
  ASSERT_TRUE(queue_.Complete(second[0].lease_id, ActionResult::Success(Json(2))).ok());
  ASSERT_EQ(done_.size(), 1u);
  EXPECT_EQ(done_[0].second.data, Json(2));
}

TEST_F(LeaseQueueTest, HeartbeatsKeepALeasePastItsLength) {
  Add("a1");
  auto leases = queue_.Take({}, 1, milliseconds(2000), milliseconds(0));
  ASSERT_EQ(leases.size(), 1u);
  for (int i = 0; i < 5; ++i) {  // 10 s of work with a 2 s lease
    clock_.AdvanceUs(1500 * 1000);
    auto deadline = queue_.Heartbeat(leases[0].lease_id, milliseconds(2000));
    ASSERT_TRUE(deadline.ok()) << deadline.status().ToString();
    EXPECT_EQ(*deadline, clock_.NowUs() + 2'000'000);
    EXPECT_TRUE(queue_.Take({}, 1, milliseconds(2000), milliseconds(0)).empty());
  }
  EXPECT_TRUE(queue_.Complete(leases[0].lease_id, ActionResult::Success(nullptr)).ok());
  EXPECT_EQ(done_.size(), 1u);
}

TEST_F(LeaseQueueTest, ReleaseFilterAndMax) {
  Add("a1", "py.reverse");
  Add("a2", "py.other");
  Add("a3", "py.reverse");
  auto mine = queue_.Take({"py.reverse"}, 10, milliseconds(1000), milliseconds(0));
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].request.action_execution_id, "a1");
  EXPECT_EQ(mine[1].request.action_execution_id, "a3");
  EXPECT_EQ(queue_.queued(), 1u);
  // Released (a worker shutting down): back at the front, at once.
  ASSERT_TRUE(queue_.Release(mine[1].lease_id).ok());
  EXPECT_EQ(queue_.Release(mine[1].lease_id).code(), StatusCode::kFailedPrecondition);
  auto one = queue_.Take({}, 1, milliseconds(1000), milliseconds(0));
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].request.action_execution_id, "a3");
  EXPECT_EQ(one[0].delivery, 2);
  EXPECT_TRUE(done_.empty());
}

// A waiting Take() returns as soon as a request comes; Shutdown() wakes it with nothing and drops
// what is queued without a result (its offset is never committed: the next consumer runs it).
TEST_F(LeaseQueueTest, LongPollWakesOnAddAndShutdown) {
  std::vector<Lease> got;
  std::thread poller([&] { got = queue_.Take({}, 1, milliseconds(1000), milliseconds(60000)); });
  Add("a1");
  poller.join();
  ASSERT_EQ(got.size(), 1u);

  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    EXPECT_TRUE(queue_.Take({}, 1, milliseconds(1000), milliseconds(60000)).empty());
    returned = true;
  });
  queue_.Shutdown();
  waiter.join();
  EXPECT_TRUE(returned);
  Add("a2");
  EXPECT_EQ(queue_.queued(), 0u);
  EXPECT_TRUE(done_.empty());
}

// Withdraw() takes back a queued request, never a leased one, and calls no `done`.
TEST_F(LeaseQueueTest, WithdrawTakesBackOnlyAQueuedRequest) {
  Add("a1");
  Add("a2");
  auto leased = queue_.Take({}, 1, milliseconds(1000), milliseconds(0));
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_FALSE(queue_.Withdraw("a1"));  // a worker has it
  EXPECT_TRUE(queue_.Withdraw("a2"));
  EXPECT_FALSE(queue_.Withdraw("a2"));
  EXPECT_EQ(queue_.queued(), 0u);
  EXPECT_EQ(queue_.leased(), 1u);
  EXPECT_TRUE(done_.empty());
}

}  // namespace
}  // namespace bora::workers
