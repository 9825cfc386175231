// chatd-bench seed-users and hold: one share of a very large number of idle connections
// (docs/BENCHMARKS.md, "a million connections"). `seed-users` writes --users users named
// hold_u<N> straight into PostgreSQL; each `hold` process opens --connections WebSockets to one
// node for the users from --first-user on, from its own source addresses (--source and the
// next ones in its third octet, one per kPerSource connections; spread over 127.0.0.0/8 by the
// script), waits for each one's `ready` and the end of its backlog, and keeps
// them open (answering pings) until --until-file exists; then reports how many stayed open.
// Each connection is held by LeanClient below, not Beast's client stream.
#include <netinet/in.h>
#include <sys/socket.h>

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

// Connections per source address. connect() picks the source port among the even ports of the
// local range first (Linux since 4.6: the odd ones are left to bind()), 14,116 of them here
// (32768–60999), and checks each candidate against the established table: once one source has
// that many connections to one node's port, every further connect scans all of them before it
// tries an odd one. In the million run this search (`__inet_check_established` under
// `connect`) took half of both cores while the last shares connected (docs/BENCHMARKS.md).
// A third of the even ports per address keeps it to a probe or two.
constexpr int kPerSource = 4096;

asio::ip::address nth_source(const asio::ip::address& first, std::size_t n) {
  if (!first.is_v4()) return first;
  const auto k = static_cast<unsigned>(n / kPerSource);
  return asio::ip::address_v4(first.to_v4().to_uint() + (k << 8));
}

struct HoldState {
  std::atomic<long> ready{0}, failed{0}, closed{0};
};

// The least a client can hold a connection with, since the million's load generators share
// the machine with the nodes: a plain socket, the upgrade written and read by hand, and while
// idle nothing but a two-byte header read pending (Beast's client stream kept ~8.8 KB per
// connection here). Server frames are unmasked (RFC 6455 §5.1); a ping is answered with a
// masked pong of the same payload, a close ends the connection.
class LeanClient {
 public:
  explicit LeanClient(asio::any_io_executor ex) : sock_(std::move(ex)) {}

  asio::awaitable<bool> open(const asio::ip::address& source, std::uint16_t port,
                             const std::string& token) {
    beast::error_code ec;
    sock_.open(tcp::v4(), ec);
    // The port is chosen at connect, by the whole 4-tuple, not by a bind to port 0 that looks
    // for one free on the address alone (a search that grows with the sockets already bound;
    // the kernel's share of the CPU in the million run did not fall with it, docs/BENCHMARKS.md).
    if (!ec) {
      const int one = 1;
      if (::setsockopt(sock_.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
                       sizeof one) != 0)
        co_return false;
      sock_.bind(tcp::endpoint(source, 0), ec);
    }
    if (ec) co_return false;
    co_await sock_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    const std::string req = "GET /ws?token=" + token +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
    co_await asio::async_write(sock_, asio::buffer(req),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    std::string head;
    co_await asio::async_read_until(sock_, asio::dynamic_buffer(head), "\r\n\r\n",
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec || head.rfind("HTTP/1.1 101", 0) != 0) co_return false;
    head.erase(0, head.find("\r\n\r\n") + 4);  // what came after the response: frames
    early_ = std::move(head);
    co_return true;
  }

  // The next data frame's payload (control frames answered on the way); nullopt once closed.
  asio::awaitable<std::optional<std::string>> next() {
    for (;;) {
      unsigned char h[2];
      if (!co_await take(h, 2)) co_return std::nullopt;
      const int opcode = h[0] & 0x0f;
      std::uint64_t len = h[1] & 0x7f;
      if (len >= 126) {
        unsigned char ext[8];
        const std::size_t n = len == 126 ? 2 : 8;
        if (!co_await take(ext, n)) co_return std::nullopt;
        len = 0;
        for (std::size_t i = 0; i < n; ++i) len = (len << 8) | ext[i];
      }
      if (len > (1u << 20)) co_return std::nullopt;
      std::string payload(len, '\0');
      if (len > 0 && !co_await take(payload.data(), len)) co_return std::nullopt;
      if (opcode == 0x8) co_return std::nullopt;  // close
      if (opcode == 0x9) {                         // ping: a masked pong, zero mask
        if (payload.size() > 125) co_return std::nullopt;
        std::string pong{char(0x8a), static_cast<char>(0x80 | payload.size()), 0, 0, 0, 0};
        pong += payload;
        beast::error_code ec;
        co_await asio::async_write(sock_, asio::buffer(pong),
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return std::nullopt;
        continue;
      }
      if (opcode == 0xa) continue;  // an unsolicited pong
      co_return payload;            // text (chatd sends its events unfragmented)
    }
  }

 private:
  asio::awaitable<bool> take(void* to, std::size_t n) {
    auto* out = static_cast<char*>(to);
    const std::size_t from_early = std::min(n, early_.size());
    std::memcpy(out, early_.data(), from_early);
    early_.erase(0, from_early);
    if (early_.empty()) std::string().swap(early_);
    if (from_early == n) co_return true;
    beast::error_code ec;
    co_await asio::async_read(sock_, asio::buffer(out + from_early, n - from_early),
                              asio::redirect_error(asio::use_awaitable, ec));
    co_return !ec;
  }

  tcp::socket sock_;
  std::string early_;
};

asio::awaitable<void> hold_one(std::string token, asio::ip::address source, std::uint16_t port,
                               HoldState& st, bool& stop) {
  LeanClient c(co_await asio::this_coro::executor);
  bool ok = co_await c.open(source, port, token);
  std::string().swap(token);
  // `ready` first, then nothing pending (a fresh user has no backlog).
  if (ok) {
    auto first = co_await c.next();
    ok = first && first->find("\"type\":\"ready\"") != std::string::npos;
  }
  if (!ok) {
    ++st.failed;
    co_return;
  }
  ++st.ready;
  // Idle from here: the read answers the server's pings and sees a close.
  while (!stop)
    if (!co_await c.next()) break;
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
      asio::co_spawn(
          ioc, hold_one(std::move(tokens[next]), nth_source(source, next), o.port, st, stop),
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
    // Connecting: the next connects within 5 ms. Holding: only the release file to look for,
    // once a second (at every 5 ms, 55 load generators woke the shared machine 11,000 times a
    // second for it, a fourth of all their wake-ups beside the nodes' pings).
    tick.expires_after(connect_secs == 0 ? std::chrono::milliseconds(5) : std::chrono::seconds(1));
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
