// Presence with several devices (PROTOCOL §3): online while at least one connection is open;
// when the last closes, offline with last_seen. Each transition is stored with the time it
// happened (so late writes cannot reorder it) and told to the user's contacts.
//
// Transitions are stored in batches (domain/batch_queue.hpp): whatever connects and
// disconnects arrived while the previous batch was being written goes out as one transaction
// and one read of the contacts, so a reconnect storm costs the database a few statements per
// batch instead of four per connection, and holds one pool connection. Two transitions of one
// user in the same batch are folded into the later one: contacts are told the state it leaves.
//
// With several nodes (PROTOCOL §8) each node records which users it holds; a user is online
// while any node does, and only a change of that is told. A node that dies without a goodbye
// is found silent by the others, which turn its users offline.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "domain/batch_queue.hpp"
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
  // At most `max_batch` transitions are written at a time.
  PresenceService(boost::asio::any_io_executor ex, UserRepository& users,
                  EventPublisher& publisher, std::optional<ClusterPresence> cluster = std::nullopt,
                  std::size_t max_batch = 1024);

  // Stores the transition (in the next batch) and tells the contacts; resumes when done.
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
  struct Transition {
    UserId user = 0;
    bool online = false;
    std::chrono::system_clock::time_point at;
    std::function<void()> done;  // resumes the caller of changed()
  };
  boost::asio::awaitable<void> drain(std::vector<Transition>& batch);
  // Stores the transitions (one per user) — on `node` when several nodes share the database —
  // and tells the contacts of each user whose presence changed. Returns how many changed.
  boost::asio::awaitable<std::size_t> store(const std::string* node,
                                            std::vector<PresenceWrite> writes);
  // The same for any number of transitions, a batch at a time.
  boost::asio::awaitable<std::size_t> store_all(const std::string& node,
                                                std::vector<PresenceWrite> writes);
  boost::asio::awaitable<std::size_t> node_gone(const std::string& node);

  UserRepository& users_;
  EventPublisher& publisher_;
  std::optional<ClusterPresence> cluster_;
  std::size_t max_batch_;
  std::atomic<std::size_t> in_flight_{0};
  std::unique_ptr<BatchQueue<Transition>> queue_;
};

}  // namespace chatd
