// The message repository on a real PostgreSQL: the batch statement (conversations created inside
// it, idempotency, membership, gapless seqs under concurrency) and receipts kept as positions.
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
using Kind = AppendOutcome::Kind;

namespace {

class MessageRepositoryTest : public test::MigratedDatabase {
 protected:
  MessageRepositoryTest() : MigratedDatabase("msgs", 6) {}
  void SetUp() override {
    MigratedDatabase::SetUp();
    for (auto name : {"ann", "ben", "cat"}) ids.push_back(user(name));
  }
  UserId user(const std::string& name) {
    auto u = run_sync(ioc, users.create({name, name + "@x.io", test::kSampleHash}));
    EXPECT_TRUE(u);
    return u ? u->id : 0;
  }
  static NewMessage dm(UserId from, UserId to, std::string text,
                       std::optional<std::string> cid = std::nullopt) {
    return NewMessage{from, to, std::nullopt, std::move(text), std::move(cid)};
  }
  static NewMessage to_group(UserId from, GroupId g, std::string text) {
    return NewMessage{from, std::nullopt, g, std::move(text), std::nullopt};
  }
  std::vector<AppendOutcome> append(std::vector<NewMessage> batch) {
    auto out = run_sync(ioc, repo.append(std::move(batch)));
    EXPECT_TRUE(out) << (out ? "" : out.error().message);
    return out ? *out : std::vector<AppendOutcome>{};
  }
  // The status of one message for one user, as a client of the contract would ask for it.
  std::string status(const Message& m, UserId u) {
    return db.scalar("SELECT status FROM message_receipts WHERE message_id = " +
                     std::to_string(m.id) + " AND user_id = " + std::to_string(u));
  }
  std::vector<ReceiptChange> deliver(ConversationId c, UserId to, Seq seq,
                                     std::vector<std::pair<UserId, Seq>> senders) {
    std::vector<DeliveryPosition> p{DeliveryPosition{c, to, seq, std::move(senders), 1}};
    auto r = run_sync(ioc, repo.mark_delivered(std::move(p)));
    EXPECT_TRUE(r);
    return r ? *r : std::vector<ReceiptChange>{};
  }
  Group group(std::vector<UserId> members) {
    auto g = run_sync(ioc, groups.create("g", members.front(), members));
    EXPECT_TRUE(g);
    return g ? *g : Group{};
  }

  PgUserRepository users{pool};
  PgMessageRepository repo{pool};
  PgGroupRepository groups{pool};
  std::vector<UserId> ids;
};

}  // namespace

TEST_F(MessageRepositoryTest, TheFirstMessageCreatesTheConversationOncePerPair) {
  auto first = append({dm(ids[0], ids[1], "hi")});
  auto reply = append({dm(ids[1], ids[0], "hello")});
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(first[0].kind, Kind::stored);
  ASSERT_EQ(reply[0].kind, Kind::stored);
  EXPECT_EQ(first[0].message.conversation_id, reply[0].message.conversation_id);
  EXPECT_EQ(reply[0].message.seq, 2);
  EXPECT_EQ(*reply[0].message.to, ids[0]);
  EXPECT_EQ(reply[0].recipients, std::vector<UserId>{ids[0]});

  auto unknown = append({dm(ids[0], 987654, "anyone?", "lost")});
  EXPECT_EQ(unknown[0].kind, Kind::not_found);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversations"), "1") << "nothing half-written";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversation_members"), "2");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "2");
}

