// Mentions and forwarding (PROTOCOL §9) against the real binary.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;

class MentionsForwardsE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("mentions"); }

  static std::string count_messages() { return db_->scalar("SELECT count(*) FROM messages"); }
};

TEST_F(MentionsForwardsE2E, MentionsAreFoldedStoredAndSeenByEveryone) {
  auto a = must_register(port(), "mn_ann");
  auto b = must_register(port(), "mn_ben");
  auto c = must_register(port(), "mn_cat");
  const auto g = make_group(port(), a, json::array{b.id, c.id});
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(json::object{{"type", "send_message"}, {"group_id", g.id}, {"content", "@ben @cat"},
                       {"mentions", json::array{b.id, c.id, b.id}}});
  auto ack = ca.next_of("ack").at("message");
  EXPECT_EQ(ack.at("mentions"), (json::array{b.id, c.id})) << "folded, in the order given";
  EXPECT_FALSE(ack.at("forwarded").as_bool());
  EXPECT_TRUE(ack.at("expires_at").is_null());
  EXPECT_EQ(cb.next_of("message").at("message").at("mentions"), (json::array{b.id, c.id}));
  auto page = http_request(port(), "GET", "/messages?group_id=" + std::to_string(g.id), "",
                           c.token);
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.json.at("messages").at(0).at("mentions"), (json::array{b.id, c.id}));

  // A message without any has the empty list, not null.
  ca.send(json::object{{"type", "send_message"}, {"group_id", g.id}, {"content", "plain"}});
  EXPECT_TRUE(ca.next_of("ack").at("message").at("mentions").as_array().empty());
}

TEST_F(MentionsForwardsE2E, MentionsOfNonMembersOrBadShapesStoreNothing) {
  auto a = must_register(port(), "mb_ann");
  auto b = must_register(port(), "mb_ben");
  auto out = must_register(port(), "mb_out");
  const auto g = make_group(port(), a, json::array{b.id});
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  const auto before = count_messages();
  json::array fifty_one;
  for (int i = 0; i < 51; ++i) fifty_one.push_back(b.id);
  const json::value bad[] = {json::array{out.id}, json::array{b.id, 999999999}, fifty_one,
                             json::value("x"), json::array{-1}, json::array{"b"}};
  for (const auto& mentions : bad) {
    ca.send(json::object{{"type", "send_message"}, {"group_id", g.id}, {"content", "hey"},
                         {"client_id", "m1"}, {"mentions", mentions}});
    auto e = ca.next_of("error");
    EXPECT_EQ(e.at("code"), "invalid_input") << json::serialize(mentions);
    EXPECT_EQ(e.at("client_id"), "m1");
  }
  // A first direct message mentioning a third person creates no conversation.
  const auto conversations = db_->scalar("SELECT count(*) FROM conversations");
  ca.send(json::object{{"type", "send_message"}, {"to", out.id}, {"content", "hey"},
                       {"mentions", json::array{b.id}}});
  EXPECT_EQ(ca.next_of("error").at("code"), "invalid_input");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM conversations"), conversations);
  EXPECT_EQ(count_messages(), before) << "nothing stored";
  // Mentioning the peer of a first direct message is fine.
  ca.send(json::object{{"type", "send_message"}, {"to", out.id}, {"content", "hey you"},
                       {"mentions", json::array{out.id}}});
  EXPECT_EQ(ca.next_of("ack").at("message").at("mentions"), (json::array{out.id}));
}

