// The hot queries are served by indexes (STYLE.md §9): EXPLAIN proves it on a seeded database.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <sstream>

#include "storage/pg/account_repository.hpp"
#include "storage/pg/attempt_repository.hpp"
#include "storage/pg/inbox_repository.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/search_repository.hpp"
#include "storage/pg/user_repository.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;

namespace {

class QueryPlans : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    db_ = new test::TestDatabase("plans");
    boost::asio::io_context ioc;
    Pool pool{ioc.get_executor(), PoolOptions{db_->conninfo(), 1, std::chrono::milliseconds(5000)}};
    auto r = test::migrate_now(ioc, pool);
    ASSERT_TRUE(r);
    // 3,000 users in a chain of 2,999 direct conversations with 40 messages each (~120k).
    db_->scalar(
        "INSERT INTO users (username, email, password_hash) SELECT 'user' || g, 'u' || g || "
        "'@x.io',"
        " '$2b$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBna'"
        " FROM generate_series(1, 3000) g");
    db_->scalar(
        "INSERT INTO conversations (type, user_lo, user_hi, last_seq, last_message_at)"
        " SELECT 'direct', g, g + 1, 40, now() - g * interval '1 second'"
        " FROM generate_series(1, 2999) g");
    db_->scalar(
        "INSERT INTO conversation_members (conversation_id, user_id)"
        " SELECT id, user_lo FROM conversations UNION ALL SELECT id, user_hi FROM conversations");
    db_->scalar(
        "INSERT INTO messages (conversation_id, seq, sender_id, content)"
        " SELECT c.id, s, CASE WHEN s % 2 = 0 THEN c.user_lo ELSE c.user_hi END, 'hello ' || s"
        " FROM conversations c, generate_series(1, 40) s");
    db_->scalar("ANALYZE");
  }
  static void TearDownTestSuite() { delete db_; }

  // The plan of a named statement for the given arguments, as text.
  // `session`: settings before planning (chatd's own connections', storage/pg/connection.cpp).
  static std::string plan(const Statement& st, const std::string& types, const std::string& args,
                          const std::string& session = "") {
    const std::string name = "p_" + std::string(st.name);
    db_->scalar("DEALLOCATE ALL");
    // The generic plan is the one a long-lived server connection ends up using.
    return db_->lines(session + "SET plan_cache_mode = force_generic_plan; PREPARE " + name +
                      types + " AS " + std::string(st.sql) + "; EXPLAIN EXECUTE " + name + "(" +
                      args + ")");
  }

  static inline test::TestDatabase* db_ = nullptr;
};

void expect_no_seq_scan(const std::string& p) {
  for (const char* table : {"messages", "conversations", "conversation_members", "users"})
    EXPECT_EQ(p.find(std::string("Seq Scan on ") + table), std::string::npos) << p;
}

// Every read of conversation_members in the plan is a probe of one member row: an index
// condition on both the conversation and the user (either of the two indexes serves).
void expect_member_row_probes(const std::string& p, int at_least) {
  std::istringstream lines(p);
  std::string line, previous;
  int probes = 0;
  while (std::getline(lines, line)) {
    if (previous.find("Scan") != std::string::npos &&
        previous.find(" on conversation_members") != std::string::npos) {
      const bool both = line.find("Index Cond") != std::string::npos &&
                        line.find("user_id = ") != std::string::npos &&
                        line.find("conversation_id = ") != std::string::npos;
      EXPECT_TRUE(both) << "not a probe of one row:\n" << p;
      probes += both;
    }
    previous = line;
  }
  EXPECT_GE(probes, at_least) << p;
}

}  // namespace

TEST_F(QueryPlans, InboxUsesIndexes) {
  const auto p = plan(kInboxStatement, "(bigint, timestamptz, int, bigint, bigint, bool)",
                      "1500, NULL, 50, NULL, NULL, false");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("conversation_members_user_idx"), std::string::npos) << p;
  EXPECT_NE(p.find("messages_conversation_seq_key"), std::string::npos) << p;
  // A later page, by the exact cursor: the same indexes.
  const auto next = plan(kInboxStatement, "(bigint, timestamptz, int, bigint, bigint, bool)",
                         "1500, NULL, 50, 1772359200123456, 42, false");
  expect_no_seq_scan(next);
  EXPECT_NE(next.find("conversation_members_user_idx"), std::string::npos) << next;
}

