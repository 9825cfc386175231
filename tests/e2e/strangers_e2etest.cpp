// Running chatd for strangers (PROTOCOL §10) against the real binary: the operator's shell
// commands, roles, the admin API (suspension, deletion, messages, invites, reports, stats, the
// audit log), registration policies, leaving for good and the data export.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/server_process.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// `chatd admin ARGS` as the operator runs it, `input` on its standard input.
CommandResult chatd_admin(const std::string& database_url, const std::string& args,
                          const std::string& input = "") {
  const auto in_path = fs::temp_directory_path() / ("chatd-admin-in-" + std::to_string(getpid()));
  {
    std::ofstream in(in_path);
    in << input;
  }
  const std::string cmd = "env CHATD_DATABASE_URL='" + database_url +
                          "' CHATD_BCRYPT_COST=4 " CHATD_BINARY " admin " + args + " <" +
                          in_path.string() + " 2>&1";
  auto out = run_command(cmd);
  fs::remove(in_path);
  return out;
}

std::size_t lines_of(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

HttpResult login(std::uint16_t port, const std::string& email, const std::string& password) {
  return http_request(port, "POST", "/auth/login",
                      json_body({{"email", email}, {"password", password}}));
}

json::value dm(std::int64_t to, const std::string& content, const std::string& cid) {
  return json::object{{"type", "send_message"}, {"to", to}, {"content", content},
                      {"client_id", cid}};
}

// A user made an admin the operator's way.
Registered make_admin(std::uint16_t port, const std::string& db, const std::string& name) {
  auto u = must_register(port, name);
  auto r = chatd_admin(db, "promote " + name + "@example.com");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return u;
}

class StrangersE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("strangers"); }
  static std::string db() { return db_->conninfo(); }
};

TEST_F(StrangersE2E, TheOperatorPromotesDemotesAndCreatesFromTheShell) {
  auto u = must_register(port(), "op_user");
  auto unknown = chatd_admin(db(), "promote nobody@example.com");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("nobody@example.com"), std::string::npos) << unknown.output;

  auto up = chatd_admin(db(), "promote OP_USER@example.com");
  EXPECT_EQ(up.exit_code, 0) << up.output;
  EXPECT_EQ(lines_of(up.output), 1u) << up.output;
  auto me = http_request(port(), "GET", "/users/me", "", u.token);
  EXPECT_EQ(me.json.at("user").at("role"), "admin") << "one's own record says the role";
  EXPECT_EQ(http_request(port(), "GET", "/admin/stats", "", u.token).status, 200);
  auto other = must_register(port(), "op_other");
  auto seen = http_request(port(), "GET", "/users/" + std::to_string(u.id), "", other.token);
  EXPECT_FALSE(seen.json.at("user").as_object().contains("role")) << "only in one's own record";
  EXPECT_EQ(seen.json.at("user").at("deleted"), false);

  auto down = chatd_admin(db(), "demote op_user@example.com");
  EXPECT_EQ(down.exit_code, 0) << down.output;
  EXPECT_EQ(http_request(port(), "GET", "/admin/stats", "", u.token).status, 403)
      << "a role taken away takes effect at once";

  auto made = chatd_admin(db(), "create op_made op_made@example.com --admin", "long-password-1\n");
  EXPECT_EQ(made.exit_code, 0) << made.output;
  EXPECT_EQ(lines_of(made.output), 1u) << made.output;
  auto in = login(port(), "op_made@example.com", "long-password-1");
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(in.json.at("user").at("role"), "admin");

  auto short_pw = chatd_admin(db(), "create op_short op_short@example.com", "short\n");
  EXPECT_EQ(short_pw.exit_code, 1);
  EXPECT_NE(short_pw.output.find("password"), std::string::npos) << short_pw.output;
  auto dup = chatd_admin(db(), "create op_made2 op_made@example.com", "long-password-1\n");
  EXPECT_EQ(dup.exit_code, 1) << dup.output;
  EXPECT_EQ(chatd_admin(db(), "create op_bad", "long-password-1\n").exit_code, 1) << "usage";
  EXPECT_EQ(chatd_admin(db(), "frobnicate x").exit_code, 1);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM users WHERE email = 'op_short@example.com'"), "0");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM admin_audit WHERE admin_id IS NULL AND action IN"
                        " ('promote', 'demote', 'create_user')"),
            "3")
      << "the shell's actions are in the audit log";
}

