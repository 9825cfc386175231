// Brings a test database to the current schema with the server's own migration runner.
#pragma once

#include "storage/pg/migrations.hpp"
#include "storage/pg/pool.hpp"
#include "support/run_sync.hpp"

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

}  // namespace chatd::test
