#include "domain/messaging_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "domain/metrics.hpp"
#include "validation/validation.hpp"

namespace chatd {

using boost::asio::awaitable;

MessagingService::MessagingService(boost::asio::any_io_executor ex, MessageRepository& repo,
                                   EventPublisher& publisher, MessagingOptions options)
    : repo_(repo),
      publisher_(publisher),
      options_(options) {
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.shards); ++i)
    shards_.push_back(std::make_unique<BatchQueue<Pending>>(
        ex, options_.max_batch, [this](std::vector<Pending>& b) { return commit(b); }));
  for (std::size_t i = 0; i < std::max<std::size_t>(1, options_.delivery_writers); ++i)
    deliveries_.push_back(std::make_unique<DeliveryQueue>(
        ex, options_.max_delivery_batch,
        [this](std::vector<DeliveryPosition>& b) { return commit_deliveries(b); }));
}

Status MessagingService::submit(UserId sender, SessionId origin, SendRequest request,
                                SendCallback done) {
  if (request.to.has_value() == request.group_id.has_value())
    return make_error(errc::invalid_input, "exactly one of to and group_id is required");
  if (request.to && *request.to == sender)
    return make_error(errc::invalid_input, "cannot send a message to oneself");
  if (request.attachment_ids.size() > options_.max_attachments)
    return make_error(errc::invalid_input, "at most " + std::to_string(options_.max_attachments) +
                                               " attachments per message");
  {
    auto ids = request.attachment_ids;
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end())
      return make_error(errc::invalid_input, "an attachment may be sent once per message");
  }
  if (request.forward_of) {
    // A forward copies the original's content and attachments (PROTOCOL §9).
    if (!request.content.empty() || !request.attachment_ids.empty())
      return make_error(errc::invalid_input,
                        "forward_of replaces content and attachment_ids: send neither");
  } else if (!(request.content.empty() && !request.attachment_ids.empty())) {
    // Content may be empty when there are attachments (PROTOCOL §3), never blank otherwise.
    if (auto e = validation::check_content(request.content, options_.max_content_chars)) return *e;
  }
  if (request.mentions.size() > options_.max_mentions)
    return make_error(errc::invalid_input,
                      "at most " + std::to_string(options_.max_mentions) + " mentions per message");
  {
    // Mentions are folded, in the order given.
    std::vector<UserId> distinct;
    for (auto u : request.mentions)
      if (std::find(distinct.begin(), distinct.end(), u) == distinct.end()) distinct.push_back(u);
    request.mentions = std::move(distinct);
  }
  if (request.client_id &&
      (validation::count_code_points(*request.client_id) > options_.max_client_id_chars ||
       !validation::is_valid_utf8(*request.client_id) ||
       request.client_id->find('\0') != std::string::npos))
    return make_error(errc::invalid_input,
                      "client_id must be at most 64 characters of UTF-8 without NUL");

  // One conversation always lands on one committer, known or not yet created, so its
  // messages keep their order and no two committers ever write it at once.
  const auto key = conversation_key(sender, request.to, request.group_id);
  auto& shard = *shards_[key % shards_.size()];
  shard.push(Pending{NewMessage{sender, request.to, request.group_id, std::move(request.content),
                                std::move(request.client_id), request.reply_to,
                                std::move(request.attachment_ids), std::move(request.mentions),
                                request.forward_of},
                     origin, std::move(done)});
  return Status{};
}

void MessagingService::finish(Pending& p, Result<AppendOutcome> outcome) {
  metrics().send_to_ack.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - p.queued).count());
  if (!outcome) {
    p.done(outcome.error());
    return;
  }
  switch (outcome->kind) {
    case AppendOutcome::Kind::stored:
      Metrics::add(metrics().messages_stored);
      publisher_.message(outcome->message, outcome->recipients, p.origin);
      if (push_ != nullptr) push_->message_stored(outcome->message, outcome->recipients);
      p.done(std::move(outcome->message));
      return;
    case AppendOutcome::Kind::duplicate:
      p.done(std::move(outcome->message));  // stored before: ack again, fan out nothing
      return;
    case AppendOutcome::Kind::not_member:
      p.done(make_error(errc::forbidden, "not a member of this conversation"));
      return;
    case AppendOutcome::Kind::blocked:  // the same for both directions: nothing to learn
      p.done(make_error(errc::forbidden, "this conversation does not accept messages"));
      return;
    case AppendOutcome::Kind::not_found:
      p.done(make_error(errc::not_found, p.message.to ? "no such user" : "no such group"));
      return;
    case AppendOutcome::Kind::bad_attachment:
      p.done(make_error(errc::invalid_input, "attachment_ids must name attachments you uploaded"));
      return;
    case AppendOutcome::Kind::bad_mention:
      p.done(make_error(errc::invalid_input, "mentions must name members of the conversation"));
      return;
    case AppendOutcome::Kind::bad_forward:
      p.done(make_error(errc::not_found, "no such message"));
      return;
    case AppendOutcome::Kind::bad_reply:
      p.done(make_error(errc::invalid_input, "reply_to is not a message of this conversation"));
      return;
  }
}

awaitable<Status> MessagingService::edit(UserId editor, MessageId id, std::string content) {
  if (auto e = validation::check_content(content, options_.max_content_chars)) co_return *e;
  co_return co_await change(editor, id, std::move(content));
}

