// Push to offline phones (PROTOCOL §4). When a message is stored, each recipient with no open
// connection becomes a candidate; a worker, off the messaging path, batches candidates, looks up
// their devices (skipping users who are online on some node by then), and hands signed batches
// to the transport, retrying with backoff. The queue is bounded: a dead or slow webhook costs
// dropped notifications (counted), never messaging latency. At most one notification per
// message and recipient.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"

namespace chatd {

enum class Platform { fcm, apns, web };
std::optional<Platform> parse_platform(std::string_view s);
std::string_view platform_name(Platform p);

struct Device {
  Platform platform = Platform::fcm;
  std::string token;
};

// A recipient's devices, when the recipient is offline (on every node).
struct OfflineRecipient {
  UserId user_id = 0;
  std::vector<Device> devices;
};

class DeviceRepository {
 public:
  virtual ~DeviceRepository() = default;
  // Of these (user, conversation) pairs, those muted now (PROTOCOL §9: muted_until ahead).
  virtual boost::asio::awaitable<Result<std::vector<std::pair<UserId, ConversationId>>>> muted(
      std::vector<std::pair<UserId, ConversationId>> pairs) = 0;
  // Registers `token` for `user` (moving it from whoever had it).
  virtual boost::asio::awaitable<Status> save(UserId user, Device device) = 0;
  // Removes `token` when it is `user`'s.
  virtual boost::asio::awaitable<Status> remove(UserId user, std::string token) = 0;
  // Of `users`, those offline with at least one device; and the usernames of `senders`.
  virtual boost::asio::awaitable<Result<std::vector<OfflineRecipient>>> offline_devices(
      std::vector<UserId> users) = 0;
  virtual boost::asio::awaitable<Result<std::vector<std::pair<UserId, std::string>>>> usernames(
      std::vector<UserId> users) = 0;
};

// Delivers one batch (the JSON body); false when it should be retried.
class PushTransport {
 public:
  virtual ~PushTransport() = default;
  virtual boost::asio::awaitable<bool> post(std::string body) = 0;
};

struct PushOptions {
  std::size_t max_queue = 100000;  // candidates waiting; more are dropped
  std::size_t max_batch = 100;     // notifications per POST
  int retries = 5;
  std::chrono::milliseconds backoff{500};  // doubled after each failure
  std::chrono::milliseconds linger{50};    // how long the worker waits for more
};

class PushService {
 public:
  // `online_here`: whether this node holds a connection of the user (others are checked in
  // the database by the worker). Without a transport (no webhook configured) devices can be
  // registered and nothing is pushed.
  PushService(DeviceRepository& devices, PushTransport* transport,
              std::function<bool(UserId)> online_here, PushOptions options);

  // Thread-safe, non-blocking: queues a candidate per recipient not connected here.
  void message_stored(const Message& m, std::span<const UserId> recipients);

  // The worker; runs until `stop()`.
  boost::asio::awaitable<void> run();
  void stop() { stopping_ = true; }
  // For /metrics: notifications waiting for the worker.
  std::size_t queued() const {
    std::lock_guard l(mutex_);
    return queue_.size();
  }

  boost::asio::awaitable<Status> register_device(UserId user, std::string platform,
                                                 std::string token);
  boost::asio::awaitable<Status> unregister_device(UserId user, std::string token);

 private:
  struct Candidate {
    MessageId message_id = 0;
    ConversationId conversation_id = 0;
    UserId sender_id = 0;
    UserId recipient = 0;
    std::string preview;
    bool mentioned = false;  // pushed even when the conversation is muted (PROTOCOL §9)
  };
  boost::asio::awaitable<void> deliver(std::vector<Candidate> batch);

  DeviceRepository& devices_;
  PushTransport* transport_;
  std::function<bool(UserId)> online_here_;
  PushOptions options_;
  mutable std::mutex mutex_;
  std::deque<Candidate> queue_;
  std::atomic<bool> stopping_{false};
};

// The first `max` characters (code points) of a message, "" for a deleted one.
std::string push_preview(const Message& m, std::size_t max = 100);

}  // namespace chatd
