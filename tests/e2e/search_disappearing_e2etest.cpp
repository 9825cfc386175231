// Search and disappearing messages (PROTOCOL §9) against the real binary; the sweeper runs
// every second here.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cctype>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class SearchDisappearingE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("search", {{"CHATD_EXPIRY_SWEEP_SECONDS", "1"}});
  }
};

json::object send_dm(WsClient& c, std::int64_t to, const std::string& text) {
  c.send(json::object{{"type", "send_message"}, {"to", to}, {"content", text}});
  return c.next_of("ack").at("message").as_object();
}

std::string encode(const std::string& q) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char ch : q) {
    if (std::isalnum(ch) != 0) {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += hex[ch >> 4];
      out += hex[ch & 15];
    }
  }
  return out;
}

HttpResult search(std::uint16_t port, const std::string& token, const std::string& q,
                  const std::string& more = "") {
  return http_request(port, "GET", "/search?q=" + encode(q) + more, "", token);
}

std::vector<std::string> contents(const HttpResult& r) {
  std::vector<std::string> out;
  for (const auto& m : r.json.at("messages").as_array())
    out.emplace_back(m.at("content").as_string());
  return out;
}

using Contents = std::vector<std::string>;

TEST_F(SearchDisappearingE2E, SearchFindsEveryWordCaseInsensitiveTheLastAsAPrefix) {
  auto a = must_register(port(), "se_ann");
  auto b = must_register(port(), "se_ben");
  auto c = must_register(port(), "se_cat");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  send_dm(ca, b.id, "Lunch at noon tomorrow?");
  const auto conversation = send_dm(cb, a.id, "lunch is late, sorry").at("conversation_id");
  send_dm(ca, b.id, "dinner at eight");
  send_dm(cb, c.id, "lunch secret between ben and cat");
  const auto gone = send_dm(ca, b.id, "lunch deleted").at("id");
  ca.send(json::object{{"type", "delete_message"}, {"message_id", gone}});
  ca.next_of("message_updated");

  auto r = search(port(), a.token, "LUNCH");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(contents(r), (Contents{"lunch is late, sorry", "Lunch at noon tomorrow?"}))
      << "newest first; never cat's conversation, never a deleted message";
  EXPECT_TRUE(r.json.at("next_before").is_null());
  EXPECT_EQ(contents(search(port(), a.token, "lunch noo")), (Contents{"Lunch at noon tomorrow?"}))
      << "every word, the last as a prefix";
  EXPECT_EQ(contents(search(port(), a.token, "noo lunch")), (Contents{})) << "only the last";
  EXPECT_EQ(contents(search(port(), a.token, "at")).size(), 2u);
  EXPECT_EQ(contents(search(port(), a.token, "  ...late!! ")), (Contents{"lunch is late, sorry"}));
  EXPECT_EQ(contents(search(port(), b.token, "lunch")).size(), 3u) << "ben sees both";
  EXPECT_EQ(contents(search(port(), c.token, "lunch")),
            (Contents{"lunch secret between ben and cat"}));

  // One conversation, and pages by next_before.
  auto one = search(port(), b.token, "lunch",
                    "&conversation_id=" + std::to_string(conversation.as_int64()) + "&limit=1");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(contents(one), (Contents{"lunch is late, sorry"}));
  ASSERT_FALSE(one.json.at("next_before").is_null());
  auto two = search(port(), b.token, "lunch",
                    "&conversation_id=" + std::to_string(conversation.as_int64()) +
                        "&limit=1&before=" + std::to_string(one.json.at("next_before").as_int64()));
  EXPECT_EQ(contents(two), (Contents{"Lunch at noon tomorrow?"}));
  // A conversation the caller is not in: nothing, as if it held nothing.
  EXPECT_EQ(contents(search(port(), c.token, "lunch",
                            "&conversation_id=" + std::to_string(conversation.as_int64()))),
            (Contents{}));
}

