// Counts failed logins per email and per client address in a sliding window; past the limit a
// key is refused (429 with Retry-After) until its oldest failure leaves the window. Memory is
// bounded: at most `max_keys` keys are tracked, the stalest evicted first.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chatd::auth {

struct ThrottleOptions {
  std::size_t max_failures_per_email = 5;
  std::size_t max_failures_per_address = 20;
  std::chrono::seconds window{300};
  std::size_t max_keys = 100000;
};

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LoginThrottle(ThrottleOptions options) : options_(options) {}

  // Seconds to wait before another attempt is allowed, or 0 when one may be made now.
  std::chrono::seconds retry_after(std::string_view email, std::string_view address,
                                   Clock::time_point now = Clock::now());
  void record_failure(std::string_view email, std::string_view address,
                      Clock::time_point now = Clock::now());
  // By address alone (registrations: every attempt counts).
  std::chrono::seconds retry_after_address(std::string_view address,
                                           Clock::time_point now = Clock::now());
  void record_address(std::string_view address, Clock::time_point now = Clock::now());
  // A successful login forgets the email's failures (not the address's).
  void record_success(std::string_view email);

 private:
  using Failures = std::deque<Clock::time_point>;
  std::chrono::seconds wait_for(const std::string& key, std::size_t limit, Clock::time_point now);
  void add(const std::string& key, std::size_t limit, Clock::time_point now);
  void evict_if_full(Clock::time_point now);

  ThrottleOptions options_;
  std::mutex mutex_;
  std::unordered_map<std::string, Failures> failures_;
};

}  // namespace chatd::auth
