#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <map>

#include "storage/pg/group_repository.hpp"
#include "storage/pg/message_repository.hpp"
#include "storage/pg/migrations.hpp"
#include "storage/pg/user_repository.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

class MessageRepositoryTest : public test::MigratedDatabase {
 protected:
  MessageRepositoryTest() : MigratedDatabase("msgs", 6) {}
  void SetUp() override {
    MigratedDatabase::SetUp();
    for (auto name : {"ann", "ben", "cat"}) {
      auto u = run_sync(ioc, users.create({name, std::string(name) + "@x.io", test::kSampleHash}));
      ASSERT_TRUE(u);
      ids.push_back(u->id);
    }
  }
  NewMessage msg(ConversationId c, UserId from, std::string text,
                 std::optional<std::string> cid = std::nullopt) {
    return NewMessage{c, from, std::move(text), std::move(cid)};
  }
  PgUserRepository users{pool};
  PgMessageRepository repo{pool};
  PgGroupRepository groups{pool};
  std::vector<UserId> ids;
};

}  // namespace

TEST_F(MessageRepositoryTest, DirectConversationIsOnePerPairAndNeedsBothUsers) {
  auto c1 = run_sync(ioc, repo.direct_conversation(ids[0], ids[1]));
  auto c2 = run_sync(ioc, repo.direct_conversation(ids[1], ids[0]));
  ASSERT_TRUE(c1 && c2);
  EXPECT_EQ(*c1, *c2);
  auto missing = run_sync(ioc, repo.direct_conversation(ids[0], 987654));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, errc::not_found);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversations"), "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversation_members"), "2");
}

TEST_F(MessageRepositoryTest, ABatchAssignsGaplessSeqReceiptsAndLastMessageAt) {
  const auto c = *run_sync(ioc, repo.direct_conversation(ids[0], ids[1]));
  std::vector<NewMessage> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back(msg(c, ids[i % 2], std::string("m") + std::to_string(i)));
  auto out = run_sync(ioc, repo.append(std::move(batch)));
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ((*out)[i].kind, AppendOutcome::Kind::stored);
    EXPECT_EQ((*out)[i].message.seq, i + 1);
    EXPECT_EQ((*out)[i].recipients, std::vector<UserId>{ids[(i + 1) % 2]});
    EXPECT_EQ(*(*out)[i].message.to, ids[(i + 1) % 2]);
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE status = 'sent'"), "5");
  EXPECT_EQ(db.scalar("SELECT chatd_ts(last_message_at) FROM conversations"),
            out->back().message.created_at);
}

TEST_F(MessageRepositoryTest, ConcurrentBatchesOnOneConversationStayGapless) {
  const auto c = *run_sync(ioc, repo.direct_conversation(ids[0], ids[1]));
  run_sync(
      ioc,
      [&]() -> awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (int w = 0; w < 6; ++w)
          boost::asio::co_spawn(
              ex,
              [&, w]() -> awaitable<void> {
                for (int b = 0; b < 10; ++b) {
                  std::vector<NewMessage> batch;
                  for (int i = 0; i < 10; ++i)
                    batch.push_back(msg(c, ids[0], std::to_string(w) + "/" + std::to_string(b)));
                  auto r = co_await repo.append(std::move(batch));
                  EXPECT_TRUE(r);
                }
              },
              boost::asio::detached);
        co_return;
      }(),
      2);
  EXPECT_EQ(db.scalar("SELECT count(*) = 600 AND count(DISTINCT seq) = 600 AND max(seq) = 600 FROM "
                      "messages"),
            "t");
}

TEST_F(MessageRepositoryTest, ARepeatedClientIdReturnsTheOriginalWithinAndAcrossBatches) {
  const auto c = *run_sync(ioc, repo.direct_conversation(ids[0], ids[1]));
  std::vector<NewMessage> batch{msg(c, ids[0], "first", "k1"), msg(c, ids[0], "again", "k1")};
  auto out = run_sync(ioc, repo.append(std::move(batch)));
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].kind, AppendOutcome::Kind::stored);
  EXPECT_EQ((*out)[1].kind, AppendOutcome::Kind::duplicate);
  EXPECT_EQ((*out)[1].message.id, (*out)[0].message.id);
  EXPECT_EQ((*out)[1].message.content, "first");
  std::vector<NewMessage> later{msg(c, ids[0], "third", "k1")};
  auto again = run_sync(ioc, repo.append(std::move(later)));
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0].kind, AppendOutcome::Kind::duplicate);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "1");
  EXPECT_EQ(db.scalar("SELECT last_seq FROM conversations"), "1") << "no seq was spent";
}

