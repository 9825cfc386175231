// Devices and push to offline phones (PROTOCOL §4): a webhook server in the test receives
// chatd's signed batches.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/certificate.hpp"
#include "support/webhook_server.hpp"
#include "support/ws_client.hpp"

namespace chatd::test {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kSecret = "push-secret-for-tests";

std::string expected_signature(const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kSecret.data(), kSecret.size(),
            reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, sizeof mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256=";
  for (std::size_t i = 0; i < len; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

// One chatd and one webhook server per test (each test scripts its webhook differently).
class PushE2E : public ::testing::Test {
 protected:
  void start(std::vector<int> statuses = {}, bool silent = false) {
    hook = std::make_unique<WebhookServer>(std::move(statuses), silent);
    start_chatd({});
  }
  // An HTTPS webhook whose certificate names `cn`; `trusted`: chatd's OpenSSL trusts it
  // (SSL_CERT_FILE, as an operator would name a private CA).
  void start_https(const std::string& cn, bool trusted) {
    dir = std::filesystem::temp_directory_path() /
          ("chatd-push-" + std::to_string(getpid()) + "-" + cn);
    std::filesystem::create_directories(dir);
    const auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
    make_certificate(cn, cert, key);
    hook = std::make_unique<WebhookServer>(std::vector<int>{}, false, cert, key);
    std::map<std::string, std::string> env;
    if (trusted) env["SSL_CERT_FILE"] = cert;
    start_chatd(std::move(env));
  }
  void start_chatd(std::map<std::string, std::string> env) {
    env["CHATD_PUSH_WEBHOOK_URL"] = hook->url();
    env["CHATD_PUSH_SECRET"] = kSecret;
    env["CHATD_PUSH_RETRIES"] = "3";
    db = std::make_unique<TestDatabase>("push");
    server = std::make_unique<ChatdProcess>(db->conninfo(), std::move(env));
    server->start();
  }
  void TearDown() override {
    server.reset();
    hook.reset();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  // chatd refuses the webhook's certificate: the TLS handshake fails, nothing is sent.
  void expect_refused_before_sending() {
    message_to_offline_bob();
    for (int i = 0; i < 100 && hook->failed_handshakes() == 0; ++i)
      std::this_thread::sleep_for(50ms);
    EXPECT_GE(hook->failed_handshakes(), 1);
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(hook->received().empty());
    EXPECT_EQ(metric("chatd_push_sent_total"), 0);
  }
  // alice (online) writes to bob (offline, one phone); returns the acked message.
  json::value message_to_offline_bob() {
    auto a = must_register(port(), "p_alice");
    auto b = must_register(port(), "p_bob");
    EXPECT_EQ(device(b, "fcm", "bob-phone"), 201);
    WsClient ca(port(), a.token);
    ca.next_of("ready");
    ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "hi"}});
    return ca.next_of("ack").at("message");
  }
  std::uint16_t port() const { return server->port(); }
  int device(const Registered& u, const std::string& platform, const std::string& token) {
    return http_request(port(), "POST", "/devices",
                        json_body(json::object{{"platform", platform}, {"token", token}}), u.token)
        .status;
  }
  std::vector<json::object> notifications() {
    std::vector<json::object> out;
    for (const auto& r : hook->received()) {
      if (r.answered != 200) continue;
      const auto v = json::parse(r.body);
      for (const auto& n : v.at("notifications").as_array()) out.push_back(n.as_object());
    }
    return out;
  }
  long long metric(const std::string& name) { return metric_value(port(), name); }

  std::unique_ptr<WebhookServer> hook;
  std::unique_ptr<TestDatabase> db;
  std::unique_ptr<ChatdProcess> server;
  std::filesystem::path dir;
};

TEST_F(PushE2E, AMutedConversationIsNotPushedUntilTheMuteEnds) {
  start();
  auto a = must_register(port(), "pm_alice");
  auto b = must_register(port(), "pm_bob");
  ASSERT_EQ(device(b, "fcm", "bob-phone"), 201);
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "first"}});
  const auto conversation = ca.next_of("ack").at("message").at("conversation_id").as_int64();
  ASSERT_TRUE(hook->wait_for(1, 5s));
  const auto settings = "/conversations/" + std::to_string(conversation) + "/settings";
  ASSERT_EQ(http_request(port(), "PUT", settings, R"({"muted_until":"2099-01-01T00:00:00Z"})",
                         b.token).status, 200);
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "while muted"}});
  ca.next_of("ack");
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(notifications().size(), 1u) << "nothing pushed while muted";
  EXPECT_FALSE(notifications()[0].at("mentioned").as_bool());
  // A mention gets through the mute, and says so.
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "@bob look"},
                      {"mentions", json::array{b.id}}});
  ca.next_of("ack");
  ASSERT_TRUE(hook->wait_for(2, 5s)) << "a mention is pushed while muted";
  EXPECT_TRUE(notifications()[1].at("mentioned").as_bool());
  EXPECT_EQ(notifications()[1].at("preview"), "@bob look");
  ASSERT_EQ(http_request(port(), "PUT", settings, R"({"muted_until":"2020-01-01T00:00:00Z"})",
                         b.token).status, 200);
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "mute over"}});
  ca.next_of("ack");
  ASSERT_TRUE(hook->wait_for(3, 5s)) << "a mute in the past mutes nothing";
  const auto ns = notifications();
  ASSERT_EQ(ns.size(), 3u);
  EXPECT_EQ(ns[2].at("preview"), "mute over");
  EXPECT_FALSE(ns[2].at("mentioned").as_bool());
}