TEST_F(MessageRepositoryTest, ABatchAssignsGaplessSeqsAndLastMessageAtAndMovesNoPosition) {
  std::vector<NewMessage> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back(dm(ids[i % 2], ids[(i + 1) % 2], std::string("m") + std::to_string(i)));
  auto out = append(std::move(batch));
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(out[i].kind, Kind::stored);
    EXPECT_EQ(out[i].message.seq, i + 1);
    EXPECT_EQ(out[i].recipients, std::vector<UserId>{ids[(i + 1) % 2]});
    EXPECT_EQ(*out[i].message.to, ids[(i + 1) % 2]);
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE status = 'sent'"), "5");
  EXPECT_EQ(db.scalar("SELECT chatd_ts(last_message_at) FROM conversations"),
            out.back().message.created_at);
  EXPECT_EQ(db.scalar("SELECT sum(delivered_seq + last_read_seq + joined_seq) FROM"
                      " conversation_members"),
            "0")
      << "storing a message moves no position";
}

TEST_F(MessageRepositoryTest, ConcurrentBatchesOnOneConversationStayGapless) {
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
                    batch.push_back(
                        dm(ids[w % 2], ids[1 - w % 2], std::to_string(w) + "/" + std::to_string(b)));
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
  EXPECT_EQ(db.scalar("SELECT last_seq FROM conversations"), "600");
}

TEST_F(MessageRepositoryTest, ConcurrentFirstMessagesOfOnePairCreateOneConversation) {
  // Two repositories (as two nodes would have, each with its own cache) and both users of
  // 20 new pairs writing to each other first, at the same moment.
  std::vector<UserId> people;
  for (int i = 0; i < 40; ++i) people.push_back(user("peer" + std::to_string(i)));
  PgMessageRepository other{pool};
  run_sync(
      ioc,
      [&]() -> awaitable<void> {
        auto ex = co_await boost::asio::this_coro::executor;
        for (int side = 0; side < 2; ++side)
          for (int part = 0; part < 2; ++part)
            boost::asio::co_spawn(
                ex,
                [&, side, part]() -> awaitable<void> {
                  for (int k = part; k < 20; k += 2) {
                    const auto a = people[2 * k], b = people[2 * k + 1];
                    std::vector<NewMessage> batch{side ? dm(b, a, "x") : dm(a, b, "y")};
                    auto r = co_await (side ? other : repo).append(std::move(batch));
                    EXPECT_TRUE(r && r->front().kind == Kind::stored);
                  }
                },
                boost::asio::detached);
        co_return;
      }(),
      2);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversations"), "20");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversation_members"), "40");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "40");
  EXPECT_EQ(db.scalar("SELECT bool_and(last_seq = 2) FROM conversations"), "t");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM (SELECT conversation_id FROM messages"
                      " GROUP BY conversation_id HAVING array_agg(seq ORDER BY seq) = '{1,2}') x"),
            "20");
}

TEST_F(MessageRepositoryTest, ABatchMixingNewAndKnownPairsUnknownUsersAndDuplicates) {
  const auto earlier = append({dm(ids[0], ids[2], "earlier", "old")});  // ann-cat is known
  ASSERT_EQ(earlier[0].kind, Kind::stored);
  auto out = append({
      dm(ids[0], ids[1], "new pair", "k1"),     // 0: ann-ben is new
      dm(ids[0], ids[2], "known pair"),         // 1
      dm(ids[0], 987654, "nobody", "k2"),       // 2: unknown user
      dm(ids[0], ids[1], "repeat inside", "k1"),  // 3: same client_id as 0
      dm(ids[1], ids[0], "other direction"),    // 4: the new pair, from ben
      dm(ids[0], ids[1], "repeat of earlier", "old"),  // 5: client_id of an earlier batch
      dm(ids[1], ids[2], "second new pair"),    // 6
  });
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0].kind, Kind::stored);
  EXPECT_EQ(out[1].kind, Kind::stored);
  EXPECT_EQ(out[2].kind, Kind::not_found);
  EXPECT_EQ(out[3].kind, Kind::duplicate);
  EXPECT_EQ(out[3].message.id, out[0].message.id);
  EXPECT_EQ(out[3].message.content, "new pair");
  EXPECT_EQ(out[4].kind, Kind::stored);
  EXPECT_EQ(out[4].message.conversation_id, out[0].message.conversation_id);
  EXPECT_EQ(out[4].message.seq, 2);
  EXPECT_EQ(out[5].kind, Kind::duplicate);
  EXPECT_EQ(out[5].message.id, earlier[0].message.id);
  EXPECT_EQ(out[5].message.content, "earlier");
  EXPECT_EQ(*out[5].message.to, ids[2]) << "the original's own recipient";
  EXPECT_EQ(out[6].kind, Kind::stored);
  EXPECT_EQ(out[1].message.seq, 2);
  EXPECT_EQ(out[1].message.conversation_id, earlier[0].message.conversation_id);

  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversations"), "3");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM conversation_members"), "6");
  EXPECT_EQ(db.scalar("SELECT string_agg(content, '|' ORDER BY conversation_id, seq) FROM messages"),
            "earlier|known pair|new pair|other direction|second new pair");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages WHERE client_id = 'k2'"), "0");
}

