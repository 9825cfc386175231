// F02–F04 end to end: real WebSocket connections to the running chatd, real PostgreSQL.
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

using namespace chatd::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

json::value send_event(std::int64_t to, const std::string& content, const std::string& cid = "") {
  json::object e{{"type", "send_message"}, {"to", to}, {"content", content}};
  if (!cid.empty()) e["client_id"] = cid;
  return e;
}

json::value group_event(std::int64_t group, const std::string& content,
                        const std::string& cid = "") {
  json::object e{{"type", "send_message"}, {"group_id", group}, {"content", content}};
  if (!cid.empty()) e["client_id"] = cid;
  return e;
}

// Polls the database until `sql` yields `want` (writes after a close are asynchronous).
bool eventually(TestDatabase& db, const std::string& sql, const std::string& want,
                std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (db.scalar(sql) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

class RealtimeE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("rt", {{"CHATD_WS_EVENT_BURST", "2000"}, {"CHATD_WS_EVENTS_PER_SECOND", "2000"}});
  }
};

}  // namespace

TEST_F(RealtimeE2E, ConnectWithTokenGetsReadyFirstAndIsLogged) {
  auto a = must_register(port(), "ws_alice");
  WsClient by_query(port(), a.token);
  auto ready = by_query.next(5s);
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->at("type").as_string(), "ready");
  EXPECT_EQ(ready->at("user").at("id").as_int64(), a.id);
  EXPECT_TRUE(ready->at("user").at("is_online").as_bool());
  WsClient by_header(port(), a.token, true);
  EXPECT_EQ(by_header.next(5s)->at("type").as_string(), "ready");
  EXPECT_NE(server_->log().find("Client connected: user " + std::to_string(a.id)),
            std::string::npos);
  EXPECT_EQ(db_->scalar("SELECT is_online FROM users WHERE id = " + std::to_string(a.id)), "t");
}

TEST_F(RealtimeE2E, UpgradeWithoutAValidTokenIs401) {
  auto a = must_register(port(), "ws_nobody");
  EXPECT_EQ(upgrade_status(port(), "/ws"), 401);
  EXPECT_EQ(upgrade_status(port(), "/ws?token=garbage"), 401);
  EXPECT_EQ(upgrade_status(port(), "/ws", "Bearer garbage"), 401);
  EXPECT_EQ(upgrade_status(port(), "/elsewhere?token=" + a.token), 404);
  EXPECT_EQ(upgrade_status(port(), "/ws?token=" + a.token), 101);
  EXPECT_THROW(WsClient(port(), "not-a-token"), std::exception);
}

TEST_F(RealtimeE2E, DisconnectingUpdatesLastSeenWithSeveralDevices) {
  auto a = must_register(port(), "ws_devices");
  const auto where = " FROM users WHERE id = " + std::to_string(a.id);
  EXPECT_EQ(db_->scalar("SELECT last_seen IS NULL" + where), "t");
  auto phone = std::make_unique<WsClient>(port(), a.token);
  auto laptop = std::make_unique<WsClient>(port(), a.token);
  phone->next_of("ready");
  laptop->next_of("ready");
  phone->close();
  phone.reset();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(db_->scalar("SELECT is_online" + where), "t") << "one device is still connected";
  laptop->close();
  laptop.reset();
  EXPECT_TRUE(eventually(*db_, "SELECT is_online" + where, "f"));
  EXPECT_EQ(db_->scalar("SELECT last_seen IS NOT NULL AND last_seen > now() - interval '1 minute'" +
                        where),
            "t");
  EXPECT_NE(server_->log().find("Client disconnected: user " + std::to_string(a.id)),
            std::string::npos);
}