TEST_F(SearchDisappearingE2E, BadSearchQueriesAreRefused) {
  auto a = must_register(port(), "sq_ann");
  const std::vector<std::string> bad = {"", std::string(201, 'a'), "!!! ... ???", "   "};
  for (const auto& q : bad) {
    auto r = search(port(), a.token, q);
    EXPECT_EQ(r.status, 400) << "q=" << q;
    EXPECT_EQ(r.json.at("error").at("code"), "invalid_input") << r.body;
  }
  EXPECT_EQ(http_request(port(), "GET", "/search", "", a.token).status, 400) << "q is required";
  EXPECT_EQ(search(port(), a.token, std::string(200, 'a')).status, 200) << "200 characters";
  EXPECT_EQ(search(port(), a.token, "é ü 漢字").status, 200);
  EXPECT_EQ(search(port(), a.token, "a", "&limit=0").status, 400);
  EXPECT_EQ(search(port(), a.token, "a", "&limit=51").status, 400);
  EXPECT_EQ(search(port(), a.token, "a", "&before=x").status, 400);
  EXPECT_EQ(search(port(), a.token, "a", "&conversation_id=-1").status, 400);
  EXPECT_EQ(http_request(port(), "GET", "/search?q=a").status, 401);
  EXPECT_EQ(search(port(), a.token, "a':* | b").status, 200) << "no tsquery syntax gets through";
}

HttpResult set_timer(std::uint16_t port, std::int64_t conversation, const std::string& body,
                     const std::string& token) {
  return http_request(port, "PUT",
                      "/conversations/" + std::to_string(conversation) + "/disappearing", body,
                      token);
}

TEST_F(SearchDisappearingE2E, TheTimerIsSetByEitherPeerOrAGroupsAdminsAndTold) {
  auto a = must_register(port(), "dt_ann");
  auto b = must_register(port(), "dt_ben");
  auto c = must_register(port(), "dt_cat");
  WsClient ca(port(), a.token), cb(port(), b.token), cc(port(), c.token);
  for (auto* w : {&ca, &cb, &cc}) w->next_of("ready");
  const auto dm = send_dm(ca, b.id, "hello").at("conversation_id").as_int64();
  cb.next_of("message");

  auto r = set_timer(port(), dm, R"({"seconds":3600})", b.token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json.at("disappearing_seconds").as_int64(), 3600);
  for (auto* w : {&ca, &cb}) {
    auto e = w->next_of("conversation_updated");
    EXPECT_EQ(e.at("conversation_id").as_int64(), dm);
    EXPECT_EQ(e.at("disappearing_seconds").as_int64(), 3600);
    EXPECT_EQ(e.at("by").as_int64(), b.id);
  }
  auto inbox = http_request(port(), "GET", "/conversations", "", a.token);
  EXPECT_EQ(inbox.json.at("conversations").at(0).at("disappearing_seconds").as_int64(), 3600);
  const auto m = send_dm(ca, b.id, "this one goes");
  ASSERT_FALSE(m.at("expires_at").is_null());
  EXPECT_EQ(db_->scalar("SELECT extract(epoch FROM expires_at - created_at)::int FROM messages"
                        " WHERE id = " + std::to_string(m.at("id").as_int64())),
            "3600");
  EXPECT_EQ(cb.next_of("message").at("message").at("expires_at"), m.at("expires_at"));

  // Bad values change nothing.
  for (const char* body : {R"({"seconds":4})", R"({"seconds":7776001})", R"({"seconds":"60"})",
                           R"({"seconds":1.5})", R"({})", "[]", "nope"}) {
    auto bad = set_timer(port(), dm, body, a.token);
    EXPECT_EQ(bad.status, 400) << body;
  }
  EXPECT_EQ(db_->scalar("SELECT disappearing_seconds FROM conversations WHERE id = " +
                        std::to_string(dm)),
            "3600");
  EXPECT_EQ(set_timer(port(), dm, R"({"seconds":60})", c.token).status, 404) << "not a member";
  EXPECT_EQ(set_timer(port(), 999999999, R"({"seconds":60})", a.token).status, 404);
  EXPECT_EQ(set_timer(port(), dm, R"({"seconds":60})", "").status, 401);
  EXPECT_EQ(cc.count_received("conversation_updated"), 0u);

  // Off again; a message now never expires.
  r = set_timer(port(), dm, R"({"seconds":null})", a.token);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.json.at("disappearing_seconds").is_null());
  EXPECT_TRUE(cb.next_of("conversation_updated").at("disappearing_seconds").is_null());
  EXPECT_TRUE(send_dm(ca, b.id, "this one stays").at("expires_at").is_null());

  // In a group only its admins.
  auto g = http_request(port(), "POST", "/groups",
                        json_body({{"name", "timers"}, {"members", json::array{b.id}}}), a.token);
  const auto gc = g.json.at("conversation_id").as_int64();
  EXPECT_EQ(set_timer(port(), gc, R"({"seconds":60})", b.token).status, 403);
  EXPECT_EQ(set_timer(port(), gc, R"({"seconds":60})", a.token).status, 200);
}

