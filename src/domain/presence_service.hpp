// Presence with several devices (PROTOCOL §3): online while at least one connection is open;
// when the last closes, offline with last_seen. Each transition is stored with the time it
// happened (so late writes cannot reorder it) and told to the user's contacts.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>

#include "domain/event_publisher.hpp"
#include "domain/user_repository.hpp"

namespace chatd {

class PresenceService {
 public:
  PresenceService(UserRepository& users, EventPublisher& publisher)
      : users_(users), publisher_(publisher) {}

  boost::asio::awaitable<void> changed(UserId user, bool online,
                                       std::chrono::system_clock::time_point at);
  // At start-up: no connection exists yet, so nobody is online.
  boost::asio::awaitable<Status> reset();

 private:
  UserRepository& users_;
  EventPublisher& publisher_;
};

}  // namespace chatd