TEST_F(StrangersE2E, NonAdminsGet403OnEveryAdminRouteWhateverTheTarget) {
  auto u = must_register(port(), "na_user");
  auto victim = must_register(port(), "na_victim");
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/admin/users?q=na"},
      {"POST", "/admin/users"},
      {"POST", "/admin/users/" + std::to_string(victim.id) + "/suspend"},
      {"POST", "/admin/users/999999999/suspend"},
      {"POST", "/admin/users/" + std::to_string(victim.id) + "/unsuspend"},
      {"DELETE", "/admin/users/" + std::to_string(victim.id)},
      {"DELETE", "/admin/users/999999999"},
      {"DELETE", "/admin/messages/1"},
      {"DELETE", "/admin/messages/999999999"},
      {"POST", "/admin/invites"},
      {"GET", "/admin/reports"},
      {"POST", "/admin/reports/1/resolve"},
      {"POST", "/admin/reports/999999/resolve"},
      {"GET", "/admin/stats"},
  };
  for (const auto& [method, target] : routes) {
    auto r = http_request(port(), method, target, R"({"reason":"x"})", u.token);
    EXPECT_EQ(r.status, 403) << method << " " << target << ": " << r.body;
    EXPECT_EQ(r.error_code(), "forbidden");
    EXPECT_EQ(http_request(port(), method, target).status, 401) << "no token: " << target;
  }
  EXPECT_EQ(login(port(), "na_victim@example.com", "password-na_victim").status, 200)
      << "nothing happened to the target";
}

