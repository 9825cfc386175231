// Messages, receipts and the outcomes of storing them (PROTOCOL §4).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/user.hpp"

namespace chatd {

using MessageId = std::int64_t;
using ConversationId = std::int64_t;
using GroupId = std::int64_t;
using Seq = std::int64_t;

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
};

// What the sender asked for, after validation and with its conversation resolved.
struct NewMessage {
  ConversationId conversation_id = 0;
  UserId sender_id = 0;
  std::string content;
  std::optional<std::string> client_id;
};

struct AppendOutcome {
  enum class Kind { stored, duplicate, not_member };
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

}  // namespace chatd
