#include "domain/disappearing_service.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chatd {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<Result<std::optional<int>>> DisappearingService::set_timer(
    UserId user, ConversationId c, std::optional<std::int64_t> seconds) {
  if (seconds && (*seconds < kMinDisappearingSeconds || *seconds > kMaxDisappearingSeconds))
    co_return make_error(errc::invalid_input,
                         "seconds must be null or from 5 to 7776000 (90 days)");
  std::optional<int> timer;
  if (seconds) timer = static_cast<int>(*seconds);
  auto r = co_await repo_.set_timer(user, c, timer);
  if (!r) co_return r.error();
  switch (r->kind) {
    case TimerOutcome::Kind::not_found:
      co_return make_error(errc::not_found, "no such conversation");
    case TimerOutcome::Kind::not_allowed:
      co_return make_error(errc::forbidden, "only a group's admins may set its timer");
    case TimerOutcome::Kind::set:
      break;
  }
  publisher_.conversation_updated(ConversationUpdate{c, timer, user}, r->members);
  co_return timer;
}

awaitable<std::size_t> DisappearingService::sweep_now() {
  std::size_t total = 0;
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer pause(ex);
  for (;;) {
    auto r = co_await repo_.sweep(options_.batch);
    if (!r) {
      spdlog::warn("sweeping expired messages failed: {}", r.error().message);
      break;
    }
    total += r->erased;
    // Another node is sweeping, or nothing is left: done until the next round.
    if (!r->swept || r->erased < static_cast<std::size_t>(options_.batch)) break;
    // Between batches, a moment for everything else the database does.
    pause.expires_after(std::chrono::milliseconds(5));
    boost::system::error_code ec;
    co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
  }
  co_return total;
}

awaitable<void> DisappearingService::run() {
  auto ex = co_await asio::this_coro::executor;
  asio::steady_timer t(ex);
  for (;;) {
    if (const auto n = co_await sweep_now(); n > 0) spdlog::info("erased {} expired message(s)", n);
    t.expires_after(options_.sweep_every);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace chatd
