// The driver core of chatd-bench: options, the database seeding helpers, minted tokens, latency
// statistics and their table row and JSON, HTTP GET workers, the WebSocket connection and the
// fleet of them with its open-loop sender; and one function per scenario, each in
// bench/scenarios/<name>.cpp. Included by every file of chatd-bench only.
#pragma once

#include <crypt.h>
#include <jwt.h>
#include <libpq-fe.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <atomic>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>
#include <iostream>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>


namespace chatd_bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string scenario;
  std::uint16_t port = 8080;
  std::vector<std::uint16_t> spread;  // more nodes for the WebSocket connections
  std::string db;
  std::string secret;
  int conversations = 10000;
  int messages_per = 100;
  int requests = 2000;
  int concurrency = 8;
  int users = 1000;
  double rate = 2000;
  double seconds = 10;
  int groups = 10;
  int group_size = 100;
  int logins = 50;
  int connections = 10000;
  int pid = 0;
  int contacts = 5;
  bool find_max = false;
  double minutes = 60;
  int churn = 5;  // soak: connections dropped per second
  double token_seconds = 0;  // soak: lifetime of the tokens it mints (0: the run and an hour)
  long long messages = 1000000;  // export: messages the exporting user sent
  int first_user = 0;            // hold: the share starts at this seeded user
  std::string source;            // hold: the local address its connections come from
  std::string until_file;        // hold: keep the connections open until this file exists
};

// --port and the --spread ports: the nodes the WebSocket connections are dealt over.
inline std::vector<std::uint16_t> node_ports(const Options& o) {
  std::vector<std::uint16_t> ports{o.port};
  ports.insert(ports.end(), o.spread.begin(), o.spread.end());
  return ports;
}

struct Db {
  explicit Db(const std::string& conninfo) : c(PQconnectdb(conninfo.c_str())) {
    if (PQstatus(c) != CONNECTION_OK) throw std::runtime_error(PQerrorMessage(c));
  }
  ~Db() { PQfinish(c); }
  std::vector<std::string> column(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      std::string e = PQresultErrorMessage(r);
      PQclear(r);
      throw std::runtime_error(e + " in " + sql.substr(0, 200));
    }
    std::vector<std::string> out;
    for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
    PQclear(r);
    return out;
  }
  PGconn* c;
};

inline std::string bcrypt(const std::string& password, unsigned long cost) {
  char* salt = crypt_gensalt_ra("$2b$", cost, nullptr, 0);
  crypt_data data{};
  std::string out = crypt_rn(password.c_str(), salt, &data, sizeof data);
  free(salt);
  return out;
}

inline std::string mint(const std::string& secret, std::int64_t user, long ttl_seconds = 3600) {
  jwt_t* j = nullptr;
  jwt_new(&j);
  const long now = static_cast<long>(time(nullptr));
  jwt_add_grant(j, "sub", std::to_string(user).c_str());
  jwt_add_grant_int(j, "iat", now);
  jwt_add_grant_int(j, "exp", now + ttl_seconds);
  jwt_set_alg(j, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
              static_cast<int>(secret.size()));
  char* s = jwt_encode_str(j);
  std::string out(s);
  free(s);
  jwt_free(j);
  return out;
}

// Ensures `n` bench users with the given prefix exist; returns their ids in order.
inline std::vector<std::int64_t> seed_users(Db& db, const std::string& prefix, int n) {
  const std::string hash = bcrypt("bench-password", 4);
  db.column("INSERT INTO users (username, email, password_hash) SELECT '" + prefix +
            "' || g, '" + prefix + "' || g || '@bench.local', '" + hash +
            "' FROM generate_series(1, " + std::to_string(n) +
            ") g ON CONFLICT DO NOTHING");
  std::vector<std::int64_t> ids;
  for (const auto& s :
       db.column("SELECT id FROM users WHERE email LIKE '" + prefix +
                 "%@bench.local' ORDER BY id LIMIT " + std::to_string(n)))
    ids.push_back(std::stoll(s));
  return ids;
}

// "1,2,3" for an ARRAY[...] literal.
inline std::string csv(std::vector<std::int64_t>::const_iterator first,
                       std::vector<std::int64_t>::const_iterator last) {
  std::string out;
  for (auto it = first; it != last; ++it) {
    if (it != first) out += ',';
    out += std::to_string(*it);  // appended, not "," + …: g++ 12 warns falsely on that at -O3
  }
  return out;
}

// The message number in a client id "<run_id><n>" of this run, if it is one and below `count`.
inline std::optional<std::size_t> client_number(const json::value& cid, std::string_view run_id,
                                                std::size_t count) {
  if (!cid.is_string()) return std::nullopt;
  const std::string_view id = cid.get_string();
  if (!id.starts_with(run_id)) return std::nullopt;
  std::size_t n = 0;
  const auto* end = id.data() + id.size();
  const auto [p, ec] = std::from_chars(id.data() + run_id.size(), end, n);
  if (ec != std::errc{} || p != end || n >= count) return std::nullopt;
  return n;
}

