// The client's address behind trusted proxies (PROTOCOL §10): the rightmost address of
// X-Forwarded-For that is not itself trusted, and the peer itself when it is not trusted.
#include "net/client_address.hpp"

#include <gtest/gtest.h>

using chatd::net::TrustedProxies;
namespace ip = boost::asio::ip;

namespace {

TrustedProxies trusted(const char* list) {
  std::string error;
  auto p = TrustedProxies::parse(list, &error);
  EXPECT_TRUE(p) << error;
  return p ? *p : TrustedProxies{};
}

std::string client(const TrustedProxies& t, const char* peer, const char* xff) {
  return t.client_address(ip::make_address(peer), xff);
}

}  // namespace

TEST(ClientAddress, WithoutTrustedProxiesThePeerIsTheClientAndTheHeaderIsIgnored) {
  const TrustedProxies none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(client(none, "127.0.0.1", "10.9.8.7"), "127.0.0.1");
}

TEST(ClientAddress, AnUntrustedPeersHeaderIsIgnored) {
  const auto t = trusted("10.0.0.0/8");
  EXPECT_EQ(client(t, "192.0.2.5", "203.0.113.9"), "192.0.2.5") << "anyone can write the header";
}

TEST(ClientAddress, TheRightmostUntrustedAddressIsTheClient) {
  const auto t = trusted("10.0.0.0/8, 127.0.0.1");
  EXPECT_EQ(client(t, "127.0.0.1", "203.0.113.9"), "203.0.113.9");
  // A client's own forged entries sit to the left of what the proxy appended.
  EXPECT_EQ(client(t, "127.0.0.1", "1.1.1.1, 203.0.113.9"), "203.0.113.9");
  // A chain of trusted proxies is walked over.
  EXPECT_EQ(client(t, "127.0.0.1", "1.1.1.1, 203.0.113.9, 10.1.2.3, 10.4.5.6"), "203.0.113.9");
  // Several header lines, joined in order.
  EXPECT_EQ(client(t, "127.0.0.1", "203.0.113.9,10.1.2.3"), "203.0.113.9");
}

TEST(ClientAddress, MissingOrEveryHopTrustedOrGarbage) {
  const auto t = trusted("127.0.0.0/8,10.0.0.0/8");
  EXPECT_EQ(client(t, "127.0.0.2", ""), "127.0.0.2") << "no header: the proxy itself";
  EXPECT_EQ(client(t, "127.0.0.2", "10.0.0.1, 10.0.0.2"), "10.0.0.1") << "all trusted: leftmost";
  EXPECT_EQ(client(t, "127.0.0.2", "203.0.113.9, not-an-address"), "127.0.0.2")
      << "what a trusted hop would not write stops the walk";
  EXPECT_EQ(client(t, "127.0.0.2", "garbage, 10.0.0.3"), "10.0.0.3");
  EXPECT_EQ(client(t, "127.0.0.2", " , 198.51.100.4 ,"), "198.51.100.4");
}

TEST(ClientAddress, PortsBracketsIpv6AndMappedAddresses) {
  const auto t = trusted("::1, 127.0.0.1/32");
  EXPECT_EQ(client(t, "::1", "203.0.113.9:4711"), "203.0.113.9");
  EXPECT_EQ(client(t, "::1", "[2001:db8::7]:443"), "2001:db8::7");
  EXPECT_EQ(client(t, "::1", "2001:db8::8"), "2001:db8::8");
  EXPECT_EQ(client(t, "::ffff:127.0.0.1", "203.0.113.10"), "203.0.113.10")
      << "an IPv4-mapped peer is the IPv4 proxy";
  EXPECT_EQ(client(t, "::1", "::ffff:198.51.100.1"), "198.51.100.1");
}

TEST(ClientAddress, PrefixesMatchBitByBit) {
  const auto t = trusted("192.168.4.0/22");
  EXPECT_TRUE(t.trusts(ip::make_address("192.168.7.255")));
  EXPECT_FALSE(t.trusts(ip::make_address("192.168.8.0")));
  EXPECT_FALSE(t.trusts(ip::make_address("192.168.3.255")));
  EXPECT_FALSE(t.trusts(ip::make_address("::1")));
  const auto all = trusted("0.0.0.0/0");
  EXPECT_TRUE(all.trusts(ip::make_address("8.8.8.8")));
}

TEST(ClientAddress, BadListsAreRefused) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/", "nonsense", "10.0.0.0/8x", "::1/129",
                          "1.2.3.4/-1"}) {
    std::string error;
    EXPECT_FALSE(TrustedProxies::parse(bad, &error)) << bad;
    EXPECT_NE(error.find("CIDR"), std::string::npos) << bad;
  }
  EXPECT_TRUE(TrustedProxies::parse(""));
  EXPECT_TRUE(TrustedProxies::parse(" , "));
}
