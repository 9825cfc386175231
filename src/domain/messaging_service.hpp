// Sending (validation, conversation resolution, group commit, fan-out), receipts and typing
// (PROTOCOL §3–§4). Persist first, then acknowledge and fan out: fan-out runs in the committer,
// in seq order, so every conversation is delivered in the order of its seq.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "domain/batch_queue.hpp"
#include "domain/delivery_queue.hpp"
#include "domain/event_publisher.hpp"
#include "domain/message_repository.hpp"
#include "domain/push_service.hpp"

namespace chatd {

struct SendRequest {
  std::optional<UserId> to;
  std::optional<GroupId> group_id;
  std::string content;
  std::optional<std::string> client_id;
  std::optional<MessageId> reply_to;
  std::vector<std::int64_t> attachment_ids;
  std::vector<UserId> mentions;         // members of the conversation (PROTOCOL §9)
  std::optional<MessageId> forward_of;  // instead of content and attachment_ids
};

struct MessagingOptions {
  std::size_t shards = 4;       // committers working in parallel (conversations are split)
  std::size_t max_batch = 256;  // messages per transaction at most
  // Writers recording delivered positions in parallel (recipients are split, so one
  // recipient's positions keep their order), each up to max_delivery_batch per statement.
  std::size_t delivery_writers = 2;
  std::size_t max_delivery_batch = 2000;
  std::size_t max_content_chars = 4096;
  std::size_t max_client_id_chars = 64;
  std::size_t max_attachments = 10;  // per message
  std::size_t max_mentions = 50;     // per message
  int edit_window_seconds = 900;  // a message may be edited this long after it was sent
};

// Called once with the stored message (or the original one for a repeated client_id).
using SendCallback = std::function<void(Result<Message>)>;

class MessagingService {
 public:
  MessagingService(boost::asio::any_io_executor ex, MessageRepository& repo,
                   EventPublisher& publisher, MessagingOptions options = {});

  // Validates and queues a message for storing; an error here means nothing was queued.
  // Nothing is awaited: the conversation is resolved (a direct one created on first use) by the
  // committer, in the batch's own transaction. `done` runs later, on the committer, after the
  // message is stored and fanned out. Messages submitted one after another by one caller keep
  // that order.
  Status submit(UserId sender, SessionId origin, SendRequest request, SendCallback done);

  // Offline recipients of stored messages are pushed through `push` (optional).
  void set_push(PushService* push) { push_ = push; }
  // Edit and delete for everyone (PROTOCOL §3): stored, then `message_updated` to every member.
  boost::asio::awaitable<Status> edit(UserId editor, MessageId id, std::string content);
  boost::asio::awaitable<Status> remove(UserId user, MessageId id);
  // A server admin's delete for everyone (PROTOCOL §10), whoever sent it and wherever.
  boost::asio::awaitable<Status> remove_for_everyone(UserId admin, MessageId id);
  boost::asio::awaitable<Status> mark_read(UserId reader, ConversationId c, Seq seq);
  boost::asio::awaitable<Status> typing(UserId who, ConversationId c);

  // A message was written to one of `user`'s connections: mark it delivered (batched) and tell
  // its sender.
  void delivered(Delivery d);

  boost::asio::awaitable<Result<std::vector<Message>>> undelivered(UserId user, ReplayCursor after,
                                                                   int limit);

  // For /metrics: messages waiting to be stored, delivered positions waiting to be recorded.
  std::size_t messages_queued() const;
  std::size_t deliveries_queued() const;

 private:
  struct Pending {
    NewMessage message;
    SessionId origin;
    SendCallback done;
    std::chrono::steady_clock::time_point queued = std::chrono::steady_clock::now();
  };
  boost::asio::awaitable<void> commit(std::vector<Pending>& batch);
  boost::asio::awaitable<Status> change(UserId user, MessageId id,
                                        std::optional<std::string> content, bool moderator = false);
  boost::asio::awaitable<void> commit_deliveries(std::vector<DeliveryPosition>& batch);
  void finish(Pending& p, Result<AppendOutcome> outcome);

  PushService* push_ = nullptr;
  MessageRepository& repo_;
  EventPublisher& publisher_;
  MessagingOptions options_;
  std::vector<std::unique_ptr<BatchQueue<Pending>>> shards_;
  std::vector<std::unique_ptr<DeliveryQueue>> deliveries_;
};

}  // namespace chatd