// The group named `name` (an SQL literal), created with its conversation when missing: `owner`
// and `members` ("1,2,3", the owner among them) in both; its id.
inline std::int64_t seed_group(Db& db, const std::string& name, std::int64_t owner,
                               const std::string& members) {
  auto found = db.column("SELECT id FROM groups WHERE name = " + name);
  if (found.empty())
    found = db.column(
        "WITH g AS (INSERT INTO groups (name, owner_id) VALUES (" + name + ", " +
        std::to_string(owner) + ") RETURNING id),"
        " gm AS (INSERT INTO group_members (group_id, user_id) SELECT g.id, u FROM g,"
        " unnest(ARRAY[" + members + "]::bigint[]) u),"
        " c AS (INSERT INTO conversations (type, group_id) SELECT 'group', id FROM g RETURNING id),"
        " cm AS (INSERT INTO conversation_members (conversation_id, user_id) SELECT c.id, u FROM c,"
        " unnest(ARRAY[" + members + "]::bigint[]) u)"
        " SELECT id FROM g");
  return std::stoll(found[0]);
}

// A counter of chatd's GET /metrics on `port` (-1 when it is not there); throws when chatd does
// not answer.
inline long long chatd_metric(std::uint16_t port, std::string_view name) {
  asio::io_context io;
  beast::tcp_stream st(io);
  st.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/metrics", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(st, req);
  beast::flat_buffer b;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(st, b, res);
  std::string key = "\n";  // appended: g++ 12 warns falsely on "literal" + string at -O3
  key += name;
  key += ' ';
  const auto at = res.body().find(key);
  if (at == std::string::npos) return -1;
  return std::stoll(res.body().substr(at + key.size(), 24));
}

struct Stats {
  std::vector<double> ms;
  void add(Clock::duration d) { ms.push_back(std::chrono::duration<double, std::milli>(d).count()); }
  double pct(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    const auto i = static_cast<std::size_t>(std::min<double>(ms.size() - 1, p / 100.0 * ms.size()));
    return ms[i];
  }
  json::object summary() {
    json::object o;
    o["count"] = ms.size();
    o["p50_ms"] = pct(50);
    o["p90_ms"] = pct(90);
    o["p99_ms"] = pct(99);
    o["p999_ms"] = pct(99.9);
    o["max_ms"] = ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end());
    return o;
  }
};

inline void print_row(const std::string& name, Stats& s) {
  std::printf("  %-22s %8zu  p50 %8.2f  p90 %8.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms\n",
              name.c_str(), s.ms.size(), s.pct(50), s.pct(90), s.pct(99), s.pct(99.9),
              s.ms.empty() ? 0.0 : *std::max_element(s.ms.begin(), s.ms.end()));
}

inline asio::awaitable<void> http_worker(std::uint16_t port, std::vector<std::string> targets,
                                  std::vector<std::string> tokens, Stats& stats, int& errors) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream stream(ex);
  co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                asio::use_awaitable);
  beast::flat_buffer buffer;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, targets[i], 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.set(bhttp::field::authorization, "Bearer " + tokens[i]);
    const auto t0 = Clock::now();
    co_await bhttp::async_write(stream, req, asio::use_awaitable);
    bhttp::response<bhttp::string_body> res;
    co_await bhttp::async_read(stream, buffer, res, asio::use_awaitable);
    stats.add(Clock::now() - t0);
    if (res.result_int() != 200) ++errors;
  }
}

// GETs of `targets[c]` with `tokens[c]`, one keep-alive connection per c, all at once; the row
// printed as `name`, and its summary with errors and requests per second.
inline json::object run_gets(std::uint16_t port, const std::vector<std::vector<std::string>>& targets,
                      const std::vector<std::vector<std::string>>& tokens, const std::string& name) {
  Stats stats;
  int errors = 0;
  asio::io_context ioc;
  for (std::size_t c = 0; c < targets.size(); ++c)
    asio::co_spawn(ioc, http_worker(port, targets[c], tokens[c], stats, errors), asio::detached);
  const auto t0 = Clock::now();
  ioc.run();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  print_row(name, stats);
  std::printf("  %-22s %.0f requests/s, %d errors\n", "", stats.ms.size() / secs, errors);
  auto s = stats.summary();
  s["errors"] = errors;
  s["requests_per_second"] = stats.ms.size() / secs;
  return s;
}

struct WsConn : std::enable_shared_from_this<WsConn> {
  explicit WsConn(asio::io_context& ioc) : ws(ioc) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> out;
  bool writing = false;
  bool open = false;

