// The client's address behind a real HAProxy and throttles that hold for the whole cluster
// (PROTOCOL §10): three chatd nodes on one PostgreSQL and one NATS, trusting only the proxy's
// address, and clients on distinct loopback addresses (127.0.0.2, .3, .4).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <sstream>

#include "e2e/e2e_fixture.hpp"
#include "support/haproxy_process.hpp"
#include "support/nats_process.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;

constexpr int kPerAddress = 20;   // failed logins per address within the window
constexpr int kPerEmail = 5;      // failed logins per email
constexpr int kRegistrations = 8; // registrations per address within an hour

class ProxiesE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    nats_ = std::make_unique<NatsProcess>();
    nats_->start();
    db_ = std::make_unique<TestDatabase>("proxies");
    std::vector<std::uint16_t> ports;
    for (int i = 0; i < 3; ++i) {
      nodes_.push_back(std::make_unique<ChatdProcess>(
          db_->conninfo(),
          std::map<std::string, std::string>{
              {"CHATD_NATS_URL", nats_->url()},
              {"CHATD_NODE_NAME", numbered("proxied-", i)},
              {"CHATD_TRUSTED_PROXIES", "127.0.0.1/32"},
              {"CHATD_LOGIN_MAX_FAILURES_PER_ADDRESS", std::to_string(kPerAddress)},
              {"CHATD_LOGIN_MAX_FAILURES_PER_EMAIL", std::to_string(kPerEmail)},
              {"CHATD_REGISTER_MAX_PER_ADDRESS", std::to_string(kRegistrations)}}));
      nodes_.back()->start();
      ports.push_back(nodes_.back()->port());
    }
    proxy_ = std::make_unique<HaproxyProcess>(ports);
    proxy_->start();
  }
  static void TearDownTestSuite() {
    proxy_.reset();
    nodes_.clear();
    db_.reset();
    nats_.reset();
  }
  static std::uint16_t proxy() { return proxy_->port(); }
  static std::uint16_t node(int i) { return nodes_[static_cast<std::size_t>(i)]->port(); }

  static HttpResult login_from(const std::string& source, std::uint16_t port,
                               const std::string& email, const std::string& password,
                               const std::map<std::string, std::string>& headers = {}) {
    return http_request_from(source, port, "POST", "/auth/login",
                             json_body({{"email", email}, {"password", password}}), "", headers);
  }
  static HttpResult register_from(const std::string& source, const std::string& name) {
    return http_request_from(source, proxy(), "POST", "/auth/register",
                             json_body({{"username", name}, {"email", name + "@example.com"},
                                        {"password", "password-" + name}}));
  }

  static inline std::unique_ptr<NatsProcess> nats_;
  static inline std::unique_ptr<TestDatabase> db_;
  static inline std::vector<std::unique_ptr<ChatdProcess>> nodes_;
  static inline std::unique_ptr<HaproxyProcess> proxy_;
};

TEST_F(ProxiesE2E, OneAbuserBehindTheProxyLocksOutOnlyThemselves) {
  ASSERT_EQ(register_from("127.0.0.3", "px_carol").status, 201);
  // Failed logins with random emails from one address, spread by HAProxy over three nodes.
  int refused = 0, throttled = 0;
  for (int i = 0; i < kPerAddress + 10; ++i) {
    auto r = login_from("127.0.0.2", proxy(), numbered("nobody", i) + "@example.com",
                        "wrong-password");
    refused += r.status == 401;
    throttled += r.status == 429;
  }
  EXPECT_EQ(refused, kPerAddress) << "the limit holds once for all three nodes";
  EXPECT_EQ(throttled, 10);
  auto forged = login_from("127.0.0.2", proxy(), "px_carol@example.com", "password-px_carol",
                           {{"X-Forwarded-For", "198.51.100.77"}});
  EXPECT_EQ(forged.status, 429) << "a client's own X-Forwarded-For entry does not hide it";
  EXPECT_FALSE(forged.headers["retry-after"].empty());
  auto direct = login_from("127.0.0.2", node(1), "px_carol@example.com", "password-px_carol",
                           {{"X-Forwarded-For", "198.51.100.78"}});
  EXPECT_EQ(direct.status, 429) << "an untrusted peer's X-Forwarded-For is ignored";

  for (int i = 0; i < 3; ++i) {
    auto ok = login_from("127.0.0.3", proxy(), "px_carol@example.com", "password-px_carol");
    EXPECT_EQ(ok.status, 200) << "everybody else logs in: " << ok.body;
  }
  bool logged = false;
  for (const auto& n : nodes_) {
    std::istringstream lines(n->log());
    for (std::string line; std::getline(lines, line);)
      logged = logged || (line.find("POST /auth/login 200") != std::string::npos &&
                          line.find("from 127.0.0.3") != std::string::npos);
  }
  EXPECT_TRUE(logged) << "log lines name the client, not the proxy";
}

