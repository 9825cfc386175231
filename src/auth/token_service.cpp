#include "auth/token_service.hpp"

#include <random>

#include "codec/hex.hpp"

#include <jwt.h>

#include <charconv>
#include <cstdlib>
#include <memory>
#include <stdexcept>

namespace chatd::auth {

namespace {

struct JwtFree {
  void operator()(jwt_t* j) const noexcept { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

Error unauthorized(std::string message) { return make_error(errc::unauthorized, std::move(message)); }

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

TokenService::TokenService(TokenOptions options) : options_(std::move(options)) {
  if (options_.secret.empty()) throw std::invalid_argument("JWT secret must not be empty");
}

std::string TokenService::issue(UserId user) const {
  const auto now = unix_now();
  return issue_at(user, now, now + options_.ttl.count());
}

std::string TokenService::issue_at(UserId user, std::int64_t iat, std::int64_t exp) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::runtime_error("jwt_new failed");
  JwtPtr jwt(raw);
  const auto sub = std::to_string(user);
  // A token id (for logout) and the issue time in milliseconds (a password change ends every
  // token issued before it, to the millisecond).
  unsigned char id[16];
  std::random_device rd;
  for (auto& b : id) b = static_cast<unsigned char>(rd());
  const auto jti = codec::to_hex(id, sizeof id);
  const auto iat_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (jwt_add_grant(raw, "sub", sub.c_str()) != 0 || jwt_add_grant_int(raw, "iat", iat) != 0 ||
      jwt_add_grant_int(raw, "exp", exp) != 0 || jwt_add_grant(raw, "jti", jti.c_str()) != 0 ||
      jwt_add_grant_int(raw, "iat_ms", std::max<std::int64_t>(iat_ms, iat * 1000)) != 0 ||
      jwt_set_alg(raw, JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(options_.secret.data()),
                  static_cast<int>(options_.secret.size())) != 0)
    throw std::runtime_error("building a JWT failed");
  std::unique_ptr<char, decltype(&std::free)> out(jwt_encode_str(raw), &std::free);
  if (!out) throw std::runtime_error("jwt_encode_str failed");
  return out.get();
}

Result<UserId> TokenService::verify(std::string_view token) const {
  return verify_at(token, unix_now());
}

Result<UserId> TokenService::verify_at(std::string_view token, std::int64_t now) const {
  auto c = claims_at(token, now);
  if (!c) return c.error();
  return c->user;
}

Result<TokenClaims> TokenService::claims(std::string_view token) const {
  return claims_at(token, unix_now());
}

Result<TokenClaims> TokenService::claims_at(std::string_view token, std::int64_t now) const {
  if (token.empty()) return unauthorized("missing token");
  if (token.size() > 4096) return unauthorized("malformed token");
  const std::string t(token);
  jwt_t* raw = nullptr;
  // With a key given, libjwt refuses alg "none" and checks the HMAC of the named algorithm.
  if (jwt_decode(&raw, t.c_str(), reinterpret_cast<const unsigned char*>(options_.secret.data()),
                 static_cast<int>(options_.secret.size())) != 0 ||
      raw == nullptr)
    return unauthorized("invalid token");
  JwtPtr jwt(raw);
  // libjwt reads "alg" without regard to case ("Hs256" passes as HS256); RFC 7515 names are
  // case-sensitive, and the pinned one is exactly "HS256" (found by fuzz/jwt_fuzz).
  const char* alg = jwt_get_header(raw, "alg");
  if (jwt_get_alg(raw) != JWT_ALG_HS256 || alg == nullptr || std::string_view(alg) != "HS256")
    return unauthorized("invalid token algorithm");

  errno = 0;
  const long exp = jwt_get_grant_int(raw, "exp");
  if (errno != 0) return unauthorized("token has no expiry");
  if (exp <= now) return unauthorized("token expired");

  const char* sub = jwt_get_grant(raw, "sub");
  if (sub == nullptr) return unauthorized("token has no subject");
  const std::string_view s(sub);
  UserId id = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc{} || p != s.data() + s.size() || id <= 0)
    return unauthorized("token subject is not a user id");
  TokenClaims c;
  c.user = id;
  c.exp = exp;
  if (const char* jti = jwt_get_grant(raw, "jti")) c.jti = jti;
  errno = 0;
  c.issued_ms = jwt_get_grant_int(raw, "iat_ms");
  if (errno != 0) {
    errno = 0;
    const long iat = jwt_get_grant_int(raw, "iat");
    // Any iat a token may carry, without overflowing the multiplication.
    c.issued_ms = errno != 0 || iat < 0 || iat > 4'000'000'000'000L ? 0 : iat * 1000;
  }
  if (revocations_.revoked(c)) return unauthorized("token revoked");
  return c;
}

void Revocations::revoke(const std::string& jti, std::int64_t exp) {
  if (jti.empty()) return;
  std::unique_lock l(mutex_);
  jtis_[jti] = exp;
}

void Revocations::revoke_before(UserId user, std::int64_t before_ms, const std::string& keep_jti) {
  std::unique_lock l(mutex_);
  auto& c = cutoffs_[user];
  if (before_ms >= c.before_ms) c = Cutoff{before_ms, keep_jti};
}

void Revocations::apply(const TokenRevocation& r) {
  if (!r.jti.empty()) revoke(r.jti, r.exp);
  else revoke_before(r.user, r.before_ms, r.keep_jti);
}

bool Revocations::revoked(const TokenClaims& c) const {
  std::shared_lock l(mutex_);
  if (!c.jti.empty() && jtis_.contains(c.jti)) return true;
  auto it = cutoffs_.find(c.user);
  return it != cutoffs_.end() && c.issued_ms < it->second.before_ms &&
         (c.jti.empty() || c.jti != it->second.keep_jti);
}

void Revocations::forget_expired(std::int64_t now) {
  std::unique_lock l(mutex_);
  std::erase_if(jtis_, [now](const auto& e) { return e.second <= now; });
}

std::string_view bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view prefix = "Bearer ";
  if (authorization.size() <= prefix.size()) return {};
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    // The scheme is case-insensitive (RFC 7235 §2.1).
    if (std::tolower(static_cast<unsigned char>(authorization[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return {};
  }
  auto token = authorization.substr(prefix.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  return token;
}

}  // namespace chatd::auth
