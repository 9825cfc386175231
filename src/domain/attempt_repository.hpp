// Attempts that throttles count (failed logins, registrations), stored once for every node so a
// cluster of N nodes does not multiply the limits (PROTOCOL §10).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "domain/error.hpp"

namespace chatd {

// At most `limit` attempts under `key` within `window`.
struct AttemptLimit {
  std::string key;
  int limit = 0;
  std::chrono::seconds window{0};
};

struct AttemptCheck {
  int retry_after = 0;       // seconds until the next attempt is allowed by every limit (0: now)
  bool first_has_any = false;  // the first limit's key has attempts within its window
};

class AttemptRepository {
 public:
  virtual ~AttemptRepository() = default;
  virtual boost::asio::awaitable<Result<AttemptCheck>> check(std::vector<AttemptLimit> limits) = 0;
  virtual boost::asio::awaitable<Status> record(std::vector<std::string> keys) = 0;
  virtual boost::asio::awaitable<Status> forget(std::string key) = 0;
  // Drops what no window can see any more; returns how many rows went.
  virtual boost::asio::awaitable<Result<std::int64_t>> prune(std::chrono::seconds older_than) = 0;
};

}  // namespace chatd