TEST_F(ProxiesE2E, RegistrationsAreCountedPerClientAddress) {
  int created = 0, throttled = 0;
  for (int i = 0; i < kRegistrations + 3; ++i) {
    auto r = register_from("127.0.0.5", numbered("px_bulk", i));
    created += r.status == 201;
    throttled += r.status == 429;
  }
  EXPECT_EQ(created, kRegistrations) << "counted once for the cluster";
  EXPECT_EQ(throttled, 3);
  auto first = register_from("127.0.0.4", "px_newcomer");
  EXPECT_EQ(first.status, 201) << "a first registration from another address: " << first.body;
}

TEST_F(ProxiesE2E, FailuresForOneEmailSpreadOverTheNodesHitOneLimit) {
  ASSERT_EQ(register_from("127.0.0.6", "px_dave").status, 201);
  // Straight to the nodes, from distinct addresses, so only the email's limit can bite.
  for (int i = 0; i < kPerEmail; ++i) {
    auto r = login_from(numbered("127.0.1.", i + 1), node(i % 3), "px_dave@example.com",
                        "wrong-password");
    EXPECT_EQ(r.status, 401) << i;
  }
  auto r = login_from("127.0.1.100", node(2), "px_dave@example.com", "password-px_dave");
  EXPECT_EQ(r.status, 429) << "five failures over three nodes are five for the email";
}

