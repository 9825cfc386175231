#include "net/ws_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <atomic>

#include "domain/metrics.hpp"
#include "ws/event_codec.hpp"
#include "ws/hub_publisher.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::awaitable;
using asio::use_awaitable;

namespace {
std::atomic<std::uint64_t> next_session_id{1};
constexpr int kReplayPage = 200;
}  // namespace

template <class NextLayer>
WsSession<NextLayer>::WsSession(NextLayer stream, UserId user, WsDeps& deps)
    : ws_(std::move(stream)),
      user_(user),
      deps_(deps),
      id_(next_session_id++),
      tokens_(deps.options.event_burst),
      refilled_(std::chrono::steady_clock::now()) {
  ws_.next_layer().set_listener(this);
}

namespace {
// The process-wide gauges of what is queued to connections (chatd_queue_depth{queue=
// "ws_outbound"}, chatd_ws_queued_bytes).
void account_queued(std::int64_t frames, std::int64_t bytes) {
  metrics().ws_queued_frames.fetch_add(frames, std::memory_order_relaxed);
  metrics().ws_queued_bytes.fetch_add(bytes, std::memory_order_relaxed);
}
}  // namespace

template <class NextLayer>
WsSession<NextLayer>::~WsSession() {
  // Off the wheel at the end of run() already, unless run() did not finish (an exception, or the
  // loop stopped with the connection open): the wheel may call this until then.
  leave();
  account_queued(-static_cast<std::int64_t>(queue_.size()),
                 -static_cast<std::int64_t>(queued_bytes_));
}

template <class NextLayer>
void WsSession<NextLayer>::send(hub::Frame frame) {
  asio::post(ws_.get_executor(),
             [self = this->shared_from_this(), f = std::move(frame)]() mutable {
               if (!self->holding_) {
                 self->enqueue(std::move(f));
               } else if (self->held_.size() < self->deps_.options.queue_messages) {
                 self->held_.push_back(std::move(f));
               } else {  // the backlog is held to the same bound as the queue
                 Metrics::add(metrics().ws_slow_consumers_dropped);
                 self->request_close(kClosePolicy, "slow consumer");
               }
             });
}

template <class NextLayer>
void WsSession<NextLayer>::close(std::uint16_t code, std::string_view reason) {
  asio::post(ws_.get_executor(), [self = this->shared_from_this(), code, r = std::string(reason)] {
    self->request_close(code, r);
  });
}


template <class NextLayer>
bool WsSession<NextLayer>::queue_over_half() const {
  return queue_.size() > deps_.options.queue_messages / 2 ||
         queued_bytes_ > deps_.options.queue_bytes / 2;
}