TEST_F(SearchDisappearingE2E, AnExpiredMessageIsNeverReturnedAndIsSweptAway) {
  auto a = must_register(port(), "dx_ann");
  auto b = must_register(port(), "dx_ben");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  const auto first = send_dm(ca, b.id, "kept forever");
  const auto dm = first.at("conversation_id").as_int64();
  ASSERT_EQ(set_timer(port(), dm, R"({"seconds":5})", a.token).status, 200);
  auto up = http_request(port(), "POST", "/attachments?filename=v.txt", "vanishing bytes", a.token,
                         {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(up.status, 201);
  const auto file = up.json.at("attachment").at("id").as_int64();
  ca.send(json::object{{"type", "send_message"}, {"to", b.id}, {"content", "vanishing words"},
                       {"attachment_ids", json::array{file}}});
  const auto gone = ca.next_of("ack").at("message");
  const auto id = std::to_string(gone.at("id").as_int64());
  ca.send(json::object{{"type", "react"}, {"message_id", gone.at("id")}, {"emoji", "👍"}});
  ca.next_of("reaction");
  const auto history = "/messages?conversation_id=" + std::to_string(dm);
  ASSERT_EQ(http_request(port(), "GET", history, "", b.token).json.at("messages").as_array().size(),
            2u);
  EXPECT_EQ(contents(search(port(), b.token, "vanishing")).size(), 1u);

  // Past its time it is gone from every read at once, and the sweeper erases it soon after.
  std::this_thread::sleep_for(5200ms);
  auto page = http_request(port(), "GET", history, "", b.token);
  EXPECT_EQ(contents(page), (Contents{"kept forever"}));
  EXPECT_EQ(contents(search(port(), b.token, "vanishing")), (Contents{}));
  auto inbox = http_request(port(), "GET", "/conversations", "", b.token);
  EXPECT_EQ(inbox.json.at("conversations").at(0).at("last_message").at("content"), "kept forever");
  WsClient cb(port(), b.token);  // ben's first connection: the replay skips it
  cb.next_of("ready");
  const auto replayed = cb.collect("message", 2, 1500ms);
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0].at("message").at("content"), "kept forever");
  ca.send(json::object{{"type", "react"}, {"message_id", gone.at("id")}, {"emoji", "🎉"}});
  EXPECT_EQ(ca.next_of("error").at("code"), "not_found");
  cb.send(json::object{{"type", "send_message"}, {"to", a.id}, {"forward_of", gone.at("id")}});
  EXPECT_EQ(cb.next_of("error").at("code"), "not_found") << "an expired message is not forwarded";

  std::string content = "x";
  for (int i = 0; i < 60 && !content.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    content = db_->scalar("SELECT content FROM messages WHERE id = " + id);
  }
  EXPECT_EQ(content, "") << "swept within CHATD_EXPIRY_SWEEP_SECONDS";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM message_attachments WHERE message_id = " + id), "0");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM message_reactions WHERE message_id = " + id), "0");
  EXPECT_EQ(db_->scalar("SELECT seq FROM messages WHERE id = " + id), "2") << "the row and seq stay";
  EXPECT_EQ(http_request(port(), "GET", "/attachments/" + std::to_string(file), "", b.token).status,
            404);
}

}  // namespace
}  // namespace chatd::test
