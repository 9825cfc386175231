#include "storage/pg/device_repository.hpp"

#include <algorithm>

#include "storage/pg/arrays.hpp"

namespace chatd::pg {

using boost::asio::awaitable;

namespace {

constexpr Statement kSave{
    "device_save",
    "INSERT INTO devices (token, user_id, platform) VALUES ($1, $2, $3)"
    " ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id,"
    "   platform = EXCLUDED.platform, updated_at = now()"};
constexpr Statement kRemove{"device_remove",
                            "DELETE FROM devices WHERE token = $1 AND user_id = $2"};
// Devices of the users who are offline on every node now.
constexpr Statement kOffline{
    "device_offline",
    "SELECT d.user_id, d.platform, d.token FROM devices d JOIN users u ON u.id = d.user_id"
    " WHERE d.user_id = ANY ($1::bigint[]) AND NOT u.is_online ORDER BY d.user_id, d.token"};
// A primary-key probe of each member row.
constexpr Statement kMuted{
    "device_muted",
    "SELECT cm.user_id, cm.conversation_id FROM unnest($1::bigint[], $2::bigint[]) AS x(u, c)"
    " JOIN conversation_members cm ON cm.conversation_id = x.c AND cm.user_id = x.u"
    " WHERE cm.muted_until > now()"};
constexpr Statement kUsernames{"device_usernames",
                               "SELECT id, username FROM users WHERE id = ANY ($1::bigint[])"};

std::vector<std::int64_t> distinct(std::vector<UserId> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

awaitable<Status> PgDeviceRepository::save(UserId user, Device device) {
  std::string platform(platform_name(device.platform));
  auto args = params(std::move(device.token), std::to_string(user), std::move(platform));
  auto rs = co_await pool_.exec(kSave, std::move(args));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Status> PgDeviceRepository::remove(UserId user, std::string token) {
  auto rs = co_await pool_.exec(kRemove, params(std::move(token), std::to_string(user)));
  if (!rs) co_return to_domain_error(rs.error());
  co_return Status{};
}

awaitable<Result<std::vector<std::pair<UserId, ConversationId>>>> PgDeviceRepository::muted(
    std::vector<std::pair<UserId, ConversationId>> pairs) {
  std::vector<std::int64_t> users, conversations;
  for (const auto& [u, c] : pairs) {
    users.push_back(u);
    conversations.push_back(c);
  }
  auto rs = co_await pool_.exec(kMuted, params(to_array(users), to_array(conversations)));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::pair<UserId, ConversationId>> out;
  for (int r = 0; r < rs->rows(); ++r) out.emplace_back(rs->int64(r, 0), rs->int64(r, 1));
  co_return out;
}

awaitable<Result<std::vector<OfflineRecipient>>> PgDeviceRepository::offline_devices(
    std::vector<UserId> users) {
  auto rs = co_await pool_.exec(kOffline, params(to_array(distinct(std::move(users)))));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<OfflineRecipient> out;
  for (int r = 0; r < rs->rows(); ++r) {
    const auto user = rs->int64(r, 0);
    if (out.empty() || out.back().user_id != user) out.push_back(OfflineRecipient{user, {}});
    out.back().devices.push_back(
        Device{parse_platform(rs->text(r, 1)).value_or(Platform::fcm), rs->str(r, 2)});
  }
  co_return out;
}

awaitable<Result<std::vector<std::pair<UserId, std::string>>>> PgDeviceRepository::usernames(
    std::vector<UserId> users) {
  auto rs = co_await pool_.exec(kUsernames, params(to_array(distinct(std::move(users)))));
  if (!rs) co_return to_domain_error(rs.error());
  std::vector<std::pair<UserId, std::string>> out;
  for (int r = 0; r < rs->rows(); ++r) out.emplace_back(rs->int64(r, 0), rs->str(r, 1));
  co_return out;
}

}  // namespace chatd::pg
