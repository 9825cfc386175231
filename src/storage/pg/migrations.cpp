#include "storage/pg/migrations.hpp"

#include <spdlog/spdlog.h>

#include <set>

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

// Any constant will do, as long as no other tool on this database takes the same one.
constexpr std::string_view kLockAndList =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7428190361);"
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "  version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
    "SELECT version FROM schema_migrations ORDER BY version";

const std::string kRollback = "ROLLBACK";
const std::string kCommit = "COMMIT";

constexpr Statement kRecord{"migration_record",
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"};

}  // namespace

awaitable<PgResult<MigrationReport>> migrate(Connection& conn, const std::vector<Migration>& all) {
  auto listed = co_await conn.exec_script(std::string(kLockAndList));
  if (!listed) {
    co_await conn.exec_script(kRollback);
    co_return listed.error();
  }
  std::set<int> done;
  const auto& versions = listed->back();
  for (int r = 0; r < versions.rows(); ++r) done.insert(static_cast<int>(versions.int64(r, 0)));

  MigrationReport report;
  for (const auto& m : all) {
    if (done.contains(m.version)) continue;
    spdlog::info("applying migration {}", m.name);
    auto applied = co_await conn.exec_script(m.sql);
    if (applied) {
      auto recorded = co_await conn.exec(kRecord, params(std::to_string(m.version), m.name));
      if (!recorded) applied = recorded.error();
    }
    if (!applied) {
      co_await conn.exec_script(kRollback);
      co_return applied.error();
    }
    ++report.applied;
    done.insert(m.version);
  }
  if (auto c = co_await conn.exec_script(kCommit); !c) co_return c.error();
  report.current_version = done.empty() ? 0 : *done.rbegin();
  co_return report;
}

}  // namespace chatd::pg