TEST_F(PushE2E, AnOfflineRecipientIsPushedOnceSignedAndTheSenderNever) {
  start();
  auto a = must_register(port(), "p_alice");
  auto b = must_register(port(), "p_bob");
  ASSERT_EQ(device(a, "web", "alice-browser"), 201);  // the sender's own device: never pushed
  ASSERT_EQ(device(b, "fcm", "bob-phone"), 201);
  ASSERT_EQ(device(b, "apns", "bob-tablet"), 201);
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  const std::string long_text(150, 'x');
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", long_text}});
  auto m = ca.next_of("ack").at("message");
  ASSERT_TRUE(hook->wait_for(1, 5s));
  std::this_thread::sleep_for(500ms);
  const auto got = hook->received();
  ASSERT_EQ(got.size(), 1u) << "one batch";
  EXPECT_EQ(got[0].signature, expected_signature(got[0].body)) << "verifiable with the secret";
  auto ns = notifications();
  ASSERT_EQ(ns.size(), 1u) << got[0].body;
  const auto& n = ns[0];
  EXPECT_EQ(n.at("user_id").as_int64(), b.id);
  EXPECT_EQ(n.at("message_id"), m.at("id"));
  EXPECT_EQ(n.at("conversation_id"), m.at("conversation_id"));
  EXPECT_EQ(n.at("sender_id").as_int64(), a.id);
  EXPECT_EQ(n.at("sender_username").as_string(), "p_alice");
  EXPECT_EQ(n.at("preview").as_string(), std::string(100, 'x')) << "first 100 characters";
  const auto& devices = n.at("devices").as_array();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0].at("token").as_string(), "bob-phone");
  EXPECT_EQ(devices[0].at("platform").as_string(), "fcm");
  EXPECT_EQ(devices[1].at("platform").as_string(), "apns");
  EXPECT_EQ(metric("chatd_push_sent_total"), 1);
}

TEST_F(PushE2E, AnHttpsWebhookGetsTheSameSignedBatch) {
  start_https("localhost", true);
  const auto m = message_to_offline_bob();
  ASSERT_TRUE(hook->wait_for(1, 5s)) << server->log();
  const auto got = hook->received();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].signature, expected_signature(got[0].body));
  auto ns = notifications();
  ASSERT_EQ(ns.size(), 1u) << got[0].body;
  EXPECT_EQ(ns[0].at("message_id"), m.at("id"));
  EXPECT_EQ(hook->failed_handshakes(), 0);
  // Counted once chatd has read the answer, which the webhook sends after recording the request.
  for (int i = 0; i < 100 && metric("chatd_push_sent_total") != 1; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_EQ(metric("chatd_push_sent_total"), 1);
}

// chatd verifies the webhook: a certificate it does not trust, or one for another name, gets
// no notification: the TLS handshake fails before anything is sent.
TEST_F(PushE2E, AnHttpsWebhookWithAnUntrustedCertificateGetsNothing) {
  start_https("localhost", false);
  expect_refused_before_sending();
}

TEST_F(PushE2E, AnHttpsWebhookWhoseCertificateNamesAnotherHostGetsNothing) {
  start_https("push.example.test", true);
  expect_refused_before_sending();
}

TEST_F(PushE2E, AnOnlineRecipientIsNotPushed) {
  start();
  auto a = must_register(port(), "o_alice");
  auto b = must_register(port(), "o_bob");
  ASSERT_EQ(device(b, "fcm", "bob-phone"), 201);
  WsClient ca(port(), a.token), cb(port(), b.token);
  ca.next_of("ready");
  cb.next_of("ready");
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "you are here"}});
  cb.next_of("message");
  EXPECT_FALSE(hook->wait_for(1, 1500ms)) << "nothing pushed to an online user";
}