TEST_F(RealtimeE2E, DirectMessageIsSavedAckedDeliveredAndReceipted) {
  auto a = must_register(port(), "dm_a");
  auto b = must_register(port(), "dm_b");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(send_event(b.id, "hello bob", "c-1"));

  auto ack = ca.next_of("ack");
  EXPECT_EQ(ack.at("client_id").as_string(), "c-1");
  const auto& m = ack.at("message");
  EXPECT_EQ(m.at("seq").as_int64(), 1);
  EXPECT_EQ(m.at("sender_id").as_int64(), a.id);
  EXPECT_EQ(m.at("to").as_int64(), b.id);
  EXPECT_TRUE(m.at("group_id").is_null());
  EXPECT_EQ(m.at("content").as_string(), "hello bob");
  const auto mid = std::to_string(m.at("id").as_int64());
  const auto conv = std::to_string(m.at("conversation_id").as_int64());

  auto got = cb.next_of("message", 5s);
  EXPECT_EQ(got.at("message"), m) << "the recipient receives the stored message";

  // Persisted: the row, the conversation's last_message_at, a receipt for the recipient.
  EXPECT_EQ(db_->scalar("SELECT content FROM messages WHERE id = " + mid), "hello bob");
  EXPECT_EQ(db_->scalar("SELECT chatd_ts(last_message_at) FROM conversations WHERE id = " + conv),
            std::string(m.at("created_at").as_string()));
  auto receipt = ca.next_of("receipt");
  EXPECT_EQ(receipt.at("status").as_string(), "delivered");
  EXPECT_EQ(receipt.at("user_id").as_int64(), b.id);
  EXPECT_EQ(receipt.at("up_to_seq").as_int64(), 1);
  EXPECT_EQ(db_->scalar("SELECT status FROM message_receipts WHERE message_id = " + mid), "delivered");

  // Read receipts flow back to the sender too.
  cb.send(json::value{{"type", "mark_read"}, {"conversation_id", m.at("conversation_id")}, {"seq", 1}});
  auto read = ca.next_of("receipt");
  EXPECT_EQ(read.at("status").as_string(), "read");
  EXPECT_EQ(read.at("up_to_seq").as_int64(), 1);
  EXPECT_EQ(db_->scalar("SELECT status FROM message_receipts WHERE message_id = " + mid), "read");
}

TEST_F(RealtimeE2E, OtherDevicesOfTheSenderGetTheMessageButTheSendingOneOnlyItsAck) {
  auto a = must_register(port(), "echo_a");
  auto b = must_register(port(), "echo_b");
  WsClient a1(port(), a.token), a2(port(), a.token);
  a1.next_of("ready");
  a2.next_of("ready");
  a1.send(send_event(b.id, "from my phone"));
  auto ack = a1.next_of("ack");
  EXPECT_TRUE(ack.at("client_id").is_null());
  auto echo = a2.next_of("message");
  EXPECT_EQ(echo.at("message").at("id"), ack.at("message").at("id"));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(a1.count_received("message"), 0u);
}

TEST_F(RealtimeE2E, ARepeatedClientIdStoresNothingNewAndAcksTheOriginal) {
  auto a = must_register(port(), "idem_a");
  auto b = must_register(port(), "idem_b");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(send_event(b.id, "once", "same-id"));
  auto first = ca.next_of("ack");
  ca.send(send_event(b.id, "twice?", "same-id"));
  auto second = ca.next_of("ack");
  EXPECT_EQ(second.at("message"), first.at("message"));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE sender_id = " + std::to_string(a.id)),
            "1");
  EXPECT_EQ(cb.collect("message", 2, 1s).size(), 1u) << "the recipient gets it once";
}

TEST_F(RealtimeE2E, OfflineMessagesArePushedInOrderOnConnectExactlyOnce) {
  auto a = must_register(port(), "off_a");
  auto b = must_register(port(), "off_b");
  std::vector<json::value> acks;
  {
    WsClient ca(port(), a.token);
    ca.next_of("ready");
    for (int i = 1; i <= 5; ++i) ca.send(send_event(b.id, "offline " + std::to_string(i)));
    acks = ca.collect("ack", 5);
    ASSERT_EQ(acks.size(), 5u);
  }
  {
    WsClient cb(port(), b.token);
    auto first = cb.next(5s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->at("type").as_string(), "ready") << "ready comes first";
    auto pushed = cb.collect("message", 5);
    ASSERT_EQ(pushed.size(), 5u);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(pushed[i].at("message").at("seq").as_int64(), i + 1);
      EXPECT_EQ(pushed[i].at("message").at("content").as_string(), "offline " + std::to_string(i + 1));
    }
    EXPECT_TRUE(eventually(*db_,
                           "SELECT count(*) FROM message_receipts WHERE status = 'delivered' AND user_id = " +
                               std::to_string(b.id),
                           "5"));
  }
  WsClient again(port(), b.token);
  again.next_of("ready");
  EXPECT_TRUE(again.collect("message", 1, 700ms).empty()) << "delivered messages are not pushed again";
}

