// What messaging needs from storage; storage/pg/ implements it.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"

namespace chatd {

// The result of an edit or a delete for everyone.
struct ChangeOutcome {
  // not_found: no such message, or the caller is not a member of its conversation;
  // not_allowed: an edit of someone else's message, or a delete by neither its sender nor a
  // group admin; too_late: an edit after the edit window; deleted: an edit of a deleted one.
  enum class Kind { changed, not_found, not_allowed, too_late, deleted };
  Kind kind = Kind::changed;
  Message message;             // as it is now (changed only)
  std::vector<UserId> members;  // everyone in its conversation (changed only)
};

class MessageRepository {
 public:
  virtual ~MessageRepository() = default;

  // Stores a batch in one transaction: per message its conversation (a direct one is created
  // on first use, exactly one per pair), the next seq of that conversation, the row and
  // last_message_at. Receipts are positions and do not move. Outcomes come in input order.
  virtual boost::asio::awaitable<Result<std::vector<AppendOutcome>>> append(
      std::vector<NewMessage> batch) = 0;

  // The members of a conversation as `viewer` may address them: all but those `viewer` blocks
  // (PROTOCOL §9: no typing from a blocker); nullopt when there is no such conversation.
  virtual boost::asio::awaitable<Result<std::optional<std::vector<UserId>>>> members(
      ConversationId c, UserId viewer) = 0;

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
  // Edits (`content` set) or deletes for everyone (`content` unset: content cleared, the row
  // and its seq stay) message `id` on behalf of `user`, under the rules of PROTOCOL §3; an
  // edit is allowed for `edit_window_seconds` after sending. A `moderator` (a server admin,
  // PROTOCOL §10) may delete any message, member or not.
  virtual boost::asio::awaitable<Result<ChangeOutcome>> change(UserId user, MessageId id,
                                                               std::optional<std::string> content,
                                                               int edit_window_seconds,
                                                               bool moderator) = 0;
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
