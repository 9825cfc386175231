// What people do every day (PROTOCOL §9) against the real binary: reactions.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class EverydayE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("everyday"); }
};

json::value react(std::int64_t message, const json::value& emoji) {
  return json::object{{"type", "react"}, {"message_id", message}, {"emoji", emoji}};
}

std::int64_t send_dm(WsClient& c, std::int64_t to, const std::string& text) {
  c.send(json::object{{"type", "send_message"}, {"to", to}, {"content", text}});
  return c.next_of("ack").at("message").at("id").as_int64();
}

TEST_F(EverydayE2E, AReactionReachesEveryMemberAndIsReplacedOrRemoved) {
  auto a = must_register(port(), "re_ann");
  auto b = must_register(port(), "re_ben");
  WsClient ca(port(), a.token), ca2(port(), a.token), cb(port(), b.token);
  for (auto* c : {&ca, &ca2, &cb}) c->next_of("ready");
  const auto mid = send_dm(ca, b.id, "lunch?");
  cb.next_of("message");
  ca2.next_of("message");

  cb.send(react(mid, "👍"));
  for (auto* c : {&ca, &ca2, &cb}) {
    auto r = c->next_of("reaction");
    EXPECT_EQ(r.at("message_id").as_int64(), mid);
    EXPECT_EQ(r.at("user_id").as_int64(), b.id);
    EXPECT_EQ(r.at("emoji"), "👍");
    EXPECT_FALSE(r.at("at").as_string().empty());
    EXPECT_GT(r.at("conversation_id").as_int64(), 0);
  }
  ca.send(react(mid, "👍"));
  for (auto* c : {&ca, &ca2, &cb})
    EXPECT_EQ(c->next_of("reaction").at("user_id").as_int64(), a.id) << "the reacting one too";
  auto page = http_request(port(), "GET", "/messages?peer_id=" + std::to_string(a.id), "", b.token);
  ASSERT_EQ(page.status, 200);
  const auto& reactions = page.json.at("messages").at(0).at("reactions").as_array();
  ASSERT_EQ(reactions.size(), 1u);
  EXPECT_EQ(reactions[0].at("emoji"), "👍");
  EXPECT_EQ(reactions[0].at("count").as_int64(), 2);
  EXPECT_EQ(reactions[0].at("user_ids"), (json::array{b.id, a.id})) << "in the order they reacted";

  // One per user: a new one replaces the old; null removes it.
  cb.send(react(mid, "❤️"));
  EXPECT_EQ(ca.next_of("reaction").at("emoji"), "❤️");
  cb.send(react(mid, nullptr));
  EXPECT_TRUE(ca.next_of("reaction").at("emoji").is_null());
  page = http_request(port(), "GET", "/messages?peer_id=" + std::to_string(a.id), "", b.token);
  const auto& after = page.json.at("messages").at(0).at("reactions").as_array();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].at("count").as_int64(), 1);
  EXPECT_EQ(db_->scalar("SELECT reaction_count FROM messages WHERE id = " + std::to_string(mid)),
            "1");

  // A fresh message carries an empty list.
  const auto plain = send_dm(ca, b.id, "no reactions");
  EXPECT_TRUE(cb.next_of("message").at("message").at("reactions").as_array().empty());
  (void)plain;
}

TEST_F(EverydayE2E, ReactionsShowInChangedSinceForThoseWhoWereAway) {
  auto a = must_register(port(), "cs_ann");
  auto b = must_register(port(), "cs_ben");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  const auto mid = send_dm(ca, b.id, "react to me");
  auto first = http_request(port(), "GET", "/messages?peer_id=" + std::to_string(a.id), "", b.token);
  const auto conversation = first.json.at("messages").at(0).at("conversation_id").as_int64();
  std::this_thread::sleep_for(20ms);
  const auto since = db_->scalar("SELECT chatd_ts(now())");
  std::this_thread::sleep_for(20ms);
  ca.send(react(mid, "🎉"));
  ca.next_of("reaction");
  auto changed = http_request(port(), "GET",
                              "/messages?conversation_id=" + std::to_string(conversation) +
                                  "&changed_since=" + since,
                              "", b.token);
  ASSERT_EQ(changed.status, 200) << changed.body;
  ASSERT_EQ(changed.json.at("messages").as_array().size(), 1u);
  EXPECT_EQ(changed.json.at("messages").at(0).at("reactions").at(0).at("emoji"), "🎉");
}

