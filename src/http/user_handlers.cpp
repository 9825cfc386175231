#include "http/user_handlers.hpp"

#include "codec/entities.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"

namespace chatd::http {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

Response session_response(int status, const auth::Session& s) {
  json::object body;
  body["token"] = s.token;
  body["user"] = codec::to_json(s.user, true);
  return json_response(status, body);
}

Response user_response(const User& u, bool own) {
  json::object body;
  body["user"] = codec::to_json(u, own);
  return json_response(200, body);
}

}  // namespace

Result<AccountFields> account_fields(const json::object& body) {
  auto username = required_string(body, "username");
  if (!username) return username.error();
  auto email = required_string(body, "email");
  if (!email) return email.error();
  auto password = required_string(body, "password");
  if (!password) return password.error();
  return AccountFields{std::move(*username), std::move(*email), std::move(*password)};
}

void add_user_routes(Router& router, auth::AccountService& accounts) {
  router.add(Method::post, "/auth/register", Access::open,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto fields = account_fields(*body);
               if (!fields) co_return error_response(fields.error());
               auth::Registration registration{std::move(fields->username),
                                               std::move(fields->email),
                                               std::move(fields->password),
                                               ctx.request.remote_address, std::nullopt};
               // PROTOCOL §10: an admin's invite code, when the policy asks for one.
               if (const auto* code = body->if_contains("invite_code");
                   code != nullptr && !code->is_null()) {
                 if (!code->is_string() || code->as_string().size() > 64)
                   co_return error_response(make_error(
                       errc::invalid_input, "invite_code must be a string of at most 64"));
                 registration.invite_code = std::string(code->as_string());
               }
               auto s = co_await accounts.register_user(std::move(registration));
               if (!s) co_return error_response(s.error());
               co_return session_response(201, *s);
             });

  router.add(Method::post, "/auth/login", Access::open,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto email = required_string(*body, "email");
               if (!email) co_return error_response(email.error());
               auto password = required_string(*body, "password");
               if (!password) co_return error_response(password.error());
               auto s = co_await accounts.login(std::move(*email), std::move(*password),
                                                ctx.request.remote_address);
               if (!s) co_return error_response(s.error());
               co_return session_response(200, *s);
             });

  router.add(Method::post, "/auth/logout", Access::authenticated,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto done = co_await accounts.logout(ctx.token);
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::put, "/users/me/password", Access::authenticated,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto current = required_string(*body, "current_password");
               if (!current) co_return error_response(current.error());
               auto next = required_string(*body, "new_password");
               if (!next) co_return error_response(next.error());
               auto done = co_await accounts.change_password(ctx.token, std::move(*current),
                                                             std::move(*next));
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::get, "/users/me", Access::authenticated,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto u = co_await accounts.get(ctx.user);
               // A valid token for a user that no longer exists is no longer a valid session.
               if (!u && u.error().code == errc::not_found)
                 co_return error_response(make_error(errc::unauthorized, "unknown user"));
               if (!u) co_return error_response(u.error());
               co_return user_response(*u, true);
             });

  router.add(Method::get, "/users/{id}", Access::authenticated,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto u = co_await accounts.get_as(ctx.user, *id);
               if (!u) co_return error_response(u.error());
               co_return user_response(*u, *id == ctx.user);
             });

  router.add(Method::get, "/users", Access::authenticated,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               const auto* username = ctx.request.query_param("username");
               if (username == nullptr)
                 co_return error_response(
                     make_error(errc::invalid_input, "username query parameter is required"));
               auto users = co_await accounts.find_by_username(ctx.user, *username);
               if (!users) co_return error_response(users.error());
               json::array list;
               for (const auto& u : *users) list.push_back(codec::to_json(u, u.id == ctx.user));
               json::object body;
               body["users"] = std::move(list);
               co_return json_response(200, body);
             });
}

}  // namespace chatd::http
