// The asynchronous libpq layer against the real PostgreSQL of scripts/test.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

#include "storage/pg/pool.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

constexpr Statement kAdd{"t_add", "SELECT $1::int + $2::int"};
constexpr Statement kSleep{"t_sleep", "SELECT pg_sleep($1::float8 / 1000), pg_backend_pid()"};
constexpr Statement kCreate{"t_create", "CREATE TABLE IF NOT EXISTS t (k text PRIMARY KEY)"};
constexpr Statement kInsert{"t_insert", "INSERT INTO t (k) VALUES ($1)"};
constexpr Statement kCount{"t_count", "SELECT count(*) FROM t"};
constexpr Statement kPid{"t_pid", "SELECT pg_backend_pid()"};
constexpr Statement kKill{"t_kill", "SELECT pg_terminate_backend($1::int)"};
constexpr Statement kNull{"t_null", "SELECT $1::text IS NULL, $2::text"};

class PoolTest : public ::testing::Test {
 protected:
  test::TestDatabase db{"pool"};
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 4, std::chrono::milliseconds(3000)}};
};

}  // namespace

TEST_F(PoolTest, RunsAParameterizedStatement) {
  auto r = run_sync(ioc, pool.exec(kAdd, params("2", "40")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->int64(0, 0), 42);
}

TEST_F(PoolTest, NullParametersAreSqlNull) {
  auto r = run_sync(ioc, pool.exec(kNull, params(std::nullopt, "x")));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->boolean(0, 0));
  EXPECT_EQ(r->str(0, 1), "x");
}

TEST_F(PoolTest, APipelineIsOneAtomicUnit) {
  ASSERT_TRUE(run_sync(ioc, pool.exec(kCreate, params())));
  // The second insert clashes: neither may stay.
  auto r = run_sync(ioc, pool.run({{&kInsert, params("a")}, {&kInsert, params("a")}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::conflict);
  EXPECT_EQ(r.error().sqlstate, "23505");
  EXPECT_EQ(r.error().constraint, "t_pkey");
  EXPECT_EQ(run_sync(ioc, pool.exec(kCount, params()))->int64(0, 0), 0);
  // And the connection is fine afterwards.
  auto ok = run_sync(ioc, pool.run({{&kInsert, params("a")}, {&kInsert, params("b")}}));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].affected(), 1);
  EXPECT_EQ(run_sync(ioc, pool.exec(kCount, params()))->int64(0, 0), 2);
}

TEST_F(PoolTest, SyntaxErrorsAreInternalAndDoNotPoisonTheConnection) {
  constexpr Statement bad{"t_bad", "SELEC 1"};
  auto r = run_sync(ioc, pool.exec(bad, params()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::internal);
  EXPECT_TRUE(run_sync(ioc, pool.exec(kAdd, params("1", "1"))));
}

TEST_F(PoolTest, ConcurrentQueriesShareAtMostMaxConnections) {
  // 12 queries of 100 ms on 4 connections, on 2 threads: about 300 ms, never more than 4 backends.
  std::atomic<int> done{0};
  std::set<std::string> pids;
  std::mutex m;
  const auto t0 = std::chrono::steady_clock::now();
  run_sync(
      ioc,
      [&]() -> awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (int i = 0; i < 12; ++i) {
          boost::asio::co_spawn(
              ex,
              [&]() -> awaitable<void> {
                auto r = co_await pool.exec(kSleep, params("100"));
                if (r) {
                  std::lock_guard l(m);
                  pids.insert(r->str(0, 1));
                  ++done;
                }
              },
              boost::asio::detached);
        }
        co_return;
      }(),
      2);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0)
                      .count();
  EXPECT_EQ(done, 12);
  EXPECT_LE(pids.size(), 4u);
  EXPECT_GE(ms, 290) << "the pool must not open more than 4 connections";
}

TEST_F(PoolTest, AcquireTimesOutWhenThePoolStaysBusy) {
  Pool small{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(100)}};
  std::optional<PgError> timed_out;
  run_sync(ioc, [&]() -> awaitable<void> {
    auto held = co_await small.acquire();
    EXPECT_TRUE(held);
    auto second = co_await small.acquire();
    if (!second) timed_out = second.error();
  }());
  ASSERT_TRUE(timed_out);
  EXPECT_EQ(timed_out->code, errc::unavailable);
}