TEST_F(MessageRepositoryTest, ARepeatedClientIdReturnsTheOriginalWithinAndAcrossBatches) {
  auto out = append({dm(ids[0], ids[1], "first", "k1"), dm(ids[0], ids[1], "again", "k1")});
  EXPECT_EQ(out[0].kind, Kind::stored);
  EXPECT_EQ(out[1].kind, Kind::duplicate);
  EXPECT_EQ(out[1].message.id, out[0].message.id);
  EXPECT_EQ(out[1].message.content, "first");
  auto again = append({dm(ids[0], ids[1], "third", "k1")});
  EXPECT_EQ(again[0].kind, Kind::duplicate);
  EXPECT_EQ(again[0].message.seq, 1);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "1");
  EXPECT_EQ(db.scalar("SELECT last_seq FROM conversations"), "1") << "no seq was spent";
}

TEST_F(MessageRepositoryTest, NonMembersAndUnknownGroupsStoreNothing) {
  const auto g = group({ids[0], ids[1]});
  auto out = append({to_group(ids[2], g.id, "intruder"), to_group(ids[0], g.id, "member"),
                     to_group(ids[0], 987654, "no such group")});
  EXPECT_EQ(out[0].kind, Kind::not_member);
  EXPECT_EQ(out[1].kind, Kind::stored);
  EXPECT_EQ(out[1].message.seq, 1);
  EXPECT_EQ(*out[1].message.group_id, g.id);
  EXPECT_EQ(out[1].recipients, std::vector<UserId>{ids[1]});
  EXPECT_EQ(out[2].kind, Kind::not_found);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "1");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts"), "1");
}

TEST_F(MessageRepositoryTest, EveryReceiptNamesAStoredMessageAndAnotherMember) {
  const auto g = group({ids[0], ids[1], ids[2]});
  std::vector<NewMessage> batch;
  for (int i = 0; i < 6; ++i)
    batch.push_back(i % 2 ? dm(ids[1 + i % 3 / 2], ids[2 - i % 3 / 2], "dm")
                          : to_group(ids[i / 2], g.id, "g"));
  append(std::move(batch));
  // 3 group messages × 2 other members + 3 direct messages × 1.
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts"), "9");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts r"
                      " LEFT JOIN messages m ON m.id = r.message_id"
                      " LEFT JOIN conversation_members cm"
                      "   ON cm.conversation_id = m.conversation_id AND cm.user_id = r.user_id"
                      " WHERE m.id IS NULL OR cm.user_id IS NULL OR r.user_id = m.sender_id"),
            "0");
}

