// Several chatd nodes (PROTOCOL §8): real chatd processes on one database, a real nats-server
// between them, clients connected to different nodes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <signal.h>

#include <cstdio>
#include <set>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/nats_process.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

json::value dm(std::int64_t to, const std::string& content, const std::string& cid = "") {
  json::object e{{"type", "send_message"}, {"to", to}, {"content", content}};
  if (!cid.empty()) e["client_id"] = cid;
  return e;
}

json::value group_msg(std::int64_t group, const std::string& content) {
  return json::object{{"type", "send_message"}, {"group_id", group}, {"content", content}};
}

class ClusterE2E : public ::testing::Test {
 protected:
  static constexpr int kTimeoutSeconds = 3;

  void SetUp() override {
    nats_.start();
    db_ = std::make_unique<TestDatabase>("cluster");
    for (int i = 0; i < 3; ++i) nodes_.push_back(make_node(i));
    for (auto& n : nodes_) n->start();
  }

  std::unique_ptr<ChatdProcess> make_node(int i) {
    return std::make_unique<ChatdProcess>(
        db_->conninfo(), std::map<std::string, std::string>{
                             {"CHATD_NATS_URL", nats_.url()},
                             {"CHATD_NODE_NAME", numbered("node-", i)},
                             {"CHATD_NODE_TIMEOUT_SECONDS", std::to_string(kTimeoutSeconds)}});
  }

  std::uint16_t port(int node) const { return nodes_[static_cast<std::size_t>(node)]->port(); }

  // a on node 0 (connected) and b registered on node 1, sharing a conversation: each is told of
  // the other's presence.
  struct Contacts {
    Registered a, b;
    std::unique_ptr<WsClient> ca;
  };
  Contacts contacts(const std::string& prefix) {
    Contacts c{must_register(port(0), prefix + "_a"), must_register(port(1), prefix + "_b"), {}};
    c.ca = std::make_unique<WsClient>(port(0), c.a.token);
    c.ca->next_of("ready");
    c.ca->send(dm(c.b.id, "contacts"));
    c.ca->next_of("ack");
    return c;
  }

  // A counter or gauge of one node's /metrics (-1 when it is not there).
  long long metric(int node, const std::string& name) const {
    return metric_value(port(node), name);
  }

  NatsProcess nats_;
  std::unique_ptr<TestDatabase> db_;
  std::vector<std::unique_ptr<ChatdProcess>> nodes_;
};

