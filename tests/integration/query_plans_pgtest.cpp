// The hot queries are served by indexes (STYLE.md §9): EXPLAIN proves it on a seeded database.
#include <gtest/gtest.h>

#include <sstream>

#include "storage/pg/inbox_repository.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/migrations.hpp"
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
  static std::string plan(const Statement& st, const std::string& types, const std::string& args) {
    const std::string name = "p_" + std::string(st.name);
    db_->scalar("DEALLOCATE ALL");
    // The generic plan is the one a long-lived server connection ends up using.
    return db_->lines("SET plan_cache_mode = force_generic_plan; PREPARE " + name + types + " AS " +
                      std::string(st.sql) + "; EXPLAIN EXECUTE " + name + "(" + args + ")");
  }

  static inline test::TestDatabase* db_ = nullptr;
};

void expect_no_seq_scan(const std::string& p) {
  for (const char* table : {"messages", "conversations", "conversation_members", "users"})
    EXPECT_EQ(p.find(std::string("Seq Scan on ") + table), std::string::npos) << p;
}

}  // namespace

TEST_F(QueryPlans, InboxUsesIndexes) {
  const auto p = plan(kInboxStatement, "(bigint, timestamptz, int)", "1500, NULL, 50");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("conversation_members_user_idx"), std::string::npos) << p;
  EXPECT_NE(p.find("messages_conversation_seq_key"), std::string::npos) << p;
}

TEST_F(QueryPlans, BatchAppendProbesIndexesPerMessage) {
  // Many stored client ids: a plan that scans the idempotency index instead of probing it
  // would read all of them for every batch.
  db_->scalar("UPDATE messages SET client_id = 'c' || id");
  db_->scalar("ANALYZE messages");
  const auto p = plan(kAppendBatchStatement, "(bigint[], bigint[], text[], text[])",
                      "'{1,2}', '{1,2}', '{a,b}', '{x,NULL}'");
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
  db_->scalar("UPDATE messages SET client_id = NULL");
}

TEST_F(QueryPlans, HistoryUsesTheConversationSeqIndex) {
  for (const auto* st : {&kHistoryBeforeStatement, &kHistoryAfterStatement}) {
    const auto p = plan(*st, "(bigint, bigint, int)", "1500, 30, 51");
    expect_no_seq_scan(p);
    EXPECT_NE(p.find("messages_conversation_seq_key"), std::string::npos) << p;
  }
}

TEST_F(QueryPlans, MarkDeliveredProbesThePrimaryKeyWhateverTheStatistics) {
  // The undelivered index's statistics are taken when it is almost empty (its rows live for
  // milliseconds); then a backlog builds up. A plan that trusts the statistics walks the whole
  // index for every batch.
  db_->scalar(
      "INSERT INTO message_receipts (message_id, user_id, status)"
      " SELECT m.id, CASE WHEN m.sender_id = c.user_lo THEN c.user_hi ELSE c.user_lo END,"
      " 'delivered' FROM messages m JOIN conversations c ON c.id = m.conversation_id");
  db_->scalar("ANALYZE message_receipts");
  db_->scalar("UPDATE message_receipts SET status = 'sent' WHERE message_id % 3 = 0");
  const auto p = plan(kMarkDeliveredStatement, "(bigint[], bigint[])", "'{1,2}', '{1,2}'");
  expect_no_seq_scan(p);
  EXPECT_EQ(p.find("message_receipts_undelivered_idx"), std::string::npos) << p;
  EXPECT_NE(p.find("message_receipts_pkey"), std::string::npos) << p;
  db_->scalar("DELETE FROM message_receipts");
}

TEST_F(QueryPlans, ContactsProbeEachConversationOfTheUser) {
  // Run on every connect and disconnect. Written as a join, the generic plan chose a hash join
  // over all of conversation_members once statistics said users have many conversations
  // (seen on the benchmark database: 271 buffers per call instead of 26), so a reconnect storm
  // would cost memberships × connections. The members of each conversation must be a
  // correlated subplan: a probe per conversation whatever the statistics say.
  const auto p = plan(kContactsStatement, "(bigint)", "1500");
  expect_no_seq_scan(p);
  EXPECT_NE(p.find("conversation_members_user_idx"), std::string::npos) << p;
  EXPECT_NE(p.find("SubPlan"), std::string::npos) << p;
  EXPECT_NE(p.find("conversation_members_pkey"), std::string::npos) << p;
  EXPECT_NE(p.find("Index Cond: (conversation_id = a.conversation_id)"), std::string::npos) << p;
}