  void send(std::string text) {
    out.push_back(std::move(text));
    if (!writing) write_next();
  }
  void write_next() {
    if (out.empty() || !open) {  // nothing to write, or the connection is gone
      writing = false;
      return;
    }
    writing = true;
    ws.async_write(asio::buffer(out.front()),
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->out.pop_front();
                     if (ec) {
                       self->open = false;
                       return;
                     }
                     self->write_next();
                   });
  }
};

// Everyone's WebSocket connection, the open-loop sender and the measurements.
struct Fleet {
  asio::io_context ioc{1};
  std::vector<std::shared_ptr<WsConn>> conns;
  // Client ids are `run_id` + the message's number; sent_at[number] is its scheduled send time.
  std::string run_id;
  std::vector<Clock::time_point> sent_at;
  Stats ack, delivery;
  long long sent = 0, acked = 0, delivered = 0, errors = 0;
  std::map<std::string, long long> error_codes;
  double connect_secs = 0;
  long long frames = 0;  // every frame received, of any type
  double settle_secs = 0;  // from the last connect until the frames stopped
  long long settle_frames = 0;

  // The scheduled send time of a client id of this run, if it is one.
  std::optional<Clock::time_point> scheduled(const json::value& cid) const {
    const auto n = client_number(cid, run_id, sent_at.size());
    if (!n) return std::nullopt;
    return sent_at[*n];
  }

  void read_loop(const std::shared_ptr<WsConn>& c) {
    c->ws.async_read(c->buffer, [this, c](beast::error_code ec, std::size_t) {
      if (ec) {
        c->open = false;
        return;
      }
      const auto now = Clock::now();
      ++frames;
      {
        // The generator's own cost is taken from the machine under test: parse in place, into
        // a stack arena, and find the send time by number rather than by string.
        const auto data = c->buffer.data();
        const std::string_view text(static_cast<const char*>(data.data()), data.size());
        unsigned char arena[4096];
        json::monotonic_resource mr(arena, sizeof arena);
        const auto v = json::parse(text, &mr);
        const auto type = v.at("type").as_string();
        if (type == "ack") {
          ++acked;
          if (const auto t = scheduled(v.at("client_id"))) ack.add(now - *t);
        } else if (type == "message") {
          if (const auto t = scheduled(v.at("message").at("client_id"))) {
            delivery.add(now - *t);
            ++delivered;
          }
        } else if (type == "error") {
          ++errors;
          ++error_codes[std::string(v.at("code").as_string())];
        }
      }
      c->buffer.consume(c->buffer.size());
      read_loop(c);
    });
  }

