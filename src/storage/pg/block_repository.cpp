#include "storage/pg/block_repository.hpp"

#include "storage/pg/arrays.hpp"
#include "storage/pg/user_repository.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

constexpr Statement kBlock{
    "block_add",
    "WITH u AS (SELECT id FROM users WHERE id = $2 AND deleted_at IS NULL),"
    " ins AS (INSERT INTO blocks (blocker, blocked) SELECT $1, id FROM u ON CONFLICT DO NOTHING)"
    " SELECT count(*) FROM u"};
constexpr Statement kUnblock{"block_remove",
                             "DELETE FROM blocks WHERE blocker = $1 AND blocked = $2"};
// The blocked users as the blocker sees them (a blocked user's presence is theirs to see).
constexpr Statement kList{
    "block_list",
    "SELECT " CHATD_FULL_USER_COLUMNS("u") " FROM blocks b JOIN users u ON u.id = b.blocked"
    " WHERE b.blocker = $1 ORDER BY b.created_at, u.id"};
constexpr Statement kAnyBlocks{
    "block_any",
    "SELECT EXISTS (SELECT 1 FROM blocks WHERE blocker = ANY ($1::bigint[]) AND blocked = $2)"};

}  // namespace

awaitable<Result<bool>> PgBlockRepository::block(UserId blocker, UserId blocked) {
  auto rs = co_await pool_.exec(kBlock, params(std::to_string(blocker), std::to_string(blocked)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return rs->int64(0, 0) > 0;
}

awaitable<Status> PgBlockRepository::unblock(UserId blocker, UserId blocked) {
  auto rs = co_await pool_.exec(kUnblock, params(std::to_string(blocker), std::to_string(blocked)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Result<std::vector<User>>> PgBlockRepository::blocked_by(UserId blocker) {
  auto rs = co_await pool_.exec(kList, params(std::to_string(blocker)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<User> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(read_full_user(*rs, r));
  co_return out;
}

awaitable<Result<bool>> PgBlockRepository::any_blocks(std::vector<UserId> users, UserId actor) {
  auto rs = co_await pool_.exec(kAnyBlocks, params(to_array(users), std::to_string(actor)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return rs->boolean(0, 0);
}

}  // namespace chatd::pg