TEST_F(StrangersE2E, SuspensionClosesWith4003RefusesTokensAndLoginAndSurvivesARestart) {
  auto admin = make_admin(port(), db(), "su_admin");
  auto u = must_register(port(), "su_user");
  WsClient a(port(), u.token), b(port(), u.token);
  a.next_of("ready");
  b.next_of("ready");

  const auto t0 = std::chrono::steady_clock::now();
  auto r = http_request(port(), "POST", "/admin/users/" + std::to_string(u.id) + "/suspend",
                        R"({"reason":"spam"})", admin.token);
  ASSERT_EQ(r.status, 204) << r.body;
  for (auto* c : {&a, &b}) {
    auto code = c->wait_closed(2s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 4003);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "closed within a second";
  EXPECT_EQ(http_request(port(), "GET", "/users/me", "", u.token).status, 401);
  EXPECT_EQ(upgrade_status(port(), "/ws?token=" + u.token), 401);
  auto in = login(port(), "su_user@example.com", "password-su_user");
  EXPECT_EQ(in.status, 403);
  EXPECT_EQ(in.error_code(), "forbidden");
  EXPECT_EQ(login(port(), "su_user@example.com", "wrong-password").status, 401)
      << "a wrong password does not learn of the suspension";

  auto found = http_request(port(), "GET", "/admin/users?q=su_user", "", admin.token);
  ASSERT_EQ(found.status, 200);
  ASSERT_EQ(found.json.at("users").as_array().size(), 1u);
  EXPECT_EQ(found.json.at("users").at(0).at("suspended"), true);

  EXPECT_NE(server_->log().find("audit: admin " + std::to_string(admin.id) + " suspend"),
            std::string::npos)
      << "the audit line is in the server log too";
  server_->stop();
  server_->start();
  EXPECT_EQ(login(port(), "su_user@example.com", "password-su_user").status, 403)
      << "the suspension survives a restart";
  EXPECT_EQ(http_request(port(), "GET", "/users/me", "", u.token).status, 401)
      << "and so does the end of its tokens";

  EXPECT_EQ(http_request(port(), "POST", "/admin/users/" + std::to_string(u.id) + "/unsuspend",
                         "", admin.token)
                .status,
            204);
  auto back = login(port(), "su_user@example.com", "password-su_user");
  ASSERT_EQ(back.status, 200);
  EXPECT_EQ(http_request(port(), "GET", "/users/me", "",
                         std::string(back.json.at("token").as_string()))
                .status,
            200);
  EXPECT_EQ(db_->scalar("SELECT string_agg(action, ',' ORDER BY id) FROM admin_audit"
                        " WHERE target_user = " + std::to_string(u.id)),
            "suspend,unsuspend");
}

TEST_F(StrangersE2E, SuspendAndOtherAdminRoutesRefuseBadInput) {
  auto admin = make_admin(port(), db(), "bi_admin");
  auto u = must_register(port(), "bi_user");
  const auto suspend = "/admin/users/" + std::to_string(u.id) + "/suspend";
  for (const std::string body :
       {"", "{}", R"({"reason":""})", R"({"reason":5})", "[1]", R"({"reason":"a\u0000b"})"}) {
    auto r = http_request(port(), "POST", suspend, body, admin.token);
    EXPECT_EQ(r.status, 400) << body << ": " << r.body;
    EXPECT_EQ(r.error_code(), "invalid_input");
  }
  EXPECT_EQ(http_request(port(), "POST", suspend,
                         json_body({{"reason", std::string(501, 'x')}}), admin.token)
                .status,
            400);
  EXPECT_EQ(http_request(port(), "POST", "/admin/users/999999999/suspend", R"({"reason":"x"})",
                         admin.token)
                .status,
            404);
  EXPECT_EQ(http_request(port(), "POST", "/admin/users/abc/suspend", R"({"reason":"x"})",
                         admin.token)
                .status,
            400);
  EXPECT_EQ(http_request(port(), "POST", "/admin/users/" + std::to_string(admin.id) + "/suspend",
                         R"({"reason":"x"})", admin.token)
                .status,
            400)
      << "not oneself";
  EXPECT_EQ(login(port(), "bi_user@example.com", "password-bi_user").status, 200)
      << "nothing was suspended";
  for (const std::string body :
       {R"({"max_uses":0,"expires_in_seconds":3600})", R"({"max_uses":1001,"expires_in_seconds":3600})",
        R"({"max_uses":1,"expires_in_seconds":59})", R"({"max_uses":1,"expires_in_seconds":2592001})",
        R"({"max_uses":"1","expires_in_seconds":3600})", R"({"max_uses":1.5,"expires_in_seconds":3600})",
        R"({"expires_in_seconds":3600})"}) {
    EXPECT_EQ(http_request(port(), "POST", "/admin/invites", body, admin.token).status, 400)
        << body;
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM invites"), "0");
  EXPECT_EQ(http_request(port(), "GET", "/admin/users?limit=0", "", admin.token).status, 400);
  EXPECT_EQ(http_request(port(), "GET", "/admin/users?after=x", "", admin.token).status, 400);
  EXPECT_EQ(http_request(port(), "GET", "/admin/reports?status=all", "", admin.token).status, 400);
  EXPECT_EQ(http_request(port(), "POST", "/admin/users", R"({"username":"bi_x"})", admin.token)
                .status,
            400);
  EXPECT_EQ(http_request(port(), "DELETE", "/admin/users/999999999", "", admin.token).status, 404);
  EXPECT_EQ(http_request(port(), "DELETE", "/admin/messages/999999999", "", admin.token).status,
            404);
}

TEST_F(StrangersE2E, AdminsFindUsersPageByPageAndCreateAccounts) {
  auto admin = make_admin(port(), db(), "fi_admin");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(must_register(port(), numbered("fi_person", i)).id);
  auto page1 = http_request(port(), "GET", "/admin/users?q=FI_PERSON&limit=3", "", admin.token);
  ASSERT_EQ(page1.status, 200) << page1.body;
  const auto& first = page1.json.at("users").as_array();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].at("id").as_int64(), ids[0]);
  for (const char* field : {"id", "username", "email", "role", "created_at", "last_seen",
                            "is_online", "suspended"})
    EXPECT_TRUE(first[0].as_object().contains(field)) << field;
  auto page2 = http_request(port(), "GET",
                            "/admin/users?q=fi_person&limit=3&after=" +
                                std::to_string(first[2].at("id").as_int64()),
                            "", admin.token);
  ASSERT_EQ(page2.json.at("users").as_array().size(), 2u);
  EXPECT_EQ(page2.json.at("users").at(1).at("id").as_int64(), ids[4]);
  auto by_email = http_request(port(), "GET", "/admin/users?q=fi_person3%40example", "",
                               admin.token);
  ASSERT_EQ(by_email.json.at("users").as_array().size(), 1u);
  auto none = http_request(port(), "GET", "/admin/users?q=%25", "", admin.token);
  EXPECT_EQ(none.json.at("users").as_array().size(), 0u) << "% is a character, not a wildcard";

  auto made = http_request(port(), "POST", "/admin/users",
                           json_body({{"username", "fi_made"}, {"email", "fi_made@example.com"},
                                      {"password", "long-password-2"}}),
                           admin.token);
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(login(port(), "fi_made@example.com", "long-password-2").status, 200);
  auto dup = http_request(port(), "POST", "/admin/users",
                          json_body({{"username", "fi_made"}, {"email", "fi_other@example.com"},
                                     {"password", "long-password-2"}}),
                          admin.token);
  EXPECT_EQ(dup.status, 409);
  auto stats = http_request(port(), "GET", "/admin/stats", "", admin.token);
  ASSERT_EQ(stats.status, 200);
  for (const char* field : {"users", "users_online", "messages", "messages_last_24h",
                            "conversations", "groups", "attachments_bytes"})
    EXPECT_TRUE(stats.json.at(field).is_int64()) << field;
  EXPECT_EQ(std::to_string(stats.json.at("users").as_int64()),
            db_->scalar("SELECT count(*) FROM users WHERE deleted_at IS NULL"));
}

