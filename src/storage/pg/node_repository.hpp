// NodeRepository on PostgreSQL.
#pragma once

#include "domain/node_repository.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgNodeRepository final : public NodeRepository {
 public:
  explicit PgNodeRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Status> heartbeat(std::string node) override;
  boost::asio::awaitable<Result<std::vector<std::string>>> claim_silent_nodes(
      std::string self, int timeout_seconds) override;
  boost::asio::awaitable<Result<bool>> forget(std::string node, int only_if_silent) override;
  boost::asio::awaitable<Result<std::vector<UserId>>> users_on(std::string node) override;
  boost::asio::awaitable<Result<std::vector<std::pair<UserId, GlobalPresence>>>>
  set_node_presence(std::string node, std::vector<PresenceWrite> writes) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
