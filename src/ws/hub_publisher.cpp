#include "ws/hub_publisher.hpp"

#include "ws/event_codec.hpp"

namespace chatd::ws {

void HubPublisher::message(const Message& m, std::span<const UserId> recipients, SessionId origin) {
  auto text = std::make_shared<const std::string>(encode_message(m));
  // Recipients' copies carry the message id (their write counts as delivery); the sender's
  // other devices get the same bytes without it.
  hub_.deliver(recipients, hub::Frame{text, message_ref(m)});
  hub_.deliver(m.sender_id, hub::Frame{text, {}}, origin);
}

void HubPublisher::receipt(UserId to, const Receipt& r) {
  hub_.deliver(to, hub::make_frame(encode_receipt(r)));
}

void HubPublisher::presence(std::span<const UserId> to, const PresenceChange& p) {
  hub_.deliver(to, hub::make_frame(encode_presence(p)));
}

void HubPublisher::typing(std::span<const UserId> to, ConversationId c, UserId who) {
  hub_.deliver(to, hub::make_frame(encode_typing(c, who)));
}

}  // namespace chatd::ws