TEST_F(StrangersE2E, ReportsKeepACopyOfTheMessageThatOutlivesItsDeletion) {
  auto admin = make_admin(port(), db(), "re_admin");
  auto a = must_register(port(), "re_alice");
  auto b = must_register(port(), "re_bob");
  auto c = must_register(port(), "re_carol");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  ca.send(dm(b.id, "buy cheap watches", "re-1"));
  const auto mid = ca.next_of("ack").at("message").at("id").as_int64();

  auto hidden = http_request(port(), "POST", "/reports",
                             json_body({{"message_id", mid}, {"reason", "spam"}}), c.token);
  EXPECT_EQ(hidden.status, 404) << "carol cannot see it";
  EXPECT_EQ(http_request(port(), "POST", "/reports",
                         json_body({{"user_id", 999999999}, {"reason", "spam"}}), b.token)
                .status,
            404);
  for (const auto& bad :
       {json_body({{"reason", "spam"}}), json_body({{"message_id", mid}}),
        json_body({{"message_id", mid}, {"user_id", a.id}, {"reason", "spam"}}),
        json_body({{"message_id", mid}, {"reason", ""}}),
        json_body({{"message_id", mid}, {"reason", std::string(501, 'r')}}),
        json_body({{"message_id", "x"}, {"reason", "spam"}}), std::string("{")}) {
    auto r = http_request(port(), "POST", "/reports", bad, b.token);
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
  }
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM reports"), "0");

  auto rep = http_request(port(), "POST", "/reports",
                          json_body({{"message_id", mid}, {"reason", "spam"}}), b.token);
  ASSERT_EQ(rep.status, 201) << rep.body;
  const auto& report = rep.json.at("report");
  EXPECT_EQ(report.at("status"), "open");
  EXPECT_EQ(report.at("reporter_id").as_int64(), b.id);
  EXPECT_EQ(report.at("user_id").as_int64(), a.id);
  EXPECT_EQ(report.at("message").at("content"), "buy cheap watches");
  EXPECT_TRUE(report.at("resolved_at").is_null());
  auto user_rep = http_request(port(), "POST", "/reports",
                               json_body({{"user_id", a.id}, {"reason", "a spammer"}}), c.token);
  ASSERT_EQ(user_rep.status, 201);
  EXPECT_TRUE(user_rep.json.at("report").at("message").is_null());

  ca.send(json::object{{"type", "delete_message"}, {"message_id", mid}});
  ca.next_of("message_updated");
  auto open = http_request(port(), "GET", "/admin/reports?status=open", "", admin.token);
  ASSERT_EQ(open.status, 200);
  const auto& list = open.json.at("reports").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("id"), report.at("id")) << "oldest first";
  EXPECT_EQ(list[0].at("message").at("content"), "buy cheap watches")
      << "the copy outlives the deletion";

  const auto resolve = "/admin/reports/" + std::to_string(report.at("id").as_int64()) + "/resolve";
  EXPECT_EQ(http_request(port(), "POST", resolve, R"({"note":"warned"})", admin.token).status, 204);
  EXPECT_EQ(http_request(port(), "POST", resolve, R"({"note":"again"})", admin.token).status, 404)
      << "resolved already";
  EXPECT_EQ(http_request(port(), "POST", "/admin/reports/999999/resolve", "{}", admin.token).status,
            404);
  auto resolved = http_request(port(), "GET", "/admin/reports?status=resolved", "", admin.token);
  ASSERT_EQ(resolved.json.at("reports").as_array().size(), 1u);
  EXPECT_EQ(resolved.json.at("reports").at(0).at("note"), "warned");
  EXPECT_FALSE(resolved.json.at("reports").at(0).at("resolved_at").is_null());
  EXPECT_EQ(http_request(port(), "GET", "/admin/reports", "", admin.token)
                .json.at("reports")
                .as_array()
                .size(),
            1u)
      << "open by default";
}

