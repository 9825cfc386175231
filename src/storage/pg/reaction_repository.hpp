// ReactionRepository on PostgreSQL.
#pragma once

#include "domain/reaction_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgReactionRepository final : public ReactionRepository {
 public:
  explicit PgReactionRepository(Pool& pool) : pool_(pool) {}
  boost::asio::awaitable<Result<std::optional<ReactionOutcome>>> react(
      UserId user, MessageId id, std::optional<std::string> emoji) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
