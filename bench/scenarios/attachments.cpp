// chatd-bench attachments: large uploads and downloads, and chatd's memory meanwhile.
#include "driver.hpp"

namespace chatd_bench {

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

}  // namespace chatd_bench
