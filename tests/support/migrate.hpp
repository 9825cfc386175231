// Brings a test database to the current schema with the server's own migration runner.
#pragma once

#include "storage/pg/migrations.hpp"
#include "storage/pg/pool.hpp"
#include <gtest/gtest.h>

#include "support/run_sync.hpp"
#include "support/test_database.hpp"

namespace chatd::test {

inline boost::asio::awaitable<pg::PgResult<pg::MigrationReport>> migrate_with(
    pg::Pool& pool, const std::vector<pg::Migration>& all = pg::embedded_migrations()) {
  auto lease = co_await pool.acquire();
  if (!lease) co_return lease.error();
  co_return co_await pg::migrate(**lease, all);
}

inline pg::PgResult<pg::MigrationReport> migrate_now(boost::asio::io_context& ioc, pg::Pool& pool) {
  return run_sync(ioc, migrate_with(pool));
}

// A bcrypt-shaped hash (the schema checks for $2b$) for rows written straight into the database.
inline const std::string kSampleHash = "$2b$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBna";

// A fresh, migrated database with a pool on it, per test.
class MigratedDatabase : public ::testing::Test {
 protected:
  explicit MigratedDatabase(const std::string& prefix, std::size_t pool_size = 2)
      : db(prefix),
        pool(ioc.get_executor(),
             pg::PoolOptions{db.conninfo(), pool_size, std::chrono::milliseconds(5000)}) {}
  void SetUp() override {
    auto r = migrate_now(ioc, pool);
    ASSERT_TRUE(r) << r.error().message;
  }
  TestDatabase db;
  boost::asio::io_context ioc;
  pg::Pool pool;
};

}  // namespace chatd::test
