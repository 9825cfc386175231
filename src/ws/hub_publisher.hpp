// The domain's EventPublisher on the local hub: serializes each event once and hands the same
// bytes to every connection concerned.
#pragma once

#include "domain/event_publisher.hpp"
#include "hub/hub.hpp"

namespace chatd::ws {

// What a recipient's `message` frame carries so that writing it records the delivery.
inline hub::MessageRef message_ref(const Message& m) {
  return {m.id, m.conversation_id, m.seq, m.sender_id};
}

// Close code of a connection whose token was ended (PROTOCOL §2).
inline constexpr std::uint16_t kCloseTokenRevoked = 4001;
inline constexpr std::uint16_t kCloseAccountSuspended = 4003;  // PROTOCOL §10

// Closes `user`'s connections the revocation ends.
void close_revoked(hub::Hub& hub, const TokenRevocation& r);

class HubPublisher final : public EventPublisher {
 public:
  explicit HubPublisher(hub::Hub& hub) : hub_(hub) {}

  void message(const Message& m, std::span<const UserId> recipients, SessionId origin) override;
  void message_updated(const Message& m, std::span<const UserId> members) override;
  void receipt(UserId to, const Receipt& r) override;
  void presence(std::span<const UserId> to, const PresenceChange& p) override;
  void typing(std::span<const UserId> to, ConversationId c, UserId who) override;
  void revoked(const TokenRevocation& r) override;
  void reaction(const ReactionChange& r, std::span<const UserId> members) override;
  void conversation_updated(const ConversationUpdate& u,
                            std::span<const UserId> members) override;
  void settings_changed(UserId user, ConversationId c, const ConversationSettings& s) override;

 private:
  hub::Hub& hub_;
};

}  // namespace chatd::ws
