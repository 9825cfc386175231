#include "storage/pg/group_repository.hpp"

#include "storage/pg/arrays.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

// All or nothing: when any id names no user, no row of any table is written.
constexpr Statement kCreate{
    "group_create",
    "WITH ok AS (SELECT count(*) = cardinality($3::bigint[]) AS ok FROM users"
    "            WHERE id = ANY($3::bigint[])),"
    " g AS (INSERT INTO groups (name, owner_id) SELECT $1, $2 FROM ok WHERE ok.ok"
    "       RETURNING id),"
    " gm AS (INSERT INTO group_members (group_id, user_id, role)"
    "        SELECT g.id, u, CASE WHEN u = $2 THEN 'admin' ELSE 'member' END"
    "        FROM g, unnest($3::bigint[]) u),"
    " c AS (INSERT INTO conversations (type, group_id) SELECT 'group', id FROM g RETURNING id),"
    " cm AS (INSERT INTO conversation_members (conversation_id, user_id)"
    "        SELECT c.id, u FROM c, unnest($3::bigint[]) u)"
    " SELECT g.id FROM g"};

constexpr Statement kFind{
    "group_find",
    "SELECT g.id, g.name, g.owner_id, chatd_ts(g.created_at), c.id, gm.user_id, u.username,"
    "       gm.role"
    " FROM groups g JOIN conversations c ON c.group_id = g.id"
    " LEFT JOIN group_members gm ON gm.group_id = g.id LEFT JOIN users u ON u.id = gm.user_id"
    " WHERE g.id = $1 ORDER BY gm.joined_at, gm.user_id"};

// A member joins at the conversation's last seq: what was sent before has no receipt for them,
// is not replayed to them as undelivered, and does not count as unread.
// Adding a member runs two statements in one transaction: the group's row is locked first, so
// that concurrent adds take turns, and the second statement — a new snapshot under READ
// COMMITTED — counts the members the previous adds committed before it inserts (one statement
// alone would count from before the wait and let two adds overshoot the limit).
constexpr Statement kLockGroup{"group_lock", "SELECT id FROM groups WHERE id = $1 FOR UPDATE"};

constexpr Statement kAddMember{
    "group_add_member",
    "WITH u AS (SELECT id FROM users WHERE id = $2),"
    " n AS (SELECT count(*) >= $3::int AS is_full FROM group_members WHERE group_id = $1),"
    " g AS (INSERT INTO group_members (group_id, user_id, role) SELECT $1, u.id, 'member'"
    "       FROM u, n WHERE NOT n.is_full"
    "       ON CONFLICT DO NOTHING RETURNING user_id),"
    " c AS (INSERT INTO conversation_members (conversation_id, user_id, joined_seq,"
    "                                         delivered_seq, last_read_seq)"
    "       SELECT cv.id, g.user_id, cv.last_seq, cv.last_seq, cv.last_seq"
    "       FROM g, conversations cv WHERE cv.group_id = $1"
    "       ON CONFLICT DO NOTHING)"
    " SELECT (SELECT count(*) FROM u), (SELECT is_full FROM n)"};

constexpr Statement kRemoveMember{
    "group_remove_member",
    "WITH g AS (DELETE FROM group_members WHERE group_id = $1 AND user_id = $2 RETURNING user_id),"
    " c AS (DELETE FROM conversation_members WHERE user_id IN (SELECT user_id FROM g)"
    "       AND conversation_id = (SELECT id FROM conversations WHERE group_id = $1)),"
    " s AS (DELETE FROM sent_since_read WHERE user_id IN (SELECT user_id FROM g)"
    "       AND conversation_id = (SELECT id FROM conversations WHERE group_id = $1))"
    " SELECT count(*) FROM g"};

}  // namespace

awaitable<Result<Group>> PgGroupRepository::create(std::string name, UserId owner,
                                                   std::vector<UserId> members) {
  auto rs =
      co_await pool_.exec(kCreate, params(std::move(name), std::to_string(owner), to_array(members)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return make_error(errc::invalid_input, "members names an unknown user");
  auto g = co_await find(rs->int64(0, 0));
  if (!g) co_return g.error();
  if (!*g) co_return make_error(errc::internal, "group vanished after creation");
  co_return std::move(**g);
}

awaitable<Result<std::optional<Group>>> PgGroupRepository::find(GroupId id) {
  auto rs = co_await pool_.exec(kFind, params(std::to_string(id)));
  if (!rs) co_return to_domain_error(rs.error());
  if (rs->empty()) co_return std::optional<Group>{};
  Group g;
  g.id = rs->int64(0, 0);
  g.name = rs->str(0, 1);
  g.owner_id = rs->int64(0, 2);
  g.created_at = rs->str(0, 3);
  g.conversation_id = rs->int64(0, 4);
  for (int r = 0; r < rs->rows(); ++r) {
    if (rs->is_null(r, 5)) continue;
    g.members.push_back(GroupMember{rs->int64(r, 5), rs->str(r, 6),
                                    rs->text(r, 7) == "admin" ? GroupRole::admin
                                                              : GroupRole::member});
  }
  co_return std::optional<Group>{std::move(g)};
}

awaitable<Status> PgGroupRepository::add_member(GroupId id, UserId user, std::size_t max_members) {
  std::vector<Query> queries;
  queries.push_back(Query{&kLockGroup, params(std::to_string(id))});
  queries.push_back(Query{&kAddMember, params(std::to_string(id), std::to_string(user),
                                              std::to_string(max_members))});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  const auto& added = (*rs)[1];
  if (added.int64(0, 0) == 0) co_return make_error(errc::invalid_input, "user_id names no user");
  if (added.boolean(0, 1)) co_return make_error(errc::invalid_input, "the group is full");
  co_return Status{};
}

awaitable<Result<bool>> PgGroupRepository::remove_member(GroupId id, UserId user) {
  auto rs = co_await pool_.exec(kRemoveMember, params(std::to_string(id), std::to_string(user)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return rs->int64(0, 0) > 0;
}

}  // namespace chatd::pg
