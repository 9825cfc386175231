// The HTTP request path up to the handlers: the bytes of a request through Beast's parser with
// the server's limits, net::read_head (method, target, query string, headers), then the real
// route table — routing, token checks, JSON bodies, path and query parameters, validation — over
// services whose repositories hold nothing (tests/support/null_services.hpp).
// "Authorization: Bearer @" is replaced by a valid token, so authenticated handlers are reached.
// Oracles: every answer is a status 200-599 with a JSON error body for 4xx, and no handler throws
// (the router turns a throw into a 500, which is reported here as a crash).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdlib>
#include <optional>

#include "net/request_head.hpp"
#include "support/null_services.hpp"

using namespace chatd;
namespace bhttp = boost::beast::http;

namespace {

struct World {
  test::NullServices services{"fuzz-http-secret-0123456789abcdef"};
  http::Router router{services.tokens};
  boost::asio::io_context ioc;
  std::string token = "Bearer " + services.tokens.issue(42);
  World() { services.add_routes(router); }
};

World& world() {
  static World* w = [] {
    spdlog::set_level(spdlog::level::off);  // the null repositories fail loudly otherwise
    return new World();
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& w = world();
  bhttp::request_parser<bhttp::string_body> parser;
  parser.eager(true);
  parser.header_limit(16 * 1024);  // ServerOptions' defaults
  parser.body_limit(64 * 1024);
  boost::system::error_code ec;
  std::size_t used = 0;
  while (used < size && !parser.is_done()) {
    const auto n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == bhttp::error::need_more) break;
    if (ec) return 0;
    if (n == 0) break;
    used += n;
  }
  if (!parser.is_done()) {
    if (!parser.got_some()) return 0;
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }

  http::Request request;
  if (!net::read_head(parser.get().base(), request)) return 0;
  request.body = std::move(parser.get().body());
  request.remote_address = "192.0.2.1";
  if (request.authorization == "Bearer @") request.authorization = w.token;

  std::optional<http::Response> response;
  auto guard = boost::asio::make_work_guard(w.ioc);  // a hash on the worker pool is in flight
  boost::asio::co_spawn(w.ioc, w.router.dispatch(request),
                        [&](std::exception_ptr e, http::Response r) {
                          if (e) std::abort();
                          response = std::move(r);
                          guard.reset();
                        });
  w.ioc.run();
  w.ioc.restart();
  if (!response || response->status < 200 || response->status > 599) std::abort();
  // The null repositories answer `internal` (500); a 500 without them would be a handler throw,
  // which the router reports as "internal error" too — told apart by the route being set.
  if (response->status == 500 && response->route.empty()) std::abort();
  if (response->status >= 400 && response->status < 500 && !response->file) {
    boost::system::error_code jec;
    auto body = boost::json::parse(response->body, jec);
    if (jec || !body.is_object() || !body.as_object().contains("error")) std::abort();
  }
  return 0;
}
