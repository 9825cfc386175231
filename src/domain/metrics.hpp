// Process-wide counters for GET /metrics (Prometheus text format). Plain atomics, relaxed:
// every layer may count without a dependency on the exporter.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <atomic>
#include <string>
#include <string_view>
#include <cstdint>

namespace chatd {

// A Prometheus histogram of durations: fixed buckets (seconds), lock-free observation.
class Histogram {
 public:
  static constexpr std::array<double, 14> kBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05,   0.1,   0.25,   0.5,   1,    2.5,
                                                     5,      10};
  void observe(double seconds) noexcept {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    micros_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
  }
  // `name` with _bucket/_sum/_count lines; `labels` like `route="/x"` (may be empty).
  void render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> counts_{};  // the last is +Inf
  std::atomic<std::uint64_t> micros_{0};
};

struct Metrics {
  std::atomic<std::uint64_t> http_requests[6] = {};  // by status class: 1xx..5xx at [1..5]
  std::atomic<std::uint64_t> ws_connections_opened{0};
  std::atomic<std::uint64_t> ws_connections_closed{0};
  std::atomic<std::uint64_t> ws_slow_consumers_dropped{0};
  std::atomic<std::uint64_t> ws_idle_timeouts{0};  // closed: nothing, not even a pong, in time
  std::atomic<std::uint64_t> ws_events_received{0};
  std::atomic<std::uint64_t> ws_events_rate_limited{0};
  std::atomic<std::uint64_t> ws_frames_sent{0};   // frames handed to connections' sockets
  std::atomic<std::uint64_t> ws_socket_writes{0};  // the socket writes that carried them
  std::atomic<std::uint64_t> ws_replays_skipped{0};  // connects with nothing waiting: no read
  std::atomic<std::uint64_t> messages_stored{0};
  std::atomic<std::uint64_t> message_batches{0};
  std::atomic<std::uint64_t> messages_delivered{0};
  std::atomic<std::uint64_t> logins_failed{0};
  std::atomic<std::uint64_t> logins_throttled{0};
  std::atomic<std::uint64_t> push_sent{0};     // notifications the webhook accepted
  std::atomic<std::uint64_t> push_failed{0};   // webhook calls that failed
  std::atomic<std::uint64_t> push_retried{0};  // webhook calls repeated after a failure
  std::atomic<std::uint64_t> push_dropped{0};  // notifications given up (queue full, retries out)
  std::atomic<std::uint64_t> tls_handshakes_failed{0};
  // Database connections that could not be made (down, unreachable, only standbys: failing over).
  std::atomic<std::uint64_t> db_connect_failures{0};
  // Gauges kept by the WebSocket sessions: events queued to all connections now.
  std::atomic<std::int64_t> ws_queued_frames{0};
  std::atomic<std::int64_t> ws_queued_bytes{0};
  std::atomic<std::uint64_t> tls_reloads{0};         // SIGHUP: certificate read again
  std::atomic<std::uint64_t> tls_reloads_failed{0};  // ... and refused (the old one serves on)
  Histogram send_to_ack;       // send_message queued → stored and answered
  Histogram batch_commit;      // one group-commit transaction
  Histogram db_acquire_wait;   // waiting for a database connection
  Histogram delivery_recording;  // one statement recording delivered positions

  // HTTP latency by route pattern and status (labels made once per combination).
  Histogram& http_latency(std::string_view method, std::string_view route, int status);
  void render_http_latency(std::string& out) const;
  mutable std::mutex http_mutex;
  std::map<std::string, std::unique_ptr<Histogram>> http_by_labels;

  void count_http(int status) noexcept {
    const int cls = status / 100;
    if (cls >= 1 && cls <= 5) http_requests[cls].fetch_add(1, std::memory_order_relaxed);
  }
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.fetch_add(n, std::memory_order_relaxed);
  }
};

Metrics& metrics() noexcept;

}  // namespace chatd
