// Sessions that can be ended (PROTOCOL §2): logout ends the presented token, a password change
// every other one; ended tokens are refused on every route, their WebSockets closed with 4001
// within a second, and they stay ended after a restart.
#include <gtest/gtest.h>

#include <thread>

#include <boost/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

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
  ChatdProcess server(db.conninfo(), {{"CHATD_REGISTER_MAX_PER_ADDRESS", "3"},
                                      {"CHATD_LOG_FORMAT", "json"}});
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
  // A request id travels back in the answer and into the log, which is one JSON object a line.
  auto traced = http_request(server.port(), "GET", "/healthz", "", "", {{"X-Request-Id", "trace-42"}});
  EXPECT_EQ(traced.headers["x-request-id"], "trace-42");
  auto fresh_id = http_request(server.port(), "GET", "/healthz", "", "",
                               {{"X-Request-Id", "no spaces \"please\""}});
  EXPECT_EQ(fresh_id.headers["x-request-id"].size(), 16u) << "an unusable id is replaced";
  // The request's log line is written as its answer leaves: it may reach the log a moment later.
  std::size_t lines = 0, with_id = 0;
  for (int attempt = 0; attempt < 40 && with_id == 0; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::istringstream log(server.log());
    lines = with_id = 0;
    for (std::string line; std::getline(log, line);) {
      if (line.empty()) continue;
      boost::system::error_code ec;
      auto v = boost::json::parse(line, ec);
      if (ec && log.peek() == EOF) continue;  // the last line, still being written
      ASSERT_FALSE(ec) << "not JSON: " << line;
      ++lines;
      if (std::string(v.at("msg").as_string()).find("request trace-42") != std::string::npos)
        ++with_id;
    }
  }
  EXPECT_GT(lines, 5u);
  EXPECT_EQ(with_id, 1u);
  // Logins are throttled apart: the registered users still log in.
  EXPECT_EQ(http_request(server.port(), "POST", "/auth/login",
                         json_body({{"email", "rt_0@example.com"}, {"password", "password-rt_0"}}))
                .status,
            200);
}

}  // namespace
}  // namespace chatd::test

namespace chatd::test {
namespace {

// Browsers from other origins (CHATD_CORS_ORIGINS): listed origins may call the API and open
// WebSockets; others get no CORS headers and no WebSocket.
class CorsE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("cors", {{"CHATD_CORS_ORIGINS", "https://app.example.com, https://other.example"}});
  }
};

// The status line answering a WebSocket upgrade from `origin` (read with a receive timeout: an
// accepted upgrade stays open).
std::string upgrade(std::uint16_t port, const std::string& token, const std::string& origin) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string answer;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const auto req = "GET /ws?token=" + token + " HTTP/1.1\r\nHost: 127.0.0.1:" +
                     std::to_string(port) +
                     "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " + origin + "\r\n\r\n";
    send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[1024];
    while (answer.find("\r\n") == std::string::npos) {
      const auto n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return answer.substr(0, answer.find("\r\n"));
}

TEST_F(CorsE2E, ListedOriginsMayCallTheApiAndOpenWebSocketsOthersMayNot) {
  auto u = must_register(port(), "cors_a");
  auto allowed = http_request(port(), "GET", "/users/me", "", u.token,
                              {{"Origin", "https://app.example.com"}});
  EXPECT_EQ(allowed.status, 200);
  EXPECT_EQ(allowed.headers["access-control-allow-origin"], "https://app.example.com");
  auto other = http_request(port(), "GET", "/users/me", "", u.token,
                            {{"Origin", "https://evil.example"}});
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);

  auto preflight = http_request(port(), "OPTIONS", "/auth/login", "", "",
                                {{"Origin", "https://other.example"},
                                 {"Access-Control-Request-Method", "POST"},
                                 {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers["access-control-allow-origin"], "https://other.example");
  EXPECT_NE(preflight.headers["access-control-allow-headers"].find("Authorization"),
            std::string::npos);
  auto refused_preflight = http_request(port(), "OPTIONS", "/auth/login", "", "",
                                        {{"Origin", "https://evil.example"},
                                         {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(refused_preflight.headers.count("access-control-allow-origin"), 0u);

  EXPECT_EQ(upgrade(port(), u.token, "https://app.example.com"), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(upgrade(port(), u.token, "http://127.0.0.1:" + std::to_string(port())),
            "HTTP/1.1 101 Switching Protocols")
      << "chatd's own web client";
  EXPECT_EQ(upgrade(port(), u.token, "https://evil.example"), "HTTP/1.1 403 Forbidden")
      << "another site's page cannot use a user's token on a WebSocket";
}

}  // namespace
}  // namespace chatd::test
