#include "http/device_handlers.hpp"

#include "http/errors.hpp"
#include "http/json_body.hpp"

namespace chatd::http {

using boost::asio::awaitable;

namespace {
Response created(std::string_view platform, const std::string& token) {
  return json_response(201, {{"device", {{"platform", platform}, {"token", token}}}});
}
}  // namespace

void add_device_routes(Router& router, PushService& push) {
  router.add(Method::post, "/devices", Access::authenticated,
             [&push](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto platform = required_string(*body, "platform");
               if (!platform) co_return error_response(platform.error());
               auto token = required_string(*body, "token");
               if (!token) co_return error_response(token.error());
               const auto p = *platform;
               const auto t = *token;
               auto saved = co_await push.register_device(ctx.user, std::move(*platform),
                                                          std::move(*token));
               if (!saved) co_return error_response(saved.error());
               co_return created(p, t);
             });
  // Idempotent: 204 whether or not the token was registered (to this user).
  router.add(Method::del, "/devices/{token}", Access::authenticated,
             [&push](RequestContext& ctx) -> awaitable<Response> {
               auto removed = co_await push.unregister_device(ctx.user, ctx.params[0]);
               if (!removed) co_return error_response(removed.error());
               co_return no_content();
             });
}

}  // namespace chatd::http
