#include "http/account_handlers.hpp"

#include <boost/json/serialize.hpp>

#include "codec/entities.hpp"
#include "http/errors.hpp"
#include "http/inbox_handlers.hpp"
#include "http/json_body.hpp"

namespace chatd::http {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

// GET /users/me/export: {"user", "devices", "blocks", "conversations", "messages"} written as
// it is read — the conversations a page of 100 at a time, the messages 500 at a time — so a
// user with a million messages costs chatd no more memory than one with ten.
class ExportStream final : public BodyStream {
 public:
  ExportStream(auth::AccountService& accounts, InboxService& inbox, BlockService& blocks,
               UserId user)
      : accounts_(accounts), inbox_(inbox), blocks_(blocks), user_(user) {}
  ~ExportStream() override { accounts_.end_export(user_); }

  awaitable<Result<std::optional<std::string>>> next() override {
    switch (stage_) {
      case Stage::head: {
        auto u = co_await accounts_.get(user_);
        if (!u) co_return u.error();
        auto devices = co_await accounts_.devices(user_);
        if (!devices) co_return devices.error();
        json::array list;
        for (const auto& [platform, token] : *devices) {
          json::object d;
          d["platform"] = platform;
          d["token"] = token;
          list.push_back(std::move(d));
        }
        auto blocked = co_await blocks_.list(user_);
        if (!blocked) co_return blocked.error();
        json::array blocks;
        for (const auto& b : *blocked) blocks.push_back(codec::to_json(b, false));
        stage_ = Stage::conversations;
        co_return "{\"user\":" + json::serialize(codec::to_json(*u, true)) +
            ",\"devices\":" + json::serialize(list) + ",\"blocks\":" + json::serialize(blocks) +
            ",\"conversations\":[";
      }
      case Stage::conversations: {
        // The inbox, then the archived ones, each page by page.
        auto page = co_await inbox_.conversations(user_, before_, kConversationPage, archived_);
        if (!page) co_return page.error();
        std::string out;
        for (const auto& s : *page) {
          if (!first_) out += ',';
          first_ = false;
          out += json::serialize(summary_json(s));
        }
        before_ = next_inbox_cursor(*page, kConversationPage);
        if (!before_ && !archived_) {
          archived_ = true;
        } else if (!before_) {
          stage_ = Stage::messages;
          first_ = true;
          out += "],\"messages\":[";
        }
        co_return out;
      }
      case Stage::messages: {
        auto page = co_await accounts_.sent_messages(user_, after_, kMessagePage);
        if (!page) co_return page.error();
        std::string out;
        for (const auto& m : *page) {
          if (!first_) out += ',';
          first_ = false;
          out += json::serialize(codec::to_json(m));
        }
        if (!page->empty()) after_ = page->back().id;
        if (static_cast<int>(page->size()) < kMessagePage) {
          stage_ = Stage::done;
          out += "]}";
        }
        co_return out;
      }
      case Stage::done:
        break;
    }
    co_return std::optional<std::string>{};
  }

 private:
  static constexpr int kConversationPage = 100;
  static constexpr int kMessagePage = 500;
  enum class Stage { head, conversations, messages, done };
  auth::AccountService& accounts_;
  InboxService& inbox_;
  BlockService& blocks_;
  UserId user_;
  Stage stage_ = Stage::head;
  bool first_ = true;
  std::optional<std::string> before_;
  bool archived_ = false;
  MessageId after_ = 0;
};

Result<auth::ReportTarget> report_target(const json::object& body) {
  auth::ReportTarget t;
  if (body.contains("message_id")) {
    auto id = required_id(body, "message_id");
    if (!id) return id.error();
    t.message = *id;
  }
  if (body.contains("user_id")) {
    auto id = required_id(body, "user_id");
    if (!id) return id.error();
    t.user = *id;
  }
  return t;
}

}  // namespace

json::object to_json(const Report& r) {
  json::object o;
  o["id"] = r.id;
  o["status"] = r.resolved ? "resolved" : "open";
  o["reporter_id"] = r.reporter_id;
  o["user_id"] = r.user_id;
  if (r.message)
    o["message"] = json::object{{"id", r.message->id},
                                {"conversation_id", r.message->conversation_id},
                                {"sender_id", r.message->sender_id},
                                {"content", r.message->content},
                                {"created_at", r.message->created_at}};
  else
    o["message"] = nullptr;
  o["reason"] = r.reason;
  o["created_at"] = r.created_at;
  o["resolved_at"] = codec::nullable(r.resolved_at);
  o["note"] = codec::nullable(r.note);
  return o;
}

void add_account_routes(Router& router, auth::AccountService& accounts, InboxService& inbox,
                        auth::ModerationService& moderation, BlockService& blocks) {
  router.add(Method::post, "/users/me/blocks", Access::authenticated,
             [&blocks](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto id = required_id(*body, "user_id");
               if (!id) co_return error_response(id.error());
               auto done = co_await blocks.block(ctx.user, *id);
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });
  router.add(Method::del, "/users/me/blocks/{user_id}", Access::authenticated,
             [&blocks](RequestContext& ctx) -> awaitable<Response> {
               auto id = parse_id(ctx.params[0], "user_id");
               if (!id) co_return error_response(id.error());
               auto done = co_await blocks.unblock(ctx.user, *id);
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });
  router.add(Method::get, "/users/me/blocks", Access::authenticated,
             [&blocks](RequestContext& ctx) -> awaitable<Response> {
               auto list = co_await blocks.list(ctx.user);
               if (!list) co_return error_response(list.error());
               json::array users;
               for (const auto& u : *list) users.push_back(codec::to_json(u, false));
               json::object body;
               body["users"] = std::move(users);
               co_return json_response(200, body);
             });

  router.add(Method::del, "/users/me", Access::authenticated,
             [&accounts](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto password = required_string(*body, "password");
               if (!password) co_return error_response(password.error());
               auto done = co_await accounts.delete_own(ctx.user, std::move(*password));
               if (!done) co_return error_response(done.error());
               co_return no_content();
             });

  router.add(Method::get, "/users/me/export", Access::authenticated,
             [&accounts, &inbox, &blocks](RequestContext& ctx) -> awaitable<Response> {
               if (!accounts.begin_export(ctx.user)) {
                 Error e = make_error(errc::rate_limited, "an export is already running");
                 e.retry_after = 10;
                 co_return error_response(e);
               }
               Response r;
               r.stream = std::make_shared<ExportStream>(accounts, inbox, blocks, ctx.user);
               r.headers.emplace_back("Content-Disposition",
                                      "attachment; filename=\"chatd-export.json\"");
               r.headers.emplace_back("Cache-Control", "no-store");
               co_return r;
             });

  router.add(Method::post, "/reports", Access::authenticated,
             [&moderation](RequestContext& ctx) -> awaitable<Response> {
               auto body = parse_object(ctx.request.body);
               if (!body) co_return error_response(body.error());
               auto target = report_target(*body);
               if (!target) co_return error_response(target.error());
               auto reason = required_string(*body, "reason");
               if (!reason) co_return error_response(reason.error());
               auto r = co_await moderation.report(ctx.user, *target, std::move(*reason));
               if (!r) co_return error_response(r.error());
               json::object out;
               out["report"] = to_json(*r);
               co_return json_response(201, out);
             });
}

}  // namespace chatd::http