// The cluster heartbeat must not wait behind a connect storm's queue: a first-priority acquire
// is served before everyone already waiting, who are then served in their order.
TEST_F(PoolTest, AFirstPriorityAcquireIsServedBeforeTheQueue) {
  Pool small{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(5000)}};
  std::vector<std::string> order;
  run_sync(ioc, [&]() -> awaitable<void> {
    auto ex = co_await boost::asio::this_coro::executor;
    boost::asio::steady_timer t(ex);
    auto until = [&](auto done) -> awaitable<void> {
      while (!done()) {
        t.expires_after(std::chrono::milliseconds(5));
        co_await t.async_wait(boost::asio::use_awaitable);
      }
    };
    auto take = [&](std::string name, Priority priority) -> awaitable<void> {
      auto lease = co_await small.acquire(priority);
      if (lease) order.push_back(name);
    };
    auto held = co_await small.acquire();
    EXPECT_TRUE(held);
    for (std::string name : {"a", "b", "c"}) {
      boost::asio::co_spawn(ex, take(name, Priority::normal), boost::asio::detached);
      const auto waiting = static_cast<std::size_t>(name[0] - 'a' + 1);
      co_await until([&] { return small.waiting() == waiting; });
    }
    boost::asio::co_spawn(ex, take("heartbeat", Priority::first), boost::asio::detached);
    co_await until([&] { return small.waiting() == 4; });
    { [[maybe_unused]] auto released = std::move(*held); }
    co_await until([&] { return order.size() == 4; });
  }());
  EXPECT_EQ(order, (std::vector<std::string>{"heartbeat", "a", "b", "c"}));
}

TEST_F(PoolTest, ALostConnectionIsReplaced) {
  Pool one{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(3000)}};
  const auto pid = run_sync(ioc, one.exec(kPid, params()))->str(0, 0);
  // Kill that backend from another connection, as a restart or a network cut would.
  ASSERT_TRUE(run_sync(ioc, pool.exec(kKill, params(pid))));
  auto failed = run_sync(ioc, one.exec(kPid, params()));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, errc::unavailable);
  auto again = run_sync(ioc, one.exec(kPid, params()));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_NE(again->str(0, 0), pid);
}

TEST(PoolUnreachable, ConnectFailureIsUnavailableNotFatal) {
  boost::asio::io_context ioc;
  Pool p{ioc.get_executor(),
         PoolOptions{"host=127.0.0.1 port=1 connect_timeout=2", 2, std::chrono::milliseconds(500)}};
  auto r = run_sync(ioc, p.exec(kPid, params()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::unavailable);
}

// Several hosts (PROTOCOL §11): libpq tries them in turn, each on a socket of its own, often
// under the descriptor number the last one had. Here the first host refuses at once; a watcher
// still registered for the first socket would never see the second one's handshake.
TEST(PoolMultiHost, TheNextHostIsTriedOnItsOwnSocket) {
  test::TestDatabase db{"pool_multihost"};
  std::string conninfo = db.conninfo();
  auto swap = [&](const std::string& key, const std::string& first) {
    const auto at = conninfo.find(key + "=");
    ASSERT_NE(at, std::string::npos) << conninfo;
    conninfo.insert(at + key.size() + 1, first + ",");
  };
  swap("host", "127.0.0.1");
  swap("port", "1");  // nothing listens there: refused
  conninfo += " target_session_attrs=read-write";
  boost::asio::io_context ioc;
  Pool p{ioc.get_executor(),
         PoolOptions{conninfo, 2, std::chrono::milliseconds(3000), std::chrono::milliseconds(3000)}};
  auto r = run_sync(ioc, p.exec(kAdd, params("1", "2")));
  ASSERT_TRUE(r) << conninfo << ": " << r.error().message;
  EXPECT_EQ(r->int64(0, 0), 3);
}

// At exit the io_context is destroyed after the pool, and with it the frames of coroutines that
// were suspended holding a lease (a heartbeat's query when SIGTERM came): releasing such a lease
// must not touch the pool that is gone (ASan reports it if it does).
TEST(PoolLifetime, ALeaseThatOutlivesItsPoolClosesItsConnection) {
  test::TestDatabase db{"pool_lifetime"};
  boost::asio::io_context ioc;
  auto pool = std::make_unique<Pool>(ioc.get_executor(),
                                     PoolOptions{db.conninfo(), 2, std::chrono::milliseconds(3000)});
  std::unique_ptr<Lease> held;
  auto ok = run_sync(ioc, [&]() -> awaitable<bool> {
    auto lease = co_await pool->acquire();
    if (!lease) co_return false;
    held = std::make_unique<Lease>(std::move(*lease));
    co_return true;
  }());
  ASSERT_TRUE(ok);
  ASSERT_TRUE(held);
  pool.reset();
  held.reset();  // would post to the destroyed pool's strand
  ioc.restart();
  ioc.poll();
}
