// Replies, edits and deletes for everyone (PROTOCOL §3–§4), over real WebSockets and HTTP
// against a running chatd, checked in the database too.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int kEditWindowSeconds = 2;

class MessagesE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("messages", {{"CHATD_EDIT_WINDOW_SECONDS", std::to_string(kEditWindowSeconds)}});
  }
};

json::object dm(std::int64_t to, const std::string& content, const std::string& cid) {
  return {{"type", "send_message"}, {"to", to}, {"content", content}, {"client_id", cid}};
}

json::object edit(std::int64_t id, const std::string& content) {
  return {{"type", "edit_message"}, {"message_id", id}, {"content", content}};
}

json::object del(std::int64_t id) { return {{"type", "delete_message"}, {"message_id", id}}; }

// Sends and returns the stored message from the ack.
json::object send(WsClient& c, const json::object& event) {
  c.send(json::value(event));
  return c.next_of("ack").at("message").as_object();
}

std::string id_of(const json::object& m) { return std::to_string(m.at("id").as_int64()); }

TEST_F(MessagesE2E, EveryMessageCarriesTheNewFields) {
  auto a = must_register(port(), "f_a");
  auto b = must_register(port(), "f_b");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  auto m = send(ca, dm(b.id, "plain", "f1"));
  EXPECT_TRUE(m.at("reply_to").is_null());
  EXPECT_TRUE(m.at("edited_at").is_null());
  EXPECT_EQ(m.at("deleted").as_bool(), false);
  EXPECT_TRUE(m.at("attachments").as_array().empty());
  EXPECT_EQ(cb.next_of("message").at("message").as_object(), m);
}

TEST_F(MessagesE2E, ARepliesNamesAMessageOfItsOwnConversationOnly) {
  auto a = must_register(port(), "r_a");
  auto b = must_register(port(), "r_b");
  auto c = must_register(port(), "r_c");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  auto question = send(ca, dm(b.id, "lunch?", "q1"));
  auto elsewhere = send(ca, dm(c.id, "hi c", "q2"));
  cb.next_of("message");

  auto answer = dm(a.id, "yes!", "r1");
  answer["reply_to"] = question.at("id");
  auto stored = send(cb, answer);
  EXPECT_EQ(stored.at("reply_to"), question.at("id"));
  EXPECT_EQ(ca.next_of("message").at("message").at("reply_to"), question.at("id"));
  EXPECT_EQ(db_->scalar("SELECT reply_to FROM messages WHERE id = " + id_of(stored)),
            id_of(question));

  for (auto [target, cid] : {std::pair{elsewhere.at("id").as_int64(), "r2"},
                             std::pair{std::int64_t{999999999}, "r3"}}) {
    auto bad = dm(a.id, "to the wrong message", cid);
    bad["reply_to"] = target;
    cb.send(json::value(bad));
    auto err = cb.next_of("error");
    EXPECT_EQ(err.at("code").as_string(), "invalid_input");
    EXPECT_EQ(err.at("client_id").as_string(), cid) << "the refused send names its client_id";
  }
  auto malformed = dm(a.id, "x", "r4");
  malformed["reply_to"] = "one";
  cb.send(json::value(malformed));
  EXPECT_EQ(cb.next_of("error").at("client_id").as_string(), "r4");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE conversation_id = " +
                        std::to_string(question.at("conversation_id").as_int64())),
            "2")
      << "nothing stored for a refused reply";
}

TEST_F(MessagesE2E, AnEditReachesEveryConnectionOfEveryMemberAndIsStored) {
  auto a = must_register(port(), "e_a");
  auto b = must_register(port(), "e_b");
  auto outsider = must_register(port(), "e_x");
  WsClient ca(port(), a.token), ca2(port(), a.token), cb(port(), b.token), cx(port(), outsider.token);
  for (auto* cl : {&ca, &ca2, &cb, &cx}) cl->next_of("ready");
  auto m = send(ca, dm(b.id, "teh typo", "e1"));
  cb.next_of("message");
  ca2.next_of("message");

  ca.send(json::value(edit(m.at("id").as_int64(), "the typo")));
  for (auto* cl : {&ca, &ca2, &cb}) {
    auto u = cl->next_of("message_updated").at("message").as_object();
    EXPECT_EQ(u.at("id"), m.at("id"));
    EXPECT_EQ(u.at("seq"), m.at("seq"));
    EXPECT_EQ(u.at("content").as_string(), "the typo");
    EXPECT_TRUE(u.at("edited_at").is_string());
    EXPECT_FALSE(u.at("deleted").as_bool());
  }
  EXPECT_EQ(db_->scalar("SELECT content || ' ' || (edited_at IS NOT NULL) FROM messages WHERE id = " +
                        id_of(m)),
            "the typo true");

  struct Case {
    WsClient* who;
    json::object event;
    const char* code;
  };
  const auto id = m.at("id").as_int64();
  for (auto& [who, event, code] : std::vector<Case>{
           {&cb, edit(id, "not yours"), "forbidden"},
           {&ca, edit(id, "   "), "invalid_input"},
           {&ca, edit(id, ""), "invalid_input"},
           {&cx, edit(id, "outsider"), "not_found"},
           {&ca, edit(999999999, "nothing"), "not_found"},
           {&cx, del(id), "not_found"},
           {&cb, del(id), "forbidden"}}) {
    who->send(json::value(event));
    EXPECT_EQ(who->next_of("error").at("code").as_string(), code) << json::serialize(event);
  }
  ca.send(R"({"type":"edit_message","message_id":"x","content":"a"})");
  EXPECT_EQ(ca.next_of("error").at("code").as_string(), "invalid_input");
  ca.send(R"({"type":"delete_message"})");
  EXPECT_EQ(ca.next_of("error").at("code").as_string(), "invalid_input");
  EXPECT_EQ(db_->scalar("SELECT content FROM messages WHERE id = " + id_of(m)), "the typo")
      << "no refused change was stored";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(cb.count_received("message_updated"), 0u);
}

