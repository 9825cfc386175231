// Presence stored in batches (domain/presence_service.hpp) on a real PostgreSQL: the batch
// statements of both repositories, and the service folding a reconnect storm into few writes.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <tuple>

#include "domain/clock.hpp"
#include "domain/presence_service.hpp"
#include "storage/pg/node_repository.hpp"
#include "storage/pg/user_repository.hpp"
#include "support/migrate.hpp"
#include "support/run_sync.hpp"
#include "support/test_database.hpp"

using namespace chatd;
using namespace chatd::pg;
using boost::asio::awaitable;
using chatd::test::run_sync;

namespace {

constexpr const char* kT1 = "2026-01-01T00:00:01.000Z";
constexpr const char* kT2 = "2026-01-01T00:00:02.000Z";
constexpr const char* kT3 = "2026-01-01T00:00:03.000Z";

// The real repository, counting the presence writes that reach it.
struct CountingUsers final : UserRepository {
  explicit CountingUsers(UserRepository& real) : real(real) {}
  awaitable<Result<User>> create(NewUser u) override { return real.create(std::move(u)); }
  awaitable<Result<std::optional<UserCredentials>>> find_credentials(std::string e) override {
    return real.find_credentials(std::move(e));
  }
  awaitable<Result<std::optional<User>>> find_by_id(UserId id) override {
    return real.find_by_id(id);
  }
  awaitable<Result<std::vector<Arrival>>> arrivals(std::vector<UserId> ids) override {
    return real.arrivals(std::move(ids));
  }
  awaitable<Result<std::vector<User>>> find_by_username(std::string n) override {
    return real.find_by_username(std::move(n));
  }
  awaitable<Result<std::vector<std::optional<std::string>>>> set_presence(
      std::vector<PresenceWrite> writes) override {
    ++writes_calls;
    written += writes.size();
    return real.set_presence(std::move(writes));
  }
  awaitable<Result<std::vector<std::pair<UserId, UserId>>>> contacts(
      std::vector<UserId> users) override {
    return real.contacts(std::move(users));
  }
  awaitable<Status> revoke_token(UserId u, std::string jti, std::int64_t exp) override {
    return real.revoke_token(u, std::move(jti), exp);
  }
  awaitable<Result<std::optional<std::string>>> password_hash(UserId id) override {
    return real.password_hash(id);
  }
  awaitable<Status> change_password(UserId u, std::string h, std::int64_t before,
                                    std::string keep) override {
    return real.change_password(u, std::move(h), before, std::move(keep));
  }
  awaitable<Result<std::vector<TokenRevocation>>> revocations() override {
    return real.revocations();
  }
  awaitable<Result<std::vector<UserId>>> blocking(UserId v, std::vector<UserId> users) override {
    return real.blocking(v, std::move(users));
  }
  awaitable<Result<std::int64_t>> clear_presence() override { return real.clear_presence(); }

