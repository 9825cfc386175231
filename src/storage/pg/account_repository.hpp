// AccountRepository on PostgreSQL: tombstones, erasure in batches, the export's pages.
#pragma once

#include "domain/account_repository.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgAccountRepository final : public AccountRepository {
 public:
  explicit PgAccountRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<bool>> mark_deleted(UserId user, std::int64_t before_ms) override;
  boost::asio::awaitable<Result<std::vector<UserId>>> pending_erasures() override;
  boost::asio::awaitable<Result<ErasedBatch>> erase_batch(UserId user, MessageId after,
                                                          int limit) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> finish_erasure(UserId user) override;
  boost::asio::awaitable<Result<std::vector<Message>>> sent_messages(UserId user, MessageId after,
                                                                    int limit) override;
  boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> devices(
      UserId user) override;

 private:
  Pool& pool_;
};

// The export's page, for EXPLAIN in tests.
extern const Statement kSentMessagesStatement;

}  // namespace chatd::pg
