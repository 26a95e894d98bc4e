#include "workers/net_policy.h"

#include <gtest/gtest.h>

#include "workers/std_actions.h"

namespace bora::workers {
namespace {

TEST(CidrBlockTest, ParseAndContains) {
  struct Case {
    const char* cidr;
    const char* ip;
    bool contains;
  };
  const Case cases[] = {
      {"10.0.0.0/8", "10.1.2.3", true},
      {"10.0.0.0/8", "11.0.0.1", false},
      {"172.16.0.0/12", "172.31.255.255", true},
      {"172.16.0.0/12", "172.32.0.0", false},
      {"192.168.0.0/16", "192.168.9.9", true},
      {"169.254.0.0/16", "169.254.169.254", true},
      {"0.0.0.0/8", "0.0.0.0", true},
      {"::1", "::1", true},
      {"::1", "::2", false},
      {"fc00::/7", "fd12:3456::1", true},
      {"fc00::/7", "fe00::1", false},
      {"fe80::/10", "febf::1", true},
      {"10.0.0.0/8", "::ffff:10.9.9.9", true},
      {"10.0.0.0/8", "2001:db8::1", false},
      {"1.2.3.4", "1.2.3.4", true},
      {"0.0.0.0/0", "8.8.8.8", true},
  };
  for (const Case& c : cases) {
    Result<CidrBlock> block = CidrBlock::Parse(c.cidr);
    ASSERT_TRUE(block.ok()) << c.cidr;
    Result<IpAddress> ip = IpAddress::Parse(c.ip);
    ASSERT_TRUE(ip.ok()) << c.ip;
    EXPECT_EQ(block->Contains(*ip), c.contains) << c.cidr << " " << c.ip;
  }
}

TEST(CidrBlockTest, RejectsBadText) {
  for (const char* bad :
       {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "host/8", "1.2.3/8"}) {
    EXPECT_FALSE(CidrBlock::Parse(bad).ok()) << bad;
  }
}

TEST(NetworkPolicyTest, DefaultsDenyPrivateAndLoopbackUnlessAllowed) {
  NetworkPolicy strict(DefaultDeniedCidrs(), /*allow_loopback=*/false);
  NetworkPolicy loopback_ok(DefaultDeniedCidrs(), /*allow_loopback=*/true);
  struct Case {
    const char* ip;
    bool strict_ok;
    bool loopback_ok;
  };
  const Case cases[] = {
      {"127.0.0.1", false, true},
      {"127.8.8.8", false, true},
      {"::1", false, true},
      {"::ffff:127.0.0.1", false, true},
      {"10.0.0.1", false, false},
      {"192.168.1.1", false, false},
      {"169.254.169.254", false, false},
      {"fd00::1", false, false},
      {"fe80::1", false, false},
      {"0.0.0.0", false, false},
      {"::", false, false},
      {"8.8.8.8", true, true},
      {"2001:4860:4860::8888", true, true},
      {"172.15.255.255", true, true},
  };
  for (const Case& c : cases) {
    IpAddress ip = *IpAddress::Parse(c.ip);
    EXPECT_EQ(strict.Check(ip).ok(), c.strict_ok) << c.ip;
    EXPECT_EQ(loopback_ok.Check(ip).ok(), c.loopback_ok) << c.ip;
    if (!c.strict_ok) {
      EXPECT_EQ(strict.Check(ip).code(), StatusCode::kPermissionDenied);
    }
  }
}

TEST(NetworkPolicyTest, InvalidConfigDeniesEverything) {
  NetworkPolicy policy({"10.0.0.0/8", "bogus"}, true);
  EXPECT_FALSE(policy.config_error().ok());
  EXPECT_FALSE(policy.Check(*IpAddress::Parse("8.8.8.8")).ok());
}

TEST(ResolveHostTest, LiteralsAndLocalhost) {
  auto v4 = ResolveHost("127.0.0.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->at(0).ToString(), "127.0.0.1");
  auto v6 = ResolveHost("[::1]");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->at(0).ToString(), "::1");
  auto local = ResolveHost("localhost");
  ASSERT_TRUE(local.ok());
  for (const IpAddress& ip : *local) EXPECT_TRUE(ip.IsLoopback()) << ip.ToString();
}

}  // namespace
}  // namespace bora::workers