TEST_F(QueryPlans, SearchMatchesTheCallersConversationsInsideTheIndex) {
  // Every one of the 120k messages holds "hello": a plan that found the word's matches first
  // and checked membership after (or walked the newest messages of everyone) would read them
  // all. The caller's conversations must be in the index condition itself (conversation-
  // qualified terms, migrations/0017), so only matches inside them are ever fetched.
  for (const char* words : {"'{hello}'", "'{hello,1}'", "'{hel}'"}) {
    const auto p = plan(kSearchStatement, "(bigint, bigint, text[], bigint, int)",
                        std::string("1500, NULL, ") + words + ", NULL, 21",
                        "SET enable_seqscan = off; SET enable_hashjoin = off;"
                        " SET enable_mergejoin = off; SET jit = off;"
                        " SET max_parallel_workers_per_gather = 0; ");
    expect_no_seq_scan(p);
    EXPECT_EQ(p.find("Backward using messages_pkey"), std::string::npos) << p;
    std::istringstream lines(p);
    std::string line, previous;
    bool inside = false;
    while (std::getline(lines, line)) {
      if (previous.find("Bitmap Index Scan on messages_search_idx") != std::string::npos)
        // The terms expression appears inlined (migrations/0020): the index's own, with the
        // callers' queries beside it.
        inside = line.find("Index Cond") != std::string::npos &&
                 line.find("(conversation_id)::text") != std::string::npos &&
                 line.find("@@ ANY (chatd_search_queries(") != std::string::npos;
      previous = line;
    }
    EXPECT_TRUE(inside) << "membership and words are not one index condition:\n" << p;
  }
  // And the terms are the conversation's: the same words in another conversation are not found.
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages m WHERE chatd_search_terms(m.conversation_id,"
                        " m.content) @@ ANY (chatd_search_queries(ARRAY[1]::bigint[], '{hello,40}'))"
                        " AND m.deleted_at IS NULL"),
            "1");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages m WHERE chatd_search_terms(m.conversation_id,"
                        " m.content) @@ ANY (chatd_search_queries(ARRAY[1, 2]::bigint[], '{hello,4}'))"
                        " AND m.deleted_at IS NULL"),
            "4") << "hello 4 and hello 40 of each, the last word a prefix";
}

// migrations/0020 rewrote chatd_search_terms so that it inlines; the index built by the old
// definition stays valid only if the two agree on every text. Both, on texts mixed from the
// pieces that could tell them apart (spaces of several kinds, quotes, backslashes, colons,
// e-mails, URLs, paths, numbers, non-ASCII letters, emoji, texts that make no word at all).
TEST_F(QueryPlans, TheInlinedSearchTermsEqualTheFormerDefinitionOnEveryText) {
  EXPECT_EQ(db_->scalar(
                "WITH pieces(p) AS (VALUES (' '), ('  '), (E'\\t'), (E'\\n'), (E'\\u00a0'),"
                " (E'\\u2003'), ('a'), ('Zeta'), ('-'), ('_'), ('.'), ('/'), (':'), ('@'), ('1'),"
                " ('42'), ('3.14'), ('1e5'), ('-5'), ('v1.2.3'), ('0x1F'), ('é'), ('ß'), ('İ'),"
                " ('中文'), ('😀'), ('http://x.org/a b'), ('foo@bar.com'), ('/usr/local/bin'),"
                " ('a-b-c'), (''''), ('\"'), ('\\'), ('&'), ('|'), ('!'), ('<b>'), ('a:b'),"
                " ('::'), (E'\\x01'), ('O''Neil')),"
                " texts AS (SELECT g, (SELECT string_agg(p, '' ORDER BY random()) FROM"
                "   (SELECT p FROM pieces WHERE g > 0 ORDER BY random() LIMIT 1 + g % 12) x) AS t"
                "   FROM generate_series(1, 20000) g)"
                " SELECT count(*) FILTER (WHERE chatd_search_terms(g, t) IS DISTINCT FROM"
                "   array_to_tsvector(ARRAY(SELECT g::text || ':' || l.lexeme"
                "     FROM unnest(to_tsvector('simple'::regconfig, t)) l)))"
                "   || ' of ' || count(*) || ', wordless: '"
                "   || (count(*) FILTER (WHERE chatd_search_terms(g, t) = ''::tsvector) > 0)"
                " FROM texts"),
            "0 of 20000, wordless: true");
  EXPECT_EQ(db_->scalar("SELECT chatd_search_terms(7, 'It''s O''Neil''s \\back-slash: 2 x@y.io')"),
            "'7:2' '7:back' '7:back-slash' '7:it' '7:neil' '7:o' '7:s' '7:slash' '7:x@y.io'");
  EXPECT_EQ(db_->scalar("SELECT chatd_search_terms(7, '...') = ''::tsvector"), "t");
}