awaitable<Status> MessagingService::remove(UserId user, MessageId id) {
  co_return co_await change(user, id, std::nullopt);
}

awaitable<Status> MessagingService::remove_for_everyone(UserId admin, MessageId id) {
  co_return co_await change(admin, id, std::nullopt, true);
}

awaitable<Status> MessagingService::change(UserId user, MessageId id,
                                           std::optional<std::string> content, bool moderator) {
  const bool is_edit = content.has_value();
  auto r = co_await repo_.change(user, id, std::move(content), options_.edit_window_seconds,
                                 moderator);
  if (!r) co_return r.error();
  switch (r->kind) {
    case ChangeOutcome::Kind::changed:
      publisher_.message_updated(r->message, r->members);
      co_return Status{};
    case ChangeOutcome::Kind::not_found:
      co_return make_error(errc::not_found, "no such message");
    case ChangeOutcome::Kind::not_allowed:
      co_return make_error(errc::forbidden, is_edit ? "only its sender may edit a message"
                                                    : "only its sender or a group admin may "
                                                      "delete a message");
    case ChangeOutcome::Kind::too_late:
      co_return make_error(errc::forbidden, "the edit window of this message is over");
    case ChangeOutcome::Kind::deleted:
      co_return make_error(errc::forbidden, "a deleted message cannot be edited");
  }
  co_return Status{};
}

awaitable<void> MessagingService::commit(std::vector<Pending>& batch) {
  std::vector<NewMessage> rows;
  rows.reserve(batch.size());
  for (const auto& p : batch) rows.push_back(p.message);
  const auto started = std::chrono::steady_clock::now();
  auto outcomes = co_await repo_.append(std::move(rows));
  metrics().batch_commit.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (outcomes) {
    Metrics::add(metrics().message_batches);
    for (std::size_t i = 0; i < batch.size(); ++i) finish(batch[i], std::move((*outcomes)[i]));
    co_return;
  }
  // An unavailable database (down, pool exhausted, timed out) fails every message alike, and
  // one statement per message would only add load to it: the whole batch gets the error and
  // its senders resend with the same client_id.
  if (batch.size() == 1 || outcomes.error().code == errc::unavailable) {
    if (batch.size() > 1)
      spdlog::warn("message batch of {} failed: {}", batch.size(), outcomes.error().message);
    for (auto& p : batch) finish(p, outcomes.error());
    co_return;
  }
  // One bad message must not sink the others: store them one by one to isolate it.
  spdlog::warn("message batch of {} failed ({}), retrying one by one", batch.size(),
               outcomes.error().message);
  for (auto& p : batch) {
    std::vector<NewMessage> one{p.message};
    auto single = co_await repo_.append(std::move(one));
    if (single)
      finish(p, std::move(single->front()));
    else
      finish(p, single.error());
  }
}

void MessagingService::delivered(Delivery d) {
  deliveries_[static_cast<std::size_t>(d.user_id) % deliveries_.size()]->push(d);
}

awaitable<void> MessagingService::commit_deliveries(std::vector<DeliveryPosition>& batch) {
  const auto started = std::chrono::steady_clock::now();
  auto changes = co_await repo_.mark_delivered(batch);
  metrics().delivery_recording.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!changes) {
    // The positions stay behind: the messages are pushed again on the next connect.
    spdlog::warn("recording {} delivered positions failed: {}", batch.size(),
                 changes.error().message);
    co_return;
  }
  std::size_t covered = 0;
  for (const auto& p : batch) covered += p.deliveries;
  Metrics::add(metrics().messages_delivered, covered);
  for (const auto& c : *changes) publisher_.receipt(c.sender_id, c.receipt);
}

awaitable<Status> MessagingService::mark_read(UserId reader, ConversationId c, Seq seq) {
  if (c <= 0 || seq <= 0)
    co_return make_error(errc::invalid_input, "conversation_id and seq must be positive");
  auto changes = co_await repo_.mark_read(reader, c, seq);
  if (!changes) co_return changes.error();
  for (const auto& ch : *changes) publisher_.receipt(ch.sender_id, ch.receipt);
  co_return Status{};
}

awaitable<Status> MessagingService::typing(UserId who, ConversationId c) {
  if (c <= 0) co_return make_error(errc::invalid_input, "conversation_id must be positive");
  auto members = co_await repo_.members(c, who);
  if (!members) co_return members.error();
  if (!*members || std::find((*members)->begin(), (*members)->end(), who) == (*members)->end())
    co_return make_error(errc::not_found, "no such conversation");
  std::vector<UserId> others;
  for (auto u : **members)
    if (u != who) others.push_back(u);
  publisher_.typing(others, c, who);
  co_return Status{};
}

awaitable<Result<std::vector<Message>>> MessagingService::undelivered(UserId user,
                                                                      ReplayCursor after,
                                                                      int limit) {
  co_return co_await repo_.undelivered(user, after, limit);
}

std::size_t MessagingService::messages_queued() const {
  std::size_t n = 0;
  for (const auto& s : shards_) n += s->size();
  return n;
}

std::size_t MessagingService::deliveries_queued() const {
  std::size_t n = 0;
  for (const auto& d : deliveries_) n += d->size();
  return n;
}

}  // namespace chatd
