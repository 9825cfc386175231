// chatd-bench seed-inbox and inbox: a grown database, and the HTTP latency of the inbox and history.
#include "driver.hpp"

namespace chatd_bench {

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
  // What the send batch keeps beside the messages (migrations 0011, 0012, 0021): who wrote last,
  // the last seq from the other side, and each member's own messages above their read
  // position (nothing is read: half of the messages each, the odd seqs user_hi's).
  const auto per = std::to_string(o.messages_per);
  db.column("UPDATE conversations SET other_last_seq = last_seq - 1,"
            " last_sender_id = CASE WHEN last_seq % 2 = 0 THEN user_lo ELSE user_hi END,"
            " lo_sent = " + per + " / 2, hi_sent = (" + per + " + 1) / 2"
            " WHERE type = 'direct' AND last_seq > 0");
  db.column("ANALYZE");
  std::printf("seed-inbox: %d users, %s conversations, %s messages in %.1f s\n", n,
              db.column("SELECT count(*) FROM conversations")[0].c_str(),
              db.column("SELECT count(*) FROM messages")[0].c_str(),
              std::chrono::duration<double>(Clock::now() - t0).count());
  return 0;
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

}  // namespace chatd_bench
