#include "storage/pg/node_repository.hpp"

#include "storage/pg/arrays.hpp"
#include "storage/pg/user_repository.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

constexpr Statement kHeartbeat{
    "node_heartbeat",
    "INSERT INTO cluster_nodes (name) VALUES ($1)"
    " ON CONFLICT (name) DO UPDATE SET heartbeat_at = now(), swept_until = NULL"};
// The claim: of several nodes finding one silent at once, the first takes the row lock and the
// others, re-reading the row after it commits, find it claimed (every node turning the same
// users offline was 55 times the work in the million run, docs/BENCHMARKS.md).
constexpr Statement kClaimSilent{
    "node_claim_silent",
    "UPDATE cluster_nodes SET swept_until = now() + make_interval(secs => $2::int)"
    " WHERE name <> $1 AND heartbeat_at < now() - make_interval(secs => $2::int)"
    "   AND (swept_until IS NULL OR swept_until < now())"
    " RETURNING name"};
// Removed only while still silent (a node restarted under the same name meanwhile stays); its
// per-user rows go with it, after the callers have turned them offline.
constexpr Statement kForget{
    "node_forget",
    "WITH gone AS (DELETE FROM cluster_nodes WHERE name = $1"
    "                AND ($2::int = 0 OR heartbeat_at < now() - make_interval(secs => $2::int))"
    "              RETURNING name)"
    " SELECT count(*) FROM gone"};
constexpr Statement kForgetRows{"node_forget_rows",
                                "DELETE FROM node_presence WHERE node = $1 AND NOT online"};
constexpr Statement kUsersOn{"node_users_on",
                             "SELECT user_id FROM node_presence WHERE node = $1 AND online"};

// A user's transitions are serialised by an advisory lock on the user (two-key space, apart
// from the conversations' one-key locks), so two nodes deciding at once see each other. A batch
// takes its users' locks in the order of the lock keys, so two batches never wait on each
// other in a cycle (two users may share a key).
constexpr Statement kLockUsers{
    "node_lock_users",
    "SELECT count(pg_advisory_xact_lock(1886680433, k))"
    "  FROM (SELECT DISTINCT hashtext(u::text) AS k FROM unnest($1::bigint[]) u ORDER BY k) s"};
constexpr Statement kSetNode{
    "node_set_presence",
    "INSERT INTO node_presence AS p (user_id, node, online, at)"
    " SELECT w.id, $2, w.online, w.at"
    "   FROM unnest($1::bigint[], $3::boolean[], $4::timestamptz[]) AS w(id, online, at)"
    " ON CONFLICT (user_id, node) DO UPDATE SET online = EXCLUDED.online, at = EXCLUDED.at"
    " WHERE p.at <= EXCLUDED.at"};
// The users' presence across nodes, written only where it changes.
constexpr Statement kSetGlobal{
    "node_set_global_presence",
    "UPDATE users u SET is_online = x.any,"
    "                  last_seen = CASE WHEN x.any THEN u.last_seen ELSE x.at END,"
    "                  presence_at = x.at"
    "  FROM (SELECT w.id, w.at,"
    "               EXISTS (SELECT 1 FROM node_presence p WHERE p.user_id = w.id AND p.online)"
    "                 AS any"
    "          FROM unnest($1::bigint[], $2::timestamptz[]) AS w(id, at)) x"
    " WHERE u.id = x.id AND u.is_online IS DISTINCT FROM x.any"
    " RETURNING u.id, u.is_online, chatd_ts(u.last_seen)"};

}  // namespace

awaitable<Status> PgNodeRepository::heartbeat(std::string node) {
  // Ahead of whatever else waits for a connection: a node busy with a connect storm is alive,
  // and a heartbeat queued behind the storm made the others turn its users offline (55 nodes
  // with pools of 2: 4,056 such verdicts, docs/BENCHMARKS.md).
  auto rs = co_await pool_.exec(kHeartbeat, params(std::move(node)), Priority::first);
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Result<std::vector<std::string>>> PgNodeRepository::claim_silent_nodes(
    std::string self, int timeout_seconds) {
  auto rs = co_await pool_.exec(kClaimSilent, params(std::move(self), std::to_string(timeout_seconds)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::string> out;
  for (int r = 0; r < rs->rows(); ++r) out.emplace_back(rs->text(r, 0));
  co_return out;
}

awaitable<Result<bool>> PgNodeRepository::forget(std::string node, int only_if_silent) {
  std::vector<Query> queries;
  queries.push_back(Query{&kForget, params(node, std::to_string(only_if_silent))});
  queries.push_back(Query{&kForgetRows, params(node)});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  co_return (*rs)[0].int64(0, 0) > 0;
}

awaitable<Result<std::vector<UserId>>> PgNodeRepository::users_on(std::string node) {
  auto rs = co_await pool_.exec(kUsersOn, params(std::move(node)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<UserId> out;
  for (int r = 0; r < rs->rows(); ++r) out.push_back(rs->int64(r, 0));
  co_return out;
}

awaitable<Result<std::vector<std::pair<UserId, GlobalPresence>>>>
PgNodeRepository::set_node_presence(std::string node, std::vector<PresenceWrite> writes) {
  auto a = presence_arrays(writes);
  const auto id_array = to_array(a.ids);
  std::vector<Query> queries;  // one round trip, one transaction
  queries.push_back(Query{&kLockUsers, params(id_array)});
  queries.push_back(Query{&kSetNode, params(id_array, std::move(node), std::move(a.online), a.at)});
  queries.push_back(Query{&kSetGlobal, params(id_array, std::move(a.at))});
  auto rs = co_await pool_.run(std::move(queries));
  if (!rs) co_return to_domain_error(rs.error());
  const auto& changed = (*rs)[2];
  std::vector<std::pair<UserId, GlobalPresence>> out;
  for (int r = 0; r < changed.rows(); ++r) {
    GlobalPresence p;
    p.online = changed.boolean(r, 1);
    if (!p.online) p.last_seen = changed.opt_str(r, 2);
    out.emplace_back(changed.int64(r, 0), std::move(p));
  }
  co_return out;
}

}  // namespace chatd::pg
