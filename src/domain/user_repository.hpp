// What the domain needs from user storage; storage/pg/ implements it, tests may too.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/error.hpp"
#include "domain/event_publisher.hpp"
#include "domain/user.hpp"

namespace chatd {

// A presence transition to store: `user` came online (or went offline) at `at` (RFC 3339).
struct PresenceWrite {
  UserId user = 0;
  bool online = false;
  std::string at;
};

// A connecting user's account, and whether a message from someone else may be waiting for
// them: true may still find nothing (an expired message, say); false means nothing waits.
struct Arrival {
  User user;
  bool waiting = false;
};

class UserRepository {
 public:
  virtual ~UserRepository() = default;

  // Creates the user; errc::conflict names the duplicate field in the message.
  virtual boost::asio::awaitable<Result<User>> create(NewUser user) = 0;
  virtual boost::asio::awaitable<Result<std::optional<UserCredentials>>> find_credentials(
      std::string email) = 0;
  virtual boost::asio::awaitable<Result<std::optional<User>>> find_by_id(UserId id) = 0;
  // The Arrival of each of `users` that exists (deleted accounts included), in any order: what
  // a connection's first frames need, read for many connects at once.
  virtual boost::asio::awaitable<Result<std::vector<Arrival>>> arrivals(
      std::vector<UserId> users) = 0;
  // Exact, case-insensitive match.
  virtual boost::asio::awaitable<Result<std::vector<User>>> find_by_username(
      std::string username) = 0;

  // Records presence transitions, at most one per user, in one transaction; an older transition
  // never overwrites a newer one. Returns each user's last_seen afterwards, in the order of
  // `writes` (nullopt for a user who never went offline, or who does not exist).
  virtual boost::asio::awaitable<Result<std::vector<std::optional<std::string>>>> set_presence(
      std::vector<PresenceWrite> writes) = 0;
  // Everyone who shares a conversation with one of `users` and is not blocked by them, as
  // (user, contact) pairs, each once.
  virtual boost::asio::awaitable<Result<std::vector<std::pair<UserId, UserId>>>> contacts(
      std::vector<UserId> users) = 0;
  // Ended sessions (PROTOCOL §2).
  virtual boost::asio::awaitable<Status> revoke_token(UserId user, std::string jti,
                                                      std::int64_t exp) = 0;
  // The password hash of a user, for checking the current password.
  virtual boost::asio::awaitable<Result<std::optional<std::string>>> password_hash(UserId id) = 0;
  // The new hash, and every token of the user issued before `before_ms` but `keep_jti` void.
  virtual boost::asio::awaitable<Status> change_password(UserId user, std::string hash,
                                                         std::int64_t before_ms,
                                                         std::string keep_jti) = 0;
  // Every revocation still in force, to fill memory at start.
  virtual boost::asio::awaitable<Result<std::vector<TokenRevocation>>> revocations() = 0;
  // Those of `users` who block `viewer` (their presence is hidden from the viewer, PROTOCOL §9).
  virtual boost::asio::awaitable<Result<std::vector<UserId>>> blocking(UserId viewer,
                                                                       std::vector<UserId> users) = 0;
  // At start-up no connection exists yet: clears every is_online left by a crash.
  virtual boost::asio::awaitable<Result<std::int64_t>> clear_presence() = 0;
};

}  // namespace chatd