TEST_F(MessageRepositoryTest, DirectReceiptsPerMessageFromPositions) {
  auto out = append({dm(ids[0], ids[1], "1"), dm(ids[0], ids[1], "2"), dm(ids[0], ids[1], "3")});
  const auto c = out[0].message.conversation_id;
  for (const auto& o : out) EXPECT_EQ(status(o.message, ids[1]), "sent");
  EXPECT_EQ(status(out[0].message, ids[0]), "") << "no receipt for the sender";

  auto changes = deliver(c, ids[1], 2, {{ids[0], 2}});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].sender_id, ids[0]);
  EXPECT_EQ(changes[0].receipt.up_to_seq, 2);
  EXPECT_EQ(changes[0].receipt.status, ReceiptStatus::delivered);
  EXPECT_EQ(status(out[0].message, ids[1]), "delivered");
  EXPECT_EQ(status(out[1].message, ids[1]), "delivered");
  EXPECT_EQ(status(out[2].message, ids[1]), "sent");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE delivered_at IS NOT NULL"),
            "2");

  auto read = run_sync(ioc, repo.mark_read(ids[1], c, 1));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].receipt.up_to_seq, 1);
  EXPECT_EQ(status(out[0].message, ids[1]), "read");
  EXPECT_EQ(status(out[1].message, ids[1]), "delivered");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE read_at IS NOT NULL"), "1");
}

TEST_F(MessageRepositoryTest, AnotherDeviceOrAnOlderDeliveryMovesNothing) {
  auto out = append({dm(ids[0], ids[1], "1"), dm(ids[0], ids[1], "2")});
  const auto c = out[0].message.conversation_id;
  EXPECT_EQ(deliver(c, ids[1], 2, {{ids[0], 2}}).size(), 1u);
  EXPECT_TRUE(deliver(c, ids[1], 2, {{ids[0], 2}}).empty()) << "the second device";
  EXPECT_TRUE(deliver(c, ids[1], 1, {{ids[0], 1}}).empty()) << "a late, older write";
  EXPECT_EQ(db.scalar("SELECT delivered_seq FROM conversation_members WHERE user_id = " +
                      std::to_string(ids[1])),
            "2");
}

TEST_F(MessageRepositoryTest, OnePositionCoversABurstAndTellsEachSenderOnce) {
  const auto g = group({ids[0], ids[1], ids[2]});
  std::vector<NewMessage> burst;
  for (int i = 0; i < 50; ++i) burst.push_back(to_group(ids[i % 2], g.id, "m"));
  auto out = append(std::move(burst));
  ASSERT_EQ(out.size(), 50u);
  EXPECT_EQ(out[0].recipients, (std::vector<UserId>{ids[1], ids[2]}));
  const auto c = out[0].message.conversation_id;
  // cat's connection wrote all 50: one position, one receipt for each of the two senders.
  auto changes = deliver(c, ids[2], 50, {{ids[0], 49}, {ids[1], 50}});
  ASSERT_EQ(changes.size(), 2u);
  std::map<UserId, Seq> got;
  for (const auto& ch : changes) got[ch.sender_id] = ch.receipt.up_to_seq;
  EXPECT_EQ(got[ids[0]], 50);
  EXPECT_EQ(got[ids[1]], 50);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE user_id = " +
                      std::to_string(ids[2]) + " AND status = 'delivered'"),
            "50");
  // ben's position moves past ann's messages only: ann hears, ben (its own messages) does not.
  changes = deliver(c, ids[1], 49, {{ids[0], 49}});
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].sender_id, ids[0]);
}

TEST_F(MessageRepositoryTest, AMemberWhoJoinedLaterHasNoReceiptsForWhatCameBefore) {
  const auto g = group({ids[0], ids[1]});
  auto before = append({to_group(ids[0], g.id, "1"), to_group(ids[1], g.id, "2")});
  ASSERT_TRUE(run_sync(ioc, groups.add_member(g.id, ids[2], 256)));
  auto after = append({to_group(ids[0], g.id, "3")});
  EXPECT_EQ(after[0].recipients, (std::vector<UserId>{ids[1], ids[2]}));
  EXPECT_EQ(status(before[0].message, ids[2]), "");
  EXPECT_EQ(status(before[1].message, ids[2]), "");
  EXPECT_EQ(status(after[0].message, ids[2]), "sent");
  EXPECT_EQ(status(before[0].message, ids[1]), "sent");
  auto pending = run_sync(ioc, repo.undelivered(ids[2], {}, 10));
  ASSERT_TRUE(pending);
  ASSERT_EQ(pending->size(), 1u) << "the replay starts where they joined";
  EXPECT_EQ((*pending)[0].seq, 3);
}

