// What one node tells the others over NATS: an event already serialized for the WebSocket, the
// users it is for, and for a `message` what delivery needs (id, conversation, seq, sender).
// Binary and length-checked: a malformed envelope decodes to nothing, never to a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::cluster {

enum class EventKind : std::uint8_t {
  message = 1,  // to `users` and to the sender's other connections
  frame = 2,    // a receipt, presence or typing frame, to `users`
  revoke = 3,   // ended tokens of users[0]; `text` describes them (JSON)
};

struct Envelope {
  EventKind kind = EventKind::frame;
  std::string origin;             // the node that published it
  std::uint64_t origin_session = 0;  // the sending connection (a node-local id)
  std::int64_t message_id = 0, conversation_id = 0, seq = 0, sender_id = 0;
  std::vector<std::int64_t> users;
  std::string text;  // the WebSocket frame
};

std::string encode(const Envelope& e);
std::optional<Envelope> decode(std::string_view bytes);

}  // namespace chatd::cluster
