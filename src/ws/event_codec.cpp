#include "ws/event_codec.hpp"

#include <boost/json.hpp>

#include "codec/entities.hpp"

namespace chatd::ws {

namespace json = boost::json;

namespace {

DecodeError bad(std::string message) {
  return DecodeError{make_error(errc::invalid_input, std::move(message)), std::nullopt, false};
}

DecodeError bad(std::string message, std::optional<std::string> client_id) {
  return DecodeError{make_error(errc::invalid_input, std::move(message)), std::move(client_id),
                     true};
}

// A positive id member: nullopt when absent or null, an error when of another type.
std::variant<std::optional<std::int64_t>, std::string> id_member(const json::object& o,
                                                                  std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || v->is_null()) return std::optional<std::int64_t>{};
  if (v->is_int64() && v->get_int64() > 0) return std::optional<std::int64_t>{v->get_int64()};
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return std::optional<std::int64_t>{static_cast<std::int64_t>(v->get_uint64())};
  return std::string(name) + " must be a positive integer";
}

// An array of positive ids (at most `max`), empty when absent or null; an error message when
// of another shape.
std::variant<std::vector<std::int64_t>, std::string> id_array(const json::object& o,
                                                              std::string_view name,
                                                              std::size_t max) {
  std::vector<std::int64_t> out;
  const auto* ids = o.if_contains(name);
  if (ids == nullptr || ids->is_null()) return out;
  if (!ids->is_array() || ids->as_array().size() > max)
    return std::string(name) + " must be an array of at most " + std::to_string(max) + " ids";
  for (const auto& v : ids->as_array()) {
    if (!v.is_int64() || v.get_int64() <= 0)
      return std::string(name) + " must be positive integers";
    out.push_back(v.get_int64());
  }
  return out;
}

std::string dump(const json::object& o) { return json::serialize(o); }

// The event as parsed JSON (depth-limited); an error when it is no JSON object.
std::variant<json::value, DecodeError> parse_event(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 16;
  auto v = json::parse(text, ec, {}, opts);
  if (ec) return bad("event is not valid JSON");
  if (!v.is_object()) return bad("event must be a JSON object");
  return v;
}

bool is_type(const json::object& o, std::string_view type) {
  const auto* t = o.if_contains("type");
  return t != nullptr && t->is_string() && t->get_string() == type;
}

}  // namespace

std::optional<std::optional<std::string>> send_client_id(std::string_view text) {
  auto parsed = parse_event(text);
  const auto* v = std::get_if<json::value>(&parsed);
  if (v == nullptr || !is_type(v->as_object(), "send_message")) return std::nullopt;
  const auto* cid = v->as_object().if_contains("client_id");
  if (cid == nullptr || !cid->is_string()) return std::optional<std::string>{};
  return std::optional<std::string>{std::string(cid->get_string())};
}

std::variant<ClientEvent, DecodeError> decode(std::string_view text) {
  auto parsed = parse_event(text);
  if (auto* err = std::get_if<DecodeError>(&parsed)) return std::move(*err);
  const auto& o = std::get<json::value>(parsed).as_object();
  const auto* type = o.if_contains("type");
  if (type == nullptr || !type->is_string()) return bad("type is required");
  const std::string_view t = type->get_string();

  if (t == "send_message") {
    SendMessageEvent e;
    if (const auto* cid = o.if_contains("client_id"); cid != nullptr && !cid->is_null()) {
      if (!cid->is_string()) return bad("client_id must be a string", std::nullopt);
      e.client_id = std::string(cid->get_string());
    }
    auto to = id_member(o, "to");
    if (auto* err = std::get_if<std::string>(&to)) return bad(*err, e.client_id);
    auto group = id_member(o, "group_id");
    if (auto* err = std::get_if<std::string>(&group)) return bad(*err, e.client_id);
    e.to = std::get<0>(to);
    e.group_id = std::get<0>(group);
    auto reply = id_member(o, "reply_to");
    if (auto* err = std::get_if<std::string>(&reply)) return bad(*err, e.client_id);
    e.reply_to = std::get<0>(reply);
    auto attachments = id_array(o, "attachment_ids", 100);
    if (auto* err = std::get_if<std::string>(&attachments)) return bad(*err, e.client_id);
    e.attachment_ids = std::move(std::get<0>(attachments));
    auto mentions = id_array(o, "mentions", 100);
    if (auto* err = std::get_if<std::string>(&mentions)) return bad(*err, e.client_id);
    e.mentions = std::move(std::get<0>(mentions));
    auto forward = id_member(o, "forward_of");
    if (auto* err = std::get_if<std::string>(&forward)) return bad(*err, e.client_id);
    e.forward_of = std::get<0>(forward);
    if (e.to.has_value() == e.group_id.has_value())
      return bad("exactly one of to and group_id is required", e.client_id);
    const auto* content = o.if_contains("content");
    // A forward takes its content from the original: content may then be left out.
    if (!(e.forward_of && (content == nullptr || content->is_null()))) {
      if (content == nullptr || !content->is_string())
        return bad("content is required and must be a string", e.client_id);
      e.content = std::string(content->get_string());
    }
    return ClientEvent{std::move(e)};
  }
  if (t == "edit_message" || t == "delete_message") {
    auto id = id_member(o, "message_id");
    if (auto* err = std::get_if<std::string>(&id)) return bad(*err);
    if (!std::get<0>(id)) return bad("message_id is required");
    if (t == "delete_message") return ClientEvent{DeleteMessageEvent{*std::get<0>(id)}};
    const auto* content = o.if_contains("content");
    if (content == nullptr || !content->is_string())
      return bad("content is required and must be a string");
    return ClientEvent{EditMessageEvent{*std::get<0>(id), std::string(content->get_string())}};
  }
  if (t == "mark_read") {
    auto c = id_member(o, "conversation_id");
    if (auto* err = std::get_if<std::string>(&c)) return bad(*err);
    auto s = id_member(o, "seq");
    if (auto* err = std::get_if<std::string>(&s)) return bad(*err);
    if (!std::get<0>(c) || !std::get<0>(s)) return bad("conversation_id and seq are required");
    return ClientEvent{MarkReadEvent{*std::get<0>(c), *std::get<0>(s)}};
  }
  if (t == "typing") {
    auto c = id_member(o, "conversation_id");
    if (auto* err = std::get_if<std::string>(&c)) return bad(*err);
    if (!std::get<0>(c)) return bad("conversation_id is required");
    return ClientEvent{TypingEvent{*std::get<0>(c)}};
  }
  if (t == "ping") return ClientEvent{PingEvent{}};
  if (t == "react") {
    auto id = id_member(o, "message_id");
    if (auto* err = std::get_if<std::string>(&id)) return bad(*err);
    if (!std::get<0>(id)) return bad("message_id is required");
    const auto* emoji = o.if_contains("emoji");
    if (emoji == nullptr || !(emoji->is_null() || emoji->is_string()))
      return bad("emoji is required: a string, or null to remove the reaction");
    ReactEvent e{*std::get<0>(id), std::nullopt};
    if (emoji->is_string()) e.emoji = std::string(emoji->get_string());
    return ClientEvent{std::move(e)};
  }
  return bad("unknown event type");
}