// Neither SQL function of the send path runs through PostgreSQL's SQL-function executor per
// row (migrations/0020): both appear inlined in a plan.
TEST_F(QueryPlans, TheSendPathsFunctionsAreInlined) {
  const auto p = db_->lines(
      "EXPLAIN VERBOSE SELECT chatd_ts(m.created_at), chatd_search_terms(m.conversation_id,"
      " m.content) FROM messages m WHERE m.id = 1");
  EXPECT_EQ(p.find("chatd_ts("), std::string::npos) << p;
  EXPECT_EQ(p.find("chatd_search_terms("), std::string::npos) << p;
  EXPECT_NE(p.find("to_char("), std::string::npos) << p;
  EXPECT_NE(p.find("to_tsvector("), std::string::npos) << p;
}

TEST_F(QueryPlans, ThePinnedConversationsAreFoundThroughTheirIndex) {
  const auto p = plan(kPinnedStatement, "(bigint, bool, int)", "1500, false, 50");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("conversation_members_pinned_idx"), std::string::npos) << p;
}

TEST_F(QueryPlans, BatchAppendProbesIndexesPerMessage) {
  // Many stored client ids: a plan that scans the idempotency index instead of probing it
  // would read all of them for every batch.
  db_->scalar("UPDATE messages SET client_id = 'c' || id");
  db_->scalar("ANALYZE messages");
  const auto p = plan(kAppendBatchStatement, "(bigint[], bigint[], bigint[], text[], text[], bigint[], text[], text[], bigint[])",
                      "'{1,2}', '{2,NULL}', '{NULL,5}', '{a,b}', '{x,NULL}', '{NULL,3}', "
                      "'{\"4,5\",NULL}', '{\"2\",NULL}', '{NULL,7}'");
  expect_no_seq_scan(p);
  std::istringstream lines(p);
  std::string line, previous;
  bool probed = false;
  while (std::getline(lines, line)) {
    if (previous.find("messages_sender_client_key") != std::string::npos) {
      EXPECT_NE(line.find("Index Cond"), std::string::npos) << "a full index scan:\n" << p;
      probed = true;
    }
    previous = line;
  }
  EXPECT_TRUE(probed) << p;
  EXPECT_NE(p.find("conversations_direct_pair_key"), std::string::npos) << p;
  db_->scalar("UPDATE messages SET client_id = NULL");
}

// Rows every node of the statement's generic plan produced, summed over its loops: the work it
// did, counted rather than timed.
std::int64_t rows_touched(const boost::json::value& node) {
  const auto& o = node.as_object();
  std::int64_t n = 0;
  if (const auto* rows = o.if_contains("Actual Rows"))
    n += boost::json::value_to<std::int64_t>(*rows) *
         boost::json::value_to<std::int64_t>(o.at("Actual Loops"));
  if (const auto* plans = o.if_contains("Plans"))
    for (const auto& child : plans->as_array()) n += rows_touched(child);
  return n;
}

