// A WebSocket client for end-to-end tests: its own I/O thread reads every frame into an inbox
// the test waits on; sends are queued to the same thread. `read = false` makes a client that
// never reads (to test slow-consumer handling).
#pragma once

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chatd::test {

class WsClient {
 public:
  // Connects to /ws with ?token= (or the Authorization header) and completes the handshake;
  // throws when the upgrade is refused.
  WsClient(std::uint16_t port, const std::string& token, bool token_in_header = false,
           bool read = true);
  // The same to the server at `host` (a chatd in a network namespace of a test).
  WsClient(const std::string& host, std::uint16_t port, const std::string& token);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void send(const std::string& text);
  void send(const char* text) { send(std::string(text)); }
  void send(const boost::json::value& event);
  // Sends each later message as frames of at most `bytes` payload bytes (continuation frames).
  void fragment_frames(std::size_t bytes);

  // The next frame, or nullopt after `timeout` (or once the connection closed).
  std::optional<boost::json::value> next(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The oldest frame of `type` (frames of other types stay for later); nullopt on timeout.
  std::optional<boost::json::value> take(const std::string& type,
                                         std::chrono::milliseconds timeout);
  // take(), but throws on timeout.
  boost::json::value next_of(const std::string& type,
                             std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // `n` frames of `type` (others stay); fewer when the timeout passes first.
  std::vector<boost::json::value> collect(const std::string& type, std::size_t n,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Frames of `type` received and not yet taken, without waiting.
  std::size_t count_received(const std::string& type);
  // WebSocket pings the server sent so far (each answered by Beast with a pong while reading).
  std::size_t pings_received();

  // Waits until the server closes; the close code (0 for a dropped TCP connection), or nullopt
  // when still open after `timeout`.
  std::optional<int> wait_closed(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool is_closed();
  void close();

  // Sends a send_message for a direct message and returns the event's client_id.
  std::string send_direct(std::int64_t to, const std::string& content,
                          const std::string& client_id = "");
  // Starts reading (for a client made with read = false).
  void start_reading();

 private:
  struct Impl;
  void open(const std::string& host, std::uint16_t port, const std::string& token,
            bool token_in_header, bool read);
  std::unique_ptr<Impl> impl_;
};

// Attempts an upgrade to `target` and returns the HTTP status of the answer (101 on success).
int upgrade_status(std::uint16_t port, const std::string& target,
                   const std::string& authorization = "");

}  // namespace chatd::test