TEST_F(MessageRepositoryTest, NonMembersStoreNothing) {
  const auto c = *run_sync(ioc, repo.direct_conversation(ids[0], ids[1]));
  std::vector<NewMessage> batch{msg(c, ids[2], "intruder"), msg(c, ids[0], "member")};
  auto out = run_sync(ioc, repo.append(std::move(batch)));
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].kind, AppendOutcome::Kind::not_member);
  EXPECT_EQ((*out)[1].kind, AppendOutcome::Kind::stored);
  EXPECT_EQ((*out)[1].message.seq, 1);
  // Neither table has foreign keys (migration 0003): membership is what keeps out a sender or
  // a conversation that does not exist.
  std::vector<NewMessage> ghosts{msg(987654, ids[0], "no such conversation"),
                                 msg(c, 987654, "no such sender")};
  out = run_sync(ioc, repo.append(std::move(ghosts)));
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].kind, AppendOutcome::Kind::not_member);
  EXPECT_EQ((*out)[1].kind, AppendOutcome::Kind::not_member);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts"), "1");
}

TEST_F(MessageRepositoryTest, EveryReceiptNamesAStoredMessageAndAnotherMember) {
  auto g = run_sync(ioc, groups.create("trio", ids[0], {ids[0], ids[1], ids[2]}));
  ASSERT_TRUE(g);
  const auto d = *run_sync(ioc, repo.direct_conversation(ids[1], ids[2]));
  std::vector<NewMessage> batch;
  for (int i = 0; i < 6; ++i)
    batch.push_back(i % 2 ? msg(d, ids[1 + i % 3 / 2], "dm")
                          : msg(g->conversation_id, ids[i / 2], "g"));
  ASSERT_TRUE(run_sync(ioc, repo.append(std::move(batch))));
  // 3 group messages × 2 other members + 3 direct messages × 1.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts"), "9");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts r"
                      " LEFT JOIN messages m ON m.id = r.message_id"
                      " LEFT JOIN conversation_members cm"
                      "   ON cm.conversation_id = m.conversation_id AND cm.user_id = r.user_id"
                      " WHERE m.id IS NULL OR cm.user_id IS NULL OR r.user_id = m.sender_id"),
            "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages m"
                      " LEFT JOIN conversation_members cm"
                      "   ON cm.conversation_id = m.conversation_id AND cm.user_id = m.sender_id"
                      " WHERE cm.user_id IS NULL"),
            "0");
}

TEST_F(MessageRepositoryTest, DeliveredAndReadReceipts) {
  auto g = run_sync(ioc, groups.create("trio", ids[0], {ids[0], ids[1], ids[2]}));
  ASSERT_TRUE(g) << g.error().message;
  const auto c = g->conversation_id;
  std::vector<NewMessage> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(msg(c, ids[0], std::string("g") + std::to_string(i)));
  auto out = run_sync(ioc, repo.append(std::move(batch)));
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)[0].recipients.size(), 2u);

  auto pending = run_sync(ioc, repo.undelivered(ids[1], 0, 10));
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 3u);
  EXPECT_EQ((*pending)[2].seq, 3);
  EXPECT_EQ(*(*pending)[0].group_id, g->id);

  std::vector<Delivery> d;
  for (const auto& m : *pending) d.push_back({m.id, ids[1], m.conversation_id, m.seq, m.sender_id});
  auto changes = run_sync(ioc, repo.mark_delivered(d));
  ASSERT_TRUE(changes);
  ASSERT_EQ(changes->size(), 1u) << "one receipt per sender, conversation and recipient";
  EXPECT_EQ((*changes)[0].receipt.up_to_seq, 3);
  EXPECT_EQ((*changes)[0].sender_id, ids[0]);
  EXPECT_TRUE(run_sync(ioc, repo.mark_delivered(d))->empty()) << "only state changes count";
  EXPECT_TRUE(run_sync(ioc, repo.undelivered(ids[1], 0, 10))->empty());

  auto read = run_sync(ioc, repo.mark_read(ids[2], c, 2));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].receipt.status, ReceiptStatus::read);
  EXPECT_EQ((*read)[0].receipt.up_to_seq, 2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE status = 'read'"), "2");
  EXPECT_EQ(db.scalar("SELECT last_read_seq FROM conversation_members WHERE user_id = " +
                      std::to_string(ids[2])),
            "2");
  auto outsider = run_sync(ioc, repo.mark_read(987654, c, 2));
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().code, errc::not_found);
}

