// What group management needs from storage.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <optional>
#include <vector>

#include "domain/error.hpp"
#include "domain/group.hpp"

namespace chatd {

class GroupRepository {
 public:
  virtual ~GroupRepository() = default;

  // Creates the group, its conversation and its members (the owner as admin) in one
  // transaction; errc::invalid_input when any member id names no user (nothing is created).
  virtual boost::asio::awaitable<Result<Group>> create(std::string name, UserId owner,
                                                       std::vector<UserId> members) = 0;
  virtual boost::asio::awaitable<Result<std::optional<Group>>> find(GroupId id) = 0;
  // Adds a member (no-op when already one); errc::invalid_input when the user does not exist or
  // the group already has `max_members` (checked atomically: concurrent adds never overshoot).
  virtual boost::asio::awaitable<Status> add_member(GroupId id, UserId user,
                                                    std::size_t max_members) = 0;
  // Removes a member from the group and its conversation; false when they were not one.
  virtual boost::asio::awaitable<Result<bool>> remove_member(GroupId id, UserId user) = 0;
};

}  // namespace chatd