TEST_F(EverydayE2E, BadReactionsAreRefusedAndChangeNothing) {
  auto a = must_register(port(), "br_ann");
  auto b = must_register(port(), "br_ben");
  auto c = must_register(port(), "br_cat");
  WsClient ca(port(), a.token), cc(port(), c.token);
  ca.next_of("ready");
  cc.next_of("ready");
  const auto mid = send_dm(ca, b.id, "hi ben");
  for (const json::value& bad : {json::value("123456789"), json::value(""), json::value("a b"),
                                json::value("\t"), json::value("x\ny"), json::value(5),
                                json::value("\xc2\xa0")}) {
    ca.send(react(mid, bad));
    auto e = ca.next_of("error");
    EXPECT_EQ(e.at("code"), "invalid_input") << json::serialize(bad);
  }
  ca.send(R"({"type":"react","message_id":)" + std::to_string(mid) + "}");
  EXPECT_EQ(ca.next_of("error").at("code"), "invalid_input") << "emoji is required";
  ca.send(react(mid, "👨‍👩‍👧‍👦"));  // one family: 7 code points joined by ZWJ
  EXPECT_EQ(ca.next_of("reaction").at("emoji"), "👨‍👩‍👧‍👦");
  cc.send(react(mid, "👀"));
  EXPECT_EQ(cc.next_of("error").at("code"), "not_found") << "carol cannot see it";
  cc.send(react(999999999, "👀"));
  EXPECT_EQ(cc.next_of("error").at("code"), "not_found");
  ca.send(json::object{{"type", "delete_message"}, {"message_id", mid}});
  EXPECT_TRUE(ca.next_of("message_updated").at("message").at("reactions").as_array().empty())
      << "a deleted message loses its reactions";
  ca.send(react(mid, "👍"));
  EXPECT_EQ(ca.next_of("error").at("code"), "not_found") << "nor takes new ones";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM message_reactions WHERE message_id = " +
                        std::to_string(mid)),
            "0");
}

