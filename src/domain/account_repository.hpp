// Leaving for good (PROTOCOL §10) as storage sees it: the account turned into a tombstone in one
// transaction, then its messages erased in bounded batches (resumable: a deletion cut half-way
// is finished later), and the export read page by page.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"
#include "domain/user.hpp"

namespace chatd {

// One erased message and whom to tell.
struct ErasedMessage {
  Message message;
  std::vector<UserId> members;
};

struct ErasedBatch {
  MessageId upto = 0;  // the last message id this batch walked; 0 when none was left
  std::vector<ErasedMessage> erased;
};

class AccountRepository {
 public:
  virtual ~AccountRepository() = default;
  // One transaction: the tombstone (username "deleted-<id>", email and username free again,
  // no password), every token issued before `before_ms` void, devices gone, every group left
  // (a group left without admin gets its longest-standing member as one). false when there is
  // no live account of this id.
  virtual boost::asio::awaitable<Result<bool>> mark_deleted(UserId user,
                                                            std::int64_t before_ms) = 0;
  // Accounts deleted whose messages are not all erased yet.
  virtual boost::asio::awaitable<Result<std::vector<UserId>>> pending_erasures() = 0;
  // Erases (as a delete for everyone) the sender's messages with ids above `after`, at most
  // `limit` of them walked.
  virtual boost::asio::awaitable<Result<ErasedBatch>> erase_batch(UserId user, MessageId after,
                                                                  int limit) = 0;
  // Drops the user's uploads no message uses any more and marks the erasure done; returns the
  // sha256 of files nothing refers to now.
  virtual boost::asio::awaitable<Result<std::vector<std::string>>> finish_erasure(UserId user) = 0;
  // The export: the user's messages with ids above `after`, oldest first.
  virtual boost::asio::awaitable<Result<std::vector<Message>>> sent_messages(UserId user,
                                                                            MessageId after,
                                                                            int limit) = 0;
  // The user's registered devices as (platform, token).
  virtual boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>>
  devices(UserId user) = 0;
};

}  // namespace chatd
