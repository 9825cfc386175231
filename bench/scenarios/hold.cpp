// chatd-bench seed-users and hold: one share of a very large number of idle connections
// (docs/BENCHMARKS.md, "a million connections"). `seed-users` writes --users users named
// hold_u<N> straight into PostgreSQL; each `hold` process opens --connections WebSockets to one
// node for the users from --first-user on, from its own source address (--source, spread over
// 127.0.0.0/8 by the script), waits for each one's `ready` and the end of its backlog, and keeps
// them open (answering pings) until --until-file exists; then reports how many stayed open.
#include "driver.hpp"

namespace chatd_bench {

int seed_users_only(const Options& o) {
  Db db(o.db);
  const auto t0 = Clock::now();
  const std::string hash = bcrypt("bench-password", 4);
  db.column("INSERT INTO users (username, email, password_hash) SELECT 'hold_u' || g, "
            "'hold_u' || g || '@bench.local', '" + hash + "' FROM generate_series(1, " +
            std::to_string(o.users) + ") g ON CONFLICT DO NOTHING");
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("seeded %d users in %.1f s\n", o.users, secs);
  return 0;
}

namespace {

struct HoldState {
  std::atomic<long> ready{0}, failed{0}, closed{0};
};

asio::awaitable<void> hold_one(std::string token, asio::ip::address source, std::uint16_t port,
                               HoldState& st, bool& stop) {
  auto ex = co_await asio::this_coro::executor;
  websocket::stream<beast::tcp_stream> ws(ex);
  beast::error_code ec;
  auto& sock = beast::get_lowest_layer(ws).socket();
  sock.open(tcp::v4(), ec);
  if (!ec) sock.bind(tcp::endpoint(source, 0), ec);
  if (!ec)
    co_await sock.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (!ec)
    co_await ws.async_handshake("127.0.0.1", "/ws?token=" + token,
                                asio::redirect_error(asio::use_awaitable, ec));
  bool is_ready = false;
  beast::flat_buffer buf;
  while (!ec && !is_ready) {  // `ready`, then nothing pending (a fresh user has no backlog)
    co_await ws.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
    if (!ec)
      is_ready = beast::buffers_to_string(buf.data()).find("\"type\":\"ready\"") !=
                 std::string::npos;
    buf.clear();
    buf.shrink_to_fit();
  }
  if (ec) {
    ++st.failed;
    co_return;
  }
  ++st.ready;
  // Idle from here: the read answers the server's pings and sees a close.
  while (!stop) {
    co_await ws.async_read(buf, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    buf.clear();
    buf.shrink_to_fit();
  }
  if (!stop) ++st.closed;
}

}  // namespace

int hold(const Options& o) {
  if (o.until_file.empty()) throw std::invalid_argument("hold needs --until-file");
  std::vector<std::string> tokens;
  {
    Db db(o.db);
    for (const auto& s : db.column("SELECT id FROM users WHERE username LIKE 'hold\\_u%' ORDER BY "
                                   "id OFFSET " + std::to_string(o.first_user) + " LIMIT " +
                                   std::to_string(o.connections)))
      tokens.push_back(mint(o.secret, std::stoll(s), 24 * 3600));
  }
  if (tokens.size() < static_cast<std::size_t>(o.connections))
    throw std::runtime_error("not enough seeded users (chatd-bench seed-users)");
  const auto source = asio::ip::make_address(o.source.empty() ? "127.0.0.1" : o.source);
  asio::io_context ioc(1);
  HoldState st;
  bool stop = false;
  const long rss_before = o.pid > 0 ? rss_kib(o.pid) : 0;
  const auto t0 = Clock::now();
  // A bounded number of connects in flight: a burst of this process's share, not all at once.
  constexpr long kInFlight = 64;
  std::size_t next = 0;
  double connect_secs = 0;
  asio::steady_timer tick(ioc);
  std::function<void()> pace = [&] {
    while (next < tokens.size() &&
           static_cast<long>(next) - st.ready - st.failed < kInFlight) {
      asio::co_spawn(ioc, hold_one(std::move(tokens[next]), source, o.port, st, stop),
                     asio::detached);
      ++next;
    }
    if (next == tokens.size() && st.ready + st.failed == static_cast<long>(tokens.size())) {
      if (connect_secs == 0) {
        connect_secs = std::chrono::duration<double>(Clock::now() - t0).count();
        std::printf("hold: %ld ready, %ld failed in %.1f s (%.0f connects/s)\n", st.ready.load(),
                    st.failed.load(), connect_secs, st.ready / connect_secs);
        std::fflush(stdout);
      }
      if (std::filesystem::exists(o.until_file)) {
        stop = true;
        ioc.stop();
        return;
      }
    }
    tick.expires_after(std::chrono::milliseconds(5));
    tick.async_wait([&](const beast::error_code&) { pace(); });
  };
  pace();
  ioc.run();
  const long rss_after = o.pid > 0 ? rss_kib(o.pid) : 0;
  json::object r{{"scenario", "hold"},          {"port", o.port},
                 {"source", o.source},          {"ready", st.ready.load()},
                 {"failed", st.failed.load()},  {"closed_while_held", st.closed.load()},
                 {"connect_seconds", connect_secs},
                 {"connect_rate", connect_secs > 0 ? st.ready / connect_secs : 0},
                 {"chatd_rss_before_kib", rss_before}, {"chatd_rss_after_kib", rss_after}};
  std::cout << json::serialize(r) << std::endl;
  return 0;
}

}  // namespace chatd_bench
