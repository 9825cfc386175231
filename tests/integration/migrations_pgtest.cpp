#include "storage/pg/migrations.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "storage/pg/pool.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

awaitable<PgResult<MigrationReport>> migrate_once(Pool& pool, const std::vector<Migration>& all) {
  return test::migrate_with(pool, all);
}

// A database at the schema as it was before `version`, for tests that write old data into it
// and then migrate it to the current schema.
struct OldSchema {
  OldSchema(const std::string& prefix, int version) : db(prefix) {
    std::vector<Migration> before;
    for (const auto& m : embedded_migrations())
      if (m.version < version) before.push_back(m);
    auto r = run_sync(ioc, migrate_once(pool, before));
    EXPECT_TRUE(r) << r.error().message;
  }
  // Users with these names (a PostgreSQL array literal), ids 1, 2, ... in order.
  void users(const std::string& names) {
    db.scalar("INSERT INTO users (username, email, password_hash) SELECT n, n || '@x.io', '" +
              test::kSampleHash + "' FROM unnest('" + names + "'::text[]) n");
  }
  PgResult<MigrationReport> migrate_to_current() {
    return run_sync(ioc, migrate_once(pool, embedded_migrations()));
  }
  test::TestDatabase db;
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 2, std::chrono::milliseconds(3000)}};
};

}  // namespace

TEST(Migrations, ApplyTheWholeSchemaAndAreIdempotent) {
  test::TestDatabase db("mig");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 2, std::chrono::milliseconds(3000)}};
  const auto& all = embedded_migrations();
  ASSERT_FALSE(all.empty());

  auto first = run_sync(ioc, migrate_once(pool, all));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->applied, static_cast<int>(all.size()));
  EXPECT_EQ(first->current_version, all.back().version);
  for (const char* table :
       {"users", "conversations", "messages", "message_receipts", "groups", "group_members"})
    EXPECT_EQ(db.scalar(std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t")
        << table;
  // Member rows take an update per delivered or read message: their pages keep room for HOT
  // updates (migrations/0018).
  EXPECT_EQ(db.scalar("SELECT array_to_string(reloptions, ',') FROM pg_class"
                      " WHERE relname = 'conversation_members'"),
            "fillfactor=50");
  // The search index takes each message's terms as it is stored (no pending list, 0017).
  EXPECT_EQ(db.scalar("SELECT array_to_string(reloptions, ',') FROM pg_class"
                      " WHERE relname = 'messages_search_idx'"),
            "fastupdate=off");

  auto second = run_sync(ioc, migrate_once(pool, all));
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->applied, 0);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_migrations"), std::to_string(all.size()));
}

TEST(Migrations, TwoNodesStartingTogetherApplyEachMigrationOnce) {
  test::TestDatabase db("migrace");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 4, std::chrono::milliseconds(5000)}};
  std::vector<PgResult<MigrationReport>> reports;
  std::mutex reports_mutex;  // the four finish on either of the two threads
  run_sync(
      ioc,
      [&]() -> awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (int i = 0; i < 4; ++i)
          boost::asio::co_spawn(
              ex,
              [&]() -> awaitable<void> {
                auto report = co_await migrate_once(pool, embedded_migrations());
                std::lock_guard lock(reports_mutex);
                reports.push_back(std::move(report));
              },
              boost::asio::detached);
        co_return;
      }(),
      2);
  ASSERT_EQ(reports.size(), 4u);
  int applied = 0;
  for (const auto& r : reports) {
    ASSERT_TRUE(r) << r.error().message;
    applied += r->applied;
  }
  EXPECT_EQ(applied, static_cast<int>(embedded_migrations().size()));
}

TEST(Migrations, AFailingMigrationLeavesNothingBehind) {
  test::TestDatabase db("migfail");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(3000)}};
  std::vector<Migration> all = {
      {1, "0001_ok", "CREATE TABLE a (x int);"},
      {2, "0002_broken", "CREATE TABLE b (x int); SELECT no_such_function();"},
  };
  auto r = run_sync(ioc, migrate_once(pool, all));
  ASSERT_FALSE(r);
  EXPECT_EQ(db.scalar("SELECT to_regclass('a') IS NULL AND to_regclass('b') IS NULL"), "t");
  EXPECT_EQ(db.scalar("SELECT to_regclass('schema_migrations') IS NULL"), "t");
}

