// The inbox and history views (PROTOCOL §5) and what they need from storage.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/event_publisher.hpp"
#include "domain/message.hpp"

namespace chatd {

// What PUT /conversations/{id}/settings changes: each field when given (muted_until given as
// null unmutes).
struct SettingsChange {
  std::optional<std::optional<std::string>> muted_until;
  std::optional<bool> archived;
  std::optional<bool> pinned;
};

// Which part of the inbox a page lists: archived or not; on the first page, the pinned ones
// ahead of the others by activity.
struct InboxView {
  bool archived = false;
  bool pinned_first = false;
};

struct ConversationSummary {
  ConversationId id = 0;
  bool is_group = false;
  std::optional<User> peer;  // direct
  std::optional<GroupId> group_id;  // group
  std::string group_name;
  std::optional<Message> last_message;
  std::optional<std::string> last_message_at;
  std::string activity_at;  // last_message_at, or created_at before the first message: the order
  std::int64_t unread_count = 0;
  std::int64_t activity_micros = 0;  // activity_at to the microsecond, for the exact cursor
  ConversationSettings settings;
  std::optional<int> disappearing_seconds;  // the conversation's timer (PROTOCOL §9)
};

// Where an inbox page starts. `before=<RFC3339>` (PROTOCOL §5) compares at the millisecond
// clients see; the opaque cursor of a page's last conversation (`next_before`) is exact: the
// activity to the microsecond and the conversation id, so conversations active in the same
// millisecond are neither skipped nor repeated at a page boundary.
struct InboxCursor {
  std::optional<std::string> before_time;  // RFC 3339
  std::optional<std::int64_t> micros;      // exact: (activity, id) < (micros, id)
  ConversationId id = 0;
};

// "v1.<micros>.<id>": opaque to clients, who pass it back as `before`.
std::string encode_inbox_cursor(std::int64_t micros, ConversationId id);
std::optional<InboxCursor> decode_inbox_cursor(std::string_view text);

enum class HistoryDirection { newest, before, after };

struct HistoryQuery {
  HistoryDirection direction = HistoryDirection::newest;
  Seq cursor = 0;
  int limit = 50;
  // Only messages edited or deleted after this time (RFC 3339), ascending seq from `after`
  // (direction after, or newest = from the start).
  std::optional<std::string> changed_since;
};

// Where one member stands on one message.
struct MemberReceipt {
  UserId user_id = 0;
  std::string status;  // sent, delivered, read
  std::optional<std::string> delivered_at, read_at;
};

struct HistoryPage {
  std::vector<Message> messages;  // ascending seq
  bool has_more = false;
};

class InboxRepository {
 public:
  virtual ~InboxRepository() = default;
  // The user's conversations by activity (then id), newest first, after `cursor`; with
  // `view.pinned_first`, the pinned ones (most recently pinned first) ahead of them. At most
  // `limit` in all, in one round trip.
  virtual boost::asio::awaitable<Result<std::vector<ConversationSummary>>> conversations(
      UserId user, InboxCursor cursor, int limit, InboxView view) = 0;
  // nullopt when the user is not a member; errc::conflict for a sixth pinned conversation.
  virtual boost::asio::awaitable<Result<std::optional<ConversationSettings>>> set_settings(
      UserId user, ConversationId c, SettingsChange change) = 0;
  virtual boost::asio::awaitable<Result<std::optional<ConversationId>>> find_direct(UserId a,
                                                                                    UserId b) = 0;
  virtual boost::asio::awaitable<Result<std::optional<ConversationId>>> find_group(GroupId g) = 0;
  // nullopt when the conversation does not exist or the user is not a member.
  virtual boost::asio::awaitable<Result<std::optional<HistoryPage>>> history(
      UserId user, ConversationId c, HistoryQuery q) = 0;
  // Message info (PROTOCOL §9): the receipt of every other member of message `id`'s
  // conversation who was a member when it was sent; nullopt unless `sender` sent it.
  virtual boost::asio::awaitable<Result<std::optional<std::vector<MemberReceipt>>>> receipts(
      UserId sender, MessageId id) = 0;
};

// Which conversation GET /messages names: exactly one of the three.
struct ConversationRef {
  std::optional<ConversationId> conversation_id;
  std::optional<UserId> peer_id;
  std::optional<GroupId> group_id;
};

class InboxService {
 public:
  // `publisher` (optional) tells the caller's connections of settings they changed.
  explicit InboxService(InboxRepository& repo, EventPublisher* publisher = nullptr)
      : repo_(repo), publisher_(publisher) {}

  // Pinned conversations head the first page (no `before`); the rest follow by activity.
  boost::asio::awaitable<Result<std::vector<ConversationSummary>>> conversations(
      UserId user, std::optional<std::string> before, int limit, bool archived = false);
  boost::asio::awaitable<Result<ConversationSettings>> set_settings(UserId user, ConversationId c,
                                                                    SettingsChange change);
  // errc::not_found alike for a conversation that does not exist and one the user is not in.
  boost::asio::awaitable<Result<HistoryPage>> history(UserId user, ConversationRef ref,
                                                      HistoryQuery q);
  // errc::not_found alike for a message that does not exist and one the caller did not send.
  boost::asio::awaitable<Result<std::vector<MemberReceipt>>> receipts(UserId user, MessageId id);

 private:
  InboxRepository& repo_;
  EventPublisher* publisher_;
};

inline constexpr int kMaxPageSize = 200;
inline constexpr int kDefaultPageSize = 50;

// RFC 3339 date-time ("2026-11-24T14:22:56.123Z", offsets allowed).
bool is_rfc3339(std::string_view s);

}  // namespace chatd
