#include "http/group_handlers.hpp"

#include "codec/entities.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"

namespace chatd::http {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

Response group_response(int status, const Group& g, bool with_conversation) {
  json::object body;
  body["group"] = codec::to_json(g);
  if (with_conversation) body["conversation_id"] = g.conversation_id;
  return json_response(status, body);
}

// The "members" array of POST /groups: positive ids, nothing else.
Result<std::vector<UserId>> member_ids(const json::object& body) {
  const auto* v = body.if_contains("members");
  if (v == nullptr || v->is_null()) return std::vector<UserId>{};
  if (!v->is_array()) return make_error(errc::invalid_input, "members must be an array of ids");
  std::vector<UserId> ids;
  for (const auto& item : v->get_array()) {
    if (item.is_int64() && item.get_int64() > 0)
      ids.push_back(item.get_int64());
    else if (item.is_uint64() && item.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
      ids.push_back(static_cast<UserId>(item.get_uint64()));
    else
      return make_error(errc::invalid_input, "members must be an array of positive ids");
  }
  return ids;
}

}  // namespace

void add_group_routes(Router& router, GroupService& groups) {
  router.add(Method::post, "/groups", Access::authenticated,
             [&groups](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto name = required_string(*body, "name");
               if (!name) co_return error_response(name.error());
               auto members = member_ids(*body);
               if (!members) co_return error_response(members.error());
               auto g = co_await groups.create(ctx.user, std::move(*name), std::move(*members));
               if (!g) co_return error_response(g.error());
               co_return group_response(201, *g, true);
             });

  router.add(Method::get, "/groups/{id}", Access::authenticated,
             [&groups](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(make_error(errc::not_found, "no such group"));
               auto g = co_await groups.get(ctx.user, *id);
               if (!g) co_return error_response(g.error());
               co_return group_response(200, *g, false);
             });

  router.add(Method::post, "/groups/{id}/members", Access::authenticated,
             [&groups](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(make_error(errc::not_found, "no such group"));
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto user = required_id(*body, "user_id");
               if (!user) co_return error_response(user.error());
               auto g = co_await groups.add_member(ctx.user, *id, *user);
               if (!g) co_return error_response(g.error());
               co_return group_response(200, *g, false);
             });

  router.add(Method::del, "/groups/{id}/members/{user_id}", Access::authenticated,
             [&groups](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(make_error(errc::not_found, "no such group"));
               auto user = parse_id(ctx.params[1], "user_id");
               if (!user) co_return error_response(user.error());
               auto r = co_await groups.remove_member(ctx.user, *id, *user);
               if (!r) co_return error_response(r.error());
               Response res;
               res.status = 204;
               co_return res;
             });
}

}  // namespace chatd::http
