#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"

namespace chatd::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  websocket::stream<beast::tcp_stream> ws{ioc};
  std::thread thread;
  beast::flat_buffer buffer;

  std::mutex m;
  std::condition_variable cv;
  std::deque<std::string> inbox;  // frames not yet taken, in arrival order
  std::vector<std::string> seen_types;
  bool closed = false;
  int close_code = 0;
  std::size_t pings = 0;

  std::deque<std::string> outbox;  // only on the I/O thread
  bool writing = false;
  bool reading = false;

  void read_loop() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t) {
      if (ec) {
        std::lock_guard l(m);
        closed = true;
        close_code = ws.reason().code;
        cv.notify_all();
        return;
      }
      {
        std::lock_guard l(m);
        inbox.push_back(beast::buffers_to_string(buffer.data()));
        cv.notify_all();
      }
      buffer.consume(buffer.size());
      read_loop();
    });
  }

  void write_next() {
    if (outbox.empty()) {
      writing = false;
      return;
    }
    writing = true;
    ws.async_write(asio::buffer(outbox.front()), [this](beast::error_code ec, std::size_t) {
      outbox.pop_front();
      if (ec) {
        outbox.clear();
        writing = false;
        return;
      }
      write_next();
    });
  }
};

WsClient::WsClient(std::uint16_t port, const std::string& token, bool token_in_header, bool read)
    : impl_(std::make_unique<Impl>()) {
  open("127.0.0.1", port, token, token_in_header, read);
}

WsClient::WsClient(const std::string& host, std::uint16_t port, const std::string& token)
    : impl_(std::make_unique<Impl>()) {
  open(host, port, token, false, true);
}

void WsClient::open(const std::string& host, std::uint16_t port, const std::string& token,
                    bool token_in_header, bool read) {
  auto& ws = impl_->ws;
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(ws).connect(tcp::endpoint(asio::ip::make_address(host), port));
  if (token_in_header) {
    ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(beast::http::field::authorization, "Bearer " + token);
    }));
    ws.handshake(host, "/ws");
  } else {
    ws.handshake(host, "/ws?token=" + token);
  }
  beast::get_lowest_layer(ws).expires_never();
  ws.text(true);
  ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind != websocket::frame_type::ping) return;
    std::lock_guard l(impl_->m);
    ++impl_->pings;
  });
  if (read) {
    impl_->reading = true;
    impl_->read_loop();
  }
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

WsClient::~WsClient() {
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    beast::get_lowest_layer(impl_->ws).socket().close(ec);
    impl_->work.reset();
  });
  impl_->thread.join();
}

void WsClient::start_reading() {
  asio::post(impl_->ioc, [this] {
    if (impl_->reading) return;
    impl_->reading = true;
    impl_->read_loop();
  });
}

void WsClient::send(const std::string& text) {
  asio::post(impl_->ioc, [this, text] {
    impl_->outbox.push_back(text);
    if (!impl_->writing) impl_->write_next();
  });
}

void WsClient::fragment_frames(std::size_t bytes) {
  asio::post(impl_->ioc, [this, bytes] {
    impl_->ws.auto_fragment(true);
    impl_->ws.write_buffer_bytes(bytes);
  });
}

void WsClient::send(const boost::json::value& event) { send(boost::json::serialize(event)); }

std::optional<boost::json::value> WsClient::next(std::chrono::milliseconds timeout) {
  std::unique_lock l(impl_->m);
  impl_->cv.wait_for(l, timeout, [&] { return !impl_->inbox.empty() || impl_->closed; });
  if (impl_->inbox.empty()) return std::nullopt;
  auto text = std::move(impl_->inbox.front());
  impl_->inbox.pop_front();
  return boost::json::parse(text);
}

std::optional<boost::json::value> WsClient::take(const std::string& type,
                                                  std::chrono::milliseconds timeout) {
  const std::string marker = "\"type\":\"" + type + "\"";
  std::unique_lock l(impl_->m);
  std::optional<boost::json::value> found;
  impl_->cv.wait_for(l, timeout, [&] {
    for (auto it = impl_->inbox.begin(); it != impl_->inbox.end(); ++it) {
      if (it->find(marker) == std::string::npos) continue;
      auto v = boost::json::parse(*it);
      if (v.at("type").as_string() != type) continue;
      impl_->inbox.erase(it);
      found = std::move(v);
      return true;
    }
    return impl_->closed;
  });
  return found;
}

boost::json::value WsClient::next_of(const std::string& type, std::chrono::milliseconds timeout) {
  if (auto v = take(type, timeout)) return *v;
  throw std::runtime_error("no '" + type + "' event within the timeout");
}

std::vector<boost::json::value> WsClient::collect(const std::string& type, std::size_t n,
                                                  std::chrono::milliseconds timeout) {
  std::vector<boost::json::value> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    auto v = take(type, left);
    if (!v) break;
    out.push_back(std::move(*v));
  }
  return out;
}

std::size_t WsClient::count_received(const std::string& type) {
  std::lock_guard l(impl_->m);
  std::size_t n = 0;
  for (const auto& text : impl_->inbox)
    if (text.find("\"type\":\"" + type + "\"") != std::string::npos) ++n;
  return n;
}

std::size_t WsClient::pings_received() {
  std::lock_guard l(impl_->m);
  return impl_->pings;
}

std::optional<int> WsClient::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock l(impl_->m);
  if (!impl_->cv.wait_for(l, timeout, [&] { return impl_->closed; })) return std::nullopt;
  return impl_->close_code;
}

bool WsClient::is_closed() {
  std::lock_guard l(impl_->m);
  return impl_->closed;
}

void WsClient::close() {
  asio::post(impl_->ioc, [this] {
    impl_->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
  });
  wait_closed(std::chrono::seconds(5));
}

std::string WsClient::send_direct(std::int64_t to, const std::string& content,
                                  const std::string& client_id) {
  boost::json::object e{{"type", "send_message"}, {"to", to}, {"content", content}};
  if (!client_id.empty()) e["client_id"] = client_id;
  send(boost::json::value(e));
  return client_id;
}

int upgrade_status(std::uint16_t port, const std::string& target,
                   const std::string& authorization) {
  std::map<std::string, std::string> headers = {{"Connection", "Upgrade"},
                                                {"Upgrade", "websocket"},
                                                {"Sec-WebSocket-Version", "13"},
                                                {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!authorization.empty()) headers["Authorization"] = authorization;
  return http_request(port, "GET", target, "", "", headers).status;
}

}  // namespace chatd::test
