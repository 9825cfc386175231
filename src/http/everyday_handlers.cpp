#include "http/everyday_handlers.hpp"

#include "codec/entities.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"

namespace chatd::http {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

struct SearchRequest {
  std::string q;
  std::optional<ConversationId> conversation_id;
  std::optional<MessageId> before;
  int limit = kDefaultSearchLimit;
};

Result<SearchRequest> parse_search(const Request& req) {
  SearchRequest out;
  const auto* q = req.query_param("q");
  if (q == nullptr) return make_error(errc::invalid_input, "q is required");
  out.q = *q;
  auto conversation = id_param(req, "conversation_id");
  if (!conversation) return conversation.error();
  out.conversation_id = *conversation;
  auto before = id_param(req, "before");
  if (!before) return before.error();
  out.before = *before;
  auto limit = limit_param(req, kDefaultSearchLimit, kMaxSearchLimit);
  if (!limit) return limit.error();
  out.limit = *limit;
  return out;
}

// {"seconds": null | integer}: the member is required, so a misspelt body does not clear the
// timer.
Result<std::optional<std::int64_t>> parse_seconds(const json::object& body) {
  const auto* v = body.if_contains("seconds");
  if (v == nullptr)
    return make_error(errc::invalid_input, "seconds is required: null or 5-7776000");
  if (v->is_null()) return std::optional<std::int64_t>{};
  if (v->is_int64()) return std::optional<std::int64_t>{v->get_int64()};
  return make_error(errc::invalid_input, "seconds must be null or an integer from 5 to 7776000");
}

}  // namespace

void add_everyday_routes(Router& router, SearchService& search,
                         DisappearingService& disappearing) {
  router.add(Method::get, "/search", Access::authenticated,
             [&search](RequestContext& ctx) -> awaitable<Response> {
               auto req = parse_search(ctx.request);
               if (!req) co_return error_response(req.error());
               auto page = co_await search.search(ctx.user, req->q, req->conversation_id,
                                                  req->before, req->limit);
               if (!page) co_return error_response(page.error());
               json::array items;
               for (const auto& m : page->messages) items.push_back(codec::to_json(m));
               json::object out;
               out["messages"] = std::move(items);
               out["next_before"] = codec::nullable(page->next_before);
               co_return json_response(200, out);
             });

  router.add(Method::put, "/conversations/{id}/disappearing", Access::authenticated,
             [&disappearing](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto seconds = parse_seconds(*body);
               if (!seconds) co_return error_response(seconds.error());
               auto set = co_await disappearing.set_timer(ctx.user, *id, *seconds);
               if (!set) co_return error_response(set.error());
               json::object out;
               out["disappearing_seconds"] = codec::nullable(*set);
               co_return json_response(200, out);
             });
}

}  // namespace chatd::http
