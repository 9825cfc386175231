// Presence with several devices (PROTOCOL §3): online while at least one connection is open;
// when the last closes, offline with last_seen. Each transition is stored with the time it
// happened (so late writes cannot reorder it) and told to the user's contacts.
//
// With several nodes (PROTOCOL §8) each node records which users it holds; a user is online
// while any node does, and only a change of that is told. A node that dies without a goodbye
// is found silent by the others, which turn its users offline.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "domain/event_publisher.hpp"
#include "domain/node_repository.hpp"
#include "domain/user_repository.hpp"

namespace chatd {

struct ClusterPresence {
  NodeRepository& nodes;
  std::string node;  // this node's name
  int node_timeout_seconds = 15;
};

class PresenceService {
 public:
  PresenceService(UserRepository& users, EventPublisher& publisher,
                  std::optional<ClusterPresence> cluster = std::nullopt)
      : users_(users), publisher_(publisher), cluster_(std::move(cluster)) {}

  boost::asio::awaitable<void> changed(UserId user, bool online,
                                       std::chrono::system_clock::time_point at);
  // At start-up: no connection of this node exists yet. One node: nobody is online. Several:
  // this node's users from an earlier run go offline (unless connected elsewhere), and the
  // node registers itself.
  boost::asio::awaitable<Status> reset();
  // Several nodes, every few seconds: the heartbeat, and the users of nodes that went silent
  // turned offline. Returns how many users that turned offline.
  boost::asio::awaitable<Result<std::size_t>> sweep();
  // Several nodes, after this node's heartbeat failed or stalled for a while: the users it holds
  // are stored online again — the others may have found it silent and turned them offline —
  // and users it stored online whose connections closed meanwhile (their offline write failed)
  // go offline. `held()` is called after the time of these transitions is taken, so a
  // connection opened or closed meanwhile keeps its own, later one. Returns how many users'
  // presence across nodes that changed.
  boost::asio::awaitable<std::size_t> reconcile(std::function<std::vector<UserId>()> held);
  // Several nodes, at shutdown after the connections closed: the node leaves.
  boost::asio::awaitable<void> goodbye();
  // Transitions being stored right now: a shutdown waits for them after the last connection
  // left the hub, or a user's offline flag could be left behind.
  std::size_t in_flight() const noexcept { return in_flight_.load(); }

 private:
  // Several nodes: records `node`'s transition for `user` and tells the contacts when the
  // user's presence across nodes changed (then true).
  boost::asio::awaitable<bool> node_transition(const std::string& node, UserId user, bool online,
                                               std::string at);
  boost::asio::awaitable<std::size_t> node_gone(const std::string& node);
  void tell(UserId user, const std::vector<UserId>& contacts, const GlobalPresence& p);

  UserRepository& users_;
  EventPublisher& publisher_;
  std::optional<ClusterPresence> cluster_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace chatd
