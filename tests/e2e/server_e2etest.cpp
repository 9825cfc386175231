// The server core end to end: health, limits, malformed traffic, concurrency, start-up and
// shutdown behaviour of the real binary.
#include <future>
#include <thread>

#include "e2e/e2e_fixture.hpp"

using namespace chatd::test;

namespace {

class ServerE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    start_server("server", {{"CHATD_HEADER_TIMEOUT_MS", "1000"}, {"CHATD_BCRYPT_COST", "11"}});
  }
  static void expect_healthy() {
    auto h = http_request(port(), "GET", "/healthz");
    EXPECT_EQ(h.status, 200);
    EXPECT_TRUE(server_->running());
  }
};

}  // namespace

TEST_F(ServerE2E, HealthzIsADatabaseRoundTrip) {
  auto r = http_request(port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");
}

TEST_F(ServerE2E, UnknownRoutesAndMethodsAnswerInTheErrorShape) {
  auto r = http_request(port(), "GET", "/no/such/route");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.error_code(), "not_found");
  auto m = http_request(port(), "DELETE", "/auth/login");
  EXPECT_EQ(m.status, 405);
  EXPECT_FALSE(m.error_code().empty());
}

TEST_F(ServerE2E, OversizedBodyIs413AndTheServerStaysHealthy) {
  const std::string big(64 * 1024 + 1, 'x');
  auto r = http_request(port(), "POST", "/auth/register", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.error_code(), "too_large");
  // Exactly at the limit is still read (and then rejected as bad JSON, not as too large).
  auto at_limit = http_request(port(), "POST", "/auth/register", std::string(64 * 1024, ' '));
  EXPECT_EQ(at_limit.status, 400);
  expect_healthy();
}

TEST_F(ServerE2E, GarbageBytesGetA400AndTheServerStaysHealthy) {
  std::string garbage;
  for (int i = 0; i < 2000; ++i) garbage.push_back(static_cast<char>((i * 7919) % 256));
  const auto reply = raw_exchange(port(), garbage);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << reply.substr(0, 60);
  EXPECT_NE(reply.find("invalid_input"), std::string::npos);
  const auto bad_method = raw_exchange(port(), "FLY / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_FALSE(bad_method.starts_with("HTTP/1.1 2"));
  expect_healthy();
}

TEST_F(ServerE2E, TruncatedRequestsAreDroppedAndTheServerStaysHealthy) {
  // Headers cut short, and a body shorter than its Content-Length; the client then goes away.
  raw_exchange(port(), "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Le", 2000, true);
  raw_exchange(port(),
               "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"email\":", 2000,
               true);
  expect_healthy();
}

TEST_F(ServerE2E, ASlowClientIsCutOffByTheRequestTimeout) {
  const auto t0 = std::chrono::steady_clock::now();
  // Never finishes its headers; the server must close within its 1 s request timeout.
  const auto reply = raw_exchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n", 10000);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_FALSE(reply.starts_with("HTTP/1.1 200"));
  expect_healthy();
}

TEST_F(ServerE2E, ABurstOf20LoginsDoesNotStallHealthz) {
  must_register(port(), "burst");
  const auto body = json_body({{"email", "burst@example.com"}, {"password", "password-burst"}});
  std::vector<std::future<int>> logins;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i)
    logins.push_back(std::async(std::launch::async, [&] {
      return http_request(port(), "POST", "/auth/login", body).status;
    }));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto h0 = std::chrono::steady_clock::now();
  auto health = http_request(port(), "GET", "/healthz");
  const auto healthz_time = std::chrono::steady_clock::now() - h0;
  for (auto& f : logins) EXPECT_EQ(f.get(), 200);
  const auto burst_time = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(health.status, 200);
  // bcrypt runs on the worker pool: healthz answers long before the burst is through.
  EXPECT_LT(healthz_time * 4, burst_time)
      << "healthz " << std::chrono::duration_cast<std::chrono::milliseconds>(healthz_time).count()
      << " ms, burst " << std::chrono::duration_cast<std::chrono::milliseconds>(burst_time).count()
      << " ms";
}

TEST_F(ServerE2E, EachRequestIsLoggedAndTheConfigIsPrintedWithTheSecretMasked) {
  http_request(port(), "GET", "/healthz");
  const auto log = server_->log();
  EXPECT_NE(log.find("GET /healthz 200"), std::string::npos);
  EXPECT_NE(log.find("CHATD_JWT_SECRET = ****** (set)"), std::string::npos);
  EXPECT_EQ(log.find(ChatdProcess::secret()), std::string::npos);
}

TEST(ServerLifecycle, RefusesToStartWithoutAJwtSecret) {
  TestDatabase db("nosecret");
  auto [status, out] = run_chatd_once({{"CHATD_DATABASE_URL", db.conninfo()},
                                       {"CHATD_PORT", std::to_string(free_port())}});
  EXPECT_EQ(status, 2);
  EXPECT_NE(out.find("CHATD_JWT_SECRET is required"), std::string::npos) << out;
}

TEST(ServerLifecycle, RefusesToStartWithoutADatabase) {
  auto [status, out] = run_chatd_once({{"CHATD_DATABASE_URL", "host=127.0.0.1 port=1"},
                                       {"CHATD_JWT_SECRET", ChatdProcess::secret()},
                                       {"CHATD_PORT", std::to_string(free_port())}});
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("cannot connect to the database"), std::string::npos) << out;
}

TEST(ServerLifecycle, MigratesOnceAndStopsCleanlyOnSigterm) {
  TestDatabase db("lifecycle");
  {
    ChatdProcess first(db.conninfo());
    first.start();
    EXPECT_NE(first.log().find("migration(s) applied now"), std::string::npos);
    EXPECT_EQ(first.stop(), 0);
  }
  ChatdProcess second(db.conninfo());
  second.start();
  EXPECT_NE(second.log().find("(0 migration(s) applied now)"), std::string::npos) << second.log();
  EXPECT_EQ(http_request(second.port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(second.stop(), 0);
  EXPECT_NE(second.log().find("chatd stopped"), std::string::npos);
}

TEST(ServerLifecycle, HealthzIs503WhenTheDatabaseIsGone) {
  auto db = std::make_unique<TestDatabase>("gone");
  ChatdProcess server(db->conninfo(), {{"CHATD_DB_ACQUIRE_TIMEOUT_MS", "1000"}});
  server.start();
  db.reset();  // DROP DATABASE ... WITH (FORCE) cuts chatd's connections
  auto r = http_request(server.port(), "GET", "/healthz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.error_code(), "unavailable");
  EXPECT_TRUE(server.running());
}
