#include "support/webhook_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace chatd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using asio::ip::tcp;

struct WebhookServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::vector<int> statuses;
  bool silent = false;
  mutable std::mutex m;
  mutable std::condition_variable cv;
  std::vector<Received> received;
  std::vector<tcp::socket> held;  // silent mode: connections never answered
  std::uint16_t port = 0;
  std::atomic<bool> stopping{false};
  std::unique_ptr<asio::ssl::context> tls;  // https only
  int failed_handshakes = 0;
  std::thread thread;

  void serve() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec || stopping) return;
      if (!tls) {
        if (exchange(socket)) {
          std::lock_guard l(m);
          held.push_back(std::move(socket));
        }
        continue;
      }
      asio::ssl::stream<tcp::socket&> stream(socket, *tls);
      stream.handshake(asio::ssl::stream_base::server, ec);
      if (ec) {
        std::lock_guard l(m);
        ++failed_handshakes;
        continue;
      }
      exchange(stream);
    }
  }

  // Reads one request, records it and answers it (unless silent: then true, to hold the
  // connection open).
  template <class Stream>
  bool exchange(Stream& socket) {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> req;
    bhttp::read(socket, buffer, req, ec);
    if (ec) return false;
    Received r{req.body(), std::string(req["X-Chatd-Signature"]), 0};
    int status = 0;
    {
      std::lock_guard l(m);
      if (!silent) {
        const auto i = received.size();
        status = i < statuses.size() ? statuses[i] : 200;
        r.answered = status;
      }
      received.push_back(r);
    }
    cv.notify_all();
    if (silent) return true;
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
    res.body() = "{}";
    res.keep_alive(false);
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    beast::get_lowest_layer(socket).shutdown(tcp::socket::shutdown_both, ec);
    return false;
  }
};

WebhookServer::WebhookServer(std::vector<int> statuses, bool silent, const std::string& cert_file,
                             const std::string& key_file)
    : impl_(std::make_unique<Impl>()) {
  impl_->statuses = std::move(statuses);
  impl_->silent = silent;
  if (!cert_file.empty()) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(cert_file);
    impl_->tls->use_private_key_file(key_file, asio::ssl::context::pem);
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->thread = std::thread([this] { impl_->serve(); });
}

WebhookServer::~WebhookServer() {
  impl_->stopping = true;
  {  // wake the blocking accept()
    asio::io_context io;
    tcp::socket s(io);
    boost::system::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), ec);
  }
  impl_->thread.join();
}

std::string WebhookServer::url() const {
  return (impl_->tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(impl_->port) +
         "/push";
}

int WebhookServer::failed_handshakes() const {
  std::lock_guard l(impl_->m);
  return impl_->failed_handshakes;
}

std::vector<WebhookServer::Received> WebhookServer::received() const {
  std::lock_guard l(impl_->m);
  return impl_->received;
}

bool WebhookServer::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock l(impl_->m);
  return impl_->cv.wait_for(l, timeout, [&] { return impl_->received.size() >= n; });
}

}  // namespace chatd::test
