#include "domain/presence_service.hpp"

#include <spdlog/spdlog.h>

#include "domain/clock.hpp"

namespace chatd {

using boost::asio::awaitable;

awaitable<void> PresenceService::changed(UserId user, bool online,
                                         std::chrono::system_clock::time_point at) {
  auto last_seen = co_await users_.set_presence(user, online, to_rfc3339(at));
  if (!last_seen) {
    spdlog::warn("presence of user {} not stored: {}", user, last_seen.error().message);
    co_return;
  }
  auto contacts = co_await users_.contacts(user);
  if (!contacts) co_return;
  publisher_.presence(*contacts, PresenceChange{user, online, online ? std::nullopt : *last_seen});
}

awaitable<Status> PresenceService::reset() {
  auto cleared = co_await users_.clear_presence();
  if (!cleared) co_return cleared.error();
  if (*cleared > 0) spdlog::info("cleared {} stale online flag(s)", *cleared);
  co_return Status{};
}

}  // namespace chatd