TEST_F(RealtimeE2E, BadEventsGetErrorsAndTheConnectionStaysUsable) {
  auto a = must_register(port(), "bad_a");
  auto b = must_register(port(), "bad_b");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  struct Case {
    std::string event;
    std::string code;
    bool echoes_client_id;
  };
  const auto to_b = std::to_string(b.id);
  const std::vector<Case> cases = {
      {"{not json", "invalid_input", false},
      {"[1,2,3]", "invalid_input", false},
      {R"({"type":"dance"})", "invalid_input", false},
      {R"({"no_type":1})", "invalid_input", false},
      {R"({"type":"send_message","client_id":"x1","content":"hi"})", "invalid_input", true},
      {R"({"type":"send_message","client_id":"x2","to":)" + to_b + "}", "invalid_input", true},
      {R"({"type":"send_message","client_id":"x3","to":)" + to_b + R"(,"content":"   "})",
       "invalid_input", true},
      {R"({"type":"send_message","client_id":"x4","to":)" + to_b + R"(,"content":")" +
           std::string(4097, 'x') + "\"}",
       "invalid_input", true},
      {R"({"type":"send_message","client_id":"x5","to":99999999,"content":"hi"})", "not_found",
       true},
      {R"({"type":"send_message","client_id":"x6","to":)" + std::to_string(a.id) +
           R"(,"content":"me"})",
       "invalid_input", true},
      {R"({"type":"send_message","client_id":"x7","to":)" + to_b + R"(,"group_id":1,"content":"hi"})",
       "invalid_input", true},
      {R"({"type":"send_message","client_id":")" + std::string(65, 'c') + R"(","to":)" + to_b +
           R"(,"content":"hi"})",
       "invalid_input", true},
      {R"({"type":"send_message","client_id":"x8","to":)" + to_b + R"(,"content":"a\u0000b"})",
       "invalid_input", true},
      {R"({"type":"mark_read","conversation_id":"one","seq":1})", "invalid_input", false},
      {R"({"type":"mark_read","conversation_id":99999999,"seq":1})", "not_found", false},
      {R"({"type":"typing"})", "invalid_input", false},
      {R"({"type":"typing","conversation_id":99999999})", "not_found", false},
  };
  for (const auto& c : cases) {
    ca.send(c.event);
    auto err = ca.next_of("error");
    EXPECT_EQ(err.at("code").as_string(), c.code) << c.event.substr(0, 80);
    EXPECT_FALSE(err.at("message").as_string().empty());
    EXPECT_EQ(err.as_object().contains("client_id"), c.echoes_client_id) << c.event.substr(0, 80);
  }
  ca.send(R"({"type":"ping"})");
  EXPECT_EQ(ca.next_of("pong").at("type").as_string(), "pong");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE sender_id = " + std::to_string(a.id)),
            "0");
  // Exactly 4 KiB characters (multi-byte ones count once) is accepted.
  ca.send(send_event(b.id, std::string(4096, 'y'), "max"));
  EXPECT_EQ(ca.next_of("ack").at("client_id").as_string(), "max");
}

TEST_F(RealtimeE2E, TypingIsRelayedAndNotStored) {
  auto a = must_register(port(), "typ_a");
  auto b = must_register(port(), "typ_b");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(send_event(b.id, "hi"));
  const auto conv = ca.next_of("ack").at("message").at("conversation_id").as_int64();
  const auto before = db_->scalar("SELECT count(*) FROM messages");
  ca.send(json::value{{"type", "typing"}, {"conversation_id", conv}});
  auto t = cb.next_of("typing");
  EXPECT_EQ(t.at("conversation_id").as_int64(), conv);
  EXPECT_EQ(t.at("user_id").as_int64(), a.id);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages"), before);
}

