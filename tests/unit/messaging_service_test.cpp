// The committer's failure policy, against a scripted repository (the real one is covered by
// the integration and end-to-end tests): an unavailable database fails a batch once, while a
// failure that one message may cause is isolated by storing the messages one by one.
#include "domain/messaging_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <vector>

namespace {

using namespace chatd;
using boost::asio::awaitable;

// Each append takes 5 ms; batches of more than one message fail with `batch_error`, single
// messages are stored.
class ScriptedRepository : public MessageRepository {
 public:
  ScriptedRepository(boost::asio::io_context& ioc, errc batch_error)
      : ioc_(ioc), batch_error_(batch_error) {}

  awaitable<Result<std::vector<AppendOutcome>>> append(std::vector<NewMessage> batch) override {
    appends.push_back(batch.size());
    boost::asio::steady_timer t(ioc_, std::chrono::milliseconds(5));
    co_await t.async_wait(boost::asio::use_awaitable);
    if (batch.size() > 1) co_return make_error(batch_error_, "scripted failure");
    AppendOutcome stored;
    stored.message.id = static_cast<MessageId>(appends.size());
    stored.message.conversation_id = 7;
    stored.message.sender_id = batch.front().sender_id;
    stored.message.content = batch.front().content;
    stored.recipients.push_back(2);
    std::vector<AppendOutcome> out;
    out.push_back(std::move(stored));
    co_return out;
  }
  awaitable<Result<std::optional<std::vector<UserId>>>> members(ConversationId, UserId) override {
    co_return std::optional<std::vector<UserId>>{};
  }
  awaitable<Result<std::vector<Message>>> undelivered(UserId, ReplayCursor, int) override {
    co_return std::vector<Message>{};
  }
  awaitable<Result<std::vector<Message>>> range(ConversationId, std::int64_t,
                                                std::int64_t) override {
    co_return std::vector<Message>{};
  }
  awaitable<Result<ChangeOutcome>> change(UserId, MessageId, std::optional<std::string>, int,
                                          bool) override {
    co_return ChangeOutcome{};
  }
  awaitable<Result<std::vector<ReceiptChange>>> mark_delivered(
      std::vector<DeliveryPosition>) override {
    co_return std::vector<ReceiptChange>{};
  }
  awaitable<Result<std::vector<ReceiptChange>>> mark_read(UserId, ConversationId, Seq) override {
    co_return std::vector<ReceiptChange>{};
  }

  std::vector<std::size_t> appends;  // the size of each append's batch

 private:
  boost::asio::io_context& ioc_;
  errc batch_error_;
};

class CountingPublisher : public EventPublisher {
 public:
  void message(const Message&, std::span<const UserId>, SessionId) override { ++messages; }
  void message_updated(const Message&, std::span<const UserId>) override {}
  void receipt(UserId, const Receipt&) override {}
  void presence(std::span<const UserId>, const PresenceChange&) override {}
  void typing(std::span<const UserId>, ConversationId, UserId) override {}
  void revoked(const TokenRevocation&) override {}
  void reaction(const ReactionChange&, std::span<const UserId>) override {}
  void conversation_updated(const ConversationUpdate&, std::span<const UserId>) override {}
  void settings_changed(UserId, ConversationId, const ConversationSettings&) override {}
  int messages = 0;
};

// One message, then five more while it is being stored (they form the next batch); the
// result each sender got.
std::vector<Result<Message>> send_one_then_five(boost::asio::io_context& ioc,
                                                ScriptedRepository& repo,
                                                CountingPublisher& publisher) {
  MessagingService service(ioc.get_executor(), repo, publisher);
  std::vector<Result<Message>> results;
  SendRequest request;
  request.to = 2;
  request.content = "hello";
  SendCallback done = [&results](Result<Message> r) { results.push_back(std::move(r)); };
  auto submit = [&] { EXPECT_TRUE(service.submit(1, 0, request, done)); };
  submit();
  boost::asio::post(ioc, [&] {
    for (int i = 0; i < 5; ++i) submit();
  });
  ioc.run();
  return results;
}

}  // namespace

TEST(MessagingService, AnUnavailableDatabaseFailsTheBatchOnceWithoutRetrying) {
  boost::asio::io_context ioc;
  ScriptedRepository repo(ioc, errc::unavailable);
  CountingPublisher publisher;
  const auto results = send_one_then_five(ioc, repo, publisher);
  EXPECT_EQ(repo.appends, (std::vector<std::size_t>{1, 5})) << "one statement, no retries";
  ASSERT_EQ(results.size(), 6u);
  EXPECT_TRUE(results[0]);
  for (std::size_t i = 1; i < results.size(); ++i) {
    ASSERT_FALSE(results[i]);
    EXPECT_EQ(results[i].error().code, errc::unavailable);
  }
  EXPECT_EQ(publisher.messages, 1) << "only the stored message is delivered";
}

TEST(MessagingService, AFailedBatchIsRetriedMessageByMessageToIsolateTheCause) {
  boost::asio::io_context ioc;
  ScriptedRepository repo(ioc, errc::internal);
  CountingPublisher publisher;
  const auto results = send_one_then_five(ioc, repo, publisher);
  EXPECT_EQ(repo.appends, (std::vector<std::size_t>{1, 5, 1, 1, 1, 1, 1}));
  ASSERT_EQ(results.size(), 6u);
  for (const auto& r : results) EXPECT_TRUE(r);
  EXPECT_EQ(publisher.messages, 6);
}
