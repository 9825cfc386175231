// The WebSocket events of PROTOCOL §3: client events parsed into typed structs, server events
// serialized to text once (and then shared by every connection that receives them).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/error.hpp"
#include "domain/event_publisher.hpp"
#include "domain/message.hpp"

namespace chatd::ws {

struct SendMessageEvent {
  std::optional<UserId> to;
  std::optional<GroupId> group_id;
  std::string content;
  std::optional<std::string> client_id;
  std::optional<MessageId> reply_to;
  std::vector<std::int64_t> attachment_ids;
  std::vector<UserId> mentions;
  std::optional<MessageId> forward_of;
};
struct EditMessageEvent {
  MessageId message_id = 0;
  std::string content;
};
struct DeleteMessageEvent {
  MessageId message_id = 0;
};
struct MarkReadEvent {
  ConversationId conversation_id = 0;
  Seq seq = 0;
};
struct TypingEvent {
  ConversationId conversation_id = 0;
};
struct PingEvent {};
struct ReactEvent {
  MessageId message_id = 0;
  std::optional<std::string> emoji;  // nullopt: remove
};

using ClientEvent = std::variant<SendMessageEvent, EditMessageEvent, DeleteMessageEvent,
                                 MarkReadEvent, TypingEvent, PingEvent, ReactEvent>;

// A client event that could not be understood: the error to answer, with the client_id of a
// send_message when one could be read.
struct DecodeError {
  Error error;
  std::optional<std::string> client_id;
  bool answers_send = false;  // the event was a send_message: echo client_id (maybe null)
};

std::variant<ClientEvent, DecodeError> decode(std::string_view text);

// For an event that is refused unread (rate limit): when it is a send_message, its client_id
// (which may be absent); nullopt for any other event or for text that is no JSON object.
std::optional<std::optional<std::string>> send_client_id(std::string_view text);

std::string encode_ready(const User& self);
std::string encode_ack(const std::optional<std::string>& client_id, const Message& m);
std::string encode_message(const Message& m);
std::string encode_message_updated(const Message& m);
std::string encode_receipt(const Receipt& r);
std::string encode_presence(const PresenceChange& p);
std::string encode_typing(ConversationId c, UserId who);
std::string encode_reaction(const ReactionChange& r);
std::string encode_conversation_settings(ConversationId c, const ConversationSettings& s);
std::string encode_conversation_updated(const ConversationUpdate& u);
std::string encode_error(const Error& e, const std::optional<std::string>& client_id = {},
                         bool answers_send = false);
std::string encode_pong();

}  // namespace chatd::ws