TEST_F(RealtimeE2E, PresenceEventsReachContacts) {
  auto a = must_register(port(), "pres_a");
  auto b = must_register(port(), "pres_b");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  {
    WsClient cb(port(), b.token);
    cb.next_of("ready");
    cb.send(send_event(a.id, "now we share a conversation"));
    cb.next_of("ack");
  }
  auto offline = ca.next_of("presence");
  EXPECT_EQ(offline.at("user_id").as_int64(), b.id);
  EXPECT_FALSE(offline.at("online").as_bool());
  EXPECT_TRUE(offline.at("last_seen").is_string());
  WsClient cb(port(), b.token);
  auto online = ca.next_of("presence");
  EXPECT_TRUE(online.at("online").as_bool());
}

TEST_F(RealtimeE2E, FourConnectionsTimes250MessagesGiveGaplessSeqInOrder) {
  auto a = must_register(port(), "burst_a");
  auto b = must_register(port(), "burst_b");
  WsClient cb(port(), b.token);
  cb.next_of("ready");
  std::vector<std::unique_ptr<WsClient>> senders;
  for (int i = 0; i < 4; ++i) {
    senders.push_back(std::make_unique<WsClient>(port(), a.token));
    senders.back()->next_of("ready");
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      for (int k = 0; k < 250; ++k)
        senders[i]->send(send_event(b.id, numbered(numbered("m", i) + "-", k),
                                    numbered(numbered("burst-", i) + "-", k)));
    });
  for (auto& t : threads) t.join();
  std::size_t acks = 0;
  for (auto& s : senders) acks += s->collect("ack", 250, 60s).size();
  EXPECT_EQ(acks, 1000u);

  auto got = cb.collect("message", 1000, 60s);
  ASSERT_EQ(got.size(), 1000u);
  for (std::size_t i = 0; i < got.size(); ++i)
    ASSERT_EQ(got[i].at("message").at("seq").as_int64(), static_cast<std::int64_t>(i + 1))
        << "delivery order is seq order";
  const auto conv = std::to_string(got[0].at("message").at("conversation_id").as_int64());
  EXPECT_EQ(db_->scalar("SELECT count(*) = 1000 AND count(DISTINCT seq) = 1000 AND min(seq) = 1 "
                        "AND max(seq) = 1000 FROM messages WHERE conversation_id = " + conv),
            "t");
  EXPECT_EQ(db_->scalar("SELECT last_seq FROM conversations WHERE id = " + conv), "1000");
}

// A connection's frames are gathered into as few socket writes as arrive together (the frame
// headers are chatd's own, past Beast's write path): a burst of messages of every size arrives
// whole, in seq order, and took fewer writes than frames.
TEST_F(RealtimeE2E, ABurstToOneConnectionArrivesWholeInOrderInFewerWritesThanFrames) {
  auto a = must_register(port(), "gather_a");
  auto b = must_register(port(), "gather_b");
  WsClient ca(port(), a.token);
  WsClient cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  const auto frames_before = metric_value(port(), "chatd_ws_frames_sent_total");
  const auto writes_before = metric_value(port(), "chatd_ws_socket_writes_total");
  ASSERT_GE(frames_before, 0);
  ASSERT_GE(writes_before, 0);
  // Sizes across the 7-bit, 16-bit length boundaries of the frame header, some with
  // multi-byte characters and characters JSON escapes.
  std::vector<std::string> contents;
  for (int i = 0; i < 300; ++i) {
    const std::size_t sizes[] = {1, 40, 125, 126, 127, 1000, 4096};
    const std::size_t size = sizes[i % 7];
    std::string c = i % 3 == 0 ? std::string("\xc3\xa9") : std::string();  // é
    c.append(size, static_cast<char>('a' + i % 26));
    if (i % 5 == 0 && size > 4) c[size / 2] = '"';
    contents.push_back(numbered(c.substr(0, c.size() > 8 ? c.size() - 8 : c.size()), i));
  }
  for (int i = 0; i < 300; ++i) ca.send(send_event(b.id, contents[i], numbered("gather-", i)));
  EXPECT_EQ(ca.collect("ack", 300, 30s).size(), 300u);
  auto got = cb.collect("message", 300, 30s);
  ASSERT_EQ(got.size(), 300u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& m = got[i].at("message");
    ASSERT_EQ(m.at("seq").as_int64(), static_cast<std::int64_t>(i + 1));
    ASSERT_EQ(m.at("content").as_string(), contents[i]) << "frame " << i;
  }
  EXPECT_EQ(ca.collect("receipt", 1, 10s).size(), 1u);
  const auto frames = metric_value(port(), "chatd_ws_frames_sent_total") - frames_before;
  const auto writes = metric_value(port(), "chatd_ws_socket_writes_total") - writes_before;
  EXPECT_GE(frames, 600) << "300 messages and their 300 acks at least";
  EXPECT_GT(writes, 0);
  EXPECT_LT(writes, frames) << "frames that arrived together went out in one write";
  // The connections are still usable afterwards, in both directions.
  cb.send_direct(a.id, "and back");
  EXPECT_EQ(ca.next_of("message").at("message").at("content").as_string(), "and back");
}