TEST_F(MentionsForwardsE2E, AForwardCopiesContentAndAttachmentsAndOpensThemToItsReaders) {
  auto a = must_register(port(), "fw_ann");
  auto b = must_register(port(), "fw_ben");
  auto c = must_register(port(), "fw_cat");
  auto up = http_request(port(), "POST", "/attachments?filename=plan.txt", "the plan, in full",
                         a.token, {{"Content-Type", "application/octet-stream"}});
  ASSERT_EQ(up.status, 201) << up.body;
  const auto file = up.json.at("attachment").at("id").as_int64();
  const auto url = "/attachments/" + std::to_string(file);
  WsClient ca(port(), a.token), cb(port(), b.token), cc(port(), c.token);
  for (auto* w : {&ca, &cb, &cc}) w->next_of("ready");
  ca.send(json::object{{"type", "send_message"}, {"to", b.id}, {"content", "see the plan"},
                       {"attachment_ids", json::array{file}}});
  const auto original = ca.next_of("ack").at("message");
  cb.next_of("message");
  EXPECT_EQ(http_request(port(), "GET", url, "", c.token).status, 404) << "not cat's yet";

  cb.send(json::object{{"type", "send_message"}, {"to", c.id}, {"client_id", "fw1"},
                       {"forward_of", original.at("id")}});
  const auto fwd = cb.next_of("ack").at("message");
  EXPECT_TRUE(fwd.at("forwarded").as_bool());
  EXPECT_EQ(fwd.at("content"), "see the plan");
  EXPECT_EQ(fwd.at("sender_id").as_int64(), b.id);
  ASSERT_EQ(fwd.at("attachments").as_array().size(), 1u);
  EXPECT_EQ(fwd.at("attachments").at(0).at("id").as_int64(), file);
  const auto got = cc.next_of("message").at("message");
  EXPECT_TRUE(got.at("forwarded").as_bool());
  EXPECT_EQ(got.at("content"), "see the plan");
  auto read = http_request(port(), "GET", url, "", c.token);
  EXPECT_EQ(read.status, 200) << "the forward's readers may read its attachments";
  EXPECT_EQ(read.body, "the plan, in full");
  // In history too, and a resend with the same client_id stores nothing new.
  auto page = http_request(port(), "GET", "/messages?peer_id=" + std::to_string(b.id), "",
                           c.token);
  EXPECT_TRUE(page.json.at("messages").at(0).at("forwarded").as_bool());
  cb.send(json::object{{"type", "send_message"}, {"to", c.id}, {"client_id", "fw1"},
                       {"forward_of", original.at("id")}});
  EXPECT_EQ(cb.next_of("ack").at("message").at("id"), fwd.at("id"));
}

TEST_F(MentionsForwardsE2E, ForwardsOfUnseenOrDeletedMessagesAreRefused) {
  auto a = must_register(port(), "fu_ann");
  auto b = must_register(port(), "fu_ben");
  auto c = must_register(port(), "fu_cat");
  WsClient ca(port(), a.token), cb(port(), b.token), cc(port(), c.token);
  for (auto* w : {&ca, &cb, &cc}) w->next_of("ready");
  ca.send(json::object{{"type", "send_message"}, {"to", b.id}, {"content", "between us"}});
  const auto mid = ca.next_of("ack").at("message").at("id").as_int64();
  const auto before = count_messages();

  cc.send(json::object{{"type", "send_message"}, {"to", a.id}, {"client_id", "x"},
                       {"forward_of", mid}});
  auto e = cc.next_of("error");
  EXPECT_EQ(e.at("code"), "not_found") << "cat cannot see it";
  EXPECT_EQ(e.at("client_id"), "x");
  cb.send(json::object{{"type", "send_message"}, {"to", c.id}, {"forward_of", 999999999}});
  EXPECT_EQ(cb.next_of("error").at("code"), "not_found");
  cb.send(json::object{{"type", "send_message"}, {"to", c.id}, {"forward_of", mid},
                       {"content", "and more"}});
  EXPECT_EQ(cb.next_of("error").at("code"), "invalid_input") << "content and forward_of";
  cb.send(json::object{{"type", "send_message"}, {"to", c.id}, {"forward_of", "abc"}});
  EXPECT_EQ(cb.next_of("error").at("code"), "invalid_input");
  ca.send(json::object{{"type", "delete_message"}, {"message_id", mid}});
  ca.next_of("message_updated");
  cb.send(json::object{{"type", "send_message"}, {"to", c.id}, {"forward_of", mid}});
  EXPECT_EQ(cb.next_of("error").at("code"), "not_found") << "a deleted message";
  EXPECT_EQ(count_messages(), before) << "nothing stored";
}

}  // namespace
}  // namespace chatd::test
