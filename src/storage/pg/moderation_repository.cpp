#include "storage/pg/moderation_repository.hpp"

#include <spdlog/spdlog.h>

#include "storage/pg/user_repository.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

#define CHATD_USER_COLUMNS CHATD_FULL_USER_COLUMNS("u")

constexpr Statement kIsAdmin{"moderation_is_admin",
                             "SELECT role = 'admin' AND suspended_at IS NULL AND deleted_at IS NULL"
                             " FROM users WHERE id = $1"};
// A substring of the username or the email, as typed (LIKE's own characters taken literally).
constexpr Statement kSearch{
    "moderation_search_users",
    "SELECT " CHATD_USER_COLUMNS " FROM users u"
    " WHERE u.id > $3 AND ($1 = '' OR strpos(lower(u.username), lower($1)) > 0"
    "                     OR strpos(u.email, lower($1)) > 0)"
    " ORDER BY u.id LIMIT $2"};
constexpr Statement kSetRole{
    "moderation_set_role",
    "UPDATE users u SET role = $2 WHERE email = $1 AND deleted_at IS NULL"
    " RETURNING " CHATD_USER_COLUMNS};
constexpr Statement kSuspend{
    "moderation_suspend",
    "UPDATE users SET suspended_at = coalesce(suspended_at, now()), suspend_reason = $2"
    " WHERE id = $1 AND deleted_at IS NULL RETURNING id"};
constexpr Statement kUnsuspend{
    "moderation_unsuspend",
    "UPDATE users SET suspended_at = NULL, suspend_reason = NULL"
    " WHERE id = $1 AND deleted_at IS NULL RETURNING id"};
constexpr Statement kCutoff{
    "moderation_cutoff",
    "INSERT INTO token_cutoffs (user_id, before_ms, keep_jti)"
    " SELECT id, $2, '' FROM users WHERE id = $1 AND deleted_at IS NULL"
    " ON CONFLICT (user_id) DO UPDATE SET before_ms = EXCLUDED.before_ms, keep_jti = ''"
    "   WHERE token_cutoffs.before_ms <= EXCLUDED.before_ms"};
constexpr Statement kInvite{
    "moderation_invite",
    "INSERT INTO invites (code, created_by, max_uses, expires_at)"
    " VALUES ($1, $2, $3, now() + make_interval(secs => $4::int))"
    " RETURNING code, max_uses, uses, chatd_ts(expires_at)"};

#define CHATD_REPORT_COLUMNS                                                                  \
  "r.id, r.status, r.reporter_id, r.user_id, r.message_id, r.message_conversation_id,"       \
  " r.message_sender_id, r.message_content, chatd_ts(r.message_created_at), r.reason,"       \
  " chatd_ts(r.created_at), chatd_ts(r.resolved_at), r.note"

// The copy is taken from the message as the reporter can see it (a member of its
// conversation); nothing is written when they cannot.
constexpr Statement kReportMessage{
    "moderation_report_message",
    "INSERT INTO reports AS r (reporter_id, user_id, message_id, message_conversation_id,"
    "                          message_sender_id, message_content, message_created_at, reason)"
    " SELECT $1, m.sender_id, m.id, m.conversation_id, m.sender_id, m.content, m.created_at, $3"
    " FROM messages m JOIN conversation_members cm"
    "   ON cm.conversation_id = m.conversation_id AND cm.user_id = $1"
    " WHERE m.id = $2 AND m.deleted_at IS NULL"
    " RETURNING " CHATD_REPORT_COLUMNS};
constexpr Statement kReportUser{
    "moderation_report_user",
    "INSERT INTO reports AS r (reporter_id, user_id, reason)"
    " SELECT $1, u.id, $3 FROM users u WHERE u.id = $2 AND u.deleted_at IS NULL"
    " RETURNING " CHATD_REPORT_COLUMNS};
constexpr Statement kReports{
    "moderation_reports",
    "SELECT " CHATD_REPORT_COLUMNS " FROM reports r WHERE r.status = $1 AND r.id > $3"
    " ORDER BY r.id LIMIT $2"};
constexpr Statement kResolve{
    "moderation_resolve",
    "UPDATE reports SET status = 'resolved', resolved_at = now(), resolved_by = $2, note = $3"
    " WHERE id = $1 AND status = 'open' RETURNING id"};
constexpr Statement kStats{
    "moderation_stats",
    "SELECT (SELECT count(*) FROM users WHERE deleted_at IS NULL),"
    "       (SELECT count(*) FROM users WHERE is_online AND deleted_at IS NULL),"
    "       (SELECT count(*) FROM messages),"
    "       (SELECT count(*) FROM messages WHERE created_at > now() - interval '24 hours'),"
    "       (SELECT count(*) FROM conversations),"
    "       (SELECT count(*) FROM groups),"
    "       (SELECT coalesce(sum(size), 0)::bigint FROM (SELECT DISTINCT sha256, size"
    "                                                  FROM attachments) f)"};
constexpr Statement kAudit{
    "moderation_audit",
    "INSERT INTO admin_audit (admin_id, action, target_user, target, detail)"
    " VALUES ($1, $2, $3, $4, $5)"};

