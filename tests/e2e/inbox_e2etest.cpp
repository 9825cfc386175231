// F05 end to end: the inbox and paginated history over real HTTP, messages sent over WebSocket.
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

using namespace chatd::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

class InboxE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("inbox",
                 {{"CHATD_WS_EVENT_BURST", "5000"}, {"CHATD_WS_EVENTS_PER_SECOND", "100000"}});
    a_ = must_register(port(), "in_alice");
    b_ = must_register(port(), "in_bob");
    c_ = must_register(port(), "in_carol");
    auto g = http_request(port(), "POST", "/groups",
                          json_body(json::object{{"name", "trio"},
                                                 {"members", json::array{b_.id, c_.id}}}),
                          a_.token);
    ASSERT_EQ(g.status, 201);
    group_ = g.json.at("group").at("id").as_int64();
    group_conv_ = g.json.at("conversation_id").as_int64();

    WsClient wa(port(), a_.token);
    wa.next_of("ready");
    // Oldest activity first: 7 direct messages to Bob, 3 in the group, 1 to Carol.
    for (int i = 1; i <= 7; ++i) send(wa, json::object{{"to", b_.id}}, "ab " + std::to_string(i));
    direct_ab_ = last_ack_.at("message").at("conversation_id").as_int64();
    for (int i = 1; i <= 3; ++i) send(wa, json::object{{"group_id", group_}}, "g " + std::to_string(i));
    send(wa, json::object{{"to", c_.id}}, "ac 1");
    direct_ac_ = last_ack_.at("message").at("conversation_id").as_int64();
  }

  static void send(WsClient& ws, json::object target, const std::string& content) {
    target["type"] = "send_message";
    target["content"] = content;
    ws.send(json::value(target));
    last_ack_ = ws.next_of("ack");
    std::this_thread::sleep_for(3ms);  // distinct activity timestamps at millisecond precision
  }

  static json::value get(const std::string& target, const Registered& who) {
    auto r = http_request(port(), "GET", target, "", who.token);
    EXPECT_EQ(r.status, 200) << target << " " << r.body;
    return r.json;
  }

  static std::vector<std::int64_t> seqs(const json::value& page) {
    std::vector<std::int64_t> out;
    for (const auto& m : page.at("messages").as_array()) out.push_back(m.at("seq").as_int64());
    return out;
  }

  static std::int64_t unread_of(const Registered& who, std::int64_t conv) {
    const auto inbox = get("/conversations", who);
    for (const auto& c : inbox.at("conversations").as_array())
      if (c.at("id").as_int64() == conv) return c.at("unread_count").as_int64();
    return -1;
  }

  // What unread_count means, counted row by row in the database.
  static std::int64_t unread_in_db(const Registered& who, std::int64_t conv) {
    const auto c = std::to_string(conv), u = std::to_string(who.id);
    return std::stoll(db_->scalar(
        "SELECT count(*) FROM messages m JOIN conversation_members cm ON cm.conversation_id ="
        " m.conversation_id AND cm.user_id = " + u + " WHERE m.conversation_id = " + c +
        " AND m.seq > cm.last_read_seq AND m.sender_id <> " + u));
  }

  static void mark_read(WsClient& ws, std::int64_t conv, std::int64_t seq) {
    ws.send(json::value{{"type", "mark_read"}, {"conversation_id", conv}, {"seq", seq}});
    ws.send(json::value{{"type", "ping"}});
    ws.next_of("pong");  // mark_read was handled before the ping
  }

  static inline Registered a_, b_, c_;
  static inline std::int64_t group_ = 0, group_conv_ = 0, direct_ab_ = 0, direct_ac_ = 0;
  static inline json::value last_ack_;
};

}  // namespace

