// Registration, login and user look-ups (PROTOCOL §2): validation, hashing on the worker pool,
// storage through the domain's UserRepository, tokens, login throttling.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <vector>

#include "auth/login_throttle.hpp"
#include "auth/password_hasher.hpp"
#include "auth/token_service.hpp"
#include "domain/user_repository.hpp"

namespace chatd::auth {

struct Registration {
  std::string username;
  std::string email;
  std::string password;
  std::string address;  // the client's, for throttling
};

struct Session {
  std::string token;
  User user;
};

class AccountService {
 public:
  // `dummy_hash` is a bcrypt hash at the configured cost, checked against when the email is
  // unknown so that the answer takes as long as for a wrong password.
  AccountService(UserRepository& users, PasswordHasher& hasher, TokenService& tokens,
                 LoginThrottle& throttle, std::string dummy_hash)
      : users_(users),
        hasher_(hasher),
        tokens_(tokens),
        throttle_(throttle),
        dummy_hash_(std::move(dummy_hash)) {}

  boost::asio::awaitable<Result<Session>> register_user(Registration r);
  // `address` is the client's, for throttling.
  boost::asio::awaitable<Result<Session>> login(std::string email, std::string password,
                                                std::string address);

  boost::asio::awaitable<Result<User>> get(UserId id);
  // PROTOCOL §2: ends the presented token; or changes the password and ends every other token.
  boost::asio::awaitable<Status> logout(TokenClaims presented);
  boost::asio::awaitable<Status> change_password(TokenClaims presented, std::string current,
                                                 std::string next);
  // Fills the token service's revocations from storage (at start).
  boost::asio::awaitable<Status> load_revocations();
  // Told of every revocation made here (to close connections, here and on other nodes).
  void on_revoked(std::function<void(const TokenRevocation&)> f) { on_revoked_ = std::move(f); }
  boost::asio::awaitable<Result<std::vector<User>>> find_by_username(std::string username);

 private:
  UserRepository& users_;
  PasswordHasher& hasher_;
  TokenService& tokens_;
  LoginThrottle& throttle_;
  std::string dummy_hash_;
  std::function<void(const TokenRevocation&)> on_revoked_;
  LoginThrottle* registrations_ = nullptr;

 public:
  // Registrations per client address, counted like failed logins (none when unset).
  void throttle_registrations(LoginThrottle& t) { registrations_ = &t; }
};

}  // namespace chatd::auth