// Backpressure (as in Beast's advanced server): while this connection's own queue is over half
// full, stop reading its events, so a client that sends faster than it reads slows itself
// down instead of overflowing its queue with acks.
template <class NextLayer>
awaitable<void> WsSession<NextLayer>::wait_for_room() {
  while (!closing_ && queue_over_half()) {
    if (!drained_) drained_.emplace(ws_.get_executor());
    drained_->expires_at(std::chrono::steady_clock::time_point::max());
    boost::system::error_code ec;
    co_await drained_->async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

template <class NextLayer>
bool WsSession<NextLayer>::first_time(const hub::MessageRef& m) {
  constexpr std::size_t kRemembered = 256;  // conversations; the oldest is forgotten first
  for (auto& [conversation, seq] : last_seq_) {
    if (conversation != m.conversation_id) continue;
    if (m.seq <= seq) return false;
    seq = m.seq;
    return true;
  }
  if (last_seq_.size() >= kRemembered) last_seq_.erase(last_seq_.begin());
  last_seq_.emplace_back(m.conversation_id, m.seq);
  return true;
}

// Forgets what is queued (the connection is being dropped), storage and gauges included.
template <class NextLayer>
void WsSession<NextLayer>::drop_queue() {
  account_queued(-static_cast<std::int64_t>(queue_.size()),
                 -static_cast<std::int64_t>(queued_bytes_));
  queue_.clear();
  queue_.shrink_to_fit();
  queued_bytes_ = 0;
}

template <class NextLayer>
void WsSession<NextLayer>::enqueue(hub::Frame frame, bool dedupe) {
  if (closing_) return;
  if (dedupe && frame.message.id > 0 && !first_time(frame.message)) return;  // written already
  const auto& o = deps_.options;
  if (queue_.size() + 1 > o.queue_messages || queued_bytes_ + frame.text->size() > o.queue_bytes) {
    // A consumer that does not read must not hold memory or slow anyone else down.
    spdlog::warn("dropping slow consumer: user {} session {} ({} frames, {} bytes queued)", user_,
                 id_, queue_.size(), queued_bytes_);
    drop_queue();
    Metrics::add(metrics().ws_slow_consumers_dropped);
    request_close(kClosePolicy, "slow consumer");
    return;
  }
  queued_bytes_ += frame.text->size();
  account_queued(1, static_cast<std::int64_t>(frame.text->size()));
  queue_.push_back(std::move(frame));
  pump_writes();
}

template <class NextLayer>
void WsSession<NextLayer>::request_close(std::uint16_t code, std::string reason) {
  if (closing_) return;
  closing_ = true;
  close_code_ = code;
  close_reason_ = std::move(reason);
  if (drained_) drained_->cancel();
  pump_writes();
  // If the peer does not take the close frame in time, cut the connection.
  kill_.emplace(ws_.get_executor());
  kill_->expires_after(std::chrono::seconds(5));
  kill_->async_wait([self = this->shared_from_this()](const boost::system::error_code& ec) {
    if (ec) return;
    beast::error_code ignored;
    beast::get_lowest_layer(self->ws_).socket().close(ignored);
  });
}

// Batched with the other connections due this second (net/keep_alive.hpp): a ping, written past
// Beast like the session's frames, or, for a peer silent the whole timeout, the socket closed,
// which ends the read loop. A peer whose bytes wait unread in the socket is not silent: this
// node is behind (a busy box), and the connection goes back on the wheel as heard now — unless
// the reader is paused for room (backpressure, wait_for_room): then the bytes wait on the peer,
// which has not read its queue, and it is judged like any silent peer (else a client that never
// reads would hold half a queue for ever by writing one frame).
template <class NextLayer>
void WsSession<NextLayer>::keep_alive_due(bool drop) {
  auto self = this->weak_from_this().lock();
  if (!self) return;  // being destroyed
  asio::post(ws_.get_executor(), [self = std::move(self), drop] {
    if (self->closing_) return;  // its close is under way, cut by kill_ if it stalls
    if (!drop) {
      if (self->ws_.is_open()) self->ws_.next_layer().append_ping();
      return;
    }
    auto& socket = beast::get_lowest_layer(self->ws_).socket();
    if (beast::error_code ec;
        !self->queue_over_half() && socket.available(ec) > 0 && !ec) {
      self->deps_.keep_alive.add(*self);
      return;
    }
    Metrics::add(metrics().ws_idle_timeouts);
    spdlog::info("closing session {}: silent for {} s", self->id_,
                 self->deps_.keep_alive.idle_timeout().count());
    self->closing_ = true;
    beast::error_code ignored;
    socket.close(ignored);
  });
}

template <class NextLayer>
bool WsSession<NextLayer>::take_token() {
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - refilled_).count();
  refilled_ = now;
  tokens_ = std::min(deps_.options.event_burst,
                     tokens_ + elapsed * deps_.options.events_per_second);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

// Hands the queue to the socket layer, which writes what it holds in one operation, up to
// kGatherBytes at a time; after the last frame of a closing connection, sends the close frame
// that was asked for. Runs on the connection's strand (the stream's executor).
template <class NextLayer>
void WsSession<NextLayer>::pump_writes() {
  constexpr std::size_t kGatherBytes = 64 * 1024;
  if (writing_) return;
  auto& out = ws_.next_layer();
  // Beast's stream stops being open once a close was sent or received: no frame goes after it.
  if (!queue_.empty() && ws_.is_open() && !out.failed()) {
    std::int64_t frames = 0, bytes = 0;
    while (!queue_.empty() && out.pending_bytes() < kGatherBytes) {
      const hub::Frame& f = queue_.front();
      out.append_text_frame(*f.text);
      // A recipient's write counts as delivery; the sender's other devices get copies too.
      if (const auto& m = f.message; m.id > 0 && m.sender_id != user_) {
        if (!unwritten_) unwritten_ = std::make_unique<Unwritten>();
        unwritten_->appended.push_back(
            Delivery{m.id, user_, m.conversation_id, m.seq, m.sender_id});
      }
      ++frames;
      bytes += static_cast<std::int64_t>(f.text->size());
      queue_.pop_front();
    }
    queued_bytes_ -= static_cast<std::size_t>(bytes);
    account_queued(-frames, -bytes);
    Metrics::add(metrics().ws_frames_sent, static_cast<std::uint64_t>(frames));
    if (queue_.empty()) queue_.shrink_to_fit();  // an idle connection keeps no queue storage
    if (drained_ && !queue_over_half()) drained_->cancel();
  }
  if (queue_.empty() && closing_ && close_code_ != 0 && !close_sent_ && ws_.is_open()) {
    close_sent_ = true;
    writing_ = true;
    websocket::close_reason reason;
    reason.code = close_code_;
    reason.reason = close_reason_;
    ws_.async_close(reason, [self = this->shared_from_this()](beast::error_code) {
      self->writing_ = false;
    });
  }
}

template <class NextLayer>
void WsSession<NextLayer>::flush_started() {
  Metrics::add(metrics().ws_socket_writes);
  if (unwritten_) unwritten_->flushing.swap(unwritten_->appended);
}

template <class NextLayer>
void WsSession<NextLayer>::flushed(const boost::system::error_code& ec) {
  if (ec) {  // the peer is gone: nothing more can be written
    closing_ = true;
    drop_queue();
    unwritten_.reset();
    if (drained_) drained_->cancel();
    return;
  }
  if (unwritten_) {
    for (const auto& d : unwritten_->flushing) deps_.messaging.delivered(d);
    unwritten_->flushing.clear();
    if (unwritten_->appended.empty()) unwritten_.reset();  // an idle connection keeps none
  }
  pump_writes();
}

template <class NextLayer>
void WsSession<NextLayer>::resync() {
  asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
    // While the first backlog is pushed it covers the outage too.
    if (self->holding_ || self->replaying_ || self->closing_) return;
    self->replaying_ = true;
    asio::co_spawn(
        self->ws_.get_executor(),
        [self]() -> awaitable<void> {
          // A node's NATS reconnect resyncs all its connections at once: the same batched
          // "anything waiting?" as a connect (a few statements for the node's thousands), and
          // the replay read only for those with something (one read each had exhausted the
          // pool and the node's heartbeat with it, docs/BENCHMARKS.md).
          auto me = co_await self->deps_.arrivals.read(self->user_);
          if (me) {
            co_await self->replay_if(me->waiting);
          } else {
            spdlog::warn("offline messages for user {} not checked: {}", self->user_,
                         me.error().message);
          }
          self->replaying_ = false;
        },
        asio::detached);
  });
}

