#include "domain/metrics.hpp"

#include <cstdio>

namespace chatd {

// Built with append() only: g++ 12 warns falsely about chains of string `+` at -O3.
void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::uint64_t cumulative = 0;
  char num[48];
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    out.append(name).append("_bucket{").append(labels);
    if (!labels.empty()) out.append(",");
    out.append("le=\"");
    if (i < kBounds.size()) {
      std::snprintf(num, sizeof num, "%g", kBounds[i]);
      out.append(num);
    } else {
      out.append("+Inf");
    }
    out.append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  auto suffix = [&](std::string_view what) {
    out.append(name).append(what);
    if (!labels.empty()) out.append("{").append(labels).append("}");
    out.append(" ");
  };
  std::snprintf(num, sizeof num, "%.6f", static_cast<double>(micros_.load()) / 1e6);
  suffix("_sum");
  out.append(num).append("\n");
  suffix("_count");
  out.append(std::to_string(cumulative)).append("\n");
}

Histogram& Metrics::http_latency(std::string_view method, std::string_view route, int status) {
  std::string labels;
  labels.append("method=\"").append(method).append("\",route=\"").append(route);
  labels.append("\",status=\"").append(std::to_string(status)).append("\"");
  std::lock_guard l(http_mutex);
  auto& h = http_by_labels[labels];
  if (!h) h = std::make_unique<Histogram>();
  return *h;
}

void Metrics::render_http_latency(std::string& out) const {
  out.append("# HELP chatd_http_request_seconds HTTP requests by route and status.\n");
  out.append("# TYPE chatd_http_request_seconds histogram\n");
  std::lock_guard l(http_mutex);
  for (const auto& [labels, h] : http_by_labels) h->render(out, "chatd_http_request_seconds", labels);
}

Metrics& metrics() noexcept {
  static Metrics m;
  return m;
}

}  // namespace chatd
