#include "http/admin_handlers.hpp"

#include "codec/entities.hpp"
#include "http/account_handlers.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"
#include "http/user_handlers.hpp"

namespace chatd::http {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// limit (1–200, default 50) and after (an id, default 0) of a listing.
struct Paging {
  int limit = 50;
  std::int64_t after = 0;
};

Result<Paging> paging(const Request& r) {
  Paging p;
  auto limit = limit_param(r, 50, 200);
  if (!limit) return limit.error();
  p.limit = *limit;
  auto after = int_param(r, "after");
  if (!after) return after.error();
  if (*after) {
    if (**after < 0) return make_error(errc::invalid_input, "after must be an id");
    p.after = **after;
  }
  return p;
}

// A required integer member within [lo, hi].
Result<int> required_int(const json::object& o, std::string_view field, int lo, int hi) {
  const auto* v = o.if_contains(field);
  const auto bad = make_error(errc::invalid_input, std::string(field) + " must be an integer " +
                                                       std::to_string(lo) + "-" +
                                                       std::to_string(hi));
  if (v == nullptr || !v->is_number()) return bad;
  if (v->is_int64()) {
    const auto n = v->as_int64();
    if (n < lo || n > hi) return bad;
    return static_cast<int>(n);
  }
  if (v->is_uint64()) return bad;  // above any bound here
  const double d = v->as_double();
  if (d != static_cast<double>(static_cast<long long>(d)) || d < lo || d > hi) return bad;
  return static_cast<int>(d);
}

// An optional string member (missing or null: empty).
Result<std::string> optional_string(const json::object& o, std::string_view field) {
  const auto* v = o.if_contains(field);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return make_error(errc::invalid_input, std::string(field) + " must be a string");
  return std::string(v->as_string());
}

Response stats_response(const ServerStats& s) {
  json::object o;
  o["users"] = s.users;
  o["users_online"] = s.users_online;
  o["messages"] = s.messages;
  o["messages_last_24h"] = s.messages_last_24h;
  o["conversations"] = s.conversations;
  o["groups"] = s.groups;
  o["attachments_bytes"] = s.attachments_bytes;
  return json_response(200, o);
}

Response invite_response(const Invite& i) {
  json::object inv;
  inv["code"] = i.code;
  inv["max_uses"] = i.max_uses;
  inv["uses"] = i.uses;
  inv["expires_at"] = i.expires_at;
  json::object o;
  o["invite"] = std::move(inv);
  return json_response(201, o);
}

}  // namespace

void add_admin_routes(Router& router, auth::ModerationService& moderation) {
  auto& m = moderation;
  router.add(Method::get, "/admin/users", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto p = paging(ctx.request);
               if (!p) co_return error_response(p.error());
               std::string q;
               if (const auto* v = ctx.request.query_param("q")) q = *v;
               auto users = co_await m.search_users(std::move(q), p->limit, p->after);
               if (!users) co_return error_response(users.error());
               json::array list;
               for (const auto& u : *users) list.push_back(codec::to_admin_json(u));
               json::object body;
               body["users"] = std::move(list);
               co_return json_response(200, body);
             });

  router.add(Method::post, "/admin/users", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto f = account_fields(*body);
               if (!f) co_return error_response(f.error());
               auto u = co_await m.create_user(ctx.user, std::move(f->username),
                                               std::move(f->email), std::move(f->password));
               if (!u) co_return error_response(u.error());
               json::object out;
               out["user"] = codec::to_admin_json(*u);
               co_return json_response(201, out);
             });

  router.add(Method::post, "/admin/users/{id}/suspend", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto reason = required_string(*body, "reason");
               if (!reason) co_return error_response(reason.error());
               auto done = co_await m.suspend(ctx.user, *id, std::move(*reason));
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::post, "/admin/users/{id}/unsuspend", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto done = co_await m.unsuspend(ctx.user, *id);
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::del, "/admin/users/{id}", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto done = co_await m.delete_user(ctx.user, *id);
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::del, "/admin/messages/{id}", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto done = co_await m.delete_message(ctx.user, *id);
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::post, "/admin/invites", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto uses = required_int(*body, "max_uses", 1, 1000);
               if (!uses) co_return error_response(uses.error());
               auto expires = required_int(*body, "expires_in_seconds", 60, 2592000);
               if (!expires) co_return error_response(expires.error());
               auto invite = co_await m.create_invite(ctx.user, *uses, *expires);
               if (!invite) co_return error_response(invite.error());
               co_return invite_response(*invite);
             });

  router.add(Method::get, "/admin/reports", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto p = paging(ctx.request);
               if (!p) co_return error_response(p.error());
               bool resolved = false;
               if (const auto* s = ctx.request.query_param("status")) {
                 if (*s != "open" && *s != "resolved")
                   co_return error_response(
                       make_error(errc::invalid_input, "status must be open or resolved"));
                 resolved = *s == "resolved";
               }
               auto reports = co_await m.reports(resolved, p->limit, p->after);
               if (!reports) co_return error_response(reports.error());
               json::array list;
               for (const auto& r : *reports) list.push_back(to_json(r));
               json::object body;
               body["reports"] = std::move(list);
               co_return json_response(200, body);
             });

  router.add(Method::post, "/admin/reports/{id}/resolve", Access::admin,
             [&m](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto note = optional_string(*body, "note");
               if (!note) co_return error_response(note.error());
               auto done = co_await m.resolve(ctx.user, *id, std::move(*note));
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::get, "/admin/stats", Access::admin,
             [&m](RequestContext&) -> awaitable<Response> {
               auto s = co_await m.stats();
               if (!s) co_return error_response(s.error());
               co_return stats_response(*s);
             });
}

}  // namespace chatd::http
