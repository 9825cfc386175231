// docs/openapi.yaml and the router stay in step: every documented route is served and every
// served route is documented.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "http/routes.hpp"

using namespace chatd;
using boost::asio::awaitable;

namespace {

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
  awaitable<Status> add_member(GroupId, UserId) override { co_return make_error(errc::internal, ""); }
  awaitable<Result<bool>> remove_member(GroupId, UserId) override {
    co_return make_error(errc::internal, "");
  }
};
struct NoInbox final : InboxRepository {
  awaitable<Result<std::vector<ConversationSummary>>> conversations(UserId, std::optional<std::string>,
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

// "METHOD /path" for every operation under `paths:` in the OpenAPI document.
std::set<std::string> documented_routes() {
  std::ifstream in(CHATD_SOURCE_DIR "/docs/openapi.yaml");
  EXPECT_TRUE(in.good());
  std::set<std::string> out;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths) continue;
    if (!line.empty() && line[0] != ' ') break;  // the next top-level key
    if (line.starts_with("  /") && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      continue;
    }
    for (const char* m : {"get", "post", "put", "patch", "delete"}) {
      if (line == std::string("    ") + m + ":") {
        std::string upper(m);
        for (auto& c : upper) c = static_cast<char>(std::toupper(c));
        out.insert(upper + " " + path);
      }
    }
  }
  return out;
}

}  // namespace

TEST(OpenApi, EveryRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  NoUsers users;
  NoGroups group_store;
  NoInbox inbox_store;
  auth::PasswordHasher hasher({4, 1, 1});
  auth::TokenService tokens({"openapi-test-secret-0123456789abcdef", std::chrono::seconds(60)});
  auth::LoginThrottle throttle({});
  auth::AccountService accounts(users, hasher, tokens, throttle, "");
  GroupService groups(group_store, {});
  InboxService inbox(inbox_store);
  NoAttachments attachment_store;
  NoFiles files;
  AttachmentService attachments(attachment_store, files);
  NoDevices device_store;
  PushService push(device_store, nullptr, [](UserId) { return false; }, {});
  http::Router router(tokens);
  http::add_all_routes(router, {accounts, groups, inbox, attachments, push,
                                []() -> awaitable<bool> { co_return true; }});

  std::set<std::string> served = {"GET /ws"};  // the upgrade is served by net/, not the router
  for (const auto& r : router.routes())
    served.insert(std::string(http::method_name(r.method)) + " " + r.pattern);
  EXPECT_EQ(documented_routes(), served);
}
