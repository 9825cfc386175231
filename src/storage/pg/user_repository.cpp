#include "storage/pg/user_repository.hpp"

#include <unordered_map>

#include "storage/pg/arrays.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

#define CHATD_USER_COLUMNS CHATD_FULL_USER_COLUMNS("u")

constexpr Statement kInsert{"user_insert",
                            "INSERT INTO users AS u (username, email, password_hash, role) "
                            "VALUES ($1, $2, $3, $4) RETURNING " CHATD_USER_COLUMNS};
// With an invite (PROTOCOL §10): one use of it is taken in the same statement, so the row
// lock on the invite lets two registrations with its last use through one at a time and the
// second finds none left; no row when the code is unknown, used up or expired.
constexpr Statement kInsertInvited{
    "user_insert_invited",
    "WITH i AS (UPDATE invites SET uses = uses + 1"
    "           WHERE code = $5 AND uses < max_uses AND expires_at > now() RETURNING code)"
    " INSERT INTO users AS u (username, email, password_hash, role)"
    " SELECT $1, $2, $3, $4 FROM i RETURNING " CHATD_USER_COLUMNS};
constexpr Statement kByEmail{"user_by_email",
                             "SELECT " CHATD_USER_COLUMNS ", u.password_hash FROM users u"
                             " WHERE u.email = $1 AND u.deleted_at IS NULL"};
constexpr Statement kById{"user_by_id",
                          "SELECT " CHATD_USER_COLUMNS " FROM users u WHERE u.id = $1"};
// Whether a conversation of the user has a message from someone else past their delivered
// position: the replay's own test (message_repository.cpp, messages_undelivered), so a user it
// finds nothing for is never read again on connect.
constexpr Statement kArrivals{
    "user_arrivals",
    "SELECT " CHATD_USER_COLUMNS ", EXISTS (SELECT 1 FROM conversation_members cm"
    "   JOIN conversations c ON c.id = cm.conversation_id WHERE cm.user_id = u.id"
    "   AND CASE WHEN c.last_sender_id = u.id THEN c.other_last_seq ELSE c.last_seq END"
    "       > cm.delivered_seq)"
    " FROM users u WHERE u.id = ANY ($1::bigint[])"};
constexpr Statement kByUsername{
    "user_by_username",
    "SELECT " CHATD_USER_COLUMNS " FROM users u WHERE lower(u.username) = lower($1)"
    "   AND u.deleted_at IS NULL"};

#undef CHATD_USER_COLUMNS

// A batch of transitions (one per user): each skipped when a newer one is stored.
constexpr Statement kSetPresence{
    "user_set_presence",
    "UPDATE users u SET is_online = w.online,"
    "                   last_seen = CASE WHEN w.online THEN u.last_seen ELSE w.at END,"
    "                   presence_at = w.at"
    "  FROM unnest($1::bigint[], $2::boolean[], $3::timestamptz[]) AS w(id, online, at)"
    " WHERE u.id = w.id AND (u.presence_at IS NULL OR u.presence_at <= w.at)"};
constexpr Statement kLastSeen{
    "user_last_seen", "SELECT id, chatd_ts(last_seen) FROM users WHERE id = ANY ($1::bigint[])"};
constexpr Statement kClearPresence{
    "user_clear_presence",
    "UPDATE users SET is_online = false, last_seen = now(), presence_at = now() WHERE is_online"};

constexpr Statement kRevokeToken{
    "token_revoke",
    "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, to_timestamp($3))"
    " ON CONFLICT (jti) DO NOTHING"};
constexpr Statement kPasswordHash{"user_password_hash",
                                  "SELECT password_hash FROM users WHERE id = $1"
                                  " AND deleted_at IS NULL"};
constexpr Statement kSetPassword{"user_set_password",
                                 "UPDATE users SET password_hash = $2 WHERE id = $1"};

constexpr Statement kRevocations{
    "token_revocations",
    "SELECT user_id, jti, extract(epoch FROM expires_at)::bigint, 0, '' FROM revoked_tokens"
    " WHERE expires_at > now()"
    " UNION ALL SELECT user_id, '', 0, before_ms, keep_jti FROM token_cutoffs"};