TEST_F(StrangersE2E, AnAdminDeletesAnyMessageForEveryone) {
  auto admin = make_admin(port(), db(), "dm_admin");
  auto a = must_register(port(), "dm_alice");
  auto b = must_register(port(), "dm_bob");
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(dm(b.id, "something awful", "dm-1"));
  const auto mid = ca.next_of("ack").at("message").at("id").as_int64();
  cb.next_of("message");
  ASSERT_EQ(http_request(port(), "DELETE", "/admin/messages/" + std::to_string(mid), "",
                         admin.token)
                .status,
            204);
  for (auto* c : {&ca, &cb}) {
    auto up = c->next_of("message_updated");
    EXPECT_EQ(up.at("message").at("deleted"), true);
    EXPECT_EQ(up.at("message").at("content"), "");
  }
  EXPECT_EQ(db_->scalar("SELECT content FROM messages WHERE id = " + std::to_string(mid)), "");
  EXPECT_EQ(db_->scalar("SELECT target FROM admin_audit WHERE action = 'delete_message'"),
            "message " + std::to_string(mid));
}

TEST_F(StrangersE2E, LeavingForGoodErasesWhatTheUserSentAndFreesTheirNames) {
  auto a = must_register(port(), "lv_alice");
  auto b = must_register(port(), "lv_bob");
  auto c = must_register(port(), "lv_carol");
  // A group alice made (she is its only admin), with bob (who joined before carol) and carol.
  auto g = http_request(port(), "POST", "/groups",
                        json_body({{"name", "lv group"}, {"members", json::array{b.id}}}), a.token);
  ASSERT_EQ(g.status, 201) << g.body;
  const auto gid = g.json.at("group").at("id").as_int64();
  std::this_thread::sleep_for(20ms);
  ASSERT_EQ(http_request(port(), "POST", "/groups/" + std::to_string(gid) + "/members",
                         json_body({{"user_id", c.id}}), a.token)
                .status,
            200);
  auto up = http_request(port(), "POST", "/attachments?filename=secret.txt",
                         "alice's private notes", a.token);
  ASSERT_EQ(up.status, 201) << up.body;
  const auto att = up.json.at("attachment");
  const auto file = fs::path(server_->data_dir()) / "attachments" / std::string(att.at("sha256").as_string()).substr(0, 2) /
                    std::string(att.at("sha256").as_string());
  ASSERT_TRUE(fs::exists(file));

  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(json::object{{"type", "send_message"}, {"to", b.id}, {"content", "hello bob"},
                       {"attachment_ids", json::array{att.at("id")}}});
  const auto m1 = ca.next_of("ack").at("message").at("id").as_int64();
  ca.send(json::object{{"type", "send_message"}, {"group_id", gid}, {"content", "hello group"}});
  const auto m2 = ca.next_of("ack").at("message").at("id").as_int64();
  cb.collect("message", 2);
  cb.send(dm(a.id, "hi alice", "lv-b1"));
  cb.next_of("ack");

  EXPECT_EQ(http_request(port(), "DELETE", "/users/me", R"({"password":"wrong-password"})",
                         a.token)
                .status,
            401);
  EXPECT_EQ(http_request(port(), "DELETE", "/users/me", "{}", a.token).status, 400);
  EXPECT_EQ(db_->scalar("SELECT deleted_at IS NULL FROM users WHERE id = " + std::to_string(a.id)),
            "t")
      << "nothing deleted by a refused request";

  ASSERT_EQ(http_request(port(), "DELETE", "/users/me", R"({"password":"password-lv_alice"})",
                         a.token)
                .status,
            204);
  auto code = ca.wait_closed(2s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 4001);
  auto updates = cb.collect("message_updated", 2, 5s);
  ASSERT_EQ(updates.size(), 2u) << "bob is told of both of alice's messages";
  std::set<std::int64_t> erased;
  for (const auto& u : updates) {
    EXPECT_EQ(u.at("message").at("deleted"), true);
    EXPECT_EQ(u.at("message").at("content"), "");
    EXPECT_EQ(u.at("message").at("attachments").as_array().size(), 0u);
    erased.insert(u.at("message").at("id").as_int64());
  }
  EXPECT_EQ(erased, (std::set<std::int64_t>{m1, m2}));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE sender_id = " + std::to_string(a.id) +
                        " AND (content <> '' OR deleted_at IS NULL)"),
            "0");
  EXPECT_EQ(db_->scalar("SELECT content FROM messages WHERE sender_id = " + std::to_string(b.id)),
            "hi alice")
      << "what others sent stays";
  EXPECT_FALSE(fs::exists(file)) << "the file no remaining message uses is removed";
  EXPECT_EQ(http_request(port(), "GET", "/attachments/" + std::to_string(att.at("id").as_int64()),
                         "", b.token)
                .status,
            404);

  auto tomb = http_request(port(), "GET", "/users/" + std::to_string(a.id), "", b.token);
  ASSERT_EQ(tomb.status, 200);
  EXPECT_EQ(tomb.json.at("user").at("deleted"), true);
  EXPECT_EQ(tomb.json.at("user").at("username").as_string(), "deleted-" + std::to_string(a.id));
  EXPECT_EQ(http_request(port(), "GET", "/users?username=lv_alice", "", b.token)
                .json.at("users")
                .as_array()
                .size(),
            0u);
  EXPECT_EQ(login(port(), "lv_alice@example.com", "password-lv_alice").status, 401);
  EXPECT_EQ(http_request(port(), "GET", "/users/me", "", a.token).status, 401);

  auto group = http_request(port(), "GET", "/groups/" + std::to_string(gid), "", b.token);
  ASSERT_EQ(group.status, 200);
  const auto& members = group.json.at("group").at("members").as_array();
  ASSERT_EQ(members.size(), 2u) << "alice left the group";
  for (const auto& m : members)
    EXPECT_EQ(m.at("role"), m.at("user_id").as_int64() == b.id ? "admin" : "member")
        << "the longest-standing member became admin";

  auto again = register_user(port(), "lv_alice", "lv_alice@example.com", "password-new-1");
  EXPECT_EQ(again.status, 201) << "email and username are free again: " << again.body;
  auto inbox = http_request(port(), "GET", "/conversations", "", b.token);
  bool saw_tombstone = false;
  for (const auto& s : inbox.json.at("conversations").as_array())
    if (!s.at("peer").is_null() && s.at("peer").at("id").as_int64() == a.id)
      saw_tombstone = s.at("peer").at("deleted").as_bool();
  EXPECT_TRUE(saw_tombstone) << "bob's conversation shows the tombstone";
  EXPECT_EQ(http_request(port(), "DELETE", "/users/me", R"({"password":"password-lv_alice"})",
                         a.token)
                .status,
            401)
      << "a deleted account's token is void";
}

