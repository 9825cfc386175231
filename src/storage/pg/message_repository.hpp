// MessageRepository on PostgreSQL: a batch of messages is one pipeline (one round trip, one
// transaction) of set-based statements whose work grows linearly with the batch; receipts are
// positions on conversation_members.
#pragma once

#include "domain/message_repository.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgMessageRepository final : public MessageRepository {
 public:
  explicit PgMessageRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<std::vector<AppendOutcome>>> append(
      std::vector<NewMessage> batch) override;
  boost::asio::awaitable<Result<std::optional<std::vector<UserId>>>> members(
      ConversationId c, UserId viewer) override;
  boost::asio::awaitable<Result<ChangeOutcome>> change(UserId user, MessageId id,
                                                       std::optional<std::string> content,
                                                       int edit_window_seconds,
                                                       bool moderator) override;
  boost::asio::awaitable<Result<std::vector<Message>>> range(ConversationId c,
                                                             std::int64_t after_seq,
                                                             std::int64_t before_seq) override;
  boost::asio::awaitable<Result<std::vector<Message>>> undelivered(UserId user, ReplayCursor after,
                                                                   int limit) override;
  boost::asio::awaitable<Result<std::vector<ReceiptChange>>> mark_delivered(
      std::vector<DeliveryPosition> positions) override;
  boost::asio::awaitable<Result<std::vector<ReceiptChange>>> mark_read(UserId reader,
                                                                       ConversationId c,
                                                                       Seq seq) override;

 private:
  Pool& pool_;
};

// The statements of a batch and of delivery recording, for EXPLAIN in tests.
extern const Statement kLockConversationsStatement;
extern const Statement kAppendBatchStatement;
extern const Statement kMarkDeliveredStatement;
extern const Statement kMarkReadStatement;
extern const Statement kUndeliveredStatement;

// Reads nine message columns from `col`: id, conversation_id, seq, sender_id, to, group_id,
// content, client_id, created_at (as chatd_ts).
Message read_message(const ResultSet& rs, int row, int col);

}  // namespace chatd::pg
