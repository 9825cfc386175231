// ArrivalReader: the connects waiting while one statement runs are read together in the next,
// each caller gets its own user (or not_found), and a failed statement fails every caller of it.
#include "domain/arrival_reader.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>

#include "support/null_services.hpp"

using namespace chatd;
using boost::asio::awaitable;

namespace {

// Users 1..50 exist; even ones have something waiting. Each statement takes 5 ms.
struct FiftyUsers final : test::NoUsers {
  explicit FiftyUsers(boost::asio::io_context& ioc) : ioc(ioc) {}
  awaitable<Result<std::vector<Arrival>>> arrivals(std::vector<UserId> ids) override {
    calls.push_back(ids);
    boost::asio::steady_timer t(ioc, std::chrono::milliseconds(5));
    co_await t.async_wait(boost::asio::use_awaitable);
    if (fail) co_return make_error(errc::unavailable, "database pool exhausted");
    std::vector<Arrival> out;
    for (auto id : ids) {
      if (id < 1 || id > 50) continue;
      User u;
      u.id = id;
      u.username = "user" + std::to_string(id);
      out.push_back(Arrival{u, id % 2 == 0});
    }
    co_return out;
  }
  boost::asio::io_context& ioc;
  std::vector<std::vector<UserId>> calls;
  bool fail = false;
};

}  // namespace

TEST(ArrivalReader, ConnectsThatComeTogetherAreReadInOneStatementEachGettingItsOwnUser) {
  boost::asio::io_context ioc;
  FiftyUsers users(ioc);
  ArrivalReader reader(ioc.get_executor(), users, 16);
  std::map<int, Result<Arrival>> got;
  // 22 connects: 1..8, 7 again (a second device), 9..20 and 99 (no such user).
  std::vector<UserId> wanted;
  for (UserId u = 1; u <= 8; ++u) wanted.push_back(u);
  wanted.push_back(7);
  for (UserId u = 9; u <= 20; ++u) wanted.push_back(u);
  wanted.push_back(99);
  const auto connect = [&](std::size_t i) {
    boost::asio::co_spawn(
        ioc,
        [&, i]() -> awaitable<void> { got.emplace(int(i), co_await reader.read(wanted[i])); },
        boost::asio::detached);
  };
  // The first connect finds the reader idle and is read at once, alone; the other 21 come
  // while that statement runs.
  connect(0);
  while (users.calls.empty()) ioc.run_one();
  for (std::size_t i = 1; i < wanted.size(); ++i) connect(i);
  ioc.run();
  ASSERT_EQ(got.size(), wanted.size());
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const auto& r = got.at(int(i));
    if (wanted[i] == 99) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error().code, errc::not_found);
      continue;
    }
    ASSERT_TRUE(r) << wanted[i];
    EXPECT_EQ(r->user.id, wanted[i]);
    EXPECT_EQ(r->user.username, "user" + std::to_string(wanted[i]));
    EXPECT_EQ(r->waiting, wanted[i] % 2 == 0);
  }
  // The first alone (a quiet reader does not wait to fill a batch), then at most 16 at a time,
  // each user asked for once.
  ASSERT_EQ(users.calls.size(), 3u);
  EXPECT_EQ(users.calls[0], (std::vector<UserId>{1}));
  EXPECT_EQ(users.calls[1], (std::vector<UserId>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}))
      << "the two connects of user 7 share one row";
  EXPECT_EQ(users.calls[2], (std::vector<UserId>{17, 18, 19, 20, 99}));
}

TEST(ArrivalReader, AFailedStatementFailsEveryConnectItCarried) {
  boost::asio::io_context ioc;
  FiftyUsers users(ioc);
  users.fail = true;
  ArrivalReader reader(ioc.get_executor(), users);
  int failed = 0;
  for (UserId u = 1; u <= 5; ++u)
    boost::asio::co_spawn(
        ioc,
        [&, u]() -> awaitable<void> {
          auto r = co_await reader.read(u);
          if (!r && r.error().code == errc::unavailable) ++failed;
        },
        boost::asio::detached);
  ioc.run();
  EXPECT_EQ(failed, 5);
  users.fail = false;
  auto later = [&]() -> awaitable<Result<Arrival>> { co_return co_await reader.read(4); };
  std::optional<Result<Arrival>> r;
  boost::asio::co_spawn(ioc, [&]() -> awaitable<void> { r = co_await later(); },
                        boost::asio::detached);
  ioc.restart();
  ioc.run();
  ASSERT_TRUE(r && *r) << "the reader goes on after a failure";
  EXPECT_TRUE((*r)->waiting);
}
