// JWT HS256 through libjwt, with the algorithm pinned: libjwt 1.10 verifies the signature with
// whatever HS* algorithm the token names and never looks at `exp`, so both are checked here.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "domain/error.hpp"
#include "domain/user.hpp"

namespace chatd::auth {

struct TokenOptions {
  std::string secret;
  std::chrono::seconds ttl{24 * 3600};
};

class TokenService {
 public:
  explicit TokenService(TokenOptions options);

  // A token with sub = user id (as a string), iat = now, exp = now + ttl.
  std::string issue(UserId user) const;
  std::string issue_at(UserId user, std::int64_t iat, std::int64_t exp) const;

  // The user id of a valid token; errc::unauthorized for anything else.
  Result<UserId> verify(std::string_view token) const;
  Result<UserId> verify_at(std::string_view token, std::int64_t now) const;

 private:
  TokenOptions options_;
};

// The token of an "Authorization: Bearer <jwt>" header value, or empty.
std::string_view bearer_token(std::string_view authorization) noexcept;

}  // namespace chatd::auth
