// What people do every day (PROTOCOL §9) against the real binary: reactions.
#include <gtest/gtest.h>

#include <boost/json.hpp>

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

}  // namespace
}  // namespace chatd::test
