// chatd-bench dm: open-loop direct messages over WebSocket.
#include "driver.hpp"

namespace chatd_bench {

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

}  // namespace chatd_bench