TEST_F(StrangersE2E, AnAdminDeletesAnAccountLikeItsOwner) {
  auto admin = make_admin(port(), db(), "ad_admin");
  auto u = must_register(port(), "ad_user");
  WsClient cu(port(), u.token);
  cu.next_of("ready");
  ASSERT_EQ(http_request(port(), "DELETE", "/admin/users/" + std::to_string(u.id), "",
                         admin.token)
                .status,
            204);
  auto code = cu.wait_closed(2s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 4001);
  EXPECT_EQ(login(port(), "ad_user@example.com", "password-ad_user").status, 401);
  EXPECT_EQ(http_request(port(), "DELETE", "/admin/users/" + std::to_string(u.id), "",
                         admin.token)
                .status,
            404)
      << "deleted already";
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM admin_audit WHERE action = 'delete_user'"
                        " AND target_user = " + std::to_string(u.id)),
            "1");
}

TEST_F(StrangersE2E, ADeletionCutHalfWayIsFinishedAfterARestart) {
  auto a = must_register(port(), "half_alice");
  auto b = must_register(port(), "half_bob");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  for (int i = 0; i < 5; ++i) {
    ca.send(dm(b.id, numbered("note ", i), numbered("half-", i)));
    ca.next_of("ack");
  }
  ca.close();
  server_->stop();
  // What the first step of a deletion commits, as if chatd had died right after it.
  db_->scalar("UPDATE users SET username = 'deleted-' || id, email = 'deleted-' || id,"
              " password_hash = '!', deleted_at = now() WHERE id = " + std::to_string(a.id));
  server_->start();
  for (int i = 0; i < 100 && db_->scalar("SELECT erased_at IS NOT NULL FROM users WHERE id = " +
                                         std::to_string(a.id)) != "t";
       ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM messages WHERE sender_id = " + std::to_string(a.id) +
                        " AND content <> ''"),
            "0")
      << "the erasure was resumed at start";
}

