#include "domain/presence_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <iterator>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "domain/clock.hpp"

namespace chatd {

namespace asio = boost::asio;
using asio::awaitable;

namespace {
// Users whose contacts are read in one statement: each may have thousands (big groups), so
// the result stays bounded however large the batch of transitions.
constexpr std::size_t kContactsPerRead = 128;
}  // namespace

PresenceService::PresenceService(asio::any_io_executor ex, UserRepository& users,
                                 EventPublisher& publisher, std::optional<ClusterPresence> cluster,
                                 std::size_t max_batch)
    : users_(users),
      publisher_(publisher),
      cluster_(std::move(cluster)),
      max_batch_(std::max<std::size_t>(1, max_batch)),
      queue_(std::make_unique<BatchQueue<Transition>>(
          std::move(ex), max_batch_, [this](std::vector<Transition>& b) { return drain(b); })) {}

awaitable<void> PresenceService::changed(UserId user, bool online,
                                         std::chrono::system_clock::time_point at) {
  ++in_flight_;
  struct Done {
    std::atomic<std::size_t>& n;
    ~Done() { --n; }
  } done{in_flight_};
  // The caller resumes on its own executor once its batch is stored and told.
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [this, user, online, at](auto handler) {
        queue_->push(Transition{user, online, at, resume_on_home<>(std::move(handler))});
      },
      asio::use_awaitable);
}

awaitable<void> PresenceService::drain(std::vector<Transition>& batch) {
  // One write per user: the latest transition (a later one of the same time wins).
  std::unordered_map<UserId, std::size_t> latest;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto [it, fresh] = latest.try_emplace(batch[i].user, i);
    if (!fresh && batch[i].at >= batch[it->second].at) it->second = i;
  }
  std::vector<PresenceWrite> writes;
  writes.reserve(latest.size());
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (latest[batch[i].user] == i)
      writes.push_back(PresenceWrite{batch[i].user, batch[i].online, to_rfc3339(batch[i].at)});
  co_await store(cluster_ ? &cluster_->node : nullptr, std::move(writes));
  for (auto& t : batch) t.done();
}

awaitable<std::size_t> PresenceService::store(const std::string* node,
                                              std::vector<PresenceWrite> writes) {
  if (writes.empty()) co_return 0;
  std::vector<std::pair<UserId, GlobalPresence>> changed;
  if (node) {
    const auto n = writes.size();
    auto stored = co_await cluster_->nodes.set_node_presence(*node, std::move(writes));
    if (!stored) {
      spdlog::warn("presence of {} user(s) on node {} not stored: {}", n, *node,
                   stored.error().message);
      co_return 0;
    }
    changed = std::move(*stored);  // only the users whose presence across nodes changed
  } else {
    for (const auto& w : writes) changed.emplace_back(w.user, GlobalPresence{w.online, {}});
    auto last_seen = co_await users_.set_presence(std::move(writes));
    if (!last_seen) {
      spdlog::warn("presence of {} user(s) not stored: {}", changed.size(),
                   last_seen.error().message);
      co_return 0;
    }
    for (std::size_t i = 0; i < changed.size() && i < last_seen->size(); ++i)
      changed[i].second.last_seen = std::move((*last_seen)[i]);
  }
  for (std::size_t from = 0; from < changed.size(); from += kContactsPerRead) {
    const auto to = std::min(changed.size(), from + kContactsPerRead);
    std::vector<UserId> users;
    for (auto i = from; i < to; ++i) users.push_back(changed[i].first);
    auto contacts = co_await users_.contacts(std::move(users));
    if (!contacts) {
      spdlog::warn("contacts of {} user(s) not read, their presence not told: {}", to - from,
                   contacts.error().message);
      continue;
    }
    std::unordered_map<UserId, std::vector<UserId>> of;
    for (const auto& [user, contact] : *contacts) of[user].push_back(contact);
    for (auto i = from; i < to; ++i) {
      const auto& [user, p] = changed[i];
      const auto it = of.find(user);
      const std::span<const UserId> told =
          it == of.end() ? std::span<const UserId>{} : std::span<const UserId>(it->second);
      publisher_.presence(told, PresenceChange{user, p.online,
                                               p.online ? std::nullopt : p.last_seen});
    }
  }
  co_return changed.size();
}

awaitable<std::size_t> PresenceService::store_all(const std::string& node,
                                                  std::vector<PresenceWrite> writes) {
  std::size_t changed = 0;
  for (std::size_t from = 0; from < writes.size(); from += max_batch_) {
    const auto to = std::min(writes.size(), from + max_batch_);
    changed += co_await store(&node, std::vector<PresenceWrite>(
                                         std::make_move_iterator(writes.begin() + from),
                                         std::make_move_iterator(writes.begin() + to)));
  }
  co_return changed;
}

awaitable<std::size_t> PresenceService::node_gone(const std::string& node) {
  auto users = co_await cluster_->nodes.users_on(node);
  if (!users) {
    spdlog::warn("users of node {} not read: {}", node, users.error().message);
    co_return 0;
  }
  const auto at = to_rfc3339(std::chrono::system_clock::now());
  std::vector<PresenceWrite> writes;
  for (const auto user : *users) writes.push_back(PresenceWrite{user, false, at});
  co_return co_await store_all(node, std::move(writes));
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
  std::vector<PresenceWrite> writes;
  for (const auto user : now_held)
    if (!have.contains(user)) writes.push_back(PresenceWrite{user, true, at});
  for (const auto user : *stored)
    if (!want.contains(user)) writes.push_back(PresenceWrite{user, false, at});
  co_return co_await store_all(cluster_->node, std::move(writes));
}

awaitable<Result<std::size_t>> PresenceService::sweep() {
  if (!cluster_) co_return std::size_t{0};
  if (auto hb = co_await cluster_->nodes.heartbeat(cluster_->node); !hb) co_return hb.error();
  auto silent = co_await cluster_->nodes.claim_silent_nodes(cluster_->node,
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
