// chatd-bench: drives a running chatd over real HTTP and WebSocket and reports latency
// percentiles (a readable table and one JSON line).
//
//   chatd-bench seed-inbox  --db CONNINFO [--conversations 10000 --messages-per 100]
//   chatd-bench inbox       --port P --db CONNINFO --secret S [--requests 2000 --concurrency 8]
//   chatd-bench dm          --port P --db CONNINFO --secret S [--users 1000 --rate 2000 --seconds 10]
//                           [--contacts 5: each user writes to 5 fixed contacts, warmed up first;
//                            --contacts 0: every message to a random pair of fresh users, so
//                            most messages are the first of their conversation]
//                           [--find-max: from --rate up in steps of --rate until p99 ≥ 100 ms]
//   chatd-bench group       ... [--groups 10 --group-size 100 --rate 500 --seconds 10]
//   chatd-bench login-storm ... [--users 1000 --rate 2000 --logins 50 --seconds 10]
//   chatd-bench connections ... --pid CHATD_PID [--connections 10000]
//   chatd-bench attachments ... --pid CHATD_PID [--concurrency 20]: 10 MiB uploads and
//                           downloads (MB/s), and chatd's RSS during concurrent uploads
//   chatd-bench export      ... --pid CHATD_PID [--messages 1000000]: one user who sent that
//                           many messages downloads their data export; bytes, time, and
//                           chatd's RSS sampled through it
//   chatd-bench search      ... [--messages 10000000 --requests 500 --concurrency 4]: GET /search
//                           for a common word, a rare one and a prefix by users in 100
//                           conversations, on a database of that many messages (seeded once)
//   chatd-bench soak        ... --pid CHATD_PID [--minutes 60 --rate 3000 --users 1000
//                           --groups 10 --group-size 20 --churn 5]: mixed traffic with drops,
//                           logins, reads and slow readers; a row a minute, checks at the end
//
// Several nodes: `--spread P2,P3` deals the WebSocket connections of dm, group and login-storm
// round-robin over --port and these ports (set-up requests go to --port; the deliveries a group
// run waits for are summed over all of them).
//
// Load is open-loop in `dm`: messages leave on schedule whether or not earlier ones were
// answered, so a slow server shows up as latency instead of hiding behind a slower sender.
// Bench users are written straight into the database with a bcrypt cost-4 hash and get tokens
// minted with the server's secret (the same HS256 tokens /auth/login issues): seeding 10,000
// users takes a second instead of an hour of cost-12 logins.
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

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// ---------------------------------------------------------------- options and helpers

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
};

// --port and the --spread ports: the nodes the WebSocket connections are dealt over.
std::vector<std::uint16_t> node_ports(const Options& o) {
  std::vector<std::uint16_t> ports{o.port};
  ports.insert(ports.end(), o.spread.begin(), o.spread.end());
  return ports;
}

