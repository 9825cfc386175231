// Messages, receipts and the outcomes of storing them (PROTOCOL §4).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/user.hpp"

namespace chatd {

using MessageId = std::int64_t;
using ConversationId = std::int64_t;
using GroupId = std::int64_t;
using Seq = std::int64_t;

// An uploaded file (PROTOCOL §4); its url is /attachments/{id}.
struct Attachment {
  std::int64_t id = 0;
  std::string filename;
  std::string content_type;
  std::int64_t size = 0;
  std::string sha256;
};

// The reactions of one emoji on a message (PROTOCOL §9), listed in order of the emoji's first use.
struct Reaction {
  std::string emoji;
  std::int64_t count = 0;
  std::vector<UserId> user_ids;  // in the order they reacted
};

// A reaction set (emoji) or removed (nullopt) by `user_id` at `at`.
struct ReactionChange {
  ConversationId conversation_id = 0;
  MessageId message_id = 0;
  UserId user_id = 0;
  std::optional<std::string> emoji;
  std::string at;
};

// A conversation's disappearing timer set (seconds) or cleared (nullopt) by `by` (PROTOCOL §9).
struct ConversationUpdate {
  ConversationId conversation_id = 0;
  std::optional<int> disappearing_seconds;
  UserId by = 0;
};

// One member's own view of a conversation (PROTOCOL §9).
struct ConversationSettings {
  std::optional<std::string> muted_until;  // RFC 3339
  bool archived = false;
  bool pinned = false;
};

struct Message {
  MessageId id = 0;
  ConversationId conversation_id = 0;
  Seq seq = 0;
  UserId sender_id = 0;
  std::optional<UserId> to;         // direct only
  std::optional<GroupId> group_id;  // group only
  std::string content;
  std::optional<std::string> client_id;
  std::string created_at;
  std::optional<MessageId> reply_to;
  std::optional<std::string> edited_at;  // null unless edited
  bool deleted = false;                  // deleted for everyone: content (and attachments) gone
  std::vector<Attachment> attachments;
  std::vector<Reaction> reactions;
  std::vector<UserId> mentions;          // members the sender mentioned (PROTOCOL §9)
  bool forwarded = false;                // a copy of another message
  std::optional<std::string> expires_at;  // when it disappears (RFC 3339), null if never
};

// What the sender asked for, after validation: exactly one of `to` and `group_id`. Storage
// resolves the conversation (creating a direct one on first use) in the same transaction.
struct NewMessage {
  UserId sender_id = 0;
  std::optional<UserId> to;
  std::optional<GroupId> group_id;
  std::string content;
  std::optional<std::string> client_id;
  std::optional<MessageId> reply_to;  // a message of the same conversation
  std::vector<std::int64_t> attachment_ids;  // uploaded by the sender
  std::vector<UserId> mentions;              // distinct; each must be a member
  // A message the sender can see, whose content and attachments are copied (content and
  // attachment_ids are then empty).
  std::optional<MessageId> forward_of;
};

// A number for the conversation a message goes to, known before that conversation exists: its
// pair of users for a direct message, its group otherwise (below 2^63, the two kinds apart).
// Committers and the database's per-conversation locks are chosen by it.
inline std::uint64_t conversation_key(UserId sender, std::optional<UserId> to,
                                      std::optional<GroupId> group) {
  constexpr std::uint64_t kMask = (std::uint64_t{1} << 62) - 1;
  if (group) return (std::uint64_t{1} << 62) | (static_cast<std::uint64_t>(*group) & kMask);
  const auto lo = static_cast<std::uint64_t>(std::min(sender, to.value_or(0)));
  const auto hi = static_cast<std::uint64_t>(std::max(sender, to.value_or(0)));
  std::uint64_t x = lo * 0x9e3779b97f4a7c15ULL ^ hi;  // splitmix64's finalizer spreads the pair
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return (x ^ (x >> 31)) & kMask;
}
inline std::uint64_t conversation_key(const NewMessage& m) {
  return conversation_key(m.sender_id, m.to, m.group_id);
}

struct AppendOutcome {
  // not_found: `to` names no user, or `group_id` no group; not_member: the sender is not in
  // the group; bad_reply: `reply_to` is no message of the conversation; bad_attachment: an
  // attachment id the sender did not upload.
  // blocked: a direct message between two users one of whom blocks the other (PROTOCOL §9);
  // bad_mention: a mention of someone not in the conversation; bad_forward: a forward_of the
  // sender cannot see (no such message, not a member of its conversation, deleted or expired).
  enum class Kind {
    stored, duplicate, not_member, not_found, bad_reply, bad_attachment, blocked, bad_mention,
    bad_forward
  };
  Kind kind = Kind::stored;
  Message message;                 // the stored one, or the original for a duplicate
  std::vector<UserId> recipients;  // every member but the sender (stored only)
};

enum class ReceiptStatus { delivered, read };

struct Receipt {
  ConversationId conversation_id = 0;
  UserId user_id = 0;  // who received or read
  ReceiptStatus status = ReceiptStatus::delivered;
  Seq up_to_seq = 0;
  std::string at;
};

// A receipt row that changed state, and whose sender should hear of it.
struct ReceiptChange {
  UserId sender_id = 0;
  Receipt receipt;
};

// A message written to one of a recipient's connections.
struct Delivery {
  MessageId message_id = 0;
  UserId user_id = 0;  // the recipient
  // The message's own coordinates, for the receipt its sender gets.
  ConversationId conversation_id = 0;
  Seq seq = 0;
  UserId sender_id = 0;
};

// Deliveries to one member in one conversation, coalesced: the highest seq written to one of
// their connections, and the senders whose messages were among them (each with its highest
// seq), who hear of it when the position moves past their messages.
struct DeliveryPosition {
  ConversationId conversation_id = 0;
  UserId user_id = 0;
  Seq seq = 0;
  std::vector<std::pair<UserId, Seq>> senders;
  std::size_t deliveries = 0;  // how many written frames this position covers
};

// Where the offline replay stands: messages after `seq` of `conversation_id`, then those of
// the conversations with higher ids.
struct ReplayCursor {
  ConversationId conversation_id = 0;
  Seq seq = 0;
};

}  // namespace chatd