  UserRepository& real;
  int writes_calls = 0;
  std::size_t written = 0;
};

// What contacts were told: (user, online, last_seen, recipients), in order.
struct Told {
  UserId user;
  bool online;
  std::optional<std::string> last_seen;
  std::vector<UserId> to;
};
struct RecordingEvents final : EventPublisher {
  void message(const Message&, std::span<const UserId>, SessionId) override {}
  void message_updated(const Message&, std::span<const UserId>) override {}
  void receipt(UserId, const Receipt&) override {}
  void presence(std::span<const UserId> to, const PresenceChange& p) override {
    std::vector<UserId> sorted(to.begin(), to.end());
    std::sort(sorted.begin(), sorted.end());
    told.push_back(Told{p.user_id, p.online, p.last_seen, std::move(sorted)});
  }
  void typing(std::span<const UserId>, ConversationId, UserId) override {}
  void revoked(const TokenRevocation&) override {}
  void reaction(const ReactionChange&, std::span<const UserId>) override {}
  void conversation_updated(const ConversationUpdate&, std::span<const UserId>) override {}
  void settings_changed(UserId, ConversationId, const ConversationSettings&) override {}
  std::vector<Told> told;
};

class PresenceTest : public test::MigratedDatabase {
 protected:
  PresenceTest() : MigratedDatabase("presence") {}
  void SetUp() override {
    MigratedDatabase::SetUp();
    db.scalar("INSERT INTO users (username, email, password_hash) SELECT 'user' || g, 'u' || g ||"
              " '@x.io', '" + test::kSampleHash + "' FROM generate_series(1, 400) g");
    a = std::stoll(db.scalar("SELECT id FROM users WHERE username = 'user1'"));
    b = a + 1;
    c = a + 2;
  }
  // A direct conversation between two users.
  void converse(UserId x, UserId y) {
    const auto id = db.scalar("INSERT INTO conversations (type, user_lo, user_hi) VALUES"
                              " ('direct', " + std::to_string(std::min(x, y)) + ", " +
                              std::to_string(std::max(x, y)) + ") RETURNING id");
    db.scalar("INSERT INTO conversation_members (conversation_id, user_id) VALUES (" + id + ", " +
              std::to_string(x) + "), (" + id + ", " + std::to_string(y) + ")");
  }
  std::string row(UserId u) {
    return db.scalar("SELECT is_online || ' ' || coalesce(chatd_ts(last_seen), '-') FROM users"
                     " WHERE id = " + std::to_string(u));
  }
  PgUserRepository users{pool};
  PgNodeRepository nodes{pool};
  UserId a = 0, b = 0, c = 0;
};

std::chrono::system_clock::time_point parse(const char* t) {
  // kT1..kT3: whole seconds of 2026-01-01 UTC.
  const auto day = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
  return day + std::chrono::seconds(std::stoi(std::string(t).substr(17, 2)));
}

}  // namespace

TEST_F(PresenceTest, ABatchStoresEachUsersTransitionAndNeverAnOlderOne) {
  auto last = run_sync(ioc, users.set_presence({{a, true, kT1}, {b, false, kT2}, {a + 10000, true, kT1}}));
  ASSERT_TRUE(last) << last.error().message;
  ASSERT_EQ(last->size(), 3u);
  EXPECT_EQ((*last)[0], std::nullopt) << "never offline yet";
  EXPECT_EQ((*last)[1], std::optional<std::string>(kT2));
  EXPECT_EQ((*last)[2], std::nullopt) << "no such user: nothing stored, nothing failed";
  EXPECT_EQ(row(a), "true -");
  EXPECT_EQ(row(b), "false " + std::string(kT2));

  // b's online of an earlier time arrives late: the later offline stays.
  last = run_sync(ioc, users.set_presence({{b, true, kT1}, {a, false, kT3}}));
  ASSERT_TRUE(last);
  EXPECT_EQ((*last)[0], std::optional<std::string>(kT2));
  EXPECT_EQ((*last)[1], std::optional<std::string>(kT3));
  EXPECT_EQ(row(b), "false " + std::string(kT2));
  EXPECT_EQ(row(a), "false " + std::string(kT3));
}

TEST_F(PresenceTest, ContactsOfSeveralUsersArePairsWithoutThoseTheyBlock) {
  converse(a, b);
  converse(a, c);
  converse(b, c);
  db.scalar("INSERT INTO blocks (blocker, blocked) VALUES (" + std::to_string(c) + ", " +
            std::to_string(a) + ")");
  auto pairs = run_sync(ioc, users.contacts({a, c, a + 300}));
  ASSERT_TRUE(pairs) << pairs.error().message;
  std::sort(pairs->begin(), pairs->end());
  const std::vector<std::pair<UserId, UserId>> want{{a, b}, {a, c}, {c, b}};
  EXPECT_EQ(*pairs, want) << "c blocks a: a is not told of c";
}

