// PushTransport over HTTP: POSTs a batch to CHATD_PUSH_WEBHOOK_URL (http://host[:port]/path)
// with `X-Chatd-Signature: sha256=<hex HMAC-SHA256 of the body with CHATD_PUSH_SECRET>`; a 2xx
// answer is success. One connection per batch, each step bounded by `timeout`.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "domain/push_service.hpp"

namespace chatd::push {

class WebhookTransport final : public PushTransport {
 public:
  // Throws std::invalid_argument for a URL it cannot use.
  WebhookTransport(boost::asio::any_io_executor ex, const std::string& url, std::string secret,
                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

  boost::asio::awaitable<bool> post(std::string body) override;

 private:
  boost::asio::any_io_executor ex_;
  std::string host_, port_, target_;
  std::string secret_;
  std::chrono::milliseconds timeout_;
};

// "sha256=" + hex HMAC-SHA256 of `body` keyed with `secret`.
std::string signature(std::string_view secret, std::string_view body);

}  // namespace chatd::push
