// The keep-alive of a node's WebSockets (PROTOCOL §3: the server pings; a peer silent for 60 s
// is dropped) as one timing wheel turned once a second, instead of a timer per connection.
//
// Beast's own keep-alive armed a timer for every connection and pinged each one at its own
// moment: with ~18,000 idle connections a node woke ~600 times a second, and the peers and the
// node again for each pong (the million's bound, docs/BENCHMARKS.md). Here a connection is a
// member on the wheel's slot of the second it next needs looking at; each second the members
// of one slot are looked at together, and the silent ones are pinged in one batch: one wake-up
// per node and second, whatever the number of connections.
//
// A member is looked at when its last sign of life (any frame, a pong included) is three
// quarters of the timeout old (45 s of 60); one silent since then is pinged, and looked at again
// when the timeout is up: still silent, it is dropped. Its pong has the last quarter (15 s;
// Centrifugo gives 8 s, Socket.IO 20 s); bytes that reached the socket but that the node has not
// read yet are not silence (the session looks before it drops). A connection heard from more
// often is never pinged. Pinging at three quarters rather than at half sends a third fewer pings,
// and the keep-alive was the CPU bound of a million connections on one box. Times are whole
// seconds of the wheel (a peer is dropped after 60–61 s of silence with the 60 s default).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/intrusive/list.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

namespace chatd::net {

class KeepAlive {
 public:
  // One connection on the wheel (40 bytes of it). Added by its owner, who calls leave() before
  // it is destroyed (in the derived destructor's body: the wheel may call it until then).
  // Called by the wheel, under the wheel's lock and on whatever thread turns it, when its peer
  // must be pinged (drop = false) or dropped (drop = true, and the member is off the wheel by
  // then).
  class Member : public boost::intrusive::list_base_hook<> {
   public:
    // A frame came from the peer (any thread; a relaxed store).
    void heard() noexcept {
      if (wheel_) heard_.store(wheel_->now(), std::memory_order_relaxed);
    }
    // Off the wheel, if on it.
    void leave() {
      if (wheel_) wheel_->remove(*this);
    }

   protected:
    Member() = default;
    ~Member() = default;

   private:
    friend class KeepAlive;
    virtual void keep_alive_due(bool drop) = 0;
    KeepAlive* wheel_ = nullptr;
    std::atomic<std::uint32_t> heard_{0};
    std::uint32_t due_ = 0;
  };

  // `idle_timeout`: whole seconds, at least 2 (pings after three quarters of it, at least one
  // second before its end). The wheel outlives its members: made before the io_context their
  // connections run on.
  explicit KeepAlive(std::chrono::seconds idle_timeout);
  ~KeepAlive();
  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;

  // Turns the wheel with the clock, once a second, for as long as its io_context runs.
  boost::asio::awaitable<void> run();

  // The member counts as heard now.
  void add(Member& m);
  // Safe on a member the wheel dropped already, or removed already.
  void remove(Member& m);

  std::chrono::seconds idle_timeout() const noexcept { return std::chrono::seconds(idle_); }
  // The wheel's second (since it was made).
  std::uint32_t now() const noexcept { return now_.load(std::memory_order_relaxed); }
  // Looks at every slot due up to `second` (the timer does this; tests call it directly).
  void turn_to(std::uint32_t second);

  std::size_t members() const;

 private:
  using Slot = boost::intrusive::list<Member, boost::intrusive::constant_time_size<false>>;
  void place(Member& m, std::uint32_t due);  // under the lock

  const std::uint32_t idle_;  // seconds of silence before a drop
  const std::uint32_t ping_;  // seconds of silence before a ping
  std::atomic<std::uint32_t> now_{0};
  mutable std::mutex mutex_;
  std::vector<Slot> slots_;  // the member due at second s is in slots_[s % size]
  std::size_t members_ = 0;
  std::chrono::steady_clock::time_point zero_;
};

}  // namespace chatd::net
