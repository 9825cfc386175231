#include "auth/password_hasher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <thread>

using chatd::auth::PasswordHasher;

TEST(PasswordHasher, ProducesBcrypt2bAtTheGivenCost) {
  const auto h = PasswordHasher::hash_now("correct horse", 5);
  EXPECT_TRUE(h.starts_with("$2b$05$")) << h;
  EXPECT_EQ(h.size(), 60u);
  EXPECT_NE(h, PasswordHasher::hash_now("correct horse", 5)) << "salts must differ";
}

TEST(PasswordHasher, VerifiesOnlyTheRightPassword) {
  const auto h = PasswordHasher::hash_now("correct horse", 4);
  EXPECT_TRUE(PasswordHasher::verify_now("correct horse", h));
  EXPECT_FALSE(PasswordHasher::verify_now("correct horsf", h));
  EXPECT_FALSE(PasswordHasher::verify_now("", h));
  EXPECT_FALSE(PasswordHasher::verify_now("correct horse", "not-a-hash"));
  EXPECT_FALSE(PasswordHasher::verify_now("correct horse", "$2b$04$short"));
}

TEST(PasswordHasher, HashesOnAWorkerThreadAndResumesOnTheCaller) {
  PasswordHasher hasher({4, 1, 8});
  boost::asio::io_context ioc;
  std::thread::id caller, after;
  auto fut = boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<std::string> {
        caller = std::this_thread::get_id();
        auto h = co_await hasher.hash("password123");
        after = std::this_thread::get_id();
        co_return h.value();
      },
      boost::asio::use_future);
  ioc.run();
  const auto h = fut.get();
  EXPECT_TRUE(PasswordHasher::verify_now("password123", h));
  EXPECT_EQ(caller, after);
}

TEST(PasswordHasher, RefusesWorkBeyondItsQueueBound) {
  PasswordHasher hasher({12, 1, 1});  // one job at a time, and a slow one
  boost::asio::io_context ioc;
  int refused = 0, done = 0;
  for (int i = 0; i < 3; ++i) {
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
          auto r = co_await hasher.hash("password123");
          if (r) ++done;
          else if (r.error().code == chatd::errc::unavailable) ++refused;
        },
        boost::asio::detached);
  }
  ioc.run();
  EXPECT_EQ(done, 1);
  EXPECT_EQ(refused, 2);
}
