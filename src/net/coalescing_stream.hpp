// The layer under Beast's WebSocket stream that gathers what one connection is sent into as few
// socket writes as it can (docs/decisions.md, "Frames gathered per socket write"). A group
// message reaches its sender as one receipt per member, and a busy member gets several messages
// at once: written one frame per operation, each frame was one sendmsg, one loopback packet
// and one wake-up of the reader, the largest part of chatd's CPU under group load.
//
// Two kinds of bytes arrive here, both on the connection's strand, and go out in the order they
// came: the connection's own frames and keep-alive pings, appended whole by the session
// (append_text_frame, append_ping), and what Beast writes by itself (the upgrade response,
// pongs, the close frame) through async_write_some, which takes the bytes at once. A write of
// what is pending is started on the strand's next turn; what arrives while it is under way goes
// out in the next one. Reads go straight to the next layer.
#pragma once

#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>
#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "net/ws_frame.hpp"

namespace chatd::net {

// The owner of a CoalescingStream (the session), told of each write of the stream.
class FlushListener {
 public:
  // Kept alive while a write is under way.
  virtual std::shared_ptr<void> flush_owner() = 0;
  // What was appended so far is now being written.
  virtual void flush_started() = 0;
  // That write is done (or failed: nothing more will be written).
  virtual void flushed(const boost::system::error_code& ec) = 0;

 protected:
  ~FlushListener() = default;
};

template <class NextLayer>
class CoalescingStream {
 public:
  using next_layer_type = NextLayer;
  using executor_type = typename NextLayer::executor_type;

  // What Beast may write by itself before the connection is considered stuck: its writes are
  // small (pongs, the close), so this is only reached by a peer that sends pings and
  // never reads.
  static constexpr std::size_t kMaxPending = 1 << 20;

  explicit CoalescingStream(NextLayer&& next) : next_(std::move(next)) {}

  executor_type get_executor() noexcept { return next_.get_executor(); }
  NextLayer& next_layer() noexcept { return next_; }
  const NextLayer& next_layer() const noexcept { return next_; }
  void set_listener(FlushListener* listener) noexcept { listener_ = listener; }

  std::size_t pending_bytes() const noexcept { return buf_ ? buf_->pending.size() : 0; }
  bool failed() const noexcept { return failed_; }

  // One unfragmented, unmasked text frame holding `payload`.
  void append_text_frame(std::string_view payload) { append_frame(kOpcodeText, payload); }
  // The keep-alive's ping (net/keep_alive.hpp), empty.
  void append_ping() { append_frame(kOpcodePing, {}); }

  // One unfragmented, unmasked frame.
  void append_frame(unsigned char opcode, std::string_view payload) {
    if (failed_) return;
    unsigned char header[kMaxFrameHeader];
    const std::size_t n = frame_header(opcode, payload.size(), header);
    auto& pending = storage().pending;
    pending.insert(pending.end(), header, header + n);
    pending.insert(pending.end(), payload.begin(), payload.end());
    schedule();
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return next_.async_read_some(buffers, std::forward<Token>(token));
  }

  // Beast's own writes: the bytes are taken at once and the operation completes on the strand's
  // next turn, before they reach the socket.
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& buffers) {
          boost::system::error_code ec;
          if (failed_)
            ec = boost::asio::error::broken_pipe;
          else if (pending_bytes() > kMaxPending)
            ec = boost::asio::error::no_buffer_space;
          std::size_t taken = 0;
          if (!ec) {
            auto& pending = storage().pending;
            for (auto it = boost::asio::buffer_sequence_begin(buffers);
                 it != boost::asio::buffer_sequence_end(buffers); ++it) {
              const boost::asio::const_buffer b(*it);
              const auto* p = static_cast<const char*>(b.data());
              pending.insert(pending.end(), p, p + b.size());
              taken += b.size();
            }
            schedule();
          }
          boost::asio::post(get_executor(), boost::asio::append(std::move(handler), ec, taken));
        },
        token, buffers);
  }

  // Calls `then` once everything taken so far has been written (or the stream failed): the
  // close handshake's teardown must not cut what is still pending.
  template <class Fn>
  void after_flush(Fn&& then) {
    if (!writing_ && !scheduled_) {
      then();
      return;
    }
    after_flush_ = std::make_unique<Deferred<std::decay_t<Fn>>>(std::forward<Fn>(then));
  }

 private:
  // What waits for the write under way (move-only: it holds Beast's handler).
  struct Waiting {
    virtual ~Waiting() = default;
    virtual void run() = 0;
  };
  template <class Fn>
  struct Deferred final : Waiting {
    explicit Deferred(Fn&& f) : fn(std::move(f)) {}
    void run() override { fn(); }
    Fn fn;
  };

  // Made on the first write and released once nothing is pending: an idle connection holds
  // one pointer here.
  struct Buffers {
    std::vector<char> pending;   // taken, not yet written
    std::vector<char> inflight;  // the write under way
  };
  Buffers& storage() {
    if (!buf_) {
      buf_ = std::make_unique<Buffers>();
      buf_->pending.reserve(2048);
    }
    return *buf_;
  }

  void schedule() {
    if (writing_ || scheduled_) return;
    scheduled_ = true;
    boost::asio::post(get_executor(), [this, owner = listener_->flush_owner()] {
      scheduled_ = false;
      start();
    });
  }

  void start() {
    if (writing_) return;
    if (pending_bytes() == 0 || failed_) {
      finish();
      return;
    }
    writing_ = true;
    buf_->inflight.swap(buf_->pending);
    listener_->flush_started();
    boost::asio::async_write(
        next_, boost::asio::buffer(buf_->inflight),
        [this, owner = listener_->flush_owner()](boost::system::error_code ec, std::size_t) {
          writing_ = false;
          std::vector<char>().swap(buf_->inflight);
          if (ec) {
            failed_ = true;
            std::vector<char>().swap(buf_->pending);
          }
          listener_->flushed(ec);  // may append the next frames
          if (pending_bytes() > 0 && !failed_) {
            start();
            return;
          }
          buf_.reset();
          finish();
        });
  }

  void finish() {
    if (writing_ || pending_bytes() > 0 || !after_flush_) return;
    auto then = std::move(after_flush_);
    then->run();
  }

  NextLayer next_;
  FlushListener* listener_ = nullptr;
  std::unique_ptr<Buffers> buf_;
  std::unique_ptr<Waiting> after_flush_;
  bool writing_ = false;
  bool scheduled_ = false;
  bool failed_ = false;
};

// The close handshake's end (found by Beast through argument-dependent lookup): what is pending
// is written first, then the next layer is torn down.
template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream,
                    TeardownHandler&& handler) {
  stream.after_flush([role, &stream, h = std::forward<TeardownHandler>(handler)]() mutable {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::move(h));
  });
}

template <class NextLayer>
void teardown(boost::beast::role_type role, CoalescingStream<NextLayer>& stream,
              boost::system::error_code& ec) {
  using boost::beast::websocket::teardown;
  teardown(role, stream.next_layer(), ec);
}

}  // namespace chatd::net