TEST_F(MessageRepositoryTest, ReadBeforeDeliveredCountsAsBothAndNeverPassesTheLastMessage) {
  auto out = append({dm(ids[0], ids[1], "1"), dm(ids[0], ids[1], "2"), dm(ids[1], ids[0], "3")});
  const auto c = out[0].message.conversation_id;
  auto read = run_sync(ioc, repo.mark_read(ids[1], c, 100));
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 1u) << "one receipt for ann's messages, none for ben's own";
  EXPECT_EQ((*read)[0].sender_id, ids[0]);
  EXPECT_EQ((*read)[0].receipt.up_to_seq, 2);
  EXPECT_EQ(status(out[1].message, ids[1]), "read");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM message_receipts WHERE user_id = " +
                      std::to_string(ids[1]) + " AND delivered_at IS NOT NULL"),
            "2");
  EXPECT_TRUE(run_sync(ioc, repo.undelivered(ids[1], {}, 10))->empty());
  // The position stopped at the last message: the next one is unread and undelivered.
  auto next = append({dm(ids[0], ids[1], "4")});
  EXPECT_EQ(status(next[0].message, ids[1]), "sent");
  EXPECT_EQ(run_sync(ioc, repo.undelivered(ids[1], {}, 10))->size(), 1u);
  EXPECT_TRUE(run_sync(ioc, repo.mark_read(ids[1], c, 1))->empty()) << "never back";
  auto outsider = run_sync(ioc, repo.mark_read(987654, c, 2));
  ASSERT_FALSE(outsider);
  EXPECT_EQ(outsider.error().code, errc::not_found);
}

