// chatd-bench search (PROTOCOL §9): GET /search on a database of many messages.
#include "driver.hpp"

namespace chatd_bench {

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

}  // namespace chatd_bench
