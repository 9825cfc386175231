// chatd-bench login-storm: a dm run, then the same with concurrent logins.
#include "driver.hpp"

namespace chatd_bench {

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

}  // namespace chatd_bench