TEST_F(ClusterE2E, ADirectMessageReceiptsAndTypingCrossNodes) {
  auto a = must_register(port(0), "x_alice");
  auto b = must_register(port(1), "x_bob");
  WsClient ca(port(0), a.token), cb(port(1), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(dm(b.id, "hello across nodes", "x1"));
  const auto m = ca.next_of("ack").at("message");
  auto got = cb.next_of("message", 5s);
  EXPECT_EQ(got.at("message"), m);
  auto delivered = ca.next_of("receipt", 5s);
  EXPECT_EQ(delivered.at("status").as_string(), "delivered");
  EXPECT_EQ(delivered.at("user_id").as_int64(), b.id);

  cb.send(json::value{{"type", "mark_read"}, {"conversation_id", m.at("conversation_id")}, {"seq", 1}});
  auto read = ca.next_of("receipt", 5s);
  EXPECT_EQ(read.at("status").as_string(), "read");

  cb.send(json::value{{"type", "typing"}, {"conversation_id", m.at("conversation_id")}});
  auto typing = ca.next_of("typing", 5s);
  EXPECT_EQ(typing.at("user_id").as_int64(), b.id);

  ca.send(json::value{{"type", "edit_message"}, {"message_id", m.at("id")}, {"content", "edited"}});
  EXPECT_EQ(cb.next_of("message_updated", 5s).at("message").at("content").as_string(), "edited");
  ca.send(json::value{{"type", "delete_message"}, {"message_id", m.at("id")}});
  EXPECT_TRUE(cb.next_of("message_updated", 5s).at("message").at("deleted").as_bool());
  EXPECT_EQ(ca.count_received("message"), 0u) << "the sending connection gets only its ack";

  // A logout on node 0 closes the token's WebSocket on node 1 and is refused there.
  WsClient elsewhere(port(1), a.token);
  elsewhere.next_of("ready");
  EXPECT_EQ(http_request(port(0), "POST", "/auth/logout", "", a.token).status, 204);
  auto code = elsewhere.wait_closed(2s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 4001);
  // Node 2 learns of it from the same `revoke` event as node 1, on its own time: the first
  // request after node 1's close may come before it (seen once under a concurrent build).
  int status = 0;
  for (int i = 0; i < 100 && status != 401; ++i) {
    status = http_request(port(2), "GET", "/users/me", "", a.token).status;
    if (status != 401) std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(status, 401) << "refused on the third node within 2 s";
}

TEST_F(ClusterE2E, AGroupWhoseMembersSitOnThreeNodesGetsEveryMessageInOrder) {
  auto u0 = must_register(port(0), "g3_a");
  auto u1 = must_register(port(1), "g3_b");
  auto u2 = must_register(port(2), "g3_c");
  auto created = http_request(port(0), "POST", "/groups",
                              json_body(json::object{{"name", "spread"},
                                                     {"members", json::array{u1.id, u2.id}}}),
                              u0.token);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto group = created.json.at("group").at("id").as_int64();
  WsClient c0(port(0), u0.token), c1(port(1), u1.token), c2(port(2), u2.token);
  for (auto* c : {&c0, &c1, &c2}) c->next_of("ready");
  // Everyone writes at once, each from its own node: seqs come from three committers.
  std::vector<std::thread> writers;
  int w = 0;
  for (auto* c : {&c0, &c1, &c2}) {
    writers.emplace_back([c, group, w] {
      for (int k = 0; k < 40; ++k) c->send(group_msg(group, numbered(numbered("w", w) + "-", k)));
    });
    ++w;
  }
  for (auto& t : writers) t.join();
  for (auto* c : {&c0, &c1, &c2}) {
    EXPECT_EQ(c->collect("ack", 40, 30s).size(), 40u);
    auto got = c->collect("message", 80, 30s);
    ASSERT_EQ(got.size(), 80u) << "every message of the two others";
    for (std::size_t i = 1; i < got.size(); ++i)
      EXPECT_LT(got[i - 1].at("message").at("seq").as_int64(),
                got[i].at("message").at("seq").as_int64())
          << "seq order on every node";
  }
  // Stopped one after the other while the others still publish (their users going offline):
  // each exits cleanly, with NATS callbacks arriving during its shutdown.
  for (auto& n : nodes_) EXPECT_EQ(n->stop(), 0) << n->log();
}

TEST_F(ClusterE2E, DevicesOfOneUserOnTwoNodesBothGetEverything) {
  auto a = must_register(port(0), "dev_a");
  auto b = must_register(port(2), "dev_b");
  WsClient phone(port(0), a.token), laptop(port(1), a.token), cb(port(2), b.token);
  for (auto* c : {&phone, &laptop, &cb}) c->next_of("ready");
  cb.send(dm(a.id, "to both devices"));
  EXPECT_EQ(phone.next_of("message", 5s).at("message").at("content").as_string(),
            "to both devices");
  EXPECT_EQ(laptop.next_of("message", 5s).at("message").at("content").as_string(),
            "to both devices");
  phone.send(dm(b.id, "from my phone"));
  phone.next_of("ack");
  EXPECT_EQ(cb.next_of("message", 5s).at("message").at("content").as_string(), "from my phone");
  EXPECT_EQ(laptop.next_of("message", 5s).at("message").at("content").as_string(),
            "from my phone")
      << "the sender's other device, on another node";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(phone.count_received("message"), 0u) << "each once";
  EXPECT_EQ(laptop.count_received("message"), 0u);
}

TEST_F(ClusterE2E, PresenceIsPerUserAcrossNodes) {
  auto a = must_register(port(0), "p_a");
  auto b = must_register(port(1), "p_b");
  WsClient ca(port(0), a.token);
  ca.next_of("ready");
  ca.send(dm(b.id, "now we are contacts"));
  ca.next_of("ack");
  auto b1 = std::make_unique<WsClient>(port(1), b.token);
  b1->next_of("ready");
  auto online = ca.next_of("presence", 5s);
  EXPECT_EQ(online.at("user_id").as_int64(), b.id);
  EXPECT_TRUE(online.at("online").as_bool());
  auto b2 = std::make_unique<WsClient>(port(2), b.token);
  b2->next_of("ready");
  b1.reset();  // still connected on node 2
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(ca.count_received("presence"), 0u) << "online while any node holds a connection";
  EXPECT_EQ(db_->scalar("SELECT is_online FROM users WHERE id = " + std::to_string(b.id)), "t");
  b2.reset();
  auto offline = ca.next_of("presence", 5s);
  EXPECT_FALSE(offline.at("online").as_bool());
  EXPECT_TRUE(offline.at("last_seen").is_string());
}

TEST_F(ClusterE2E, AKilledNodesUsersGoOfflineWithinTheTimeoutUnlessConnectedElsewhere) {
  auto a = must_register(port(0), "k_a");
  auto b = must_register(port(1), "k_b");
  auto c = must_register(port(1), "k_c");
  WsClient ca(port(0), a.token);
  ca.next_of("ready");
  for (auto id : {b.id, c.id}) {
    ca.send(dm(id, "contacts"));
    ca.next_of("ack");
  }
  WsClient cb(port(1), b.token), cc1(port(1), c.token), cc2(port(2), c.token);
  for (auto* cl : {&cb, &cc1, &cc2}) cl->next_of("ready");
  ca.collect("presence", 2, 5s);  // b and c came online
  const auto killed = std::chrono::steady_clock::now();
  nodes_[1]->kill9();
  auto offline = ca.next_of("presence", std::chrono::seconds(kTimeoutSeconds + 5));
  const auto took = std::chrono::steady_clock::now() - killed;
  EXPECT_EQ(offline.at("user_id").as_int64(), b.id);
  EXPECT_FALSE(offline.at("online").as_bool());
  EXPECT_TRUE(offline.at("last_seen").is_string());
  EXPECT_LT(took, std::chrono::seconds(kTimeoutSeconds + 3));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(ca.count_received("presence"), 0u) << "c is still connected to node 2";
  EXPECT_EQ(db_->scalar("SELECT is_online FROM users WHERE id = " + std::to_string(c.id)), "t");
  EXPECT_EQ(db_->scalar("SELECT is_online FROM users WHERE id = " + std::to_string(b.id)), "f");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM cluster_nodes WHERE name = 'node-1'"), "0");
}

// A node that stalls longer than the node timeout (SIGSTOP: a frozen VM, a starved process) is
// found silent and its users turned offline; when it runs again it stores them online again.
TEST_F(ClusterE2E, AStalledNodesUsersComeBackOnlineWhenItRunsAgain) {
  auto [a, b, pa] = contacts("st");
  auto& ca = *pa;
  WsClient cb(port(1), b.token);
  cb.next_of("ready");
  EXPECT_TRUE(ca.next_of("presence", 5s).at("online").as_bool());
  ::kill(nodes_[1]->pid(), SIGSTOP);
  auto offline = ca.next_of("presence", std::chrono::seconds(kTimeoutSeconds + 5));
  ::kill(nodes_[1]->pid(), SIGCONT);
  EXPECT_EQ(offline.at("user_id").as_int64(), b.id);
  EXPECT_FALSE(offline.at("online").as_bool());
  auto back = ca.next_of("presence", std::chrono::seconds(kTimeoutSeconds + 5));
  EXPECT_EQ(back.at("user_id").as_int64(), b.id);
  EXPECT_TRUE(back.at("online").as_bool()) << "b never left node 1";
  EXPECT_EQ(db_->scalar("SELECT is_online FROM users WHERE id = " + std::to_string(b.id)), "t");
}

TEST_F(ClusterE2E, ANodeRestartedUnderItsNameLeavesNoGhosts) {
  auto [a, b, pa] = contacts("r");
  auto& ca = *pa;
  {
    WsClient cb(port(1), b.token);
    cb.next_of("ready");
    ca.next_of("presence", 5s);
    nodes_[1]->kill9();
  }
  nodes_[1] = make_node(1);
  nodes_[1]->start();  // sooner than the timeout: the node itself clears its past sessions
  auto offline = ca.next_of("presence", 5s);
  EXPECT_EQ(offline.at("user_id").as_int64(), b.id);
  EXPECT_FALSE(offline.at("online").as_bool());
  EXPECT_EQ(db_->scalar("SELECT is_online FROM users WHERE id = " + std::to_string(b.id)), "f");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM node_presence WHERE online"), "1") << "only a";
}

TEST_F(ClusterE2E, NatsStoppedMidBurstLosesNothingAndShowsNothingTwice) {
  auto a = must_register(port(0), "n_a");
  auto b = must_register(port(1), "n_b");
  WsClient ca(port(0), a.token), cb(port(1), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  constexpr int kMessages = 150;
  for (int i = 0; i < kMessages; ++i) {
    if (i == 50) nats_.stop();
    if (i == 100) nats_.start();
    ca.send(dm(b.id, numbered("burst ", i)));
    if (i % 10 == 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ca.collect("ack", kMessages, 30s).size(), static_cast<std::size_t>(kMessages));
  auto got = cb.collect("message", kMessages, 30s);
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kMessages)) << "every acked message arrives";
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(got[i].at("message").at("seq").as_int64(), static_cast<std::int64_t>(i + 1))
        << "in order, once";
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(cb.count_received("message"), 0u) << "nothing shown twice";
}

// After a NATS outage a node resyncs all its connections at once; each first asks, with the
// others, whether anything waits for it: the replay is read only for the one that has a
// message, the idle ones skip it (one read per connection had exhausted a node's pool).
TEST_F(ClusterE2E, AResyncAfterANatsOutageReadsTheReplayOnlyWhereSomethingWaits) {
  auto a = must_register(port(0), "rs_a");
  auto b = must_register(port(1), "rs_b");
  WsClient ca(port(0), a.token), cb(port(1), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  std::vector<std::unique_ptr<WsClient>> idle;
  for (int i = 0; i < 3; ++i) {
    const auto u = must_register(port(1), numbered("rs_i", i));
    idle.push_back(std::make_unique<WsClient>(port(1), u.token));
    idle.back()->next_of("ready");
  }
  const auto skipped = metric(1, "chatd_ws_replays_skipped_total");
  const auto reconnects = metric(1, "chatd_nats_reconnects_total");
  ASSERT_GE(skipped, 0);
  ASSERT_GE(reconnects, 0);
  nats_.stop();
  ca.send(dm(b.id, "while the bus was away", "rs-1"));
  EXPECT_EQ(ca.next_of("ack", 10s).at("client_id").as_string(), "rs-1") << "stored meanwhile";
  nats_.start();
  auto got = cb.next_of("message", 20s);
  EXPECT_EQ(got.at("message").at("content").as_string(), "while the bus was away");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         (metric(1, "chatd_nats_reconnects_total") <= reconnects ||
          metric(1, "chatd_ws_replays_skipped_total") < skipped + 3))
    std::this_thread::sleep_for(50ms);
  EXPECT_GT(metric(1, "chatd_nats_reconnects_total"), reconnects);
  // The three idle connections at least (b's too when the buffered event reached it first).
  EXPECT_GE(metric(1, "chatd_ws_replays_skipped_total") - skipped, 3);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(cb.count_received("message"), 0u) << "given once";
  for (auto& c : idle) EXPECT_EQ(c->count_received("message"), 0u);
}

// Routing by interest (docs/scaling.md): an event for a few users reaches only the nodes that
// hold them; one for many goes to every node.
TEST_F(ClusterE2E, ADirectMessageReachesOnlyTheNodesHoldingItsUsers) {
  auto a = must_register(port(0), "i_a");
  auto b = must_register(port(1), "i_b");
  WsClient ca(port(0), a.token), cb(port(1), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(dm(b.id, "warm up"));  // contacts now: presence and receipts cross too
  cb.next_of("message", 5s);
  ca.next_of("receipt", 5s);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metric(0, "chatd_nats_user_subscriptions"), 1);
  EXPECT_EQ(metric(2, "chatd_nats_user_subscriptions"), 0);
  const auto idle_before = metric(2, "chatd_nats_received_total");
  const auto b_before = metric(1, "chatd_nats_received_total");
  ASSERT_GE(idle_before, 0);
  for (int i = 0; i < 20; ++i) ca.send(dm(b.id, numbered("only for b ", i)));
  EXPECT_EQ(cb.collect("message", 20, 10s).size(), 20u);
  std::int64_t up_to = 0;  // deliveries recorded together are told in one receipt
  while (up_to < 21) up_to = ca.next_of("receipt", 5s).at("up_to_seq").as_int64();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metric(2, "chatd_nats_received_total"), idle_before)
      << "node 2 holds neither user: it is sent nothing of their conversation";
  EXPECT_GE(metric(1, "chatd_nats_received_total") - b_before, 20);

  // A group of more members than CHATD_NATS_INTEREST_MAX (8) goes to every node.
  json::array members;
  for (int i = 0; i < 9; ++i) members.push_back(must_register(port(0), numbered("i_m", i)).id);
  members.push_back(b.id);
  auto created = http_request(port(0), "POST", "/groups",
                              json_body(json::object{{"name", "wide"}, {"members", members}}),
                              a.token);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto group = created.json.at("group").at("id").as_int64();
  ca.send(group_msg(group, "to many"));
  EXPECT_EQ(cb.next_of("message", 5s).at("message").at("content").as_string(), "to many");
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(metric(2, "chatd_nats_received_total"), idle_before) << "broadcast to every node";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(cb.count_received("message"), 0u) << "once";
}

// A node that held none of a conversation's members for a while has missed its messages (they
// were routed elsewhere): what it remembers of the conversation is stale, and a gap to the next
// message must not be "filled" with messages its connections already got on another node.
TEST_F(ClusterE2E, AUserBackOnANodeThatMissedTheConversationGetsOnlyNewMessages) {
  auto a = must_register(port(0), "s_a");
  auto b = must_register(port(1), "s_b");
  WsClient ca(port(0), a.token);
  ca.next_of("ready");
  {
    WsClient on1(port(1), b.token);
    on1.next_of("ready");
    ca.send(dm(b.id, "one"));
    EXPECT_EQ(on1.next_of("message", 5s).at("message").at("seq").as_int64(), 1);
    ca.next_of("receipt", 5s);
    std::this_thread::sleep_for(300ms);  // its delivery recorded
  }
  {
    WsClient on2(port(2), b.token);  // node 1 now holds nobody of the conversation
    on2.next_of("ready");
    ca.send(dm(b.id, "two"));
    ca.send(dm(b.id, "three"));
    EXPECT_EQ(on2.collect("message", 2, 5s).size(), 2u);
    ca.collect("receipt", 3, 5s);
  }
  std::this_thread::sleep_for(300ms);  // their deliveries recorded
  WsClient back(port(1), b.token);
  back.next_of("ready");
  ca.send(dm(b.id, "four"));
  auto got = back.next_of("message", 5s);
  EXPECT_EQ(got.at("message").at("content").as_string(), "four");
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(back.count_received("message"), 0u) << "two and three were delivered already";
  EXPECT_GE(metric(1, "chatd_cluster_stale_conversations_total"), 1);
}

// The server of `servers` the process `pid` holds a connection to (ss from iproute2), or -1.
int nats_server_of(pid_t pid, const std::vector<std::unique_ptr<NatsProcess>>& servers) {
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const auto out = run_command("ss -Htnp state established '( dport = :" +
                                 std::to_string(servers[i]->port()) + " )' 2>/dev/null")
                         .output;
    if (out.find("pid=" + std::to_string(pid) + ",") != std::string::npos)
      return static_cast<int>(i);
  }
  return -1;
}

