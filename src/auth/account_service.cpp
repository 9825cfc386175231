#include "auth/account_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "domain/metrics.hpp"
#include "validation/validation.hpp"

namespace chatd::auth {

using boost::asio::awaitable;
namespace v = chatd::validation;

namespace {

Error bad_credentials() {
  Metrics::add(metrics().logins_failed);
  return make_error(errc::invalid_credentials, "invalid email or password");
}

// The throttles' keys in auth_attempts: one namespace per limit.
std::string email_key(std::string_view email) { return "login-email:" + std::string(email); }
std::string address_key(std::string_view a) { return "login-address:" + std::string(a); }
std::string register_key(std::string_view a) { return "register-address:" + std::string(a); }

// Built outside the coroutines: g++ 12 cannot keep an initializer_list in a coroutine frame.
std::vector<AttemptLimit> login_limits(const std::string& email, const std::string& address,
                                       const ThrottleOptions& t) {
  std::vector<AttemptLimit> out;
  out.push_back(AttemptLimit{email_key(email), t.max_failures_per_email, t.window});
  out.push_back(AttemptLimit{address_key(address), t.max_failures_per_address, t.window});
  return out;
}
std::vector<AttemptLimit> register_limits(const std::string& address, const ThrottleOptions& t) {
  std::vector<AttemptLimit> out;
  out.push_back(AttemptLimit{register_key(address), t.registrations_per_address,
                             t.registration_window});
  return out;
}
std::vector<std::string> keys(std::string a, std::optional<std::string> b = std::nullopt) {
  std::vector<std::string> out;
  out.push_back(std::move(a));
  if (b) out.push_back(std::move(*b));
  return out;
}

Error throttled(int retry_after, std::string message) {
  Error e = make_error(errc::rate_limited, std::move(message));
  e.retry_after = std::max(1, retry_after);
  return e;
}

}  // namespace

RegistrationPolicy parse_registration_policy(std::string_view s) {
  if (s == "invite") return RegistrationPolicy::invite;
  if (s == "closed") return RegistrationPolicy::closed;
  return RegistrationPolicy::open;
}

std::int64_t AccountService::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

awaitable<Result<User>> AccountService::create(Registration r, std::string role) {
  if (auto e = v::check_username(r.username)) co_return *e;
  if (auto e = v::check_email(r.email)) co_return *e;
  if (auto e = v::check_password(r.password)) co_return *e;
  auto hash = co_await d_.hasher.hash(std::move(r.password));
  if (!hash) co_return hash.error();
  // The unique indexes decide duplicates (no check-then-insert race); an invite's use is
  // taken in the same statement, so two registrations with its last use admit one.
  NewUser row{std::move(r.username), v::to_lower_ascii(r.email), std::move(*hash),
              std::move(role), std::move(r.invite_code)};
  co_return co_await d_.users.create(std::move(row));
}

awaitable<Result<Session>> AccountService::register_user(Registration r) {
  if (policy_ == RegistrationPolicy::closed)
    co_return make_error(errc::forbidden, "registration is closed: an admin creates accounts");
  if (policy_ == RegistrationPolicy::invite && (!r.invite_code || r.invite_code->empty()))
    co_return make_error(errc::forbidden, "registration needs an invite code");
  if (policy_ == RegistrationPolicy::open) r.invite_code.reset();
  // Every attempt from an address counts, so one address cannot mint accounts in bulk.
  auto check = co_await d_.attempts.check(register_limits(r.address, throttle_));
  if (!check) co_return check.error();
  if (check->retry_after > 0)
    co_return throttled(check->retry_after, "too many registrations from this address");
  if (auto recorded = co_await d_.attempts.record(keys(register_key(r.address))); !recorded)
    co_return recorded.error();
  auto user = co_await create(std::move(r), "user");
  if (!user) co_return user.error();
  co_return Session{d_.tokens.issue(user->id), std::move(*user)};
}

awaitable<Result<User>> AccountService::create_account(std::string username, std::string email,
                                                       std::string password, std::string role) {
  // A named local, not a temporary in the co_await: g++ 12 mis-moves an aggregate temporary
  // into a coroutine's parameter (a short string's buffer left pointing at the old frame).
  Registration r{std::move(username), std::move(email), std::move(password), {}, std::nullopt};
  co_return co_await create(std::move(r), std::move(role));
}

awaitable<Result<Session>> AccountService::login(std::string email, std::string password,
                                                 std::string address) {
  email = v::to_lower_ascii(email);
  // One round trip, shared by every node: the email's and the address's recent failures.
  auto check = co_await d_.attempts.check(login_limits(email, address, throttle_));
  if (!check) co_return check.error();
  if (check->retry_after > 0) {
    Metrics::add(metrics().logins_throttled);
    co_return throttled(check->retry_after, "too many failed logins, try again later");
  }
  auto fail = [&]() -> awaitable<Result<Session>> {
    if (auto r = co_await d_.attempts.record(keys(email_key(email), address_key(address))); !r)
      spdlog::warn("a failed login was not counted: {}", r.error().message);
    co_return bad_credentials();
  };
  // Malformed credentials cannot match anything: answer exactly as for a wrong password.
  if (v::check_email(email) || password.empty() || password.size() > v::kMaxPassword)
    co_return co_await fail();
  auto found = co_await d_.users.find_credentials(email);
  if (!found) co_return found.error();
  if (!*found) {
    // Spend the same time as a real check so timing does not reveal unknown emails.
    (void)co_await d_.hasher.verify(std::move(password), dummy_hash_);
    co_return co_await fail();
  }
  auto ok = co_await d_.hasher.verify(std::move(password), (*found)->password_hash);
  if (!ok) co_return ok.error();
  if (!*ok) co_return co_await fail();
  // Only someone who knows the password learns of the suspension.
  if ((*found)->user.suspended)
    co_return make_error(errc::forbidden, "this account is suspended");
  if (check->first_has_any) {
    if (auto r = co_await d_.attempts.forget(email_key(email)); !r)
      spdlog::warn("failed logins not forgotten after a success: {}", r.error().message);
  }
  co_return Session{d_.tokens.issue((*found)->user.id), std::move((*found)->user)};
}

awaitable<Status> AccountService::logout(TokenClaims presented) {
  if (presented.jti.empty())
    co_return make_error(errc::invalid_input, "this token cannot be ended alone: log in again");
  const auto jti = presented.jti;
  auto stored = co_await d_.users.revoke_token(presented.user, jti, presented.exp);
  if (!stored) co_return stored.error();
  TokenRevocation r{presented.user, presented.jti, presented.exp, 0, {}};
  d_.tokens.revocations().revoke(r.jti, r.exp);
  if (on_revoked_) on_revoked_(r);
  co_return Status{};
}

awaitable<Status> AccountService::check_own_password(UserId user, std::string password,
                                                      std::string wrong) {
  auto hash = co_await d_.users.password_hash(user);
  if (!hash) co_return hash.error();
  if (!*hash) co_return make_error(errc::unauthorized, "unknown user");
  auto ok = co_await d_.hasher.verify(std::move(password), **hash);
  if (!ok) co_return ok.error();
  if (!*ok) co_return make_error(errc::invalid_credentials, std::move(wrong));
  co_return Status{};
}

awaitable<Status> AccountService::change_password(TokenClaims presented, std::string current,
                                                  std::string next) {
  if (auto e = v::check_password(next)) co_return *e;
  if (auto ok = co_await check_own_password(presented.user, std::move(current),
                                            "the current password is wrong");
      !ok)
    co_return ok.error();
  auto fresh = co_await d_.hasher.hash(std::move(next));
  if (!fresh) co_return fresh.error();
  // Every token issued until now but the presented one.
  const auto before = now_ms() + 1;
  auto keep = presented.jti;
  auto stored = co_await d_.users.change_password(presented.user, std::move(*fresh), before, keep);
  if (!stored) co_return stored.error();
  TokenRevocation r{presented.user, {}, 0, before, presented.jti};
  d_.tokens.revocations().revoke_before(r.user, r.before_ms, r.keep_jti);
  if (on_revoked_) on_revoked_(r);
  co_return Status{};
}

void AccountService::end_sessions(UserId user, std::int64_t before_ms, bool suspended) {
  TokenRevocation r{user, {}, 0, before_ms, {}};
  r.suspended = suspended;
  d_.tokens.revocations().apply(r);
  if (on_revoked_) on_revoked_(r);
}

awaitable<Status> AccountService::delete_own(UserId user, std::string password) {
  if (auto ok = co_await check_own_password(user, std::move(password), "the password is wrong");
      !ok)
    co_return ok.error();
  auto deleted = co_await delete_account(user);
  if (!deleted) co_return deleted.error();
  co_return Status{};
}

awaitable<Result<bool>> AccountService::delete_account(UserId user) {
  // The tombstone first, in one transaction: from its commit on nobody can log in as this
  // account, and every token of it is void; the erasure after it may be cut and resumed.
  const auto before = now_ms() + 1;
  auto marked = co_await d_.accounts.mark_deleted(user, before);
  if (!marked) co_return marked.error();
  if (!*marked) co_return false;
  end_sessions(user, before, false);
  spdlog::info("account of user {} deleted: erasing what it sent", user);
  if (auto erased = co_await d_.eraser.erase(user); !erased)
    spdlog::warn("deleted user {}: erasure to be resumed ({})", user, erased.error().message);
  co_return true;
}

awaitable<Result<std::vector<Message>>> AccountService::sent_messages(UserId user,
                                                                      MessageId after, int limit) {
  co_return co_await d_.accounts.sent_messages(user, after, limit);
}

awaitable<Result<std::vector<std::pair<std::string, std::string>>>> AccountService::devices(
    UserId user) {
  co_return co_await d_.accounts.devices(user);
}

bool AccountService::begin_export(UserId user) {
  std::lock_guard l(exports_mutex_);
  if (exporting_.size() >= throttle_.max_exports ||
      std::find(exporting_.begin(), exporting_.end(), user) != exporting_.end())
    return false;
  exporting_.push_back(user);
  return true;
}

void AccountService::end_export(UserId user) {
  std::lock_guard l(exports_mutex_);
  std::erase(exporting_, user);
}

awaitable<Status> AccountService::load_revocations() {
  auto all = co_await d_.users.revocations();
  if (!all) co_return all.error();
  for (const auto& r : *all) d_.tokens.revocations().apply(r);
  co_return Status{};
}

awaitable<Result<User>> AccountService::get(UserId id) {
  auto u = co_await d_.users.find_by_id(id);
  if (!u) co_return u.error();
  if (!*u) co_return make_error(errc::not_found, "no such user");
  co_return std::move(**u);
}

awaitable<Status> AccountService::hide_blockers(UserId viewer, std::vector<User>& users) {
  std::vector<UserId> ids;
  for (const auto& u : users)
    if (u.id != viewer) ids.push_back(u.id);
  if (ids.empty()) co_return Status{};
  auto blockers = co_await d_.users.blocking(viewer, std::move(ids));
  if (!blockers) co_return blockers.error();
  for (auto& u : users) {
    if (std::find(blockers->begin(), blockers->end(), u.id) == blockers->end()) continue;
    u.is_online = false;
    u.last_seen.reset();
  }
  co_return Status{};
}

awaitable<Result<User>> AccountService::get_as(UserId viewer, UserId id) {
  auto u = co_await get(id);
  if (!u) co_return u.error();
  std::vector<User> one;
  one.push_back(std::move(*u));
  if (auto hidden = co_await hide_blockers(viewer, one); !hidden) co_return hidden.error();
  co_return std::move(one[0]);
}

awaitable<Result<std::vector<User>>> AccountService::find_by_username(UserId viewer,
                                                                     std::string username) {
  if (username.empty() || username.size() > 32)
    co_return make_error(errc::invalid_input, "username must be 1-32 characters");
  auto users = co_await d_.users.find_by_username(std::move(username));
  if (!users) co_return users.error();
  if (auto hidden = co_await hide_blockers(viewer, *users); !hidden) co_return hidden.error();
  co_return std::move(*users);
}

awaitable<void> AccountService::prune_attempts() {
  const auto longest = std::max(throttle_.window, throttle_.registration_window);
  if (auto r = co_await d_.attempts.prune(longest); !r)
    spdlog::warn("pruning counted login attempts failed: {}", r.error().message);
}

}  // namespace chatd::auth
