// Group management over REST (PROTOCOL §4): create, read, add and remove members; every rule
// about who may do what lives here.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "domain/block_service.hpp"
#include "domain/group_repository.hpp"

namespace chatd {

struct GroupOptions {
  std::size_t max_members = 256;
  std::size_t max_name_chars = 100;
};

class GroupService {
 public:
  GroupService(GroupRepository& groups, GroupOptions options)
      : groups_(groups), options_(options) {}
  // PROTOCOL §9: a blocked user may not put the blocker in a group (403).
  void use_blocks(BlockRepository& blocks) { blocks_ = &blocks; }

  boost::asio::awaitable<Result<Group>> create(UserId owner, std::string name,
                                               std::vector<UserId> members);
  // errc::not_found alike for a missing group and one the viewer is not in.
  boost::asio::awaitable<Result<Group>> get(UserId viewer, GroupId id);
  boost::asio::awaitable<Result<Group>> add_member(UserId actor, GroupId id, UserId user);
  boost::asio::awaitable<Status> remove_member(UserId actor, GroupId id, UserId user);

 private:
  boost::asio::awaitable<Status> check_not_blocked(std::vector<UserId> users, UserId actor);
  GroupRepository& groups_;
  BlockRepository* blocks_ = nullptr;
  GroupOptions options_;
};

}  // namespace chatd
