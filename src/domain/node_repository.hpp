// What several nodes share in the database (PROTOCOL §8): who is alive, and which node holds a
// connection of which user. A user is online while any node does.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"
#include "domain/user_repository.hpp"

namespace chatd {

// A change of a user's presence across all nodes, when one happened.
struct GlobalPresence {
  bool online = false;
  std::optional<std::string> last_seen;  // when it went offline
};

class NodeRepository {
 public:
  virtual ~NodeRepository() = default;
  // Registers the node or refreshes its heartbeat.
  virtual boost::asio::awaitable<Status> heartbeat(std::string node) = 0;
  // Nodes whose heartbeat is older than `timeout_seconds`, other than `self`, that no other
  // node is sweeping: each one returned is the caller's to sweep for the next
  // `timeout_seconds` (after that, another node may claim it again).
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> claim_silent_nodes(
      std::string self, int timeout_seconds) = 0;
  // Removes the node's registration; true when this call removed it (and `only_if_silent`
  // did not find it alive again).
  virtual boost::asio::awaitable<Result<bool>> forget(std::string node, int only_if_silent) = 0;
  // Users the node holds (or held, before it died) online.
  virtual boost::asio::awaitable<Result<std::vector<UserId>>> users_on(std::string node) = 0;
  // Records, in one transaction, that `node` now holds (or no longer holds) a connection of
  // each write's user as of its `at` (at most one write per user); returns the users whose
  // presence across nodes changed, with it.
  virtual boost::asio::awaitable<Result<std::vector<std::pair<UserId, GlobalPresence>>>>
  set_node_presence(std::string node, std::vector<PresenceWrite> writes) = 0;
};

}  // namespace chatd
