// GroupRepository on PostgreSQL: group, members and the group's conversation move together.
#pragma once

#include "domain/group_repository.hpp"
#include "storage/pg/pool.hpp"

namespace chatd::pg {

class PgGroupRepository final : public GroupRepository {
 public:
  explicit PgGroupRepository(Pool& pool) : pool_(pool) {}

  boost::asio::awaitable<Result<Group>> create(std::string name, UserId owner,
                                               std::vector<UserId> members) override;
  boost::asio::awaitable<Result<std::optional<Group>>> find(GroupId id) override;
  boost::asio::awaitable<Status> add_member(GroupId id, UserId user,
                                            std::size_t max_members) override;
  boost::asio::awaitable<Result<bool>> remove_member(GroupId id, UserId user) override;

 private:
  Pool& pool_;
};

}  // namespace chatd::pg
