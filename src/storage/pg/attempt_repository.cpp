#include "storage/pg/attempt_repository.hpp"

#include "storage/pg/arrays.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

// Per limit, the limit-th newest attempt within the window: once it leaves the window, an
// attempt is allowed again (a sliding window). Each key reads at most `limit` index entries.
const Statement kAttemptCheckStatement{
    "attempts_check",
    "SELECT coalesce(max(GREATEST(1, ceil(extract(epoch FROM"
    "         x.at + make_interval(secs => k.w) - clock_timestamp())))), 0)::int,"
    "       EXISTS (SELECT 1 FROM auth_attempts a WHERE a.key = $1[1]"
    "               AND a.at > clock_timestamp() - make_interval(secs => $3[1]))"
    " FROM unnest($1::text[], $2::int[], $3::int[]) AS k(key, lim, w)"
    " CROSS JOIN LATERAL (SELECT a.at FROM auth_attempts a"
    "                     WHERE a.key = k.key AND a.at > clock_timestamp() - make_interval(secs => k.w)"
    "                     ORDER BY a.at DESC OFFSET k.lim - 1 LIMIT 1) x"};

namespace {

constexpr Statement kRecord{"attempts_record",
                            "INSERT INTO auth_attempts (key) SELECT unnest($1::text[])"};
constexpr Statement kForget{"attempts_forget", "DELETE FROM auth_attempts WHERE key = $1"};
constexpr Statement kPrune{
    "attempts_prune",
    "DELETE FROM auth_attempts WHERE at < clock_timestamp() - make_interval(secs => $1::int)"};

}  // namespace

awaitable<Result<AttemptCheck>> PgAttemptRepository::check(std::vector<AttemptLimit> limits) {
  if (limits.empty()) co_return AttemptCheck{};
  std::vector<std::optional<std::string>> keys;
  std::vector<std::int64_t> lims, windows;
  for (auto& l : limits) {
    keys.emplace_back(std::move(l.key));
    lims.push_back(l.limit);
    windows.push_back(l.window.count());
  }
  auto rs = co_await pool_.exec(kAttemptCheckStatement,
                                params(to_text_array(keys), to_array(lims), to_array(windows)));
  if (!rs) co_return to_domain_error(rs.error());
  AttemptCheck out;
  // No row when no key has reached its limit (the lateral join found nothing).
  if (!rs->empty()) {
    out.retry_after = static_cast<int>(rs->int64(0, 0));
    out.first_has_any = rs->boolean(0, 1);
  }
  co_return out;
}

awaitable<Status> PgAttemptRepository::record(std::vector<std::string> keys) {
  std::vector<std::optional<std::string>> k(keys.begin(), keys.end());
  auto rs = co_await pool_.exec(kRecord, params(to_text_array(k)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Status> PgAttemptRepository::forget(std::string key) {
  auto rs = co_await pool_.exec(kForget, params(std::move(key)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Result<std::int64_t>> PgAttemptRepository::prune(std::chrono::seconds older_than) {
  auto rs = co_await pool_.exec(kPrune, params(std::to_string(older_than.count())));
  if (!rs) co_return to_domain_error(rs.error());
  co_return rs->affected();
}

}  // namespace chatd::pg
