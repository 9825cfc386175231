// Group membership against the real PostgreSQL: the size limit holds under concurrent adds.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

#include "domain/group_service.hpp"
#include "storage/pg/group_repository.hpp"
#include "storage/pg/user_repository.hpp"
#include "support/migrate.hpp"

using namespace chatd;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

// Holds every add_member until `expected` of them have arrived: all the service calls have read
// the group (and its size) before any of them writes — the race, made certain.
struct AddsAtOnce final : GroupRepository {
  AddsAtOnce(GroupRepository& inner, boost::asio::io_context& ioc, int expected)
      : inner(inner), gate(ioc), expected(expected) {
    gate.expires_at(boost::asio::steady_timer::time_point::max());
  }
  awaitable<Result<Group>> create(std::string name, UserId owner,
                                  std::vector<UserId> members) override {
    co_return co_await inner.create(std::move(name), owner, std::move(members));
  }
  awaitable<Result<std::optional<Group>>> find(GroupId id) override {
    co_return co_await inner.find(id);
  }
  awaitable<Status> add_member(GroupId id, UserId user, std::size_t max_members) override {
    if (++arrived < expected) {
      boost::system::error_code ec;
      co_await gate.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    } else {
      gate.cancel();
    }
    co_return co_await inner.add_member(id, user, max_members);
  }
  awaitable<Result<bool>> remove_member(GroupId id, UserId user) override {
    co_return co_await inner.remove_member(id, user);
  }
  GroupRepository& inner;
  boost::asio::steady_timer gate;
  int expected;
  int arrived = 0;
};

class GroupsTest : public test::MigratedDatabase {
 protected:
  GroupsTest() : MigratedDatabase("groups", 8) {}
  UserId user(const std::string& name) {
    auto u = run_sync(ioc, users.create({name, name + "@example.com", test::kSampleHash}));
    EXPECT_TRUE(u) << u.error().message;
    return u->id;
  }
  pg::PgUserRepository users{pool};
  pg::PgGroupRepository groups{pool};
};

}  // namespace

// Before: each add checked the size it had read, then inserted — six concurrent adds to a group
// with one free place all passed the check and the group ended with eight members of three.
TEST_F(GroupsTest, ConcurrentAddsNeverOvershootTheSizeLimit) {
  AddsAtOnce racing(groups, ioc, 6);
  GroupService service(racing, GroupOptions{3});
  const auto owner = user("owner");
  const auto first = user("first");
  auto g = run_sync(ioc, service.create(owner, "team", {first}));
  ASSERT_TRUE(g) << g.error().message;

  std::vector<UserId> candidates;  // made first: run_sync runs the io_context
  for (int i = 0; i < 6; ++i) candidates.push_back(user("cand" + std::to_string(i)));
  std::vector<std::future<Result<Group>>> adds;
  for (const auto candidate : candidates)
    adds.push_back(boost::asio::co_spawn(ioc, service.add_member(owner, g->id, candidate),
                                         boost::asio::use_future));
  ioc.restart();
  ioc.run();
  int added = 0, full = 0;
  for (auto& f : adds) {
    auto r = f.get();
    if (r) {
      ++added;
    } else {
      EXPECT_EQ(r.error().code, errc::invalid_input);
      EXPECT_EQ(r.error().message, "the group is full");
      ++full;
    }
  }
  EXPECT_EQ(added, 1);
  EXPECT_EQ(full, 5);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM group_members WHERE group_id = " +
                      std::to_string(g->id)),
            "3");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversation_members cm JOIN conversations c"
                      " ON c.id = cm.conversation_id WHERE c.group_id = " +
                      std::to_string(g->id)),
            "3");
}

TEST_F(GroupsTest, AddingAnUnknownUserOrAMemberAgain) {
  const auto owner = user("owner2");
  auto g = run_sync(ioc, groups.create("team", owner, {owner}));
  ASSERT_TRUE(g);
  auto unknown = run_sync(ioc, groups.add_member(g->id, 987654321, 10));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, "user_id names no user");
  const auto m = user("member2");
  EXPECT_TRUE(run_sync(ioc, groups.add_member(g->id, m, 10)));
  EXPECT_TRUE(run_sync(ioc, groups.add_member(g->id, m, 10))) << "a member again is a no-op";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM group_members WHERE group_id = " +
                      std::to_string(g->id)),
            "2");
}
