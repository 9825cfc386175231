// Running a service for strangers (PROTOCOL §10): invites, reports, the admins' audit log and
// the numbers an admin watches, and what they need from storage.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/message.hpp"
#include "domain/user.hpp"

namespace chatd {

struct Invite {
  std::string code;
  int max_uses = 1;
  int uses = 0;
  std::string expires_at;
};

// The copy of a reported message, made when it was reported.
struct ReportedMessage {
  MessageId id = 0;
  ConversationId conversation_id = 0;
  UserId sender_id = 0;
  std::string content;
  std::string created_at;
};

struct Report {
  std::int64_t id = 0;
  bool resolved = false;
  UserId reporter_id = 0;
  UserId user_id = 0;
  std::optional<ReportedMessage> message;
  std::string reason;
  std::string created_at;
  std::optional<std::string> resolved_at;
  std::optional<std::string> note;
};

struct ServerStats {
  std::int64_t users = 0, users_online = 0, messages = 0, messages_last_24h = 0,
               conversations = 0, groups = 0, attachments_bytes = 0;
};

// One line of the audit log: who (0: the operator's shell), what, on whom, when (now).
struct AuditEntry {
  UserId admin = 0;
  std::string action;
  UserId target_user = 0;
  std::string target;
  std::string detail;
};

class ModerationRepository {
 public:
  virtual ~ModerationRepository() = default;
  // Whether `user` is an admin now (false for an unknown, suspended or deleted account).
  virtual boost::asio::awaitable<Result<bool>> is_admin(UserId user) = 0;
  // By a substring of username or email, ids above `after`, ascending.
  virtual boost::asio::awaitable<Result<std::vector<User>>> search_users(std::string q, int limit,
                                                                         UserId after) = 0;
  // The role of the account with this email; nullopt when there is none.
  virtual boost::asio::awaitable<Result<std::optional<User>>> set_role(std::string email,
                                                                       std::string role) = 0;
  // Suspends (with `reason`, every token issued before `before_ms` void) or, reason unset,
  // lifts a suspension. false when no live account has this id.
  virtual boost::asio::awaitable<Result<bool>> set_suspended(UserId user,
                                                             std::optional<std::string> reason,
                                                             std::int64_t before_ms) = 0;
  virtual boost::asio::awaitable<Result<Invite>> create_invite(UserId admin, std::string code,
                                                               int max_uses,
                                                               int expires_in_seconds) = 0;
  // A report of a message the reporter may see (copied now), or of a user; nullopt when the
  // message is not visible to the reporter or the user does not exist.
  virtual boost::asio::awaitable<Result<std::optional<Report>>> report_message(
      UserId reporter, MessageId message, std::string reason) = 0;
  virtual boost::asio::awaitable<Result<std::optional<Report>>> report_user(
      UserId reporter, UserId user, std::string reason) = 0;
  virtual boost::asio::awaitable<Result<std::vector<Report>>> reports(bool resolved, int limit,
                                                                      std::int64_t after) = 0;
  // false when there is no open report of this id.
  virtual boost::asio::awaitable<Result<bool>> resolve_report(std::int64_t id, UserId admin,
                                                              std::string note) = 0;
  virtual boost::asio::awaitable<Result<ServerStats>> stats() = 0;
  virtual boost::asio::awaitable<Status> audit(AuditEntry entry) = 0;
};

}  // namespace chatd