#undef CHATD_USER_COLUMNS

Report read_report(const ResultSet& rs, int row) {
  Report r;
  r.id = rs.int64(row, 0);
  r.resolved = rs.text(row, 1) == "resolved";
  r.reporter_id = rs.int64(row, 2);
  r.user_id = rs.int64(row, 3);
  if (!rs.is_null(row, 4))
    r.message = ReportedMessage{rs.int64(row, 4), rs.int64(row, 5), rs.int64(row, 6),
                                rs.str(row, 7), rs.str(row, 8)};
  r.reason = rs.str(row, 9);
  r.created_at = rs.str(row, 10);
  r.resolved_at = rs.opt_str(row, 11);
  r.note = rs.opt_str(row, 12);
  return r;
}

std::optional<std::string> id_or_null(std::int64_t id) {
  if (id == 0) return std::nullopt;
  return std::to_string(id);
}

}  // namespace

awaitable<Result<bool>> PgModerationRepository::is_admin(UserId user) {
  auto rs = co_await pool_.exec(kIsAdmin, params(std::to_string(user)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return !rs->empty() && rs->boolean(0, 0);
}

awaitable<Result<std::vector<User>>> PgModerationRepository::search_users(std::string q,
                                                                          int limit,
                                                                          UserId after) {
  auto rs = co_await pool_.exec(
      kSearch, params(std::move(q), std::to_string(limit), std::to_string(after)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<User> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_full_user(*rs, r));
  co_return out;
}

awaitable<Result<std::optional<User>>> PgModerationRepository::set_role(std::string email,
                                                                        std::string role) {
  auto rs = co_await pool_.exec(kSetRole, params(std::move(email), std::move(role)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<User>{};
  co_return std::optional<User>{read_full_user(*rs, 0)};
}

awaitable<Result<bool>> PgModerationRepository::set_suspended(UserId user,
                                                              std::optional<std::string> reason,
                                                              std::int64_t before_ms) {
  const auto id = std::to_string(user);
  std::vector<Query> queries;  // one transaction: the suspension with the end of its tokens
  if (reason) {
    queries.push_back(Query{&kSuspend, params(id, std::move(reason))});
    queries.push_back(Query{&kCutoff, params(id, std::to_string(before_ms))});
  } else {
    queries.push_back(Query{&kUnsuspend, params(id)});
  }
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  co_return !(*rs)[0].empty();
}

awaitable<Result<Invite>> PgModerationRepository::create_invite(UserId admin, std::string code,
                                                                int max_uses,
                                                                int expires_in_seconds) {
  auto rs = co_await pool_.exec(kInvite, params(std::move(code), std::to_string(admin),
                                                std::to_string(max_uses),
                                                std::to_string(expires_in_seconds)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Invite{rs->str(0, 0), static_cast<int>(rs->int64(0, 1)),
                   static_cast<int>(rs->int64(0, 2)), rs->str(0, 3)};
}

awaitable<Result<std::optional<Report>>> PgModerationRepository::report_message(
    UserId reporter, MessageId message, std::string reason) {
  auto rs = co_await pool_.exec(kReportMessage, params(std::to_string(reporter),
                                                       std::to_string(message), std::move(reason)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<Report>{};
  co_return std::optional<Report>{read_report(*rs, 0)};
}

awaitable<Result<std::optional<Report>>> PgModerationRepository::report_user(UserId reporter,
                                                                             UserId user,
                                                                             std::string reason) {
  auto rs = co_await pool_.exec(kReportUser, params(std::to_string(reporter), std::to_string(user),
                                                    std::move(reason)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<Report>{};
  co_return std::optional<Report>{read_report(*rs, 0)};
}

awaitable<Result<std::vector<Report>>> PgModerationRepository::reports(bool resolved, int limit,
                                                                       std::int64_t after) {
  auto rs = co_await pool_.exec(kReports, params(resolved ? "resolved" : "open",
                                                 std::to_string(limit), std::to_string(after)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Report> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_report(*rs, r));
  co_return out;
}

awaitable<Result<bool>> PgModerationRepository::resolve_report(std::int64_t id, UserId admin,
                                                               std::string note) {
  auto rs = co_await pool_.exec(kResolve, params(std::to_string(id), std::to_string(admin),
                                                 std::move(note)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return !rs->empty();
}

awaitable<Result<ServerStats>> PgModerationRepository::stats() {
  auto rs = co_await pool_.exec(kStats, params());
  if (!rs) co_return to_domain_error(rs.error());
  co_return ServerStats{rs->int64(0, 0), rs->int64(0, 1), rs->int64(0, 2), rs->int64(0, 3),
                        rs->int64(0, 4), rs->int64(0, 5), rs->int64(0, 6)};
}

awaitable<Status> PgModerationRepository::audit(AuditEntry e) {
  auto rs = co_await pool_.exec(kAudit, params(id_or_null(e.admin), std::move(e.action),
                                               id_or_null(e.target_user), std::move(e.target),
                                               std::move(e.detail)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

}  // namespace chatd::pg
