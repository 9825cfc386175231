// The user entity as the domain sees it; timestamps are already RFC 3339 strings (PROTOCOL §1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace chatd {

using UserId = std::int64_t;

struct User {
  UserId id = 0;
  std::string username;
  std::string email;
  bool is_online = false;
  std::optional<std::string> last_seen;  // null until the first disconnect
  std::string created_at;
  // PROTOCOL §10: "user" or "admin"; a suspended account cannot log in; a deleted one is a
  // tombstone ("deleted-<id>").
  std::string role = "user";
  bool suspended = false;
  bool deleted = false;
};

struct NewUser {
  std::string username;
  std::string email;  // already lower-cased
  std::string password_hash;
  std::string role = "user";
  std::optional<std::string> invite_code;  // set: one use of it is taken with the row, or nothing
};

struct UserCredentials {
  User user;
  std::string password_hash;
};

}  // namespace chatd
