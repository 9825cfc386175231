// chatd-bench soak: mixed traffic for a long time, checked as it goes.
#include "driver.hpp"

namespace chatd_bench {

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
    return client_number(cid, run_id, sent_at.size());
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
      return chatd_bench::chatd_metric(o.port, name);
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
      const auto group_id = seed_group(db, name, *first, members);
      for (int i = 0; i < gsize; ++i)
        group_of[static_cast<std::size_t>(g * gsize + i)] = group_id;
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

}  // namespace chatd_bench
