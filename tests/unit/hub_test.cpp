#include "hub/hub.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>
#include <thread>

using namespace chatd::hub;

namespace {

class FakeSubscriber final : public Subscriber {
 public:
  FakeSubscriber(std::uint64_t session, std::int64_t user) : session_(session), user_(user) {}
  std::uint64_t session_id() const noexcept override { return session_; }
  std::int64_t user_id() const noexcept override { return user_; }
  void send(Frame f) override {
    std::lock_guard l(m);
    frames.push_back(std::move(f));
  }
  void close(std::uint16_t code, std::string_view) override { closed_with = code; }

  std::mutex m;
  std::vector<Frame> frames;
  int closed_with = 0;

 private:
  std::uint64_t session_;
  std::int64_t user_;
};

}  // namespace

TEST(Hub, ReportsFirstAndLastConnectionOfAUser) {
  Hub hub;
  auto a1 = std::make_shared<FakeSubscriber>(1, 10);
  auto a2 = std::make_shared<FakeSubscriber>(2, 10);
  EXPECT_TRUE(hub.add(a1));
  EXPECT_FALSE(hub.add(a2));
  EXPECT_TRUE(hub.online(10));
  EXPECT_EQ(hub.connections(), 2u);
  EXPECT_FALSE(hub.remove(*a1));
  EXPECT_TRUE(hub.online(10));
  EXPECT_TRUE(hub.remove(*a2));
  EXPECT_FALSE(hub.online(10));
  EXPECT_FALSE(hub.remove(*a2)) << "removing twice is harmless";
}

TEST(Hub, TellsItsInterestOfAUsersFirstAndLastConnectionAndSinceWhenItIsHeld) {
  struct Recorder final : Interest {
    std::vector<std::string> calls;
    void gained(std::int64_t u) override { calls.push_back("+" + std::to_string(u)); }
    void lost(std::int64_t u) override { calls.push_back("-" + std::to_string(u)); }
  } interest;
  Hub hub;
  hub.set_interest(&interest);
  auto a1 = std::make_shared<FakeSubscriber>(1, 10);
  auto a2 = std::make_shared<FakeSubscriber>(2, 10);
  auto b = std::make_shared<FakeSubscriber>(3, 11);
  EXPECT_FALSE(hub.held_since(10));
  const auto before = std::chrono::steady_clock::now();
  hub.add(a1);
  const auto since = hub.held_since(10);
  ASSERT_TRUE(since);
  EXPECT_GE(*since, before);
  hub.add(a2);
  hub.add(b);
  EXPECT_EQ(hub.held_since(10), since) << "a second connection does not restart it";
  hub.remove(*a1);
  EXPECT_EQ(hub.held_since(10), since);
  hub.remove(*a2);
  EXPECT_FALSE(hub.held_since(10));
  hub.add(a1);
  EXPECT_GT(*hub.held_since(10), *since) << "a break starts it again";
  EXPECT_EQ(interest.calls, (std::vector<std::string>{"+10", "+11", "-10", "+10"}));
}

TEST(Hub, DeliversOneSharedFrameToEveryConnectionButTheExcludedOne) {
  Hub hub;
  auto a1 = std::make_shared<FakeSubscriber>(1, 10);
  auto a2 = std::make_shared<FakeSubscriber>(2, 10);
  auto b = std::make_shared<FakeSubscriber>(3, 20);
  auto c = std::make_shared<FakeSubscriber>(4, 30);
  for (auto& s : {a1, a2, b, c}) hub.add(s);
  const auto frame = make_frame("{\"type\":\"message\"}", {99, 5, 7, 10});
  const std::vector<std::int64_t> users = {10, 20, 40};
  EXPECT_EQ(hub.deliver(users, frame, /*except=*/1), 2u);
  EXPECT_TRUE(a1->frames.empty());
  ASSERT_EQ(a2->frames.size(), 1u);
  ASSERT_EQ(b->frames.size(), 1u);
  EXPECT_TRUE(c->frames.empty()) << "not addressed";
  EXPECT_EQ(a2->frames[0].text.get(), b->frames[0].text.get()) << "serialized once, shared";
  EXPECT_EQ(b->frames[0].message.id, 99);
  EXPECT_EQ(b->frames[0].message.seq, 7);
}

TEST(Hub, CloseAllReachesEveryConnection) {
  Hub hub;
  std::vector<std::shared_ptr<FakeSubscriber>> subs;
  for (int i = 0; i < 100; ++i) {
    subs.push_back(std::make_shared<FakeSubscriber>(i + 1, i % 7));
    hub.add(subs.back());
  }
  hub.close_all(1001, "bye");
  for (auto& s : subs) EXPECT_EQ(s->closed_with, 1001);
}

TEST(Hub, ConcurrentAddDeliverRemoveIsSafe) {
  Hub hub;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        auto s = std::make_shared<FakeSubscriber>(t * 100000 + i, i % 50);
        hub.add(s);
        const std::int64_t u = i % 50;
        hub.deliver(std::span<const std::int64_t>(&u, 1), make_frame("x"));
        hub.remove(*s);
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(hub.connections(), 0u);
}
