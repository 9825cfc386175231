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

  // Stores a batch in one transaction: per message the next seq of its conversation, the row,
  // one 'sent' receipt per other member and last_message_at. Outcomes come in input order.
  virtual boost::asio::awaitable<Result<std::vector<AppendOutcome>>> append(
      std::vector<NewMessage> batch) = 0;

  // The direct conversation of two users, created (with both as members) on first use;
  // errc::not_found when `b` is no user.
  virtual boost::asio::awaitable<Result<ConversationId>> direct_conversation(UserId a,
                                                                             UserId b) = 0;
  // The conversation of a group; nullopt when there is no such group.
  virtual boost::asio::awaitable<Result<std::optional<ConversationId>>> group_conversation(
      GroupId group) = 0;

  // The members of a conversation; nullopt when there is no such conversation.
  virtual boost::asio::awaitable<Result<std::optional<std::vector<UserId>>>> members(
      ConversationId c) = 0;

  // Messages still 'sent' to `user`, oldest first, with id > after_id.
  virtual boost::asio::awaitable<Result<std::vector<Message>>> undelivered(UserId user,
                                                                           MessageId after_id,
                                                                           int limit) = 0;

  // Marks 'sent' receipts delivered; returns what changed, one per sender, conversation and
  // recipient (with the highest seq among them), built from the deliveries' own coordinates
  // (conversation, seq, sender), which must be the message's.
  virtual boost::asio::awaitable<Result<std::vector<ReceiptChange>>> mark_delivered(
      std::vector<Delivery> deliveries) = 0;

  // Marks every message of `c` up to `seq` not sent by `reader` as read; one change per sender
  // (its highest seq). errc::not_found when the reader is not a member.
  virtual boost::asio::awaitable<Result<std::vector<ReceiptChange>>> mark_read(UserId reader,
                                                                               ConversationId c,
                                                                               Seq seq) = 0;
};

}  // namespace chatd
