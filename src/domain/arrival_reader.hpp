// What a connecting user's first frames need — their account for `ready`, and whether the
// offline replay has anything to read — gathered for many connects into one statement. A
// connect storm (a node restarting, a million clients coming back) then takes one database
// lease per batch instead of two per connection, and a user with nothing waiting is never
// given a replay read at all.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>

#include "domain/batch_queue.hpp"
#include "domain/user_repository.hpp"

namespace chatd {

class ArrivalReader {
 public:
  static constexpr std::size_t kDefaultBatch = 256;

  ArrivalReader(boost::asio::any_io_executor ex, UserRepository& users,
                std::size_t max_batch = kDefaultBatch);

  // The caller resumes on its own executor. errc::not_found: no such user.
  boost::asio::awaitable<Result<Arrival>> read(UserId user);

 private:
  struct Wanted {
    UserId user = 0;
    std::function<void(Result<Arrival>)> done;
  };
  boost::asio::awaitable<void> drain(std::vector<Wanted>& batch);

  UserRepository& users_;
  std::unique_ptr<BatchQueue<Wanted>> queue_;
};

}  // namespace chatd
