#include "storage/pg/migrations.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "storage/pg/pool.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

awaitable<PgResult<MigrationReport>> migrate_once(Pool& pool, const std::vector<Migration>& all) {
  return test::migrate_with(pool, all);
}

}  // namespace

TEST(Migrations, ApplyTheWholeSchemaAndAreIdempotent) {
  test::TestDatabase db("mig");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 2, std::chrono::milliseconds(3000)}};
  const auto& all = embedded_migrations();
  ASSERT_FALSE(all.empty());

  auto first = run_sync(ioc, migrate_once(pool, all));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->applied, static_cast<int>(all.size()));
  EXPECT_EQ(first->current_version, all.back().version);
  for (const char* table :
       {"users", "conversations", "messages", "message_receipts", "groups", "group_members"})
    EXPECT_EQ(db.scalar(std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t")
        << table;

  auto second = run_sync(ioc, migrate_once(pool, all));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_migrations"), std::to_string(all.size()));
}

TEST(Migrations, TwoNodesStartingTogetherApplyEachMigrationOnce) {
  test::TestDatabase db("migrace");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 4, std::chrono::milliseconds(5000)}};
  std::vector<PgResult<MigrationReport>> reports;
  run_sync(
      ioc,
      [&]() -> awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (int i = 0; i < 4; ++i)
          boost::asio::co_spawn(
              ex,
              [&]() -> awaitable<void> {
                reports.push_back(co_await migrate_once(pool, embedded_migrations()));
              },
              boost::asio::detached);
        co_return;
      }(),
      2);
  ASSERT_EQ(reports.size(), 4u);
  int applied = 0;
  for (const auto& r : reports) {
    ASSERT_TRUE(r) << r.error().message;
    applied += r->applied;
  }
  EXPECT_EQ(applied, static_cast<int>(embedded_migrations().size()));
}

TEST(Migrations, AFailingMigrationLeavesNothingBehind) {
  test::TestDatabase db("migfail");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(3000)}};
  std::vector<Migration> all = {
      {1, "0001_ok", "CREATE TABLE a (x int);"},
      {2, "0002_broken", "CREATE TABLE b (x int); SELECT no_such_function();"},
  };
  auto r = run_sync(ioc, migrate_once(pool, all));
  ASSERT_FALSE(r);
  EXPECT_EQ(db.scalar("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL"), "t");
  EXPECT_EQ(db.scalar("SELECT to_regclass('schema_migrations') IS NULL"), "t");
}

TEST(Migrations, DatabaseConstraintsKeepDataHonest) {
  test::TestDatabase db("migcons");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(3000)}};
  ASSERT_TRUE(run_sync(ioc, migrate_once(pool, embedded_migrations())));
  const std::string hash = "'$2b$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBna'";
  db.scalar("INSERT INTO users (username, email, password_hash) VALUES ('Alice', 'a@x.io', " +
            hash + ")");
  db.scalar("INSERT INTO users (username, email, password_hash) VALUES ('bob', 'b@x.io', " + hash +
            ")");
  // Case-insensitive username, lower-case email, $2b$ hash only.
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO users (username, email, password_hash) VALUES ('ALICE', 'c@x.io', " + hash + ")"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO users (username, email, password_hash) VALUES ('carol', 'C@x.io', " + hash + ")"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO users (username, email, password_hash) VALUES ('carol', 'c@x.io', 'plain')"));
  // One direct conversation per pair, in order; unique seq per conversation.
  db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES ('direct', 1, 2)");
  EXPECT_ANY_THROW(
      db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES ('direct', 1, 2)"));
  EXPECT_ANY_THROW(
      db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES ('direct', 2, 1)"));
  db.scalar("INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 1, 1, 'hi')");
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 1, 2, 'hi')"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 0, 1, 'x')"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 2, 1, '')"));
  // messages and message_receipts have no foreign keys (migration 0003): the append statement
  // checks membership instead (message_repository_pgtest NonMembersStoreNothing).
  EXPECT_EQ(db.scalar("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN"
                      " ('messages'::regclass, 'message_receipts'::regclass)"),
            "0");
  EXPECT_EQ(db.scalar("SELECT chatd_ts('2026-11-24 14:22:56.123456+00')"),
            "2026-11-24T14:22:56.123Z");
}
