// Blocking (PROTOCOL §9): one's own list of blocked users. What a block stops is enforced where
// it happens — direct sends in the message batch, groups in GroupService, presence in the
// contacts query and in the User records a blocked user reads.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <vector>

#include "domain/error.hpp"
#include "domain/user.hpp"

namespace chatd {

class BlockRepository {
 public:
  virtual ~BlockRepository() = default;
  // false when `blocked` names no live user. Idempotent.
  virtual boost::asio::awaitable<Result<bool>> block(UserId blocker, UserId blocked) = 0;
  virtual boost::asio::awaitable<Status> unblock(UserId blocker, UserId blocked) = 0;
  virtual boost::asio::awaitable<Result<std::vector<User>>> blocked_by(UserId blocker) = 0;
  // Whether any of `users` blocks `actor` (the blocked one may not put them in a group).
  virtual boost::asio::awaitable<Result<bool>> any_blocks(std::vector<UserId> users,
                                                          UserId actor) = 0;
};

class BlockService {
 public:
  explicit BlockService(BlockRepository& repo) : repo_(repo) {}
  boost::asio::awaitable<Status> block(UserId blocker, UserId blocked);
  boost::asio::awaitable<Status> unblock(UserId blocker, UserId blocked);
  boost::asio::awaitable<Result<std::vector<User>>> list(UserId blocker);

 private:
  BlockRepository& repo_;
};

}  // namespace chatd
