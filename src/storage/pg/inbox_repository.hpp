// InboxRepository on PostgreSQL: one round trip per page, served by indexes
// (conversation_members_user_idx, conversations_pkey, messages_conversation_seq_key).
#pragma once

#include "domain/inbox.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgInboxRepository final : public InboxRepository {
 public:
  explicit PgInboxRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<std::vector<ConversationSummary>>> conversations(
      UserId user, InboxCursor cursor, int limit, InboxView view) override;
  boost::asio::awaitable<Result<std::optional<ConversationSettings>>> set_settings(
      UserId user, ConversationId c, SettingsChange change) override;
  boost::asio::awaitable<Result<std::optional<ConversationId>>> find_direct(UserId a,
                                                                            UserId b) override;
  boost::asio::awaitable<Result<std::optional<ConversationId>>> find_group(GroupId g) override;
  boost::asio::awaitable<Result<std::optional<std::vector<MemberReceipt>>>> receipts(
      UserId sender, MessageId id) override;
  boost::asio::awaitable<Result<std::optional<HistoryPage>>> history(UserId user,
                                                                     ConversationId c,
                                                                     HistoryQuery q) override;

 private:
  Pool& pool_;
};

// The statements, for EXPLAIN in tests.
extern const Statement kInboxStatement;
extern const Statement kPinnedStatement;
extern const Statement kHistoryBeforeStatement;
extern const Statement kHistoryAfterStatement;

}  // namespace chatd::pg
