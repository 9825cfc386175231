#include "domain/account_eraser.hpp"

#include <spdlog/spdlog.h>

namespace chatd {

using boost::asio::awaitable;

awaitable<Status> AccountEraser::erase(UserId user) {
  {
    std::lock_guard l(mutex_);
    if (!running_.insert(user).second) co_return Status{};  // already under way here
  }
  struct Done {
    AccountEraser& e;
    UserId u;
    ~Done() {
      std::lock_guard l(e.mutex_);
      e.running_.erase(u);
    }
  } done{*this, user};

  MessageId after = 0;
  std::size_t erased = 0;
  for (;;) {
    auto batch = co_await repo_.erase_batch(user, after, batch_);
    if (!batch) {
      spdlog::warn("erasing the messages of deleted user {} stopped after {}: {}", user, erased,
                   batch.error().message);
      co_return batch.error();
    }
    for (const auto& e : batch->erased) publisher_.message_updated(e.message, e.members);
    erased += batch->erased.size();
    if (batch->upto == 0) break;
    after = batch->upto;
  }
  auto files = co_await repo_.finish_erasure(user);
  if (!files) co_return files.error();
  // Nothing refers to these bytes any more (the rows are gone in the same transaction).
  for (const auto& sha : *files) files_.remove(sha, std::chrono::seconds(0));
  spdlog::info("deleted user {}: {} message(s) erased, {} file(s) removed", user, erased,
               files->size());
  co_return Status{};
}

awaitable<std::size_t> AccountEraser::resume() {
  auto pending = co_await repo_.pending_erasures();
  if (!pending) {
    spdlog::warn("looking for unfinished account deletions failed: {}", pending.error().message);
    co_return 0;
  }
  std::size_t finished = 0;
  for (const auto user : *pending) {
    {
      std::lock_guard l(mutex_);
      if (running_.contains(user)) continue;
    }
    if (co_await erase(user)) ++finished;
  }
  co_return finished;
}

}  // namespace chatd
