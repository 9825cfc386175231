// BlockRepository on PostgreSQL.
#pragma once

#include "domain/block_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgBlockRepository final : public BlockRepository {
 public:
  explicit PgBlockRepository(Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<Result<bool>> block(UserId blocker, UserId blocked) override;
  boost::asio::awaitable<Status> unblock(UserId blocker, UserId blocked) override;
  boost::asio::awaitable<Result<std::vector<User>>> blocked_by(UserId blocker) override;
  boost::asio::awaitable<Result<bool>> any_blocks(std::vector<UserId> users, UserId actor) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
