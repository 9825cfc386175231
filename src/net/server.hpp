// The listener and the HTTP sessions (Beast on C++20 coroutines). Each connection runs on its own
// strand; limits live here at the edge: header and body size, read timeouts, keep-alive idling.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/client_address.hpp"

namespace chatd::http {
class Router;
}
namespace chatd::auth {
class TokenService;
}

namespace chatd::net {

struct WsDeps;
class TlsContexts;

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 64 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds request_timeout{10000};  // to send one whole request
  std::chrono::milliseconds idle_timeout{60000};     // between keep-alive requests
  // POST /attachments: its body is streamed to a file in `upload_dir` (none: not served),
  // at most `max_upload_bytes`.
  std::string upload_dir;
  std::uint64_t max_upload_bytes = 25 * 1024 * 1024;
  // Browser origins (e.g. "https://app.example.com") allowed to call the REST API and open
  // WebSockets from other sites; empty: no cross-origin access and no Origin check.
  std::vector<std::string> cors_origins;
  // HTTPS and WSS instead of HTTP and WS (CHATD_TLS_CERT_FILE / CHATD_TLS_KEY_FILE).
  std::shared_ptr<TlsContexts> tls;
  // Peers whose X-Forwarded-For names the client (CHATD_TRUSTED_PROXIES; none by default).
  TrustedProxies trusted_proxies;
};

class Server {
 public:
  // `ws` (optional) serves GET /ws upgrades, authenticated with `tokens`.
  Server(boost::asio::io_context& ioc, ServerOptions options, const http::Router& router,
         const auth::TokenService& tokens, WsDeps* ws);
  ~Server();

  // Binds and starts accepting; throws when the address cannot be bound.
  void start();
  std::uint16_t port() const noexcept;

  // Stops accepting; sessions finish the request in hand and then close.
  void stop_accepting();
  // Requests being handled right now (for a graceful shutdown).
  std::size_t in_flight() const noexcept;

  struct State;  // shared with the session coroutines, which may outlive a stop

 private:
  std::shared_ptr<State> state_;
};

}  // namespace chatd::net
