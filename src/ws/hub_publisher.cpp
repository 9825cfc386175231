#include "ws/hub_publisher.hpp"

#include "ws/event_codec.hpp"

namespace chatd::ws {

void HubPublisher::message(const Message& m, std::span<const UserId> recipients, SessionId origin) {
  auto text = std::make_shared<const std::string>(encode_message(m));
  // Every copy carries the message's position (a connection never writes a seq twice); a
  // recipient's write counts as delivery, the sender's other devices' does not.
  const hub::Frame f{text, message_ref(m)};
  hub_.deliver(recipients, f);
  hub_.deliver(m.sender_id, f, origin);
}

void HubPublisher::message_updated(const Message& m, std::span<const UserId> members) {
  hub_.deliver(members, hub::make_frame(encode_message_updated(m)));
}

void close_revoked(hub::Hub& hub, const TokenRevocation& r) {
  hub.close_if(
      r.user,
      [&r](const hub::Subscriber& s) { return s.token_ended(r.jti, r.before_ms, r.keep_jti); },
      r.suspended ? kCloseAccountSuspended : kCloseTokenRevoked,
      r.suspended ? "account suspended" : "token revoked");
}

void HubPublisher::revoked(const TokenRevocation& r) { close_revoked(hub_, r); }

void HubPublisher::receipt(UserId to, const Receipt& r) {
  hub_.deliver(to, hub::make_frame(encode_receipt(r)));
}

void HubPublisher::presence(std::span<const UserId> to, const PresenceChange& p) {
  hub_.deliver(to, hub::make_frame(encode_presence(p)));
}

void HubPublisher::reaction(const ReactionChange& r, std::span<const UserId> members) {
  hub_.deliver(members, hub::make_frame(encode_reaction(r)));
}

void HubPublisher::conversation_updated(const ConversationUpdate& u,
                                        std::span<const UserId> members) {
  hub_.deliver(members, hub::make_frame(encode_conversation_updated(u)));
}

void HubPublisher::settings_changed(UserId user, ConversationId c, const ConversationSettings& s) {
  hub_.deliver(user, hub::make_frame(encode_conversation_settings(c, s)));
}

void HubPublisher::typing(std::span<const UserId> to, ConversationId c, UserId who) {
  hub_.deliver(to, hub::make_frame(encode_typing(c, who)));
}

}  // namespace chatd::ws
