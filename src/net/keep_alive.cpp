#include "net/keep_alive.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace chatd::net {

KeepAlive::KeepAlive(std::chrono::seconds idle_timeout)
    : idle_(static_cast<std::uint32_t>(std::max<std::int64_t>(2, idle_timeout.count()))),
      ping_(idle_ - std::max<std::uint32_t>(1, idle_ / 4)),  // the last quarter for the pong
      // Every due second is at most `idle_` ahead of now: one slot each, and one for now.
      slots_(idle_ + 1),
      zero_(std::chrono::steady_clock::now()) {}

KeepAlive::~KeepAlive() {
  // chatd's connections are gone by now (the wheel outlives their io_context): this unhooks
  // only what a test left on it.
  for (auto& slot : slots_) slot.clear();
}

boost::asio::awaitable<void> KeepAlive::run() {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  for (;;) {
    // Absolute deadlines: the wheel keeps to the clock however late a turn ran.
    const auto second = static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - zero_)
            .count());
    turn_to(second);
    timer.expires_at(zero_ + std::chrono::seconds(second + 1));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

void KeepAlive::place(Member& m, std::uint32_t due) {
  m.due_ = due;
  slots_[due % slots_.size()].push_back(m);
}

void KeepAlive::add(Member& m) {
  std::lock_guard lock(mutex_);
  m.wheel_ = this;
  const auto t = now();
  m.heard_.store(t, std::memory_order_relaxed);
  place(m, t + ping_);
  ++members_;
}

void KeepAlive::remove(Member& m) {
  std::lock_guard lock(mutex_);
  if (!m.is_linked()) return;
  slots_[m.due_ % slots_.size()].erase(Slot::s_iterator_to(m));
  --members_;
}

std::size_t KeepAlive::members() const {
  std::lock_guard lock(mutex_);
  return members_;
}

void KeepAlive::turn_to(std::uint32_t second) {
  std::lock_guard lock(mutex_);
  for (auto s = now(); s < second;) {
    ++s;
    now_.store(s, std::memory_order_relaxed);
    Slot due;
    due.swap(slots_[s % slots_.size()]);
    while (!due.empty()) {
      Member& m = due.front();
      due.pop_front();
      const std::uint32_t heard = m.heard_.load(std::memory_order_relaxed);
      const std::uint32_t silent = s > heard ? s - heard : 0;
      if (silent >= idle_) {
        --members_;
        m.keep_alive_due(/*drop=*/true);
      } else if (silent >= ping_) {
        m.keep_alive_due(/*drop=*/false);
        place(m, heard + idle_);
      } else {
        place(m, heard + ping_);  // heard from since: looked at when that is as old
      }
    }
  }
}

}  // namespace chatd::net
