// Where services hand events for connected users: "deliver this to these users". The WebSocket
// hub implements it on one node; a cross-node bus can implement it later without changes here.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "domain/message.hpp"

namespace chatd {

// Identifies one connection, so a sender's own connection can be left out of an echo.
using SessionId = std::uint64_t;

struct PresenceChange {
  UserId user_id = 0;
  bool online = false;
  std::optional<std::string> last_seen;
};

// Ended sessions (PROTOCOL §2): one token (`jti`, until `exp`), or every token of `user` issued
// before `before_ms` but `keep_jti`.
struct TokenRevocation {
  UserId user = 0;
  std::string jti;
  std::int64_t exp = 0;
  std::int64_t before_ms = 0;
  std::string keep_jti;
  bool suspended = false;  // an admin suspended the account: close with 4003, not 4001
};

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // `message` to every connection of `recipients` and the sender's connections but `origin`.
  virtual void message(const Message& m, std::span<const UserId> recipients,
                       SessionId origin) = 0;
  // `message_updated` (an edit or a delete) to every connection of every member.
  virtual void message_updated(const Message& m, std::span<const UserId> members) = 0;
  virtual void receipt(UserId to, const Receipt& r) = 0;
  virtual void presence(std::span<const UserId> to, const PresenceChange& p) = 0;
  virtual void typing(std::span<const UserId> to, ConversationId c, UserId who) = 0;
  // `conversation_settings` (PROTOCOL §9) to the user's connections.
  virtual void settings_changed(UserId user, ConversationId c, const ConversationSettings& s) = 0;
  // `conversation_updated` (PROTOCOL §9) to every connection of every member.
  virtual void conversation_updated(const ConversationUpdate& u,
                                    std::span<const UserId> members) = 0;
  // `reaction` (PROTOCOL §9) to every connection of every member.
  virtual void reaction(const ReactionChange& r, std::span<const UserId> members) = 0;
  // Closes (4001, or 4003 for a suspension) the user's connections opened with a token the
  // revocation ends, on every node.
  virtual void revoked(const TokenRevocation& r) = 0;
};

}  // namespace chatd