TEST_F(InboxE2E, ReturnsDirectAndGroupConversationsNewestActivityFirst) {
  auto inbox = get("/conversations", a_);
  const auto& list = inbox.at("conversations").as_array();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].at("id").as_int64(), direct_ac_);
  EXPECT_EQ(list[1].at("id").as_int64(), group_conv_);
  EXPECT_EQ(list[2].at("id").as_int64(), direct_ab_);

  const auto& dm = list[0].as_object();
  EXPECT_EQ(dm.at("type").as_string(), "direct");
  EXPECT_EQ(dm.at("peer").at("id").as_int64(), c_.id);
  EXPECT_TRUE(dm.at("peer").as_object().contains("is_online"));
  EXPECT_FALSE(dm.at("peer").as_object().contains("email"));
  EXPECT_TRUE(dm.at("group").is_null());
  EXPECT_EQ(dm.at("last_message").at("content").as_string(), "ac 1");
  EXPECT_EQ(dm.at("last_message_at"), dm.at("last_message").at("created_at"));

  const auto& grp = list[1].as_object();
  EXPECT_EQ(grp.at("type").as_string(), "group");
  EXPECT_TRUE(grp.at("peer").is_null());
  EXPECT_EQ(grp.at("group").at("id").as_int64(), group_);
  EXPECT_EQ(grp.at("group").at("name").as_string(), "trio");
  EXPECT_EQ(grp.at("last_message").at("content").as_string(), "g 3");
  EXPECT_EQ(grp.at("unread_count").as_int64(), 0) << "one's own messages are not unread";

  // Carol sees the group and her direct conversation, not Alice and Bob's.
  EXPECT_EQ(get("/conversations", c_).at("conversations").as_array().size(), 2u);
}

TEST_F(InboxE2E, CursorPaginationWalksTheInboxWithoutGapsOrRepeats) {
  std::vector<std::int64_t> seen;
  std::string target = "/conversations?limit=1";
  for (int page = 0; page < 5; ++page) {
    auto r = get(target, a_);
    const auto& list = r.at("conversations").as_array();
    if (list.empty()) break;
    ASSERT_EQ(list.size(), 1u);
    seen.push_back(list[0].at("id").as_int64());
    target = "/conversations?limit=1&before=" +
             std::string(list[0].at("last_message_at").as_string());
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{direct_ac_, group_conv_, direct_ab_}));
}

// Three conversations active in the same millisecond: `before=<last_message_at>` (millisecond
// precision) cannot page between them; the exact `next_before` cursor walks each once, in order.
TEST_F(InboxE2E, TheNextBeforeCursorIsExactWithinOneMillisecond) {
  auto d = must_register(port(), "in_dave");
  std::vector<std::int64_t> convs;
  {
    WsClient wd(port(), d.token);
    wd.next_of("ready");
    for (const auto* peer : {&a_, &b_, &c_}) {
      send(wd, json::object{{"to", peer->id}}, "same ms");
      convs.push_back(last_ack_.at("message").at("conversation_id").as_int64());
    }
  }
  for (std::size_t i = 0; i < convs.size(); ++i)
    db_->scalar("WITH u AS (UPDATE conversations SET last_message_at ="
                " '2026-03-01 10:00:00.123" + std::to_string(100 + i) + "+00'"
                " WHERE id = " + std::to_string(convs[i]) + " RETURNING 1) SELECT count(*) FROM u");

  auto first = get("/conversations?limit=1", d);
  ASSERT_EQ(first.at("conversations").as_array().size(), 1u);
  const auto ms = std::string(first.at("conversations").at(0).at("last_message_at").as_string());
  EXPECT_EQ(ms, "2026-03-01T10:00:00.123Z");
  EXPECT_TRUE(get("/conversations?limit=1&before=" + ms, d).at("conversations").as_array().empty())
      << "the millisecond cursor skips what shares its millisecond";

  std::vector<std::int64_t> seen;
  std::string target = "/conversations?limit=1";
  for (int page = 0; page < 5; ++page) {
    auto r = get(target, d);
    const auto& list = r.at("conversations").as_array();
    if (list.empty()) break;
    seen.push_back(list[0].at("id").as_int64());
    if (r.at("next_before").is_null()) break;
    target = "/conversations?limit=1&before=" + std::string(r.at("next_before").as_string());
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{convs[2], convs[1], convs[0]}));
  auto all = get("/conversations?limit=5", d);
  EXPECT_EQ(all.at("conversations").as_array().size(), 3u);
  EXPECT_TRUE(all.at("next_before").is_null()) << "a page that is not full is the last";
  for (const auto* bad : {"v1.", "v1.12", "v1.-5.3", "v1.1.x", "v2.1.2"})
    EXPECT_EQ(http_request(port(), "GET", std::string("/conversations?before=") + bad, "", d.token)
                  .status,
              400)
        << bad;
}

