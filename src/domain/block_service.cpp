#include "domain/block_service.hpp"

namespace chatd {

using boost::asio::awaitable;

awaitable<Status> BlockService::block(UserId blocker, UserId blocked) {
  if (blocker == blocked) co_return make_error(errc::invalid_input, "one cannot block oneself");
  auto r = co_await repo_.block(blocker, blocked);
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no such user");
  co_return Status{};
}

awaitable<Status> BlockService::unblock(UserId blocker, UserId blocked) {
  co_return co_await repo_.unblock(blocker, blocked);
}

awaitable<Result<std::vector<User>>> BlockService::list(UserId blocker) {
  co_return co_await repo_.blocked_by(blocker);
}

}  // namespace chatd
