// What survives a crash, a restart and a shutdown: acked messages, presence flags, close codes.
#include <set>
#include <filesystem>
#include <memory>
#include <fstream>
#include <cstdlib>
#include <thread>

#include <libpq-fe.h>

#include "e2e/e2e_fixture.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

using namespace chatd::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {
bool eventually_offline(TestDatabase& db, std::int64_t user) {
  for (int i = 0; i < 100; ++i) {
    if (db.scalar("SELECT is_online FROM users WHERE id = " + std::to_string(user)) == "f")
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

const std::map<std::string, std::string> kFast = {{"CHATD_WS_EVENT_BURST", "100000"},
                                                   {"CHATD_WS_EVENTS_PER_SECOND", "100000"}};
}

TEST(Durability, Kill9MidBurstLosesNoAckedMessageAndStaleOnlineFlagsAreCleared) {
  TestDatabase db("crash");
  auto server = std::make_unique<ChatdProcess>(db.conninfo(), kFast);
  server->start();
  auto a = must_register(server->port(), "crash_a");
  auto b = must_register(server->port(), "crash_b");
  std::set<std::int64_t> acked;
  {
    WsClient ca(server->port(), a.token);
    ca.next_of("ready");
    std::thread flood([&] {
      for (int i = 0; i < 3000; ++i) {
        json::object e{{"type", "send_message"}, {"to", b.id}, {"content", numbered("crash ", i)},
                       {"client_id", numbered("k", i)}};
        ca.send(json::value(e));
      }
    });
    // Kill as soon as some acks are in, while the rest are in flight.
    for (int got = 0; got < 200;) {
      auto ack = ca.next_of("ack", 20s);
      acked.insert(ack.at("message").at("id").as_int64());
      ++got;
    }
    server->kill9();
    flood.join();
    while (auto more = ca.next(500ms))
      if (more->at("type").as_string() == "ack") acked.insert(more->at("message").at("id").as_int64());
  }
  ASSERT_GE(acked.size(), 200u);
  EXPECT_EQ(db.scalar("SELECT is_online FROM users WHERE id = " + std::to_string(a.id)), "t")
      << "the crash left the flag behind";

  server = std::make_unique<ChatdProcess>(db.conninfo(), kFast);
  server->start();
  for (auto id : acked)
    ASSERT_EQ(db.scalar("SELECT count(*) FROM messages WHERE id = " + std::to_string(id)), "1")
        << "acked message " << id << " was lost";
  // Gapless even across the crash, and the flag cleared at start-up.
  EXPECT_EQ(db.scalar("SELECT max(seq) = count(*) FROM messages"), "t");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users WHERE is_online"), "0");
  EXPECT_NE(server->log().find("stale online flag"), std::string::npos);
}

TEST(Durability, SigtermClosesWebSocketsWith1001AndExitsZero) {
  TestDatabase db("sigterm");
  ChatdProcess server(db.conninfo());
  server.start();
  auto a = must_register(server.port(), "term_a");
  WsClient ca(server.port(), a.token);
  ca.next_of("ready");
  EXPECT_EQ(server.stop(), 0);
  auto code = ca.wait_closed(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1001);
  EXPECT_EQ(db.scalar("SELECT is_online FROM users WHERE id = " + std::to_string(a.id)), "f");
}

TEST(Durability, TooManyEventsAreRateLimitedAndTheConnectionStays) {
  TestDatabase db("rate");
  ChatdProcess server(db.conninfo(),
                      {{"CHATD_WS_EVENT_BURST", "20"}, {"CHATD_WS_EVENTS_PER_SECOND", "5"}});
  server.start();
  auto a = must_register(server.port(), "rate_a");
  WsClient ca(server.port(), a.token);
  ca.next_of("ready");
  for (int i = 0; i < 60; ++i) ca.send(std::string(R"({"type":"ping"})"));
  int pongs = 0, limited = 0;
  while (auto v = ca.next(1500ms)) {
    if (v->at("type").as_string() == "pong") ++pongs;
    if (v->at("type").as_string() == "error") {
      EXPECT_EQ(v->at("code").as_string(), "rate_limited");
      ++limited;
    }
  }
  EXPECT_GE(pongs, 20);
  EXPECT_GT(limited, 0);
  EXPECT_EQ(pongs + limited, 60);
  std::this_thread::sleep_for(1s);
  ca.send(std::string(R"({"type":"ping"})"));
  EXPECT_EQ(ca.next_of("pong").at("type").as_string(), "pong");
}

TEST(Durability, ARateLimitedSendNamesItsClientIdSoExactlyTheRefusedAreResent) {
  TestDatabase db("rate_cid");
  ChatdProcess server(db.conninfo(),
                      {{"CHATD_WS_EVENT_BURST", "10"}, {"CHATD_WS_EVENTS_PER_SECOND", "20"}});
  server.start();
  auto a = must_register(server.port(), "rcid_a");
  auto b = must_register(server.port(), "rcid_b");
  WsClient ca(server.port(), a.token);
  WsClient cb(server.port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  std::set<std::string> acked, refused;
  for (int i = 0; i < 30; ++i) refused.insert(numbered("c", i));
  int rounds = 0, ever_refused = 0;
  while (!refused.empty() && rounds++ < 10) {
    const auto round = refused;
    refused.clear();
    for (const auto& cid : round) ca.send_direct(b.id, "m " + cid, cid);
    // Every send is answered once: an ack, or an error that names its client_id.
    for (std::size_t answered = 0; answered < round.size();) {
      auto v = ca.next(5s);
      ASSERT_TRUE(v) << "a send_message went unanswered";
      const auto type = v->at("type").as_string();
      if (type != "ack" && type != "error") continue;
      ++answered;
      ASSERT_TRUE(v->as_object().contains("client_id")) << *v;
      ASSERT_TRUE(v->at("client_id").is_string()) << *v;
      const std::string cid(v->at("client_id").as_string());
      if (type == "ack") {
        EXPECT_TRUE(acked.insert(cid).second) << "acked twice: " << cid;
      } else {
        EXPECT_EQ(v->at("code").as_string(), "rate_limited");
        refused.insert(cid);
        ++ever_refused;
      }
    }
    std::this_thread::sleep_for(600ms);  // the bucket refills
  }
  EXPECT_GT(ever_refused, 0) << "the burst was never exceeded";
  EXPECT_TRUE(refused.empty());
  EXPECT_EQ(acked.size(), 30u);
  auto got = cb.collect("message", 30, 10s);
  std::set<std::string> delivered;
  for (const auto& m : got) delivered.insert(std::string(m.at("message").at("client_id").as_string()));
  EXPECT_EQ(delivered, acked);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM messages"), "30");
}

TEST(Durability, ASilentPeerIsDroppedAfterTheIdleTimeout) {
  TestDatabase db("idle");
  ChatdProcess server(db.conninfo(), {{"CHATD_WS_IDLE_TIMEOUT_SECONDS", "2"}});
  server.start();
  auto a = must_register(server.port(), "idle_a");
  auto b = must_register(server.port(), "idle_b");
  WsClient silent(server.port(), a.token, false, /*read=*/false);  // never answers pings
  WsClient alive(server.port(), b.token);                            // answers them
  std::this_thread::sleep_for(5s);
  silent.start_reading();
  EXPECT_TRUE(silent.wait_closed(3s)) << "dropped after 2 s without a pong";
  EXPECT_FALSE(alive.is_closed()) << "a peer that answers pings stays";
  EXPECT_TRUE(eventually_offline(db, a.id));
  EXPECT_EQ(metric_value(server.port(), "chatd_ws_idle_timeouts_total"), 1);
}

// A peer whose frames wait unread because this node is behind is not silent (net/ws_session.cpp,
// keep_alive_due). Here the node's reader for b waits on PostgreSQL: a test transaction holds b's
// member row, so b's mark_read waits for it, and b's pings and pongs after it sit unread for
// longer than the 2 s timeout. Released, they are all answered and nothing was dropped.
TEST(Durability, APeerWhoseFramesWaitUnreadWhileTheNodeIsBehindIsNotDropped) {
  TestDatabase db("behind");
  ChatdProcess server(db.conninfo(), {{"CHATD_WS_IDLE_TIMEOUT_SECONDS", "2"}});
  server.start();
  auto a = must_register(server.port(), "behind_a");
  auto b = must_register(server.port(), "behind_b");
  WsClient wa(server.port(), a.token);
  WsClient wb(server.port(), b.token);
  wa.next_of("ready");
  wb.next_of("ready");
  wa.send_direct(b.id, "hello");
  const auto conv = wa.next_of("ack").at("message").at("conversation_id").as_int64();
  wb.next_of("message");
  std::unique_ptr<PGconn, decltype(&PQfinish)> holder(PQconnectdb(db.conninfo().c_str()),
                                                      &PQfinish);
  ASSERT_EQ(PQstatus(holder.get()), CONNECTION_OK);
  auto exec = [&](const std::string& sql) {
    PGresult* r = PQexec(holder.get(), sql.c_str());
    const auto st = PQresultStatus(r);
    PQclear(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  };
  ASSERT_TRUE(exec("BEGIN"));
  ASSERT_TRUE(exec("SELECT 1 FROM conversation_members WHERE conversation_id = " +
                   std::to_string(conv) + " AND user_id = " + std::to_string(b.id) + " FOR UPDATE"));
  wb.send(json::value{{"type", "mark_read"}, {"conversation_id", conv}, {"seq", 1}});
  for (int i = 0; i < 9; ++i) {  // 4.5 s: over two timeouts, under the 5 s query timeout
    wb.send(std::string(R"({"type":"ping"})"));
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_FALSE(wb.is_closed()) << "dropped as silent while its frames waited unread";
  ASSERT_TRUE(exec("COMMIT"));
  holder.reset();
  EXPECT_EQ(wb.collect("pong", 9, 10s).size(), 9u);
  auto receipt = wa.next_of("receipt", 5s);
  while (receipt.at("status") != "read") receipt = wa.next_of("receipt", 5s);
  EXPECT_EQ(receipt.at("up_to_seq").as_int64(), 1) << "the mark_read went through";
  EXPECT_FALSE(wb.is_closed());
  EXPECT_EQ(metric_value(server.port(), "chatd_ws_idle_timeouts_total"), 0);
}

// But a peer that does not read its own queue is judged by the timeout even if it wrote frames
// this node has not read: with its queue over half full the node stopped reading from it
// (backpressure), so those frames wait on the peer, not on the node.
TEST(Durability, APeerThatReadsNothingIsDroppedEvenWithFramesWaitingUnread) {
  TestDatabase db("unread");
  auto env = kFast;
  env["CHATD_WS_IDLE_TIMEOUT_SECONDS"] = "2";
  env["CHATD_WS_QUEUE_BYTES"] = "4194304";
  ChatdProcess server(db.conninfo(), env);
  server.start();
  auto a = must_register(server.port(), "unread_a");
  auto b = must_register(server.port(), "unread_b");
  WsClient wa(server.port(), a.token);
  WsClient sleeper(server.port(), b.token, false, /*read=*/false);
  wa.next_of("ready");
  // Fill the sleeper's queue past half (2 MiB) and short of full, past the socket buffers. It
  // writes a frame with every batch, so the fill (slow in a Debug build) is not itself taken for
  // silence.
  const std::string payload(4000, 'z');
  int sent = 0;
  while (metric_value(server.port(), "chatd_ws_queued_bytes") < 2400000 && sent < 20000) {
    sleeper.send(std::string(R"({"type":"ping"})"));
    for (int i = 0; i < 50; ++i, ++sent) wa.send_direct(b.id, payload);
    wa.collect("ack", 50, 30s);
  }
  ASSERT_EQ(metric_value(server.port(), "chatd_ws_idle_timeouts_total"), 0);
  ASSERT_GE(metric_value(server.port(), "chatd_ws_queued_bytes"), 2400000);
  ASSERT_LT(metric_value(server.port(), "chatd_ws_queued_bytes"), 3500000);
  // One frame it reads (and then pauses), one left unread in the socket; then nothing.
  sleeper.send(std::string(R"({"type":"ping"})"));
  sleeper.send(std::string(R"({"type":"ping"})"));
  std::this_thread::sleep_for(6s);  // three timeouts
  EXPECT_EQ(metric_value(server.port(), "chatd_ws_idle_timeouts_total"), 1)
      << "held for ever by one unread frame";
  EXPECT_NE(server.log().find("silent for 2 s"), std::string::npos);
  EXPECT_EQ(metric_value(server.port(), "chatd_ws_queued_bytes"), 0) << "its queue let go";
  sleeper.start_reading();
  EXPECT_TRUE(sleeper.wait_closed(30s));
  EXPECT_EQ(http_request(server.port(), "GET", "/healthz").status, 200);
}

// The keep-alive (PROTOCOL §3, docs/decisions.md): with a 4 s timeout a silent connection is
// pinged after 3 s of silence and keeps answering; one that sends something every second is
// never pinged; neither is dropped.
TEST(Durability, OnlySilentPeersArePingedAndThoseThatAnswerStay) {
  TestDatabase db("pings");
  ChatdProcess server(db.conninfo(), {{"CHATD_WS_IDLE_TIMEOUT_SECONDS", "4"}});
  server.start();
  auto a = must_register(server.port(), "ping_a");
  auto b = must_register(server.port(), "ping_b");
  WsClient quiet(server.port(), a.token);
  WsClient busy(server.port(), b.token);
  quiet.next_of("ready");
  busy.next_of("ready");
  for (int i = 0; i < 9; ++i) {
    busy.send(std::string(R"({"type":"ping"})"));
    std::this_thread::sleep_for(1s);
  }
  EXPECT_GE(quiet.pings_received(), 1u) << "pinged after 3 s of silence";
  EXPECT_LE(quiet.pings_received(), 3u) << "about once every 3 s, not more";
  EXPECT_EQ(busy.pings_received(), 0u) << "a connection heard from every second is not pinged";
  EXPECT_FALSE(quiet.is_closed());
  EXPECT_FALSE(busy.is_closed());
  EXPECT_EQ(metric_value(server.port(), "chatd_ws_idle_timeouts_total"), 0);
}

TEST(Durability, MetricsCountRequestsConnectionsAndMessages) {
  TestDatabase db("metrics");
  ChatdProcess server(db.conninfo());
  server.start();
  auto a = must_register(server.port(), "met_a");
  auto b = must_register(server.port(), "met_b");
  {
    WsClient ca(server.port(), a.token);
    ca.next_of("ready");
    ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "count me"}});
    ca.next_of("ack");
    auto m = http_request(server.port(), "GET", "/metrics");
    EXPECT_EQ(m.status, 200);
    EXPECT_TRUE(m.headers["content-type"].starts_with("text/plain"));
    EXPECT_NE(m.body.find("chatd_ws_connections 1\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("chatd_messages_stored_total 1\n"), std::string::npos) << m.body;
    EXPECT_NE(m.body.find("chatd_http_requests_total{code=\"2xx\"} "), std::string::npos);
  }
  http_request(server.port(), "GET", "/no/such/page");
  // A request's latency is observed once its answer is written: the client may be quicker.
  HttpResult m;
  for (int i = 0; i < 50; ++i) {
    m = http_request(server.port(), "GET", "/metrics");
    if (m.body.find("route=\"/metrics\",status=\"200\"} ") != std::string::npos &&
        m.body.find("route=\"unmatched\",status=\"404\"} 1\n") != std::string::npos)
      break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(m.body.find("chatd_http_requests_total{code=\"4xx\"} 1\n"), std::string::npos) << m.body;
  // Histograms (issue 13): send → ack, the batch commit, the database wait, HTTP by route.
  EXPECT_NE(m.body.find("# TYPE chatd_send_to_ack_seconds histogram\n"), std::string::npos);
  EXPECT_NE(m.body.find("chatd_send_to_ack_seconds_bucket{le=\"+Inf\"} 1\n"), std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("chatd_send_to_ack_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(m.body.find("chatd_batch_commit_seconds_count 1\n"), std::string::npos);
  EXPECT_NE(m.body.find("chatd_db_acquire_wait_seconds_count "), std::string::npos);
  EXPECT_NE(m.body.find("chatd_http_request_seconds_count{method=\"GET\",route=\"/metrics\","
                        "status=\"200\"} "),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("chatd_http_request_seconds_bucket{method=\"GET\",route=\"unmatched\","
                        "status=\"404\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  // Queue depths (gauges), all drained at rest.
  for (const char* q : {"messages_to_store", "deliveries_to_record", "ws_outbound", "push",
                        "password_hashes", "db_acquire"})
    EXPECT_NE(m.body.find(std::string("chatd_queue_depth{queue=\"") + q + "\"} 0\n"),
              std::string::npos)
        << q << "\n" << m.body;
  EXPECT_NE(m.body.find("chatd_ws_queued_bytes 0\n"), std::string::npos);

  // The exposition as Prometheus reads it: promtool (Debian's prometheus package; scripts/test
  // unpacks it and names it in CHATD_PROMTOOL) checks the syntax and the naming rules.
  const char* promtool = std::getenv("CHATD_PROMTOOL");
  ASSERT_NE(promtool, nullptr) << "run through scripts/test, which provides promtool";
  const auto file = std::filesystem::temp_directory_path() /
                    ("chatd-metrics-" + std::to_string(::getpid()) + ".txt");
  { std::ofstream(file) << m.body; }
  const auto r =
      run_command(std::string(promtool) + " check metrics < " + file.string() + " 2>&1");
  std::filesystem::remove(file);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "promtool found problems";
}