TEST_F(InboxE2E, UnreadCountsBeforeAndAfterMarkRead) {
  EXPECT_EQ(unread_of(b_, direct_ab_), 7);
  EXPECT_EQ(unread_of(b_, group_conv_), 3);
  WsClient wb(port(), b_.token);
  wb.next_of("ready");
  wb.send(json::value{{"type", "mark_read"}, {"conversation_id", direct_ab_}, {"seq", 5}});
  wb.send(json::value{{"type", "ping"}});
  wb.next_of("pong");  // mark_read was handled before the ping
  EXPECT_EQ(unread_of(b_, direct_ab_), 2);
  EXPECT_EQ(unread_of(b_, group_conv_), 3);
}

// A member who never reads a busy conversation: the count is exact at any size (it is arithmetic
// on positions, not a walk of the unread messages), and the member's own messages never count.
TEST_F(InboxE2E, UnreadCountsAreExactWhateverTheBacklogAndLeaveOutOnesOwn) {
  auto d = must_register(port(), "in_unread_d");
  auto e = must_register(port(), "in_unread_e");
  WsClient wd(port(), d.token);
  wd.next_of("ready");
  for (int i = 1; i <= 1500; ++i) wd.send_direct(e.id, "backlog " + std::to_string(i));
  std::int64_t conv = 0;
  for (int i = 1; i <= 1500; ++i)
    conv = wd.next_of("ack", 10s).at("message").at("conversation_id").as_int64();
  WsClient we(port(), e.token);
  we.next_of("ready");
  for (int i = 1; i <= 3; ++i) we.send_direct(d.id, "reply " + std::to_string(i));
  for (int i = 1; i <= 3; ++i) we.next_of("ack");
  EXPECT_EQ(unread_of(e, conv), 1500);
  EXPECT_EQ(unread_of(d, conv), 3);
  mark_read(we, conv, 1200);
  EXPECT_EQ(unread_of(e, conv), 300);
  mark_read(we, conv, 1503);
  EXPECT_EQ(unread_of(e, conv), 0);
  mark_read(wd, conv, 1501);  // covers all of d's own and the first reply
  EXPECT_EQ(unread_of(d, conv), 2);
  EXPECT_EQ(unread_of(d, conv), unread_in_db(d, conv));
}

// Both members writing at once while one of them keeps reading: the counts stay exact.
TEST_F(InboxE2E, UnreadCountsStayExactWhileBothWriteAndOneReads) {
  auto f = must_register(port(), "in_unread_f");
  auto g = must_register(port(), "in_unread_g");
  WsClient wf(port(), f.token);
  WsClient wg(port(), g.token);
  wf.next_of("ready");
  wg.next_of("ready");
  wf.send_direct(g.id, "hello");
  const auto conv = wf.next_of("ack").at("message").at("conversation_id").as_int64();
  std::thread writer([&] {
    for (int i = 0; i < 300; ++i) wf.send_direct(g.id, "f " + std::to_string(i));
    for (int i = 0; i < 300; ++i) wf.next_of("ack", 10s);
  });
  std::int64_t seen = 0;
  for (int round = 0; round < 30; ++round) {
    for (int i = 0; i < 10; ++i) wg.send_direct(f.id, "g " + std::to_string(round * 10 + i));
    for (int i = 0; i < 10; ++i)
      seen = std::max(seen, wg.next_of("ack", 10s).at("message").at("seq").as_int64());
    wg.send(json::value{{"type", "mark_read"}, {"conversation_id", conv}, {"seq", seen}});
  }
  writer.join();
  wg.send(json::value{{"type", "ping"}});
  wg.next_of("pong");
  EXPECT_EQ(unread_of(g, conv), unread_in_db(g, conv));
  EXPECT_EQ(unread_of(f, conv), unread_in_db(f, conv));
  EXPECT_EQ(unread_of(f, conv), 300);  // f read nothing: g's 300 are unread
}

