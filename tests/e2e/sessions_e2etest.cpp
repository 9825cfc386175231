// Sessions that can be ended (PROTOCOL §2): logout ends the presented token, a password change
// every other one; ended tokens are refused on every route, their WebSockets closed with 4001
// within a second, and they stay ended after a restart.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "e2e/e2e_fixture.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class SessionsE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() { start_server("sessions"); }
};

std::string login(std::uint16_t port, const std::string& name, const std::string& password) {
  auto r = http_request(port, "POST", "/auth/login",
                        json_body({{"email", name + "@example.com"}, {"password", password}}));
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? std::string(r.json.at("token").as_string()) : "";
}

int me(std::uint16_t port, const std::string& token) {
  return http_request(port, "GET", "/users/me", "", token).status;
}

TEST_F(SessionsE2E, LogoutEndsThePresentedTokenOnlyAndClosesItsWebSocketsWith4001) {
  auto u = must_register(port(), "out_a");
  const auto other = login(port(), "out_a", "password-out_a");
  WsClient ended(port(), u.token), kept(port(), other);
  ended.next_of("ready");
  kept.next_of("ready");

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(http_request(port(), "POST", "/auth/logout", "", u.token).status, 204);
  auto code = ended.wait_closed(2s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 4001);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "closed within a second";

  EXPECT_EQ(me(port(), u.token), 401) << "refused on every route";
  EXPECT_EQ(http_request(port(), "GET", "/conversations", "", u.token).status, 401);
  EXPECT_EQ(http_request(port(), "POST", "/auth/logout", "", u.token).status, 401);
  EXPECT_THROW(WsClient(port(), u.token), std::exception) << "no new WebSocket with it";
  EXPECT_EQ(me(port(), other), 200) << "the user's other token is untouched";
  kept.send(R"({"type":"ping"})");
  EXPECT_NO_THROW(kept.next_of("pong"));
  EXPECT_EQ(db_->scalar("SELECT count(*) FROM revoked_tokens WHERE user_id = " +
                        std::to_string(u.id)),
            "1");
}

TEST_F(SessionsE2E, APasswordChangeEndsEveryOtherTokenAndKeepsThePresentedOne) {
  auto u = must_register(port(), "pw_a");
  const auto phone = login(port(), "pw_a", "password-pw_a");
  const auto laptop = login(port(), "pw_a", "password-pw_a");
  WsClient on_phone(port(), phone);
  on_phone.next_of("ready");
  auto change = [&](const std::string& current, const std::string& next) {
    return http_request(port(), "PUT", "/users/me/password",
                        json_body({{"current_password", current}, {"new_password", next}}),
                        u.token);
  };
  auto wrong = change("not-my-password", "a-new-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.error_code(), "invalid_credentials");
  EXPECT_EQ(change("password-pw_a", "short").status, 400);
  EXPECT_EQ(http_request(port(), "PUT", "/users/me/password", R"({"current_password":"x"})",
                         u.token).status,
            400);
  EXPECT_EQ(me(port(), phone), 200) << "nothing changed by refused attempts";

  EXPECT_EQ(change("password-pw_a", "a-new-password").status, 204);
  auto code = on_phone.wait_closed(2s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 4001);
  EXPECT_EQ(me(port(), phone), 401);
  EXPECT_EQ(me(port(), laptop), 401);
  EXPECT_EQ(me(port(), u.token), 200) << "the token that changed it stays valid";
  auto old_login = http_request(port(), "POST", "/auth/login",
                                json_body({{"email", "pw_a@example.com"}, {"password", "password-pw_a"}}));
  EXPECT_EQ(old_login.status, 401);
  const auto fresh = login(port(), "pw_a", "a-new-password");
  EXPECT_EQ(me(port(), fresh), 200) << "tokens issued after the change are valid";
}

TEST(SessionsRestartE2E, EndedTokensStayEndedAfterARestart) {
  TestDatabase db("sessions_restart");
  ChatdProcess server(db.conninfo());
  server.start();
  auto u = must_register(server.port(), "rs_a");
  const auto second = login(server.port(), "rs_a", "password-rs_a");
  const auto third = login(server.port(), "rs_a", "password-rs_a");
  EXPECT_EQ(http_request(server.port(), "POST", "/auth/logout", "", second).status, 204);
  EXPECT_EQ(http_request(server.port(), "PUT", "/users/me/password",
                         json_body({{"current_password", "password-rs_a"},
                                    {"new_password", "another-password"}}),
                         u.token)
                .status,
            204);
  EXPECT_EQ(server.stop(), 0);
  server.start();
  EXPECT_EQ(me(server.port(), second), 401) << "logged out before the restart";
  EXPECT_EQ(me(server.port(), third), 401) << "ended by the password change before the restart";
  EXPECT_EQ(me(server.port(), u.token), 200);
}

TEST(RegistrationThrottleE2E, OneAddressMayRegisterOnlySoManyAccountsAnHour) {
  TestDatabase db("register_throttle");
  ChatdProcess server(db.conninfo(), {{"CHATD_REGISTER_MAX_PER_ADDRESS", "3"}});
  server.start();
  for (int i = 0; i < 3; ++i) must_register(server.port(), numbered("rt_", i));
  auto refused = register_user(server.port(), "rt_4", "rt_4@example.com", "password-rt_4");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.error_code(), "rate_limited");
  EXPECT_FALSE(refused.headers["retry-after"].empty());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM users"), "3") << "nothing created";
  for (const auto& r : {refused, http_request(server.port(), "GET", "/healthz")}) {
    EXPECT_EQ(r.headers.at("x-content-type-options"), "nosniff") << "security headers on every answer";
    EXPECT_EQ(r.headers.at("referrer-policy"), "no-referrer");
  }
  // Logins are throttled apart: the registered users still log in.
  EXPECT_EQ(http_request(server.port(), "POST", "/auth/login",
                         json_body({{"email", "rt_0@example.com"}, {"password", "password-rt_0"}}))
                .status,
            200);
}

}  // namespace
}  // namespace chatd::test
