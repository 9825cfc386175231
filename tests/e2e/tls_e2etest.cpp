// TLS on chatd's own port (issue 13): HTTPS and WSS with a certificate made by the test,
// TLS 1.2+ only, and SIGHUP reading a new certificate without dropping open connections.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>

#include <openssl/x509.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e/e2e_fixture.hpp"
#include "support/certificate.hpp"
#include "support/test_database.hpp"

namespace chatd::test {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

std::string peer_cn(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  X509_free(cert);
  return buf;
}

// A TLS client connection to chatd (certificate not verified: it is the test's own).
struct TlsClient {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream;

  // `max_version` 0: the library's best; else e.g. TLS1_1_VERSION to offer nothing newer.
  explicit TlsClient(std::uint16_t port, int max_version = 0) {
    if (max_version != 0) {
      SSL_CTX_set_security_level(ctx.native_handle(), 0);
      SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_VERSION);
      SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    }
    stream.emplace(ioc, ctx);
    beast::get_lowest_layer(*stream).expires_after(5s);
    beast::get_lowest_layer(*stream).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  boost::system::error_code handshake() {
    boost::system::error_code ec;
    stream->handshake(ssl::stream_base::client, ec);
    return ec;
  }
  HttpResult request(const std::string& method, const std::string& target,
                     const std::string& body = "", const std::string& token = "") {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "localhost");
    if (!token.empty()) req.set(bhttp::field::authorization, "Bearer " + token);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    beast::get_lowest_layer(*stream).expires_after(5s);
    bhttp::write(*stream, req);
    beast::flat_buffer buf;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(*stream, buf, res);
    HttpResult out;
    out.status = res.result_int();
    out.body = res.body();
    for (const auto& f : res) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      out.headers[name] = std::string(f.value());
    }
    boost::system::error_code ec;
    out.json = json::parse(out.body, ec);
    return out;
  }
};