// A member who leaves a group and comes back starts afresh: what they sent before leaving is
// not subtracted from what others sent since.
TEST_F(InboxE2E, UnreadCountsStartAfreshWhenAMemberRejoinsAGroup) {
  auto h = must_register(port(), "in_unread_h");
  auto i = must_register(port(), "in_unread_i");
  const auto [group_id, conv] = make_group(port(), h, json::array{i.id}, "rejoin");
  const json::object in_group{{"group_id", group_id}};
  const auto group = std::to_string(group_id);
  WsClient wh(port(), h.token);
  WsClient wi(port(), i.token);
  wh.next_of("ready");
  wi.next_of("ready");
  send(wi, in_group, "i 1");
  send(wi, in_group, "i 2");
  EXPECT_EQ(unread_of(i, conv), 0);
  ASSERT_EQ(http_request(port(), "DELETE", "/groups/" + group + "/members/" + std::to_string(i.id),
                         "", h.token).status, 204);
  send(wh, in_group, "h 1");
  ASSERT_EQ(http_request(port(), "POST", "/groups/" + group + "/members",
                         json_body(json::object{{"user_id", i.id}}), h.token).status, 200);
  for (int n = 2; n <= 4; ++n) send(wh, in_group, "h " + std::to_string(n));
  EXPECT_EQ(unread_of(i, conv), 3);
  EXPECT_EQ(unread_of(i, conv), unread_in_db(i, conv));
}

// In a group a member's own messages are counted in sent_since_read and taken out when the
// member reads past them: reading over one's own and others' leaves nothing unread, and what
// others send next counts from there.
TEST_F(InboxE2E, UnreadCountsOfAGroupStayExactWhenAMemberReadsPastTheirOwn) {
  auto j = must_register(port(), "in_unread_j");
  auto k = must_register(port(), "in_unread_k");
  const auto [group_id, conv] = make_group(port(), j, json::array{k.id}, "own");
  const json::object in_group{{"group_id", group_id}};
  WsClient wj(port(), j.token);
  WsClient wk(port(), k.token);
  wj.next_of("ready");
  wk.next_of("ready");
  for (int n = 1; n <= 3; ++n) send(wj, in_group, "j " + std::to_string(n));
  send(wk, in_group, "k 1");
  send(wk, in_group, "k 2");
  const auto last = last_ack_.at("message").at("seq").as_int64();
  EXPECT_EQ(unread_of(j, conv), 2);
  mark_read(wj, conv, last);
  EXPECT_EQ(unread_of(j, conv), 0);
  EXPECT_EQ(unread_in_db(j, conv), 0);
  send(wk, in_group, "k 3");
  send(wj, in_group, "j 4");
  EXPECT_EQ(unread_of(j, conv), 1);
  EXPECT_EQ(unread_of(k, conv), 4);  // j's four; k read nothing
}