TEST_F(StrangersE2E, TheExportHoldsEverythingTheUserSentOldestFirst) {
  auto a = must_register(port(), "ex_alice");
  auto b = must_register(port(), "ex_bob");
  EXPECT_EQ(http_request(port(), "POST", "/devices",
                         json_body({{"platform", "fcm"}, {"token", "ex-device-1"}}), a.token)
                .status,
            201);
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  for (int i = 0; i < 3; ++i) {
    ca.send(dm(b.id, numbered("export me ", i), numbered("ex-", i)));
    ca.next_of("ack");
  }
  // An archived conversation is exported too.
  auto other = must_register(port(), "ex_cat");
  ca.send(dm(other.id, "archived one", "ex-arch"));
  const auto archived_conv = ca.next_of("ack").at("message").at("conversation_id").as_int64();
  ASSERT_EQ(http_request(port(), "PUT", "/conversations/" + std::to_string(archived_conv) + "/settings",
                         R"({"archived":true})", a.token).status, 200);
  auto r = http_request(port(), "GET", "/users/me/export", "", a.token);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.headers["content-disposition"].find("attachment"), std::string::npos);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked") << "streamed as it is read";
  ASSERT_TRUE(r.json.is_object()) << r.body;
  EXPECT_EQ(r.json.at("user").at("id").as_int64(), a.id);
  EXPECT_EQ(r.json.at("user").at("email"), "ex_alice@example.com");
  EXPECT_EQ(r.json.at("devices").at(0).at("token"), "ex-device-1");
  EXPECT_TRUE(r.json.at("blocks").is_array());
  ASSERT_EQ(r.json.at("conversations").as_array().size(), 2u) << "archived ones included";
  const auto& msgs = r.json.at("messages").as_array();
  ASSERT_EQ(msgs.size(), 4u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(msgs[static_cast<std::size_t>(i)].at("content").as_string(),
              numbered("export me ", i));
  auto bob = http_request(port(), "GET", "/users/me/export", "", b.token);
  EXPECT_EQ(bob.json.at("messages").as_array().size(), 0u) << "only what the user sent";
  EXPECT_EQ(http_request(port(), "GET", "/users/me/export").status, 401);
}

TEST_F(StrangersE2E, ASecondExportWhileOneRunsIs429) {
  auto a = must_register(port(), "ex2_alice");
  auto b = must_register(port(), "ex2_bob");
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  ca.send(dm(b.id, "first", "ex2-first"));
  ca.next_of("ack");
  // Enough rows that the export fills the socket buffers of a client that does not read.
  db_->scalar("INSERT INTO messages (conversation_id, seq, sender_id, content)"
              " SELECT c.id, c.last_seq + g, " + std::to_string(a.id) + ", repeat('x', 4000)"
              " FROM conversations c, generate_series(1, 6000) g WHERE c.type = 'direct'"
              " AND c.user_lo = " + std::to_string(std::min(a.id, b.id)) +
              " AND c.user_hi = " + std::to_string(std::max(a.id, b.id)));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string req = "GET /users/me/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          a.token + "\r\n\r\n";
  ASSERT_EQ(::write(fd, req.data(), req.size()), static_cast<ssize_t>(req.size()));
  std::this_thread::sleep_for(500ms);
  auto second = http_request(port(), "GET", "/users/me/export", "", a.token);
  EXPECT_EQ(second.status, 429);
  EXPECT_FALSE(second.headers["retry-after"].empty());
  EXPECT_EQ(http_request(port(), "GET", "/users/me/export", "", b.token).status, 200)
      << "another user's export is not held up";
  ::close(fd);
  bool allowed = false;
  for (int i = 0; i < 100 && !allowed; ++i) {
    std::this_thread::sleep_for(100ms);
    allowed = http_request(port(), "GET", "/users/me/export", "", a.token).status == 200;
  }
  EXPECT_TRUE(allowed) << "once the first export ends, another may run";
}

