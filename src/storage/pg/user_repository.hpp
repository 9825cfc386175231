// UserRepository on PostgreSQL.
#pragma once

#include "domain/user_repository.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgUserRepository final : public UserRepository {
 public:
  explicit PgUserRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<User>> create(NewUser user) override;
  boost::asio::awaitable<Result<std::optional<UserCredentials>>> find_credentials(
      std::string email) override;
  boost::asio::awaitable<Result<std::optional<User>>> find_by_id(UserId id) override;
  boost::asio::awaitable<Result<std::vector<Arrival>>> arrivals(std::vector<UserId> users) override;
  boost::asio::awaitable<Result<std::vector<User>>> find_by_username(std::string username) override;
  boost::asio::awaitable<Result<std::vector<std::optional<std::string>>>> set_presence(
      std::vector<PresenceWrite> writes) override;
  boost::asio::awaitable<Result<std::vector<std::pair<UserId, UserId>>>> contacts(
      std::vector<UserId> users) override;
  boost::asio::awaitable<Result<std::int64_t>> clear_presence() override;
  boost::asio::awaitable<Result<std::vector<UserId>>> blocking(UserId viewer,
                                                               std::vector<UserId> users) override;
  boost::asio::awaitable<Status> revoke_token(UserId user, std::string jti,
                                              std::int64_t exp) override;
  boost::asio::awaitable<Result<std::optional<std::string>>> password_hash(UserId id) override;
  boost::asio::awaitable<Status> change_password(UserId user, std::string hash,
                                                 std::int64_t before_ms,
                                                 std::string keep_jti) override;
  boost::asio::awaitable<Result<std::vector<TokenRevocation>>> revocations() override;

 private:
  Pool& pool_;
};

// A user's token cutoff (password changes, account deletion).
extern const Statement kTokenCutoffStatement;

// Presence writes as the array parameters of the batch statements (the users, and text[]
// literals of their online flags and times); the times are moved out of `writes`.
struct PresenceArrays {
  std::vector<std::int64_t> ids;
  std::string online;
  std::string at;
};
PresenceArrays presence_arrays(std::vector<PresenceWrite>& writes);

// Who gets a user's presence changes, for EXPLAIN in tests.
extern const Statement kContactsStatement;

// Reads six user columns starting at `col`: id, username, email, is_online,
// chatd_ts(last_seen), chatd_ts(created_at).
User read_user(const ResultSet& rs, int row, int col = 0);
// The three columns of CHATD_USER_FLAGS(u): role, suspended, deleted.
#define CHATD_USER_FLAGS(u) \
  u ".role, " u ".suspended_at IS NOT NULL, " u ".deleted_at IS NOT NULL"
void read_user_flags(const ResultSet& rs, int row, int col, User& u);
inline constexpr int kUserColumns = 9;  // the six of read_user and the three flags
// All nine columns of a user row aliased `u`, as read_full_user() reads them.
#define CHATD_FULL_USER_COLUMNS(u)                                                          \
  u ".id, " u ".username, " u ".email, " u ".is_online, chatd_ts(" u ".last_seen), chatd_ts(" u \
  ".created_at), " CHATD_USER_FLAGS(u)
User read_full_user(const ResultSet& rs, int row, int col = 0);

}  // namespace chatd::pg
