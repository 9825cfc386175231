#include "domain/presence_service.hpp"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "domain/clock.hpp"

namespace chatd {

using boost::asio::awaitable;

void PresenceService::tell(UserId user, const std::vector<UserId>& contacts,
                           const GlobalPresence& p) {
  publisher_.presence(contacts, PresenceChange{user, p.online, p.online ? std::nullopt : p.last_seen});
}

awaitable<bool> PresenceService::node_transition(const std::string& node, UserId user, bool online,
                                                 std::string at) {
  auto changed = co_await cluster_->nodes.set_node_presence(node, user, online, std::move(at));
  if (!changed) {
    spdlog::warn("presence of user {} on node {} not stored: {}", user, node,
                 changed.error().message);
    co_return false;
  }
  if (!*changed) co_return false;  // still online on another node, or already offline
  if (auto contacts = co_await users_.contacts(user)) tell(user, *contacts, **changed);
  co_return true;
}

awaitable<void> PresenceService::changed(UserId user, bool online,
                                         std::chrono::system_clock::time_point at) {
  ++in_flight_;
  struct Done {
    std::atomic<std::size_t>& n;
    ~Done() { --n; }
  } done{in_flight_};
  if (cluster_) {
    co_await node_transition(cluster_->node, user, online, to_rfc3339(at));
    co_return;
  }
  auto last_seen = co_await users_.set_presence(user, online, to_rfc3339(at));
  if (!last_seen) {
    spdlog::warn("presence of user {} not stored: {}", user, last_seen.error().message);
    co_return;
  }
  auto contacts = co_await users_.contacts(user);
  if (!contacts) co_return;
  tell(user, *contacts, GlobalPresence{online, *last_seen});
}

awaitable<std::size_t> PresenceService::node_gone(const std::string& node) {
  auto users = co_await cluster_->nodes.users_on(node);
  if (!users) {
    spdlog::warn("users of node {} not read: {}", node, users.error().message);
    co_return 0;
  }
  std::size_t offline = 0;
  const auto at = to_rfc3339(std::chrono::system_clock::now());
  for (const auto user : *users)
    if (co_await node_transition(node, user, false, at)) ++offline;
  co_return offline;
}

awaitable<Status> PresenceService::reset() {
  if (!cluster_) {
    auto cleared = co_await users_.clear_presence();
    if (!cleared) co_return cleared.error();
    if (*cleared > 0) spdlog::info("cleared {} stale online flag(s)", *cleared);
    co_return Status{};
  }
  // Only this node's past sessions: other nodes' users stay as they are.
  if (auto hb = co_await cluster_->nodes.heartbeat(cluster_->node); !hb) co_return hb.error();
  const auto cleared = co_await node_gone(cluster_->node);
  if (cleared > 0)
    spdlog::info("node {}: {} user(s) of an earlier run turned offline", cluster_->node, cleared);
  co_return Status{};
}

awaitable<std::size_t> PresenceService::reconcile(std::function<std::vector<UserId>()> held) {
  if (!cluster_) co_return 0;
  const auto at = to_rfc3339(std::chrono::system_clock::now());
  const auto now_held = held();
  auto stored = co_await cluster_->nodes.users_on(cluster_->node);
  if (!stored) {
    spdlog::warn("users of node {} not read: {}", cluster_->node, stored.error().message);
    co_return 0;
  }
  const std::unordered_set<UserId> want(now_held.begin(), now_held.end());
  const std::unordered_set<UserId> have(stored->begin(), stored->end());
  std::size_t changed = 0;
  for (const auto user : now_held)
    if (!have.contains(user) && co_await node_transition(cluster_->node, user, true, at))
      ++changed;
  for (const auto user : *stored)
    if (!want.contains(user) && co_await node_transition(cluster_->node, user, false, at))
      ++changed;
  co_return changed;
}

awaitable<Result<std::size_t>> PresenceService::sweep() {
  if (!cluster_) co_return std::size_t{0};
  if (auto hb = co_await cluster_->nodes.heartbeat(cluster_->node); !hb) co_return hb.error();
  auto silent = co_await cluster_->nodes.silent_nodes(cluster_->node,
                                                      cluster_->node_timeout_seconds);
  if (!silent) co_return silent.error();
  std::size_t offline = 0;
  for (const auto& node : *silent) {
    spdlog::warn("node {} silent for over {} s: turning its users offline", node,
                 cluster_->node_timeout_seconds);
    offline += co_await node_gone(node);
    auto forgot = co_await cluster_->nodes.forget(node, cluster_->node_timeout_seconds);
    if (!forgot) spdlog::warn("node {} not removed: {}", node, forgot.error().message);
  }
  co_return offline;
}

awaitable<void> PresenceService::goodbye() {
  if (!cluster_) co_return;
  // Connections closed before this; any user still marked here (a close that failed to store)
  // goes offline now, then the node leaves.
  co_await node_gone(cluster_->node);
  auto forgot = co_await cluster_->nodes.forget(cluster_->node, 0);
  if (!forgot) spdlog::warn("node {} did not say goodbye: {}", cluster_->node, forgot.error().message);
  else spdlog::info("node {} left the cluster", cluster_->node);
}

}  // namespace chatd
