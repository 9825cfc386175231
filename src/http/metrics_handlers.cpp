#include "http/metrics_handlers.hpp"

#include <sstream>

#include "domain/metrics.hpp"

namespace chatd::http {

namespace {

void counter(std::ostringstream& out, const char* name, const char* help,
             const std::atomic<std::uint64_t>& v) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n"
      << name << ' ' << v.load(std::memory_order_relaxed) << '\n';
}

}  // namespace

std::string render_metrics(const Gauges& gauges) {
  const auto& m = metrics();
  std::ostringstream out;
  out << "# HELP chatd_http_requests_total HTTP requests answered, by status class.\n"
         "# TYPE chatd_http_requests_total counter\n";
  for (int cls = 1; cls <= 5; ++cls)
    out << "chatd_http_requests_total{code=\"" << cls << "xx\"} "
        << m.http_requests[cls].load(std::memory_order_relaxed) << '\n';
  out << "# HELP chatd_ws_connections WebSocket connections open now.\n"
         "# TYPE chatd_ws_connections gauge\n"
      << "chatd_ws_connections " << (gauges.ws_connections ? gauges.ws_connections() : 0) << '\n';
  counter(out, "chatd_ws_connections_opened_total", "WebSocket connections accepted.",
          m.ws_connections_opened);
  counter(out, "chatd_ws_connections_closed_total", "WebSocket connections ended.",
          m.ws_connections_closed);
  counter(out, "chatd_ws_slow_consumers_dropped_total",
          "Connections dropped because they did not read (close 1008).",
          m.ws_slow_consumers_dropped);
  counter(out, "chatd_tls_handshakes_failed_total", "TLS handshakes that failed or timed out.",
          m.tls_handshakes_failed);
  counter(out, "chatd_db_connect_failures_total",
          "Database connections that could not be made (down, unreachable, failing over).",
          m.db_connect_failures);
  counter(out, "chatd_tls_reloads_total", "Certificate reloads on SIGHUP.", m.tls_reloads);
  counter(out, "chatd_tls_reloads_failed_total",
          "Certificate reloads refused (the previous certificate keeps serving).",
          m.tls_reloads_failed);
  counter(out, "chatd_ws_idle_timeouts_total",
          "Connections closed because the peer sent nothing, not even a pong, within the idle "
          "timeout.",
          m.ws_idle_timeouts);
  counter(out, "chatd_ws_events_received_total", "Client events received.", m.ws_events_received);
  counter(out, "chatd_ws_events_rate_limited_total", "Client events refused by the rate limit.",
          m.ws_events_rate_limited);
  counter(out, "chatd_ws_frames_sent_total", "Frames written to WebSocket connections.",
          m.ws_frames_sent);
  counter(out, "chatd_ws_socket_writes_total",
          "Socket writes that carried them (several frames of one connection per write).",
          m.ws_socket_writes);
  counter(out, "chatd_ws_replays_skipped_total",
          "Connects and resyncs (after a NATS outage) whose user had nothing waiting, so no "
          "offline replay was read.",
          m.ws_replays_skipped);
  counter(out, "chatd_messages_stored_total", "Messages persisted.", m.messages_stored);
  counter(out, "chatd_message_batches_total", "Transactions that stored messages (group commit).",
          m.message_batches);
  counter(out, "chatd_messages_delivered_total",
          "Messages written to a recipient's connection (deliveries recorded).",
          m.messages_delivered);
  counter(out, "chatd_logins_failed_total", "Failed logins.", m.logins_failed);
  counter(out, "chatd_logins_throttled_total", "Logins refused by the throttle (429).",
          m.logins_throttled);
  std::string h;
  auto histogram = [&h](const Histogram& x, std::string_view name, std::string_view help) {
    h.append("# HELP ").append(name).append(" ").append(help).append("\n");
    h.append("# TYPE ").append(name).append(" histogram\n");
    x.render(h, name, "");
  };
  histogram(m.send_to_ack, "chatd_send_to_ack_seconds",
            "send_message queued until stored and answered.");
  histogram(m.batch_commit, "chatd_batch_commit_seconds",
            "One group-commit transaction of messages.");
  histogram(m.db_acquire_wait, "chatd_db_acquire_wait_seconds", "Waiting for a database connection.");
  histogram(m.delivery_recording, "chatd_delivery_recording_seconds",
            "One statement recording delivered positions.");
  m.render_http_latency(h);
  out << h;
  counter(out, "chatd_push_sent_total", "Push notifications the webhook accepted.", m.push_sent);
  counter(out, "chatd_push_failed_total", "Push webhook calls that failed.", m.push_failed);
  counter(out, "chatd_push_retried_total", "Push webhook calls repeated after a failure.",
          m.push_retried);
  counter(out, "chatd_push_dropped_total", "Push notifications given up.", m.push_dropped);
  if (gauges.queues) {
    out << "# HELP chatd_queue_depth Work waiting inside chatd now, by queue.\n"
           "# TYPE chatd_queue_depth gauge\n";
    for (const auto& [name, value] : gauges.queues())
      out << "chatd_queue_depth{queue=\"" << name << "\"} " << value << '\n';
  }
  out << "# HELP chatd_ws_queued_bytes Bytes of events queued to WebSocket connections now.\n"
         "# TYPE chatd_ws_queued_bytes gauge\n"
      << "chatd_ws_queued_bytes " << m.ws_queued_bytes.load(std::memory_order_relaxed) << '\n';
  if (gauges.cluster)
    for (const auto& [name, value] : gauges.cluster())
      out << "# HELP " << name << " Several nodes: see docs/scaling.md.\n# TYPE " << name
          << (name.ends_with("_total") ? " counter\n" : " gauge\n") << name << ' ' << value
          << '\n';
  return out.str();
}

void add_metrics_routes(Router& router, Gauges gauges) {
  router.add(Method::get, "/metrics", Access::open,
             [gauges = std::move(gauges)](RequestContext&) -> boost::asio::awaitable<Response> {
               Response r;
               r.content_type = "text/plain; version=0.0.4";
               r.body = render_metrics(gauges);
               co_return r;
             });
}

}  // namespace chatd::http
