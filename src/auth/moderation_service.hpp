// Moderation (PROTOCOL §10): what admins do to accounts, messages, invites and reports — each
// action written to the audit log and the server log — and the reports users file.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "auth/account_service.hpp"
#include "domain/messaging_service.hpp"
#include "domain/moderation.hpp"

namespace chatd::auth {

struct ReportTarget {
  std::optional<MessageId> message;
  std::optional<UserId> user;
};

class ModerationService {
 public:
  ModerationService(ModerationRepository& repo, AccountService& accounts,
                    MessagingService* messaging)
      : repo_(repo), accounts_(accounts), messaging_(messaging) {}

  boost::asio::awaitable<Result<bool>> is_admin(UserId user);

  boost::asio::awaitable<Result<std::vector<User>>> search_users(std::string q, int limit,
                                                                 UserId after);
  boost::asio::awaitable<Result<User>> create_user(UserId admin, std::string username,
                                                   std::string email, std::string password);
  boost::asio::awaitable<Status> suspend(UserId admin, UserId user, std::string reason);
  boost::asio::awaitable<Status> unsuspend(UserId admin, UserId user);
  boost::asio::awaitable<Status> delete_user(UserId admin, UserId user);
  boost::asio::awaitable<Status> delete_message(UserId admin, MessageId message);
  boost::asio::awaitable<Result<Invite>> create_invite(UserId admin, int max_uses,
                                                       int expires_in_seconds);
  boost::asio::awaitable<Result<std::vector<Report>>> reports(bool resolved, int limit,
                                                              std::int64_t after);
  boost::asio::awaitable<Status> resolve(UserId admin, std::int64_t report, std::string note);
  boost::asio::awaitable<Result<ServerStats>> stats();

  // A user's report of a message they can see or of a user.
  boost::asio::awaitable<Result<Report>> report(UserId reporter, ReportTarget target,
                                                std::string reason);

  // The operator's shell (admin 0 in the audit log): nullopt when no account has the email.
  boost::asio::awaitable<Result<std::optional<User>>> set_role(std::string email, bool admin);

 private:
  // The audit log's line, in the database and the server log; a failure to write it is logged.
  // (Separate arguments: g++ 12 mis-moves aggregate temporaries into coroutine parameters.)
  boost::asio::awaitable<void> audit(UserId admin, std::string action, UserId target_user,
                                     std::string target, std::string detail);

  ModerationRepository& repo_;
  AccountService& accounts_;
  MessagingService* messaging_;
};

// A random invite code: 22 characters of base64url (128 bits).
std::string new_invite_code();

}  // namespace chatd::auth
