// bcrypt ($2b$, libxcrypt) on a small pool of worker threads: hashing costs ~0.25 s at cost 12,
// so it must never run on an I/O thread. The queue in front of the workers is bounded; past the
// bound callers get errc::unavailable (503) rather than an ever-growing wait.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <string>

#include "domain/error.hpp"

namespace chatd::auth {

struct HasherOptions {
  int cost = 12;
  std::size_t threads = 1;
  std::size_t max_queued = 256;
};

class PasswordHasher {
 public:
  explicit PasswordHasher(HasherOptions options);
  ~PasswordHasher();

  boost::asio::awaitable<Result<std::string>> hash(std::string password);
  // True when `password` matches `stored_hash`; a malformed hash simply does not match.
  boost::asio::awaitable<Result<bool>> verify(std::string password, std::string stored_hash);

  // For /metrics: hashes queued or running on the workers.
  std::size_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }

  // Stops the workers after the jobs already queued.
  void stop();

  // The synchronous primitives, for the workers and for tests.
  static std::string hash_now(const std::string& password, int cost);
  static bool verify_now(const std::string& password, const std::string& stored_hash);

 private:
  template <class T, class F>
  boost::asio::awaitable<Result<T>> offload(F work);

  HasherOptions options_;
  boost::asio::thread_pool workers_;
  std::atomic<std::size_t> queued_{0};
};

}  // namespace chatd::auth
