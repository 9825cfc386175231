#include "ws/event_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "domain/messaging_service.hpp"

using namespace chatd;
using namespace chatd::ws;

TEST(EventCodec, DecodesEveryClientEvent) {
  auto send = decode(R"({"type":"send_message","to":5,"content":"hi","client_id":"c1"})");
  auto* s = std::get_if<SendMessageEvent>(&std::get<ClientEvent>(send));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s->to, 5);
  EXPECT_FALSE(s->group_id);
  EXPECT_EQ(s->content, "hi");
  EXPECT_EQ(*s->client_id, "c1");

  auto group = decode(R"({"type":"send_message","group_id":3,"content":"yo","client_id":null})");
  auto* g = std::get_if<SendMessageEvent>(&std::get<ClientEvent>(group));
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(*g->group_id, 3);
  EXPECT_FALSE(g->client_id);

  auto reply = decode(R"({"type":"send_message","to":5,"content":"re","reply_to":41})");
  EXPECT_EQ(*std::get<SendMessageEvent>(std::get<ClientEvent>(reply)).reply_to, 41);
  auto edited = decode(R"({"type":"edit_message","message_id":41,"content":"fixed"})");
  const auto& e = std::get<EditMessageEvent>(std::get<ClientEvent>(edited));
  EXPECT_EQ(e.message_id, 41);
  EXPECT_EQ(e.content, "fixed");
  auto deleted = decode(R"({"type":"delete_message","message_id":42})");
  EXPECT_EQ(std::get<DeleteMessageEvent>(std::get<ClientEvent>(deleted)).message_id, 42);
  for (const char* bad : {R"({"type":"edit_message","content":"x"})",
                          R"({"type":"edit_message","message_id":0,"content":"x"})",
                          R"({"type":"edit_message","message_id":4})",
                          R"({"type":"edit_message","message_id":4,"content":7})",
                          R"({"type":"delete_message","message_id":-1})",
                          R"({"type":"delete_message","message_id":"4"})",
                          R"({"type":"send_message","to":5,"content":"re","reply_to":0,"client_id":"c"})"}) {
    auto d = decode(bad);
    auto* err = std::get_if<DecodeError>(&d);
    ASSERT_NE(err, nullptr) << bad;
    EXPECT_EQ(err->error.code, errc::invalid_input) << bad;
  }

  auto read = decode(R"({"type":"mark_read","conversation_id":7,"seq":12})");
  auto* r = std::get_if<MarkReadEvent>(&std::get<ClientEvent>(read));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->conversation_id, 7);
  EXPECT_EQ(r->seq, 12);

  EXPECT_TRUE(std::holds_alternative<TypingEvent>(
      std::get<ClientEvent>(decode(R"({"type":"typing","conversation_id":7})"))));
  EXPECT_TRUE(std::holds_alternative<PingEvent>(std::get<ClientEvent>(decode(R"({"type":"ping"})"))));
}

TEST(EventCodec, RejectsMalformedEventsAndEchoesTheClientIdOfASend) {
  const std::vector<std::string> bad = {
      "", "{", "null", "[]", R"({"type":5})", R"({"type":"nope"})",
      R"({"type":"mark_read","conversation_id":1})", R"({"type":"mark_read","conversation_id":0,"seq":1})",
      R"({"type":"typing","conversation_id":-1})", R"({"type":"typing","conversation_id":1.5})"};
  for (const auto& text : bad) {
    auto decoded = decode(text);
    auto* e = std::get_if<DecodeError>(&decoded);
    ASSERT_NE(e, nullptr) << text;
    EXPECT_EQ(e->error.code, errc::invalid_input) << text;
    EXPECT_FALSE(e->answers_send);
  }
  auto missing = std::get<DecodeError>(decode(R"({"type":"send_message","to":1,"client_id":"c9"})"));
  EXPECT_TRUE(missing.answers_send);
  EXPECT_EQ(*missing.client_id, "c9");
  auto both = std::get<DecodeError>(
      decode(R"({"type":"send_message","to":1,"group_id":2,"content":"x","client_id":"c8"})"));
  EXPECT_EQ(*both.client_id, "c8");
  auto typed = std::get<DecodeError>(decode(R"({"type":"send_message","to":"1","content":"x"})"));
  EXPECT_TRUE(typed.answers_send);
  EXPECT_FALSE(typed.client_id);
}

TEST(EventCodec, EncodesServerEventsInTheProtocolShape) {
  Message m{7, 3, 2, 10, 20, std::nullopt, "hé", std::nullopt, "2026-11-24T14:22:56.123Z"};
  auto ack = boost::json::parse(encode_ack(std::string("c1"), m));
  EXPECT_EQ(ack.at("type").as_string(), "ack");
  EXPECT_EQ(ack.at("client_id").as_string(), "c1");
  EXPECT_EQ(ack.at("message").at("to").as_int64(), 20);
  EXPECT_TRUE(ack.at("message").at("group_id").is_null());
  EXPECT_TRUE(ack.at("message").at("client_id").is_null());
  EXPECT_EQ(ack.at("message").at("content").as_string(), "hé");
  EXPECT_TRUE(boost::json::parse(encode_ack(std::nullopt, m)).at("client_id").is_null());

  auto receipt = boost::json::parse(
      encode_receipt(Receipt{3, 20, ReceiptStatus::read, 2, "2026-11-24T14:22:57.000Z"}));
  EXPECT_EQ(receipt.at("status").as_string(), "read");
  EXPECT_EQ(receipt.at("up_to_seq").as_int64(), 2);

  auto presence = boost::json::parse(encode_presence(PresenceChange{20, true, std::nullopt}));
  EXPECT_TRUE(presence.at("online").as_bool());
  EXPECT_TRUE(presence.at("last_seen").is_null());

  auto err = boost::json::parse(
      encode_error(make_error(errc::forbidden, "no"), std::nullopt, /*answers_send=*/true));
  EXPECT_EQ(err.at("code").as_string(), "forbidden");
  EXPECT_TRUE(err.at("client_id").is_null());
  EXPECT_FALSE(boost::json::parse(encode_error(make_error(errc::invalid_input, "x")))
                   .as_object()
                   .contains("client_id"));
  EXPECT_EQ(encode_pong(), R"({"type":"pong"})");
}

