// What the domain needs from user storage; storage/pg/ implements it, tests may too.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "domain/error.hpp"
#include "domain/user.hpp"

namespace chatd {

class UserRepository {
 public:
  virtual ~UserRepository() = default;

  // Creates the user; errc::conflict names the duplicate field in the message.
  virtual boost::asio::awaitable<Result<User>> create(NewUser user) = 0;
  virtual boost::asio::awaitable<Result<std::optional<UserCredentials>>> find_credentials(
      std::string email) = 0;
  virtual boost::asio::awaitable<Result<std::optional<User>>> find_by_id(UserId id) = 0;
  // Exact, case-insensitive match.
  virtual boost::asio::awaitable<Result<std::vector<User>>> find_by_username(
      std::string username) = 0;

  // Records a presence transition that happened at `at` (RFC 3339); an older transition never
  // overwrites a newer one. Returns the user's last_seen afterwards.
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> set_presence(
      UserId id, bool online, std::string at) = 0;
  // Everyone who shares a conversation with `id`.
  virtual boost::asio::awaitable<Result<std::vector<UserId>>> contacts(UserId id) = 0;
  // At start-up no connection exists yet: clears every is_online left by a crash.
  virtual boost::asio::awaitable<Result<std::int64_t>> clear_presence() = 0;
};

}  // namespace chatd