TEST_F(MessagesE2E, AnEditAfterTheWindowIsRefused) {
  auto a = must_register(port(), "w_a");
  auto b = must_register(port(), "w_b");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  auto m = send(ca, dm(b.id, "soon too late", "w1"));
  std::this_thread::sleep_for(std::chrono::seconds(kEditWindowSeconds) + 500ms);
  ca.send(json::value(edit(m.at("id").as_int64(), "changed")));
  auto err = ca.next_of("error");
  EXPECT_EQ(err.at("code").as_string(), "forbidden");
  EXPECT_EQ(db_->scalar("SELECT content FROM messages WHERE id = " + id_of(m)), "soon too late");
  ca.send(json::value(del(m.at("id").as_int64())));  // deleting has no window
  EXPECT_TRUE(ca.next_of("message_updated").at("message").at("deleted").as_bool());
}

TEST_F(MessagesE2E, ADeleteKeepsTheSeqAndClearsTheContentEverywhere) {
  auto a = must_register(port(), "d_a");
  auto b = must_register(port(), "d_b");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  auto first = send(ca, dm(b.id, "keep me", "d1"));
  auto secret = send(ca, dm(b.id, "oops, secret", "d2"));
  cb.collect("message", 2);

  ca.send(json::value(del(secret.at("id").as_int64())));
  for (auto* cl : {&ca, &cb}) {
    auto u = cl->next_of("message_updated").at("message").as_object();
    EXPECT_TRUE(u.at("deleted").as_bool());
    EXPECT_EQ(u.at("content").as_string(), "");
    EXPECT_EQ(u.at("seq"), secret.at("seq")) << "its seq stays";
  }
  EXPECT_EQ(db_->scalar("SELECT content = '' AND deleted_at IS NOT NULL FROM messages WHERE id = " +
                        id_of(secret)),
            "t")
      << "gone from the database, not only from the wire";
  ca.send(json::value(edit(secret.at("id").as_int64(), "un-delete?")));
  EXPECT_EQ(ca.next_of("error").at("code").as_string(), "forbidden");

  const auto conv = std::to_string(first.at("conversation_id").as_int64());
  auto history = http_request(port(), "GET", "/messages?conversation_id=" + conv, "", b.token);
  ASSERT_EQ(history.status, 200) << history.body;
  const auto& msgs = history.json.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 2u) << "no gap";
  EXPECT_FALSE(msgs[0].at("deleted").as_bool());
  EXPECT_TRUE(msgs[1].at("deleted").as_bool());
  EXPECT_EQ(msgs[1].at("content").as_string(), "");
  auto inbox = http_request(port(), "GET", "/conversations", "", b.token);
  ASSERT_EQ(inbox.status, 200);
  const auto& last = inbox.json.at("conversations").as_array()[0].at("last_message");
  EXPECT_TRUE(last.at("deleted").as_bool());
  EXPECT_EQ(last.at("content").as_string(), "");
}

TEST_F(MessagesE2E, AGroupAdminMayDeleteAnyonesMessageAMemberOnlyTheirOwn) {
  auto admin = must_register(port(), "ga_admin");
  auto m1 = must_register(port(), "ga_m1");
  auto m2 = must_register(port(), "ga_m2");
  auto created = http_request(port(), "POST", "/groups",
                              json_body(json::object{{"name", "mods"},
                                                     {"members", json::array{m1.id, m2.id}}}),
                              admin.token);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto group = created.json.at("group").at("id").as_int64();
  WsClient cadmin(port(), admin.token), c1(port(), m1.token), c2(port(), m2.token);
  for (auto* cl : {&cadmin, &c1, &c2}) cl->next_of("ready");
  auto spam = send(c1, json::object{{"type", "send_message"}, {"group_id", group},
                                    {"content", "spam"}, {"client_id", "s1"}});
  c2.send(json::value(del(spam.at("id").as_int64())));
  EXPECT_EQ(c2.next_of("error").at("code").as_string(), "forbidden");
  cadmin.send(json::value(del(spam.at("id").as_int64())));
  for (auto* cl : {&cadmin, &c1, &c2})
    EXPECT_TRUE(cl->next_of("message_updated").at("message").at("deleted").as_bool());
}