Options parse(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument("usage: chatd-bench SCENARIO [--flag value]...");
  Options o;
  o.scenario = argv[1];
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--find-max") {  // the one flag without a value
      o.find_max = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
    const std::string v = argv[i + 1];
    if (k == "--port") o.port = static_cast<std::uint16_t>(std::stoi(v));
    else if (k == "--spread") {
      std::stringstream list(v);
      for (std::string p; std::getline(list, p, ',');)
        o.spread.push_back(static_cast<std::uint16_t>(std::stoi(p)));
    }
    else if (k == "--db") o.db = v;
    else if (k == "--secret") o.secret = v;
    else if (k == "--conversations") o.conversations = std::stoi(v);
    else if (k == "--messages-per") o.messages_per = std::stoi(v);
    else if (k == "--requests") o.requests = std::stoi(v);
    else if (k == "--concurrency") o.concurrency = std::stoi(v);
    else if (k == "--users") o.users = std::stoi(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--groups") o.groups = std::stoi(v);
    else if (k == "--group-size") o.group_size = std::stoi(v);
    else if (k == "--logins") o.logins = std::stoi(v);
    else if (k == "--connections") o.connections = std::stoi(v);
    else if (k == "--pid") o.pid = std::stoi(v);
    else if (k == "--contacts") o.contacts = std::stoi(v);
    else if (k == "--minutes") o.minutes = std::stod(v);
    else if (k == "--churn") o.churn = std::stoi(v);
    else if (k == "--token-seconds") o.token_seconds = std::stod(v);
    else if (k == "--messages") o.messages = std::stoll(v);
    else throw std::invalid_argument("unknown flag " + k);
  }
  return o;
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

std::string bcrypt(const std::string& password, unsigned long cost) {
  char* salt = crypt_gensalt_ra("$2b$", cost, nullptr, 0);
  crypt_data data{};
  std::string out = crypt_rn(password.c_str(), salt, &data, sizeof data);
  free(salt);
  return out;
}

std::string mint(const std::string& secret, std::int64_t user, long ttl_seconds = 3600) {
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
std::vector<std::int64_t> seed_users(Db& db, const std::string& prefix, int n) {
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
std::string csv(std::vector<std::int64_t>::const_iterator first,
                std::vector<std::int64_t>::const_iterator last) {
  std::string out;
  for (auto it = first; it != last; ++it) out += (it == first ? "" : ",") + std::to_string(*it);
  return out;
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

void print_row(const std::string& name, Stats& s) {
  std::printf("  %-22s %8zu  p50 %8.2f  p90 %8.2f  p99 %8.2f  p99.9 %8.2f  max %8.2f ms\n",
              name.c_str(), s.ms.size(), s.pct(50), s.pct(90), s.pct(99), s.pct(99.9),
              s.ms.empty() ? 0.0 : *std::max_element(s.ms.begin(), s.ms.end()));
}

// ---------------------------------------------------------------- seed-inbox

int seed_inbox(const Options& o) {
  Db db(o.db);
  const auto t0 = Clock::now();
  auto ids = seed_users(db, "inbox_u", o.conversations);
  const auto n = static_cast<int>(ids.size());
  const auto have = std::stoll(db.column("SELECT count(*) FROM messages")[0]);
  const long long want = static_cast<long long>(o.conversations) * o.messages_per;
  if (have >= want) {
    std::printf("seed-inbox: %lld messages already there\n", have);
    return 0;
  }
  // A ring: user i talks with user i+1, so each has two conversations.
  const std::string arr = csv(ids.begin(), ids.end());
  db.column("CREATE TEMP TABLE ring AS WITH arr AS (SELECT ARRAY[" + arr + "]::bigint[] AS v)"
            " SELECT v[i] AS a, v[i % " + std::to_string(n) + " + 1] AS b"
            " FROM arr, generate_series(1, " + std::to_string(n) + ") i");
  db.column("INSERT INTO conversations (type, user_lo, user_hi, last_seq, last_message_at)"
            " SELECT 'direct', least(a, b), greatest(a, b), " + std::to_string(o.messages_per) +
            ", now() - random() * interval '30 days' FROM ring ON CONFLICT DO NOTHING");
  db.column("INSERT INTO conversation_members (conversation_id, user_id)"
            " SELECT id, user_lo FROM conversations WHERE type = 'direct'"
            " UNION ALL SELECT id, user_hi FROM conversations WHERE type = 'direct'"
            " ON CONFLICT DO NOTHING");
  db.column("INSERT INTO messages (conversation_id, seq, sender_id, content, created_at)"
            " SELECT c.id, s, CASE WHEN s % 2 = 0 THEN c.user_lo ELSE c.user_hi END,"
            " 'bench message ' || s, c.last_message_at - (" + std::to_string(o.messages_per) +
            " - s) * interval '1 minute'"
            " FROM conversations c, generate_series(1, " + std::to_string(o.messages_per) + ") s"
            " WHERE c.type = 'direct'");
  // What the send batch keeps beside the messages (migrations 0011 and 0012): who wrote last,
  // the last seq from the other side, and each member's own messages above their read
  // position (nothing is read: half of the messages each, the odd seqs user_hi's).
  const auto per = std::to_string(o.messages_per);
  db.column("UPDATE conversations SET other_last_seq = last_seq - 1,"
            " last_sender_id = CASE WHEN last_seq % 2 = 0 THEN user_lo ELSE user_hi END"
            " WHERE type = 'direct' AND last_seq > 0");
  db.column("INSERT INTO sent_since_read (conversation_id, user_id, sent)"
            " SELECT id, user_lo, " + per + " / 2 FROM conversations WHERE type = 'direct'"
            " UNION ALL SELECT id, user_hi, (" + per + " + 1) / 2 FROM conversations"
            " WHERE type = 'direct' ON CONFLICT DO NOTHING");
  db.column("ANALYZE");
  std::printf("seed-inbox: %d users, %s conversations, %s messages in %.1f s\n", n,
              db.column("SELECT count(*) FROM conversations")[0].c_str(),
              db.column("SELECT count(*) FROM messages")[0].c_str(),
              std::chrono::duration<double>(Clock::now() - t0).count());
  return 0;
}

// ---------------------------------------------------------------- inbox (HTTP latency)

asio::awaitable<void> http_worker(std::uint16_t port, std::vector<std::string> targets,
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
json::object run_gets(std::uint16_t port, const std::vector<std::vector<std::string>>& targets,
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

int inbox(const Options& o) {
  Db db(o.db);
  std::vector<std::int64_t> users, convs, conv_user;
  for (const auto& s : db.column("SELECT user_id || ' ' || conversation_id FROM conversation_members"
                                 " ORDER BY random() LIMIT " + std::to_string(o.requests))) {
    const auto sp = s.find(' ');
    users.push_back(std::stoll(s.substr(0, sp)));
    convs.push_back(std::stoll(s.substr(sp + 1)));
  }
  if (users.empty()) throw std::runtime_error("no conversations: run seed-inbox first");
  const auto messages = db.column("SELECT count(*) FROM messages")[0];
  const auto conversations = db.column("SELECT count(*) FROM conversations")[0];

  std::mt19937 rng(42);
  json::object result{{"scenario", "inbox"}, {"db_messages", messages},
                      {"db_conversations", conversations}};
  std::printf("inbox: %s messages in %s conversations, %d requests per endpoint, %d connections\n",
              messages.c_str(), conversations.c_str(), o.requests, o.concurrency);
  for (const std::string endpoint : {"conversations", "messages", "messages_before"}) {
    std::vector<std::vector<std::string>> targets(o.concurrency), tokens(o.concurrency);
    for (int i = 0; i < o.requests; ++i) {
      const auto k = static_cast<std::size_t>(i) % users.size();
      std::string t;
      if (endpoint == "conversations") t = "/conversations?limit=50";
      else if (endpoint == "messages") t = "/messages?limit=50&conversation_id=" + std::to_string(convs[k]);
      else
        t = "/messages?limit=50&conversation_id=" + std::to_string(convs[k]) +
            "&before=" + std::to_string(1 + rng() % 100);
      targets[i % o.concurrency].push_back(t);
      tokens[i % o.concurrency].push_back(mint(o.secret, users[k]));
    }
    result[endpoint] = run_gets(o.port, targets, tokens, "GET /" + endpoint);
  }
  std::cout << json::serialize(result) << std::endl;
  return 0;
}

// ---------------------------------------------------------------- search (PROTOCOL §9)

// A grown database for search: 1,000 users, each pair (i, i + d) for d = 1..50 a conversation
// (50,000; every user in 100), and --messages messages written in time order across all of them
// (so one conversation's messages are spread over the whole table, as in life). Each message is
// five words of a 1,000-word vocabulary ("k000".."k999"), "the" in every other one, "zyzzyva"
// in one of 100,003. The search index is dropped for the load and built again after, as a
// restore would.
void seed_search(Db& db, long long messages) {
  const auto t0 = Clock::now();
  auto ids = seed_users(db, "search_u", 1000);
  const auto n = static_cast<int>(ids.size());
  const std::string arr = "ARRAY[" + csv(ids.begin(), ids.end()) + "]::bigint[]";
  db.column("INSERT INTO conversations (type, user_lo, user_hi, last_seq, last_message_at)"
            " SELECT 'direct', least(u.v[i], u.v[(i + d - 1) % " + std::to_string(n) + " + 1]),"
            " greatest(u.v[i], u.v[(i + d - 1) % " + std::to_string(n) + " + 1]), 0, now()"
            " FROM (SELECT " + arr + " AS v) u, generate_series(1, " + std::to_string(n) +
            ") i, generate_series(1, 50) d ON CONFLICT DO NOTHING");
  db.column("CREATE TEMP TABLE sconv AS SELECT row_number() OVER (ORDER BY c.id) - 1 AS k, c.id,"
            " c.user_lo, c.user_hi FROM conversations c JOIN users u ON u.id = c.user_lo"
            " WHERE u.email LIKE 'search_u%@bench.local'");
  db.column("INSERT INTO conversation_members (conversation_id, user_id)"
            " SELECT id, user_lo FROM sconv UNION ALL SELECT id, user_hi FROM sconv"
            " ON CONFLICT DO NOTHING");
  const auto convs = db.column("SELECT count(*) FROM sconv")[0];
  const auto def = db.column("SELECT indexdef FROM pg_indexes WHERE indexname = 'messages_search_idx'");
  if (!def.empty()) db.column("DROP INDEX messages_search_idx");
  const long long step = 1000000;
  for (long long from = 0; from < messages; from += step) {
    const auto to = std::min(messages, from + step) - 1;
    db.column(
        "INSERT INTO messages (conversation_id, seq, sender_id, content, created_at)"
        " SELECT c.id, g / " + convs + " + 1, CASE WHEN g % 2 = 0 THEN c.user_lo ELSE c.user_hi END,"
        " CASE WHEN g % 2 = 0 THEN 'the ' ELSE '' END"
        " || 'k' || lpad(((g * 7919) % 1000)::text, 3, '0') || ' k' || lpad(((g * 104729) % 997)::text, 3, '0')"
        " || ' k' || lpad(((g * 31) % 991)::text, 3, '0') || ' k' || lpad(((g * 613) % 983)::text, 3, '0')"
        " || ' k' || lpad(((g / 7) % 1000)::text, 3, '0')"
        " || CASE WHEN g % 100003 = 0 THEN ' zyzzyva' ELSE '' END,"
        " now() - (" + std::to_string(messages) + " - g) * interval '100 milliseconds'"
        " FROM generate_series(" + std::to_string(from) + "::bigint, " + std::to_string(to) + ") g"
        " JOIN sconv c ON c.k = g % " + convs);
    std::printf("seed-search: %lld messages\n", to + 1);
    std::fflush(stdout);
  }
  db.column("UPDATE conversations c SET last_seq = x.n, last_message_at = x.at,"
            " other_last_seq = x.n - 1, last_sender_id = c.user_lo"
            " FROM (SELECT conversation_id, max(seq) AS n, max(created_at) AS at FROM messages"
            "       WHERE conversation_id IN (SELECT id FROM sconv) GROUP BY conversation_id) x"
            " WHERE c.id = x.conversation_id");
  if (!def.empty()) {
    db.column("SET maintenance_work_mem = '1GB'");
    db.column(def[0]);
  }
  db.column("VACUUM ANALYZE messages");
  std::printf("seed-search: %s conversations, %lld messages, index built, in %.0f s\n",
              convs.c_str(), messages, std::chrono::duration<double>(Clock::now() - t0).count());
}

int search(const Options& o) {
  Db db(o.db);
  const auto have = std::stoll(db.column(
      "SELECT count(*) FROM messages m JOIN users u ON u.id = m.sender_id"
      " WHERE u.email LIKE 'search_u%@bench.local'")[0]);
  if (have < o.messages) seed_search(db, o.messages);
  std::vector<std::int64_t> users;
  for (const auto& s : db.column("SELECT id FROM users WHERE email LIKE 'search_u%@bench.local'"))
    users.push_back(std::stoll(s));
  if (users.empty()) throw std::runtime_error("no search users");
  const auto total = db.column("SELECT count(*) FROM messages")[0];
  const auto per_user = db.column(
      "SELECT count(*) FROM conversation_members WHERE user_id = " + std::to_string(users[0]))[0];
  std::printf("search: %s messages in the database; each searcher in %s conversations;"
              " %d requests per query, %d connections\n",
              total.c_str(), per_user.c_str(), o.requests, o.concurrency);
  json::object result{{"scenario", "search"}, {"db_messages", total},
                      {"conversations_per_user", per_user}};
  std::mt19937 rng(7);
  // A common word (half of all messages), a rare one (one in 100,003), a prefix (ten words of
  // the vocabulary: ~5 % of messages) and two words with the last as a prefix.
  const std::pair<const char*, const char*> queries[] = {
      {"common", "the"}, {"rare", "zyzzyva"}, {"prefix", "k12"}, {"two_words", "the%20k5"}};
  for (const auto& [name, q] : queries) {
    std::vector<std::vector<std::string>> targets(o.concurrency), tokens(o.concurrency);
    for (int i = 0; i < o.requests; ++i) {
      const auto u = users[rng() % users.size()];
      targets[i % o.concurrency].push_back(std::string("/search?limit=20&q=") + q);
      tokens[i % o.concurrency].push_back(mint(o.secret, u));
    }
    result[name] = run_gets(o.port, targets, tokens, std::string("q=") + name);
  }
  std::cout << json::serialize(result) << std::endl;
  return 0;
}

// ---------------------------------------------------------------- dm (open-loop WebSocket)

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

  // The scheduled send time of a client id of this run, if it is one.
  std::optional<Clock::time_point> scheduled(const json::value& cid) const {
    if (!cid.is_string()) return std::nullopt;
    const std::string_view id = cid.get_string();
    if (!id.starts_with(run_id)) return std::nullopt;
    std::size_t n = 0;
    const auto* end = id.data() + id.size();
    const auto [p, ec] = std::from_chars(id.data() + run_id.size(), end, n);
    if (ec != std::errc{} || p != end || n >= sent_at.size()) return std::nullopt;
    return sent_at[n];
  }

  void read_loop(const std::shared_ptr<WsConn>& c) {
    c->ws.async_read(c->buffer, [this, c](beast::error_code ec, std::size_t) {
      if (ec) {
        c->open = false;
        return;
      }
      const auto now = Clock::now();
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
    ioc.run_for(std::chrono::milliseconds(500));  // `ready` frames and presence settle
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

Contacts pick_contacts(int n, int k) {
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
std::function<std::pair<int, json::object>(std::mt19937&)> contact_picker(
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

void warm_up(Fleet& f, const std::vector<std::int64_t>& ids, const Contacts& contacts) {
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

int dm(const Options& o) {
  Db db(o.db);
  // Random pairs need users who have no conversations yet, or the pairs would not be new.
  const std::string prefix =
      o.contacts > 0 ? std::string("dm_u") : "dmr" + std::to_string(std::random_device{}() % 100000000) + "_";
  auto ids = seed_users(db, prefix, o.users);
  const int n = static_cast<int>(ids.size());
  Fleet f;
  f.connect(node_ports(o), o.secret, ids);
  std::printf("dm: %d users online (connected in %.1f s), %s, target %.0f msg/s for %.0f s\n", n,
              f.connect_secs,
              o.contacts > 0 ? (std::to_string(o.contacts) + " fixed contacts each").c_str()
                             : "every message to a random pair",
              o.rate, o.seconds);
  const auto contacts = pick_contacts(n, o.contacts);
  if (o.contacts > 0) warm_up(f, ids, contacts);
  const auto pick = contact_picker(ids, contacts);
  if (o.find_max) {
    // Raise the rate step by step; the answer is the highest rate whose p99 delivery stays
    // under 100 ms with everything delivered within the run.
    double best = 0;
    for (double rate = o.rate;; rate += o.rate) {
      const double secs = f.run(rate, o.seconds, 1, pick);
      const double p99 = f.delivery.pct(99);
      const bool kept_up = f.delivered == f.sent && f.acked / secs >= 0.97 * rate;
      std::printf("  %8.0f msg/s: achieved %.0f, p99 delivery %.1f ms%s\n", rate, f.acked / secs,
                  p99, kept_up && p99 < 100 ? "" : "  <- over");
      f.reset();
      if (!kept_up || p99 >= 100) break;
      best = rate;
    }
    std::printf("  find-max: %.0f msg/s (p99 delivery < 100 ms, nothing behind)\n", best);
    std::cout << json::serialize(json::object{{"scenario", "dm-find-max"}, {"max_rate", best}})
              << std::endl;
    f.close_all();
    return 0;
  }
  const double secs = f.run(o.rate, o.seconds, 1, pick);
  auto r = f.report("dm", secs, 1);
  r["users"] = n;
  r["contacts"] = o.contacts;
  r["target_rate"] = o.rate;
  std::cout << json::serialize(r) << std::endl;
  f.close_all();
  return 0;
}

// chatd's count of deliveries it has recorded (receipts marked delivered), from GET /metrics.
long long recorded_deliveries(std::uint16_t port) {
  asio::io_context io;
  beast::tcp_stream st(io);
  st.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/metrics", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  bhttp::write(st, req);
  beast::flat_buffer b;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(st, b, res);
  const std::string_view body = res.body();
  const std::string_view key = "\nchatd_messages_delivered_total ";
  const auto at = body.find(key);
  if (at == std::string_view::npos) return -1;
  return std::stoll(std::string(body.substr(at + key.size(), 24)));
}

// Summed over every node the connections are spread over: each records its own writes.
long long recorded_deliveries_all(const Options& o) {
  long long n = 0;
  for (auto port : node_ports(o)) n += recorded_deliveries(port);
  return n;
}

// G groups of S members, all online; a random member writes to its group.
int group(const Options& o) {
  Db db(o.db);
  const int groups = o.groups, size = o.group_size;
  // Users and groups are named after the shape, and a later run of the same shape reuses
  // them: members do not pile up groups (and presence contacts) from run to run.
  const std::string shape = std::to_string(groups) + "x" + std::to_string(size);
  auto ids = seed_users(db, "grp" + shape + "_u", groups * size);
  std::vector<std::int64_t> group_ids;
  for (int g = 0; g < groups; ++g) {
    const auto first = ids.begin() + static_cast<std::ptrdiff_t>(g) * size;
    const std::string members = csv(first, first + size);
    const std::string name = "'bench " + shape + " " + std::to_string(g) + "'";
    auto found = db.column("SELECT id FROM groups WHERE name = " + name);
    if (found.empty())
      found = db.column(
          "WITH g AS (INSERT INTO groups (name, owner_id) VALUES (" + name + ", " +
          std::to_string(*first) + ") RETURNING id),"
          " gm AS (INSERT INTO group_members (group_id, user_id) SELECT g.id, u FROM g,"
          " unnest(ARRAY[" + members + "]::bigint[]) u),"
          " c AS (INSERT INTO conversations (type, group_id) SELECT 'group', id FROM g RETURNING id),"
          " cm AS (INSERT INTO conversation_members (conversation_id, user_id) SELECT c.id, u FROM c,"
          " unnest(ARRAY[" + members + "]::bigint[]) u)"
          " SELECT id FROM g");
    group_ids.push_back(std::stoll(found[0]));
  }
  Fleet f;
  f.connect(node_ports(o), o.secret, ids);
  std::printf("group: %d groups of %d members online (connected in %.1f s), target %.0f msg/s"
              " = %.0f deliveries/s for %.0f s\n",
              groups, size, f.connect_secs, o.rate, o.rate * (size - 1), o.seconds);
  const long long recorded_before = recorded_deliveries_all(o);
  const auto t0 = Clock::now();
  const double secs = f.run(o.rate, o.seconds, size - 1, [&](std::mt19937& rng) {
    const int from = static_cast<int>(rng() % ids.size());
    return std::pair{from, json::object{{"group_id", group_ids[static_cast<std::size_t>(from / size)]}}};
  });
  auto r = f.report("group", secs, size - 1);
  // chatd records deliveries (receipts) after writing them: if it falls behind, the backlog is
  // work this run left for later, and the rate above overstates what it sustains.
  const long long recorded = recorded_deliveries_all(o) - recorded_before;
  std::printf("  deliveries recorded by chatd when the run ended: %lld of %lld (%.0f %%)\n",
              recorded, f.delivered, f.delivered ? 100.0 * recorded / f.delivered : 0.0);
  r["deliveries_recorded"] = recorded;
  // Wait (at most a minute) for the backlog, so that the sustained rate counts all the work
  // and the next run starts clean.
  auto caught_up = recorded;
  for (int i = 0; i < 300 && caught_up < f.delivered; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    caught_up = recorded_deliveries_all(o) - recorded_before;
  }
  const double all_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("  all %lld recorded %.1f s after the start: %.0f deliveries/s sustained\n",
              caught_up, all_secs, caught_up / all_secs);
  r["deliveries_per_second_recorded"] = caught_up / all_secs;
  r["groups"] = groups;
  r["group_size"] = size;
  r["target_rate"] = o.rate;
  std::cout << json::serialize(r) << std::endl;
  f.close_all();
  return 0;
}

constexpr int kStormContacts = 5;

// A dm run, then the same run with N concurrent logins (real bcrypt at the server's cost).
int login_storm(const Options& o) {
  Db db(o.db);
  auto ids = seed_users(db, "dm_u", o.users);
  const int n = static_cast<int>(ids.size());
  // Storm users with a cost-12 hash, so the server does the real work of a login.
  const std::string hash = bcrypt("storm-password", 12);
  db.column("INSERT INTO users (username, email, password_hash) SELECT 'storm' || g,"
            " 'storm' || g || '@bench.local', '" + hash + "' FROM generate_series(1, " +
            std::to_string(o.logins) + ") g ON CONFLICT DO NOTHING");
  Fleet f;
  f.connect(node_ports(o), o.secret, ids);
  const auto contacts = pick_contacts(n, kStormContacts);
  warm_up(f, ids, contacts);
  const auto pick = contact_picker(ids, contacts);
  std::printf("login-storm: dm at %.0f msg/s for %.0f s, without and with %d concurrent logins\n",
              o.rate, o.seconds, o.logins);
  double secs = f.run(o.rate, o.seconds, 1, pick);
  std::printf(" without logins:\n");
  auto quiet = f.report("dm", secs, 1);
  f.reset();

  // The storm: every login at once, from its own thread, while the dm run goes on. The
  // threads start and connect before the run and are released together when it begins, so
  // the load generator's own set-up does not count against chatd.
  std::atomic<int> ok{0};
  std::vector<double> login_ms(static_cast<std::size_t>(o.logins));
  std::vector<std::thread> storm;
  std::latch ready(o.logins + 1), go(1);
  for (int i = 0; i < o.logins; ++i)
    storm.emplace_back([&, i] {
      bool counted = false;
      try {
        asio::io_context io;
        beast::tcp_stream st(io);
        st.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port));
        bhttp::request<bhttp::string_body> req{bhttp::verb::post, "/auth/login", 11};
        req.set(bhttp::field::host, "127.0.0.1");
        req.set(bhttp::field::content_type, "application/json");
        req.body() = R"({"email":"storm)" + std::to_string(i + 1) +
                     R"(@bench.local","password":"storm-password"})";
        req.prepare_payload();
        ready.count_down();
        counted = true;
        go.wait();
        const auto t0 = Clock::now();
        bhttp::write(st, req);
        beast::flat_buffer b;
        bhttp::response<bhttp::string_body> res;
        bhttp::read(st, b, res);
        login_ms[static_cast<std::size_t>(i)] =
            std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (res.result_int() == 200) ++ok;
      } catch (...) {
        if (!counted) ready.count_down();  // a failed connect must not hold the others back
      }
    });
  ready.arrive_and_wait();
  const auto s0 = Clock::now();
  go.count_down();
  secs = f.run(o.rate, o.seconds, 1, pick);
  for (auto& t : storm) t.join();
  const double storm_secs = std::chrono::duration<double>(Clock::now() - s0).count();
  std::printf(" with %d concurrent logins (%d succeeded, all done within %.1f s):\n", o.logins,
              ok.load(), storm_secs);
  auto stormy = f.report("dm", secs, 1);
  const double p99_quiet = quiet.at("delivery").at("p99_ms").as_double();
  const double p99_storm = stormy.at("delivery").at("p99_ms").as_double();
  std::printf("  dm p99 delivery: %.2f ms without, %.2f ms with the storm (x%.2f)\n", p99_quiet,
              p99_storm, p99_quiet > 0 ? p99_storm / p99_quiet : 0.0);
  json::object r{{"scenario", "login-storm"}, {"logins", o.logins}, {"logins_ok", ok.load()},
                 {"rate", o.rate}, {"p99_without_ms", p99_quiet}, {"p99_with_ms", p99_storm}};
  std::cout << json::serialize(r) << std::endl;
  f.close_all();
  return 0;
}

long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

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

// One HTTP exchange on a new connection; the response body is discarded unless `keep`.
std::pair<int, std::string> exchange(std::uint16_t port, bhttp::verb verb, const std::string& target,
                                     const std::string& token, std::string body, bool keep) {
  asio::io_context io;
  beast::tcp_stream st(io);
  st.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::authorization, "Bearer " + token);
  req.body() = std::move(body);
  req.prepare_payload();
  bhttp::write(st, req);
  beast::flat_buffer b;
  bhttp::response_parser<bhttp::string_body> res;
  res.body_limit(1ULL << 30);
  bhttp::read(st, b, res);
  return {res.get().result_int(), keep ? std::move(res.get().body()) : std::string()};
}

// Upload and download throughput of a 10 MiB attachment over loopback, and chatd's resident
// memory while `concurrency` uploads of 10 MiB run at once (it must not grow with their size).
int attachments(const Options& o) {
  if (o.pid <= 0) throw std::invalid_argument("attachments needs --pid of chatd");
  Db db(o.db);
  const int n = std::max(1, o.concurrency);
  auto ids = seed_users(db, "att_u", n);
  std::vector<std::string> tokens;
  for (auto id : ids) tokens.push_back(mint(o.secret, id));
  constexpr std::size_t kSize = 10 * 1024 * 1024;
  auto file = [&](unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(kSize, '\0');
    for (std::size_t i = 0; i + 8 <= s.size(); i += 8) {
      const auto v = rng();
      std::memcpy(&s[i], &v, 8);
    }
    return s;
  };
  const auto data = file(1);
  const int rounds = 5;
  std::string url;
  auto t0 = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    auto [status, body] = exchange(o.port, bhttp::verb::post, "/attachments?filename=bench.bin",
                                   tokens[0], data, true);
    if (status != 201) throw std::runtime_error("upload answered " + std::to_string(status));
    url = std::string(json::parse(body).at("attachment").at("url").as_string());
  }
  const double up = rounds * kSize / 1e6 / std::chrono::duration<double>(Clock::now() - t0).count();
  t0 = Clock::now();
  for (int i = 0; i < rounds; ++i) {
    auto [status, body] = exchange(o.port, bhttp::verb::get, url, tokens[0], {}, true);
    if (status != 200 || body.size() != kSize) throw std::runtime_error("download failed");
  }
  const double down =
      rounds * kSize / 1e6 / std::chrono::duration<double>(Clock::now() - t0).count();

  std::vector<std::string> files;
  for (int i = 0; i < n; ++i) files.push_back(file(100 + static_cast<unsigned>(i)));
  const long rss_before = rss_kib(o.pid);
  std::atomic<bool> done{false};
  long peak = rss_before;
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak, rss_kib(o.pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::atomic<int> ok{0};
  t0 = Clock::now();
  std::vector<std::thread> uploads;
  for (int i = 0; i < n; ++i)
    uploads.emplace_back([&, i] {
      auto [status, body] = exchange(o.port, bhttp::verb::post, "/attachments?filename=c.bin",
                                     tokens[static_cast<std::size_t>(i)], files[static_cast<std::size_t>(i)], false);
      if (status == 201) ++ok;
    });
  for (auto& t : uploads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  done = true;
  sampler.join();
  std::printf("attachments: 10 MiB over loopback: upload %.0f MB/s, download %.0f MB/s\n", up, down);
  std::printf("  %d concurrent 10 MiB uploads (%d stored) in %.2f s: chatd RSS %ld KiB before, "
              "peak %ld KiB (+%ld KiB)\n",
              n, ok.load(), secs, rss_before, peak, peak - rss_before);
  json::object r{{"scenario", "attachments"},      {"upload_mb_s", up},
                 {"download_mb_s", down},          {"concurrent_uploads", n},
                 {"rss_before_kib", rss_before},   {"rss_peak_kib", peak}};
  std::cout << json::serialize(r) << std::endl;
  return ok == n ? 0 : 1;
}

// ---------------------------------------------------------------- export (issue 20)
//
// A user who sent `messages` messages downloads their data export (PROTOCOL §10). The messages
// are written straight into the database; the export is read as it arrives and discarded, so
// only chatd's memory is measured: its RSS sampled every 10 ms from the request to the end.
int export_data(const Options& o) {
  if (o.pid <= 0) throw std::invalid_argument("export needs --pid of chatd");
  Db db(o.db);
  const auto ids = seed_users(db, "exp_u" + std::to_string(std::time(nullptr)) + "_", 2);
  const auto a = std::to_string(std::min(ids[0], ids[1])), b = std::to_string(std::max(ids[0], ids[1]));
  const auto n = std::to_string(o.messages);
  const auto conv = db.column("INSERT INTO conversations (type, user_lo, user_hi, last_seq,"
                              " last_message_at) VALUES ('direct', " + a + ", " + b + ", " + n +
                              ", now()) RETURNING id")[0];
  db.column("INSERT INTO conversation_members (conversation_id, user_id, delivered_seq,"
            " last_read_seq) VALUES (" + conv + ", " + a + ", " + n + ", " + n + "), (" + conv +
            ", " + b + ", " + n + ", " + n + ")");
  const auto t_seed = Clock::now();
  db.column("INSERT INTO messages (conversation_id, seq, sender_id, content, created_at)"
            " SELECT " + conv + ", g, " + a + ", 'message ' || g || ' of the export, with some"
            " words in it', now() - (" + n + " - g) * interval '1 millisecond'"
            " FROM generate_series(1, " + n + ") g");
  db.column("ANALYZE messages");
  std::printf("export: %lld messages from one user written in %.1f s\n", o.messages,
              std::chrono::duration<double>(Clock::now() - t_seed).count());

  asio::io_context ioc;
  tcp::socket sock(ioc);
  sock.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port));
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/users/me/export", 11};
  req.set(bhttp::field::host, "127.0.0.1");
  req.set(bhttp::field::authorization, "Bearer " + mint(o.secret, std::stoll(a)));
  const long rss_before = rss_kib(o.pid);
  std::atomic<bool> done{false};
  std::atomic<long> peak{rss_before};
  std::thread sampler([&] {
    while (!done) {
      peak = std::max(peak.load(), rss_kib(o.pid));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  const auto t0 = Clock::now();
  bhttp::write(sock, req);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  bhttp::read_header(sock, buffer, parser);
  const int status = parser.get().result_int();
  std::vector<char> chunk(1 << 16);
  long long bytes = 0, messages = 0;
  std::string tail;  // the end of the previous piece, so a marker cut in two is still counted
  bool in_messages = false;  // past "messages":[ (the inbox's last_message does not count)
  const std::string marker = "\"conversation_id\":" + conv + ",\"seq\":";
  boost::system::error_code ec;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    bhttp::read(sock, buffer, parser, ec);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) break;
    const auto got = chunk.size() - parser.get().body().size;
    bytes += static_cast<long long>(got);
    std::string piece = tail + std::string(chunk.data(), got);
    std::size_t from = 0;
    if (!in_messages) {
      const auto m = piece.find("\"messages\":[");
      in_messages = m != std::string::npos;
      from = in_messages ? m : piece.size();
    }
    for (std::size_t at = from; (at = piece.find(marker, at)) != std::string::npos;
         at += marker.size())
      ++messages;
    tail = piece.size() > marker.size() ? piece.substr(piece.size() - marker.size() + 1) : piece;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  done = true;
  sampler.join();
  const long rss_after = rss_kib(o.pid);
  std::printf("  HTTP %d, %.1f MB in %.1f s (%.0f MB/s), %lld messages in it%s\n", status,
              static_cast<double>(bytes) / 1e6, secs, static_cast<double>(bytes) / 1e6 / secs,
              messages, ec ? (" — cut: " + ec.message()).c_str() : "");
  std::printf("  chatd RSS %ld KiB before, peak %ld KiB (+%ld KiB), %ld KiB after\n", rss_before,
              peak.load(), peak.load() - rss_before, rss_after);
  json::object r{{"scenario", "export"},          {"messages", messages},
                 {"bytes", bytes},                {"seconds", secs},
                 {"rss_before_kib", rss_before},  {"rss_peak_kib", peak.load()},
                 {"rss_after_kib", rss_after}};
  std::cout << json::serialize(r) << std::endl;
  return status == 200 && !ec && messages == o.messages ? 0 : 1;
}

// ---------------------------------------------------------------- soak (issue 13)
//
// Mixed traffic for a long time, checked as it goes: direct messages to fixed contacts and
// group messages (open loop), connections dropped and reconnected, logins, inbox and history
// reads, and slow readers that stop reading. Every minute one row: latencies, chatd's RSS,
// descriptors and database connections. At the end: every acked message is in the database,
// every recipient received every message of its conversations (live, or replayed after a
// reconnect), and no connection saw a message twice or out of order.

// A soak user's connection: WsConn's write queue, plus what the checks need.
struct SoakConn : WsConn {
  using WsConn::WsConn;
  bool dropped_by_us = false;
  int user = 0;  // index
  std::unordered_map<std::int64_t, std::int64_t> last_seq;  // conversation -> seq, this connection
  std::vector<std::int64_t> unacked;                       // message numbers sent, not acked
};

// What one user has received of one conversation: everything up to `upto`, and some beyond.
struct Received {
  std::int64_t upto = 0;
  std::set<std::int64_t> ahead;
  bool take(std::int64_t seq) {  // false: had it already
    if (seq <= upto || ahead.count(seq)) return false;
    ahead.insert(seq);
    while (!ahead.empty() && *ahead.begin() == upto + 1) {
      ++upto;
      ahead.erase(ahead.begin());
    }
    return true;
  }
};

struct Minute {
  Stats ack, delivery, login, read;
  long long sent = 0, acked = 0, delivered = 0, errors = 0, reconnects = 0, http_errors = 0;
  // The longest time between two turns of the soak's own loop: when it is long, the load
  // generator stalled, and every latency of that minute includes the stall.
  Clock::duration loop_gap{};
};

long count_fds(int pid) {
  long n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

struct Soak {
  const Options& o;
  asio::io_context ioc{1};
  Db db;
  std::vector<std::int64_t> ids, slow_ids;
  std::vector<std::string> tokens;
  std::vector<std::shared_ptr<SoakConn>> conns;  // by user index; replaced on reconnect
  std::vector<std::shared_ptr<SoakConn>> slow;
  Contacts contacts;
  std::vector<std::int64_t> group_of;  // user index -> group id (0: none)
  std::map<std::pair<int, std::int64_t>, Received> received;  // (user, conversation)
  std::string run_id;
  std::vector<Clock::time_point> sent_at;
  std::vector<std::int64_t> acked_ids;
  Minute minute;
  long long sent = 0, acked = 0, delivered = 0, repeats = 0, order_violations = 0, errors = 0,
            reconnects = 0, unacked_on_drop = 0, server_closed = 0, logins_ok = 0,
            recovered_by_history = 0, token_refreshes = 0,
            logins_failed = 0;
  std::map<std::string, long long> error_codes;
  std::map<std::string, long long> failures;  // requests and handshakes that failed, by kind
  std::mt19937 rng{17};

  explicit Soak(const Options& opt) : o(opt), db(opt.db) {}

  std::optional<std::size_t> number(const json::value& cid) const {
    if (!cid.is_string()) return std::nullopt;
    const std::string_view id = cid.get_string();
    if (!id.starts_with(run_id)) return std::nullopt;
    std::size_t n = 0;
    const auto* end = id.data() + id.size();
    const auto [p, ec] = std::from_chars(id.data() + run_id.size(), end, n);
    if (ec != std::errc{} || p != end || n >= sent_at.size()) return std::nullopt;
    return n;
  }

  void on_message(SoakConn& c, const json::object& m, bool own_ack) {
    const auto conv = m.at("conversation_id").as_int64();
    const auto seq = m.at("seq").as_int64();
    if (!own_ack) {
      auto& last = c.last_seq[conv];
      if (seq <= last) ++order_violations;  // twice, or out of order, on one connection
      last = std::max(last, seq);
    }
    if (!received[{c.user, conv}].take(seq) && !own_ack) ++repeats;
  }

  void read_loop(const std::shared_ptr<SoakConn>& c) {
    c->ws.async_read(c->buffer, [this, c](beast::error_code ec, std::size_t) {
      if (ec) {
        const bool was_open = c->open;
        c->open = false;
        if (!c->dropped_by_us && was_open) {
          ++server_closed;
          schedule_reconnect(c->user, std::chrono::milliseconds(1000));
        }
        return;
      }
      const auto now = Clock::now();
      const auto data = c->buffer.data();
      const auto v = json::parse(
          std::string_view(static_cast<const char*>(data.data()), data.size()));
      c->buffer.consume(c->buffer.size());
      const auto& e = v.as_object();
      const auto type = e.at("type").as_string();
      if (type == "ack") {
        if (const auto n = number(e.at("client_id"))) {
          ++acked;
          ++minute.acked;
          minute.ack.add(now - sent_at[*n]);
          std::erase(c->unacked, static_cast<std::int64_t>(*n));
          const auto& m = e.at("message").as_object();
          acked_ids.push_back(m.at("id").as_int64());
          on_message(*c, m, true);
        }
      } else if (type == "message") {
        const auto& m = e.at("message").as_object();
        on_message(*c, m, false);
        if (const auto n = number(m.at("client_id"))) {
          ++delivered;
          ++minute.delivered;
          minute.delivery.add(now - sent_at[*n]);
        }
      } else if (type == "error") {
        ++errors;
        ++minute.errors;
        ++error_codes[std::string(e.at("code").as_string())];
      }
      read_loop(c);
    });
  }

  std::shared_ptr<SoakConn> connect(std::int64_t id, int user) {
    auto c = std::make_shared<SoakConn>(ioc);
    c->user = user;
    beast::get_lowest_layer(c->ws).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port));
    c->ws.handshake("127.0.0.1", "/ws?token=" + mint(o.secret, id));
    c->open = true;
    return c;
  }

  // As a client does after a drop: connect again (without stalling the other connections),
  // then fetch what it may have missed with `after=` per conversation it knows — messages
  // written to the dropped socket were never read, and chatd counts a written message as
  // delivered (PROTOCOL §5's catch-up is the client's part). Like an app, it logs in again
  // when its token is refused, and retries a catch-up page that failed.
  asio::awaitable<void> reconnect_async(int user) {
    auto& slot = conns[static_cast<std::size_t>(user)];
    if (slot && slot->open) co_return;
    auto c = std::make_shared<SoakConn>(ioc);
    c->user = user;
    for (int attempt = 0;; ++attempt) {
      beast::error_code ec;
      websocket::response_type res;
      auto& tcp_layer = beast::get_lowest_layer(c->ws);
      tcp_layer.expires_after(std::chrono::seconds(10));
      co_await tcp_layer.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port),
                                       asio::redirect_error(asio::use_awaitable, ec));
      tcp_layer.expires_never();
      if (!ec)
        co_await c->ws.async_handshake(res, "127.0.0.1",
                                       "/ws?token=" + tokens[static_cast<std::size_t>(user)],
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) break;
      ++failures["WebSocket connect: " +
                 (res.result_int() ? std::to_string(res.result_int()) : ec.message())];
      if (attempt == 0 && res.result() == bhttp::status::unauthorized &&
          co_await login_again(user)) {
        c = std::make_shared<SoakConn>(ioc);
        c->user = user;
        continue;
      }
      schedule_reconnect(user, std::chrono::milliseconds(1000));
      co_return;
    }
    c->open = true;
    slot = c;
    ++reconnects;
    ++minute.reconnects;
    read_loop(c);
    std::vector<std::pair<std::int64_t, std::int64_t>> known;  // conversation, have up to
    for (auto it = received.lower_bound({user, 0}); it != received.end() && it->first.first == user;
         ++it)
      known.emplace_back(it->first.second, it->second.upto);
    constexpr int kPage = 200;
    for (auto [conv, upto] : known) {
      for (int failed = 0; failed < 5;) {
        const auto page = co_await http(bhttp::verb::get,
                                        "/messages?conversation_id=" + std::to_string(conv) +
                                            "&after=" + std::to_string(upto) +
                                            "&limit=" + std::to_string(kPage),
                                        "", tokens[static_cast<std::size_t>(user)], false);
        if (page.status == 404) break;
        if (page.status != 200) {
          ++failed;
          if (page.status == 401 && co_await login_again(user)) continue;
          asio::steady_timer pause(ioc, std::chrono::seconds(1));
          co_await pause.async_wait(asio::use_awaitable);
          continue;
        }
        const auto& messages = page.body.at("messages").as_array();
        for (const auto& m : messages) {
          const auto seq = m.at("seq").as_int64();
          if (received[{user, conv}].take(seq)) ++recovered_by_history;
          upto = std::max(upto, seq);
        }
        if (messages.size() < kPage) break;
      }
    }
  }

  std::string login_body(int user) const {
    return R"({"email":"soak_u)" + std::to_string(user + 1) +
           R"(@bench.local","password":"bench-password"})";
  }

  // A refused token: log in again for a fresh one.
  asio::awaitable<bool> login_again(int user) {
    const auto a = co_await http(bhttp::verb::post, "/auth/login", login_body(user), "", true);
    if (a.status != 200) co_return false;
    tokens[static_cast<std::size_t>(user)] = std::string(a.body.at("token").as_string());
    ++token_refreshes;
    co_return true;
  }

  void reconnect(int user) { asio::co_spawn(ioc, reconnect_async(user), asio::detached); }

  void schedule_reconnect(int user, Clock::duration after) {
    auto t = std::make_shared<asio::steady_timer>(ioc, after);
    t->async_wait([this, user, t](beast::error_code) { reconnect(user); });
  }

  // A network drop: the socket goes away without a close frame.
  void drop(int user) {
    auto& c = conns[static_cast<std::size_t>(user)];
    if (!c || !c->open) return;
    c->dropped_by_us = true;
    c->open = false;
    unacked_on_drop += static_cast<long long>(c->unacked.size());
    beast::error_code ec;
    beast::get_lowest_layer(c->ws).socket().close(ec);
    schedule_reconnect(user, std::chrono::milliseconds(500 + rng() % 2500));
  }

  void send_one() {
    const int n = static_cast<int>(ids.size());
    for (int tries = 0; tries < 10; ++tries) {
      const int from = static_cast<int>(rng() % n);
      auto& c = conns[static_cast<std::size_t>(from)];
      if (!c || !c->open) continue;
      json::object e{{"type", "send_message"}};
      if (group_of[static_cast<std::size_t>(from)] != 0 && rng() % 5 == 0) {
        e["group_id"] = group_of[static_cast<std::size_t>(from)];
      } else {
        const auto& mine = contacts[static_cast<std::size_t>(from)];
        e["to"] = ids[static_cast<std::size_t>(mine[rng() % mine.size()])];
      }
      const auto number = sent;
      const std::string cid = run_id + std::to_string(number);
      e["content"] = "soak " + cid;
      e["client_id"] = cid;
      sent_at.push_back(Clock::now());
      c->unacked.push_back(number);
      c->send(json::serialize(e));
      ++sent;
      ++minute.sent;
      return;
    }
  }

  // The status (0: no answer) and the JSON of a 200; 404 (a conversation not started yet) is
  // an answer, not an error.
  struct Answer {
    int status = 0;
    json::value body;
  };
  asio::awaitable<Answer> http(bhttp::verb verb, std::string target, std::string body,
                               std::string token, bool login) {
    const auto t0 = Clock::now();
    Answer answer;
    try {
      beast::tcp_stream st(co_await asio::this_coro::executor);
      st.expires_after(std::chrono::seconds(10));
      co_await st.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port),
                                asio::use_awaitable);
      bhttp::request<bhttp::string_body> req{verb, target, 11};
      req.set(bhttp::field::host, "127.0.0.1");
      if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
      if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
      req.body() = std::move(body);
      req.prepare_payload();
      co_await bhttp::async_write(st, req, asio::use_awaitable);
      beast::flat_buffer b;
      bhttp::response<bhttp::string_body> res;
      co_await bhttp::async_read(st, b, res, asio::use_awaitable);
      (login ? minute.login : minute.read).add(Clock::now() - t0);
      if (res.result_int() != 200 && res.result_int() != 404) {
        ++minute.http_errors;
        ++failures[std::to_string(res.result_int()) + " " + target.substr(0, target.find('?'))];
      }
      if (login) ++(res.result_int() == 200 ? logins_ok : logins_failed);
      answer.status = static_cast<int>(res.result_int());
      if (res.result_int() == 200) answer.body = json::parse(res.body());
    } catch (const std::exception& e) {
      ++minute.http_errors;
      ++failures[target.substr(0, target.find('?')) + ": " + e.what()];
      if (login) ++logins_failed;
    }
    co_return answer;
  }

  // A read as `user` whose answer is not checked; a refused token is renewed for the next one.
  asio::awaitable<void> read_as(int user, std::string target) {
    const auto a = co_await http(bhttp::verb::get, std::move(target), "",
                                 tokens[static_cast<std::size_t>(user)], false);
    if (a.status == 401) co_await login_again(user);
  }

  void some_reads() {
    const int u = static_cast<int>(rng() % ids.size());
    asio::co_spawn(ioc, read_as(u, "/conversations?limit=20"), asio::detached);
    const auto peer = ids[static_cast<std::size_t>(contacts[static_cast<std::size_t>(u)][0])];
    asio::co_spawn(ioc, read_as(u, "/messages?peer_id=" + std::to_string(peer) + "&limit=50"),
                   asio::detached);
  }

  asio::awaitable<void> login_as(int user) {
    co_await http(bhttp::verb::post, "/auth/login", login_body(user), "", true);
  }

  void one_login() {
    asio::co_spawn(ioc, login_as(static_cast<int>(rng() % ids.size())), asio::detached);
  }

  // Readers that stop reading: a connection in a busy group that never reads again.
  void new_slow_readers() {
    for (auto& c : slow) {
      beast::error_code ec;
      beast::get_lowest_layer(c->ws).socket().close(ec);
    }
    slow.clear();
    for (std::size_t i = 0; i < slow_ids.size(); ++i) {
      try {
        slow.push_back(connect(slow_ids[i], -1));
      } catch (const std::exception&) {
      }
    }
  }

  std::int64_t chatd_metric(const std::string& name) {
    try {
      asio::io_context io;
      beast::tcp_stream st(io);
      st.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), o.port));
      bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/metrics", 11};
      req.set(bhttp::field::host, "127.0.0.1");
      bhttp::write(st, req);
      beast::flat_buffer b;
      bhttp::response<bhttp::string_body> res;
      bhttp::read(st, b, res);
      const std::string key = "\n" + name + " ";
      const auto at = res.body().find(key);
      if (at == std::string::npos) return -1;
      return std::stoll(res.body().substr(at + key.size(), 24));
    } catch (const std::exception&) {
      return -1;
    }
  }

  int run() {
    const int users = o.users, gsize = o.group_size;
    ids = seed_users(db, "soak_u", users);
    slow_ids = seed_users(db, "soak_slow", 4);
    // Tokens outlive the run unless asked otherwise (a first run's expired at minute 60: users
    // could not reconnect, and their last messages counted as missing).
    const long ttl = static_cast<long>(o.token_seconds > 0 ? o.token_seconds
                                                           : o.minutes * 60 + 3600);
    for (auto id : ids) tokens.push_back(mint(o.secret, id, ttl));
    contacts = pick_contacts(users, 3);
    // Groups of the first users; the slow readers are members of the first groups.
    group_of.assign(ids.size(), 0);
    for (int g = 0; g < o.groups && (g + 1) * gsize <= users; ++g) {
      const auto first = ids.begin() + static_cast<std::ptrdiff_t>(g) * gsize;
      std::string members = csv(first, first + gsize);
      if (g < static_cast<int>(slow_ids.size()))
        members += "," + std::to_string(slow_ids[static_cast<std::size_t>(g)]);
      const std::string name = "'soak " + std::to_string(users) + " " + std::to_string(gsize) +
                               " " + std::to_string(g) + "'";
      auto found = db.column("SELECT id FROM groups WHERE name = " + name);
      if (found.empty())
        found = db.column(
            "WITH g AS (INSERT INTO groups (name, owner_id) VALUES (" + name + ", " +
            std::to_string(*first) + ") RETURNING id),"
            " gm AS (INSERT INTO group_members (group_id, user_id) SELECT g.id, u FROM g,"
            " unnest(ARRAY[" + members + "]::bigint[]) u),"
            " c AS (INSERT INTO conversations (type, group_id) SELECT 'group', id FROM g"
            " RETURNING id),"
            " cm AS (INSERT INTO conversation_members (conversation_id, user_id) SELECT c.id, u"
            " FROM c, unnest(ARRAY[" + members + "]::bigint[]) u)"
            " SELECT id FROM g");
      for (int i = 0; i < gsize; ++i)
        group_of[static_cast<std::size_t>(g * gsize + i)] = std::stoll(found[0]);
    }
    // What each user had already: only messages of this run are counted.
    std::unordered_map<std::int64_t, int> index;
    for (std::size_t i = 0; i < ids.size(); ++i) index[ids[i]] = static_cast<int>(i);
    const std::string all = csv(ids.begin(), ids.end());
    auto rows = db.column("SELECT cm.user_id || ',' || cm.conversation_id || ',' || c.last_seq"
                          " FROM conversation_members cm JOIN conversations c"
                          " ON c.id = cm.conversation_id WHERE cm.user_id = ANY(ARRAY[" + all +
                          "]::bigint[])");
    for (const auto& r : rows) {
      std::stringstream ss(r);
      std::string a, b, c;
      std::getline(ss, a, ',');
      std::getline(ss, b, ',');
      std::getline(ss, c, ',');
      received[{index[std::stoll(a)], std::stoll(b)}].upto = std::stoll(c);
    }
    run_id = "soak" + std::to_string(std::random_device{}() % 1000000) + "-";

    conns.resize(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      conns[i] = connect(ids[i], static_cast<int>(i));
      read_loop(conns[i]);
    }
    new_slow_readers();
    ioc.run_for(std::chrono::milliseconds(1000));
    const long long slow_dropped_before = chatd_metric("chatd_ws_slow_consumers_dropped_total");
    std::printf("soak: %d users (%d groups of %d, 3 contacts each), %.0f msg/s (1 in 5 to a group"
                " when the sender has one), %d drops/s, %.0f minutes\n",
                users, o.groups, gsize, o.rate, o.churn, o.minutes);
    std::printf("  min     sent   acked  deliv   ack p50   ack p99  deliv p99  login p99  read p99"
                "  rss MiB  fds  db  reconn  errs  gap ms\n");

    json::array per_minute;
    const auto start = Clock::now();
    const auto interval = std::chrono::duration<double>(1.0 / o.rate);
    long long scheduled = 0;
    auto next_second = start + std::chrono::seconds(1);
    auto next_minute = start + std::chrono::minutes(1);
    auto next_slow = start + std::chrono::minutes(5);
    auto next_read = start;
    auto next_login = start;
    const auto end = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(o.minutes * 60));
    int m = 0;
    auto print_minute = [&] {
        ++m;
      const long rss = o.pid ? rss_kib(o.pid) / 1024 : -1;
      const long fds = o.pid ? count_fds(o.pid) : -1;
      const auto dbc = db.column("SELECT count(*) FROM pg_stat_activity WHERE datname ="
                                 " current_database() AND pid <> pg_backend_pid()");
      const double gap_ms = std::chrono::duration<double, std::milli>(minute.loop_gap).count();
      std::printf("  %3d %8lld %7lld %6lld %9.2f %9.2f %10.2f %10.2f %9.2f %8ld %4ld %3s %7lld"
                  " %5lld %7.1f\n",
                  m, minute.sent, minute.acked, minute.delivered, minute.ack.pct(50),
                  minute.ack.pct(99), minute.delivery.pct(99), minute.login.pct(99),
                  minute.read.pct(99), rss, fds, dbc[0].c_str(), minute.reconnects,
                  minute.errors + minute.http_errors, gap_ms);
      std::fflush(stdout);
      per_minute.push_back(json::object{
          {"minute", m}, {"sent", minute.sent}, {"acked", minute.acked},
          {"delivered", minute.delivered}, {"ack_p99_ms", minute.ack.pct(99)},
          {"delivery_p99_ms", minute.delivery.pct(99)}, {"login_p99_ms", minute.login.pct(99)},
          {"read_p99_ms", minute.read.pct(99)}, {"rss_mib", rss}, {"fds", fds},
          {"db_connections", std::stol(dbc[0])}, {"reconnects", minute.reconnects},
          {"errors", minute.errors + minute.http_errors}, {"client_gap_ms", gap_ms}});
      minute = Minute{};
    };
    auto last_turn = start;
    while (Clock::now() < end) {
      const auto now = Clock::now();
      minute.loop_gap = std::max(minute.loop_gap, now - last_turn);
      last_turn = now;
      while (start + std::chrono::duration_cast<Clock::duration>(interval * scheduled) <= now) {
        send_one();
        ++scheduled;
      }
      if (now >= next_second) {
        for (int i = 0; i < o.churn; ++i) drop(static_cast<int>(rng() % ids.size()));
        next_second += std::chrono::seconds(1);
      }
      if (now >= next_read) {
        some_reads();
        next_read += std::chrono::milliseconds(100);
      }
      if (now >= next_login) {
        one_login();
        next_login += std::chrono::milliseconds(500);
      }
      if (now >= next_slow) {
        new_slow_readers();
        next_slow += std::chrono::minutes(5);
      }
      if (now >= next_minute) {
        print_minute();
        next_minute += std::chrono::minutes(1);
      }
      ioc.run_for(std::chrono::microseconds(500));
    }

    if (minute.sent > 0) print_minute();
    // Settle: everyone back online, the replays and the last deliveries in.
    std::printf("  traffic stopped; reconnecting everyone and waiting for the last deliveries\n");
    for (int i = 0; i < static_cast<int>(ids.size()); ++i) reconnect(i);
    // Every conversation of every user, against what the user has: messages from others
    // arrive live or replayed; a user's own messages count when acked, or — acks lost to a
    // drop — when the database says the user sent them.
    std::vector<std::string> examples;  // of what is missing, for the report
    auto count_missing = [&] {
      long long gaps = 0;
      examples.clear();
      for (const auto& r : db.column(
               "SELECT cm.user_id || ',' || cm.conversation_id || ',' || c.last_seq"
               " FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id"
               " WHERE cm.user_id = ANY(ARRAY[" + all + "]::bigint[])")) {
        std::stringstream ss(r);
        std::string a, b, c;
        std::getline(ss, a, ',');
        std::getline(ss, b, ',');
        std::getline(ss, c, ',');
        const auto user = std::stoll(a), conv = std::stoll(b), last = std::stoll(c);
        auto& got = received[{index[user], conv}];
        auto gap = last - got.upto - static_cast<long long>(got.ahead.size());
        if (gap > 0) {
          for (const auto& own : db.column(
                   "SELECT seq FROM messages WHERE conversation_id = " + b + " AND sender_id = " +
                   a + " AND seq > " + std::to_string(got.upto)))
            got.take(std::stoll(own));
          gap = last - got.upto - static_cast<long long>(got.ahead.size());
        }
        gaps += std::max<long long>(gap, 0);
        if (gap > 0 && examples.size() < 5)
          examples.push_back("user " + a + " conversation " + b + ": has up to " +
                             std::to_string(got.upto) + " (+" +
                             std::to_string(got.ahead.size()) + " beyond), last " + c);
      }
      return gaps;
    };
    long long missing = 0;
    for (int i = 0; i < 120; ++i) {
      ioc.run_for(std::chrono::milliseconds(500));
      missing = count_missing();
      if (missing == 0) break;
    }
    for (auto& c : slow) {
      beast::error_code ec;
      beast::get_lowest_layer(c->ws).socket().close(ec);
    }
    // Every acked message is stored.
    std::sort(acked_ids.begin(), acked_ids.end());
    acked_ids.erase(std::unique(acked_ids.begin(), acked_ids.end()), acked_ids.end());
    long long stored = 0;
    for (const auto& s : db.column("SELECT count(*) FROM messages WHERE client_id LIKE '" +
                                   run_id + "%'"))
      stored = std::stoll(s);
    std::vector<std::int64_t> in_db;
    for (const auto& s : db.column("SELECT id FROM messages WHERE client_id LIKE '" + run_id +
                                   "%' ORDER BY id"))
      in_db.push_back(std::stoll(s));
    const bool none_lost = std::includes(in_db.begin(), in_db.end(), acked_ids.begin(),
                                         acked_ids.end());
    const long long slow_dropped =
        chatd_metric("chatd_ws_slow_consumers_dropped_total") - slow_dropped_before;
    for (auto& c : conns) {
      beast::error_code ec;
      beast::get_lowest_layer(c->ws).socket().close(ec);
    }
    std::printf("  sent %lld  acked %lld  stored %lld  every acked message stored: %s\n", sent,
                acked, stored, none_lost ? "yes" : "NO");
    std::printf("  deliveries %lld  missing %lld  twice or out of order on one connection %lld"
                "  repeated after a reconnect %lld  caught up by history %lld\n",
                delivered, missing, order_violations, repeats, recovered_by_history);
    std::printf("  reconnects %lld (closed by chatd %lld)  unacked at a drop %lld  slow readers"
                " dropped by chatd %lld  logins ok %lld (%lld after a refused token) failed %lld"
                "  errors %lld\n",
                reconnects, server_closed, unacked_on_drop, slow_dropped, logins_ok,
                token_refreshes, logins_failed, errors);
    for (const auto& [code, count] : error_codes)
      std::printf("  error %s: %lld\n", code.c_str(), count);
    for (const auto& [kind, count] : failures)
      std::printf("  failed: %s: %lld\n", kind.c_str(), count);
    for (const auto& e : examples) std::printf("  missing: %s\n", e.c_str());
    json::object r{{"scenario", "soak"},          {"minutes", o.minutes},
                   {"rate", o.rate},              {"users", users},
                   {"sent", sent},                {"acked", acked},
                   {"stored", stored},            {"none_lost", none_lost},
                   {"missing", missing},          {"order_violations", order_violations},
                   {"repeats_after_reconnect", repeats}, {"reconnects", reconnects},
                   {"caught_up_by_history", recovered_by_history},
                   {"slow_readers_dropped", slow_dropped}, {"logins_ok", logins_ok},
                   {"logins_failed", logins_failed}, {"token_refreshes", token_refreshes},
                   {"request_failures", [&] {
                      long long n = 0;
                      for (const auto& f : failures) n += f.second;
                      return n;
                    }()},
                   {"errors", errors},
                   {"per_minute", per_minute}};
    std::cout << json::serialize(r) << std::endl;
    return none_lost && missing == 0 && order_violations == 0 ? 0 : 1;
  }
};

int soak(const Options& o) {
  Soak s(o);
  return s.run();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto o = parse(argc, argv);
    if (o.scenario == "seed-inbox") return seed_inbox(o);
    if (o.scenario == "inbox") return inbox(o);
    if (o.scenario == "dm") return dm(o);
    if (o.scenario == "group") return group(o);
    if (o.scenario == "login-storm") return login_storm(o);
    if (o.scenario == "connections") return connections(o);
    if (o.scenario == "attachments") return attachments(o);
    if (o.scenario == "soak") return soak(o);
    if (o.scenario == "export") return export_data(o);
    if (o.scenario == "search") return search(o);
    std::fprintf(stderr, "unknown scenario %s (seed-inbox, inbox, search, dm, group, login-storm,"
                 " connections, attachments, soak, export)\n", o.scenario.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatd-bench: %s\n", e.what());
    return 1;
  }
}