// Which field clashed, from the unique index that refused the row.
Error create_error(const PgError& e) {
  if (e.code != errc::conflict) return to_domain_error(e);
  if (e.constraint == "users_email_key")
    return make_error(errc::conflict, "email already registered");
  return make_error(errc::conflict, "username already taken");
}

}  // namespace

// Every token of user $1 issued before $2 ms but $3 void; a later cutoff is never replaced by
// an earlier one.
const Statement kTokenCutoffStatement{
    "token_cutoff",
    "INSERT INTO token_cutoffs (user_id, before_ms, keep_jti) VALUES ($1, $2, $3)"
    " ON CONFLICT (user_id) DO UPDATE SET before_ms = EXCLUDED.before_ms,"
    "   keep_jti = EXCLUDED.keep_jti WHERE token_cutoffs.before_ms <= EXCLUDED.before_ms"};

// Everyone who shares a conversation with one of the users: the members of each of their
// conversations, read through the primary key one conversation at a time (a subquery the
// planner cannot turn into a join). As a join, the generic plan read all of
// conversation_members on every connect and disconnect.
const Statement kContactsStatement{
    "user_contacts",
    "SELECT DISTINCT a.user_id, m FROM conversation_members a,"
    " unnest(ARRAY(SELECT b.user_id FROM conversation_members b"
    "              WHERE b.conversation_id = a.conversation_id)) m"
    " WHERE a.user_id = ANY ($1::bigint[]) AND m <> a.user_id"
    "   AND NOT EXISTS (SELECT 1 FROM blocks bl WHERE bl.blocker = a.user_id AND bl.blocked = m)"};

User read_user(const ResultSet& rs, int row, int col) {
  User u;
  u.id = rs.int64(row, col);
  u.username = rs.str(row, col + 1);
  u.email = rs.str(row, col + 2);
  u.is_online = rs.boolean(row, col + 3);
  u.last_seen = rs.opt_str(row, col + 4);
  u.created_at = rs.str(row, col + 5);
  return u;
}

void read_user_flags(const ResultSet& rs, int row, int col, User& u) {
  u.role = rs.str(row, col);
  u.suspended = rs.boolean(row, col + 1);
  u.deleted = rs.boolean(row, col + 2);
}

User read_full_user(const ResultSet& rs, int row, int col) {
  auto u = read_user(rs, row, col);
  read_user_flags(rs, row, col + kUserColumns - 3, u);
  return u;
}

awaitable<Result<User>> PgUserRepository::create(NewUser user) {
  const bool invited = user.invite_code.has_value();
  auto args = params(std::move(user.username), std::move(user.email),
                     std::move(user.password_hash), std::move(user.role));
  if (invited) args.push_back(std::move(user.invite_code));
  auto rs = co_await pool_.exec(invited ? kInsertInvited : kInsert, std::move(args));
  if (!rs) co_return create_error(rs.error());
  if (rs->empty())
    co_return make_error(errc::forbidden, "the invite code is unknown, used up or expired");
  co_return read_full_user(*rs, 0);
}

