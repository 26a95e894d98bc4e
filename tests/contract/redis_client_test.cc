// RedisClient (common/redis) against the real redis-server of scripts/services.sh ($BORA_REDIS): pipelined
// commands answer in order with per-command errors, pipelined scripts survive a SCRIPT FLUSH, and script runs
// sent without waiting (SendEvalMany) are answered to their ticket whatever ran on the connection meanwhile.
#include "common/redis/redis_client.h"

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/ids.h"

namespace bora {
namespace {

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("BORA_REDIS");
    ASSERT_TRUE(url != nullptr && *url != 0) << "run scripts/services.sh start and export BORA_REDIS";
    auto c = RedisClient::Connect(url);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
    prefix_ = "rc-" + NewUuid().substr(0, 8) + ":";
  }
  std::unique_ptr<RedisClient> client_;
  std::string prefix_;
};

TEST_F(RedisClientTest, PipelineAnswersEachCommandInOrder) {
  std::string k1 = prefix_ + "a", k2 = prefix_ + "b";
  auto replies = client_->Pipeline({{"SET", k1, "one"},
                                    {"INCR", k1},  // not an integer: an error for this command only
                                    {"SET", k2, "two"},
                                    {"GET", k1},
                                    {"GET", prefix_ + "missing"},
                                    {"NOSUCHCOMMAND"}});
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_TRUE(replies[0].ok());
  ASSERT_FALSE(replies[1].ok());
  EXPECT_EQ(replies[1].status().code(), StatusCode::kUnavailable);
  EXPECT_NE(replies[1].status().message().find("not an integer"), std::string::npos)
      << replies[1].status().ToString();
  EXPECT_TRUE(replies[2].ok());
  ASSERT_TRUE(replies[3].ok());
  EXPECT_EQ((*replies[3])->Str(), "one");
  ASSERT_TRUE(replies[4].ok());
  EXPECT_TRUE((*replies[4])->IsNil());
  EXPECT_FALSE(replies[5].ok());
  // The connection is still good after the error replies.
  auto get = client_->Command({"GET", k2});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ((*get)->Str(), "two");
  EXPECT_TRUE(client_->Pipeline({}).empty());
}

TEST_F(RedisClientTest, EvalManyRunsEachScriptAndSurvivesAScriptFlush) {
  const std::string script =
      "if ARGV[1] == 'fence' then return redis.error_reply('FENCED test') end "
      "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  std::string key = prefix_ + "n";
  auto first = client_->EvalMany(script, {{{key}, {"2"}}, {{key}, {"fence"}}, {{key}, {"3"}}});
  ASSERT_EQ(first.size(), 3u);
  ASSERT_TRUE(first[0].ok()) << first[0].status().ToString();
  EXPECT_EQ((*first[0])->Str(), "2");
  EXPECT_EQ(first[1].status().code(), StatusCode::kAborted) << first[1].status().ToString();
  ASSERT_TRUE(first[2].ok());
  EXPECT_EQ((*first[2])->Str(), "5");
  // The server forgets its scripts (as after a restart without persistence of the script cache): the
  // client, which believes the script loaded, gets NOSCRIPT and runs it again with its body.
  ASSERT_TRUE(client_->Command({"SCRIPT", "FLUSH"}).ok());
  auto second = client_->EvalMany(script, {{{key}, {"10"}}, {{key}, {"1"}}});
  ASSERT_EQ(second.size(), 2u);
  ASSERT_TRUE(second[0].ok()) << second[0].status().ToString();
  ASSERT_TRUE(second[1].ok()) << second[1].status().ToString();
  auto total = client_->Command({"GET", key});
  ASSERT_TRUE(total.ok());
  EXPECT_EQ((*total)->Str(), "16") << "each script ran exactly once";
  EXPECT_TRUE(client_->EvalMany(script, {}).empty());
}