// The connect path reads a user's account and whether anything waits for many connects in one
// statement; a user with nothing waiting gets no replay read, one with messages waiting gets
// them all, and ready stays the first frame either way.
TEST_F(RealtimeE2E, AConnectWithNothingWaitingSkipsTheReplayAndOneWithMessagesGetsThem) {
  auto a = must_register(port(), "arrive_a");
  auto b = must_register(port(), "arrive_b");
  const auto skipped = [&] { return metric_value(port(), "chatd_ws_replays_skipped_total"); };
  const auto start = skipped();
  ASSERT_GE(start, 0);
  WsClient ca(port(), a.token);
  EXPECT_EQ(ca.next()->at("type").as_string(), "ready");
  {
    WsClient cb(port(), b.token);
    EXPECT_EQ(cb.next()->at("type").as_string(), "ready");
    EXPECT_EQ(skipped(), start + 2) << "two users with nothing waiting: no replay read";
    ca.send_direct(b.id, "live");
    EXPECT_EQ(cb.next_of("message").at("message").at("content").as_string(), "live");
    EXPECT_EQ(ca.next_of("receipt").at("status").as_string(), "delivered");
  }
  // b is away: two messages wait for them, and a's own message does not wait for a.
  ca.send_direct(b.id, "waiting 1");
  ca.send_direct(b.id, "waiting 2");
  EXPECT_EQ(ca.collect("ack", 3, 10s).size(), 3u);
  {
    WsClient cb(port(), b.token);
    EXPECT_EQ(cb.next()->at("type").as_string(), "ready");
    auto got = cb.collect("message", 2, 10s);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].at("message").at("content").as_string(), "waiting 1");
    EXPECT_EQ(got[1].at("message").at("content").as_string(), "waiting 2");
    EXPECT_EQ(skipped(), start + 2) << "messages waited: the replay was read";
    std::int64_t delivered = 0;  // the backlog may be recorded in more than one batch
    while (delivered < 3) delivered = ca.next_of("receipt").at("up_to_seq").as_int64();
    EXPECT_EQ(delivered, 3);
  }
  WsClient again(port(), b.token);
  EXPECT_EQ(again.next()->at("type").as_string(), "ready");
  EXPECT_EQ(skipped(), start + 3) << "all delivered: nothing waits any more";
  EXPECT_FALSE(again.take("message", 300ms)) << "nothing is sent twice";
  WsClient a2(port(), a.token);  // a second device of a: a's own messages never wait for a
  EXPECT_EQ(a2.next()->at("type").as_string(), "ready");
  EXPECT_EQ(skipped(), start + 4);
}

// The server waits for a message with room for one byte and reads the rest after it: events of
// many frames and events longer than what the first read takes arrive whole.
TEST_F(RealtimeE2E, AnEventSplitIntoManyFramesArrivesWhole) {
  auto a = must_register(port(), "frag_a");
  auto b = must_register(port(), "frag_b");
  WsClient ca(port(), a.token);
  WsClient cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.fragment_frames(8);
  const std::string long_text(3000, 'y');
  for (const auto& content : {std::string("short one"), long_text, std::string("z")}) {
    ca.send_direct(b.id, content);
    auto ack = ca.next_of("ack");
    EXPECT_TRUE(ack.as_object().contains("message"));
    auto got = cb.next_of("message");
    EXPECT_EQ(got.at("message").at("content").as_string(), content);
  }
  EXPECT_EQ(http_request(port(), "GET", "/healthz").status, 200);
}

