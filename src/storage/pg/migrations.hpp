// Versioned schema migrations (migrations/*.sql, embedded at build time) and the runner that
// applies the missing ones at start-up: one transaction, under an advisory lock, so two nodes
// starting together apply each migration exactly once.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "storage/pg/connection.hpp"

namespace chatd::pg {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

const std::vector<Migration>& embedded_migrations();

struct MigrationReport {
  int applied = 0;         // how many ran now
  int current_version = 0;  // the schema version after the run
};

boost::asio::awaitable<PgResult<MigrationReport>> migrate(Connection& conn,
                                                          const std::vector<Migration>& all);

}  // namespace chatd::pg