awaitable<Result<std::optional<UserCredentials>>> PgUserRepository::find_credentials(
    std::string email) {
  auto rs = co_await pool_.exec(kByEmail, params(std::move(email)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<UserCredentials>{};
  co_return std::optional<UserCredentials>{
      UserCredentials{read_full_user(*rs, 0), rs->str(0, kUserColumns)}};
}

awaitable<Result<std::optional<User>>> PgUserRepository::find_by_id(UserId id) {
  auto rs = co_await pool_.exec(kById, params(std::to_string(id)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<User>{};
  co_return std::optional<User>{read_full_user(*rs, 0)};
}

awaitable<Result<std::vector<Arrival>>> PgUserRepository::arrivals(std::vector<UserId> users) {
  auto rs = co_await pool_.exec(kArrivals, params(to_array(users)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<Arrival> out;
  out.reserve(static_cast<std::size_t>(rs->rows()));
  for (int r = 0; r < rs->rows(); ++r) {
    auto u = read_full_user(*rs, r);
    out.push_back(Arrival{std::move(u), rs->boolean(r, kUserColumns)});
  }
  co_return out;
}

awaitable<Result<std::vector<User>>> PgUserRepository::find_by_username(std::string username) {
  auto rs = co_await pool_.exec(kByUsername, params(std::move(username)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<User> users;
  for (int r = 0; r < rs->rows(); ++r) users.push_back(read_full_user(*rs, r));
  co_return users;
}

PresenceArrays presence_arrays(std::vector<PresenceWrite>& writes) {
  std::vector<std::int64_t> ids;
  std::vector<std::optional<std::string>> online, at;
  for (auto& w : writes) {
    ids.push_back(w.user);
    online.emplace_back(w.online ? "t" : "f");
    at.emplace_back(std::move(w.at));
  }
  return PresenceArrays{std::move(ids), to_text_array(online), to_text_array(at)};
}

awaitable<Result<std::vector<std::optional<std::string>>>> PgUserRepository::set_presence(
    std::vector<PresenceWrite> writes) {
  auto a = presence_arrays(writes);
  // Both in one round trip: the writes (each skipped when a newer transition is stored) and
  // the last_seen they leave.
  const auto id_array = to_array(a.ids);
  std::vector<Query> queries;
  queries.push_back(
      Query{&kSetPresence, params(id_array, std::move(a.online), std::move(a.at))});
  queries.push_back(Query{&kLastSeen, params(id_array)});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  const auto& last = (*rs)[1];
  std::unordered_map<UserId, std::optional<std::string>> by_user;
  for (int r = 0; r < last.rows(); ++r) by_user.emplace(last.int64(r, 0), last.opt_str(r, 1));
  std::vector<std::optional<std::string>> out;
  for (const auto id : a.ids) {
    const auto it = by_user.find(id);
    out.push_back(it == by_user.end() ? std::nullopt : it->second);
  }
  co_return out;
}

awaitable<Result<std::vector<std::pair<UserId, UserId>>>> PgUserRepository::contacts(
    std::vector<UserId> users) {
  auto rs = co_await pool_.exec(kContactsStatement, params(to_array(users)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::pair<UserId, UserId>> out;
  for (int r = 0; r < rs->rows(); ++r) out.emplace_back(rs->int64(r, 0), rs->int64(r, 1));
  co_return out;
}

awaitable<Result<std::vector<UserId>>> PgUserRepository::blocking(UserId viewer,
                                                                   std::vector<UserId> users) {
  static constexpr Statement kBlocking{
      "user_blocking",
      "SELECT blocker FROM blocks WHERE blocked = $1 AND blocker = ANY ($2::bigint[])"};
  auto rs = co_await pool_.exec(kBlocking, params(std::to_string(viewer), to_array(users)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<UserId> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(rs->int64(r, 0));
  co_return out;
}

awaitable<Result<std::int64_t>> PgUserRepository::clear_presence() {
  auto rs = co_await pool_.exec(kClearPresence, params());
  if (!rs) co_return to_domain_error(rs.error());
  co_return rs->affected();
}

awaitable<Status> PgUserRepository::revoke_token(UserId user, std::string jti, std::int64_t exp) {
  auto args = params(std::move(jti), std::to_string(user), std::to_string(exp));
  auto rs = co_await pool_.exec(kRevokeToken, std::move(args));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Result<std::optional<std::string>>> PgUserRepository::password_hash(UserId id) {
  auto rs = co_await pool_.exec(kPasswordHash, params(std::to_string(id)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>{rs->str(0, 0)};
}

awaitable<Status> PgUserRepository::change_password(UserId user, std::string hash,
                                                    std::int64_t before_ms, std::string keep_jti) {
  std::vector<Query> queries;  // one transaction: the hash and the cutoff together
  queries.push_back(Query{&kSetPassword, params(std::to_string(user), std::move(hash))});
  queries.push_back(Query{&kTokenCutoffStatement,
                          params(std::to_string(user), std::to_string(before_ms),
                                 std::move(keep_jti))});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Result<std::vector<TokenRevocation>>> PgUserRepository::revocations() {
  auto rs = co_await pool_.exec(kRevocations, params());
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<TokenRevocation> out;
  for (int r = 0; r < rs->rows(); ++r)
    out.push_back(TokenRevocation{rs->int64(r, 0), rs->str(r, 1), rs->int64(r, 2),
                                  rs->int64(r, 3), rs->str(r, 4)});
  co_return out;
}

}  // namespace chatd::pg
