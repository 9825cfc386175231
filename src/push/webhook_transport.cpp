#include "push/webhook_transport.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <stdexcept>

#include "codec/hex.hpp"

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
  if (!u || u->scheme() != "http" || u->host().empty())
    throw std::invalid_argument("CHATD_PUSH_WEBHOOK_URL must be an http:// URL: " + url);
  host_ = u->host();
  port_ = u->has_port() ? std::string(u->port()) : "80";
  target_ = u->encoded_path().empty() ? "/" : std::string(u->encoded_path());
  if (u->has_query()) target_ += "?" + std::string(u->encoded_query());
}

awaitable<bool> WebhookTransport::post(std::string body) {
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(ex_);
  auto endpoints =
      co_await resolver.async_resolve(host_, port_, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    spdlog::warn("push webhook {}: {}", host_, ec.message());
    co_return false;
  }
  beast::tcp_stream stream(ex_);
  stream.expires_after(timeout_);
  co_await stream.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, target_, 11};
  req.set(bhttp::field::host, host_);
  req.set(bhttp::field::user_agent, "chatd");
  req.set(bhttp::field::content_type, "application/json");
  req.set("X-Chatd-Signature", signature(secret_, body));
  req.keep_alive(false);
  req.body() = std::move(body);
  req.prepare_payload();
  stream.expires_after(timeout_);
  co_await bhttp::async_write(stream, req, asio::redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  stream.expires_after(timeout_);
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