TEST_F(QueryPlans, BatchAppendWorkGrowsLinearlyWithTheBatch) {
  // Its joins used to be nested loops over two CTEs (generic plans expect 10 rows from each
  // unnest), so 4x the messages did 16x the work: 64 took 3.9 ms, 256 took 21.6 ms.
  auto work = [](int n, int first_pair) {
    std::string senders = "{", peers = "{", groups = "{", contents = "{", cids = "{";
    for (int i = 0; i < n; ++i) {
      const auto sep = i ? "," : "";
      const int lo = first_pair + i % 97;  // conversations of pairs (lo, lo + 1), several messages each
      senders += sep + std::to_string(lo);
      peers += sep + std::to_string(lo + 1);
      groups += sep + std::string("NULL");
      contents += sep + std::string("hello");
      cids += sep + ("lin" + std::to_string(first_pair) + "-" + std::to_string(i));
    }
    for (auto* a : {&senders, &peers, &groups, &contents, &cids}) *a += "}";
    db_->scalar("DEALLOCATE ALL");
    const auto json = db_->lines(
        "SET plan_cache_mode = force_generic_plan; PREPARE lin(bigint[], bigint[], bigint[], "
        "text[], text[], bigint[], text[], text[], bigint[]) AS " +
        std::string(kAppendBatchStatement.sql) +
        "; EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE lin('" + senders + "','" + peers + "','" +
        groups + "','" + contents + "','" + cids + "','" + groups + "','" + groups + "','" +
        groups + "','" + groups + "')");
    return rows_touched(boost::json::parse(json).as_array().at(0).as_object().at("Plan"));
  };
  const auto small = work(64, 100), large = work(256, 1000);
  ASSERT_GT(small, 0);
  EXPECT_LT(static_cast<double>(large) / static_cast<double>(small), 6.0)
      << "64 messages touched " << small << " rows, 256 touched " << large;
}

TEST_F(QueryPlans, TheExportAndTheErasureWalkTheSendersIndex) {
  // A user's messages by id: the export pages and the erasure batches of PROTOCOL §10 read the
  // sender's index, never every message.
  const auto p = plan(kSentMessagesStatement, "(bigint, bigint, int)", "1500, 0, 500");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("messages_sender_idx"), std::string::npos) << p;
}

TEST_F(QueryPlans, TheThrottleCheckReadsTheKeysIndex) {
  db_->scalar("INSERT INTO auth_attempts (key, at) SELECT 'login-email:u' || (g % 5000) ||"
              " '@x.io', now() - (g % 600) * interval '1 second' FROM generate_series(1, 100000) g");
  db_->scalar("ANALYZE auth_attempts");
  const auto p = plan(kAttemptCheckStatement, "(text[], int[], int[])",
                      "'{login-email:u7@x.io,login-address:1.2.3.4}', '{5,50}', '{300,300}'");
  EXPECT_EQ(p.find("Seq Scan on auth_attempts"), std::string::npos) << p;
  EXPECT_NE(p.find("auth_attempts_key_idx"), std::string::npos) << p;
  db_->scalar("TRUNCATE auth_attempts");
}

TEST_F(QueryPlans, HistoryUsesTheConversationSeqIndex) {
  for (const auto* st : {&kHistoryBeforeStatement, &kHistoryAfterStatement}) {
    const auto p = plan(*st, "(bigint, bigint, int)", "1500, 30, 51");
    expect_no_seq_scan(p);
    EXPECT_NE(p.find("messages_conversation_seq_key"), std::string::npos) << p;
  }
}

TEST_F(QueryPlans, MarkDeliveredProbesThePrimaryKeyPerPosition) {
  const auto p = plan(kMarkDeliveredStatement, "(bigint[], bigint[], bigint[])",
                      "'{1,2}', '{1,2}', '{3,4}'");
  expect_no_seq_scan(p);
  expect_member_row_probes(p, 2);
}

// A direct conversation keeps its own-message counts on its row (migrations/0021): reading one
// does not probe sent_since_read, where it has no row.
TEST_F(QueryPlans, MarkReadOfADirectConversationLeavesSentSinceReadAlone) {
  const auto p = db_->lines(
      "BEGIN; UPDATE conversations SET lo_sent = 20, hi_sent = 20 WHERE id = 1;"  // the seed's
      " PREPARE mr(bigint, bigint, bigint) AS " + std::string(kMarkReadStatement.sql) +
      "; EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE mr(1, 1, 40)");
  std::istringstream lines(p);
  std::string line;
  bool seen = false, walked = false;
  while (std::getline(lines, line)) {
    if (line.find("Scan") != std::string::npos &&
        line.find(" on sent_since_read") != std::string::npos) {
      seen = true;
      EXPECT_NE(line.find("never executed"), std::string::npos) << p;
    }
    // It did read: the move walked the conversation's 40 messages (index or bitmap scan).
    walked = walked || line.find(" on messages m (actual rows=40 loops=1)") != std::string::npos;
  }
  EXPECT_TRUE(seen) << p;
  EXPECT_TRUE(walked) << p;
  EXPECT_NE(p.find("Update on conversation_members"), std::string::npos) << p;
}