template <class NextLayer>
awaitable<void> WsSession<NextLayer>::replay_if(bool waiting) {
  if (waiting) co_await replay_pages();
  else Metrics::add(metrics().ws_replays_skipped);
}

template <class NextLayer>
awaitable<void> WsSession<NextLayer>::replay_offline(bool waiting) {
  co_await replay_if(waiting);
  // Live frames that came in meanwhile; what the backlog already carried is not written again.
  // (The sender's own messages from another device are never in the backlog: written as
  // they came.)
  holding_ = false;
  for (auto& f : held_) {
    const bool own = f.message.id > 0 && f.message.sender_id == user_;
    enqueue(std::move(f), /*dedupe=*/!own);
  }
  std::vector<hub::Frame>().swap(held_);  // release the storage, not only the elements
}

template <class NextLayer>
awaitable<void> WsSession<NextLayer>::replay_pages() {
  ReplayCursor after;
  for (;;) {
    auto page = co_await deps_.messaging.undelivered(user_, after, kReplayPage);
    if (!page) {
      spdlog::warn("offline messages for user {} not loaded: {}", user_, page.error().message);
      break;
    }
    for (const auto& m : *page) {
      enqueue(hub::make_frame(ws::encode_message(m), ws::message_ref(m)));
      after = ReplayCursor{m.conversation_id, m.seq};
    }
    if (static_cast<int>(page->size()) < kReplayPage || closing_) break;
    // Let the writer drain before the next page, so a long backlog never trips the bounds.
    asio::steady_timer t(ws_.get_executor());
    while (!closing_ && queue_.size() > deps_.options.queue_messages / 4) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(use_awaitable);
    }
  }
}