// Registration policies: each suite its own server.
class InviteOnlyE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("invite", {{"CHATD_REGISTRATION", "invite"}}); }
};

HttpResult register_with(std::uint16_t port, const std::string& name, const std::string& code) {
  json::object body{{"username", name}, {"email", name + "@example.com"},
                    {"password", "password-" + name}};
  if (!code.empty()) body["invite_code"] = code;
  return http_request(port, "POST", "/auth/register", json_body(body));
}

TEST_F(InviteOnlyE2E, RegistrationNeedsAnInviteThatIsUsedUpAtItsLimit) {
  auto made = chatd_admin(db_->conninfo(), "create inv_admin inv_admin@example.com --admin",
                          "long-password-3\n");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const auto admin = std::string(
      login(port(), "inv_admin@example.com", "long-password-3").json.at("token").as_string());

  EXPECT_EQ(register_with(port(), "inv_none", "").status, 403);
  EXPECT_EQ(register_with(port(), "inv_bad", "not-a-real-code").status, 403);
  auto inv = http_request(port(), "POST", "/admin/invites",
                          R"({"max_uses":1,"expires_in_seconds":3600})", admin);
  ASSERT_EQ(inv.status, 201) << inv.body;
  const auto code = std::string(inv.json.at("invite").at("code").as_string());
  EXPECT_EQ(inv.json.at("invite").at("uses").as_int64(), 0);
  EXPECT_FALSE(inv.json.at("invite").at("expires_at").as_string().empty());

  // Two registrations with the last use at the same instant: one is admitted.
  HttpResult r1, r2;
  std::thread t1([&] { r1 = register_with(port(), "inv_one", code); });
  std::thread t2([&] { r2 = register_with(port(), "inv_two", code); });
  t1.join();
  t2.join();
  EXPECT_EQ((r1.status == 201) + (r2.status == 201), 1) << r1.body << " / " << r2.body;
  EXPECT_EQ((r1.status == 403) + (r2.status == 403), 1);
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM users WHERE username IN ('inv_one', 'inv_two')"),
            "1")
      << "nothing created for the refused one";
  EXPECT_EQ(db_->scalar("SELECT uses FROM invites WHERE code = '" + code + "'"), "1");

  auto inv2 = http_request(port(), "POST", "/admin/invites",
                           R"({"max_uses":5,"expires_in_seconds":3600})", admin);
  const auto code2 = std::string(inv2.json.at("invite").at("code").as_string());
  EXPECT_EQ(register_with(port(), "inv_three", code2).status, 201);
  auto dup = register_with(port(), "inv_three", code2);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(db_->scalar("SELECT uses FROM invites WHERE code = '" + code2 + "'"), "1")
      << "a refused registration takes no use";
  db_->scalar("UPDATE invites SET expires_at = now() - interval '1 second' WHERE code = '" +
              code2 + "'");
  EXPECT_EQ(register_with(port(), "inv_four", code2).status, 403) << "expired";
}

class ClosedE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("closed", {{"CHATD_REGISTRATION", "closed"}}); }
};

TEST_F(ClosedE2E, OnlyAdminsCreateAccounts) {
  auto r = register_user(port(), "cl_user", "cl_user@example.com", "password-cl_user");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.error_code(), "forbidden");
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM users"), "0");
  ASSERT_EQ(chatd_admin(db_->conninfo(), "create cl_admin cl_admin@example.com --admin",
                        "long-password-4\n")
                .exit_code,
            0);
  const auto admin = std::string(
      login(port(), "cl_admin@example.com", "long-password-4").json.at("token").as_string());
  auto made = http_request(port(), "POST", "/admin/users",
                           json_body({{"username", "cl_user"}, {"email", "cl_user@example.com"},
                                      {"password", "password-cl_user"}}),
                           admin);
  EXPECT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(login(port(), "cl_user@example.com", "password-cl_user").status, 200);
}

}  // namespace
}  // namespace chatd::test
