// Process-wide counters for GET /metrics (Prometheus text format). Plain atomics, relaxed:
// every layer may count without a dependency on the exporter.
#pragma once

#include <atomic>
#include <cstdint>

namespace chatd {

struct Metrics {
  std::atomic<std::uint64_t> http_requests[6] = {};  // by status class: 1xx..5xx at [1..5]
  std::atomic<std::uint64_t> ws_connections_opened{0};
  std::atomic<std::uint64_t> ws_connections_closed{0};
  std::atomic<std::uint64_t> ws_slow_consumers_dropped{0};
  std::atomic<std::uint64_t> ws_events_received{0};
  std::atomic<std::uint64_t> ws_events_rate_limited{0};
  std::atomic<std::uint64_t> messages_stored{0};
  std::atomic<std::uint64_t> message_batches{0};
  std::atomic<std::uint64_t> messages_delivered{0};
  std::atomic<std::uint64_t> logins_failed{0};
  std::atomic<std::uint64_t> logins_throttled{0};
  std::atomic<std::uint64_t> push_sent{0};     // notifications the webhook accepted
  std::atomic<std::uint64_t> push_failed{0};   // webhook calls that failed
  std::atomic<std::uint64_t> push_retried{0};  // webhook calls repeated after a failure
  std::atomic<std::uint64_t> push_dropped{0};  // notifications given up (queue full, retries out)

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
