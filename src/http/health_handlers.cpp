#include "http/health_handlers.hpp"

#include "http/errors.hpp"

namespace chatd::http {

namespace {
// Built outside the coroutine: g++ 12 cannot keep an initializer_list in a coroutine frame.
Response health(bool ok) {
  if (ok) return json_response(200, {{"status", "ok"}});
  return json_response(
      503, {{"status", "unavailable"},
            {"error", {{"code", "unavailable"}, {"message", "database unreachable"}}}});
}
}  // namespace

void add_health_routes(Router& router, DatabaseProbe probe) {
  router.add(Method::get, "/healthz", Access::open,
             [probe = std::move(probe)](RequestContext&) -> boost::asio::awaitable<Response> {
               co_return health(co_await probe());
             });
}

}  // namespace chatd::http
