#include "hub/hub.hpp"

#include <algorithm>

namespace chatd::hub {

Frame make_frame(std::string text, MessageRef message) {
  return Frame{std::make_shared<const std::string>(std::move(text)), message};
}

std::optional<Hub::Clock::time_point> Hub::add(std::shared_ptr<Subscriber> s) {
  auto& sh = shard(s->user_id());
  std::lock_guard lock(sh.mutex);
  auto& held = sh.users[s->user_id()];
  held.connections.push_back(std::move(s));
  if (held.connections.size() > 1) return std::nullopt;
  held.since = std::chrono::steady_clock::now();
  if (interest_) interest_->gained(held.connections.front()->user_id());
  return Clock::now();
}

std::optional<Hub::Clock::time_point> Hub::remove(const Subscriber& s) {
  auto& sh = shard(s.user_id());
  std::lock_guard lock(sh.mutex);
  auto it = sh.users.find(s.user_id());
  if (it == sh.users.end()) return std::nullopt;
  auto& list = it->second.connections;
  const auto before = list.size();
  std::erase_if(list, [&](const auto& p) { return p.get() == &s; });
  if (list.size() == before) return std::nullopt;
  if (!list.empty()) return std::nullopt;
  sh.users.erase(it);
  if (interest_) interest_->lost(s.user_id());
  return Clock::now();
}

std::size_t Hub::deliver(std::int64_t user, const Frame& frame, std::uint64_t except) {
  auto& sh = shard(user);
  std::lock_guard lock(sh.mutex);
  auto it = sh.users.find(user);
  if (it == sh.users.end()) return 0;
  std::size_t n = 0;
  for (const auto& s : it->second.connections) {
    if (s->session_id() == except) continue;
    s->send(frame);  // only queues: cheap enough to do under the shard lock
    ++n;
  }
  return n;
}

std::size_t Hub::deliver(std::span<const std::int64_t> users, const Frame& frame,
                         std::uint64_t except) {
  std::size_t n = 0;
  for (auto u : users) n += deliver(u, frame, except);
  return n;
}

bool Hub::online(std::int64_t user) const {
  auto& sh = shard(user);
  std::lock_guard lock(sh.mutex);
  return sh.users.contains(user);
}

std::optional<std::chrono::steady_clock::time_point> Hub::held_since(std::int64_t user) const {
  auto& sh = shard(user);
  std::lock_guard lock(sh.mutex);
  auto it = sh.users.find(user);
  if (it == sh.users.end()) return std::nullopt;
  return it->second.since;
}

std::size_t Hub::connections() const {
  std::size_t n = 0;
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mutex);
    for (const auto& [u, held] : sh.users) n += held.connections.size();
  }
  return n;
}

void Hub::close_if(std::int64_t user, const std::function<bool(const Subscriber&)>& pred,
                   std::uint16_t code, std::string_view reason) {
  auto& sh = shard(user);
  std::lock_guard lock(sh.mutex);
  auto it = sh.users.find(user);
  if (it == sh.users.end()) return;
  for (const auto& s : it->second.connections)
    if (pred(*s)) s->close(code, reason);
}

void Hub::resync_all() {
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mutex);
    for (const auto& [u, held] : sh.users)
      for (const auto& s : held.connections) s->resync();
  }
}

std::vector<std::int64_t> Hub::users() const {
  std::vector<std::int64_t> out;
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mutex);
    for (const auto& [u, held] : sh.users) out.push_back(u);
  }
  return out;
}

void Hub::close_all(std::uint16_t code, std::string_view reason) {
  for (auto& sh : shards_) {
    std::lock_guard lock(sh.mutex);
    for (const auto& [u, held] : sh.users)
      for (const auto& s : held.connections) s->close(code, reason);
  }
}

}  // namespace chatd::hub