TEST_F(EverydayE2E, MessageInfoTellsTheSenderWhoGotAndReadAGroupMessage) {
  auto a = must_register(port(), "mi_ann");
  auto b = must_register(port(), "mi_ben");
  auto c = must_register(port(), "mi_cat");
  auto g = http_request(port(), "POST", "/groups",
                        json_body({{"name", "info"}, {"members", json::array{b.id, c.id}}}),
                        a.token);
  ASSERT_EQ(g.status, 201);
  const auto gid = g.json.at("group").at("id").as_int64();
  const auto conversation = g.json.at("conversation_id").as_int64();
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(json::object{{"type", "send_message"}, {"group_id", gid}, {"content", "who reads?"}});
  const auto mid = ca.next_of("ack").at("message").at("id").as_int64();
  const auto seq = cb.next_of("message").at("message").at("seq").as_int64();
  cb.send(json::object{{"type", "mark_read"}, {"conversation_id", conversation}, {"seq", seq}});
  ca.next_of("receipt");  // delivered to ben
  for (int i = 0; i < 50; ++i) {
    auto r = http_request(port(), "GET", "/messages/" + std::to_string(mid) + "/receipts", "",
                          a.token);
    if (r.body.find("\"read\"") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  auto info = http_request(port(), "GET", "/messages/" + std::to_string(mid) + "/receipts", "",
                           a.token);
  ASSERT_EQ(info.status, 200) << info.body;
  const auto& list = info.json.at("receipts").as_array();
  ASSERT_EQ(list.size(), 2u) << "one per other member";
  for (const auto& r : list) {
    if (r.at("user_id").as_int64() == b.id) {
      EXPECT_EQ(r.at("status"), "read");
      EXPECT_FALSE(r.at("read_at").is_null());
      EXPECT_FALSE(r.at("delivered_at").is_null());
    } else {
      EXPECT_EQ(r.at("user_id").as_int64(), c.id);
      EXPECT_EQ(r.at("status"), "sent") << "carol is offline";
      EXPECT_TRUE(r.at("delivered_at").is_null());
      EXPECT_TRUE(r.at("read_at").is_null());
    }
  }
  EXPECT_EQ(http_request(port(), "GET", "/messages/" + std::to_string(mid) + "/receipts", "",
                         b.token)
                .status,
            404)
      << "only its sender may ask";
  EXPECT_EQ(http_request(port(), "GET", "/messages/999999999/receipts", "", a.token).status, 404);
  EXPECT_EQ(http_request(port(), "GET", "/messages/abc/receipts", "", a.token).status, 400);
  EXPECT_EQ(http_request(port(), "GET", "/messages/1/receipts").status, 401);
}

HttpResult put_settings(std::uint16_t port, std::int64_t conversation, const std::string& body,
                        const std::string& token) {
  return http_request(port, "PUT", "/conversations/" + std::to_string(conversation) + "/settings",
                      body, token);
}

std::vector<std::int64_t> inbox_ids(std::uint16_t port, const std::string& token,
                                    const std::string& query = "") {
  auto r = http_request(port, "GET", "/conversations?limit=50" + query, "", token);
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::int64_t> ids;
  for (const auto& c : r.json.at("conversations").as_array()) ids.push_back(c.at("id").as_int64());
  return ids;
}

TEST_F(EverydayE2E, PinArchiveAndMuteAreOnesOwnViewOfTheInbox) {
  auto me = must_register(port(), "ps_me");
  WsClient mine(port(), me.token);
  mine.next_of("ready");
  // Seven groups of one's own, made oldest first: the inbox lists them newest first.
  std::vector<std::int64_t> convs;
  for (int i = 0; i < 7; ++i) {
    auto g = http_request(port(), "POST", "/groups",
                          json_body({{"name", numbered("ps group ", i)}, {"members", json::array{}}}),
                          me.token);
    ASSERT_EQ(g.status, 201);
    convs.push_back(g.json.at("conversation_id").as_int64());
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(inbox_ids(port(), me.token),
            (std::vector<std::int64_t>{convs[6], convs[5], convs[4], convs[3], convs[2], convs[1],
                                       convs[0]}));

  auto pinned = put_settings(port(), convs[0], R"({"pinned":true})", me.token);
  ASSERT_EQ(pinned.status, 200) << pinned.body;
  EXPECT_EQ(pinned.json.at("settings").at("pinned"), true);
  EXPECT_EQ(pinned.json.at("settings").at("archived"), false);
  EXPECT_TRUE(pinned.json.at("settings").at("muted_until").is_null());
  auto event = mine.next_of("conversation_settings");
  EXPECT_EQ(event.at("conversation_id").as_int64(), convs[0]);
  EXPECT_EQ(event.at("settings").at("pinned"), true) << "the caller's other connections are told";
  ASSERT_EQ(put_settings(port(), convs[1], R"({"pinned":true})", me.token).status, 200);
  auto ids = inbox_ids(port(), me.token);
  EXPECT_EQ(ids[0], convs[1]) << "pinned first, the most recently pinned first";
  EXPECT_EQ(ids[1], convs[0]);
  EXPECT_EQ(ids[2], convs[6]) << "then by activity";
  EXPECT_EQ(ids.size(), 7u);

  for (int i = 2; i < 5; ++i)
    ASSERT_EQ(put_settings(port(), convs[i], R"({"pinned":true})", me.token).status, 200);
  auto sixth = put_settings(port(), convs[5], R"({"pinned":true})", me.token);
  EXPECT_EQ(sixth.status, 409);
  EXPECT_EQ(sixth.error_code(), "conflict");
  EXPECT_EQ(put_settings(port(), convs[4], R"({"pinned":true})", me.token).status, 200)
      << "pinning a pinned one again is fine";
  ASSERT_EQ(put_settings(port(), convs[4], R"({"pinned":false})", me.token).status, 200);
  EXPECT_EQ(put_settings(port(), convs[5], R"({"pinned":true})", me.token).status, 200);

  // A first page of three when five are pinned: the cursor then walks the others.
  auto page = http_request(port(), "GET", "/conversations?limit=3", "", me.token);
  ASSERT_EQ(page.json.at("conversations").as_array().size(), 3u);
  std::set<std::int64_t> seen;
  std::string cursor(page.json.at("next_before").as_string());
  for (const auto& c : page.json.at("conversations").as_array()) seen.insert(c.at("id").as_int64());
  for (int i = 0; i < 5 && !cursor.empty(); ++i) {
    auto next = http_request(port(), "GET", "/conversations?limit=3&before=" + cursor, "", me.token);
    for (const auto& c : next.json.at("conversations").as_array()) {
      EXPECT_FALSE(c.at("pinned").as_bool()) << "pinned ones head the first page only";
      EXPECT_TRUE(seen.insert(c.at("id").as_int64()).second) << "each once";
    }
    cursor = next.json.at("next_before").is_null() ? "" : std::string(next.json.at("next_before").as_string());
  }
  EXPECT_GE(seen.size(), 5u);

  // Archived: left out, listed alone with archived=true, and staying archived on new messages.
  ASSERT_EQ(put_settings(port(), convs[6], R"({"archived":true,"muted_until":"2099-01-01T00:00:00Z"})",
                         me.token).status, 200);
  ids = inbox_ids(port(), me.token);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), convs[6]), 0);
  EXPECT_EQ(inbox_ids(port(), me.token, "&archived=true"), (std::vector<std::int64_t>{convs[6]}));
  auto group = http_request(port(), "GET", "/conversations?archived=true", "", me.token);
  EXPECT_EQ(group.json.at("conversations").at(0).at("muted_until"), "2099-01-01T00:00:00.000Z");
  const auto gid = http_request(port(), "GET", "/conversations?archived=true", "", me.token)
                       .json.at("conversations").at(0).at("group").at("id").as_int64();
  mine.send(json::object{{"type", "send_message"}, {"group_id", gid}, {"content", "still here"}});
  mine.next_of("ack");
  EXPECT_EQ(inbox_ids(port(), me.token, "&archived=true"), (std::vector<std::int64_t>{convs[6]}))
      << "it stays archived when messages arrive";
  EXPECT_EQ(put_settings(port(), convs[6], R"({"muted_until":null})", me.token)
                .json.at("settings").at("muted_until"), nullptr);
}

