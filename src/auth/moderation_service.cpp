#include "auth/moderation_service.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "validation/validation.hpp"

namespace chatd::auth {

using boost::asio::awaitable;
namespace v = chatd::validation;

std::string new_invite_code() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[22];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no randomness for invites");
  std::string out;
  for (const auto b : bytes) out.push_back(kAlphabet[b & 63]);
  return out;
}

awaitable<void> ModerationService::audit(UserId admin, std::string action, UserId target_user,
                                         std::string target, std::string detail) {
  AuditEntry e{admin, std::move(action), target_user, std::move(target), std::move(detail)};
  spdlog::info("audit: admin {} {} user {} {} {}", e.admin == 0 ? "(shell)" : std::to_string(e.admin),
               e.action, e.target_user, e.target, e.detail);
  if (auto r = co_await repo_.audit(std::move(e)); !r)
    spdlog::error("audit log not written: {}", r.error().message);
}

awaitable<Result<bool>> ModerationService::is_admin(UserId user) {
  co_return co_await repo_.is_admin(user);
}

awaitable<Result<std::vector<User>>> ModerationService::search_users(std::string q, int limit,
                                                                     UserId after) {
  if (q.size() > 254 || !v::is_valid_utf8(q))
    co_return make_error(errc::invalid_input, "q must be at most 254 bytes of UTF-8");
  co_return co_await repo_.search_users(std::move(q), limit, after);
}

awaitable<Result<User>> ModerationService::create_user(UserId admin, std::string username,
                                                       std::string email, std::string password) {
  auto u = co_await accounts_.create_account(std::move(username), std::move(email),
                                             std::move(password), "user");
  if (!u) co_return u.error();
  co_await audit(admin, "create_user", u->id, u->username, {});
  co_return std::move(*u);
}

awaitable<Status> ModerationService::suspend(UserId admin, UserId user, std::string reason) {
  if (auto e = v::check_text(reason, "reason", 1, 500)) co_return *e;
  if (user == admin) co_return make_error(errc::invalid_input, "an admin cannot suspend themselves");
  const auto before = AccountService::now_ms() + 1;
  auto done = co_await repo_.set_suspended(user, reason, before);
  if (!done) co_return done.error();
  if (!*done) co_return make_error(errc::not_found, "no such user");
  // Stored first, so a restart keeps it; then every connection closes (4003) on every node.
  accounts_.end_sessions(user, before, true);
  co_await audit(admin, "suspend", user, {}, std::move(reason));
  co_return Status{};
}

awaitable<Status> ModerationService::unsuspend(UserId admin, UserId user) {
  auto done = co_await repo_.set_suspended(user, std::nullopt, 0);
  if (!done) co_return done.error();
  if (!*done) co_return make_error(errc::not_found, "no such user");
  co_await audit(admin, "unsuspend", user, {}, {});
  co_return Status{};
}

awaitable<Status> ModerationService::delete_user(UserId admin, UserId user) {
  if (user == admin)
    co_return make_error(errc::invalid_input, "delete your own account with DELETE /users/me");
  auto done = co_await accounts_.delete_account(user);
  if (!done) co_return done.error();
  if (!*done) co_return make_error(errc::not_found, "no such user");
  co_await audit(admin, "delete_user", user, {}, {});
  co_return Status{};
}

awaitable<Status> ModerationService::delete_message(UserId admin, MessageId message) {
  if (messaging_ == nullptr) co_return make_error(errc::unavailable, "messaging is not served");
  if (auto r = co_await messaging_->remove_for_everyone(admin, message); !r) co_return r.error();
  co_await audit(admin, "delete_message", 0, "message " + std::to_string(message), {});
  co_return Status{};
}

awaitable<Result<Invite>> ModerationService::create_invite(UserId admin, int max_uses,
                                                           int expires_in_seconds) {
  if (max_uses < 1 || max_uses > 1000)
    co_return make_error(errc::invalid_input, "max_uses must be 1-1000");
  if (expires_in_seconds < 60 || expires_in_seconds > 2592000)
    co_return make_error(errc::invalid_input, "expires_in_seconds must be 60-2592000");
  auto invite = co_await repo_.create_invite(admin, new_invite_code(), max_uses, expires_in_seconds);
  if (!invite) co_return invite.error();
  co_await audit(admin, "create_invite", 0, {},
                            "max_uses " + std::to_string(max_uses) + ", expires " +
                                invite->expires_at);
  co_return std::move(*invite);
}

awaitable<Result<std::vector<Report>>> ModerationService::reports(bool resolved, int limit,
                                                                  std::int64_t after) {
  co_return co_await repo_.reports(resolved, limit, after);
}

awaitable<Status> ModerationService::resolve(UserId admin, std::int64_t report, std::string note) {
  if (auto e = v::check_text(note, "note", 0, 500)) co_return *e;
  auto done = co_await repo_.resolve_report(report, admin, note);
  if (!done) co_return done.error();
  if (!*done) co_return make_error(errc::not_found, "no open report of this id");
  co_await audit(admin, "resolve_report", 0, "report " + std::to_string(report),
                            std::move(note));
  co_return Status{};
}

awaitable<Result<ServerStats>> ModerationService::stats() { co_return co_await repo_.stats(); }

awaitable<Result<Report>> ModerationService::report(UserId reporter, ReportTarget target,
                                                    std::string reason) {
  if (target.message.has_value() == target.user.has_value())
    co_return make_error(errc::invalid_input, "name either message_id or user_id");
  if (auto e = v::check_text(reason, "reason", 1, 500)) co_return *e;
  Result<std::optional<Report>> r = std::optional<Report>{};
  if (target.message)
    r = co_await repo_.report_message(reporter, *target.message, std::move(reason));
  else
    r = co_await repo_.report_user(reporter, *target.user, std::move(reason));
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, target.message ? "no such message" : "no such user");
  spdlog::info("report {} by user {} of user {}", (*r)->id, reporter, (*r)->user_id);
  co_return std::move(**r);
}

awaitable<Result<std::optional<User>>> ModerationService::set_role(std::string email, bool admin) {
  auto u = co_await repo_.set_role(v::to_lower_ascii(email), admin ? "admin" : "user");
  if (!u) co_return u.error();
  if (*u) co_await audit(0, admin ? "promote" : "demote", (*u)->id, (*u)->email, {});
  co_return std::move(*u);
}

}  // namespace chatd::auth
