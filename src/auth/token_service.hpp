// JWT HS256 through libjwt, with the algorithm pinned: libjwt 1.10 verifies the signature with
// whatever HS* algorithm the token names and never looks at `exp`, so both are checked here.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <string_view>

#include "domain/error.hpp"
#include "domain/event_publisher.hpp"
#include "domain/user.hpp"

namespace chatd::auth {

struct TokenOptions {
  std::string secret;
  std::chrono::seconds ttl{24 * 3600};
};

// What a valid token says.
struct TokenClaims {
  UserId user = 0;
  std::string jti;           // the token's id ("" for tokens issued before ids existed)
  std::int64_t issued_ms = 0;  // iat_ms (or iat * 1000)
  std::int64_t exp = 0;
};

// Tokens that were ended (PROTOCOL §2): single tokens (logout) until they expire, and per user
// every token issued before a time but one (a password change). In memory, so checking a token
// costs no database read; filled from the database at start and by events.
class Revocations {
 public:
  void revoke(const std::string& jti, std::int64_t exp);
  void revoke_before(UserId user, std::int64_t before_ms, const std::string& keep_jti);
  // Either of the two above, as a stored or received revocation names it.
  void apply(const TokenRevocation& r);
  bool revoked(const TokenClaims& c) const;
  void forget_expired(std::int64_t now);

 private:
  struct Cutoff {
    std::int64_t before_ms = 0;
    std::string keep_jti;
  };
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::int64_t> jtis_;  // jti -> exp
  std::unordered_map<UserId, Cutoff> cutoffs_;
};

class TokenService {
 public:
  explicit TokenService(TokenOptions options);

  // A token with sub = user id (as a string), iat = now, exp = now + ttl.
  std::string issue(UserId user) const;
  std::string issue_at(UserId user, std::int64_t iat, std::int64_t exp) const;

  // The user id of a valid token (signed, unexpired, not revoked); errc::unauthorized else.
  Result<UserId> verify(std::string_view token) const;
  Result<UserId> verify_at(std::string_view token, std::int64_t now) const;
  Result<TokenClaims> claims(std::string_view token) const;

  Revocations& revocations() noexcept { return revocations_; }
  const Revocations& revocations() const noexcept { return revocations_; }
  std::chrono::seconds ttl() const noexcept { return options_.ttl; }

 private:
  Result<TokenClaims> claims_at(std::string_view token, std::int64_t now) const;
  TokenOptions options_;
  Revocations revocations_;
};

// The token of an "Authorization: Bearer <jwt>" header value, or empty.
std::string_view bearer_token(std::string_view authorization) noexcept;

}  // namespace chatd::auth
