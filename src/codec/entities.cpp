#include "codec/entities.hpp"

namespace chatd::codec {

boost::json::object to_json(const User& u, bool with_email) {
  boost::json::object o;
  o["id"] = u.id;
  o["username"] = u.username;
  if (with_email) o["email"] = u.email;
  o["is_online"] = u.is_online;
  if (u.last_seen)
    o["last_seen"] = *u.last_seen;
  else
    o["last_seen"] = nullptr;
  o["created_at"] = u.created_at;
  return o;
}

}  // namespace chatd::codec
