// GET /healthz: a real database round trip (200 or 503).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>

#include "http/router.hpp"

namespace chatd::http {

using DatabaseProbe = std::function<boost::asio::awaitable<bool>()>;

// Several nodes: whether NATS is connected now; unset on one node.
using NatsProbe = std::function<bool()>;

void add_health_routes(Router& router, DatabaseProbe probe, NatsProbe nats = {});

}  // namespace chatd::http