TEST_F(MessageRepositoryTest, OneDeliveryBatchGivesEachRecipientItsOwnReceipt) {
  auto g = run_sync(ioc, groups.create("trio", ids[0], {ids[0], ids[1], ids[2]}));
  ASSERT_TRUE(g);
  std::vector<NewMessage> batch{msg(g->conversation_id, ids[0], "a"),
                                msg(g->conversation_id, ids[0], "b"),
                                msg(g->conversation_id, ids[1], "c")};
  auto out = run_sync(ioc, repo.append(std::move(batch)));
  ASSERT_TRUE(out);
  std::vector<Delivery> d;
  for (const auto& o : *out)
    for (auto to : o.recipients)
      d.push_back(
          {o.message.id, to, o.message.conversation_id, o.message.seq, o.message.sender_id});
  d.push_back(d.front());  // the same message written to a second connection of its recipient
  auto changes = run_sync(ioc, repo.mark_delivered(d));
  ASSERT_TRUE(changes);
  // ann's two messages to ben and to cat (up to seq 2), ben's to ann and to cat (seq 3).
  ASSERT_EQ(changes->size(), 4u);
  std::map<std::pair<UserId, UserId>, Seq> got;
  for (const auto& c : *changes) {
    EXPECT_EQ(c.receipt.conversation_id, g->conversation_id);
    EXPECT_EQ(c.receipt.status, ReceiptStatus::delivered);
    EXPECT_FALSE(c.receipt.at.empty());
    got[{c.sender_id, c.receipt.user_id}] = c.receipt.up_to_seq;
  }
  EXPECT_EQ((got[{ids[0], ids[1]}]), 2);
  EXPECT_EQ((got[{ids[0], ids[2]}]), 2);
  EXPECT_EQ((got[{ids[1], ids[0]}]), 3);
  EXPECT_EQ((got[{ids[1], ids[2]}]), 3);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE status = 'delivered'"), "6");
}

TEST_F(MessageRepositoryTest, OneBatchAcrossConversationsKeepsInputOrderAndExactContent) {
  const auto ab = *run_sync(ioc, repo.direct_conversation(ids[0], ids[1]));
  const auto ac = *run_sync(ioc, repo.direct_conversation(ids[0], ids[2]));
  const std::vector<std::string> tricky = {R"(quote " and backslash \ )",
                                           "{braces,commas}",
                                           "NULL",
                                           "",
                                           "tab\tnew\nline",
                                           "ünï😀",
                                           R"(\"{}\\)"};
  std::vector<NewMessage> batch;
  for (std::size_t i = 0; i < tricky.size(); ++i)
    batch.push_back(msg(i % 2 ? ac : ab, ids[0], tricky[i].empty() ? "x" : tricky[i],
                        i == 2 ? std::optional<std::string>(R"(c"id\,{})") : std::nullopt));
  auto out = run_sync(ioc, repo.append(batch));
  ASSERT_TRUE(out) << out.error().message;
  ASSERT_EQ(out->size(), tricky.size());
  Seq next_ab = 1, next_ac = 1;
  for (std::size_t i = 0; i < tricky.size(); ++i) {
    const auto& o = (*out)[i];
    ASSERT_EQ(o.kind, AppendOutcome::Kind::stored) << i;
    EXPECT_EQ(o.message.content, batch[i].content) << i;
    EXPECT_EQ(o.message.client_id, batch[i].client_id) << i;
    EXPECT_EQ(o.message.seq, i % 2 ? next_ac++ : next_ab++) << "input order within a conversation";
    EXPECT_EQ(db.scalar("SELECT content FROM messages WHERE id = " + std::to_string(o.message.id)),
              batch[i].content);
  }
}
