// PushTransport over HTTP or HTTPS: POSTs a batch to CHATD_PUSH_WEBHOOK_URL
// (http[s]://host[:port]/path) with `X-Chatd-Signature: sha256=<hex HMAC-SHA256 of the body with
// CHATD_PUSH_SECRET>`; a 2xx answer is success. One connection per batch, each step bounded by
// `timeout`. HTTPS: TLS 1.2+, the peer's certificate verified against the system's CAs (OpenSSL's
// default paths, so SSL_CERT_FILE / SSL_CERT_DIR name a private CA) and the URL's host name.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "domain/push_service.hpp"

namespace boost::asio::ssl {
class context;
}

namespace chatd::push {

class WebhookTransport final : public PushTransport {
 public:
  // Throws std::invalid_argument for a URL it cannot use.
  WebhookTransport(boost::asio::any_io_executor ex, const std::string& url, std::string secret,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));
  ~WebhookTransport() override;

  boost::asio::awaitable<bool> post(std::string body) override;

 private:
  template <class Stream>
  boost::asio::awaitable<bool> exchange(Stream& stream, std::string body);

  boost::asio::any_io_executor ex_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // https only
  std::string host_, port_, target_;
  std::string secret_;
  std::chrono::milliseconds timeout_;
};

// "sha256=" + hex HMAC-SHA256 of `body` keyed with `secret`.
std::string signature(std::string_view secret, std::string_view body);

}  // namespace chatd::push