// A WebSocket over TLS (WSS) with the token in the query.
struct WssClient {
  TlsClient tls;
  std::optional<beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>&>> ws;
  WssClient(std::uint16_t port, const std::string& token) : tls(port) {
    EXPECT_FALSE(tls.handshake());
    ws.emplace(*tls.stream);
    beast::get_lowest_layer(*tls.stream).expires_never();
    ws->set_option(beast::websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws->handshake("localhost", "/ws?token=" + token);
  }
  json::object next() {
    beast::flat_buffer buf;
    ws->read(buf);
    return json::parse(beast::buffers_to_string(buf.data())).as_object();
  }
  json::object next_of(const std::string& type) {
    for (int i = 0; i < 50; ++i) {
      auto e = next();
      if (e.at("type").as_string() == type) return e;
    }
    ADD_FAILURE() << "no " << type << " event";
    return {};
  }
  void send(const json::value& v) { ws->write(asio::buffer(json::serialize(v))); }
};

class TlsE2E : public ChatdSuite {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("chatd-tls-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    make_certificate("first.chatd.test", cert(), key());
    start_server("tls", {{"CHATD_TLS_CERT_FILE", cert()}, {"CHATD_TLS_KEY_FILE", key()}});
  }
  static void TearDownTestSuite() {
    ChatdSuite::TearDownTestSuite();
    std::filesystem::remove_all(dir_);
  }
  static std::string cert() { return (dir_ / "cert.pem").string(); }
  static std::string key() { return (dir_ / "key.pem").string(); }
  static inline std::filesystem::path dir_;
};

TEST_F(TlsE2E, ServesHttpsAndWssOnOnePort) {
  TlsClient c(port());
  ASSERT_FALSE(c.handshake());
  const int version = SSL_version(c.stream->native_handle());
  EXPECT_TRUE(version == TLS1_3_VERSION || version == TLS1_2_VERSION);
  auto health = c.request("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.headers["strict-transport-security"], "max-age=31536000");
  auto reg = c.request("POST", "/auth/register",
                       json_body({{"username", "tls_a"}, {"email", "tls_a@example.com"},
                                  {"password", "password-tls_a"}}));
  ASSERT_EQ(reg.status, 201) << reg.body;
  auto b = TlsClient(port());
  ASSERT_FALSE(b.handshake());
  auto reg_b = b.request("POST", "/auth/register",
                         json_body({{"username", "tls_b"}, {"email", "tls_b@example.com"},
                                    {"password", "password-tls_b"}}));
  ASSERT_EQ(reg_b.status, 201);

  WssClient wa(port(), std::string(reg.json.at("token").as_string()));
  WssClient wb(port(), std::string(reg_b.json.at("token").as_string()));
  wa.next_of("ready");
  wb.next_of("ready");
  wa.send(json::value{{"type", "send_message"},
                      {"to", reg_b.json.at("user").at("id")},
                      {"content", "over tls"},
                      {"client_id", "t1"}});
  EXPECT_EQ(wa.next_of("ack").at("client_id").as_string(), "t1");
  EXPECT_EQ(wb.next_of("message").at("message").at("content").as_string(), "over tls");

  // Plain HTTP on the TLS port gets no answer a client could take for one.
  const auto plain = raw_exchange(port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 2000);
  EXPECT_EQ(plain.find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(TlsE2E, RefusesTls11AndOlder) {
  TlsClient old(port(), TLS1_1_VERSION);
  EXPECT_TRUE(old.handshake()) << "a TLS 1.1 client must be refused";
  TlsClient modern(port(), TLS1_2_VERSION);
  EXPECT_FALSE(modern.handshake()) << "TLS 1.2 is served";
  EXPECT_EQ(modern.request("GET", "/healthz").status, 200);
}

TEST_F(TlsE2E, SighupReadsANewCertificateWithoutDroppingConnections) {
  TlsClient before(port());
  ASSERT_FALSE(before.handshake());
  EXPECT_EQ(peer_cn(before.stream->native_handle()), "first.chatd.test");
  auto reg = before.request("POST", "/auth/register",
                            json_body({{"username", "tls_r"}, {"email", "tls_r@example.com"},
                                       {"password", "password-tls_r"}}));
  ASSERT_EQ(reg.status, 201);
  WssClient ws(port(), std::string(reg.json.at("token").as_string()));
  ws.next_of("ready");

  make_certificate("second.chatd.test", cert(), key());
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  std::string cn;
  for (int i = 0; i < 100 && cn != "second.chatd.test"; ++i) {
    std::this_thread::sleep_for(20ms);
    TlsClient probe(port());
    if (!probe.handshake()) cn = peer_cn(probe.stream->native_handle());
  }
  EXPECT_EQ(cn, "second.chatd.test") << "new connections get the new certificate";
  // The connections made before keep working.
  ws.send(json::value{{"type", "ping"}});
  EXPECT_EQ(ws.next_of("pong").at("type").as_string(), "pong");
  EXPECT_EQ(before.request("GET", "/healthz").status, 200);

  // A broken key is refused on SIGHUP: the second certificate serves on.
  { std::ofstream(key()) << "not a key\n"; }
  ASSERT_EQ(::kill(server_->pid(), SIGHUP), 0);
  for (int i = 0; i < 100 && server_->log().find("not reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_NE(server_->log().find("TLS certificate not reloaded"), std::string::npos);
  TlsClient after(port());
  ASSERT_FALSE(after.handshake());
  EXPECT_EQ(peer_cn(after.stream->native_handle()), "second.chatd.test");
  auto metrics = after.request("GET", "/metrics");
  EXPECT_NE(metrics.body.find("chatd_tls_reloads_total 1"), std::string::npos);
  EXPECT_NE(metrics.body.find("chatd_tls_reloads_failed_total 1"), std::string::npos);
}

}  // namespace
}  // namespace chatd::test