std::string encode_ready(const User& self) {
  json::object o;
  o["type"] = "ready";
  o["user"] = codec::to_json(self, true);
  return dump(o);
}

std::string encode_ack(const std::optional<std::string>& client_id, const Message& m) {
  json::object o;
  o["type"] = "ack";
  o["client_id"] = codec::nullable(client_id);
  o["message"] = codec::to_json(m);
  return dump(o);
}

std::string encode_message(const Message& m) {
  json::object o;
  o["type"] = "message";
  o["message"] = codec::to_json(m);
  return dump(o);
}

std::string encode_message_updated(const Message& m) {
  json::object o;
  o["type"] = "message_updated";
  o["message"] = codec::to_json(m);
  return dump(o);
}

std::string encode_receipt(const Receipt& r) {
  json::object o;
  o["type"] = "receipt";
  o["conversation_id"] = r.conversation_id;
  o["user_id"] = r.user_id;
  o["status"] = r.status == ReceiptStatus::read ? "read" : "delivered";
  o["up_to_seq"] = r.up_to_seq;
  o["at"] = r.at;
  return dump(o);
}

std::string encode_presence(const PresenceChange& p) {
  json::object o;
  o["type"] = "presence";
  o["user_id"] = p.user_id;
  o["online"] = p.online;
  o["last_seen"] = codec::nullable(p.last_seen);
  return dump(o);
}

std::string encode_typing(ConversationId c, UserId who) {
  json::object o;
  o["type"] = "typing";
  o["conversation_id"] = c;
  o["user_id"] = who;
  return dump(o);
}

std::string encode_reaction(const ReactionChange& r) {
  json::object o;
  o["type"] = "reaction";
  o["conversation_id"] = r.conversation_id;
  o["message_id"] = r.message_id;
  o["user_id"] = r.user_id;
  o["emoji"] = codec::nullable(r.emoji);
  o["at"] = r.at;
  return dump(o);
}

std::string encode_conversation_settings(ConversationId c, const ConversationSettings& s) {
  json::object o;
  o["type"] = "conversation_settings";
  o["conversation_id"] = c;
  o["settings"] = codec::to_json(s);
  return dump(o);
}

std::string encode_conversation_updated(const ConversationUpdate& u) {
  json::object o;
  o["type"] = "conversation_updated";
  o["conversation_id"] = u.conversation_id;
  o["disappearing_seconds"] = codec::nullable(u.disappearing_seconds);
  o["by"] = u.by;
  return dump(o);
}

std::string encode_error(const Error& e, const std::optional<std::string>& client_id,
                         bool answers_send) {
  json::object o;
  o["type"] = "error";
  o["code"] = code_name(e.code);
  o["message"] = e.message;
  if (answers_send) o["client_id"] = codec::nullable(client_id);
  return dump(o);
}

std::string encode_pong() { return R"({"type":"pong"})"; }

}  // namespace chatd::ws
