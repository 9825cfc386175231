#include "domain/group_service.hpp"

#include <algorithm>

#include "validation/validation.hpp"

namespace chatd {

using boost::asio::awaitable;

namespace {

const GroupMember* find_member(const Group& g, UserId u) {
  auto it = std::find_if(g.members.begin(), g.members.end(),
                         [u](const GroupMember& m) { return m.user_id == u; });
  return it == g.members.end() ? nullptr : &*it;
}

Error no_group() { return make_error(errc::not_found, "no such group"); }

}  // namespace

awaitable<Result<Group>> GroupService::create(UserId owner, std::string name,
                                              std::vector<UserId> members) {
  if (auto e = validation::check_content(name, options_.max_name_chars))
    co_return make_error(errc::invalid_input, "name must be 1-100 characters, not blank");
  members.push_back(owner);
  std::sort(members.begin(), members.end());
  members.erase(std::unique(members.begin(), members.end()), members.end());
  if (members.size() > options_.max_members)
    co_return make_error(errc::invalid_input, "a group has at most " +
                                                  std::to_string(options_.max_members) +
                                                  " members");
  if (auto ok = co_await check_not_blocked(members, owner); !ok) co_return ok.error();
  co_return co_await groups_.create(std::move(name), owner, std::move(members));
}

awaitable<Status> GroupService::check_not_blocked(std::vector<UserId> users, UserId actor) {
  if (blocks_ == nullptr) co_return Status{};
  std::erase(users, actor);
  if (users.empty()) co_return Status{};
  auto blocked = co_await blocks_->any_blocks(std::move(users), actor);
  if (!blocked) co_return blocked.error();
  if (*blocked) co_return make_error(errc::forbidden, "a user you named does not accept this");
  co_return Status{};
}

awaitable<Result<Group>> GroupService::get(UserId viewer, GroupId id) {
  auto g = co_await groups_.find(id);
  if (!g) co_return g.error();
  if (!*g || find_member(**g, viewer) == nullptr) co_return no_group();
  co_return std::move(**g);
}

awaitable<Result<Group>> GroupService::add_member(UserId actor, GroupId id, UserId user) {
  auto g = co_await get(actor, id);
  if (!g) co_return g.error();
  if (find_member(*g, actor)->role != GroupRole::admin)
    co_return make_error(errc::forbidden, "only an admin may add members");
  if (find_member(*g, user) != nullptr) co_return std::move(*g);  // already in: nothing to do
  if (g->members.size() >= options_.max_members)
    co_return make_error(errc::invalid_input, "the group is full");
  std::vector<UserId> one;
  one.push_back(user);
  if (auto ok = co_await check_not_blocked(std::move(one), actor); !ok) co_return ok.error();
  auto added = co_await groups_.add_member(id, user, options_.max_members);
  if (!added) co_return added.error();
  co_return co_await get(actor, id);
}

awaitable<Status> GroupService::remove_member(UserId actor, GroupId id, UserId user) {
  auto g = co_await get(actor, id);
  if (!g) co_return g.error();
  if (actor != user && find_member(*g, actor)->role != GroupRole::admin)
    co_return make_error(errc::forbidden, "only an admin may remove another member");
  if (find_member(*g, user) == nullptr) co_return make_error(errc::not_found, "not a member");
  auto removed = co_await groups_.remove_member(id, user);
  if (!removed) co_return removed.error();
  if (!*removed) co_return make_error(errc::not_found, "not a member");
  co_return Status{};
}

}  // namespace chatd