template <class NextLayer>
awaitable<void> WsSession<NextLayer>::open() {
  if (auto at = deps_.hub.add(this->shared_from_this()))
    co_await deps_.presence.changed(user_, true, *at);
  if (deps_.when_subscribed) {
    // Messages committed after the test for waiting ones must reach this node live.
    asio::steady_timer wait(ws_.get_executor(), std::chrono::steady_clock::time_point::max());
    auto subscribed = std::make_shared<bool>(false);
    deps_.when_subscribed([ex = ws_.get_executor(), subscribed, &wait] {
      asio::post(ex, [subscribed, &wait] {
        *subscribed = true;
        wait.cancel();
      });
    });
    while (!*subscribed) {
      boost::system::error_code ec;
      co_await wait.async_wait(asio::redirect_error(use_awaitable, ec));
    }
  }
  // Read after this connection joined the hub (and its node the user's subject): whatever
  // the test misses comes live, held until the backlog is written.
  auto me = co_await deps_.arrivals.read(user_);
  if (!me) {
    request_close(1011, "user unavailable");
    holding_ = false;
    co_return;
  }
  enqueue(hub::make_frame(ws::encode_ready(me->user)));  // always the first frame
  co_await replay_offline(me->waiting);
}

template <class NextLayer>
awaitable<void> WsSession<NextLayer>::run(Request request, std::string address) {
  auto self = this->shared_from_this();
  const auto& o = deps_.options;
  // The handshakes' timeouts stay Beast's; the idle one is the node's wheel (deps_.keep_alive),
  // which pings only the silent and wakes once a second for all of them.
  ws_.set_option(websocket::stream_base::timeout{
      std::chrono::seconds(10), websocket::stream_base::none(), false});
  ws_.read_message_max(o.max_frame_bytes);
  // The session's frames bypass Beast's writer (pump_writes); what Beast still writes goes out
  // unfragmented, with no per-connection write buffer (Beast keeps a 4 KiB one otherwise).
  ws_.auto_fragment(false);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "chatd"); }));
  beast::get_lowest_layer(ws_).expires_never();  // the websocket timeouts take over

  beast::error_code ec;
  co_await ws_.async_accept(request, asio::redirect_error(use_awaitable, ec));
  request = {};  // the upgrade request is not needed for the connection's lifetime
  if (ec) co_return;
  ws_.text(true);
  spdlog::info("Client connected: user {} session {} from {}", user_, id_, address);
  address = std::string();  // nothing of it kept for the connection's lifetime
  Metrics::add(metrics().ws_connections_opened);
  // Pongs and pings are read inside Beast's reads: each is a sign of life as well.
  ws_.control_callback([this](websocket::frame_type, beast::string_view) {
    heard();
  });
  deps_.keep_alive.add(*this);

  co_await open();

  const std::shared_ptr<hub::Subscriber> conn = self;
  beast::flat_buffer buffer;
  while (!closing_) {
    co_await wait_for_room();
    if (closing_) break;
    // Most connections sit idle in this read, and Beast prepares the whole read buffer before
    // any data arrives (1.5 KiB each): wait for the next message with room for one byte, then
    // read the rest of it. The buffer is released after every message.
    co_await ws_.async_read_some(buffer, 1, asio::redirect_error(use_awaitable, ec));
    if (!ec) heard();
    while (!ec && !ws_.is_message_done())
      co_await ws_.async_read_some(buffer, 0, asio::redirect_error(use_awaitable, ec));
    if (ec) break;
    if (!ws_.got_text()) {
      buffer.clear();
      enqueue(hub::make_frame(
          ws::encode_error(make_error(errc::invalid_input, "frames must be text"))));
      continue;
    }
    Metrics::add(metrics().ws_events_received);
    const auto text = beast::buffers_to_string(buffer.data());
    buffer.clear();
    buffer.shrink_to_fit();
    if (!take_token()) {
      // A refused send_message names its client_id (PROTOCOL §3), so the client knows which
      // of its sends to repeat.
      Metrics::add(metrics().ws_events_rate_limited);
      const auto refused = ws::send_client_id(text);
      enqueue(hub::make_frame(
          ws::encode_error(make_error(errc::rate_limited, "too many events, slow down"),
                           refused.value_or(std::nullopt), refused.has_value())));
      continue;
    }
    co_await deps_.dispatcher.on_text(conn, text);
  }
  if (ec == websocket::error::message_too_big)
    spdlog::info("closing session {}: frame over {} bytes", id_, o.max_frame_bytes);
  leave();

  // The reader is done: the writer finishes what is queued (and a close frame if one was
  // asked for).
  closing_ = true;
  pump_writes();
  if (auto at = deps_.hub.remove(*this)) co_await deps_.presence.changed(user_, false, *at);
  Metrics::add(metrics().ws_connections_closed);
  spdlog::info("Client disconnected: user {} session {}", user_, id_);
}

template class WsSession<beast::tcp_stream>;
template class WsSession<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace chatd::net
