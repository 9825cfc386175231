// One WebSocket connection (PROTOCOL §3): upgrade, `ready`, the push of what arrived while the
// user was offline, then a read loop feeding the dispatcher and a writer draining a bounded
// queue into the socket layer, several frames per write (net/coalescing_stream.hpp). Everything runs on the connection's strand; other threads reach it only through send()
// and close(), which post to that strand.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/container/deque.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "domain/arrival_reader.hpp"
#include "domain/messaging_service.hpp"
#include "domain/presence_service.hpp"
#include "hub/hub.hpp"
#include "net/coalescing_stream.hpp"
#include "net/keep_alive.hpp"
#include "ws/dispatcher.hpp"

namespace chatd::net {

struct WsOptions {
  std::size_t max_frame_bytes = 64 * 1024;
  std::size_t queue_messages = 8192;  // queued frames before the connection is dropped
  std::size_t queue_bytes = 4 * 1024 * 1024;
  double events_per_second = 50;  // sustained client events, then `rate_limited`
  double event_burst = 300;
};

// Close codes chatd uses (RFC 6455 §7.4.1).
inline constexpr std::uint16_t kCloseGoingAway = 1001;    // server shutting down
inline constexpr std::uint16_t kClosePolicy = 1008;       // slow consumer: queue over its bounds
inline constexpr std::uint16_t kCloseTooBig = 1009;       // frame over the limit

struct WsDeps {
  hub::Hub& hub;
  ws::Dispatcher& dispatcher;
  MessagingService& messaging;
  PresenceService& presence;
  ArrivalReader& arrivals;
  KeepAlive& keep_alive;  // pings and drops silent peers (its idle timeout: PROTOCOL §3)
  WsOptions options;
  // Several nodes routing by interest: calls its argument (on any thread) once this node's
  // subscription to a user that just connected is in force, so that what the backlog read
  // after it misses comes live. Unset: nothing to wait for.
  std::function<void(std::function<void()>)> when_subscribed;
};

// NextLayer: boost::beast::tcp_stream (plain) or ssl_stream over it (TLS); both are instantiated
// in ws_session.cpp.
template <class NextLayer>
class WsSession final : public hub::Subscriber,
                        public FlushListener,
                        public KeepAlive::Member,
                        public std::enable_shared_from_this<WsSession<NextLayer>> {
 public:
  // permessage-deflate is never offered: no per-connection compression state. The session's
  // frames go out through the layer beneath Beast, several per socket write.
  using Stream = boost::beast::websocket::stream<CoalescingStream<NextLayer>, false>;
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  WsSession(NextLayer stream, UserId user, WsDeps& deps);
  ~WsSession() override;

  // Accepts the upgrade and serves the connection until it closes; `address` is the client's
  // (PROTOCOL §10), for the log.
  boost::asio::awaitable<void> run(Request request, std::string address);

  boost::asio::any_io_executor executor() { return ws_.get_executor(); }
  std::uint64_t session_id() const noexcept override { return id_; }
  std::int64_t user_id() const noexcept override { return user_; }
  void send(hub::Frame frame) override;
  void close(std::uint16_t code, std::string_view reason) override;
  void resync() override;
  std::shared_ptr<void> flush_owner() override { return this->shared_from_this(); }
  void flush_started() override;
  void flushed(const boost::system::error_code& ec) override;
  // The token this connection was opened with (to close it when that token is ended).
  void set_token(std::string jti, std::int64_t issued_ms) {
    jti_ = std::move(jti);
    issued_ms_ = issued_ms;
  }
  bool token_ended(std::string_view jti, std::int64_t before_ms,
                   std::string_view keep_jti) const override {
    if (!jti.empty()) return jti == jti_;
    return before_ms > 0 && issued_ms_ < before_ms && (jti_.empty() || jti_ != keep_jti);
  }

 private:
  boost::asio::awaitable<void> open();
  // `waiting`: the backlog is read first (else nothing is, ArrivalReader); then the live
  // frames held meanwhile are written.
  boost::asio::awaitable<void> replay_offline(bool waiting);
  // The backlog when ArrivalReader says something waits, else only the skip counted (a
  // connect's and a resync's alike).
  boost::asio::awaitable<void> replay_if(bool waiting);
  boost::asio::awaitable<void> replay_pages();
  bool first_time(const hub::MessageRef& m);  // on the strand
  void pump_writes();  // on the strand
  void enqueue(hub::Frame frame, bool dedupe = true);  // on the strand
  void drop_queue();  // on the strand
  bool queue_over_half() const;
  boost::asio::awaitable<void> wait_for_room();
  void request_close(std::uint16_t code, std::string reason);  // on the strand
  bool take_token();
  void keep_alive_due(bool drop) override;  // any thread, under the wheel's lock

  Stream ws_;
  UserId user_;
  WsDeps& deps_;
  std::uint64_t id_;
  // Made when first needed: an idle connection carries no timer of its own.
  std::optional<boost::asio::steady_timer> kill_;     // cuts a peer that ignores our close
  std::optional<boost::asio::steady_timer> drained_;  // wakes a reader paused on a full queue
  bool writing_ = false;     // the close frame is under way
  bool close_sent_ = false;
  // Idle connections are most of them: nothing here holds memory while empty (boost's deque
  // allocates on first use, std::deque on construction; both are released once drained).
  boost::container::deque<hub::Frame> queue_;
  std::size_t queued_bytes_ = 0;
  // The recipient's messages handed to the socket layer and not yet written (appended) and
  // those of the write under way (flushing): each counts as delivered once its write is done.
  // Made on the first such message, released when both are empty.
  struct Unwritten {
    std::vector<Delivery> appended;
    std::vector<Delivery> flushing;
  };
  std::unique_ptr<Unwritten> unwritten_;
  // Until the offline backlog is pushed, live frames wait here.
  bool holding_ = true;
  bool replaying_ = false;  // a catch-up after an outage between nodes is running
  std::vector<hub::Frame> held_;
  // Per conversation, the highest seq written to this connection: a message arriving twice (the
  // backlog and a live frame, or a catch-up) is written once. Grows only with traffic.
  std::vector<std::pair<std::int64_t, std::int64_t>> last_seq_;
  bool closing_ = false;
  std::uint16_t close_code_ = 0;
  std::string close_reason_;
  std::string jti_;
  std::int64_t issued_ms_ = 0;
  double tokens_;
  std::chrono::steady_clock::time_point refilled_;
};

}  // namespace chatd::net
