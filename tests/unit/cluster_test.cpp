// The pieces of clustering that need no NATS: the envelope between nodes and the sequencer
// that restores a conversation's seq order on a node.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "cluster/envelope.hpp"
#include "cluster/sequencer.hpp"

namespace chatd::cluster {
namespace {

Envelope sample() {
  Envelope e;
  e.kind = EventKind::message;
  e.origin = "node-a:8080";
  e.origin_session = 77;
  e.message_id = 901;
  e.conversation_id = 3;
  e.seq = 17;
  e.sender_id = 1;
  e.users = {2, 3, 4};
  e.text = R"({"type":"message"})";
  return e;
}

TEST(Envelope, RoundTrips) {
  const auto e = sample();
  auto d = decode(encode(e));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, EventKind::message);
  EXPECT_EQ(d->origin, e.origin);
  EXPECT_EQ(d->origin_session, 77u);
  EXPECT_EQ(d->message_id, 901);
  EXPECT_EQ(d->conversation_id, 3);
  EXPECT_EQ(d->seq, 17);
  EXPECT_EQ(d->sender_id, 1);
  EXPECT_EQ(d->users, e.users);
  EXPECT_EQ(d->text, e.text);
}

TEST(Envelope, EveryTruncationAndGarbageIsRefused) {
  const auto bytes = encode(sample());
  for (std::size_t n = 0; n < bytes.size(); ++n)
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n))) << "truncated at " << n;
  EXPECT_FALSE(decode(bytes + "x")) << "trailing bytes";
  EXPECT_FALSE(decode("hello world, not an envelope"));
  auto bad_kind = bytes;
  bad_kind[2] = 9;
  EXPECT_FALSE(decode(bad_kind));
  auto huge_count = bytes;  // a user count far past the bytes there are
  const auto at = 2 + 1 + 2 + sample().origin.size() + 8 + 4 * 8;
  huge_count[at + 3] = 0x7f;
  EXPECT_FALSE(decode(huge_count));
}

struct Harness {
  boost::asio::io_context ioc;
  std::vector<std::int64_t> delivered;
  std::vector<std::pair<std::int64_t, std::int64_t>> fills;  // (after, before) asked for
  std::vector<std::int64_t> in_database;                     // seqs the "database" has
  bool continuous = true;  // what the node's hub says of the conversation's members
  Sequencer seq{ioc.get_executor(),
                [this](const SequencedMessage& m) { delivered.push_back(m.seq); },
                [this](const SequencedMessage& like, std::int64_t after, std::int64_t before,
                       std::function<void(std::vector<SequencedMessage>)> done) {
                  fills.emplace_back(after, before);
                  std::vector<SequencedMessage> out;
                  for (auto s : in_database)
                    if (s > after && s < before)
                      out.push_back(SequencedMessage{s, like.conversation_id, s, 1, nullptr, {}, 0});
                  done(std::move(out));
                },
                std::chrono::milliseconds(20), std::chrono::milliseconds(10), 100000,
                [this](const SequencedMessage&, std::chrono::steady_clock::time_point) {
                  return continuous;
                }};
  void push(std::int64_t s, std::int64_t conversation = 5, bool by_interest = false) {
    SequencedMessage m{s, conversation, s, 1, nullptr, {2}, 0};
    m.by_interest = by_interest;
    seq.push(std::move(m));
  }
  void wait() {
    ioc.run_for(std::chrono::milliseconds(100));
    ioc.restart();
  }
};

TEST(Sequencer, InOrderPassesStraightThroughAndRepeatsAreDropped) {
  Harness h;
  for (auto s : {1, 2, 3, 3, 2, 4}) h.push(s);
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 2, 3, 4}));
  EXPECT_EQ(h.seq.stats().duplicates, 2u);
}

TEST(Sequencer, AnEarlyMessageWaitsForTheOneBeforeIt) {
  Harness h;
  h.push(1);
  h.push(3);  // 2 is on its way from another node
  h.push(4);
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1}));
  h.push(2);
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 2, 3, 4}));
  h.wait();
  EXPECT_TRUE(h.fills.empty()) << "the gap closed before the hold ran out";
}

TEST(Sequencer, AGapThatStaysOpenIsFilledFromTheDatabase) {
  Harness h;
  h.in_database = {2, 3, 4};
  h.push(1);
  h.push(5);  // 2..4 never come (NATS was away)
  h.wait();
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  ASSERT_EQ(h.fills.size(), 1u);
  EXPECT_EQ(h.fills[0], (std::pair<std::int64_t, std::int64_t>{1, 5}));
  h.push(3);  // arrives late after all
  EXPECT_EQ(h.delivered.size(), 5u) << "not twice";
}

TEST(Sequencer, WhatTheDatabaseCannotGiveIsSkippedNotWaitedForForever) {
  Harness h;
  h.push(1);
  h.push(4);
  h.wait();
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(h.seq.stats().skipped, 2u);
}

TEST(Sequencer, ALaterMessageSeenFirstWaitsForTheOnesStillOnTheirWay) {
  Harness h;
  h.push(8);  // a conversation this node has not seen since it started
  h.push(7);  // committed before 8 by another node, published after it
  EXPECT_TRUE(h.delivered.empty());
  h.wait();
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{7, 8}));
  EXPECT_TRUE(h.fills.empty()) << "what came before is not fetched again";
  h.push(9);
  EXPECT_EQ(h.delivered.back(), 9) << "then straight through";
}

TEST(Sequencer, AGapByInterestWhileAMemberWasHeldThroughoutIsFilled) {
  Harness h;
  h.in_database = {2};
  h.push(1, 5, true);
  h.push(3, 5, true);  // 2 was routed here too (a member was held): lost on the way
  h.wait();
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(h.seq.stats().stale, 0u);
}

TEST(Sequencer, AGapByInterestAfterNoMemberWasHeldIsNotFilled) {
  Harness h;
  h.in_database = {2, 3};
  h.push(1, 5, true);
  h.continuous = false;  // every member left this node and came back: 2 and 3 went elsewhere
  h.push(4, 5, true);
  EXPECT_TRUE(h.delivered.size() == 1) << "settles like a newly seen conversation";
  h.push(3, 5, true);  // still on its way from another node when the member came back
  h.wait();
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_TRUE(h.fills.empty()) << "2 was replayed to the connection, not fetched again";
  EXPECT_EQ(h.seq.stats().stale, 1u);
  h.push(5, 5, false);  // to every node: the stale check does not apply
  h.continuous = true;
  EXPECT_EQ(h.delivered.back(), 5);
}

TEST(Sequencer, ABroadcastGapIsFilledWhateverTheHubSays) {
  Harness h;
  h.in_database = {2};
  h.continuous = false;
  h.push(1);
  h.push(3);  // every node gets every broadcast message: 2 was lost (NATS was away)
  h.wait();
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(h.seq.stats().stale, 0u);
}

TEST(Sequencer, ConversationsAreIndependent) {
  Harness h;
  h.push(1, 7);
  h.push(3, 7);
  h.push(1, 8);
  h.push(2, 8);
  EXPECT_EQ(h.delivered, (std::vector<std::int64_t>{1, 1, 2}));
}

}  // namespace
}  // namespace chatd::cluster