TEST_F(RealtimeE2E, AnOversizedFrameClosesWith1009) {
  auto a = must_register(port(), "big_a");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  ca.send(std::string(65 * 1024, 'x'));
  auto code = ca.wait_closed(5s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 1009);
  EXPECT_EQ(http_request(port(), "GET", "/healthz").status, 200);
}

namespace {

class GroupsE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("groups"); }
};

std::string group_body(const std::string& name, const std::vector<std::int64_t>& members) {
  json::array m;
  for (auto id : members) m.push_back(id);
  return json_body(json::object{{"name", name}, {"members", m}});
}

}  // namespace

TEST_F(GroupsE2E, GroupIsCreatedInDbAndGroup1ReachesAllOnlineMembersOnly) {
  auto a = must_register(port(), "g_alice");
  auto b = must_register(port(), "g_bob");
  auto c = must_register(port(), "g_carol");
  auto d = must_register(port(), "g_dave");
  auto created = http_request(port(), "POST", "/groups", group_body("team", {b.id, c.id, b.id}),
                              a.token);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto& g = created.json.at("group");
  EXPECT_EQ(g.at("id").as_int64(), 1) << "a fresh database's first group";
  EXPECT_EQ(g.at("name").as_string(), "team");
  EXPECT_EQ(g.at("owner_id").as_int64(), a.id);
  EXPECT_EQ(g.at("members").as_array().size(), 3u) << "duplicates folded, creator included";
  EXPECT_GT(created.json.at("conversation_id").as_int64(), 0);
  EXPECT_EQ(db_->scalar("SELECT name FROM groups WHERE id = 1"), "team");
  EXPECT_EQ(db_->scalar("SELECT role FROM group_members WHERE group_id = 1 AND user_id = " +
                        std::to_string(a.id)),
            "admin");

  WsClient ca(port(), a.token), cb(port(), b.token), cc(port(), c.token), cd(port(), d.token);
  for (auto* cl : {&ca, &cb, &cc, &cd}) cl->next_of("ready");
  ca.send(group_event(1, "hello team", "g1"));
  auto ack = ca.next_of("ack");
  EXPECT_EQ(ack.at("message").at("group_id").as_int64(), 1);
  EXPECT_TRUE(ack.at("message").at("to").is_null());
  EXPECT_EQ(cb.next_of("message").at("message").at("content").as_string(), "hello team");
  EXPECT_EQ(cc.next_of("message").at("message").at("content").as_string(), "hello team");
  EXPECT_TRUE(cd.collect("message", 1, 500ms).empty()) << "no one else";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM message_receipts WHERE message_id = " +
                        std::to_string(ack.at("message").at("id").as_int64())),
            "2");

  // A non-member is refused, and nothing is stored.
  cd.send(group_event(1, "let me in", "nope"));
  auto err = cd.next_of("error");
  EXPECT_EQ(err.at("code").as_string(), "forbidden");
  EXPECT_EQ(err.at("client_id").as_string(), "nope");
  cd.send(group_event(424242, "no group", "nope2"));
  EXPECT_EQ(cd.next_of("error").at("code").as_string(), "not_found");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE sender_id = " + std::to_string(d.id)),
            "0");
}

