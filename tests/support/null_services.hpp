// The whole REST route table over repositories that hold nothing (every call answers
// `internal`): real routing, token checks, body parsing and validation, no database. For tests
// that only list routes and for the HTTP fuzz target.
#pragma once

#include "http/routes.hpp"

namespace chatd::test {

using boost::asio::awaitable;


// Repositories that are never called: the test only lists routes.
struct NoUsers : UserRepository {
  awaitable<Result<User>> create(NewUser) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::optional<UserCredentials>>> find_credentials(std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<User>>> find_by_id(UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<Arrival>>> arrivals(std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<User>>> find_by_username(std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::optional<std::string>>>> set_presence(
      std::vector<PresenceWrite>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::pair<UserId, UserId>>>> contacts(std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::int64_t>> clear_presence() override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::vector<UserId>>> blocking(UserId, std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Status> revoke_token(UserId, std::string, std::int64_t) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<std::string>>> password_hash(UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Status> change_password(UserId, std::string, std::int64_t, std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<TokenRevocation>>> revocations() override {
    co_return make_error(errc::internal, "");
  }
};
struct NoGroups final : GroupRepository {
  awaitable<Result<Group>> create(std::string, UserId, std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<Group>>> find(GroupId) override { co_return make_error(errc::internal, ""); }
  awaitable<Status> add_member(GroupId, UserId, std::size_t) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<bool>> remove_member(GroupId, UserId) override {
    co_return make_error(errc::internal, "");
  }
};
struct NoInbox final : InboxRepository {
  awaitable<Result<std::vector<ConversationSummary>>> conversations(UserId, InboxCursor, int,
                                                                    InboxView) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<ConversationSettings>>> set_settings(UserId, ConversationId,
                                                                      SettingsChange) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<ConversationId>>> find_direct(UserId, UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<ConversationId>>> find_group(GroupId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<HistoryPage>>> history(UserId, ConversationId, HistoryQuery) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<std::vector<MemberReceipt>>>> receipts(UserId, MessageId) override {
    co_return make_error(errc::internal, "");
  }
};

struct NoAttachments final : AttachmentRepository {
  awaitable<Result<Attachment>> create(UserId, std::string, std::string, std::int64_t,
                                       std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<Attachment>>> visible(UserId, std::int64_t) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::string>>> sweep_unsent(std::chrono::seconds) override {
    co_return make_error(errc::internal, "");
  }
};
struct NoFiles final : FileStore {
  Status keep(const std::string&, const std::string&) override { return Status{}; }
  std::string path(const std::string&) const override { return {}; }
  void remove(const std::string&, std::chrono::seconds) override {}
  std::string content_type(std::string_view) override { return {}; }
};

struct NoDevices final : DeviceRepository {
  awaitable<Status> save(UserId, Device) override { co_return make_error(errc::internal, ""); }
  awaitable<Status> remove(UserId, std::string) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::vector<std::pair<UserId, ConversationId>>>> muted(
      std::vector<std::pair<UserId, ConversationId>>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<OfflineRecipient>>> offline_devices(std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::pair<UserId, std::string>>>> usernames(
      std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
};

struct NoAttempts final : AttemptRepository {
  awaitable<Result<AttemptCheck>> check(std::vector<AttemptLimit>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Status> record(std::vector<std::string>) override { co_return make_error(errc::internal, ""); }
  awaitable<Status> forget(std::string) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::int64_t>> prune(std::chrono::seconds) override {
    co_return make_error(errc::internal, "");
  }
};

struct NoAccounts final : AccountRepository {
  awaitable<Result<bool>> mark_deleted(UserId, std::int64_t) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<UserId>>> pending_erasures() override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<ErasedBatch>> erase_batch(UserId, MessageId, int) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::string>>> finish_erasure(UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<Message>>> sent_messages(UserId, MessageId, int) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::pair<std::string, std::string>>>> devices(UserId) override {
    co_return make_error(errc::internal, "");
  }
};

struct NoModeration final : ModerationRepository {
  awaitable<Result<bool>> is_admin(UserId) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::vector<User>>> search_users(std::string, int, UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<User>>> set_role(std::string, std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<bool>> set_suspended(UserId, std::optional<std::string>, std::int64_t) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<Invite>> create_invite(UserId, std::string, int, int) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<Report>>> report_message(UserId, MessageId, std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<Report>>> report_user(UserId, UserId, std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<Report>>> reports(bool, int, std::int64_t) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<bool>> resolve_report(std::int64_t, UserId, std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<ServerStats>> stats() override { co_return make_error(errc::internal, ""); }
  awaitable<Status> audit(AuditEntry) override { co_return make_error(errc::internal, ""); }
};

struct NoBlocks final : BlockRepository {
  awaitable<Result<bool>> block(UserId, UserId) override { co_return make_error(errc::internal, ""); }
  awaitable<Status> unblock(UserId, UserId) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::vector<User>>> blocked_by(UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<bool>> any_blocks(std::vector<UserId>, UserId) override {
    co_return make_error(errc::internal, "");
  }
};

struct NoSearch final : SearchRepository {
  awaitable<Result<std::vector<Message>>> search(UserId, const SearchQuery&) override {
    co_return make_error(errc::internal, "");
  }
};

struct NoTimers final : DisappearingRepository {
  awaitable<Result<TimerOutcome>> set_timer(UserId, ConversationId, std::optional<int>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<SweepOutcome>> sweep(int) override { co_return make_error(errc::internal, ""); }
};

struct NoEvents final : EventPublisher {
  void message(const Message&, std::span<const UserId>, SessionId) override {}
  void message_updated(const Message&, std::span<const UserId>) override {}
  void receipt(UserId, const Receipt&) override {}
  void presence(std::span<const UserId>, const PresenceChange&) override {}
  void typing(std::span<const UserId>, ConversationId, UserId) override {}
  void revoked(const TokenRevocation&) override {}
  void reaction(const ReactionChange&, std::span<const UserId>) override {}
  void conversation_updated(const ConversationUpdate&, std::span<const UserId>) override {}
  void settings_changed(UserId, ConversationId, const ConversationSettings&) override {}
};

// Every service of http::Services over the repositories above.
struct NullServices {
  NoUsers users;
  NoGroups group_store;
  NoInbox inbox_store;
  auth::PasswordHasher hasher{{4, 1, 1}};
  auth::TokenService tokens;
  NoAttempts attempts;
  NoAccounts account_store;
  NoModeration moderation_store;
  NoEvents events;
  GroupService groups{group_store, {}};
  InboxService inbox{inbox_store};
  NoAttachments attachment_store;
  NoFiles files;
  AttachmentService attachments{attachment_store, files};
  AccountEraser eraser{account_store, events, files};
  auth::AccountService accounts{
      auth::AccountDeps{users, account_store, attempts, eraser, hasher, tokens},
      {}, auth::RegistrationPolicy::open, ""};
  auth::ModerationService moderation{moderation_store, accounts, nullptr};
  NoBlocks block_store;
  BlockService blocks{block_store};
  NoDevices device_store;
  PushService push{device_store, nullptr, [](UserId) { return false; }, {}};
  NoSearch search_store;
  SearchService search{search_store};
  NoTimers timer_store;
  DisappearingService disappearing{timer_store, events};

  explicit NullServices(std::string secret) : tokens({std::move(secret), std::chrono::seconds(60)}) {}

  void add_routes(http::Router& router) {
    http::add_all_routes(router, {accounts, groups, inbox, attachments, push, moderation, blocks,
                                  search, disappearing,
                                  []() -> awaitable<bool> { co_return true; }});
  }
};

}  // namespace chatd::test
