// Erases what a deleted account sent (PROTOCOL §10): its messages, deleted for everyone in
// bounded batches (each a short transaction, so sending is never stalled), a message_updated
// to the members for each, then the account's files that no remaining message uses. A
// deletion cut half-way (the database gone, a crash) is finished by resume() later.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <mutex>
#include <set>

#include "domain/account_repository.hpp"
#include "domain/attachment_service.hpp"
#include "domain/event_publisher.hpp"

namespace chatd {

class AccountEraser {
 public:
  AccountEraser(AccountRepository& repo, EventPublisher& publisher, FileStore& files,
                int batch = 500)
      : repo_(repo), publisher_(publisher), files_(files), batch_(batch) {}

  // Erases everything of `user`, who is already a tombstone; an error leaves the rest to resume().
  boost::asio::awaitable<Status> erase(UserId user);
  // Finishes every erasure left undone; returns how many accounts were finished.
  boost::asio::awaitable<std::size_t> resume();

 private:
  AccountRepository& repo_;
  EventPublisher& publisher_;
  FileStore& files_;
  int batch_;
  std::mutex mutex_;
  std::set<UserId> running_;  // erasures under way on this node (resume() skips them)
};

}  // namespace chatd
