// chatd-bench group: G groups of S members, all online; a random member writes to its group.
#include "driver.hpp"

namespace chatd_bench {

// chatd's count of deliveries it has recorded (receipts marked delivered), from GET /metrics.
long long recorded_deliveries(std::uint16_t port) {
  return chatd_metric(port, "chatd_messages_delivered_total");
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
    group_ids.push_back(seed_group(db, name, *first, members));
  }
  Fleet f;
  f.connect(node_ports(o), o.secret, ids);
  std::printf("group: %d groups of %d members online (connected in %.1f s, %lld frames of"
              " ready and presence in %.1f s more), target %.0f msg/s = %.0f deliveries/s for"
              " %.0f s\n",
              groups, size, f.connect_secs, f.settle_frames, f.settle_secs, o.rate,
              o.rate * (size - 1), o.seconds);
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

}  // namespace chatd_bench
