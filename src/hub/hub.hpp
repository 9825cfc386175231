// Who is connected on this node, and the hand-off of events to them. The hub sees neither
// Beast nor libpq: it hands one shared, immutable, already-serialized frame to each subscriber,
// whose send() only queues it on the connection's strand. Sharded by user id, so fan-out from
// several threads rarely contends.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chatd::hub {

// Which message a `message` event carries: enough to record its delivery and to tell its
// sender, without asking the database again.
struct MessageRef {
  std::int64_t id = 0;
  std::int64_t conversation_id = 0;
  std::int64_t seq = 0;
  std::int64_t sender_id = 0;
};

// An outgoing event, serialized once and shared by every connection that receives it.
struct Frame {
  std::shared_ptr<const std::string> text;
  // Set (id > 0) on a `message` event for a recipient: writing it counts as delivery.
  MessageRef message;
};

Frame make_frame(std::string text, MessageRef message = {});

class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual std::uint64_t session_id() const noexcept = 0;
  virtual std::int64_t user_id() const noexcept = 0;
  // Thread-safe and non-blocking: queues the frame; a connection over its queue bounds is
  // dropped instead of slowing the caller.
  virtual void send(Frame frame) = 0;
  // Sends a close frame with `code` after what is already queued.
  virtual void close(std::uint16_t code, std::string_view reason) = 0;
  // Events may have been missed (the link between nodes was down): catch up from the store.
  virtual void resync() {}
  // Whether this connection was opened with a token that is now ended: the token `jti`, or every
  // token issued before `before_ms` but `keep_jti`.
  virtual bool token_ended(std::string_view /*jti*/, std::int64_t /*before_ms*/,
                           std::string_view /*keep_jti*/) const {
    return false;
  }
};

// Told when a user's first connection on this node opens and when its last one closes, in that
// order for each user (called under the hub's lock for that user: must not call back into it).
class Interest {
 public:
  virtual ~Interest() = default;
  virtual void gained(std::int64_t user) = 0;
  virtual void lost(std::int64_t user) = 0;
};

class Hub {
 public:
  using Clock = std::chrono::system_clock;

  // Set before the first connection (with several nodes: the subscriptions per user).
  void set_interest(Interest* interest) { interest_ = interest; }

  // Registers a connection. When it is the user's first on this node, returns the time of that
  // transition (taken under the lock, so a user's transitions are ordered).
  std::optional<Clock::time_point> add(std::shared_ptr<Subscriber> s);
  // Unregisters; returns the transition time when it was the user's last connection.
  std::optional<Clock::time_point> remove(const Subscriber& s);

  // Hands `frame` to every connection of every user in `users`, except session `except`.
  // Returns the number of connections that got it.
  std::size_t deliver(std::span<const std::int64_t> users, const Frame& frame,
                      std::uint64_t except = 0);
  std::size_t deliver(std::int64_t user, const Frame& frame, std::uint64_t except = 0);

  bool online(std::int64_t user) const;
  // Since when this node has held a connection of `user` without a break; none when it holds
  // none.
  std::optional<std::chrono::steady_clock::time_point> held_since(std::int64_t user) const;
  std::size_t connections() const;
  // The users this node holds a connection of, right now.
  std::vector<std::int64_t> users() const;
  // Asks `user`'s connections for which `pred` holds to close with `code`.
  void close_if(std::int64_t user, const std::function<bool(const Subscriber&)>& pred,
                std::uint16_t code, std::string_view reason);
  // Asks every connection to catch up (after an outage of the link between nodes).
  void resync_all();
  // Asks every connection to close (shutdown: 1001 going away).
  void close_all(std::uint16_t code, std::string_view reason);

 private:
  static constexpr std::size_t kShards = 64;
  struct Held {
    std::vector<std::shared_ptr<Subscriber>> connections;
    std::chrono::steady_clock::time_point since;
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::int64_t, Held> users;
  };
  Shard& shard(std::int64_t user) const {
    return shards_[static_cast<std::uint64_t>(user) % kShards];
  }
  mutable std::array<Shard, kShards> shards_;
  Interest* interest_ = nullptr;
};

}  // namespace chatd::hub
