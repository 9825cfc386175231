// Routes each client event of a connection to the domain services and answers on that
// connection: ack or error for send_message, pong for ping, errors for the rest (PROTOCOL §3).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string_view>

#include "domain/messaging_service.hpp"
#include "domain/reaction_service.hpp"
#include "hub/hub.hpp"

namespace chatd::ws {

class Dispatcher {
 public:
  Dispatcher(MessagingService& messaging, ReactionService& reactions)
      : messaging_(messaging), reactions_(reactions) {}

  // Handles one text frame. Returns once the event is queued or answered: messages sent one
  // after another on a connection keep their order, without waiting for each commit.
  boost::asio::awaitable<void> on_text(std::shared_ptr<hub::Subscriber> conn,
                                       std::string_view text);

 private:
  MessagingService& messaging_;
  ReactionService& reactions_;
};

}  // namespace chatd::ws
