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
      // IPv6 forms that carry an IPv4 address are checked as that IPv4 address; the local-use
      // NAT64 prefix and the deprecated IPv4-compatible ::/96 are denied outright.
      {"64:ff9b::7f00:1", false, true},      // NAT64 of 127.0.0.1
      {"64:ff9b::127.0.0.1", false, true},   // the same, dotted
      {"64:ff9b::a00:1", false, false},      // NAT64 of 10.0.0.1
      {"64:ff9b::a9fe:a9fe", false, false},  // NAT64 of 169.254.169.254
      {"64:ff9b::c0a8:101", false, false},   // NAT64 of 192.168.1.1
      {"64:ff9b::", false, false},           // NAT64 of 0.0.0.0
      {"64:ff9b::808:808", true, true},      // NAT64 of 8.8.8.8
      {"64:ff9b:1::808:808", false, false},  // local-use NAT64: denied outright
      {"64:ff9b:1:ffff::7f00:1", false, false},
      {"::ffff:10.1.1.1", false, false},  // IPv4-mapped
      {"::ffff:8.8.8.8", true, true},
      {"::ffff:0:7f00:1", false, true},  // IPv4-translated 127.0.0.1
      {"::ffff:0:a00:1", false, false},
      {"::ffff:0:808:808", true, true},
      {"::7f00:1", false, false},  // IPv4-compatible (deprecated): denied outright
      {"::a00:1", false, false},
      {"::808:808", false, false},
      {"2002:7f00:1::1", false, true},                         // 6to4 of 127.0.0.1
      {"2002:a00:1::1", false, false},                         // 6to4 of 10.0.0.1
      {"2002:a9fe:a9fe::", false, false},                      // 6to4 of 169.254.169.254
      {"2002:808:808::1", true, true},                         // 6to4 of 8.8.8.8
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", true, true},    // Teredo: 65.54.227.120, 192.0.2.45
      {"2001:0:a00:1:8000:63bf:3fff:fdd2", false, false},      // Teredo server 10.0.0.1
      {"2001:0:4136:e378:8000:63bf:80ff:fffe", false, true},   // Teredo client 127.0.0.1
      {"2001:0:4136:e378:8000:63bf:f5ff:fffe", false, false},  // Teredo client 10.0.0.1
      {"2001:db8::7f00:1", true, true},  // documentation prefix: no IPv4 inside
  };
  for (const Case& c : cases) {
    IpAddress ip = *IpAddress::Parse(c.ip);
    EXPECT_EQ(strict.Check(ip).ok(), c.strict_ok) << c.ip;
    EXPECT_EQ(loopback_ok.Check(ip).ok(), c.loopback_ok) << c.ip;
    if (!c.strict_ok) {
      EXPECT_EQ(strict.Check(ip).code(), StatusCode::kPermissionDenied);
    }
  }
  EXPECT_NE(
      strict.Check(*IpAddress::Parse("64:ff9b::7f00:1")).message().find("embeds IPv4 127.0.0.1"),
      std::string::npos);
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
