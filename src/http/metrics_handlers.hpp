// GET /metrics: the counters of domain/metrics.hpp and a few gauges, in Prometheus text format.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "http/router.hpp"

namespace chatd::http {

struct Gauges {
  std::function<std::uint64_t()> ws_connections;  // open right now
  // Several nodes: the link's counters as name → value (counters ending in _total).
  std::function<std::vector<std::pair<std::string, std::uint64_t>>()> cluster;
  // Work waiting inside chatd right now, as queue name → depth (chatd_queue_depth{queue=...}).
  std::function<std::vector<std::pair<std::string, std::uint64_t>>()> queues;
};

void add_metrics_routes(Router& router, Gauges gauges);

// The exposition text, for the handler and for tests.
std::string render_metrics(const Gauges& gauges);

}  // namespace chatd::http