TEST_F(MessageRepositoryTest, TheOfflineReplayPagesThroughEveryConversationInSeqOrder) {
  auto ab = append({dm(ids[0], ids[1], "a1"), dm(ids[1], ids[0], "b"), dm(ids[0], ids[1], "a2")});
  auto cb = append({dm(ids[2], ids[1], "c1"), dm(ids[2], ids[1], "c2")});
  // ben got ann's first message already.
  deliver(ab[0].message.conversation_id, ids[1], 1, {{ids[0], 1}});
  std::vector<std::string> seen;
  ReplayCursor at;
  for (int page = 0; page < 5; ++page) {
    auto got = run_sync(ioc, repo.undelivered(ids[1], at, 2));
    ASSERT_TRUE(got);
    for (const auto& m : *got) {
      seen.push_back(m.content);
      at = ReplayCursor{m.conversation_id, m.seq};
    }
    if (got->size() < 2) break;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a2", "c1", "c2"}));
  auto for_ann = run_sync(ioc, repo.undelivered(ids[0], {}, 10));
  ASSERT_TRUE(for_ann);
  ASSERT_EQ(for_ann->size(), 1u);
  EXPECT_EQ((*for_ann)[0].content, "b");
  EXPECT_EQ(*(*for_ann)[0].to, ids[0]);
}

TEST_F(MessageRepositoryTest, OneBatchAcrossConversationsKeepsInputOrderAndExactContent) {
  const std::vector<std::string> tricky = {R"(quote " and backslash \ )",
                                           "{braces,commas}",
                                           "NULL",
                                           "",
                                           "tab\tnew\nline",
                                           "ünï😀",
                                           R"(\"{}\\)"};
  std::vector<NewMessage> batch;
  for (std::size_t i = 0; i < tricky.size(); ++i)
    batch.push_back(dm(ids[0], i % 2 ? ids[2] : ids[1], tricky[i].empty() ? "x" : tricky[i],
                       i == 2 ? std::optional<std::string>(R"(c"id\,{})") : std::nullopt));
  auto out = append(batch);
  ASSERT_EQ(out.size(), tricky.size());
  Seq next_ab = 1, next_ac = 1;
  for (std::size_t i = 0; i < tricky.size(); ++i) {
    const auto& o = out[i];
    ASSERT_EQ(o.kind, Kind::stored) << i;
    EXPECT_EQ(o.message.content, batch[i].content) << i;
    EXPECT_EQ(o.message.client_id, batch[i].client_id) << i;
    EXPECT_EQ(o.message.seq, i % 2 ? next_ac++ : next_ab++) << "input order within a conversation";
    EXPECT_EQ(db.scalar("SELECT content FROM messages WHERE id = " + std::to_string(o.message.id)),
              batch[i].content);
  }
}

// A conversation where one side does the writing: the writer's replay never walks their own
// messages (it walked all of them since the other side last wrote, on every reconnect), and
// the conversation knows its last sender and the last seq from anyone else, batch after batch.
TEST_F(MessageRepositoryTest, TheOfflineReplayNeverWalksTheReadersOwnMessages) {
  const auto ann = ids[0], ben = ids[1];
  const auto first = append({dm(ben, ann, "hi")});  // seq 1, a new conversation
  const auto conv = std::to_string(first[0].message.conversation_id);
  auto columns = [&] {
    return db.scalar("SELECT last_sender_id || '/' || other_last_seq || '/' || last_seq"
                     " FROM conversations WHERE id = " + conv);
  };
  EXPECT_EQ(columns(), std::to_string(ben) + "/0/1");
  append({dm(ann, ben, "a"), dm(ann, ben, "a"), dm(ann, ben, "a")});  // 2..4
  EXPECT_EQ(columns(), std::to_string(ann) + "/1/4");
  append({dm(ann, ben, "a"), dm(ben, ann, "mid"), dm(ann, ben, "a")});  // 5..7, ben's is 6
  EXPECT_EQ(columns(), std::to_string(ann) + "/6/7");
  std::vector<NewMessage> many;
  for (int i = 0; i < 300; ++i) many.push_back(dm(ann, ben, "a"));
  append(std::move(many));  // 8..307
  EXPECT_EQ(columns(), std::to_string(ann) + "/6/307");

  auto for_ann = run_sync(ioc, repo.undelivered(ann, {}, 200));
  ASSERT_TRUE(for_ann);
  ASSERT_EQ(for_ann->size(), 2u);
  EXPECT_EQ((*for_ann)[0].content, "hi");
  EXPECT_EQ((*for_ann)[1].content, "mid");
  auto for_ben = run_sync(ioc, repo.undelivered(ben, {}, 500));
  ASSERT_TRUE(for_ben);
  EXPECT_EQ(for_ben->size(), 305u);

  deliver(first[0].message.conversation_id, ann, 6, {{ben, 6}});
  EXPECT_TRUE(run_sync(ioc, repo.undelivered(ann, {}, 200))->empty());
  const auto plan = db.lines("PREPARE und(bigint, bigint, bigint, int) AS " +
                             std::string(kUndeliveredStatement.sql) +
                             "; EXPLAIN (ANALYZE, COSTS OFF) EXECUTE und(" + std::to_string(ann) +
                             ", 0, 0, 200)");
  const auto scan = plan.find("on messages m");
  ASSERT_NE(scan, std::string::npos) << plan;
  EXPECT_EQ(plan.substr(scan, plan.find("SubPlan", scan) - scan).find("Rows Removed by Filter"),
            std::string::npos)
      << "ann's 305 own messages after her delivered position were walked:\n" << plan;
}

// The batch statement runs with its generic plan from its first call: PostgreSQL, left to
// choose, planned it afresh on every call (~3 ms of planning per batch, more than executing a
// one-message batch). Checked on the connection that ran them (the pool hands back the one
// released last), in PostgreSQL's own count of the plans of that prepared statement.
TEST_F(MessageRepositoryTest, TheBatchStatementIsPlannedOnceNotPerCall) {
  auto g = group({ids[0], ids[1], ids[2]});
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(append({dm(ids[0], ids[1], "a" + std::to_string(i))})[0].kind, Kind::stored);
    auto two = append({to_group(ids[1], g.id, "b"), dm(ids[2], ids[0], "c")});
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0].kind, Kind::stored);
    EXPECT_EQ(two[1].kind, Kind::stored);
  }
  const Statement plans{"test_append_plans",
                        "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                        " WHERE name = 'message_append_batch'"};
  auto counts = run_sync(ioc, [&]() -> awaitable<PgResult<ResultSet>> {
    auto lease = co_await pool.acquire();
    if (!lease) co_return lease.error();
    co_return co_await (*lease)->exec(plans, {});
  }());
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->rows(), 1);
  EXPECT_EQ(counts->int64(0, 1), 0) << "custom plans";
  EXPECT_EQ(counts->int64(0, 0), 8) << "generic plans";
}

