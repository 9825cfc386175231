// chatd-bench export (PROTOCOL §10): a data export of many messages, streamed.
#include "driver.hpp"

namespace chatd_bench {

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

}  // namespace chatd_bench
