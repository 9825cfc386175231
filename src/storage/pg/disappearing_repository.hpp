// DisappearingRepository on PostgreSQL.
#pragma once

#include "domain/disappearing_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgDisappearingRepository final : public DisappearingRepository {
 public:
  explicit PgDisappearingRepository(Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<Result<TimerOutcome>> set_timer(UserId user, ConversationId c,
                                                         std::optional<int> seconds) override;
  boost::asio::awaitable<Result<SweepOutcome>> sweep(int limit) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
