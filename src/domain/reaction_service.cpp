#include "domain/reaction_service.hpp"

#include "validation/validation.hpp"

namespace chatd {

using boost::asio::awaitable;

awaitable<Status> ReactionService::react(UserId user, MessageId id,
                                         std::optional<std::string> emoji) {
  if (emoji) {
    if (auto e = validation::check_emoji(*emoji)) co_return *e;
  }
  auto r = co_await repo_.react(user, id, std::move(emoji));
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no such message");
  publisher_.reaction((*r)->change, (*r)->members);
  co_return Status{};
}

}  // namespace chatd