TEST_F(GroupsE2E, BadGroupInputCreatesNothing) {
  auto a = must_register(port(), "gb_alice");
  const auto before = db_->scalar("SELECT count(*) FROM groups");
  const std::vector<std::string> bad = {
      group_body("x", {a.id + 100000}),
      group_body("", {}),
      group_body("   ", {}),
      group_body(std::string(101, 'n'), {}),
      R"({"members":[]})",
      R"({"name":"x","members":"all"})",
      R"({"name":"x","members":[1,"two"]})",
      R"({"name":"x","members":[-3]})",
      "not json",
  };
  for (const auto& body : bad) {
    auto r = http_request(port(), "POST", "/groups", body, a.token);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(r.error_code(), "invalid_input") << body;
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM groups"), before);
  EXPECT_EQ(http_request(port(), "POST", "/groups", group_body("x", {})).status, 401);
}

TEST_F(GroupsE2E, MembershipRules) {
  auto owner = must_register(port(), "gm_owner");
  auto member = must_register(port(), "gm_member");
  auto outsider = must_register(port(), "gm_outsider");
  auto newbie = must_register(port(), "gm_newbie");
  auto created = http_request(port(), "POST", "/groups", group_body("club", {member.id}), owner.token);
  ASSERT_EQ(created.status, 201);
  const auto gid = std::to_string(created.json.at("group").at("id").as_int64());
  const auto members_path = "/groups/" + gid + "/members";

  EXPECT_EQ(http_request(port(), "GET", "/groups/" + gid, "", member.token).status, 200);
  EXPECT_EQ(http_request(port(), "GET", "/groups/" + gid, "", outsider.token).status, 404);
  EXPECT_EQ(http_request(port(), "GET", "/groups/999999", "", owner.token).status, 404);

  const auto add_newbie = json_body({{"user_id", newbie.id}});
  EXPECT_EQ(http_request(port(), "POST", members_path, add_newbie, member.token).status, 403);
  EXPECT_EQ(http_request(port(), "POST", members_path, add_newbie, outsider.token).status, 404);
  EXPECT_EQ(http_request(port(), "POST", members_path, json_body({{"user_id", 99999999}}),
                         owner.token)
                .status,
            400);
  EXPECT_EQ(http_request(port(), "POST", members_path, R"({"user_id":"x"})", owner.token).status,
            400);
  auto added = http_request(port(), "POST", members_path, add_newbie, owner.token);
  ASSERT_EQ(added.status, 200);
  EXPECT_EQ(added.json.at("group").at("members").as_array().size(), 3u);

  const auto del = [&](std::int64_t user, const std::string& token) {
    return http_request(port(), "DELETE", members_path + "/" + std::to_string(user), "", token)
        .status;
  };
  EXPECT_EQ(del(newbie.id, member.token), 403) << "only an admin removes others";
  EXPECT_EQ(del(newbie.id, owner.token), 204);
  EXPECT_EQ(del(newbie.id, owner.token), 404) << "no longer a member";
  EXPECT_EQ(del(member.id, member.token), 204) << "leaving";
  EXPECT_EQ(http_request(port(), "GET", "/groups/" + gid, "", member.token).status, 404);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM group_members WHERE group_id = " + gid), "1");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM conversation_members cm JOIN conversations c ON "
                        "c.id = cm.conversation_id WHERE c.group_id = " + gid),
            "1");
}

namespace {
class SlowConsumerE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("slow", {{"CHATD_WS_QUEUE_BYTES", "1048576"},
                          {"CHATD_WS_EVENT_BURST", "100000"},
                          {"CHATD_WS_EVENTS_PER_SECOND", "100000"}});
  }
};
}  // namespace

TEST_F(SlowConsumerE2E, AConnectionThatNeverReadsIsDroppedWhileOthersKeepReceiving) {
  auto s = must_register(port(), "slow_sender");
  auto lazy = must_register(port(), "slow_lazy");
  auto keen = must_register(port(), "slow_keen");
  WsClient sender(port(), s.token);
  WsClient reader(port(), keen.token);
  WsClient sleeper(port(), lazy.token, false, /*read=*/false);
  sender.next_of("ready");
  reader.next_of("ready");
  const std::string payload(4000, 'z');
  constexpr int kCount = 3000;  // ~12 MB for the sleeper: more than socket buffers hold
  for (int i = 0; i < kCount; ++i) {
    sender.send(send_event(lazy.id, payload));
    if (i % 10 == 0) sender.send(send_event(keen.id, "tick " + std::to_string(i)));
  }
  EXPECT_EQ(reader.collect("message", kCount / 10, 60s).size(), static_cast<std::size_t>(kCount / 10));
  EXPECT_EQ(sender.collect("ack", kCount + kCount / 10, 60s).size(),
            static_cast<std::size_t>(kCount + kCount / 10));
  sleeper.start_reading();
  EXPECT_TRUE(sleeper.wait_closed(30s)) << "the sleeper was disconnected";
  EXPECT_NE(server_->log().find("dropping slow consumer: user " + std::to_string(lazy.id)),
            std::string::npos);
  EXPECT_EQ(http_request(port(), "GET", "/healthz").status, 200);
}