  // Connection i goes to ports[i % ports.size()].
  void connect(const std::vector<std::uint16_t>& ports, const std::string& secret,
               const std::vector<std::int64_t>& ids) {
    const auto c0 = Clock::now();
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto id = ids[i];
      auto c = std::make_shared<WsConn>(ioc);
      beast::get_lowest_layer(c->ws).connect(
          tcp::endpoint(asio::ip::make_address("127.0.0.1"), ports[i % ports.size()]));
      c->ws.handshake("127.0.0.1", "/ws?token=" + mint(secret, id));
      c->open = true;
      conns.push_back(c);
      read_loop(c);
    }
    connect_secs = std::chrono::duration<double>(Clock::now() - c0).count();
    // Until the connect storm is over: every `ready`, and the presence changes it set off (in
    // a group of 100, each connect tells 99 members: 99,000 frames for 1,000 users), have
    // arrived once nothing came for 300 ms. A fixed half second was too short on a loaded box,
    // and the run's first messages then queued behind the storm's tail (p99 ~0.6 s instead of
    // ~20 ms; docs/BENCHMARKS.md measures that tail on its own).
    const auto s0 = Clock::now();
    for (int quiet = 0; quiet < 3 && Clock::now() - s0 < std::chrono::seconds(60);) {
      const auto before = frames;
      ioc.run_for(std::chrono::milliseconds(100));
      quiet = frames == before ? quiet + 1 : 0;
    }
    settle_secs = std::chrono::duration<double>(Clock::now() - s0).count();
    settle_frames = frames;
  }

  void reset() {
    ack = {};
    delivery = {};
    sent = acked = delivered = errors = 0;
    error_codes.clear();
    sent_at.clear();
  }

  // Sends `rate` messages/s for `seconds` on schedule (open loop): `pick` names the sending
  // connection and the destination fields. Each message should reach `fanout` recipients.
  double run(double rate, double seconds, long long fanout,
             const std::function<std::pair<int, json::object>(std::mt19937&)>& pick) {
    std::mt19937 rng(7);
    // Client ids unique to this run: chatd treats a repeated (sender, client_id) as a resend.
    run_id = std::to_string(std::random_device{}()) + "-";
    const auto total = static_cast<long long>(rate * seconds);
    sent_at.assign(static_cast<std::size_t>(total), Clock::time_point{});
    const auto start = Clock::now();
    const auto interval = std::chrono::duration<double>(1.0 / rate);
    asio::steady_timer tick(ioc);
    std::function<void()> pump = [&] {
      const auto now = Clock::now();
      while (sent < total &&
             start + std::chrono::duration_cast<Clock::duration>(interval * sent) <= now) {
        auto [from, event] = pick(rng);
        const std::string cid = run_id + std::to_string(sent);
        sent_at[static_cast<std::size_t>(sent)] =
            start + std::chrono::duration_cast<Clock::duration>(interval * sent);
        event["type"] = "send_message";
        event["content"] = "bench " + cid;
        event["client_id"] = cid;
        conns[static_cast<std::size_t>(from)]->send(json::serialize(event));
        ++sent;
      }
      if (sent < total) {
        tick.expires_after(std::chrono::microseconds(500));
        tick.async_wait([&](beast::error_code) { pump(); });
      }
    };
    pump();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds + 10));
    while (Clock::now() < deadline &&
           (sent < total || acked + errors < total || delivered < acked * fanout))
      ioc.run_for(std::chrono::milliseconds(50));
    return std::chrono::duration<double>(Clock::now() - start).count();
  }

  json::object report(const std::string& scenario, double secs, long long fanout) {
    std::printf("  sent %lld  acked %lld  delivered %lld  errors %lld  achieved %.0f msg/s,"
                " %.0f deliveries/s\n",
                sent, acked, delivered, errors, acked / secs, delivered / secs);
    for (const auto& [code, count] : error_codes)
      std::printf("  error %s: %lld\n", code.c_str(), count);
    print_row("ack latency", ack);
    print_row("delivery latency", delivery);
    json::object r{{"scenario", scenario}, {"sent", sent},     {"acked", acked},
                   {"delivered", delivered}, {"errors", errors}, {"fanout", fanout},
                   {"achieved_rate", acked / secs}, {"deliveries_per_second", delivered / secs}};
    r["ack"] = ack.summary();
    r["delivery"] = delivery.summary();
    return r;
  }

  void close_all() {
    for (auto& c : conns) {
      beast::error_code ec;
      beast::get_lowest_layer(c->ws).socket().close(ec);
    }
  }
};

// Each user talks with a few random contacts (as people do); a warm-up message per pair
// creates the conversations before anything is measured.
using Contacts = std::vector<std::vector<int>>;

inline Contacts pick_contacts(int n, int k) {
  std::mt19937 rng(11);
  Contacts contacts(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) {
      int c = static_cast<int>(rng() % (n - 1));
      if (c >= i) ++c;
      contacts[static_cast<std::size_t>(i)].push_back(c);
    }
  return contacts;
}

// A random user writing to one of its contacts; with no contacts, to anyone else.
inline std::function<std::pair<int, json::object>(std::mt19937&)> contact_picker(
    const std::vector<std::int64_t>& ids, const Contacts& contacts) {
  return [&ids, &contacts](std::mt19937& rng) {
    const int from = static_cast<int>(rng() % ids.size());
    const auto& mine = contacts[static_cast<std::size_t>(from)];
    int to = 0;
    if (mine.empty()) {
      to = static_cast<int>(rng() % (ids.size() - 1));
      if (to >= from) ++to;
    } else {
      to = mine[rng() % mine.size()];
    }
    return std::pair{from, json::object{{"to", ids[static_cast<std::size_t>(to)]}}};
  };
}

inline void warm_up(Fleet& f, const std::vector<std::int64_t>& ids, const Contacts& contacts) {
  const auto w0 = Clock::now();
  long long warm = 0;
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (int c : contacts[i]) {
      json::object e{{"type", "send_message"}, {"to", ids[static_cast<std::size_t>(c)]},
                     {"content", "warm-up"}};
      f.conns[i]->send(json::serialize(e));
      ++warm;
    }
  while (f.acked + f.errors < warm && Clock::now() - w0 < std::chrono::seconds(60))
    f.ioc.run_for(std::chrono::milliseconds(20));
  f.ioc.run_for(std::chrono::milliseconds(500));
  std::printf("  warm-up: %lld messages (one per contact pair) in %.1f s\n", warm,
              std::chrono::duration<double>(Clock::now() - w0).count());
  f.reset();
}

inline long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

// The scenarios (bench/scenarios/), each returning the process's exit status.
int seed_inbox(const Options& o);
int inbox(const Options& o);
int search(const Options& o);
int dm(const Options& o);
int group(const Options& o);
int login_storm(const Options& o);
int connections(const Options& o);
int seed_users_only(const Options& o);
int hold(const Options& o);
int attachments(const Options& o);
int export_data(const Options& o);
int soak(const Options& o);

}  // namespace chatd_bench