TEST(Migrations, DatabaseConstraintsKeepDataHonest) {
  test::TestDatabase db("migcons");
  boost::asio::io_context ioc;
  Pool pool{ioc.get_executor(), PoolOptions{db.conninfo(), 1, std::chrono::milliseconds(3000)}};
  ASSERT_TRUE(run_sync(ioc, migrate_once(pool, embedded_migrations())));
  const std::string hash = "'$2b$04$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBna'";
  db.scalar("INSERT INTO users (username, email, password_hash) VALUES ('Alice', 'a@x.io', " +
            hash + ")");
  db.scalar("INSERT INTO users (username, email, password_hash) VALUES ('bob', 'b@x.io', " + hash +
            ")");
  // Case-insensitive username, lower-case email, $2b$ hash only.
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO users (username, email, password_hash) VALUES ('ALICE', 'c@x.io', " + hash + ")"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO users (username, email, password_hash) VALUES ('carol', 'C@x.io', " + hash + ")"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO users (username, email, password_hash) VALUES ('carol', 'c@x.io', 'plain')"));
  // One direct conversation per pair, in order; unique seq per conversation.
  db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES ('direct', 1, 2)");
  EXPECT_ANY_THROW(
      db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES ('direct', 1, 2)"));
  EXPECT_ANY_THROW(
      db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES ('direct', 2, 1)"));
  db.scalar("INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 1, 1, 'hi')");
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 1, 2, 'hi')"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 0, 1, 'x')"));
  EXPECT_ANY_THROW(db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content) VALUES (1, 2, 1, '')"));
  // The tables every message or first message writes have no foreign keys to users or
  // conversations (migrations 0003, 0005): the append statement checks membership and that
  // both users of a new pair exist (message_repository_pgtest NonMembersAndUnknownGroups...,
  // TheFirstMessageCreatesTheConversationOncePerPair). Group conversations keep theirs.
  EXPECT_EQ(db.scalar("SELECT string_agg(conname, ',') FROM pg_constraint WHERE contype = 'f'"
                      " AND conrelid IN ('messages'::regclass, 'conversations'::regclass,"
                      " 'conversation_members'::regclass)"),
            "conversations_group_id_fkey");
  EXPECT_EQ(db.scalar("SELECT chatd_ts('2026-11-24 14:22:56.123456+00')"),
            "2026-11-24T14:22:56.123Z");
}

TEST(Migrations, ReceiptRowsBecomePositionsThatLoseNoUndeliveredMessage) {
  OldSchema old("migpos", 4);
  // ann, ben and cat in a group of 4 messages; cat joined after message 2. ben got 1 and 3 but
  // not 2 (a socket dropped), and read 1; cat got nothing yet. dan joined after the last one.
  old.users("{ann,ben,cat,dan}");
  old.db.scalar("INSERT INTO groups (name, owner_id) VALUES ('g', 1)");
  old.db.scalar("INSERT INTO conversations (type, group_id, last_seq) VALUES ('group', 1, 4)");
  old.db.scalar(
      "INSERT INTO conversation_members (conversation_id, user_id, last_read_seq)"
      " VALUES (1, 1, 0), (1, 2, 1), (1, 3, 0), (1, 4, 0)");
  old.db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content)"
      " SELECT 1, s, 1, 'm' || s FROM generate_series(1, 4) s");
  old.db.scalar(
      "INSERT INTO message_receipts (message_id, user_id, status, delivered_at, read_at) VALUES"
      " (1, 2, 'read', now(), now()), (2, 2, 'sent', NULL, NULL),"
      " (3, 2, 'delivered', now(), NULL), (4, 2, 'sent', NULL, NULL),"
      " (3, 3, 'sent', NULL, NULL), (4, 3, 'sent', NULL, NULL)");
  auto up = old.migrate_to_current();
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(
      old.db.scalar("SELECT string_agg(user_id || ':' || joined_seq || '/' || delivered_seq ||"
                    " '/' || last_read_seq, ' ' ORDER BY user_id) FROM conversation_members"
                    " WHERE user_id > 1"),
      "2:0/1/1 3:2/2/0 4:4/4/0")
      << "ben's position stops before message 2, which he never got";
  EXPECT_EQ(old.db.scalar("SELECT string_agg(message_id || ':' || user_id || ':' || status, ' '"
                          " ORDER BY message_id, user_id) FROM message_receipts"),
            "1:2:read 2:2:sent 3:2:sent 3:3:sent 4:2:sent 4:3:sent");
}