TEST_F(MessagesE2E, ChangedSinceReturnsTheEditsAndDeletesAfterATime) {
  auto a = must_register(port(), "cs_a");
  auto b = must_register(port(), "cs_b");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  auto old_edit = send(ca, dm(b.id, "one", "cs1"));
  auto later_edit = send(ca, dm(b.id, "two", "cs2"));
  auto later_delete = send(ca, dm(b.id, "three", "cs3"));
  send(ca, dm(b.id, "four, never changed", "cs4"));
  ca.send(json::value(edit(old_edit.at("id").as_int64(), "one!")));
  ca.next_of("message_updated");
  std::this_thread::sleep_for(20ms);
  const auto since = db_->scalar("SELECT chatd_ts(now())");
  std::this_thread::sleep_for(20ms);
  ca.send(json::value(del(later_delete.at("id").as_int64())));
  ca.next_of("message_updated");
  ca.send(json::value(edit(later_edit.at("id").as_int64(), "two!")));
  ca.next_of("message_updated");

  const auto conv = std::to_string(old_edit.at("conversation_id").as_int64());
  auto r = http_request(port(), "GET",
                        "/messages?conversation_id=" + conv + "&changed_since=" + since, "", b.token);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& msgs = r.json.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 2u) << r.body;
  EXPECT_EQ(msgs[0].at("id"), later_edit.at("id")) << "ascending seq";
  EXPECT_EQ(msgs[0].at("content").as_string(), "two!");
  EXPECT_EQ(msgs[1].at("id"), later_delete.at("id"));
  EXPECT_TRUE(msgs[1].at("deleted").as_bool());
  EXPECT_FALSE(r.json.at("has_more").as_bool());

  auto paged = http_request(port(), "GET",
                            "/messages?conversation_id=" + conv + "&changed_since=" + since +
                                "&limit=1",
                            "", b.token);
  ASSERT_EQ(paged.status, 200);
  EXPECT_EQ(paged.json.at("messages").as_array().size(), 1u);
  EXPECT_TRUE(paged.json.at("has_more").as_bool());
  auto next = http_request(port(), "GET",
                           "/messages?conversation_id=" + conv + "&changed_since=" + since +
                               "&after=" + std::to_string(msgs[0].at("seq").as_int64()),
                           "", b.token);
  ASSERT_EQ(next.status, 200);
  ASSERT_EQ(next.json.at("messages").as_array().size(), 1u);
  EXPECT_EQ(next.json.at("messages").as_array()[0].at("id"), later_delete.at("id"));

  for (const std::string bad : {"yesterday", "2026-13-01T00:00:00.000Z"}) {
    auto e = http_request(port(), "GET",
                          "/messages?conversation_id=" + conv + "&changed_since=" + bad, "",
                          b.token);
    EXPECT_EQ(e.status, 400) << bad;
    EXPECT_EQ(e.json.at("error").at("code").as_string(), "invalid_input");
  }
  auto combined = http_request(port(), "GET",
                               "/messages?conversation_id=" + conv + "&changed_since=" + since +
                                   "&before=3",
                               "", b.token);
  EXPECT_EQ(combined.status, 400);
}

// Text parameters reach PostgreSQL as C strings: a NUL byte inside one used to cut the value
// (a lookup of "name\0x" found "name") or, inside a batch's array literal, fail every message
// of the batch. Such values are refused, alone.
TEST_F(MessagesE2E, NulBytesAreRefusedAndLeaveOtherSendersAlone) {
  auto a = must_register(port(), "nul_a");
  auto b = must_register(port(), "nul_b");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(json::value(dm(b.id, "bad id", std::string("n\0ul", 4))));
  cb.send(json::value(dm(a.id, "still fine", "n2")));
  auto err = ca.next_of("error");
  EXPECT_EQ(err.at("code").as_string(), "invalid_input");
  EXPECT_EQ(cb.next_of("ack").at("client_id").as_string(), "n2");
  EXPECT_EQ(ca.next_of("message").at("message").at("content").as_string(), "still fine");

  auto login = http_request(port(), "POST", "/auth/login",
                            json_body({{"username", std::string("nul_a\0xyz", 9)},
                                       {"password", "password-nul_a"}}));
  EXPECT_EQ(login.status, 400) << login.body;
  auto search = http_request(port(), "GET", "/users?username=nul_a%00xyz", "", a.token);
  EXPECT_EQ(search.status, 400) << search.body;
  auto device = http_request(port(), "POST", "/devices",
                             json_body({{"platform", "fcm"}, {"token", std::string("t\0k", 3)}}),
                             a.token);
  EXPECT_EQ(device.status, 400) << device.body;
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM devices"), "0");
}

}  // namespace
}  // namespace chatd::test