TEST_F(QueryPlans, TheOfflineReplayWalksTheUsersConversationsAndProbesEach) {
  const auto p = plan(kUndeliveredStatement, "(bigint, bigint, bigint, int)", "1500, 0, 0, 200");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("conversation_members_user_idx"), std::string::npos) << p;
  EXPECT_NE(p.find("messages_conversation_seq_key"), std::string::npos) << p;
}

TEST_F(QueryPlans, AReceiptOfOneMessageAndUserProbesTwoRows) {
  const auto p = db_->lines(
      "EXPLAIN SELECT status FROM message_receipts WHERE message_id = 1000 AND user_id = 26");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("messages_pkey"), std::string::npos) << p;
  expect_member_row_probes(p, 1);
}

TEST_F(QueryPlans, ContactsProbeEachConversationOfTheUsers) {
  // Run on every connect and disconnect. Written as a join, the generic plan chose a hash join
  // over all of conversation_members once statistics said users have many conversations
  // (seen on the benchmark database: 271 buffers per call instead of 26), so a reconnect storm
  // would cost memberships × connections. The members of each conversation must be a
  // correlated subplan: a probe per conversation whatever the statistics say.
  const auto p = plan(kContactsStatement, "(bigint[])", "'{1500,1600}'");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("conversation_members_user_idx"), std::string::npos) << p;
  EXPECT_NE(p.find("SubPlan"), std::string::npos) << p;
  EXPECT_NE(p.find("conversation_members_pkey"), std::string::npos) << p;
  EXPECT_NE(p.find("Index Cond: (conversation_id = a.conversation_id)"), std::string::npos) << p;
}

TEST(QueryPlansOnANewDatabase, APlanMadeWhileTablesAreSmallStillProbesAsTheyGrow) {
  // A new server: tables analyzed while nearly empty, and the plans its connections cache then
  // are kept as the tables grow. A hash join over all of conversation_members, or a hashed
  // subplan over it, looks cheapest at that size; on a chatd connection neither may appear.
  test::TestDatabase db("plans_small");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(5000)}};
  ASSERT_TRUE(test::migrate_now(ioc, pool));
  db.scalar("INSERT INTO users (username, email, password_hash) SELECT 'user' || g, 'u' || g ||"
            " '@x.io', '" + test::kSampleHash + "' FROM generate_series(1, 20) g");
  db.scalar("INSERT INTO conversations (type, user_lo, user_hi) SELECT 'direct', g, g + 1"
            " FROM generate_series(1, 19) g");
  db.scalar("INSERT INTO conversation_members (conversation_id, user_id)"
            " SELECT id, user_lo FROM conversations UNION ALL SELECT id, user_hi FROM conversations");
  db.scalar("ANALYZE");
  auto explain = [&](const Statement& st, const std::string& types, const std::string& args) {
    const std::string name = "small_" + std::string(st.name);
    auto rs = test::run_sync(
        ioc, [&]() -> boost::asio::awaitable<PgResult<std::vector<ResultSet>>> {
          auto lease = co_await pool.acquire();
          if (!lease) co_return lease.error();
          co_return co_await (*lease)->exec_script(
              "SET plan_cache_mode = force_generic_plan; PREPARE " + name + types + " AS " +
              std::string(st.sql) + "; EXPLAIN EXECUTE " + name + "(" + args + ")");
        }());
    EXPECT_TRUE(rs);
    std::string plan;
    if (rs)
      for (int r = 0; r < rs->back().rows(); ++r) plan += rs->back().str(r, 0) + "\n";
    return plan;
  };
  for (const auto& p :
       {explain(kMarkDeliveredStatement, "(bigint[], bigint[], bigint[])", "'{1}', '{1}', '{3}'"),
        explain(kAppendBatchStatement, "(bigint[], bigint[], bigint[], text[], text[], bigint[], text[], text[], bigint[])",
                "'{1,2}', '{2,NULL}', '{NULL,5}', '{a,b}', '{x,NULL}', '{NULL,3}', "
                "'{\"4,5\",NULL}', '{\"2\",NULL}', '{NULL,7}'")}) {
    EXPECT_EQ(p.find("Seq Scan on conversation_members"), std::string::npos) << p;
    EXPECT_EQ(p.find("Seq Scan on users"), std::string::npos) << p;
    EXPECT_EQ(p.find("Hash Join"), std::string::npos) << p;
  }
}
