#include "codec/entities.hpp"

namespace chatd::codec {

boost::json::object to_json(const User& u, bool with_email) {
  boost::json::object o;
  o["id"] = u.id;
  o["username"] = u.username;
  if (with_email) {
    o["email"] = u.email;
    o["role"] = u.role;
  }
  o["is_online"] = u.is_online;
  o["last_seen"] = nullable(u.last_seen);
  o["created_at"] = u.created_at;
  o["deleted"] = u.deleted;
  return o;
}

boost::json::object to_admin_json(const User& u) {
  boost::json::object o;
  o["id"] = u.id;
  o["username"] = u.username;
  o["email"] = u.email;
  o["role"] = u.role;
  o["created_at"] = u.created_at;
  o["last_seen"] = nullable(u.last_seen);
  o["is_online"] = u.is_online;
  o["suspended"] = u.suspended;
  o["deleted"] = u.deleted;
  return o;
}

boost::json::object to_json(const Attachment& a) {
  boost::json::object o;
  o["id"] = a.id;
  o["filename"] = a.filename;
  o["content_type"] = a.content_type;
  o["size"] = a.size;
  o["sha256"] = a.sha256;
  o["url"] = "/attachments/" + std::to_string(a.id);
  return o;
}

boost::json::object to_json(const Message& m) {
  boost::json::object o;
  o["id"] = m.id;
  o["conversation_id"] = m.conversation_id;
  o["seq"] = m.seq;
  o["sender_id"] = m.sender_id;
  o["to"] = nullable(m.to);
  o["group_id"] = nullable(m.group_id);
  o["content"] = m.content;
  o["client_id"] = nullable(m.client_id);
  o["created_at"] = m.created_at;
  o["reply_to"] = nullable(m.reply_to);
  boost::json::array attachments;
  for (const auto& a : m.attachments) attachments.push_back(to_json(a));
  o["attachments"] = std::move(attachments);
  o["edited_at"] = nullable(m.edited_at);
  o["deleted"] = m.deleted;
  boost::json::array reactions;
  for (const auto& r : m.reactions) {
    boost::json::object ro;
    ro["emoji"] = r.emoji;
    ro["count"] = r.count;
    boost::json::array who;
    for (auto u : r.user_ids) who.push_back(u);
    ro["user_ids"] = std::move(who);
    reactions.push_back(std::move(ro));
  }
  o["reactions"] = std::move(reactions);
  boost::json::array mentions;
  for (auto u : m.mentions) mentions.push_back(u);
  o["mentions"] = std::move(mentions);
  o["forwarded"] = m.forwarded;
  o["expires_at"] = nullable(m.expires_at);
  return o;
}

boost::json::object to_json(const ConversationSettings& s) {
  boost::json::object o;
  o["muted_until"] = nullable(s.muted_until);
  o["archived"] = s.archived;
  o["pinned"] = s.pinned;
  return o;
}

boost::json::object to_json(const Group& g) {
  boost::json::object o;
  o["id"] = g.id;
  o["name"] = g.name;
  o["owner_id"] = g.owner_id;
  o["created_at"] = g.created_at;
  boost::json::array members;
  for (const auto& m : g.members) {
    boost::json::object mo;
    mo["user_id"] = m.user_id;
    mo["username"] = m.username;
    mo["role"] = m.role == GroupRole::admin ? "admin" : "member";
    members.push_back(std::move(mo));
  }
  o["members"] = std::move(members);
  return o;
}

}  // namespace chatd::codec
