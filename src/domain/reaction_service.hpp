// Reactions (PROTOCOL §9): one per user and message, replaced by a new one, removed with null;
// persisted, then a `reaction` event to every connection of every member (the reacting one
// included: it is the acknowledgement).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/event_publisher.hpp"
#include "domain/message.hpp"

namespace chatd {

struct ReactionOutcome {
  ReactionChange change;
  std::vector<UserId> members;
};

class ReactionRepository {
 public:
  virtual ~ReactionRepository() = default;
  // Sets (emoji) or removes (nullopt) `user`'s reaction to message `id`; nullopt when the
  // message does not exist, is deleted, or `user` is not a member of its conversation.
  virtual boost::asio::awaitable<Result<std::optional<ReactionOutcome>>> react(
      UserId user, MessageId id, std::optional<std::string> emoji) = 0;
};

class ReactionService {
 public:
  ReactionService(ReactionRepository& repo, EventPublisher& publisher)
      : repo_(repo), publisher_(publisher) {}

  boost::asio::awaitable<Status> react(UserId user, MessageId id,
                                       std::optional<std::string> emoji);

 private:
  ReactionRepository& repo_;
  EventPublisher& publisher_;
};

}  // namespace chatd
