// The whole REST route table over repositories that hold nothing (every call answers
// `internal`): real routing, token checks, body parsing and validation, no database. For tests
// that only list routes and for the HTTP fuzz target.
#pragma once

#include "http/routes.hpp"

namespace chatd::test {

using boost::asio::awaitable;


// Repositories that are never called: the test only lists routes.
struct NoUsers final : UserRepository {
  awaitable<Result<User>> create(NewUser) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<std::optional<UserCredentials>>> find_credentials(std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<User>>> find_by_id(UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<User>>> find_by_username(std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::optional<std::string>>> set_presence(UserId, bool, std::string) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<UserId>>> contacts(UserId) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::int64_t>> clear_presence() override { co_return make_error(errc::internal, ""); }
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
  awaitable<Result<std::vector<ConversationSummary>>> conversations(UserId, InboxCursor,
                                                                    int) override {
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
  awaitable<Result<std::vector<OfflineRecipient>>> offline_devices(std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
  awaitable<Result<std::vector<std::pair<UserId, std::string>>>> usernames(
      std::vector<UserId>) override {
    co_return make_error(errc::internal, "");
  }
};

// Every service of http::Services over the repositories above.
struct NullServices {
  NoUsers users;
  NoGroups group_store;
  NoInbox inbox_store;
  auth::PasswordHasher hasher{{4, 1, 1}};
  auth::TokenService tokens;
  auth::LoginThrottle throttle{{}};
  auth::AccountService accounts{users, hasher, tokens, throttle, ""};
  GroupService groups{group_store, {}};
  InboxService inbox{inbox_store};
  NoAttachments attachment_store;
  NoFiles files;
  AttachmentService attachments{attachment_store, files};
  NoDevices device_store;
  PushService push{device_store, nullptr, [](UserId) { return false; }, {}};

  explicit NullServices(std::string secret) : tokens({std::move(secret), std::chrono::seconds(60)}) {}

  void add_routes(http::Router& router) {
    http::add_all_routes(router, {accounts, groups, inbox, attachments, push,
                                  []() -> awaitable<bool> { co_return true; }});
  }
};

}  // namespace chatd::test
