// The keep-alive wheel (net/keep_alive.hpp): who is pinged, who is dropped, and when, turned by
// hand second by second (the timer's turning is covered end to end: durability_e2etest's silent
// peer).
#include "net/keep_alive.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <utility>
#include <vector>

using chatd::net::KeepAlive;
using namespace std::chrono_literals;

namespace {
// A connection that records when it was told to ping (false) or to drop (true).
struct Peer final : KeepAlive::Member {
  explicit Peer(KeepAlive& w) : wheel(w) {}
  ~Peer() { leave(); }
  void keep_alive_due(bool drop) override { calls.emplace_back(wheel.now(), drop); }
  KeepAlive& wheel;
  std::vector<std::pair<std::uint32_t, bool>> calls;
};
using Calls = std::vector<std::pair<std::uint32_t, bool>>;
}  // namespace

TEST(KeepAlive, ASilentPeerIsPingedAtThreeQuartersOfTheTimeoutAndDroppedAtTheTimeout) {
  KeepAlive wheel(60s);
  Peer p(wheel);
  wheel.add(p);
  EXPECT_EQ(wheel.members(), 1u);
  wheel.turn_to(44);
  EXPECT_TRUE(p.calls.empty());
  wheel.turn_to(45);
  EXPECT_EQ(p.calls, (Calls{{45, false}}));
  wheel.turn_to(59);
  EXPECT_EQ(p.calls, (Calls{{45, false}})) << "one ping, then 15 s for its pong";
  wheel.turn_to(60);
  EXPECT_EQ(p.calls, (Calls{{45, false}, {60, true}}));
  EXPECT_EQ(wheel.members(), 0u) << "off the wheel once dropped";
  EXPECT_FALSE(p.is_linked());
  wheel.turn_to(200);
  EXPECT_EQ(p.calls.size(), 2u) << "never looked at again";
  p.leave();  // the owner's leave after a drop is harmless
  EXPECT_EQ(wheel.members(), 0u);
}

TEST(KeepAlive, APeerThatAnswersIsPingedEvery45SecondsAndNeverDropped) {
  KeepAlive wheel(60s);
  Peer p(wheel);
  wheel.add(p);
  Calls expected;
  for (std::uint32_t s = 1; s <= 600; ++s) {
    wheel.turn_to(s);
    if (!p.calls.empty() && p.calls.back().first == s) p.heard();  // the pong, at once
    if (s % 45 == 0) expected.emplace_back(s, false);
  }
  EXPECT_EQ(p.calls, expected);
  wheel.remove(p);
}

TEST(KeepAlive, APongThatComesLateStillKeepsThePeer) {
  KeepAlive wheel(60s);
  Peer p(wheel);
  wheel.add(p);
  wheel.turn_to(45);
  wheel.turn_to(59);
  p.heard();  // the pong, 14 s after the ping
  wheel.turn_to(103);
  EXPECT_EQ(p.calls, (Calls{{45, false}}));
  wheel.turn_to(104);
  EXPECT_EQ(p.calls, (Calls{{45, false}, {104, false}})) << "pinged when that pong is 45 s old";
  wheel.turn_to(118);
  EXPECT_EQ(p.calls.size(), 2u);
  wheel.turn_to(119);
  EXPECT_EQ(p.calls.back(), (std::pair<std::uint32_t, bool>{119, true}));
}

TEST(KeepAlive, APeerHeardFromIsNeverPinged) {
  KeepAlive wheel(60s);
  Peer p(wheel);
  wheel.add(p);
  for (std::uint32_t s = 1; s <= 300; ++s) {
    wheel.turn_to(s);
    if (s % 40 == 0) p.heard();  // a frame every 40 s
  }
  EXPECT_TRUE(p.calls.empty());
  wheel.remove(p);
}

TEST(KeepAlive, ARemovedPeerIsNeverCalled) {
  KeepAlive wheel(60s);
  Peer gone(wheel), kept(wheel);
  wheel.add(gone);
  wheel.add(kept);
  EXPECT_EQ(wheel.members(), 2u);
  wheel.turn_to(10);
  gone.leave();
  EXPECT_FALSE(gone.is_linked());
  EXPECT_EQ(wheel.members(), 1u);
  wheel.turn_to(120);
  EXPECT_TRUE(gone.calls.empty());
  EXPECT_EQ(kept.calls, (Calls{{45, false}, {60, true}}));
}

TEST(KeepAlive, AWheelThatFellBehindLooksAtEverySecondItMissed) {
  KeepAlive wheel(60s);
  Peer early(wheel);
  wheel.add(early);
  wheel.turn_to(15);
  Peer late(wheel);
  wheel.add(late);  // heard at 15
  wheel.turn_to(100);  // one turn for 85 seconds
  EXPECT_EQ(early.calls, (Calls{{45, false}, {60, true}}));
  EXPECT_EQ(late.calls, (Calls{{60, false}, {75, true}}));
  EXPECT_EQ(wheel.now(), 100u);
}

TEST(KeepAlive, TheShortestTimeoutPingsAfterOneSecondAndDropsAfterTwo) {
  KeepAlive wheel(2s);
  EXPECT_EQ(wheel.idle_timeout(), 2s);
  Peer silent(wheel), alive(wheel);
  wheel.add(silent);
  wheel.add(alive);
  for (std::uint32_t s = 1; s <= 10; ++s) {
    wheel.turn_to(s);
    if (!alive.calls.empty() && alive.calls.back().first == s) alive.heard();
  }
  EXPECT_EQ(silent.calls, (Calls{{1, false}, {2, true}}));
  EXPECT_EQ(alive.calls.size(), 10u);
  for (const auto& [second, drop] : alive.calls) EXPECT_FALSE(drop) << second;
  wheel.remove(alive);
}

TEST(KeepAlive, ManyPeersAddedOverTimeArePingedOnceEvery45SecondsEach) {
  KeepAlive wheel(60s);
  std::vector<std::unique_ptr<Peer>> peers;
  std::size_t pings = 0;
  for (std::uint32_t s = 1; s <= 300; ++s) {
    for (int k = 0; k < 10 && s <= 30; ++k) {  // 300 peers joining over the first 30 s
      peers.push_back(std::make_unique<Peer>(wheel));
      wheel.add(*peers.back());
    }
    wheel.turn_to(s);
    for (auto& p : peers)
      if (!p->calls.empty() && p->calls.back().first == s) {
        ASSERT_FALSE(p->calls.back().second) << "an answering peer was dropped";
        ++pings;
        p->heard();
      }
  }
  EXPECT_EQ(wheel.members(), 300u);
  // Each peer added at second a (before the turn to a) is pinged at a+44, a+89, ... ≤ 300.
  std::size_t expected = 0;
  for (std::uint32_t a = 1; a <= 30; ++a)
    for (std::uint32_t t = a - 1 + 45; t <= 300; t += 45) expected += 10;
  EXPECT_EQ(pings, expected);
  peers.clear();  // each leaves as it goes
  EXPECT_EQ(wheel.members(), 0u);
}
