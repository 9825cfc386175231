// What messaging needs from storage; storage/pg/ implements it.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"

namespace chatd {

class MessageRepository {
 public:
  virtual ~MessageRepository() = default;

  // Stores a batch in one transaction: per message its conversation (a direct one is created
  // on first use, exactly one per pair), the next seq of that conversation, the row and
  // last_message_at. Receipts are positions and do not move. Outcomes come in input order.
  virtual boost::asio::awaitable<Result<std::vector<AppendOutcome>>> append(
      std::vector<NewMessage> batch) = 0;

  // The members of a conversation; nullopt when there is no such conversation.
  virtual boost::asio::awaitable<Result<std::optional<std::vector<UserId>>>> members(
      ConversationId c) = 0;

  // Messages of others past `user`'s delivered position, after `after`, ordered by
  // conversation and seq.
  virtual boost::asio::awaitable<Result<std::vector<Message>>> undelivered(UserId user,
                                                                           ReplayCursor after,
                                                                           int limit) = 0;

  // Messages of conversation `c` with `after_seq < seq < before_seq`, in seq order (at most
  // 1,000): what a node missed while NATS was away (PROTOCOL §8).
  virtual boost::asio::awaitable<Result<std::vector<Message>>> range(ConversationId c,
                                                                     std::int64_t after_seq,
                                                                     std::int64_t before_seq) = 0;
  // Moves delivered positions forward (never back); returns a receipt for each sender whose
  // messages a moved position newly covers, carrying the new position.
  virtual boost::asio::awaitable<Result<std::vector<ReceiptChange>>> mark_delivered(
      std::vector<DeliveryPosition> positions) = 0;

  // Moves the reader's read position in `c` to `seq` (at most the conversation's last seq; never
  // back), and the delivered position with it; one change per sender of a newly read message
  // (its highest seq). errc::not_found when the reader is not a member.
  virtual boost::asio::awaitable<Result<std::vector<ReceiptChange>>> mark_read(UserId reader,
                                                                               ConversationId c,
                                                                               Seq seq) = 0;
};

}  // namespace chatd