TEST_F(ProxiesE2E, SuspensionAndDeletionCrossNodesWithinASecond) {
  using namespace std::chrono_literals;
  ASSERT_EQ(register_from("127.0.0.7", "px_admin").status, 201);
  ASSERT_EQ(std::system(("env CHATD_DATABASE_URL='" + db_->conninfo() +
                         "' " CHATD_BINARY " admin promote px_admin@example.com >/dev/null")
                            .c_str()),
            0);
  auto admin = login_from("127.0.0.7", node(0), "px_admin@example.com", "password-px_admin");
  ASSERT_EQ(admin.status, 200);
  const auto admin_token = std::string(admin.json.at("token").as_string());
  auto eve = register_from("127.0.0.8", "px_eve");
  auto fay = register_from("127.0.0.9", "px_fay");
  ASSERT_EQ(eve.status, 201);
  ASSERT_EQ(fay.status, 201);
  const auto eve_id = eve.json.at("user").at("id").as_int64();
  const auto fay_id = fay.json.at("user").at("id").as_int64();
  WsClient on1(node(1), std::string(eve.json.at("token").as_string()));
  WsClient on2(node(2), std::string(eve.json.at("token").as_string()));
  on1.next_of("ready");
  on2.next_of("ready");

  auto t0 = std::chrono::steady_clock::now();
  auto r = http_request(node(0), "POST", "/admin/users/" + std::to_string(eve_id) + "/suspend",
                        R"({"reason":"abuse"})", admin_token);
  ASSERT_EQ(r.status, 204) << r.body;
  for (auto* c : {&on1, &on2}) {
    auto code = c->wait_closed(2s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 4003) << "closed on the other nodes too";
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(http_request(node(2), "GET", "/users/me", "", std::string(eve.json.at("token").as_string()))
                .status,
            401)
      << "the token is refused on every node";
  EXPECT_EQ(login_from("127.0.0.8", node(1), "px_eve@example.com", "password-px_eve").status, 403);

  // Fay, on node 2, leaves for good through node 0: her socket closes, and gus, on node 1, is
  // told her message is gone.
  const auto fay_token = std::string(fay.json.at("token").as_string());
  auto gus = register_from("127.0.0.10", "px_gus");
  const auto gus_token = std::string(gus.json.at("token").as_string());
  WsClient fay_ws(node(2), fay_token), gus_ws(node(1), gus_token);
  fay_ws.next_of("ready");
  gus_ws.next_of("ready");
  fay_ws.send(json::object{{"type", "send_message"},
                           {"to", gus.json.at("user").at("id")},
                           {"content", "bye"}});
  fay_ws.next_of("ack");
  gus_ws.next_of("message");
  t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(http_request(node(0), "DELETE", "/users/me", R"({"password":"password-px_fay"})",
                         fay_token)
                .status,
            204);
  auto code = fay_ws.wait_closed(2s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 4001);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  auto up = gus_ws.next_of("message_updated");
  EXPECT_EQ(up.at("message").at("deleted"), true);
  EXPECT_EQ(up.at("message").at("sender_id").as_int64(), fay_id);
}

TEST_F(ProxiesE2E, EverydayEventsCrossNodes) {
  using namespace std::chrono_literals;
  auto hal = register_from("127.0.0.11", "px_hal");
  auto ivy = register_from("127.0.0.12", "px_ivy");
  ASSERT_EQ(hal.status, 201);
  ASSERT_EQ(ivy.status, 201);
  const auto hal_token = std::string(hal.json.at("token").as_string());
  const auto ivy_token = std::string(ivy.json.at("token").as_string());
  WsClient h0(node(0), hal_token), h2(node(2), hal_token), i1(node(1), ivy_token);
  for (auto* c : {&h0, &h2, &i1}) c->next_of("ready");
  h0.send(json::object{{"type", "send_message"}, {"to", ivy.json.at("user").at("id")},
                       {"content", "across"}});
  const auto ack = h0.next_of("ack").at("message");
  i1.next_of("message");
  i1.send(json::object{{"type", "react"}, {"message_id", ack.at("id")}, {"emoji", "🔥"}});
  for (auto* c : {&h0, &h2, &i1}) EXPECT_EQ(c->next_of("reaction").at("emoji"), "🔥");
  auto r = http_request(node(1), "PUT",
                        "/conversations/" + std::to_string(ack.at("conversation_id").as_int64()) +
                            "/settings",
                        R"({"archived":true})", hal_token);
  ASSERT_EQ(r.status, 200) << r.body;
  for (auto* c : {&h0, &h2})
    EXPECT_EQ(c->next_of("conversation_settings").at("settings").at("archived"), true)
        << "the user's connections on the other nodes are told";
  EXPECT_FALSE(i1.take("conversation_settings", 300ms)) << "nobody else is";

  // The disappearing timer, set on a third node: every connection of both members is told, and
  // a message stored on another node carries its expires_at; a mention and a forward cross too.
  const auto conversation = std::to_string(ack.at("conversation_id").as_int64());
  r = http_request(node(2), "PUT", "/conversations/" + conversation + "/disappearing",
                   R"({"seconds":3600})", ivy_token);
  ASSERT_EQ(r.status, 200) << r.body;
  for (auto* c : {&h0, &h2, &i1}) {
    auto e = c->next_of("conversation_updated");
    EXPECT_EQ(e.at("disappearing_seconds").as_int64(), 3600);
    EXPECT_EQ(e.at("by"), ivy.json.at("user").at("id"));
  }
  h2.send(json::object{{"type", "send_message"}, {"to", ivy.json.at("user").at("id")},
                       {"content", "@ivy soon gone"},
                       {"mentions", json::array{ivy.json.at("user").at("id")}}});
  const auto timed = h2.next_of("ack").at("message");
  EXPECT_FALSE(timed.at("expires_at").is_null());
  EXPECT_EQ(h0.next_of("message").at("message").at("id"), timed.at("id")) << "the sender's other node";
  const auto got = i1.next_of("message").at("message");
  EXPECT_EQ(got.at("expires_at"), timed.at("expires_at"));
  EXPECT_EQ(got.at("mentions"), timed.at("mentions"));
  EXPECT_EQ(h2.next_of("message").at("message").at("id"), ack.at("id"))
      << "\"across\" reached hal's other connection first";
  i1.send(json::object{{"type", "send_message"}, {"to", hal.json.at("user").at("id")},
                       {"forward_of", ack.at("id")}});
  i1.next_of("ack");
  for (auto* c : {&h0, &h2}) {
    auto f = c->next_of("message").at("message");
    EXPECT_TRUE(f.at("forwarded").as_bool());
    EXPECT_EQ(f.at("content"), "across");
  }
}

}  // namespace
}  // namespace chatd::test
