#include "domain/search_service.hpp"

#include "validation/validation.hpp"

namespace chatd {

using boost::asio::awaitable;

awaitable<Result<SearchPage>> SearchService::search(UserId user, std::string_view q,
                                                    std::optional<ConversationId> conversation,
                                                    std::optional<MessageId> before, int limit) {
  auto words = validation::search_words(q);
  if (auto* e = std::get_if<Error>(&words)) co_return *e;
  if (limit < 1 || limit > kMaxSearchLimit)
    co_return make_error(errc::invalid_input, "limit must be 1-50");
  SearchQuery query{std::move(std::get<0>(words)), conversation, before, limit};
  auto found = co_await repo_.search(user, query);
  if (!found) co_return found.error();
  SearchPage page;
  page.messages = std::move(*found);
  if (page.messages.size() > static_cast<std::size_t>(limit)) {
    page.messages.resize(static_cast<std::size_t>(limit));
    page.next_before = page.messages.back().id;
  }
  co_return page;
}

}  // namespace chatd
