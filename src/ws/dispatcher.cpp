#include "ws/dispatcher.hpp"

#include "ws/event_codec.hpp"

namespace chatd::ws {

using boost::asio::awaitable;

namespace {

void reply_error(hub::Subscriber& conn, const Error& e) {
  conn.send(hub::make_frame(encode_error(e)));
}

}  // namespace

awaitable<void> Dispatcher::on_text(std::shared_ptr<hub::Subscriber> conn, std::string_view text) {
  auto decoded = decode(text);
  if (auto* err = std::get_if<DecodeError>(&decoded)) {
    conn->send(hub::make_frame(encode_error(err->error, err->client_id, err->answers_send)));
    co_return;
  }
  auto& event = std::get<ClientEvent>(decoded);
  const UserId user = conn->user_id();

  if (auto* send = std::get_if<SendMessageEvent>(&event)) {
    const auto client_id = send->client_id;
    SendCallback done = [conn, client_id](Result<Message> stored) {
      if (stored)
        conn->send(hub::make_frame(encode_ack(client_id, *stored)));
      else
        conn->send(hub::make_frame(encode_error(stored.error(), client_id, true)));
    };
    SendRequest request{send->to, send->group_id, std::move(send->content), send->client_id,
                        send->reply_to, std::move(send->attachment_ids),
                        std::move(send->mentions), send->forward_of};
    auto queued = messaging_.submit(user, conn->session_id(), std::move(request), std::move(done));
    if (!queued) conn->send(hub::make_frame(encode_error(queued.error(), client_id, true)));
  } else if (auto* edit = std::get_if<EditMessageEvent>(&event)) {
    auto r = co_await messaging_.edit(user, edit->message_id, std::move(edit->content));
    if (!r) reply_error(*conn, r.error());
  } else if (auto* del = std::get_if<DeleteMessageEvent>(&event)) {
    auto r = co_await messaging_.remove(user, del->message_id);
    if (!r) reply_error(*conn, r.error());
  } else if (auto* read = std::get_if<MarkReadEvent>(&event)) {
    auto r = co_await messaging_.mark_read(user, read->conversation_id, read->seq);
    if (!r) reply_error(*conn, r.error());
  } else if (auto* typing = std::get_if<TypingEvent>(&event)) {
    auto r = co_await messaging_.typing(user, typing->conversation_id);
    if (!r) reply_error(*conn, r.error());
  } else if (auto* react = std::get_if<ReactEvent>(&event)) {
    auto r = co_await reactions_.react(user, react->message_id, std::move(react->emoji));
    if (!r) reply_error(*conn, r.error());
  } else {
    conn->send(hub::make_frame(encode_pong()));
  }
}

}  // namespace chatd::ws
