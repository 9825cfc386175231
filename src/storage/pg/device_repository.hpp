// DeviceRepository on PostgreSQL.
#pragma once

#include "domain/push_service.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgDeviceRepository final : public DeviceRepository {
 public:
  explicit PgDeviceRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Status> save(UserId user, Device device) override;
  boost::asio::awaitable<Status> remove(UserId user, std::string token) override;
  boost::asio::awaitable<Result<std::vector<OfflineRecipient>>> offline_devices(
      std::vector<UserId> users) override;
  boost::asio::awaitable<Result<std::vector<std::pair<UserId, ConversationId>>>> muted(
      std::vector<std::pair<UserId, ConversationId>> pairs) override;
  boost::asio::awaitable<Result<std::vector<std::pair<UserId, std::string>>>> usernames(
      std::vector<UserId> users) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
