#include "auth/token_service.hpp"

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
  if (jwt_add_grant(raw, "sub", sub.c_str()) != 0 || jwt_add_grant_int(raw, "iat", iat) != 0 ||
      jwt_add_grant_int(raw, "exp", exp) != 0 ||
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
  if (jwt_get_alg(raw) != JWT_ALG_HS256) return unauthorized("invalid token algorithm");

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
  return id;
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