// PROTOCOL §11: three nats-servers in one NATS cluster, every node given all three URLs. The
// server the sender's node is connected to is killed with -9 mid-burst, in both directions:
// every acked message reaches its recipient once, in order. (With only the killed server's URL
// the node never reconnects and the rest of the burst is never delivered live.)
TEST(NatsClusterE2E, OneOfThreeServersKilledMidBurstLosesNothingAndShowsNothingTwice) {
  auto nats = nats_cluster(3);
  TestDatabase db("nats_cluster");
  std::vector<std::unique_ptr<ChatdProcess>> nodes;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(std::make_unique<ChatdProcess>(
        db.conninfo(), std::map<std::string, std::string>{
                           {"CHATD_NATS_URL", nats_urls(nats)},
                           {"CHATD_NODE_NAME", numbered("nc-", i)}}));
    nodes.back()->start();
  }
  const auto a = must_register(nodes[0]->port(), "nc_a");
  const auto d = must_register(nodes[0]->port(), "nc_d");
  const auto b = must_register(nodes[1]->port(), "nc_b");
  const auto c = must_register(nodes[1]->port(), "nc_c");
  WsClient ca(nodes[0]->port(), a.token), cd(nodes[0]->port(), d.token);
  WsClient cb(nodes[1]->port(), b.token), cc(nodes[1]->port(), c.token);
  for (auto* cl : {&ca, &cb, &cc, &cd}) cl->next_of("ready");
  int victim = -1;
  for (int i = 0; i < 50 && victim < 0; ++i) {
    victim = nats_server_of(nodes[0]->pid(), nats);
    if (victim < 0) std::this_thread::sleep_for(100ms);
  }
  ASSERT_GE(victim, 0) << "node 0 is connected to one of the three";
  const int other = nats_server_of(nodes[1]->pid(), nats);

  constexpr int kMessages = 150;
  for (int i = 0; i < kMessages; ++i) {
    if (i == 50) nats[static_cast<std::size_t>(victim)]->kill9();
    ca.send(dm(b.id, numbered("a to b ", i)));  // node 0 to node 1
    cc.send(dm(d.id, numbered("c to d ", i)));  // node 1 to node 0
    if (i % 10 == 0) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ca.collect("ack", kMessages, 30s).size(), static_cast<std::size_t>(kMessages));
  EXPECT_EQ(cc.collect("ack", kMessages, 30s).size(), static_cast<std::size_t>(kMessages));
  for (auto* receiver : {&cb, &cd}) {
    auto got = receiver->collect("message", kMessages, 30s);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kMessages)) << "every acked message arrives";
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_EQ(got[i].at("message").at("seq").as_int64(), static_cast<std::int64_t>(i + 1))
          << "in order, once";
  }
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(cb.count_received("message") + cd.count_received("message"), 0u)
      << "nothing shown twice";
  EXPECT_NE(nats_server_of(nodes[0]->pid(), nats), victim);
  EXPECT_GE(nats_server_of(nodes[0]->pid(), nats), 0) << "node 0 moved to a surviving server";
  std::printf("[fault] NATS server %d of 3 killed -9 (node 1 was on %d): %d messages each way,"
              " all delivered once, in order\n",
              victim, other, kMessages);
}

TEST(ClusterStartE2E, AnUnreachableNatsIsRetriedNotFatal) {
  TestDatabase db("cluster_nonats");
  NatsProcess nats;  // its port, not started yet
  ChatdProcess node(db.conninfo(), {{"CHATD_NATS_URL", nats.url()}, {"CHATD_NODE_NAME", "lonely"}});
  node.start();
  auto h = http_request(node.port(), "GET", "/healthz");
  EXPECT_EQ(h.status, 200) << "the node serves its own connections";
  EXPECT_EQ(h.json.at("nats").as_string(), "disconnected");
  EXPECT_NE(node.log().find("unreachable"), std::string::npos) << node.log();
  nats.start();
  std::string state;
  for (int i = 0; i < 100 && state != "connected"; ++i) {
    std::this_thread::sleep_for(100ms);
    state = http_request(node.port(), "GET", "/healthz").json.at("nats").as_string();
  }
  EXPECT_EQ(state, "connected");
  auto metrics = http_request(node.port(), "GET", "/metrics").body;
  EXPECT_NE(metrics.find("chatd_nats_connected 1"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace chatd::test