TEST_F(RedisClientTest, SentScriptsAreAnsweredToTheirTicketWhateverRanMeanwhile) {
  const std::string script =
      "if ARGV[1] == 'fence' then return redis.error_reply('FENCED test') end "
      "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  std::string key = prefix_ + "s";
  // Two sends in flight, then ordinary commands on the same connection: they see the scripts' effects (the
  // server runs everything in order) and read their own replies, not the ones owed to the sends.
  uint64_t a = client_->SendEvalMany(script, {{{key}, {"2"}}, {{key}, {"fence"}}});
  uint64_t b = client_->SendEvalMany(script, {{{key}, {"5"}}});
  auto get = client_->Command({"GET", key});
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ((*get)->Str(), "7");
  auto piped = client_->Pipeline({{"INCRBY", key, "100"}, {"GET", key}});
  ASSERT_TRUE(piped[1].ok());
  EXPECT_EQ((*piped[1])->Str(), "107");
  // Received out of order: each ticket gets its own replies.
  auto rb = client_->ReceiveEvalMany(b);
  ASSERT_EQ(rb.size(), 1u);
  ASSERT_TRUE(rb[0].ok()) << rb[0].status().ToString();
  EXPECT_EQ((*rb[0])->Str(), "7");
  auto ra = client_->ReceiveEvalMany(a);
  ASSERT_EQ(ra.size(), 2u);
  ASSERT_TRUE(ra[0].ok());
  EXPECT_EQ((*ra[0])->Str(), "2");
  EXPECT_EQ(ra[1].status().code(), StatusCode::kAborted) << ra[1].status().ToString();
  // Received right away (nothing in between), and an empty send.
  uint64_t c = client_->SendEvalMany(script, {{{key}, {"1"}}});
  auto rc = client_->ReceiveEvalMany(c);
  ASSERT_EQ(rc.size(), 1u);
  ASSERT_TRUE(rc[0].ok());
  EXPECT_EQ((*rc[0])->Str(), "108");
  EXPECT_TRUE(client_->ReceiveEvalMany(client_->SendEvalMany(script, {})).empty());

  // The script cache flushed under a send: that call fails (no retry, later commands may have run), and the
  // next send loads the script again.
  ASSERT_TRUE(client_->Command({"SCRIPT", "FLUSH"}).ok());
  auto lost = client_->ReceiveEvalMany(client_->SendEvalMany(script, {{{key}, {"1000"}}}));
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].status().code(), StatusCode::kUnavailable);
  EXPECT_NE(lost[0].status().message().find("NOSCRIPT"), std::string::npos) << lost[0].status().ToString();
  auto again = client_->ReceiveEvalMany(client_->SendEvalMany(script, {{{key}, {"1"}}}));
  ASSERT_EQ(again.size(), 1u);
  ASSERT_TRUE(again[0].ok()) << again[0].status().ToString();
  EXPECT_EQ((*again[0])->Str(), "109");
}

TEST_F(RedisClientTest, SendsOnALostConnectionFailAndTheNextCommandReconnects) {
  const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  std::string key = prefix_ + "k";
  auto id = client_->Command({"CLIENT", "ID"});
  ASSERT_TRUE(id.ok());
  auto other = RedisClient::Connect(std::getenv("BORA_REDIS"));
  ASSERT_TRUE(other.ok());
  // Killed by another client before the send: the send's replies fail, then the connection is made again.
  ASSERT_TRUE((*other)->Command({"CLIENT", "KILL", "ID", (*id)->Str()}).ok());
  uint64_t t = client_->SendEvalMany(script, {{{key}, {"1"}}, {{key}, {"1"}}});
  auto r = client_->ReceiveEvalMany(t);
  ASSERT_EQ(r.size(), 2u);
  for (const auto& x : r) EXPECT_EQ(x.status().code(), StatusCode::kUnavailable) << x.status().ToString();
  auto next = client_->ReceiveEvalMany(client_->SendEvalMany(script, {{{key}, {"3"}}}));
  ASSERT_EQ(next.size(), 1u);
  ASSERT_TRUE(next[0].ok()) << next[0].status().ToString();
  auto get = client_->Command({"GET", key});
  ASSERT_TRUE(get.ok());
  // The first two may or may not have run: none did here, as the connection was gone before they were sent.
  EXPECT_EQ((*get)->Str(), "3");
}

TEST_F(RedisClientTest, AnIdempotentEvalManyRunsAgainOnANewConnection) {
  const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  std::string key = prefix_ + "i";
  auto other = RedisClient::Connect(std::getenv("BORA_REDIS"));
  ASSERT_TRUE(other.ok());
  auto kill = [&] {
    auto id = client_->Command({"CLIENT", "ID"});
    ASSERT_TRUE(id.ok());
    ASSERT_TRUE((*other)->Command({"CLIENT", "KILL", "ID", (*id)->Str()}).ok());
  };
  // Not idempotent: the call that finds the connection gone fails (the next one reconnects).
  kill();
  auto plain = client_->EvalMany(script, {{{key}, {"1"}}});
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0].status().code(), StatusCode::kUnavailable) << plain[0].status().ToString();
  // Idempotent (a read): made again at once.
  kill();
  auto read = client_->EvalMany(script, {{{key}, {"10"}}}, /*idempotent=*/true);
  ASSERT_EQ(read.size(), 1u);
  ASSERT_TRUE(read[0].ok()) << read[0].status().ToString();
  EXPECT_EQ((*read[0])->Str(), "10");
}

}  // namespace
}  // namespace bora