TEST(Migrations, SentSinceReadStartsFromTheMessagesAboveEachReadPosition) {
  OldSchema old("migsent", 11);
  // ann and ben: 1 ann, 2 ben, 3 ann, 4 ann, 5 ben; ann has read up to 2, ben nothing.
  old.users("{ann,ben}");
  old.db.scalar(
      "INSERT INTO conversations (type, user_lo, user_hi, last_seq)"
      " VALUES ('direct', 1, 2, 5)");
  old.db.scalar(
      "INSERT INTO conversation_members (conversation_id, user_id, last_read_seq)"
      " VALUES (1, 1, 2), (1, 2, 0)");
  old.db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content)"
      " SELECT 1, s, CASE WHEN s IN (2, 5) THEN 2 ELSE 1 END, 'm' || s"
      " FROM generate_series(1, 5) s");
  // And a group of the two: 1 ben, 2 ann, 3 ann; nobody has read anything.
  old.db.scalar("INSERT INTO groups (name, owner_id) VALUES ('g', 1)");
  old.db.scalar("INSERT INTO conversations (type, group_id, last_seq) VALUES ('group', 1, 3)");
  old.db.scalar(
      "INSERT INTO conversation_members (conversation_id, user_id) VALUES (2, 1), (2, 2)");
  old.db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content)"
      " SELECT 2, s, CASE WHEN s = 1 THEN 2 ELSE 1 END, 'g' || s FROM generate_series(1, 3) s");
  auto up = old.migrate_to_current();
  ASSERT_TRUE(up) << up.error().message;
  // A direct conversation's counts end on its row (migrations/0021), a group's stay apart.
  EXPECT_EQ(old.db.scalar("SELECT lo_sent || ' ' || hi_sent FROM conversations WHERE id = 1"),
            "2 2")
      << "ann's own above 2 are 3 and 4; ben's above 0 are 2 and 5";
  EXPECT_EQ(old.db.scalar("SELECT lo_sent || ' ' || hi_sent FROM conversations WHERE id = 2"),
            "0 0");
  EXPECT_EQ(old.db.scalar("SELECT string_agg(conversation_id || ':' || user_id || ':' || sent,"
                          " ' ' ORDER BY conversation_id, user_id) FROM sent_since_read"),
            "2:1:2 2:2:1");
}

TEST(Migrations, ConversationsLearnTheirLastSenderAndTheLastSeqFromAnyoneElse) {
  OldSchema old("migothers", 12);
  // ann and ben: 1 ann, 2 ben, 3 ann, 4 ann; ann and cat: no messages yet.
  old.users("{ann,ben,cat}");
  old.db.scalar(
      "INSERT INTO conversations (type, user_lo, user_hi, last_seq)"
      " VALUES ('direct', 1, 2, 4), ('direct', 1, 3, 0)");
  old.db.scalar(
      "INSERT INTO messages (conversation_id, seq, sender_id, content)"
      " SELECT 1, s, CASE WHEN s = 2 THEN 2 ELSE 1 END, 'm' || s"
      " FROM generate_series(1, 4) s");
  auto up = old.migrate_to_current();
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_EQ(
      old.db.scalar("SELECT string_agg(id || ':' || coalesce(last_sender_id::text, '-') || '/' ||"
                    " other_last_seq, ' ' ORDER BY id) FROM conversations"),
      "1:1/2 2:-/0");
}