TEST_F(PresenceTest, NodeBatchesChangePresenceAcrossNodesOnlyWhenTheLastNodeLetsGo) {
  auto changed = run_sync(ioc, nodes.set_node_presence("n1", {{a, true, kT1}, {b, true, kT1}}));
  ASSERT_TRUE(changed) << changed.error().message;
  std::sort(changed->begin(), changed->end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  ASSERT_EQ(changed->size(), 2u);
  EXPECT_EQ((*changed)[0].first, a);
  EXPECT_TRUE((*changed)[0].second.online);
  EXPECT_EQ((*changed)[1].first, b);

  changed = run_sync(ioc, nodes.set_node_presence("n2", {{a, true, kT2}}));
  ASSERT_TRUE(changed);
  EXPECT_TRUE(changed->empty()) << "a was online already";

  changed = run_sync(ioc, nodes.set_node_presence("n1", {{a, false, kT3}, {b, false, kT3}}));
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->size(), 1u) << "a is still online on n2";
  EXPECT_EQ((*changed)[0].first, b);
  EXPECT_FALSE((*changed)[0].second.online);
  EXPECT_EQ((*changed)[0].second.last_seen, std::optional<std::string>(kT3));
  EXPECT_EQ(row(a), "true -");

  // n2's older offline for a arrives after its online: ignored, a stays online there.
  changed = run_sync(ioc, nodes.set_node_presence("n2", {{a, false, kT1}}));
  ASSERT_TRUE(changed);
  EXPECT_TRUE(changed->empty());
  changed = run_sync(ioc, nodes.set_node_presence("n2", {{a, false, kT3}}));
  ASSERT_TRUE(changed);
  ASSERT_EQ(changed->size(), 1u);
  EXPECT_EQ(row(a), "false " + std::string(kT3));
}

TEST_F(PresenceTest, TwoNodesWritingTheSameUsersAtOnceBothFinish) {
  // Batches of overlapping users in opposite orders, on two connections at once: the locks are
  // taken in key order, so neither waits on the other in a cycle.
  std::vector<PresenceWrite> up, down;
  for (UserId u = a; u < a + 300; ++u) up.push_back({u, true, kT1});
  for (UserId u = a + 299; u >= a; --u) down.push_back({u, true, kT2});
  int done = 0;
  std::size_t changed = 0;
  for (auto* batch : {&up, &down}) {
    const std::string node = batch == &up ? "n1" : "n2";
    boost::asio::co_spawn(
        ioc,
        [&, node, w = *batch]() mutable -> awaitable<void> {
          for (int round = 0; round < 5; ++round) {
            auto r = co_await nodes.set_node_presence(node, w);
            EXPECT_TRUE(r) << (r ? "" : r.error().message);
            if (r) changed += r->size();
          }
          ++done;
        },
        boost::asio::detached);
  }
  ioc.restart();  // after the set-up's run
  ioc.run();
  EXPECT_EQ(done, 2);
  EXPECT_EQ(changed, 300u) << "each user turned online once, by whichever node came first";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users WHERE is_online"), "300");
}

TEST_F(PresenceTest, AStormOfTransitionsIsWrittenInBatchesAndEveryCallerResumes) {
  converse(a, b);
  CountingUsers counting(users);
  RecordingEvents events;
  PresenceService presence(ioc.get_executor(), counting, events, std::nullopt, 100);
  int resumed = 0;
  const auto at = parse(kT1);
  for (UserId u = a; u < a + 300; ++u)
    boost::asio::co_spawn(
        ioc,
        [&, u]() -> awaitable<void> {
          co_await presence.changed(u, true, at);
          ++resumed;
        },
        boost::asio::detached);
  ioc.restart();  // after the set-up's run
  ioc.run();
  EXPECT_EQ(resumed, 300);
  // The first goes out alone (nothing is waiting when it comes); the rest gather meanwhile and
  // go out 100 at a time.
  EXPECT_EQ(counting.writes_calls, 4) << "300 transitions at once: 1 + 100 + 100 + 99";
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users WHERE is_online"), "300");
  EXPECT_EQ(presence.in_flight(), 0u);
  ASSERT_EQ(events.told.size(), 300u);
  const auto told_a = std::find_if(events.told.begin(), events.told.end(),
                                   [&](const Told& t) { return t.user == a; });
  ASSERT_NE(told_a, events.told.end());
  EXPECT_TRUE(told_a->online);
  EXPECT_EQ(told_a->to, std::vector<UserId>{b}) << "a's contact is told";
}

