#include "net/keep_alive.hpp"

#include <algorithm>

namespace chatd::net {

KeepAlive::KeepAlive(std::chrono::seconds idle_timeout)
    : idle_(static_cast<std::uint32_t>(std::max<std::int64_t>(2, idle_timeout.count()))),
      ping_(idle_ / 2),
      // Every due second is at most `idle_` ahead of now: one slot each, and one for now.
      slots_(idle_ + 1),
      zero_(std::chrono::steady_clock::now()) {}

KeepAlive::~KeepAlive() {
  for (auto& slot : slots_) slot.clear();  // members unhook themselves; none is destroyed here
}

void KeepAlive::start(boost::asio::any_io_executor ex) {
  timer_.emplace(std::move(ex));
  tick();
}

void KeepAlive::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  if (timer_) timer_->cancel();
}

void KeepAlive::tick() {
  // Absolute deadlines: the wheel keeps to the clock however late a turn ran.
  const auto elapsed = std::chrono::steady_clock::now() - zero_;
  const auto second = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
  turn_to(second);
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  timer_->expires_at(zero_ + std::chrono::seconds(second + 1));
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

void KeepAlive::place(Member& m, std::uint32_t due) {
  m.due_ = due;
  slots_[due % slots_.size()].push_back(m);
}

void KeepAlive::add(Member& m) {
  std::lock_guard lock(mutex_);
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
        place(m, heard + ping_);  // heard from since: looked at when that is half the timeout old
      }
    }
  }
}

}  // namespace chatd::net
