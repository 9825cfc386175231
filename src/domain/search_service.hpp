// Search (PROTOCOL §9): the messages the caller could read with GET /messages — in conversations
// they are in, not deleted, not expired — whose content holds every word of the query (case-
// insensitive, the last word as a prefix), newest first.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"

namespace chatd {

inline constexpr int kDefaultSearchLimit = 20;
inline constexpr int kMaxSearchLimit = 50;

struct SearchQuery {
  std::vector<std::string> words;                 // at least one, lower-cased
  std::optional<ConversationId> conversation_id;  // only this one
  std::optional<MessageId> before;                // ids below this one
  int limit = kDefaultSearchLimit;
};

struct SearchPage {
  std::vector<Message> messages;
  std::optional<MessageId> next_before;  // set when there may be more
};

class SearchRepository {
 public:
  virtual ~SearchRepository() = default;
  // At most `limit + 1` matches, newest first (the extra one tells there is more).
  virtual boost::asio::awaitable<Result<std::vector<Message>>> search(UserId user,
                                                                      const SearchQuery& q) = 0;
};

class SearchService {
 public:
  explicit SearchService(SearchRepository& repo) : repo_(repo) {}
  // `q` as the client typed it; errc::invalid_input unless it is 1–200 characters with a word.
  boost::asio::awaitable<Result<SearchPage>> search(UserId user, std::string_view q,
                                                    std::optional<ConversationId> conversation,
                                                    std::optional<MessageId> before, int limit);

 private:
  SearchRepository& repo_;
};

}  // namespace chatd