TEST_F(EverydayE2E, SettingsRefuseBadInputAndOutsiders) {
  auto a = must_register(port(), "sb_ann");
  auto b = must_register(port(), "sb_ben");
  auto g = http_request(port(), "POST", "/groups",
                        json_body({{"name", "mine"}, {"members", json::array{}}}), a.token);
  const auto conv = g.json.at("conversation_id").as_int64();
  EXPECT_EQ(put_settings(port(), conv, R"({"pinned":true})", b.token).status, 404)
      << "not a member";
  EXPECT_EQ(put_settings(port(), 999999999, R"({"pinned":true})", a.token).status, 404);
  for (const std::string bad : {R"({"pinned":"yes"})", R"({"archived":1})",
                                R"({"muted_until":"tomorrow"})", R"({"muted_until":5})", "[]", "{"})
    EXPECT_EQ(put_settings(port(), conv, bad, a.token).status, 400) << bad;
  EXPECT_EQ(http_request(port(), "GET", "/conversations?archived=maybe", "", a.token).status, 400);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM conversation_members WHERE conversation_id = " +
                        std::to_string(conv) + " AND (pinned_at IS NOT NULL OR archived"
                        " OR muted_until IS NOT NULL)"),
            "0")
      << "nothing changed";
}

TEST_F(EverydayE2E, ABlockStopsDirectMessagesBothWaysAndGroupsWithTheBlocker) {
  auto a = must_register(port(), "bl_ann");   // blocks ben
  auto b = must_register(port(), "bl_ben");
  auto c = must_register(port(), "bl_cat");
  const auto blocks = std::string("/users/me/blocks");
  EXPECT_EQ(http_request(port(), "POST", blocks, json_body({{"user_id", a.id}}), a.token).status, 400);
  EXPECT_EQ(http_request(port(), "POST", blocks, json_body({{"user_id", 999999999}}), a.token).status,
            404);
  EXPECT_EQ(http_request(port(), "POST", blocks, R"({"user_id":"x"})", a.token).status, 400);
  ASSERT_EQ(http_request(port(), "POST", blocks, json_body({{"user_id", b.id}}), a.token).status, 204);
  EXPECT_EQ(http_request(port(), "POST", blocks, json_body({{"user_id", b.id}}), a.token).status, 204)
      << "idempotent";
  auto list = http_request(port(), "GET", blocks, "", a.token);
  ASSERT_EQ(list.json.at("users").as_array().size(), 1u);
  EXPECT_EQ(list.json.at("users").at(0).at("id").as_int64(), b.id);

  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  cb.send(json::object{{"type", "send_message"}, {"to", a.id}, {"content", "hey"}, {"client_id", "b1"}});
  auto e1 = cb.next_of("error");
  EXPECT_EQ(e1.at("code"), "forbidden");
  EXPECT_EQ(e1.at("client_id"), "b1");
  ca.send(json::object{{"type", "send_message"}, {"to", b.id}, {"content", "hey"}, {"client_id", "a1"}});
  auto e2 = ca.next_of("error");
  EXPECT_EQ(e2.at("code"), "forbidden") << "the same for both directions";
  EXPECT_EQ(e2.at("message"), e1.at("message"));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE sender_id IN (" + std::to_string(a.id) +
                        "," + std::to_string(b.id) + ")"),
            "0");

  // The blocked one cannot create a group with the blocker or add them to one.
  auto g = http_request(port(), "POST", "/groups",
                        json_body({{"name", "with ann"}, {"members", json::array{a.id, c.id}}}),
                        b.token);
  EXPECT_EQ(g.status, 403);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM groups WHERE owner_id = " + std::to_string(b.id)), "0");
  auto own = http_request(port(), "POST", "/groups",
                          json_body({{"name", "ben's"}, {"members", json::array{c.id}}}), b.token);
  ASSERT_EQ(own.status, 201);
  const auto gid = own.json.at("group").at("id").as_int64();
  EXPECT_EQ(http_request(port(), "POST", "/groups/" + std::to_string(gid) + "/members",
                         json_body({{"user_id", a.id}}), b.token)
                .status,
            403);
  // A group the blocker made with both: messages flow as before.
  auto shared = http_request(port(), "POST", "/groups",
                             json_body({{"name", "shared"}, {"members", json::array{b.id, c.id}}}),
                             a.token);
  ASSERT_EQ(shared.status, 201);
  cb.send(json::object{{"type", "send_message"}, {"group_id", shared.json.at("group").at("id")},
                       {"content", "hello group"}});
  cb.next_of("ack");
  EXPECT_EQ(ca.next_of("message").at("message").at("content"), "hello group");

  // Unblocked, direct messages flow again.
  EXPECT_EQ(http_request(port(), "DELETE", blocks + "/" + std::to_string(b.id), "", a.token).status,
            204);
  cb.send(json::object{{"type", "send_message"}, {"to", a.id}, {"content", "friends again"}});
  cb.next_of("ack");
  EXPECT_EQ(ca.next_of("message").at("message").at("content"), "friends again");
}

