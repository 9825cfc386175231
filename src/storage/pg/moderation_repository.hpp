// ModerationRepository on PostgreSQL: roles, suspensions, invites, reports, the audit log, stats.
#pragma once

#include "domain/moderation.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgModerationRepository final : public ModerationRepository {
 public:
  explicit PgModerationRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<bool>> is_admin(UserId user) override;
  boost::asio::awaitable<Result<std::vector<User>>> search_users(std::string q, int limit,
                                                                 UserId after) override;
  boost::asio::awaitable<Result<std::optional<User>>> set_role(std::string email,
                                                               std::string role) override;
  boost::asio::awaitable<Result<bool>> set_suspended(UserId user, std::optional<std::string> reason,
                                                     std::int64_t before_ms) override;
  boost::asio::awaitable<Result<Invite>> create_invite(UserId admin, std::string code,
                                                       int max_uses,
                                                       int expires_in_seconds) override;
  boost::asio::awaitable<Result<std::optional<Report>>> report_message(
      UserId reporter, MessageId message, std::string reason) override;
  boost::asio::awaitable<Result<std::optional<Report>>> report_user(UserId reporter, UserId user,
                                                                    std::string reason) override;
  boost::asio::awaitable<Result<std::vector<Report>>> reports(bool resolved, int limit,
                                                              std::int64_t after) override;
  boost::asio::awaitable<Result<bool>> resolve_report(std::int64_t id, UserId admin,
                                                      std::string note) override;
  boost::asio::awaitable<Result<ServerStats>> stats() override;
  boost::asio::awaitable<Status> audit(AuditEntry entry) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
