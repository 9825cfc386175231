// GET /healthz: a real database round trip (200 or 503).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>

#include "http/router.hpp"

namespace chatd::http {

using DatabaseProbe = std::function<boost::asio::awaitable<bool>()>;

void add_health_routes(Router& router, DatabaseProbe probe);

}  // namespace chatd::http
