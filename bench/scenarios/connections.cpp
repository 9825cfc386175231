// chatd-bench connections: idle authenticated WebSockets and chatd's memory for them.
#include "driver.hpp"

namespace chatd_bench {

// C idle authenticated connections; resident memory per connection as the slope between two
// connection counts (so start-up memory does not count).
int connections(const Options& o) {
  if (o.pid <= 0) throw std::invalid_argument("connections needs --pid of chatd");
  Db db(o.db);
  auto ids = seed_users(db, "conn_u", 1000);
  asio::io_context ioc;
  std::vector<std::unique_ptr<websocket::stream<beast::tcp_stream>>> conns;
  auto open_until = [&](int target) {
    while (static_cast<int>(conns.size()) < target) {
      auto ws = std::make_unique<websocket::stream<beast::tcp_stream>>(ioc);
      beast::error_code ec;
      beast::get_lowest_layer(*ws).connect(
          tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port), ec);
      if (ec) return false;
      ws->handshake("127.0.0.1", "/ws?token=" + mint(o.secret, ids[conns.size() % ids.size()]), ec);
      if (ec) return false;
      conns.push_back(std::move(ws));
    }
    return true;
  };
  const int low = std::min(1000, o.connections / 4);
  open_until(low);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long rss_low = rss_kib(o.pid);
  const auto t0 = Clock::now();
  const bool all = open_until(o.connections);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const long rss_high = rss_kib(o.pid);
  const auto reached = static_cast<long>(conns.size());
  const double per_conn = static_cast<double>(rss_high - rss_low) * 1024.0 /
                          static_cast<double>(std::max<long>(1, reached - low));
  std::printf("connections: %ld open (%s), %.0f connects/s\n", reached,
              all ? "all requested" : "stopped early: out of descriptors?",
              (reached - low) / secs);
  std::printf("  chatd RSS %ld KiB at %d, %ld KiB at %ld: %.0f bytes per connection\n", rss_low,
              low, rss_high, reached, per_conn);
  json::object r{{"scenario", "connections"}, {"connections", reached},
                 {"connect_rate", (reached - low) / secs}, {"rss_low_kib", rss_low},
                 {"rss_high_kib", rss_high}, {"bytes_per_connection", per_conn}};
  std::cout << json::serialize(r) << std::endl;
  return 0;
}

}  // namespace chatd_bench