TEST(EventCodec, AnEventRefusedUnreadNamesTheClientIdOfASendMessage) {
  EXPECT_EQ(send_client_id(R"({"type":"send_message","to":1,"content":"x","client_id":"c7"})"),
            std::optional<std::optional<std::string>>(std::optional<std::string>("c7")));
  const auto anonymous = send_client_id(R"({"type":"send_message","to":1,"content":"x"})");
  ASSERT_TRUE(anonymous.has_value()) << "a send_message without client_id answers with null";
  EXPECT_FALSE(anonymous->has_value());
  EXPECT_FALSE(send_client_id(R"({"type":"typing","conversation_id":1})").has_value());
  EXPECT_FALSE(send_client_id("not json").has_value());
  EXPECT_FALSE(send_client_id("[1,2]").has_value());
}

TEST(EventCodec, ReactNamesAMessageAndAnEmojiOrNull) {
  auto set = decode(R"({"type":"react","message_id":7,"emoji":"👍"})");
  ASSERT_TRUE(std::holds_alternative<ClientEvent>(set));
  const auto& e = std::get<ReactEvent>(std::get<ClientEvent>(set));
  EXPECT_EQ(e.message_id, 7);
  EXPECT_EQ(e.emoji, "👍");
  auto removed = decode(R"({"type":"react","message_id":7,"emoji":null})");
  EXPECT_FALSE(std::get<ReactEvent>(std::get<ClientEvent>(removed)).emoji);
  for (const char* bad : {R"({"type":"react","emoji":"x"})", R"({"type":"react","message_id":7})",
                          R"({"type":"react","message_id":7,"emoji":3})",
                          R"({"type":"react","message_id":-1,"emoji":"x"})"})
    EXPECT_TRUE(std::holds_alternative<DecodeError>(decode(bad))) << bad;
  const auto frame = boost::json::parse(encode_reaction(
      ReactionChange{3, 7, 9, std::nullopt, "2026-12-01T10:00:00.000Z"}));
  EXPECT_EQ(frame.at("type"), "reaction");
  EXPECT_TRUE(frame.at("emoji").is_null());
  EXPECT_EQ(frame.at("conversation_id").as_int64(), 3);
  EXPECT_EQ(frame.at("message_id").as_int64(), 7);
  EXPECT_EQ(frame.at("user_id").as_int64(), 9);
}

TEST(EventCodec, ASendMayCarryMentionsAndAForwardInsteadOfContent) {
  auto m = decode(R"({"type":"send_message","group_id":3,"content":"@a","mentions":[4,5]})");
  EXPECT_EQ(std::get<SendMessageEvent>(std::get<ClientEvent>(m)).mentions,
            (std::vector<UserId>{4, 5}));
  auto f = decode(R"({"type":"send_message","to":5,"forward_of":41,"client_id":"f"})");
  const auto& fwd = std::get<SendMessageEvent>(std::get<ClientEvent>(f));
  EXPECT_EQ(*fwd.forward_of, 41);
  EXPECT_TRUE(fwd.content.empty());
  for (const char* bad : {R"({"type":"send_message","to":5,"content":"x","mentions":"4","client_id":"c"})",
                          R"({"type":"send_message","to":5,"content":"x","mentions":[0],"client_id":"c"})",
                          R"({"type":"send_message","to":5,"content":"x","mentions":[1.5],"client_id":"c"})",
                          R"({"type":"send_message","to":5,"forward_of":"41","client_id":"c"})",
                          R"({"type":"send_message","to":5,"client_id":"c"})"}) {
    auto r = decode(bad);
    auto* err = std::get_if<DecodeError>(&r);
    ASSERT_NE(err, nullptr) << bad;
    EXPECT_EQ(err->error.code, errc::invalid_input) << bad;
    EXPECT_EQ(err->client_id, std::optional<std::string>("c")) << bad;
  }
}

TEST(EventCodec, ConversationUpdatedSaysTheTimerAndWhoSetIt) {
  auto on = boost::json::parse(encode_conversation_updated(ConversationUpdate{3, 86400, 7}));
  EXPECT_EQ(on, boost::json::parse(R"({"type":"conversation_updated","conversation_id":3,)"
                                   R"("disappearing_seconds":86400,"by":7})"));
  auto off = boost::json::parse(encode_conversation_updated(ConversationUpdate{3, std::nullopt, 7}));
  EXPECT_TRUE(off.at("disappearing_seconds").is_null());
}