TEST_F(PresenceTest, TwoTransitionsOfOneUserInABatchLeaveTheLaterState) {
  converse(a, b);
  CountingUsers counting(users);
  RecordingEvents events;
  PresenceService presence(ioc.get_executor(), counting, events);
  // c's transition goes out first, alone; a's connect and disconnect come while it is written
  // and go out together in the next batch: one write for a, the later one.
  int resumed = 0;
  const std::vector<std::tuple<UserId, bool, const char*>> order{
      {c, true, kT1}, {a, true, kT1}, {a, false, kT2}};
  for (const auto& [user, online, t] : order)
    boost::asio::co_spawn(
        ioc,
        [&, user = user, online = online, t = t]() -> awaitable<void> {
          co_await presence.changed(user, online, parse(t));
          ++resumed;
        },
        boost::asio::detached);
  ioc.restart();  // after the set-up's run
  ioc.run();
  EXPECT_EQ(resumed, 3);
  EXPECT_EQ(counting.writes_calls, 2);
  EXPECT_EQ(counting.written, 2u) << "c, then a once";
  EXPECT_EQ(row(a), "false " + std::string(kT2));
  EXPECT_EQ(row(c), "true -");
  ASSERT_EQ(events.told.size(), 2u);
  EXPECT_EQ(events.told[1].user, a);
  EXPECT_FALSE(events.told[1].online);
  EXPECT_EQ(events.told[1].last_seen, std::optional<std::string>(kT2));
  EXPECT_EQ(events.told[1].to, std::vector<UserId>{b});
}

TEST_F(PresenceTest, ANodeThatWentSilentHasAllItsUsersTurnedOfflineInBatches) {
  // More users than one batch: node_gone (via sweep) writes them all, a batch at a time.
  CountingUsers counting(users);
  RecordingEvents events;
  std::vector<PresenceWrite> on;
  for (UserId u = a; u < a + 250; ++u) on.push_back({u, true, kT1});
  ASSERT_TRUE(run_sync(ioc, nodes.set_node_presence("gone", on)));
  db.scalar("INSERT INTO cluster_nodes (name, heartbeat_at) VALUES"
            " ('gone', now() - interval '1 hour')");
  PresenceService presence(ioc.get_executor(), counting, events,
                           ClusterPresence{nodes, "here", 15}, 100);
  auto offline = run_sync(ioc, presence.sweep());
  ASSERT_TRUE(offline) << offline.error().message;
  EXPECT_EQ(*offline, 250u);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users WHERE is_online"), "0");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM node_presence WHERE node = 'gone'"), "0");
  EXPECT_EQ(events.told.size(), 250u);
}

// A silent node is claimed by one of the nodes that find it at once, not swept by each; a
// claim whose sweeper died lapses after the node timeout, and a heartbeat clears it.
TEST_F(PresenceTest, ASilentNodeIsClaimedByOneSweeperAtATime) {
  db.scalar("INSERT INTO cluster_nodes (name, heartbeat_at) VALUES"
            " ('gone', now() - interval '1 hour'), ('here', now()), ('there', now())");
  // Two sweepers at once, on two connections of the pool.
  std::vector<std::vector<std::string>> claimed;
  for (const char* self : {"here", "there"})
    boost::asio::co_spawn(
        ioc,
        [&, self]() -> awaitable<void> {
          auto c = co_await nodes.claim_silent_nodes(self, 15);
          EXPECT_TRUE(c);
          claimed.push_back(c ? *c : std::vector<std::string>{});
        },
        boost::asio::detached);
  ioc.restart();
  ioc.run();
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].size() + claimed[1].size(), 1u) << "one of the two sweeps it";
  EXPECT_EQ(run_sync(ioc, nodes.claim_silent_nodes("here", 15))->size(), 0u);
  // The sweeper died: after the node timeout the claim lapses and another takes it.
  db.scalar("UPDATE cluster_nodes SET swept_until = now() - interval '1 second' WHERE name = 'gone'");
  EXPECT_EQ(*run_sync(ioc, nodes.claim_silent_nodes("there", 15)), std::vector<std::string>{"gone"});
  // It came back: no longer silent, and its next silence is claimed at once.
  ASSERT_TRUE(run_sync(ioc, nodes.heartbeat("gone")));
  EXPECT_TRUE(run_sync(ioc, nodes.claim_silent_nodes("here", 15))->empty());
  db.scalar("UPDATE cluster_nodes SET heartbeat_at = now() - interval '1 hour' WHERE name = 'gone'");
  EXPECT_EQ(*run_sync(ioc, nodes.claim_silent_nodes("here", 15)), std::vector<std::string>{"gone"});
  EXPECT_TRUE(run_sync(ioc, nodes.claim_silent_nodes("here", 15))->empty())
      << "nor twice by the same node";
}
