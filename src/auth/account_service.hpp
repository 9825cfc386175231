// Accounts (PROTOCOL §2, §10): registration under the registration policy, login throttled once
// for the whole cluster, sessions ended, passwords changed, accounts deleted for good and their
// data exported. Hashing runs on the worker pool; storage through the domain's repositories.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/password_hasher.hpp"
#include "auth/token_service.hpp"
#include "domain/account_eraser.hpp"
#include "domain/account_repository.hpp"
#include "domain/attempt_repository.hpp"
#include "domain/user_repository.hpp"

namespace chatd::auth {

enum class RegistrationPolicy { open, invite, closed };
RegistrationPolicy parse_registration_policy(std::string_view s);

// Limits counted over every node (PROTOCOL §2, §10).
struct ThrottleOptions {
  int max_failures_per_email = 5;
  int max_failures_per_address = 50;
  std::chrono::seconds window{300};
  int registrations_per_address = 30;
  std::chrono::seconds registration_window{3600};
  std::size_t max_exports = 4;  // data exports streaming at once on a node
};

struct Registration {
  std::string username;
  std::string email;
  std::string password;
  std::string address;  // the client's, for throttling
  std::optional<std::string> invite_code;
};

struct Session {
  std::string token;
  User user;
};

struct AccountDeps {
  UserRepository& users;
  AccountRepository& accounts;
  AttemptRepository& attempts;
  AccountEraser& eraser;
  PasswordHasher& hasher;
  TokenService& tokens;
};

class AccountService {
 public:
  // `dummy_hash` is a bcrypt hash at the configured cost, checked against when the email is
  // unknown so that the answer takes as long as for a wrong password.
  AccountService(AccountDeps deps, ThrottleOptions throttle, RegistrationPolicy policy,
                 std::string dummy_hash)
      : d_(deps), throttle_(throttle), policy_(policy), dummy_hash_(std::move(dummy_hash)) {}

  boost::asio::awaitable<Result<Session>> register_user(Registration r);
  // An account made by an admin or the operator's shell, whatever the policy.
  boost::asio::awaitable<Result<User>> create_account(std::string username, std::string email,
                                                      std::string password, std::string role);
  boost::asio::awaitable<Result<Session>> login(std::string email, std::string password,
                                                std::string address);

  boost::asio::awaitable<Result<User>> get(UserId id);
  // As `viewer` sees them: a user who blocks the viewer shows offline, never seen (PROTOCOL §9).
  boost::asio::awaitable<Result<User>> get_as(UserId viewer, UserId id);
  // PROTOCOL §2: ends the presented token; or changes the password and ends every other token.
  boost::asio::awaitable<Status> logout(TokenClaims presented);
  boost::asio::awaitable<Status> change_password(TokenClaims presented, std::string current,
                                                 std::string next);
  // PROTOCOL §10: the caller's own account, for good (with their password).
  boost::asio::awaitable<Status> delete_own(UserId user, std::string password);
  // The same without a password (an admin's action). false: no live account of this id.
  boost::asio::awaitable<Result<bool>> delete_account(UserId user);
  // The export, page by page (oldest first, ids above `after`).
  boost::asio::awaitable<Result<std::vector<Message>>> sent_messages(UserId user, MessageId after,
                                                                     int limit);
  boost::asio::awaitable<Result<std::vector<std::pair<std::string, std::string>>>> devices(
      UserId user);
  // One export per user at a time: false when one is running.
  bool begin_export(UserId user);
  void end_export(UserId user);

  // Ends every token of `user` issued before now, here and (through on_revoked) everywhere;
  // `suspended` picks the close code (4003, else 4001).
  void end_sessions(UserId user, std::int64_t before_ms, bool suspended);
  static std::int64_t now_ms();

  // Fills the token service's revocations from storage (at start).
  boost::asio::awaitable<Status> load_revocations();
  // Told of every revocation made here (to close connections, here and on other nodes).
  void on_revoked(std::function<void(const TokenRevocation&)> f) { on_revoked_ = std::move(f); }
  boost::asio::awaitable<Result<std::vector<User>>> find_by_username(UserId viewer,
                                                                     std::string username);
  // Drops counted attempts no window can see any more.
  boost::asio::awaitable<void> prune_attempts();

 private:
  // invalid_credentials with `wrong` unless `password` is `user`'s.
  boost::asio::awaitable<Status> check_own_password(UserId user, std::string password,
                                                    std::string wrong);
  boost::asio::awaitable<Status> hide_blockers(UserId viewer, std::vector<User>& users);
  boost::asio::awaitable<Result<User>> create(Registration r, std::string role);
  AccountDeps d_;
  ThrottleOptions throttle_;
  RegistrationPolicy policy_;
  std::string dummy_hash_;
  std::function<void(const TokenRevocation&)> on_revoked_;
  std::mutex exports_mutex_;
  std::vector<UserId> exporting_;
};

}  // namespace chatd::auth
