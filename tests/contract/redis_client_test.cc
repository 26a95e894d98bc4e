// RedisClient (common/redis) against the real redis-server of scripts/services.sh ($BORA_REDIS): pipelined
// commands answer in order with per-command errors, and pipelined scripts survive a SCRIPT FLUSH.
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

}  // namespace
}  // namespace bora
