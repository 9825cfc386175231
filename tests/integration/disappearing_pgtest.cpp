// Disappearing messages on a real PostgreSQL (PROTOCOL §9): who may set a conversation's timer,
// and the sweeper — bounded batches, one node at a time (its transaction lock held elsewhere
// makes a sweep erase nothing), erased like a delete.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "storage/pg/disappearing_repository.hpp"
#include "storage/pg/group_repository.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/user_repository.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"

using namespace chatd;
using namespace chatd::pg;
using chatd::test::run_sync;

namespace {

class DisappearingTest : public test::MigratedDatabase {
 protected:
  DisappearingTest() : MigratedDatabase("expiry", 3) {}
  void SetUp() override {
    MigratedDatabase::SetUp();
    for (auto name : {"ann", "ben", "cat"}) {
      auto u = run_sync(ioc, users.create({name, std::string(name) + "@x.io", test::kSampleHash}));
      ASSERT_TRUE(u);
      ids.push_back(u->id);
    }
  }
  // `n` messages from ann to ben, in batches; the conversation's id.
  ConversationId send(int n) {
    ConversationId c = 0;
    for (int done = 0; done < n;) {
      std::vector<NewMessage> batch;
      for (int i = 0; i < 250 && done < n; ++i, ++done)
        batch.push_back(NewMessage{ids[0], ids[1], std::nullopt, "gone " + std::to_string(done),
                                   std::nullopt});
      auto out = run_sync(ioc, messages.append(std::move(batch)));
      EXPECT_TRUE(out);
      if (out) c = out->front().message.conversation_id;
    }
    return c;
  }
  SweepOutcome sweep(int limit) {
    auto r = run_sync(ioc, timers.sweep(limit));
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : SweepOutcome{};
  }

  PgUserRepository users{pool};
  PgMessageRepository messages{pool};
  PgGroupRepository groups{pool};
  PgDisappearingRepository timers{pool};
  std::vector<UserId> ids;
};

TEST_F(DisappearingTest, EitherPeerOrAGroupsAdminsSetTheTimerAndNobodyElse) {
  const auto c = send(1);
  auto set = run_sync(ioc, timers.set_timer(ids[1], c, 60));
  ASSERT_TRUE(set);
  EXPECT_EQ(set->kind, TimerOutcome::Kind::set);
  EXPECT_EQ(set->members.size(), 2u);
  EXPECT_EQ(db.scalar("SELECT disappearing_seconds FROM conversations WHERE id = " +
                      std::to_string(c)),
            "60");
  EXPECT_EQ(run_sync(ioc, timers.set_timer(ids[2], c, 5))->kind, TimerOutcome::Kind::not_found);
  EXPECT_EQ(run_sync(ioc, timers.set_timer(ids[0], 999999, 5))->kind,
            TimerOutcome::Kind::not_found);
  auto g = run_sync(ioc, groups.create("g", ids[0], {ids[0], ids[1]}));
  ASSERT_TRUE(g);
  const auto gc = db.scalar("SELECT id FROM conversations WHERE group_id = " + std::to_string(g->id));
  EXPECT_EQ(run_sync(ioc, timers.set_timer(ids[1], std::stoll(gc), 5))->kind,
            TimerOutcome::Kind::not_allowed);
  EXPECT_EQ(run_sync(ioc, timers.set_timer(ids[0], std::stoll(gc), 5))->kind,
            TimerOutcome::Kind::set);
  // A message stored while the timer is set expires that long after it was sent.
  const auto later = send(1);
  EXPECT_EQ(later, c);
  EXPECT_EQ(db.scalar("SELECT extract(epoch FROM expires_at - created_at)::int FROM messages"
                      " WHERE conversation_id = " + std::to_string(c) + " ORDER BY seq DESC LIMIT 1"),
            "60");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE conversation_id = " +
                      std::to_string(c) + " AND expires_at IS NULL"),
            "1")
      << "the one before the timer keeps no expiry";
}

TEST_F(DisappearingTest, TheSweeperErasesInBoundedBatchesOneNodeAtATime) {
  const auto c = send(1200);
  db.scalar("UPDATE messages SET expires_at = now() - interval '1 second' WHERE conversation_id = " +
            std::to_string(c));
  db.scalar("INSERT INTO message_reactions (message_id, user_id, emoji)"
            " SELECT id, " + std::to_string(ids[1]) + ", '👍' FROM messages LIMIT 10");

  // Another node holds the sweeping lock: this one erases nothing.
  PGconn* other = PQconnectdb(db.conninfo().c_str());
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  PQclear(PQexec(other, "BEGIN"));
  PQclear(PQexec(other, "SELECT pg_advisory_xact_lock(7233120863150854231)"));
  auto held = sweep(500);
  EXPECT_FALSE(held.swept);
  EXPECT_EQ(held.erased, 0u);
  PQclear(PQexec(other, "COMMIT"));
  PQfinish(other);

  EXPECT_EQ(sweep(500).erased, 500u);
  EXPECT_EQ(sweep(500).erased, 500u);
  auto last = sweep(500);
  EXPECT_TRUE(last.swept);
  EXPECT_EQ(last.erased, 200u);
  EXPECT_EQ(sweep(500).erased, 0u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE content <> '' OR deleted_at IS NULL"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_reactions"), "0");
  EXPECT_EQ(db.scalar("SELECT max(seq) FROM messages"), "1200") << "rows and seqs stay";
}

TEST_F(DisappearingTest, MessagesNotYetDueAreLeft) {
  const auto c = send(3);
  db.scalar("UPDATE messages SET expires_at = now() + interval '1 hour' WHERE conversation_id = " +
            std::to_string(c));
  EXPECT_EQ(sweep(500).erased, 0u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE content <> ''"), "3");
}

}  // namespace
