#include "auth/account_service.hpp"

#include "domain/metrics.hpp"
#include "domain/validation.hpp"

namespace chatd::auth {

using boost::asio::awaitable;
namespace v = chatd::validation;

namespace {
Error bad_credentials() {
  Metrics::add(metrics().logins_failed);
  return make_error(errc::invalid_credentials, "invalid email or password");
}
}  // namespace

awaitable<Result<Session>> AccountService::register_user(Registration r) {
  // Every attempt from an address counts, so one address cannot mint accounts in bulk.
  if (registrations_ != nullptr) {
    if (const auto wait = registrations_->retry_after_address(r.address); wait.count() > 0) {
      Error e = make_error(errc::rate_limited, "too many registrations from this address");
      e.retry_after = static_cast<int>(wait.count());
      co_return e;
    }
    registrations_->record_address(r.address);
  }
  if (auto e = v::check_username(r.username)) co_return *e;
  if (auto e = v::check_email(r.email)) co_return *e;
  if (auto e = v::check_password(r.password)) co_return *e;

  auto hash = co_await hasher_.hash(std::move(r.password));
  if (!hash) co_return hash.error();
  // The unique indexes decide duplicates (no check-then-insert race).
  NewUser row{std::move(r.username), v::to_lower_ascii(r.email), std::move(*hash)};
  auto user = co_await users_.create(std::move(row));
  if (!user) co_return user.error();
  co_return Session{tokens_.issue(user->id), std::move(*user)};
}

awaitable<Result<Session>> AccountService::login(std::string email, std::string password,
                                                 std::string address) {
  email = v::to_lower_ascii(email);
  if (const auto wait = throttle_.retry_after(email, address); wait.count() > 0) {
    Error e = make_error(errc::rate_limited, "too many failed logins, try again later");
    e.retry_after = static_cast<int>(wait.count());
    Metrics::add(metrics().logins_throttled);
    co_return e;
  }
  // Malformed credentials cannot match anything: answer exactly as for a wrong password.
  if (v::check_email(email) || password.empty() || password.size() > v::kMaxPassword) {
    throttle_.record_failure(email, address);
    co_return bad_credentials();
  }
  auto found = co_await users_.find_credentials(email);
  if (!found) co_return found.error();
  if (!*found) {
    // Spend the same time as a real check so timing does not reveal unknown emails.
    (void)co_await hasher_.verify(std::move(password), dummy_hash_);
    throttle_.record_failure(email, address);
    co_return bad_credentials();
  }
  auto ok = co_await hasher_.verify(std::move(password), (*found)->password_hash);
  if (!ok) co_return ok.error();
  if (!*ok) {
    throttle_.record_failure(email, address);
    co_return bad_credentials();
  }
  throttle_.record_success(email);
  co_return Session{tokens_.issue((*found)->user.id), std::move((*found)->user)};
}

awaitable<Status> AccountService::logout(TokenClaims presented) {
  if (presented.jti.empty())
    co_return make_error(errc::invalid_input, "this token cannot be ended alone: log in again");
  const auto jti = presented.jti;
  auto stored = co_await users_.revoke_token(presented.user, jti, presented.exp);
  if (!stored) co_return stored.error();
  TokenRevocation r{presented.user, presented.jti, presented.exp, 0, {}};
  tokens_.revocations().revoke(r.jti, r.exp);
  if (on_revoked_) on_revoked_(r);
  co_return Status{};
}

awaitable<Status> AccountService::change_password(TokenClaims presented, std::string current,
                                                  std::string next) {
  if (auto e = v::check_password(next)) co_return *e;
  auto hash = co_await users_.password_hash(presented.user);
  if (!hash) co_return hash.error();
  if (!*hash) co_return make_error(errc::unauthorized, "unknown user");
  auto ok = co_await hasher_.verify(std::move(current), **hash);
  if (!ok) co_return ok.error();
  if (!*ok) co_return make_error(errc::invalid_credentials, "the current password is wrong");
  auto fresh = co_await hasher_.hash(std::move(next));
  if (!fresh) co_return fresh.error();
  // Every token issued until now but the presented one.
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count() + 1;
  auto keep = presented.jti;
  auto stored = co_await users_.change_password(presented.user, std::move(*fresh), now_ms, keep);
  if (!stored) co_return stored.error();
  TokenRevocation r{presented.user, {}, 0, now_ms, presented.jti};
  tokens_.revocations().revoke_before(r.user, r.before_ms, r.keep_jti);
  if (on_revoked_) on_revoked_(r);
  co_return Status{};
}

awaitable<Status> AccountService::load_revocations() {
  auto all = co_await users_.revocations();
  if (!all) co_return all.error();
  for (const auto& r : *all) {
    if (!r.jti.empty()) tokens_.revocations().revoke(r.jti, r.exp);
    else tokens_.revocations().revoke_before(r.user, r.before_ms, r.keep_jti);
  }
  co_return Status{};
}

awaitable<Result<User>> AccountService::get(UserId id) {
  auto u = co_await users_.find_by_id(id);
  if (!u) co_return u.error();
  if (!*u) co_return make_error(errc::not_found, "no such user");
  co_return std::move(**u);
}

awaitable<Result<std::vector<User>>> AccountService::find_by_username(std::string username) {
  if (username.empty() || username.size() > 32)
    co_return make_error(errc::invalid_input, "username must be 1-32 characters");
  co_return co_await users_.find_by_username(std::move(username));
}

}  // namespace chatd::auth