TEST_F(EverydayE2E, TheBlockersPresenceIsHiddenFromTheBlockedOne) {
  auto a = must_register(port(), "bp_ann");
  auto b = must_register(port(), "bp_ben");
  WsClient cb(port(), b.token);
  cb.next_of("ready");
  {
    WsClient ca(port(), a.token);
    ca.next_of("ready");
    ca.send(json::object{{"type", "send_message"}, {"to", b.id}, {"content", "hi"}});
    ca.next_of("ack");
    cb.next_of("message");
  }
  cb.next_of("presence");  // ann went offline: they shared a conversation
  ASSERT_EQ(http_request(port(), "POST", "/users/me/blocks", json_body({{"user_id", b.id}}), a.token)
                .status,
            204);
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(cb.take("presence", 200ms)) << "no presence from the blocker";
  auto seen = http_request(port(), "GET", "/users/" + std::to_string(a.id), "", b.token);
  EXPECT_EQ(seen.json.at("user").at("is_online"), false);
  EXPECT_TRUE(seen.json.at("user").at("last_seen").is_null());
  auto by_name = http_request(port(), "GET", "/users?username=bp_ann", "", b.token);
  EXPECT_EQ(by_name.json.at("users").at(0).at("is_online"), false);
  auto inbox = http_request(port(), "GET", "/conversations", "", b.token);
  const auto& peer = inbox.json.at("conversations").at(0).at("peer");
  EXPECT_EQ(peer.at("is_online"), false);
  EXPECT_TRUE(peer.at("last_seen").is_null());
  auto others = http_request(port(), "GET", "/users/" + std::to_string(a.id), "", a.token);
  EXPECT_EQ(others.json.at("user").at("is_online"), true) << "the blocker sees themself as ever";
  auto reverse = http_request(port(), "GET", "/users/" + std::to_string(b.id), "", a.token);
  EXPECT_EQ(reverse.json.at("user").at("is_online"), true) << "the blocker still sees the blocked";

  // Typing in a group they share: the blocked one sees none from the blocker; the blocker sees
  // the blocked one's.
  auto g = http_request(port(), "POST", "/groups",
                        json_body({{"name", "both"}, {"members", json::array{b.id}}}), a.token);
  ASSERT_EQ(g.status, 201);
  const auto conversation = g.json.at("conversation_id").as_int64();
  ca.send(json::object{{"type", "typing"}, {"conversation_id", conversation}});
  EXPECT_FALSE(cb.take("typing", 400ms)) << "no typing from the blocker";
  cb.send(json::object{{"type", "typing"}, {"conversation_id", conversation}});
  EXPECT_TRUE(ca.take("typing", 2s));
}

}  // namespace
}  // namespace chatd::test
