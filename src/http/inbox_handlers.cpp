#include "http/inbox_handlers.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "codec/entities.hpp"
#include "http/errors.hpp"
#include "http/json_body.hpp"

namespace chatd::http {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

struct HistoryRequest {
  ConversationRef ref;
  HistoryQuery query;
};

// Kept out of the handler coroutine (g++ 12 mishandles initializer lists in coroutines).
Result<HistoryRequest> parse_history(const Request& req) {
  HistoryRequest out;
  for (auto [name, slot] :
       {std::pair{"conversation_id", &out.ref.conversation_id},
        std::pair{"peer_id", &out.ref.peer_id}, std::pair{"group_id", &out.ref.group_id}}) {
    auto v = id_param(req, name);
    if (!v) return v.error();
    *slot = *v;
  }
  auto limit = limit_param(req, kDefaultPageSize, kMaxPageSize);
  if (!limit) return limit.error();
  auto before = int_param(req, "before");
  if (!before) return before.error();
  auto after = int_param(req, "after");
  if (!after) return after.error();
  if (*before && *after)
    return make_error(errc::invalid_input, "before and after cannot be combined");
  out.query.limit = *limit;
  if (const auto* since = req.query_param("changed_since")) {
    if (*before)
      return make_error(errc::invalid_input, "changed_since pages with after, not before");
    out.query.changed_since = *since;
  }
  if (*before) {
    out.query.direction = HistoryDirection::before;
    out.query.cursor = **before;
  } else if (*after) {
    out.query.direction = HistoryDirection::after;
    out.query.cursor = **after;
  }
  return out;
}

// `next_before`: the exact cursor after this page's last conversation when the page is full
// (there may be more), else null.
Response conversations_response(const std::vector<ConversationSummary>& list, int limit) {
  json::array items;
  for (const auto& s : list) items.push_back(summary_json(s));
  json::object body;
  body["conversations"] = std::move(items);
  body["next_before"] = codec::nullable(next_inbox_cursor(list, limit));
  return json_response(200, body);
}

Response history_response(const HistoryPage& page) {
  json::array items;
  for (const auto& m : page.messages) items.push_back(codec::to_json(m));
  json::object body;
  body["messages"] = std::move(items);
  body["has_more"] = page.has_more;
  return json_response(200, body);
}

// The fields of PUT /conversations/{id}/settings, each optional and typed.
Result<SettingsChange> settings_change(const json::object& body) {
  SettingsChange c;
  if (const auto* v = body.if_contains("muted_until")) {
    if (v->is_null()) c.muted_until = std::optional<std::string>{};
    else if (v->is_string()) c.muted_until = std::optional<std::string>{std::string(v->as_string())};
    else return make_error(errc::invalid_input, "muted_until must be an RFC 3339 time or null");
  }
  for (auto [name, slot] : {std::pair{"archived", &c.archived}, std::pair{"pinned", &c.pinned}}) {
    if (const auto* v = body.if_contains(name)) {
      if (!v->is_bool()) return make_error(errc::invalid_input, std::string(name) + " must be a boolean");
      *slot = v->as_bool();
    }
  }
  return c;
}

}  // namespace

std::optional<std::string> next_inbox_cursor(const std::vector<ConversationSummary>& page,
                                             int limit) {
  if (page.empty() || static_cast<int>(page.size()) != limit) return std::nullopt;
  // The cursor follows the last conversation by activity: pinned ones head the first page only
  // (a page of pinned ones alone continues from the start of the others: the year 9999).
  constexpr std::int64_t kEndOfTime = 253402300799999999;  // 9999-12-31T23:59:59.999999Z in µs
  const auto last = std::find_if(page.rbegin(), page.rend(),
                                 [](const ConversationSummary& s) { return !s.settings.pinned; });
  if (last == page.rend())
    return encode_inbox_cursor(kEndOfTime, std::numeric_limits<std::int64_t>::max());
  return encode_inbox_cursor(last->activity_micros, last->id);
}

json::object summary_json(const ConversationSummary& s) {
  json::object o;
  o["id"] = s.id;
  o["type"] = s.is_group ? "group" : "direct";
  if (s.peer)
    o["peer"] = codec::to_json(*s.peer, false);
  else
    o["peer"] = nullptr;
  if (s.group_id)
    o["group"] = json::object{{"id", *s.group_id}, {"name", s.group_name}};
  else
    o["group"] = nullptr;
  if (s.last_message)
    o["last_message"] = codec::to_json(*s.last_message);
  else
    o["last_message"] = nullptr;
  o["last_message_at"] = codec::nullable(s.last_message_at);
  o["activity_at"] = s.activity_at;
  o["unread_count"] = s.unread_count;
  o["disappearing_seconds"] = codec::nullable(s.disappearing_seconds);
  o["muted_until"] = codec::nullable(s.settings.muted_until);
  o["archived"] = s.settings.archived;
  o["pinned"] = s.settings.pinned;
  return o;
}

void add_inbox_routes(Router& router, InboxService& inbox) {
  router.add(Method::get, "/conversations", Access::authenticated,
             [&inbox](RequestContext& ctx) -> awaitable<Response> {
               auto limit = limit_param(ctx.request, kDefaultPageSize, kMaxPageSize);
               if (!limit) co_return error_response(limit.error());
               std::optional<std::string> before;
               if (const auto* b = ctx.request.query_param("before")) before = *b;
               bool archived = false;
               if (const auto* a = ctx.request.query_param("archived")) {
                 if (*a != "true" && *a != "false")
                   co_return error_response(
                       make_error(errc::invalid_input, "archived must be true or false"));
                 archived = *a == "true";
               }
               auto list =
                   co_await inbox.conversations(ctx.user, std::move(before), *limit, archived);
               if (!list) co_return error_response(list.error());
               co_return conversations_response(*list, *limit);
             });

  router.add(Method::put, "/conversations/{id}/settings", Access::authenticated,
             [&inbox](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto change = settings_change(*body);
               if (!change) co_return error_response(change.error());
               auto s = co_await inbox.set_settings(ctx.user, *id, std::move(*change));
               if (!s) co_return error_response(s.error());
               json::object out;
               out["settings"] = codec::to_json(*s);
               co_return json_response(200, out);
             });

  router.add(Method::get, "/messages/{id}/receipts", Access::authenticated,
             [&inbox](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "id");
               if (!id) co_return error_response(id.error());
               auto list = co_await inbox.receipts(ctx.user, *id);
               if (!list) co_return error_response(list.error());
               json::array items;
               for (const auto& r : *list) {
                 json::object o;
                 o["user_id"] = r.user_id;
                 o["status"] = r.status;
                 o["delivered_at"] = codec::nullable(r.delivered_at);
                 o["read_at"] = codec::nullable(r.read_at);
                 items.push_back(std::move(o));
               }
               json::object body;
               body["receipts"] = std::move(items);
               co_return json_response(200, body);
             });

  router.add(Method::get, "/messages", Access::authenticated,
             [&inbox](RequestContext& ctx) -> awaitable<Response> {
               auto parsed = parse_history(ctx.request);
               if (!parsed) co_return error_response(parsed.error());
               auto page = co_await inbox.history(ctx.user, parsed->ref, parsed->query);
               if (!page) co_return error_response(page.error());
               co_return history_response(*page);
             });
}

}  // namespace chatd::http