TEST_F(InboxE2E, HistoryIsChronologicalAcrossPageBoundariesWithHasMore) {
  const auto base = "/messages?conversation_id=" + std::to_string(direct_ab_);
  auto newest = get(base + "&limit=3", a_);
  EXPECT_EQ(seqs(newest), (std::vector<std::int64_t>{5, 6, 7}));
  EXPECT_TRUE(newest.at("has_more").as_bool());
  auto older = get(base + "&limit=3&before=5", a_);
  EXPECT_EQ(seqs(older), (std::vector<std::int64_t>{2, 3, 4}));
  EXPECT_TRUE(older.at("has_more").as_bool());
  auto oldest = get(base + "&limit=3&before=2", a_);
  EXPECT_EQ(seqs(oldest), (std::vector<std::int64_t>{1}));
  EXPECT_FALSE(oldest.at("has_more").as_bool());
  EXPECT_EQ(oldest.at("messages").at(0).at("content").as_string(), "ab 1");

  auto catch_up = get(base + "&limit=3&after=0", a_);
  EXPECT_EQ(seqs(catch_up), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(catch_up.at("has_more").as_bool());
  auto tail = get(base + "&limit=3&after=6", a_);
  EXPECT_EQ(seqs(tail), (std::vector<std::int64_t>{7}));
  EXPECT_FALSE(tail.at("has_more").as_bool());
  EXPECT_TRUE(get(base + "&after=7", a_).at("messages").as_array().empty());

  auto all = get(base, a_);  // default limit 50
  EXPECT_EQ(seqs(all), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_FALSE(all.at("has_more").as_bool());
}

TEST_F(InboxE2E, TheThreeWaysToNameAConversationAgree) {
  auto by_id = get("/messages?conversation_id=" + std::to_string(direct_ab_), b_);
  auto by_peer = get("/messages?peer_id=" + std::to_string(a_.id), b_);
  EXPECT_EQ(by_id, by_peer);
  auto group_by_id = get("/messages?conversation_id=" + std::to_string(group_conv_), c_);
  auto group_by_group = get("/messages?group_id=" + std::to_string(group_), c_);
  EXPECT_EQ(group_by_id, group_by_group);
  EXPECT_EQ(seqs(group_by_group), (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(group_by_group.at("messages").at(0).at("group_id").as_int64(), group_);
}

TEST_F(InboxE2E, OutsidersAndUnknownConversationsAre404Alike) {
  auto outsider = http_request(port(), "GET", "/messages?conversation_id=" + std::to_string(direct_ab_),
                               "", c_.token);
  auto missing = http_request(port(), "GET", "/messages?conversation_id=99999999", "", c_.token);
  EXPECT_EQ(outsider.status, 404);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(outsider.body, missing.body) << "never leak existence";
  EXPECT_EQ(http_request(port(), "GET", "/messages?peer_id=" + std::to_string(b_.id), "", c_.token)
                .status,
            404) << "no conversation with that peer yet";
  EXPECT_EQ(http_request(port(), "GET", "/messages?group_id=99999", "", c_.token).status, 404);
}

TEST_F(InboxE2E, BadParametersAre400AndNoTokenIs401) {
  const auto conv = "conversation_id=" + std::to_string(direct_ab_);
  const std::vector<std::string> bad = {
      "/messages",
      "/messages?conversation_id=abc",
      "/messages?conversation_id=-4",
      "/messages?" + conv + "&peer_id=" + std::to_string(b_.id),
      "/messages?" + conv + "&limit=0",
      "/messages?" + conv + "&limit=201",
      "/messages?" + conv + "&limit=ten",
      "/messages?" + conv + "&before=3&after=1",
      "/messages?" + conv + "&before=x",
      "/conversations?limit=0",
      "/conversations?limit=201",
      "/conversations?before=yesterday",
      "/conversations?before=2026-13-01T00:00:00Z",
  };
  for (const auto& target : bad) {
    auto r = http_request(port(), "GET", target, "", a_.token);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(r.error_code(), "invalid_input") << target;
  }
  EXPECT_EQ(get("/messages?" + conv + "&limit=200", a_).at("messages").as_array().size(), 7u);
  EXPECT_EQ(http_request(port(), "GET", "/conversations").status, 401);
  EXPECT_EQ(http_request(port(), "GET", "/messages?" + conv).status, 401);
}
