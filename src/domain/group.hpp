// Groups and their members (PROTOCOL §4).
#pragma once

#include <string>
#include <vector>

#include "domain/message.hpp"

namespace chatd {

enum class GroupRole { admin, member };

struct GroupMember {
  UserId user_id = 0;
  std::string username;
  GroupRole role = GroupRole::member;
};

struct Group {
  GroupId id = 0;
  std::string name;
  UserId owner_id = 0;
  std::string created_at;
  ConversationId conversation_id = 0;
  std::vector<GroupMember> members;
};

}  // namespace chatd