TEST_F(PushE2E, AWebhookThatFailsThreeTimesDeliversEachNotificationOnce) {
  start({500, 500, 500});
  auto a = must_register(port(), "f_alice");
  auto b = must_register(port(), "f_bob");
  ASSERT_EQ(device(b, "fcm", "bob-phone"), 201);
  WsClient ca(port(), a.token);
  ca.next_of("ready");
  ca.send(json::value{{"type", "send_message"}, {"to", b.id}, {"content", "retry me"}});
  ca.next_of("ack");
  ASSERT_TRUE(hook->wait_for(4, 15s)) << "three failures, then the success";
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(hook->received().size(), 4u) << "nothing after the success";
  auto ns = notifications();
  ASSERT_EQ(ns.size(), 1u);
  EXPECT_EQ(ns[0].at("preview").as_string(), "retry me");
  EXPECT_EQ(metric("chatd_push_retried_total"), 3);
  EXPECT_EQ(metric("chatd_push_failed_total"), 3);
  EXPECT_EQ(metric("chatd_push_sent_total"), 1);
}

// Ack latency of `n` messages sent one after another to `to`.
std::chrono::microseconds p99_ack(WsClient& c, std::int64_t to, int n) {
  std::vector<std::chrono::microseconds> lat;
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    c.send(json::value{{"type", "send_message"}, {"to", to}, {"content", "m"}});
    c.next_of("ack");
    lat.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t0));
  }
  std::sort(lat.begin(), lat.end());
  return lat[static_cast<std::size_t>(n * 99 / 100)];
}

TEST_F(PushE2E, AWebhookThatNeverAnswersDoesNotSlowMessaging) {
  start({}, /*silent=*/true);
  auto a = must_register(port(), "d_alice");
  auto online = must_register(port(), "d_online");
  auto offline = must_register(port(), "d_offline");
  ASSERT_EQ(device(offline, "fcm", "offline-phone"), 201);
  WsClient ca(port(), a.token), con(port(), online.token);
  ca.next_of("ready");
  con.next_of("ready");
  // 2 × 120 sends stay inside the per-connection burst allowance (300).
  const auto without = p99_ack(ca, online.id, 120);  // nothing to push
  const auto with = p99_ack(ca, offline.id, 120);    // each a push to a dead webhook
  EXPECT_TRUE(hook->wait_for(1, 2s)) << "chatd did try the webhook";
  EXPECT_LT(with, 2 * without + std::chrono::milliseconds(5))
      << "p99 " << with.count() << " µs with a dead webhook, " << without.count() << " µs without";
}

TEST_F(PushE2E, DevicesAreRegisteredPerTokenAndRemovedByTheirOwner) {
  start();
  auto b = must_register(port(), "r_bob");
  auto c = must_register(port(), "r_carol");
  EXPECT_EQ(device(b, "fcm", "shared-token"), 201);
  EXPECT_EQ(device(b, "fcm", "shared-token"), 201) << "idempotent";
  EXPECT_EQ(db->scalar("SELECT count(*) FROM devices"), "1");
  EXPECT_EQ(device(c, "apns", "shared-token"), 201);
  EXPECT_EQ(db->scalar("SELECT user_id || ' ' || platform FROM devices WHERE token = 'shared-token'"),
            std::to_string(c.id) + " apns")
      << "a token moves to the latest user who registers it";
  EXPECT_EQ(http_request(port(), "DELETE", "/devices/shared-token", "", b.token).status, 204);
  EXPECT_EQ(db->scalar("SELECT count(*) FROM devices"), "1") << "not bob's any more";
  EXPECT_EQ(http_request(port(), "DELETE", "/devices/shared-token", "", c.token).status, 204);
  EXPECT_EQ(db->scalar("SELECT count(*) FROM devices"), "0");

  EXPECT_EQ(device(b, "carrier-pigeon", "t"), 400);
  EXPECT_EQ(device(b, "fcm", ""), 400);
  EXPECT_EQ(device(b, "fcm", std::string(5000, 't')), 400);
  EXPECT_EQ(http_request(port(), "POST", "/devices", R"({"platform":"fcm"})", b.token).status, 400);
  EXPECT_EQ(http_request(port(), "POST", "/devices", R"({"platform":"fcm","token":"t"})").status,
            401);
  EXPECT_EQ(db->scalar("SELECT count(*) FROM devices"), "0") << "nothing half-written";
}

}  // namespace
}  // namespace chatd::test
