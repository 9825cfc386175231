// Deliveries coalesced into positions before they are recorded (PROTOCOL §4: receipts are
// cumulative). Only the highest seq per conversation and recipient matters, so what waits is
// bounded by how many (conversation, member) pairs exist, not by how fast messages arrive: an
// overloaded database makes each recording cover more, never makes the queue grow without end.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "domain/message.hpp"

namespace chatd {

class DeliveryQueue {
 public:
  using Drain = std::function<boost::asio::awaitable<void>(std::vector<DeliveryPosition>&)>;

  // `drain` gets at most `max_batch` positions at a time, one call after another.
  DeliveryQueue(boost::asio::any_io_executor ex, std::size_t max_batch, Drain drain);

  // Thread-safe; starts a drain when none is running.
  void push(const Delivery& d);

  // Positions waiting to be recorded.
  std::size_t size() const;

 private:
  boost::asio::awaitable<void> run();

  struct Key {
    ConversationId conversation_id;
    UserId user_id;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return std::hash<std::int64_t>{}(k.conversation_id) * 0x9e3779b97f4a7c15ULL ^
             std::hash<std::int64_t>{}(k.user_id);
    }
  };

  boost::asio::any_io_executor ex_;
  std::size_t max_batch_;
  Drain drain_;
  mutable std::mutex mutex_;
  std::vector<DeliveryPosition> pending_;
  std::unordered_map<Key, std::size_t, KeyHash> index_;  // into pending_
  bool running_ = false;
};

}  // namespace chatd
