#include "http/health_handlers.hpp"

#include "http/errors.hpp"

namespace chatd::http {

namespace {
// Built outside the coroutine: g++ 12 cannot keep an initializer_list in a coroutine frame.
// PROTOCOL §8: NATS is reported, and does not make the node unhealthy (it serves its own
// connections without it).
Response health(bool ok, const NatsProbe& nats) {
  boost::json::object body;
  if (ok) {
    body["status"] = "ok";
  } else {
    body["status"] = "unavailable";
    body["error"] = {{"code", "unavailable"}, {"message", "database unreachable"}};
  }
  if (nats) body["nats"] = nats() ? "connected" : "disconnected";
  return json_response(ok ? 200 : 503, std::move(body));
}
}  // namespace

void add_health_routes(Router& router, DatabaseProbe probe, NatsProbe nats) {
  router.add(Method::get, "/healthz", Access::open,
             [probe = std::move(probe),
              nats = std::move(nats)](RequestContext&) -> boost::asio::awaitable<Response> {
               co_return health(co_await probe(), nats);
             });
}

}  // namespace chatd::http