// The connect path's test for waiting messages (PgUserRepository::arrivals) agrees with the
// replay read in every state: a user it says nothing waits for has nothing to replay.
TEST_F(MessageRepositoryTest, ArrivalsSayWhetherTheReplayHasAnythingToRead) {
  const UserId ann = ids[0], ben = ids[1], cat = ids[2];
  const auto check = [&](std::map<UserId, bool> want, const char* when) {
    std::vector<UserId> asked{ann, ben, cat, 987654};
    auto got = run_sync(ioc, users.arrivals(asked));
    ASSERT_TRUE(got) << when;
    ASSERT_EQ(got->size(), 3u) << when << ": the unknown id has no row";
    for (const auto& a : *got) {
      ASSERT_TRUE(want.contains(a.user.id)) << when;
      EXPECT_EQ(a.waiting, want[a.user.id]) << when << ", user " << a.user.username;
      auto replay = run_sync(ioc, repo.undelivered(a.user.id, {}, 10));
      ASSERT_TRUE(replay);
      if (!a.waiting) EXPECT_TRUE(replay->empty()) << when << ": nothing waits means nothing";
      else EXPECT_FALSE(replay->empty()) << when;
    }
  };
  check({{ann, false}, {ben, false}, {cat, false}}, "no messages");
  auto ab = append({dm(ann, ben, "1"), dm(ann, ben, "2")});
  const auto c = ab[0].message.conversation_id;
  check({{ann, false}, {ben, true}, {cat, false}}, "ann wrote to ben");
  append({dm(ben, ann, "3")});
  check({{ann, true}, {ben, true}, {cat, false}}, "and ben back");
  deliver(c, ben, 2, {{ann, 2}});
  check({{ann, true}, {ben, false}, {cat, false}}, "ben got ann's two");
  deliver(c, ann, 3, {{ben, 3}});
  check({{ann, false}, {ben, false}, {cat, false}}, "ann got ben's");
  append({dm(ann, ben, "4")});
  check({{ann, false}, {ben, true}, {cat, false}}, "ann's own message never waits for her");
  const auto g = group({cat, ann});
  append({to_group(cat, g.id, "hello group")});
  check({{ann, true}, {ben, true}, {cat, false}}, "cat wrote to a group");
  ASSERT_TRUE(run_sync(ioc, repo.mark_read(ann, append({to_group(ann, g.id, "seen")})[0]
                                                    .message.conversation_id, 2)));
  check({{ann, false}, {ben, true}, {cat, true}}, "ann read the group and answered");
  // A deleted account still has its row (its ready tells the client so).
  db.scalar("UPDATE users SET deleted_at = now() WHERE id = " + std::to_string(cat));
  auto got = run_sync(ioc, users.arrivals({cat}));
  ASSERT_TRUE(got);
  ASSERT_EQ(got->size(), 1u);
  EXPECT_TRUE((*got)[0].user.deleted);
  EXPECT_TRUE(run_sync(ioc, users.arrivals({}))->empty());
}
