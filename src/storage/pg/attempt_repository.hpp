// AttemptRepository on PostgreSQL: one row per counted attempt in auth_attempts.
#pragma once

#include "domain/attempt_repository.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgAttemptRepository final : public AttemptRepository {
 public:
  explicit PgAttemptRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<AttemptCheck>> check(std::vector<AttemptLimit> limits) override;
  boost::asio::awaitable<Status> record(std::vector<std::string> keys) override;
  boost::asio::awaitable<Status> forget(std::string key) override;
  boost::asio::awaitable<Result<std::int64_t>> prune(std::chrono::seconds older_than) override;

 private:
  Pool& pool_;
};

// The throttle check, for EXPLAIN in tests.
extern const Statement kAttemptCheckStatement;

}  // namespace chatd::pg
