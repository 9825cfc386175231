#include "push/webhook_transport.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

#include "codec/hex.hpp"
#include "net/tls_policy.hpp"

namespace chatd::push {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::awaitable;
using asio::use_awaitable;

std::string signature(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, sizeof mac,
                &len) == nullptr)
    return {};
  return "sha256=" + codec::to_hex(mac, len);
}

WebhookTransport::WebhookTransport(asio::any_io_executor ex, const std::string& url,
                                   std::string secret, std::chrono::milliseconds timeout)
    : ex_(std::move(ex)), secret_(std::move(secret)), timeout_(timeout) {
  auto u = boost::urls::parse_absolute_uri(url);
  const bool https = u && u->scheme() == "https";
  if (!u || (u->scheme() != "http" && !https) || u->host().empty())
    throw std::invalid_argument("CHATD_PUSH_WEBHOOK_URL must be an http:// or https:// URL: " +
                                url);
  host_ = u->host();
  port_ = u->has_port() ? std::string(u->port()) : https ? "443" : "80";
  target_ = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) target_ += "?" + std::string(u->encoded_query());
  if (https) {
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    net::apply_tls_policy(*tls_);
    tls_->set_default_verify_paths();
    tls_->set_verify_mode(asio::ssl::verify_peer);
  }
}

WebhookTransport::~WebhookTransport() = default;

awaitable<bool> WebhookTransport::post(std::string body) {
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ex_);
  auto endpoints =
      co_await resolver.async_resolve(host_, port_, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    spdlog::warn("push webhook {}: {}", host_, ec.message());
    co_return false;
  }
  if (!tls_) {
    beast::tcp_stream stream(ex_);
    stream.expires_after(timeout_);
    co_await stream.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    co_return co_await exchange(stream, std::move(body));
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex_, *tls_);
  // SNI, and the certificate must name the URL's host.
  if (SSL_set_tlsext_host_name(stream.native_handle(), host_.c_str()) != 1) co_return false;
  stream.set_verify_callback(asio::ssl::host_name_verification(host_));
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(timeout_);
  co_await tcp.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  tcp.expires_after(timeout_);
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(use_awaitable, ec));
  if (ec) {
    const auto verify = SSL_get_verify_result(stream.native_handle());
    spdlog::warn("push webhook {}: TLS handshake: {}{}{}", host_, ec.message(),
                 verify == X509_V_OK ? "" : ": ",
                 verify == X509_V_OK ? "" : X509_verify_cert_error_string(verify));
    co_return false;
  }
  co_return co_await exchange(stream, std::move(body));
}

// The request and its answer over a connected (and, for https, handshaken) stream.
template <class Stream>
awaitable<bool> WebhookTransport::exchange(Stream& stream, std::string body) {
  boost::system::error_code ec;
  auto& tcp = beast::get_lowest_layer(stream);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, target_, 11};
  req.set(bhttp::field::host, host_);
  req.set(bhttp::field::user_agent, "chatd");
  req.set(bhttp::field::content_type, "application/json");
  req.set("X-Chatd-Signature", signature(secret_, body));
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();
  tcp.expires_after(timeout_);
  co_await bhttp::async_write(stream, req, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  tcp.expires_after(timeout_);
  co_await bhttp::async_read(stream, buffer, res, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  const auto status = res.result_int();
  if (status < 200 || status >= 300) {
    spdlog::warn("push webhook answered {}", status);
    co_return false;
  }
  co_return true;
}

}  // namespace chatd::push
