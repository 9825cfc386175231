// Domain entities as the JSON of PROTOCOL §2–§5, shared by the REST handlers and the WebSocket
// event codec so that a User looks the same everywhere.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value_from.hpp>

#include <optional>

#include "domain/group.hpp"
#include "domain/message.hpp"
#include "domain/user.hpp"

namespace chatd::codec {

// An optional as JSON: the value, or null.
template <class T>
boost::json::value nullable(const std::optional<T>& v) {
  if (v) return boost::json::value_from(*v);
  return nullptr;
}

// `with_email` only for the caller's own record (PROTOCOL §2): its email and role (§10).
boost::json::object to_json(const User& u, bool with_email);
// What an admin sees of any user (PROTOCOL §10).
boost::json::object to_admin_json(const User& u);
boost::json::object to_json(const Attachment& a);
boost::json::object to_json(const Message& m);
boost::json::object to_json(const Group& g);
boost::json::object to_json(const ConversationSettings& s);

}  // namespace chatd::codec
